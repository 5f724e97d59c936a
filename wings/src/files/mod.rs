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

impl Entry {
    /// Entry `name` as `metadata` describes it (links not followed).
    fn new(name: String, metadata: &cap_std::fs::Metadata) -> Entry {
        let file_type = metadata.file_type();
        Entry {
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
        }
    }
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
            let name = item.file_name().to_string_lossy().into_owned();
            entries.push(Entry::new(name, &metadata));
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

    /// A file's checksum as lowercase hex: `sha256`, `md5` or `crc32`; any size, read
    /// in chunks.
    pub fn checksum(&self, path: &str, algorithm: &str) -> Result<String> {
        use sha2::Digest as _;
        use std::io::Read as _;
        enum Hasher {
            Sha256(sha2::Sha256),
            Md5(md5::Md5),
            Crc32(crc32fast::Hasher),
        }
        let mut hasher = match algorithm {
            "sha256" => Hasher::Sha256(sha2::Sha256::new()),
            "md5" => Hasher::Md5(md5::Md5::new()),
            "crc32" => Hasher::Crc32(crc32fast::Hasher::new()),
            other => {
                return Err(Error::BadRequest(format!(
                    "`{other}` is not a checksum wings computes: sha256, md5 or crc32"
                )));
            }
        };
        let relative = clean(path)?;
        let mut file = open_regular(&self.root, &relative, &mut read_options(), path)?.into_std();
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            let read = match file.read(&mut chunk) {
                Ok(0) => break,
                Ok(read) => read,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(fail(path, err)),
            };
            match &mut hasher {
                Hasher::Sha256(hasher) => hasher.update(&chunk[..read]),
                Hasher::Md5(hasher) => hasher.update(&chunk[..read]),
                Hasher::Crc32(hasher) => hasher.update(&chunk[..read]),
            }
        }
        Ok(match hasher {
            Hasher::Sha256(hasher) => hex::encode(hasher.finalize()),
            Hasher::Md5(hasher) => hex::encode(hasher.finalize()),
            Hasher::Crc32(hasher) => format!("{:08x}", hasher.finalize()),
        })
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
        let name = relative
            .file_name()
            .map_or_else(|| "/".to_string(), |n| n.to_string_lossy().into_owned());
        Ok(Entry::new(name, &metadata))
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

pub mod archives;
pub mod pull;
pub mod search;
