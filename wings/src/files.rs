//! A server's files, every path resolved beneath its directory.
//!
//! All access goes through a `cap_std::fs::Dir` opened on the server's directory, which
//! resolves paths with `openat2(RESOLVE_BENEATH)` on Linux: `..` past the top, absolute
//! paths and symbolic links that lead outside are refused by the kernel, not by string
//! checks alone (the Pterodactyl path-escape CVE class). Client paths are relative to
//! the server's directory; a leading `/` means its top. Writes go to a temporary file
//! that is renamed into place, after checking the disk quota, so a refused or failed
//! write leaves the old file intact.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cap_std::fs::{Dir, PermissionsExt};
use serde::Serialize;

use crate::error::{Error, Result};

pub struct ServerFiles {
    root: Dir,
    /// Disk space the server may use in bytes; `None` is unlimited.
    quota: Option<u64>,
    /// Entries the server may hold ([`MAX_ENTRIES`] unless set for a test).
    max_entries: u64,
    usage: Arc<DiskUsage>,
}

/// How long a measured disk usage is trusted before the volume is walked again;
/// writes through wings adjust it in between.
pub const DISK_USAGE_TTL: Duration = Duration::from_secs(60);

/// A server's disk usage, measured by walking its directory at most once per
/// [`DISK_USAGE_TTL`] and kept current by the writes wings makes. Shared by every
/// [`ServerFiles`] of one server, so quota checks and statistics stay cheap.
#[derive(Default)]
pub struct DiskUsage {
    measured: Mutex<Option<Measured>>,
}

#[derive(Clone, Copy)]
struct Measured {
    at: Instant,
    bytes: u64,
    /// Files, directories and links: what inodes the server holds.
    entries: u64,
}

/// Files, directories and links one server may hold, so nobody can exhaust the
/// node's inodes through wings (a process inside the container is bounded by the
/// filesystem, not by wings).
pub const MAX_ENTRIES: u64 = 1_000_000;

impl DiskUsage {
    fn current(&self, walk: impl FnOnce() -> Result<(u64, u64)>) -> Result<Measured> {
        let mut measured = self.measured.lock().expect("disk usage lock");
        Self::fresh(&mut measured, walk)
    }

    fn fresh(
        measured: &mut Option<Measured>,
        walk: impl FnOnce() -> Result<(u64, u64)>,
    ) -> Result<Measured> {
        if let Some(known) = *measured
            && known.at.elapsed() < DISK_USAGE_TTL
        {
            return Ok(known);
        }
        // A walk can take seconds on a big volume: never on an async worker.
        let (bytes, entries) = off_async_workers(walk)?;
        let known = Measured {
            at: Instant::now(),
            bytes,
            entries,
        };
        *measured = Some(known);
        Ok(known)
    }

    /// Counts `bytes` and `entries` as used if the totals stay within the limits, in
    /// one step, so writes running at the same time cannot together pass them. On
    /// refusal, returns what is used.
    fn reserve(
        &self,
        bytes: u64,
        entries: u64,
        limits: (u64, u64),
        walk: impl FnOnce() -> Result<(u64, u64)>,
    ) -> Result<std::result::Result<(), Measured>> {
        let mut measured = self.measured.lock().expect("disk usage lock");
        let used = Self::fresh(&mut measured, walk)?;
        if used.bytes.saturating_add(bytes) > limits.0
            || used.entries.saturating_add(entries) > limits.1
        {
            return Ok(Err(used));
        }
        if let Some(counted) = measured.as_mut() {
            counted.bytes = used.bytes + bytes;
            counted.entries = used.entries + entries;
        }
        Ok(Ok(()))
    }

    fn adjust(&self, delta: i64) {
        if let Some(counted) = self.measured.lock().expect("disk usage lock").as_mut() {
            counted.bytes = counted.bytes.saturating_add_signed(delta);
        }
    }

    /// Forgets the figure after changes wings cannot size cheaply (deletes, extracts).
    pub(crate) fn invalidate(&self) {
        *self.measured.lock().expect("disk usage lock") = None;
    }
}

pub use hatchery_protocol::files::WriteOnly;

/// A file opened for writing at any offset (SFTP), held to the server's quota.
pub struct WriteHandle {
    file: std::fs::File,
    /// The file's size as far as this handle has seen it.
    size: u64,
    quota: Option<u64>,
    usage: Arc<DiskUsage>,
    measure: Dir,
}

impl WriteHandle {
    /// Writes `data` at `offset`; refuses growth beyond the quota before writing.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        let end = offset + data.len() as u64;
        let growth = end.saturating_sub(self.size);
        if growth > 0 {
            let quota = self.quota.unwrap_or(u64::MAX);
            if let Err(used) = self
                .usage
                .reserve(growth, 0, (quota, u64::MAX), || measure(&self.measure))?
            {
                return Err(Error::QuotaExceeded(format!(
                    "not enough disk space: the server uses {} of its {} MiB",
                    mib(used.bytes),
                    quota / (1024 * 1024)
                )));
            }
        }
        if let Err(source) = self.file.write_all_at(data, offset) {
            self.usage.adjust(-(growth as i64));
            return Err(Error::Io {
                context: "cannot write the file".into(),
                source,
            });
        }
        self.size = self.size.max(end);
        Ok(())
    }

    /// Reads at `offset` (files opened for reading and writing).
    pub fn read_at(&self, offset: u64, buffer: &mut [u8]) -> Result<usize> {
        use std::os::unix::fs::FileExt;
        self.file
            .read_at(buffer, offset)
            .map_err(|source| Error::Io {
                context: "cannot read the file".into(),
                source,
            })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Shortens the file to `size` bytes.
    pub fn truncate(&mut self, size: u64) -> Result<()> {
        if size >= self.size {
            return Ok(());
        }
        self.file.set_len(size).map_err(|source| Error::Io {
            context: "cannot truncate the file".into(),
            source,
        })?;
        self.usage.adjust(-((self.size - size) as i64));
        self.size = size;
        Ok(())
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub directory: bool,
    pub file: bool,
    pub symlink: bool,
    /// Unix permission bits, e.g. `0o644`.
    pub mode: u32,
    /// Seconds since the Unix epoch.
    pub modified: u64,
}

impl ServerFiles {
    /// Opens the server directory `root` (created if missing) with a quota in MiB
    /// (0 is unlimited).
    pub fn open(root: &Path, quota_mb: u64) -> Result<ServerFiles> {
        ServerFiles::open_shared(root, quota_mb, Arc::default())
    }

    /// Like [`ServerFiles::open`], sharing the server's cached disk usage.
    pub fn open_shared(root: &Path, quota_mb: u64, usage: Arc<DiskUsage>) -> Result<ServerFiles> {
        std::fs::create_dir_all(root).map_err(|source| Error::Io {
            context: format!("cannot create {}", root.display()),
            source,
        })?;
        let root = Dir::open_ambient_dir(root, cap_std::ambient_authority()).map_err(|source| {
            Error::Io {
                context: format!("cannot open {}", root.display()),
                source,
            }
        })?;
        Ok(ServerFiles {
            root,
            quota: (quota_mb > 0).then(|| quota_mb * 1024 * 1024),
            max_entries: MAX_ENTRIES,
            usage,
        })
    }

    /// The same files with another entry limit.
    pub fn with_max_entries(mut self, max_entries: u64) -> ServerFiles {
        self.max_entries = max_entries;
        self
    }

    /// Counts one new entry against the limit, or says the server holds too many.
    fn claim_entry(&self, path: &str) -> Result<()> {
        match self
            .usage
            .reserve(0, 1, (u64::MAX, self.max_entries), || measure(&self.root))?
        {
            Ok(()) => Ok(()),
            Err(used) => Err(Error::QuotaExceeded(format!(
                "`{path}` cannot be created: the server already holds {} files and folders, \
                 the most one server may have",
                used.entries
            ))),
        }
    }

    /// Another handle on the same directory, quota and usage (for the blocking pool).
    pub fn try_clone(&self) -> Result<ServerFiles> {
        Ok(ServerFiles {
            root: self.root.try_clone().map_err(|source| Error::Io {
                context: "cannot reopen the server's directory".into(),
                source,
            })?,
            quota: self.quota,
            max_entries: self.max_entries,
            usage: self.usage.clone(),
        })
    }

    /// Every entry of a directory (no cap on how many), directories first, then by name.
    pub fn list(&self, path: &str) -> Result<Vec<Entry>> {
        let relative = clean(path)?;
        let dir = self
            .root
            .open_dir(dir_path(&relative))
            .map_err(|err| fail(path, err))?;
        let mut entries = Vec::new();
        for item in dir.entries().map_err(|err| fail(path, err))? {
            let item = item.map_err(|err| fail(path, err))?;
            let metadata = item.metadata().map_err(|err| fail(path, err))?;
            let file_type = metadata.file_type();
            entries.push(Entry {
                name: item.file_name().to_string_lossy().into_owned(),
                size: metadata.len(),
                directory: file_type.is_dir(),
                file: file_type.is_file(),
                symlink: file_type.is_symlink(),
                mode: metadata.permissions().mode() & 0o7777,
                modified: seconds(
                    metadata
                        .modified()
                        .ok()
                        .map(cap_std::time::SystemTime::into_std),
                ),
            });
        }
        entries.sort_by(|a, b| {
            b.directory
                .cmp(&a.directory)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(entries)
    }

    /// A file's contents, refusing files larger than `limit` bytes.
    pub fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        let relative = clean(path)?;
        let file = open_regular(&self.root, &relative, &mut read_options(), path)?;
        let size = file.metadata().map_err(|err| fail(path, err))?.len();
        if size > limit {
            return Err(Error::BadRequest(format!(
                "`{path}` is {size} bytes, more than the {limit} bytes that can be read at once; download it instead"
            )));
        }
        let mut contents = Vec::with_capacity(size as usize);
        // The file may grow meanwhile: never read past the limit.
        use std::io::Read as _;
        file.into_std()
            .take(limit + 1)
            .read_to_end(&mut contents)
            .map_err(|err| fail(path, err))?;
        if contents.len() as u64 > limit {
            return Err(Error::BadRequest(format!(
                "`{path}` is more than the {limit} bytes that can be read at once; download it instead"
            )));
        }
        Ok(contents)
    }

    /// Writes a whole file atomically, creating parent directories.
    pub fn write(&self, path: &str, contents: &[u8]) -> Result<()> {
        self.write_from(path, contents).map(drop)
    }

    /// [`ServerFiles::write`] for a caller who may only create new files or only change
    /// existing ones (`file.create` and `file.update` are separate permissions).
    pub fn write_only(&self, path: &str, contents: &[u8], only: Option<WriteOnly>) -> Result<()> {
        self.check_write_only(path, only)?;
        self.write(path, contents)
    }

    /// Refuses a write the caller may not make: replacing a file when they may only
    /// create, or creating one when they may only change.
    pub fn check_write_only(&self, path: &str, only: Option<WriteOnly>) -> Result<()> {
        let exists = self.root.symlink_metadata(clean(path)?).is_ok();
        match (only, exists) {
            (Some(WriteOnly::New), true) => Err(Error::Forbidden(format!(
                "`{path}` already exists; changing it needs the file.update permission"
            ))),
            (Some(WriteOnly::Existing), false) => Err(Error::Forbidden(format!(
                "`{path}` does not exist; creating it needs the file.create permission"
            ))),
            _ => Ok(()),
        }
    }

    /// Up to `length` bytes of a file from `offset` (fewer at its end).
    pub fn read_range(&self, path: &str, offset: u64, length: u64) -> Result<Vec<u8>> {
        use std::io::{Read as _, Seek as _};
        let relative = clean(path)?;
        let file = open_regular(&self.root, &relative, &mut read_options(), path)?;
        let mut file = file.into_std();
        file.seek(std::io::SeekFrom::Start(offset))
            .map_err(|err| fail(path, err))?;
        let mut contents = Vec::new();
        file.take(length)
            .read_to_end(&mut contents)
            .map_err(|err| fail(path, err))?;
        Ok(contents)
    }

    /// Streams a whole file from `source`, atomically: the old file (if any) stays until
    /// every byte has arrived within the quota. Returns the bytes written.
    pub fn write_from(&self, path: &str, mut source: impl std::io::Read) -> Result<u64> {
        let relative = clean(path)?;
        // Through a link inside the directory, write its target; a link that leads
        // outside is refused here.
        let relative = match self.root.canonicalize(&relative) {
            Ok(real) => real,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => relative,
            Err(err) => return Err(fail(path, err)),
        };
        let file_name = relative
            .file_name()
            .ok_or_else(|| Error::BadRequest(format!("`{path}` names no file")))?
            .to_string_lossy()
            .into_owned();
        if self
            .root
            .symlink_metadata(&relative)
            .is_ok_and(|m| m.is_dir())
        {
            return Err(Error::BadRequest(format!("`{path}` is a directory")));
        }
        let replaced = match self.root.symlink_metadata(&relative) {
            Ok(existing) => existing.len(),
            Err(_) => {
                self.claim_entry(path)?;
                0
            }
        };
        // What may be written: the free space plus what the old file gives back,
        // reserved chunk by chunk so parallel writes cannot together pass the quota.
        let limit = self
            .quota
            .map_or(u64::MAX, |quota| quota.saturating_add(replaced));
        let mut reserved = 0u64;
        let parent = relative.parent().unwrap_or(Path::new("")).to_path_buf();
        if !parent.as_os_str().is_empty() {
            self.root
                .create_dir_all(&parent)
                .map_err(|err| fail(path, err))?;
        }
        let partial = parent.join(format!(".{file_name}.wings-upload"));
        let mut over_quota = false;
        let written = (|| {
            let mut file = self.root.create(&partial)?;
            let mut total = 0u64;
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let read = match source.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err),
                };
                total += read as u64;
                let fits = self
                    .usage
                    .reserve(read as u64, 0, (limit, u64::MAX), || measure(&self.root))
                    .map_err(std::io::Error::other)?;
                if fits.is_err() {
                    over_quota = true;
                    return Err(std::io::Error::other("over quota"));
                }
                reserved += read as u64;
                file.write_all(&buffer[..read])?;
            }
            file.sync_all()?;
            self.root.rename(&partial, &self.root, &relative)?;
            Ok(total)
        })();
        match written {
            Ok(total) => {
                // The new bytes were counted as they came; the old file is gone.
                self.usage.adjust(-(replaced as i64));
                Ok(total)
            }
            Err(err) => {
                self.usage.adjust(-(reserved as i64));
                let _ = self.root.remove_file(&partial);
                if over_quota {
                    let quota = self.quota.unwrap_or_default();
                    return Err(Error::QuotaExceeded(format!(
                        "not enough disk space: `{path}` does not fit in the server's {} MiB; the old file was kept",
                        quota / (1024 * 1024)
                    )));
                }
                Err(fail(path, err))
            }
        }
    }

    /// Opens a file for reading, with its size (downloads).
    pub fn open_read(&self, path: &str) -> Result<(std::fs::File, u64)> {
        let relative = clean(path)?;
        let file = open_regular(&self.root, &relative, &mut read_options(), path)?;
        let size = file.metadata().map_err(|err| fail(path, err))?.len();
        Ok((file.into_std(), size))
    }

    pub fn create_dir(&self, path: &str) -> Result<()> {
        let relative = clean(path)?;
        if self.root.symlink_metadata(&relative).is_err() {
            self.claim_entry(path)?;
        }
        self.root
            .create_dir_all(&relative)
            .map_err(|err| fail(path, err))
    }

    /// Renames or moves, refusing to overwrite an existing entry.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (source, target) = (clean(from)?, clean(to)?);
        if self.root.symlink_metadata(&target).is_ok() {
            return Err(Error::InvalidState(format!("`{to}` already exists")));
        }
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            self.root
                .create_dir_all(parent)
                .map_err(|err| fail(to, err))?;
        }
        self.root
            .rename(&source, &self.root, &target)
            .map_err(|err| fail(from, err))
    }

    /// Copies a file next to itself as `name copy.ext` (`name copy 2.ext`, …); returns
    /// the new path.
    pub fn copy(&self, path: &str) -> Result<String> {
        let relative = clean(path)?;
        let metadata = self
            .root
            .metadata(&relative)
            .map_err(|err| fail(path, err))?;
        if !metadata.is_file() {
            return Err(Error::BadRequest(format!(
                "only files can be copied; `{path}` is not one"
            )));
        }
        self.check_quota(metadata.len())?;
        self.claim_entry(path)?;
        let stem = relative
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let extension = relative
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let parent = relative.parent().unwrap_or(Path::new("")).to_path_buf();
        let target = (1..)
            .map(|n| {
                let suffix = if n == 1 {
                    " copy".to_string()
                } else {
                    format!(" copy {n}")
                };
                parent.join(format!("{stem}{suffix}{extension}"))
            })
            .find(|candidate| self.root.symlink_metadata(candidate).is_err())
            .expect("an unused name exists");
        let source = open_regular(&self.root, &relative, &mut read_options(), path)?;
        let mut create = cap_std::fs::OpenOptions::new();
        create.write(true).create_new(true);
        let copied = (|| -> std::io::Result<u64> {
            let mut target_file = self.root.open_with(&target, &create)?;
            let copied = std::io::copy(&mut source.into_std(), &mut target_file)?;
            target_file.set_permissions(metadata.permissions())?;
            Ok(copied)
        })();
        let copied = match copied {
            Ok(copied) => copied,
            Err(err) => {
                let _ = self.root.remove_file(&target);
                return Err(fail(path, err));
            }
        };
        self.usage.adjust(copied as i64);
        Ok(format!("/{}", target.to_string_lossy()))
    }

    /// Deletes a file, a symbolic link (not its target) or a directory tree.
    pub fn delete(&self, path: &str) -> Result<()> {
        let relative = clean(path)?;
        if relative.as_os_str().is_empty() {
            return Err(Error::BadRequest(
                "the server's top directory cannot be deleted".into(),
            ));
        }
        let metadata = self
            .root
            .symlink_metadata(&relative)
            .map_err(|err| fail(path, err))?;
        let removed = if metadata.is_dir() {
            self.root.remove_dir_all(&relative)
        } else {
            self.root.remove_file(&relative)
        };
        self.usage.invalidate();
        removed.map_err(|err| fail(path, err))
    }

    /// One entry's facts; `follow` resolves a final link (inside the directory only).
    pub fn entry(&self, path: &str, follow: bool) -> Result<Entry> {
        let relative = clean(path)?;
        let metadata = if follow {
            self.root.metadata(dir_path(&relative))
        } else {
            self.root.symlink_metadata(dir_path(&relative))
        }
        .map_err(|err| fail(path, err))?;
        let file_type = metadata.file_type();
        let name = relative
            .file_name()
            .map_or_else(|| "/".to_string(), |n| n.to_string_lossy().into_owned());
        Ok(Entry {
            name,
            size: metadata.len(),
            directory: file_type.is_dir(),
            file: file_type.is_file(),
            symlink: file_type.is_symlink(),
            mode: metadata.permissions().mode() & 0o7777,
            modified: seconds(
                metadata
                    .modified()
                    .ok()
                    .map(cap_std::time::SystemTime::into_std),
            ),
        })
    }

    /// A client path in its canonical form inside the server: `/`, `/plugins/a.jar`.
    pub fn normalize(path: &str) -> Result<String> {
        Ok(format!("/{}", clean(path)?.to_string_lossy()))
    }

    /// Opens a file for writing in place (SFTP), creating it when asked. Every write
    /// through the handle is held to the quota.
    pub fn open_write(
        &self,
        path: &str,
        create: bool,
        exclusive: bool,
        truncate: bool,
    ) -> Result<WriteHandle> {
        let relative = clean(path)?;
        if relative.as_os_str().is_empty() {
            return Err(Error::BadRequest(format!("`{path}` is a directory")));
        }
        let mut options = cap_std::fs::OpenOptions::new();
        options.read(true).write(true);
        if exclusive {
            options.create_new(true);
        } else if create {
            options.create(true);
        }
        let before = match self.root.symlink_metadata(&relative) {
            Ok(existing) => existing.len(),
            Err(_) if create || exclusive => {
                self.claim_entry(path)?;
                0
            }
            Err(_) => 0,
        };
        let file = open_regular(&self.root, &relative, &mut options, path)?;
        if truncate {
            file.set_len(0).map_err(|err| fail(path, err))?;
            self.usage.adjust(-(before as i64));
        }
        let size = if truncate { 0 } else { before };
        Ok(WriteHandle {
            file: file.into_std(),
            size,
            quota: self.quota,
            usage: self.usage.clone(),
            measure: self.root.try_clone().map_err(|err| fail(path, err))?,
        })
    }

    /// Deletes a file or link, never a directory.
    pub fn remove_file(&self, path: &str) -> Result<()> {
        let relative = clean(path)?;
        let metadata = self
            .root
            .symlink_metadata(dir_path(&relative))
            .map_err(|err| fail(path, err))?;
        if metadata.is_dir() {
            return Err(Error::BadRequest(format!("`{path}` is a directory")));
        }
        self.root
            .remove_file(&relative)
            .map_err(|err| fail(path, err))?;
        self.usage.adjust(-(metadata.len() as i64));
        Ok(())
    }

    /// Deletes an empty directory.
    pub fn remove_empty_dir(&self, path: &str) -> Result<()> {
        let relative = clean(path)?;
        if relative.as_os_str().is_empty() {
            return Err(Error::BadRequest(
                "the server's top directory cannot be deleted".into(),
            ));
        }
        self.root
            .remove_dir(&relative)
            .map_err(|err| match err.raw_os_error() {
                Some(39) => Error::BadRequest(format!("`{path}` is not empty")),
                _ => fail(path, err),
            })
    }

    pub fn chmod(&self, path: &str, mode: u32) -> Result<()> {
        if mode > 0o777 {
            return Err(Error::BadRequest(format!(
                "mode {mode:o} is not between 000 and 777"
            )));
        }
        let relative = clean(path)?;
        self.root
            .set_permissions(&relative, cap_std::fs::Permissions::from_mode(mode))
            .map_err(|err| fail(path, err))
    }

    /// Bytes used by the server's files (links are not followed), from the cache when
    /// it is recent.
    pub fn disk_usage(&self) -> Result<u64> {
        Ok(self.usage.current(|| measure(&self.root))?.bytes)
    }

    fn check_quota(&self, additional: u64) -> Result<()> {
        let Some(quota) = self.quota else {
            return Ok(());
        };
        let used = self.disk_usage()?;
        if used + additional > quota {
            return Err(Error::QuotaExceeded(format!(
                "not enough disk space: the server uses {} of its {} MiB and this needs {} more bytes",
                mib(used),
                quota / (1024 * 1024),
                additional
            )));
        }
        Ok(())
    }
}

/// Runs blocking filesystem work so it does not stall an async worker thread: moved
/// aside with `block_in_place` when called from inside the multi-threaded runtime
/// (SFTP handlers are), run directly on blocking threads and outside a runtime.
fn off_async_workers<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Bytes and entries under `root`, links not followed. Iterative, so a directory
/// tree of any depth cannot overflow the stack; callers run it on blocking threads.
fn measure(root: &Dir) -> Result<(u64, u64)> {
    let walk = || -> std::io::Result<(u64, u64)> {
        let (mut bytes, mut entries) = (0u64, 0u64);
        // Directories still to visit, by parent and name: a directory is opened only
        // when visited, so a wide folder does not hold a descriptor per child.
        let mut pending: Vec<(Arc<Dir>, Option<std::ffi::OsString>)> =
            vec![(Arc::new(root.try_clone()?), None)];
        while let Some((parent, name)) = pending.pop() {
            let dir = match name {
                Some(name) => Arc::new(parent.open_dir(&name)?),
                None => parent,
            };
            for entry in dir.entries()? {
                let entry = entry?;
                entries += 1;
                if entry.file_type()?.is_dir() {
                    pending.push((dir.clone(), Some(entry.file_name())));
                } else {
                    bytes += entry.metadata()?.len();
                }
            }
        }
        Ok((bytes, entries))
    };
    walk().map_err(|source| Error::Io {
        context: "cannot measure disk usage".into(),
        source,
    })
}

/// Opens `relative` with `options`, refusing anything but a regular file. FIFOs,
/// sockets and device nodes a process in the container made are never read or
/// written: the open does not wait (`O_NONBLOCK`, so a FIFO cannot hang a worker)
/// and the type is checked on the opened descriptor, so a swap between a check
/// and the open changes nothing.
fn open_regular(
    root: &Dir,
    relative: &Path,
    options: &mut cap_std::fs::OpenOptions,
    display: &str,
) -> Result<cap_std::fs::File> {
    use cap_std::fs::OpenOptionsExt;
    options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    let not_regular = || {
        Error::BadRequest(format!(
            "`{display}` is not a regular file (a FIFO, socket or device); wings does not open those"
        ))
    };
    let file = root.open_with(relative, options).map_err(|err| {
        // Opening a socket fails with ENXIO: the same refusal.
        if err.raw_os_error() == Some(libc::ENXIO) {
            not_regular()
        } else {
            fail(display, err)
        }
    })?;
    let metadata = file.metadata().map_err(|err| fail(display, err))?;
    if metadata.is_dir() {
        return Err(Error::BadRequest(format!("`{display}` is a directory")));
    }
    if !metadata.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

fn read_options() -> cap_std::fs::OpenOptions {
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true);
    options
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn seconds(time: Option<SystemTime>) -> u64 {
    time.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn dir_path(relative: &Path) -> &Path {
    if relative.as_os_str().is_empty() {
        Path::new(".")
    } else {
        relative
    }
}

/// A client path as a path relative to the server's top directory. `..` that would
/// climb above the top and NUL bytes are refused here; links that lead outside are
/// refused by the kernel when the path is used.
fn clean(path: &str) -> Result<PathBuf> {
    if path.contains('\0') {
        return Err(Error::BadRequest("the path contains a NUL byte".into()));
    }
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::Normal(part) => parts.push(part),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(outside(path));
                }
            }
        }
    }
    Ok(parts.iter().collect())
}

fn outside(path: &str) -> Error {
    Error::BadRequest(format!("`{path}` is outside the server's directory"))
}

/// Maps an I/O error to a clear one; a refused escape through a link says so.
fn fail(path: &str, source: std::io::Error) -> Error {
    match source.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(format!("`{path}` does not exist")),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::Other
            if source.to_string().contains("outside") || source.raw_os_error() == Some(18) =>
        {
            outside(path)
        }
        _ if source.raw_os_error() == Some(18) => outside(path),
        _ => Error::Io {
            context: format!("`{path}`"),
            source,
        },
    }
}

/// Archives: compressing files into a `.tar.gz` and extracting `.tar.gz`, `.tgz`, `.tar`
/// and `.zip` archives, with the same confinement as every other operation.
pub mod archives {
    use std::io::{Read, Seek};
    use std::path::{Path, PathBuf};

    use cap_std::fs::Dir;

    use super::{ServerFiles, clean, fail};
    use crate::error::{Error, Result};

    /// An archive may expand to at most this many times its own size, whatever the
    /// quota says (zip bombs).
    pub const MAX_EXPANSION_RATIO: u64 = 200;

    impl ServerFiles {
        /// Packs `names` (files or directories inside `dir`) into a new
        /// `archive-<time>.tar.gz` in `dir`; returns its path. Links are stored as
        /// links, never followed.
        pub fn compress(&self, dir: &str, names: &[String]) -> Result<String> {
            let base = clean(dir)?;
            let stamp = chrono_like_stamp();
            let archive_path = base.join(format!("archive-{stamp}.tar.gz"));
            let partial = base.join(format!(".archive-{stamp}.tar.gz.wings-partial"));
            let written = (|| -> Result<()> {
                let file = self.root.create(&partial).map_err(|err| fail(dir, err))?;
                let encoder =
                    flate2::write::GzEncoder::new(file.into_std(), flate2::Compression::default());
                let mut builder = tar::Builder::new(encoder);
                builder.follow_symlinks(false);
                for name in names {
                    let relative = clean(&format!("{}/{name}", base.display()))?;
                    let inside = relative
                        .strip_prefix(&base)
                        .unwrap_or(&relative)
                        .to_path_buf();
                    if inside.as_os_str().is_empty() {
                        return Err(Error::BadRequest(format!("`{name}` is not inside `{dir}`")));
                    }
                    add_to_tar(&self.root, &mut builder, &relative, &inside)?;
                }
                builder
                    .into_inner()
                    .and_then(|encoder| encoder.finish())
                    .map(drop)
                    .map_err(|source| Error::Io {
                        context: "cannot finish the archive".into(),
                        source,
                    })
            })();
            let finished = written.and_then(|()| {
                let size = self
                    .root
                    .metadata(&partial)
                    .map_err(|err| fail(dir, err))?
                    .len();
                // The archive already sits on the disk; the quota has to allow it.
                self.check_quota(0).map_err(|_| {
                    Error::QuotaExceeded(format!("not enough disk space for a {size}-byte archive"))
                })?;
                self.root
                    .rename(&partial, &self.root, &archive_path)
                    .map_err(|err| fail(dir, err))
            });
            if let Err(err) = finished {
                let _ = self.root.remove_file(&partial);
                return Err(err);
            }
            self.usage.invalidate();
            Ok(format!("/{}", archive_path.display()))
        }

        /// Extracts `archive` into `dir`. Entries that would land outside `dir`, links
        /// that point outside it, special files, and expansion beyond the quota or
        /// [`MAX_EXPANSION_RATIO`] are refused, and then nothing is extracted at all.
        pub fn decompress(&self, dir: &str, archive: &str) -> Result<()> {
            let base = clean(dir)?;
            let archive_relative = clean(archive)?;
            let archive_size = self
                .root
                .metadata(&archive_relative)
                .map_err(|err| fail(archive, err))?
                .len();
            let mut budget = Budget {
                ratio_bytes: archive_size.max(1).saturating_mul(MAX_EXPANSION_RATIO),
                files: self,
                archive,
            };
            let staging = base.join(format!(".wings-extract-{}", chrono_like_stamp()));
            self.root
                .create_dir_all(&staging)
                .map_err(|err| fail(dir, err))?;
            let extracted = (|| -> Result<()> {
                let stage = self.root.open_dir(&staging).map_err(|err| fail(dir, err))?;
                let file = super::open_regular(
                    &self.root,
                    &archive_relative,
                    &mut super::read_options(),
                    archive,
                )?
                .into_std();
                let name = archive.to_ascii_lowercase();
                if name.ends_with(".zip") {
                    extract_zip(file, &stage, &mut budget)
                } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
                    extract_tar(flate2::read::GzDecoder::new(file), &stage, &mut budget)
                } else if name.ends_with(".tar") {
                    extract_tar(file, &stage, &mut budget)
                } else {
                    Err(Error::BadRequest(format!(
                        "`{archive}` is not an archive wings can extract (.zip, .tar.gz, .tgz, .tar)"
                    )))
                }?;
                merge(&self.root, &staging, &base)
            })();
            let _ = self.root.remove_dir_all(&staging);
            // What was reserved is on disk now (or was removed): measure afresh.
            self.usage.invalidate();
            extracted
        }
    }

    impl ServerFiles {
        /// Writes the whole server directory to `out` as a tar stream (a backup).
        /// Links are stored as links, never followed; special files are left out.
        pub fn archive_all<W: std::io::Write>(&self, out: W) -> Result<W> {
            let mut builder = tar::Builder::new(out);
            builder.follow_symlinks(false);
            let listing_failed = |source| Error::Io {
                context: "cannot list the server's files".into(),
                source,
            };
            let mut names = Vec::new();
            for entry in self.root.entries().map_err(listing_failed)? {
                names.push(entry.map_err(listing_failed)?.file_name());
            }
            names.sort_unstable();
            for name in names {
                let path = Path::new(&name);
                add_to_tar(&self.root, &mut builder, path, path)?;
            }
            builder.into_inner().map_err(|source| Error::Io {
                context: "cannot finish the archive".into(),
                source,
            })
        }
    }

    /// Adds `path` (stored as `inside`) and, for a directory, everything beneath it;
    /// iterative, so no directory depth can overflow the stack.
    fn add_to_tar<W: std::io::Write>(
        root: &Dir,
        builder: &mut tar::Builder<W>,
        path: &Path,
        inside: &Path,
    ) -> Result<()> {
        let mut pending = vec![(path.to_path_buf(), inside.to_path_buf())];
        while let Some((path, inside)) = pending.pop() {
            let display = path.display().to_string();
            let metadata = root
                .symlink_metadata(&path)
                .map_err(|err| fail(&display, err))?;
            let io = |source| Error::Io {
                context: format!("cannot archive `{display}`"),
                source,
            };
            let mut header = tar::Header::new_gnu();
            header.set_mode(cap_std::fs::PermissionsExt::mode(&metadata.permissions()) & 0o7777);
            if metadata.is_symlink() {
                let target = root
                    .read_link_contents(&path)
                    .map_err(|err| fail(&display, err))?;
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder
                    .append_link(&mut header, &inside, target)
                    .map_err(io)?;
            } else if metadata.is_dir() {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, &inside, std::io::empty())
                    .map_err(io)?;
                let mut children = Vec::new();
                for entry in root.read_dir(&path).map_err(|err| fail(&display, err))? {
                    children.push(entry.map_err(io)?.file_name());
                }
                // Popped in name order.
                children.sort_unstable_by(|a, b| b.cmp(a));
                pending.extend(
                    children
                        .into_iter()
                        .map(|name| (path.join(&name), inside.join(&name))),
                );
            } else if metadata.is_file() {
                let file = super::open_regular(root, &path, &mut super::read_options(), &display)?;
                header.set_size(file.metadata().map_err(io)?.len());
                builder
                    .append_data(&mut header, &inside, file.into_std())
                    .map_err(io)?;
            }
            // Special files are left out: their "contents" never end.
        }
        Ok(())
    }

    /// Where an archive entry may go: a relative path that stays inside.
    fn entry_path(name: &str, archive: &str) -> Result<PathBuf> {
        let refuse = || {
            Error::BadRequest(format!(
                "`{archive}` contains the unsafe entry `{name}`; nothing was extracted"
            ))
        };
        if name.starts_with('/') || name.contains('\0') || name.contains('\\') {
            return Err(refuse());
        }
        let mut clean = PathBuf::new();
        for component in Path::new(name).components() {
            match component {
                std::path::Component::Normal(part) => clean.push(part),
                std::path::Component::CurDir => {}
                _ => return Err(refuse()),
            }
        }
        Ok(clean)
    }

    /// Whether a link at `link` (relative to the extraction directory) pointing at
    /// `target` stays inside it: relative targets only, never climbing above the top.
    fn link_stays_inside(link: &Path, target: &Path) -> bool {
        if target.is_absolute() {
            return false;
        }
        let mut depth = link.components().count().saturating_sub(1) as i64;
        for component in target.components() {
            match component {
                std::path::Component::ParentDir => depth -= 1,
                std::path::Component::Normal(_) => depth += 1,
                std::path::Component::CurDir => {}
                _ => return false,
            }
            if depth < 0 {
                return false;
            }
        }
        true
    }

    fn bomb(archive: &str) -> Error {
        Error::QuotaExceeded(format!(
            "`{archive}` expands to more than the disk space allowed (or more than {MAX_EXPANSION_RATIO} times its size); nothing was extracted"
        ))
    }

    /// What an extraction may still create: bytes within the expansion ratio, and
    /// bytes and entries within the server's quota and entry limit, reserved as they
    /// are written so other writes cannot take the same space meanwhile.
    struct Budget<'a> {
        ratio_bytes: u64,
        files: &'a ServerFiles,
        archive: &'a str,
    }

    impl Budget<'_> {
        fn take(&mut self, bytes: u64, entries: u64) -> Result<()> {
            if bytes > self.ratio_bytes {
                return Err(bomb(self.archive));
            }
            let limits = (self.files.quota.unwrap_or(u64::MAX), self.files.max_entries);
            let fits = self
                .files
                .usage
                .reserve(bytes, entries, limits, || super::measure(&self.files.root))?;
            if let Err(used) = fits {
                if used.entries + entries > limits.1 {
                    return Err(Error::QuotaExceeded(format!(
                        "`{}` holds more files than the server may have ({} at most); nothing was extracted",
                        self.archive, limits.1
                    )));
                }
                return Err(bomb(self.archive));
            }
            self.ratio_bytes -= bytes;
            Ok(())
        }
    }

    /// Copies one entry's bytes into the staging directory, within `budget`.
    fn write_entry(
        stage: &Dir,
        path: &Path,
        reader: &mut dyn Read,
        budget: &mut Budget<'_>,
    ) -> Result<()> {
        let display = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            stage
                .create_dir_all(parent)
                .map_err(|err| fail(&display, err))?;
        }
        budget.take(0, 1)?;
        let mut file = stage.create(path).map_err(|err| fail(&display, err))?;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let read = match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(read) => read,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        context: format!("cannot extract `{display}` from `{}`", budget.archive),
                        source,
                    });
                }
            };
            budget.take(read as u64, 0)?;
            std::io::Write::write_all(&mut file, &chunk[..read])
                .map_err(|err| fail(&display, err))?;
        }
        Ok(())
    }

    fn extract_tar<R: Read>(reader: R, stage: &Dir, budget: &mut Budget<'_>) -> Result<()> {
        let archive = budget.archive;
        let io = |source| Error::Io {
            context: format!("cannot read `{archive}`"),
            source,
        };
        let mut tar = tar::Archive::new(reader);
        for entry in tar.entries().map_err(io)? {
            let mut entry = entry.map_err(io)?;
            let name = entry.path().map_err(io)?.to_string_lossy().into_owned();
            let path = entry_path(&name, archive)?;
            match entry.header().entry_type() {
                tar::EntryType::Directory => {
                    if !path.as_os_str().is_empty() {
                        budget.take(0, 1)?;
                        stage
                            .create_dir_all(&path)
                            .map_err(|err| fail(&name, err))?;
                    }
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    write_entry(stage, &path, &mut entry, budget)?
                }
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name()
                        .map_err(io)?
                        .unwrap_or_default()
                        .into_owned();
                    if !link_stays_inside(&path, &target) {
                        return Err(Error::BadRequest(format!(
                            "`{archive}` contains the link `{name}` pointing outside the server's directory; nothing was extracted"
                        )));
                    }
                    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                        stage
                            .create_dir_all(parent)
                            .map_err(|err| fail(&name, err))?;
                    }
                    budget.take(0, 1)?;
                    stage
                        .symlink(&target, &path)
                        .map_err(|err| fail(&name, err))?;
                }
                _ => {
                    return Err(Error::BadRequest(format!(
                        "`{archive}` contains `{name}`, which is a link or special file; nothing was extracted"
                    )));
                }
            }
        }
        Ok(())
    }

    fn extract_zip<R: Read + Seek>(reader: R, stage: &Dir, budget: &mut Budget<'_>) -> Result<()> {
        let archive = budget.archive;
        let mut zip = zip::ZipArchive::new(reader).map_err(|err| {
            Error::BadRequest(format!("`{archive}` is not a valid zip archive: {err}"))
        })?;
        for index in 0..zip.len() {
            let mut entry = zip
                .by_index(index)
                .map_err(|err| Error::BadRequest(format!("`{archive}` is damaged: {err}")))?;
            let name = entry.name().to_string();
            let path = entry_path(&name, archive)?;
            if entry.is_symlink() {
                return Err(Error::BadRequest(format!(
                    "`{archive}` contains `{name}`, which is a link; nothing was extracted"
                )));
            }
            if entry.is_dir() {
                if !path.as_os_str().is_empty() {
                    budget.take(0, 1)?;
                    stage
                        .create_dir_all(&path)
                        .map_err(|err| fail(&name, err))?;
                }
            } else {
                write_entry(stage, &path, &mut entry, budget)?;
            }
        }
        Ok(())
    }

    /// Moves everything from `from` into `into`, replacing files and merging
    /// directories.
    fn merge(root: &Dir, from: &Path, into: &Path) -> Result<()> {
        let display = into.display().to_string();
        let entries = root.read_dir(from).map_err(|err| fail(&display, err))?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                context: "cannot read extracted files".into(),
                source,
            })?;
            let name = entry.file_name();
            let (source, target) = (from.join(&name), into.join(&name));
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            let target_is_dir = root.symlink_metadata(&target).is_ok_and(|m| m.is_dir());
            if is_dir && target_is_dir {
                merge(root, &source, &target)?;
            } else {
                if target_is_dir {
                    root.remove_dir_all(&target)
                        .map_err(|err| fail(&display, err))?;
                }
                root.rename(&source, root, &target)
                    .map_err(|err| fail(&display, err))?;
            }
        }
        Ok(())
    }

    /// A sortable, unique-enough stamp for file names.
    fn chrono_like_stamp() -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        format!("{}-{:09}", now.as_secs(), now.subsec_nanos())
    }
}
