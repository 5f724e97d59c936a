//! The SFTP subsystem on a server's directory, with the subuser's file permissions:
//! `file.read` lists and stats, `file.read-content` reads, `file.create` makes files
//! and directories, `file.update` changes and renames, `file.delete` removes. Paths are
//! confined by [`ServerFiles`] like every other file access.

use std::collections::HashMap;
use std::sync::Arc;

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use serde_json::json;

use super::Login;
use crate::error::Error;
use crate::executor::Executor;
use crate::files::{Entry, ServerFiles, WriteHandle};
use crate::manager::Manager;

/// Largest read answered at once (clients ask for 32–256 KiB).
const MAX_READ: u32 = 256 * 1024;
/// Directory entries sent per READDIR reply.
const ENTRIES_PER_REPLY: usize = 512;
/// Open handles one session may hold.
const MAX_HANDLES: usize = 256;

pub struct SftpSession<E: Executor> {
    manager: Arc<Manager<E>>,
    login: Login<E>,
    files: ServerFiles,
    read_only: bool,
    handles: HashMap<String, OpenHandle>,
    next_handle: u64,
}

enum OpenHandle {
    Read {
        file: std::fs::File,
        path: String,
    },
    Write {
        file: WriteHandle,
        path: String,
        wrote: bool,
    },
    Directory {
        entries: Vec<Entry>,
        sent: usize,
    },
}

impl<E: Executor> SftpSession<E> {
    pub fn new(manager: Arc<Manager<E>>, login: Login<E>, files: ServerFiles) -> SftpSession<E> {
        let read_only = manager.config.system.sftp.read_only;
        SftpSession {
            manager,
            login,
            files,
            read_only,
            handles: HashMap::new(),
            next_handle: 0,
        }
    }

    /// Refuses unless the login holds `permission` (and, for changes, the node allows
    /// writing over SFTP) and has not been revoked.
    fn allow(&self, permission: &str) -> Result<(), StatusReply> {
        if self.login.revoked(&self.manager) {
            return Err(denied("your access to this server was revoked"));
        }
        let writes = permission != "file.read" && permission != "file.read-content";
        if writes && self.read_only {
            return Err(denied("this node serves SFTP read-only"));
        }
        if !self.login.can(permission) {
            return Err(denied(&format!(
                "you do not have the {permission} permission"
            )));
        }
        Ok(())
    }

    fn add_handle(&mut self, handle: OpenHandle) -> Result<String, StatusReply> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusReply::new(StatusCode::Failure).with_message("too many open files"));
        }
        self.next_handle += 1;
        let id = self.next_handle.to_string();
        self.handles.insert(id.clone(), handle);
        Ok(id)
    }

    fn activity(&self, event: &str, metadata: serde_json::Value) {
        self.manager.record_activity(
            &self.login.server.uuid(),
            Some(&self.login.user),
            event,
            metadata,
            &self.login.ip,
        );
    }
}

fn denied(message: &str) -> StatusReply {
    StatusReply::new(StatusCode::PermissionDenied).with_message(message)
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

/// Wings' errors as SFTP statuses, keeping the message.
fn reply(error: Error) -> StatusReply {
    let code = match &error {
        Error::NotFound(_) => StatusCode::NoSuchFile,
        Error::BadRequest(message) if message.contains("outside") => StatusCode::PermissionDenied,
        Error::Forbidden(_) => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    StatusReply::new(code).with_message(error.to_string())
}

fn attributes(entry: &Entry) -> FileAttributes {
    // The file type lives in the high mode bits, as in `stat(2)`.
    let kind = if entry.directory {
        0o040000
    } else if entry.symlink {
        0o120000
    } else {
        0o100000
    };
    FileAttributes {
        size: Some(entry.size),
        uid: Some(0),
        gid: Some(0),
        permissions: Some(kind | entry.mode),
        atime: Some(entry.modified as u32),
        mtime: Some(entry.modified as u32),
        ..Default::default()
    }
}

impl<E: Executor> russh_sftp::server::Handler for SftpSession<E> {
    type Error = StatusReply;

    fn unimplemented(&self) -> StatusReply {
        StatusReply::new(StatusCode::OpUnsupported)
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, StatusReply> {
        Ok(Version::new())
    }

    async fn open(
        &mut self,
        id: u32,
        path: String,
        flags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, StatusReply> {
        let writes = flags.intersects(
            OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        );
        let handle = if writes {
            let exists = self.files.entry(&path, false).is_ok();
            self.allow(if exists { "file.update" } else { "file.create" })?;
            let file = self
                .files
                .open_write(
                    &path,
                    flags.contains(OpenFlags::CREATE),
                    flags.contains(OpenFlags::EXCLUDE),
                    flags.contains(OpenFlags::TRUNCATE),
                )
                .map_err(reply)?;
            OpenHandle::Write {
                file,
                path,
                wrote: false,
            }
        } else {
            self.allow("file.read-content")?;
            let (file, _) = self.files.open_read(&path).map_err(reply)?;
            OpenHandle::Read { file, path }
        };
        Ok(Handle {
            id,
            handle: self.add_handle(handle)?,
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, StatusReply> {
        if let Some(OpenHandle::Write {
            path, wrote: true, ..
        }) = self.handles.remove(&handle)
        {
            self.activity("server:sftp.write", json!({ "files": [path] }));
        }
        Ok(ok(id))
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, StatusReply> {
        let mut buffer = vec![0u8; len.min(MAX_READ) as usize];
        // Checked on every read, not only at open: revocation ends reads on handles
        // already open, and a write handle does not grant reading.
        self.allow("file.read-content")?;
        let read = match self.handles.get(&handle) {
            Some(OpenHandle::Read { file, .. }) => {
                use std::os::unix::fs::FileExt;
                file.read_at(&mut buffer, offset).map_err(|source| {
                    reply(Error::Io {
                        context: "read".into(),
                        source,
                    })
                })?
            }
            Some(OpenHandle::Write { file, .. }) => {
                file.read_at(offset, &mut buffer).map_err(reply)?
            }
            _ => return Err(StatusReply::new(StatusCode::Failure).with_message("not an open file")),
        };
        if read == 0 {
            return Err(StatusReply::new(StatusCode::Eof));
        }
        buffer.truncate(read);
        Ok(Data { id, data: buffer })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, StatusReply> {
        if self.login.revoked(&self.manager) {
            return Err(denied("your access to this server was revoked"));
        }
        match self.handles.get_mut(&handle) {
            Some(OpenHandle::Write { file, wrote, .. }) => {
                file.write_at(offset, &data).map_err(reply)?;
                *wrote = true;
                Ok(ok(id))
            }
            _ => Err(StatusReply::new(StatusCode::PermissionDenied)
                .with_message("the file is not open for writing")),
        }
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, StatusReply> {
        self.allow("file.read")?;
        let entry = self.files.entry(&path, false).map_err(reply)?;
        Ok(Attrs {
            id,
            attrs: attributes(&entry),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, StatusReply> {
        self.allow("file.read")?;
        let entry = self.files.entry(&path, true).map_err(reply)?;
        Ok(Attrs {
            id,
            attrs: attributes(&entry),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, StatusReply> {
        self.allow("file.read")?;
        let path = match self.handles.get(&handle) {
            Some(OpenHandle::Read { path, .. } | OpenHandle::Write { path, .. }) => path.clone(),
            _ => return Err(StatusReply::new(StatusCode::Failure).with_message("not an open file")),
        };
        let entry = self.files.entry(&path, true).map_err(reply)?;
        Ok(Attrs {
            id,
            attrs: attributes(&entry),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, StatusReply> {
        self.set_attributes(&path, &attrs)?;
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, StatusReply> {
        let path = match self.handles.get(&handle) {
            Some(OpenHandle::Read { path, .. } | OpenHandle::Write { path, .. }) => path.clone(),
            _ => return Err(StatusReply::new(StatusCode::Failure).with_message("not an open file")),
        };
        self.set_attributes(&path, &attrs)?;
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, StatusReply> {
        self.allow("file.read")?;
        let files = self.files.try_clone().map_err(reply)?;
        let entries = tokio::task::spawn_blocking(move || files.list(&path))
            .await
            .map_err(|_| StatusReply::new(StatusCode::Failure))?
            .map_err(reply)?;
        Ok(Handle {
            id,
            handle: self.add_handle(OpenHandle::Directory { entries, sent: 0 })?,
        })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, StatusReply> {
        self.allow("file.read")?;
        let Some(OpenHandle::Directory { entries, sent }) = self.handles.get_mut(&handle) else {
            return Err(StatusReply::new(StatusCode::Failure).with_message("not an open directory"));
        };
        if *sent >= entries.len() {
            return Err(StatusReply::new(StatusCode::Eof));
        }
        let batch = &entries[*sent..(*sent + ENTRIES_PER_REPLY).min(entries.len())];
        *sent += batch.len();
        let files = batch
            .iter()
            .map(|entry| File::new(entry.name.clone(), attributes(entry)))
            .collect();
        Ok(Name { id, files })
    }

    async fn remove(&mut self, id: u32, path: String) -> Result<Status, StatusReply> {
        self.allow("file.delete")?;
        self.files.remove_file(&path).map_err(reply)?;
        self.activity("server:sftp.delete", json!({ "files": [path] }));
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, StatusReply> {
        self.allow("file.create")?;
        if self.files.entry(&path, false).is_ok() {
            return Err(StatusReply::new(StatusCode::Failure)
                .with_message(format!("`{path}` already exists")));
        }
        self.files.create_dir(&path).map_err(reply)?;
        self.activity("server:sftp.create-directory", json!({ "files": [path] }));
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, StatusReply> {
        self.allow("file.delete")?;
        self.files.remove_empty_dir(&path).map_err(reply)?;
        self.activity("server:sftp.delete", json!({ "files": [path] }));
        Ok(ok(id))
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, StatusReply> {
        let normalized = ServerFiles::normalize(&path).map_err(reply)?;
        Ok(Name {
            id,
            files: vec![File::dummy(normalized)],
        })
    }

    async fn rename(&mut self, id: u32, from: String, to: String) -> Result<Status, StatusReply> {
        self.allow("file.update")?;
        self.files.rename(&from, &to).map_err(reply)?;
        self.activity(
            "server:sftp.rename",
            json!({ "files": [{ "from": from, "to": to }] }),
        );
        Ok(ok(id))
    }

    async fn readlink(&mut self, _id: u32, _path: String) -> Result<Name, StatusReply> {
        Err(StatusReply::new(StatusCode::OpUnsupported)
            .with_message("links are not shown over SFTP"))
    }

    async fn symlink(
        &mut self,
        _id: u32,
        _link: String,
        _target: String,
    ) -> Result<Status, StatusReply> {
        Err(denied("links cannot be created over SFTP"))
    }
}

impl<E: Executor> SftpSession<E> {
    fn set_attributes(&mut self, path: &str, attrs: &FileAttributes) -> Result<(), StatusReply> {
        if let Some(mode) = attrs.permissions {
            self.allow("file.update")?;
            self.files.chmod(path, mode & 0o777).map_err(reply)?;
        }
        if let Some(size) = attrs.size {
            self.allow("file.update")?;
            let mut file = self
                .files
                .open_write(path, false, false, false)
                .map_err(reply)?;
            if size > file.size() {
                // Growing is a write of zeros, held to the quota like any other.
                file.write_at(size - 1, &[0]).map_err(reply)?;
            } else {
                file.truncate(size).map_err(reply)?;
            }
        }
        Ok(())
    }
}
