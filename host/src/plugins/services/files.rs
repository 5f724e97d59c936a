//! Capability `node_files`: a server's files through its node's wings, by the same
//! actions (and permission checks) as the HTTP API. During a request the plugin acts
//! for the caller, with their server permissions; otherwise as itself.

use async_trait::async_trait;
use hatchery_runtime::services::{FileSink, NodeFiles};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hatchery_sdk::{ArchiveEntry, FileEntry, HostError, Principal, SignedUrl};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{HostServices, host_error};
use crate::actions::{Actor, Core, files};
use crate::db::servers::Server;
use crate::db::{subusers, users};
use crate::policy::{self, ServerAccess};

/// A writer that receives nothing for this long is discarded.
const WRITER_IDLE: Duration = Duration::from_secs(60);

/// Whom a file call acts as, on which server.
struct Target {
    server: Server,
    access: ServerAccess,
    actor: Actor,
}

fn entry(entry: hatchery_protocol::files::FileEntry) -> FileEntry {
    FileEntry {
        modified: entry.modified_unix(),
        mode: entry.mode_value(),
        name: entry.name,
        size: entry.size,
        directory: entry.directory,
        file: entry.file,
        symlink: entry.symlink,
        mime: entry.mime,
    }
}

fn signed(url: files::SignedUrl) -> SignedUrl {
    SignedUrl {
        url: url.url,
        expires_at: url.expires_at,
    }
}

impl HostServices {
    async fn file_target(
        &self,
        caller: Option<&Principal>,
        key: &str,
    ) -> Result<Target, HostError> {
        self.require(self.grants.node_files, "node_files")?;
        let server = self.server_record(key).await?;
        let Some(principal) = caller else {
            return Ok(Target {
                server,
                access: ServerAccess::Owner,
                actor: self.actor(),
            });
        };
        let subuser = match policy::needs_subuser_permissions(principal, server.owner_id) {
            true => subusers::permissions(&self.core.db, server.id, principal.user_id)
                .await
                .map_err(host_error)?,
            false => None,
        };
        let access = policy::server_access(principal, &server.uuid, server.owner_id, subuser)
            .map_err(|_| HostError::NotFound(format!("no server `{key}`")))?;
        Ok(Target {
            server,
            access,
            actor: Actor::user(principal.user_id, &principal.username, None, None),
        })
    }

    /// The acting user's uuid for a signed URL (wings names it in its activity), or
    /// empty when the plugin acts as itself.
    async fn user_uuid(&self, target: &Target) -> Result<String, HostError> {
        let Some(user_id) = target.actor.user_id else {
            return Ok(String::new());
        };
        users::find(&self.core.db, &user_id.to_string())
            .await
            .map_err(host_error)?
            .map(|user| user.uuid)
            .ok_or_else(|| HostError::Denied("the caller's account is gone".into()))
    }
}

#[async_trait]
impl NodeFiles for HostServices {
    async fn files_list(
        &self,
        caller: Option<&Principal>,
        key: &str,
        directory: &str,
    ) -> Result<Vec<FileEntry>, HostError> {
        let t = self.file_target(caller, key).await?;
        let listed = files::list(&self.core, &t.server, &t.access, directory)
            .await
            .map_err(host_error)?;
        Ok(listed.into_iter().map(entry).collect())
    }

    async fn files_stat(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
    ) -> Result<FileEntry, HostError> {
        let t = self.file_target(caller, key).await?;
        files::stat(&self.core, &t.server, &t.access, path)
            .await
            .map(entry)
            .map_err(host_error)
    }

    async fn files_read(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>, HostError> {
        let t = self.file_target(caller, key).await?;
        files::read(&self.core, &t.server, &t.access, path, range)
            .await
            .map_err(host_error)
    }

    async fn files_write(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
        contents: Vec<u8>,
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        let via = format!("plugin:{}", self.plugin_id);
        files::write(
            &self.core, &t.actor, &t.server, &t.access, path, contents, &via,
        )
        .await
        .map_err(host_error)
    }

    /// Starts a streamed write: wings receives the parts as they are appended.
    async fn files_open_writer(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
    ) -> Result<Box<dyn FileSink>, HostError> {
        let t = self.file_target(caller, key).await?;
        let (wings, only) = files::stream_target(&self.core, &t.server, &t.access, path)
            .await
            .map_err(host_error)?;
        let (chunks, receiver) = mpsc::channel(4);
        let finished = Arc::new(AtomicBool::new(false));
        let reader = ChunkReader {
            receiver,
            finished: finished.clone(),
            runtime: tokio::runtime::Handle::current(),
            current: std::io::Cursor::new(Vec::new()),
        };
        let (uuid, target) = (t.server.uuid.clone(), path.to_string());
        let upload =
            tokio::spawn(async move { wings.write_file_from(&uuid, &target, only, reader).await });
        Ok(Box::new(FileWriter {
            chunks: Some(chunks),
            finished,
            upload: Some(upload),
            written: 0,
            core: self.core.clone(),
            via: format!("plugin:{}", self.plugin_id),
            path: path.to_string(),
            target: t,
        }))
    }

    async fn files_rename(
        &self,
        caller: Option<&Principal>,
        key: &str,
        from: &str,
        to: &str,
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        files::rename(&self.core, &t.actor, &t.server, &t.access, from, to)
            .await
            .map_err(host_error)
    }

    async fn files_copy(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
    ) -> Result<String, HostError> {
        let t = self.file_target(caller, key).await?;
        files::copy(&self.core, &t.actor, &t.server, &t.access, path)
            .await
            .map_err(host_error)
    }

    async fn files_delete(
        &self,
        caller: Option<&Principal>,
        key: &str,
        paths: &[String],
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        files::delete(&self.core, &t.actor, &t.server, &t.access, paths)
            .await
            .map_err(host_error)
    }

    async fn files_mkdir(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        files::create_directory(&self.core, &t.actor, &t.server, &t.access, path)
            .await
            .map_err(host_error)
    }

    async fn files_chmod(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
        mode: u32,
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        files::chmod(&self.core, &t.actor, &t.server, &t.access, path, mode)
            .await
            .map_err(host_error)
    }

    async fn files_compress(
        &self,
        caller: Option<&Principal>,
        key: &str,
        directory: &str,
        names: &[String],
    ) -> Result<FileEntry, HostError> {
        let t = self.file_target(caller, key).await?;
        files::compress(&self.core, &t.actor, &t.server, &t.access, directory, names)
            .await
            .map(entry)
            .map_err(host_error)
    }

    async fn files_decompress(
        &self,
        caller: Option<&Principal>,
        key: &str,
        directory: &str,
        file: &str,
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        files::decompress(&self.core, &t.actor, &t.server, &t.access, directory, file)
            .await
            .map_err(host_error)
    }

    async fn files_download_url(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
    ) -> Result<SignedUrl, HostError> {
        let t = self.file_target(caller, key).await?;
        let user_uuid = self.user_uuid(&t).await?;
        files::download_url(&self.core, &t.actor, &t.server, &t.access, &user_uuid, path)
            .await
            .map(signed)
            .map_err(host_error)
    }

    async fn files_upload_url(
        &self,
        caller: Option<&Principal>,
        key: &str,
        directory: &str,
    ) -> Result<SignedUrl, HostError> {
        let t = self.file_target(caller, key).await?;
        let user_uuid = self.user_uuid(&t).await?;
        files::upload_url(&self.core, &t.server, &t.access, &user_uuid, directory)
            .await
            .map(signed)
            .map_err(host_error)
    }

    async fn files_archive_list(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
    ) -> Result<Vec<ArchiveEntry>, HostError> {
        let t = self.file_target(caller, key).await?;
        let entries = files::archive_entries(&self.core, &t.server, &t.access, path)
            .await
            .map_err(host_error)?;
        Ok(entries
            .into_iter()
            .map(|entry| ArchiveEntry {
                name: entry.name,
                size: entry.size,
                directory: entry.directory,
                symlink: entry.symlink,
                modified: entry.modified,
            })
            .collect())
    }

    async fn files_archive_read(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
        entry: &str,
    ) -> Result<Vec<u8>, HostError> {
        let t = self.file_target(caller, key).await?;
        files::archive_entry(&self.core, &t.server, &t.access, path, entry)
            .await
            .map_err(host_error)
    }

    async fn files_archive_extract(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
        entries: &[String],
        directory: &str,
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        files::extract(
            &self.core, &t.actor, &t.server, &t.access, path, entries, directory,
        )
        .await
        .map_err(host_error)
    }

    async fn files_checksum(
        &self,
        caller: Option<&Principal>,
        key: &str,
        path: &str,
        algorithm: &str,
    ) -> Result<String, HostError> {
        let t = self.file_target(caller, key).await?;
        files::checksum(&self.core, &t.server, &t.access, path, algorithm)
            .await
            .map_err(host_error)
    }

    async fn files_search_url(
        &self,
        caller: Option<&Principal>,
        key: &str,
        directory: &str,
    ) -> Result<SignedUrl, HostError> {
        let t = self.file_target(caller, key).await?;
        let user_uuid = self.user_uuid(&t).await?;
        files::search_url(&self.core, &t.server, &t.access, &user_uuid, directory)
            .await
            .map(signed)
            .map_err(host_error)
    }

    async fn files_pull(
        &self,
        caller: Option<&Principal>,
        key: &str,
        url: &str,
        directory: &str,
        file_name: Option<&str>,
    ) -> Result<(), HostError> {
        let t = self.file_target(caller, key).await?;
        let pull = files::Pull {
            url,
            directory,
            file_name,
        };
        files::pull(&self.core, &t.actor, &t.server, &t.access, &pull)
            .await
            .map_err(host_error)
    }
}

/// A file being streamed to wings. Dropped unfinished, it makes the upload fail, so
/// wings discards the partial file and the old one stays.
pub struct FileWriter {
    chunks: Option<mpsc::Sender<Vec<u8>>>,
    finished: Arc<AtomicBool>,
    upload: Option<JoinHandle<crate::error::Result<()>>>,
    written: u64,
    core: Core,
    via: String,
    path: String,
    target: Target,
}

impl FileWriter {
    async fn wait(&mut self) -> Result<(), HostError> {
        let Some(upload) = self.upload.take() else {
            return Err(HostError::Invalid("this file was already finished".into()));
        };
        upload
            .await
            .map_err(|err| HostError::Internal(format!("the upload failed: {err}")))?
            .map_err(host_error)
    }
}

#[async_trait]
impl FileSink for FileWriter {
    async fn append(&mut self, chunk: Vec<u8>) -> Result<(), HostError> {
        let Some(chunks) = &self.chunks else {
            return Err(HostError::Invalid("this file was already finished".into()));
        };
        self.written += chunk.len() as u64;
        if chunks.send(chunk).await.is_ok() {
            return Ok(());
        }
        // The upload ended early (quota, upload limit, an idle minute): say why.
        self.chunks = None;
        Err(match self.wait().await {
            Err(err) => err,
            Ok(()) => HostError::Unavailable("the node stopped taking this file".into()),
        })
    }

    /// Completes the file once; a writer that finished (or failed) takes no more.
    async fn finish(&mut self) -> Result<u64, HostError> {
        self.finished.store(true, Ordering::SeqCst);
        self.chunks = None;
        self.wait().await?;
        let t = &self.target;
        files::written(
            &self.core,
            &t.actor,
            &t.server,
            &self.path,
            self.written,
            &self.via,
        )
        .await;
        Ok(self.written)
    }
}

/// The upload's body, read on a blocking thread: the appended chunks, then the end of
/// the file only if the writer finished; otherwise an error, so wings keeps nothing.
struct ChunkReader {
    receiver: mpsc::Receiver<Vec<u8>>,
    finished: Arc<AtomicBool>,
    runtime: tokio::runtime::Handle,
    current: std::io::Cursor<Vec<u8>>,
}

impl Read for ChunkReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let read = self.current.read(buffer)?;
            if read > 0 {
                return Ok(read);
            }
            let next = self
                .runtime
                .block_on(tokio::time::timeout(WRITER_IDLE, self.receiver.recv()));
            match next {
                Ok(Some(chunk)) => self.current = std::io::Cursor::new(chunk),
                Ok(None) if self.finished.load(Ordering::SeqCst) => return Ok(0),
                Ok(None) => return Err(std::io::Error::other("the writer was dropped")),
                Err(_) => return Err(std::io::Error::other("the writer sat idle for a minute")),
            }
        }
    }
}
