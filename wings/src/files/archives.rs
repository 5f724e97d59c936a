//! Archives: compressing files into a `.tar.gz`; listing, reading one entry of and
//! extracting (all or some of) zip, tar, tar.gz, tar.zst and 7z archives, with the same
//! confinement as every other operation and limits on what an archive may expand to.
use std::io::Read;
use std::path::{Path, PathBuf};

use cap_std::fs::Dir;
use hatchery_protocol::files::ArchiveEntry;

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

    /// Extracts all of `archive` into `dir`; see [`ServerFiles::extract`].
    pub fn decompress(&self, dir: &str, archive: &str) -> Result<()> {
        self.extract(dir, archive, &[])
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
            Err(source) => return Err(read_failed(budget.archive, source)),
        };
        budget.take(read as u64, 0)?;
        std::io::Write::write_all(&mut file, &chunk[..read]).map_err(|err| fail(&display, err))?;
    }
    Ok(())
}

/// The archive formats wings reads, known by the name's ending (`.jar` files are zips).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Zip,
    Tar,
    TarGz,
    TarZst,
    SevenZip,
}

const FORMATS: &str = ".zip, .jar, .tar, .tar.gz, .tgz, .tar.zst, .tzst, .7z";

impl Format {
    fn of(archive: &str) -> Result<Format> {
        let name = archive.to_ascii_lowercase();
        let known = [
            (".tar.gz", Format::TarGz),
            (".tgz", Format::TarGz),
            (".tar.zst", Format::TarZst),
            (".tzst", Format::TarZst),
            (".tar", Format::Tar),
            (".zip", Format::Zip),
            (".jar", Format::Zip),
            (".7z", Format::SevenZip),
        ];
        known
            .iter()
            .find(|(ending, _)| name.ends_with(ending))
            .map(|(_, format)| *format)
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "`{archive}` is not an archive wings can open ({FORMATS})"
                ))
            })
    }
}

/// The most entries an archive may hold for wings to open it at all.
pub const MAX_ENTRIES: usize = 100_000;

/// What an entry is.
enum Kind {
    File,
    Directory,
    Symlink(PathBuf),
    /// Devices, FIFOs, hard links: never extracted.
    Other,
}

struct Header {
    /// As the archive spells it, without a trailing `/`.
    name: String,
    kind: Kind,
    size: u64,
    modified: Option<i64>,
}

impl Header {
    fn entry(&self) -> ArchiveEntry {
        ArchiveEntry {
            name: self.name.clone(),
            size: self.size,
            directory: matches!(self.kind, Kind::Directory),
            symlink: matches!(self.kind, Kind::Symlink(_)),
            modified: self.modified,
        }
    }
}

/// A decompressing reader that gives up past `left` bytes: decompressing to reach an
/// entry costs as much as extracting, so bombs are refused while browsing too.
struct Capped<R> {
    inner: R,
    left: u64,
    archive: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.left = self
            .left
            .checked_sub(read as u64)
            .ok_or_else(|| std::io::Error::other(Expanded(self.archive.clone())))?;
        Ok(read)
    }
}

/// The error a [`Capped`] reader fails with, found again however the decoder above it
/// wrapped it.
#[derive(Debug)]
struct Expanded(String);

impl std::fmt::Display for Expanded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` expands to more than {MAX_EXPANSION_RATIO} times its size",
            self.0
        )
    }
}

impl std::error::Error for Expanded {}

/// An archive's read failure: a bomb when a [`Capped`] reader stopped it.
fn read_failed(archive: &str, source: std::io::Error) -> Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&source);
    while let Some(error) = cause {
        if error.is::<Expanded>() {
            return bomb(archive);
        }
        cause = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => error.source(),
        };
    }
    Error::BadRequest(format!("cannot read `{archive}`: {source}"))
}

/// Whether to go on after an entry.
enum Flow {
    Next,
    Stop,
}

impl ServerFiles {
    /// Opens `archive` for reading: its format, the file, and the most bytes it may
    /// expand to.
    fn open_archive(&self, archive: &str) -> Result<(Format, std::fs::File, u64)> {
        let format = Format::of(archive)?;
        let file = super::open_regular(
            &self.root,
            &clean(archive)?,
            &mut super::read_options(),
            archive,
        )?
        .into_std();
        let size = file.metadata().map_err(|err| fail(archive, err))?.len();
        Ok((
            format,
            file,
            size.max(1).saturating_mul(MAX_EXPANSION_RATIO),
        ))
    }

    /// Visits `archive`'s entries in order with a reader of each one's bytes, until
    /// `visit` says stop. More than [`MAX_ENTRIES`] entries are refused.
    fn walk(
        &self,
        archive: &str,
        visit: &mut dyn FnMut(&Header, &mut dyn Read) -> Result<Flow>,
    ) -> Result<()> {
        let (format, file, cap) = self.open_archive(archive)?;
        let capped = |inner: Box<dyn Read>| Capped {
            inner,
            left: cap,
            archive: archive.to_string(),
        };
        match format {
            Format::Tar => walk_tar(capped(Box::new(file)), archive, visit),
            Format::TarGz => walk_tar(
                capped(Box::new(flate2::read::GzDecoder::new(file))),
                archive,
                visit,
            ),
            Format::TarZst => {
                let decoder = ruzstd::decoding::StreamingDecoder::new(file).map_err(|err| {
                    Error::BadRequest(format!("`{archive}` is not a zstd stream: {err}"))
                })?;
                walk_tar(capped(Box::new(decoder)), archive, visit)
            }
            Format::Zip => walk_zip(file, cap, archive, visit),
            Format::SevenZip => walk_7z(file, cap, archive, visit),
        }
    }

    /// Lists `archive`'s entries without extracting anything.
    pub fn archive_entries(&self, archive: &str) -> Result<Vec<ArchiveEntry>> {
        let mut entries = Vec::new();
        self.walk(archive, &mut |header, _| {
            entries.push(header.entry());
            Ok(Flow::Next)
        })?;
        Ok(entries)
    }

    /// The bytes of file `entry` inside `archive`, at most `limit` of them.
    pub fn archive_entry(&self, archive: &str, entry: &str, limit: u64) -> Result<Vec<u8>> {
        let wanted = entry.trim_start_matches("./").trim_end_matches('/');
        let mut found = None;
        self.walk(archive, &mut |header, reader| {
            if header.name != wanted {
                return Ok(Flow::Next);
            }
            if !matches!(header.kind, Kind::File) {
                return Err(Error::BadRequest(format!(
                    "`{wanted}` in `{archive}` is not a file"
                )));
            }
            let mut bytes = Vec::new();
            reader
                .take(limit + 1)
                .read_to_end(&mut bytes)
                .map_err(|err| read_failed(archive, err))?;
            if bytes.len() as u64 > limit {
                return Err(Error::BadRequest(format!(
                    "`{wanted}` is bigger than {limit} bytes; extract it instead"
                )));
            }
            found = Some(bytes);
            Ok(Flow::Stop)
        })?;
        found.ok_or_else(|| Error::NotFound(format!("`{archive}` has no entry `{wanted}`")))
    }

    /// Extracts `archive` into `dir`: everything, or only `only` (files or folders,
    /// each landing in `dir` under its own name). Every entry is checked, chosen or
    /// not: one that would land outside, a link pointing outside, a special file, more
    /// than [`MAX_ENTRIES`], or expansion beyond the quota or [`MAX_EXPANSION_RATIO`]
    /// refuses the archive, and then nothing is extracted at all.
    pub fn extract(&self, dir: &str, archive: &str, only: &[String]) -> Result<()> {
        let base = clean(dir)?;
        let chosen: Vec<(String, String)> = only
            .iter()
            .map(|name| {
                let name = name.trim_start_matches("./").trim_matches('/').to_string();
                let parent = name
                    .rsplit_once('/')
                    .map(|(parent, _)| format!("{parent}/"));
                (name, parent.unwrap_or_default())
            })
            .collect();
        let (_, _, cap) = self.open_archive(archive)?;
        let mut budget = Budget {
            ratio_bytes: cap,
            files: self,
            archive,
        };
        let staging = base.join(format!(".wings-extract-{}", chrono_like_stamp()));
        self.root
            .create_dir_all(&staging)
            .map_err(|err| fail(dir, err))?;
        let mut extracted_any = chosen.is_empty();
        let extracted = (|| -> Result<()> {
            let stage = self.root.open_dir(&staging).map_err(|err| fail(dir, err))?;
            self.walk(archive, &mut |header, reader| {
                let name = &header.name;
                entry_path(name, archive)?;
                if let Kind::Symlink(target) = &header.kind
                    && !link_stays_inside(Path::new(name), target)
                {
                    return Err(Error::BadRequest(format!(
                        "`{archive}` contains the link `{name}` pointing outside the server's directory; nothing was extracted"
                    )));
                }
                if matches!(header.kind, Kind::Other) {
                    return Err(Error::BadRequest(format!(
                        "`{archive}` contains `{name}`, which is a special file or a hard link; nothing was extracted"
                    )));
                }
                let landing = if chosen.is_empty() {
                    Some(name.as_str())
                } else {
                    chosen.iter().find_map(|(wanted, parent)| {
                        let inside = name == wanted
                            || name.strip_prefix(wanted.as_str()).is_some_and(|rest| rest.starts_with('/'));
                        inside.then(|| &name[parent.len()..])
                    })
                };
                let Some(landing) = landing else {
                    return Ok(Flow::Next);
                };
                extracted_any = true;
                let path = entry_path(landing, archive)?;
                match &header.kind {
                    Kind::Directory => {
                        if !path.as_os_str().is_empty() {
                            budget.take(0, 1)?;
                            stage.create_dir_all(&path).map_err(|err| fail(name, err))?;
                        }
                    }
                    Kind::File => write_entry(&stage, &path, reader, &mut budget)?,
                    Kind::Symlink(target) => {
                        if !link_stays_inside(&path, target) {
                            return Err(Error::BadRequest(format!(
                                "the link `{name}` would point outside the server's directory from where it lands; nothing was extracted"
                            )));
                        }
                        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                            stage.create_dir_all(parent).map_err(|err| fail(name, err))?;
                        }
                        budget.take(0, 1)?;
                        stage.symlink(target, &path).map_err(|err| fail(name, err))?;
                    }
                    Kind::Other => unreachable!("refused above"),
                }
                Ok(Flow::Next)
            })?;
            if !extracted_any {
                return Err(Error::NotFound(format!(
                    "`{archive}` has none of the entries asked for"
                )));
            }
            merge(&self.root, &staging, &base)
        })();
        let _ = self.root.remove_dir_all(&staging);
        // What was reserved is on disk now (or was removed): measure afresh.
        self.usage.invalidate();
        extracted
    }
}

fn too_many(archive: &str) -> Error {
    Error::BadRequest(format!(
        "`{archive}` holds more than {MAX_ENTRIES} entries; wings does not open it"
    ))
}

fn walk_tar(
    reader: impl Read,
    archive: &str,
    visit: &mut dyn FnMut(&Header, &mut dyn Read) -> Result<Flow>,
) -> Result<()> {
    let io = |source| read_failed(archive, source);
    let mut tar = tar::Archive::new(reader);
    for (index, entry) in tar.entries().map_err(io)?.enumerate() {
        if index >= MAX_ENTRIES {
            return Err(too_many(archive));
        }
        let mut entry = entry.map_err(io)?;
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Directory => Kind::Directory,
            tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
            tar::EntryType::Symlink => Kind::Symlink(
                entry
                    .link_name()
                    .map_err(io)?
                    .unwrap_or_default()
                    .into_owned(),
            ),
            _ => Kind::Other,
        };
        let header = Header {
            name: entry
                .path()
                .map_err(io)?
                .to_string_lossy()
                .trim_end_matches('/')
                .to_string(),
            size: if matches!(kind, Kind::File) {
                header.size().unwrap_or(0)
            } else {
                0
            },
            modified: header
                .mtime()
                .ok()
                .and_then(|time| i64::try_from(time).ok()),
            kind,
        };
        if header.name.is_empty() || header.name == "." {
            continue;
        }
        if let Flow::Stop = visit(&header, &mut entry)? {
            break;
        }
    }
    Ok(())
}

fn walk_zip(
    file: std::fs::File,
    cap: u64,
    archive: &str,
    visit: &mut dyn FnMut(&Header, &mut dyn Read) -> Result<Flow>,
) -> Result<()> {
    let mut zip = zip::ZipArchive::new(file).map_err(|err| {
        Error::BadRequest(format!("`{archive}` is not a valid zip archive: {err}"))
    })?;
    if zip.len() > MAX_ENTRIES {
        return Err(too_many(archive));
    }
    let mut left = cap;
    for index in 0..zip.len() {
        let damaged = |err| Error::BadRequest(format!("`{archive}` is damaged: {err}"));
        let kind = {
            let entry = zip.by_index(index).map_err(damaged)?;
            if entry.is_symlink() {
                // A zip link's target is its contents.
                let mut target = String::new();
                entry
                    .take(4096)
                    .read_to_string(&mut target)
                    .map_err(|err| read_failed(archive, err))?;
                Kind::Symlink(PathBuf::from(target))
            } else if entry.is_dir() {
                Kind::Directory
            } else {
                Kind::File
            }
        };
        let entry = zip
            .by_index(index)
            .map_err(|err| Error::BadRequest(format!("`{archive}` is damaged: {err}")))?;
        let header = Header {
            name: entry.name().trim_end_matches('/').to_string(),
            size: if matches!(kind, Kind::File) {
                entry.size()
            } else {
                0
            },
            modified: entry.last_modified().and_then(|time| {
                let date = chrono::NaiveDate::from_ymd_opt(
                    time.year().into(),
                    time.month().into(),
                    time.day().into(),
                )?;
                let at = date.and_hms_opt(
                    time.hour().into(),
                    time.minute().into(),
                    time.second().into(),
                )?;
                Some(at.and_utc().timestamp())
            }),
            kind,
        };
        let mut capped = Capped {
            inner: entry,
            left,
            archive: archive.to_string(),
        };
        let flow = visit(&header, &mut capped)?;
        left = capped.left;
        if let Flow::Stop = flow {
            break;
        }
    }
    Ok(())
}

fn walk_7z(
    mut file: std::fs::File,
    cap: u64,
    archive: &str,
    visit: &mut dyn FnMut(&Header, &mut dyn Read) -> Result<Flow>,
) -> Result<()> {
    let damaged =
        |err: sevenz_rust2::Error| Error::BadRequest(format!("`{archive}` cannot be read: {err}"));
    let password = sevenz_rust2::Password::empty();
    let index = sevenz_rust2::Archive::read(&mut file, &password).map_err(damaged)?;
    if index.files.len() > MAX_ENTRIES {
        return Err(too_many(archive));
    }
    let mut reader = sevenz_rust2::ArchiveReader::from_archive(index, file, password);
    let mut left = cap;
    // The visitor's own error, kept while the reader unwinds with a stand-in.
    let mut failure = None;
    let walked = reader.for_each_entries(|entry, data| {
        if entry.is_anti_item {
            return Ok(true);
        }
        // p7zip keeps Unix modes in the high half of the attributes.
        let unix_mode = (entry.has_windows_attributes && entry.windows_attributes & 0x8000 != 0)
            .then_some(entry.windows_attributes >> 16);
        let is_link = unix_mode.is_some_and(|mode| mode & 0o170000 == 0o120000);
        let mut capped = Capped {
            inner: data,
            left,
            archive: archive.to_string(),
        };
        let kind = if entry.is_directory {
            Kind::Directory
        } else if is_link {
            let mut target = String::new();
            if let Err(err) = (&mut capped).take(4096).read_to_string(&mut target) {
                failure = Some(read_failed(archive, err));
                return Ok(false);
            }
            Kind::Symlink(PathBuf::from(target))
        } else {
            Kind::File
        };
        let header = Header {
            name: entry
                .name
                .replace('\\', "/")
                .trim_end_matches('/')
                .to_string(),
            size: if matches!(kind, Kind::File) {
                entry.size
            } else {
                0
            },
            modified: entry.has_last_modified_date.then(|| {
                // Windows file time: 100 ns ticks since 1601.
                (u64::from(entry.last_modified_date) / 10_000_000) as i64 - 11_644_473_600
            }),
            kind,
        };
        let flow = visit(&header, &mut capped);
        left = capped.left;
        match flow {
            Ok(Flow::Next) => Ok(true),
            Ok(Flow::Stop) => Ok(false),
            Err(err) => {
                failure = Some(err);
                Ok(false)
            }
        }
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    walked.map_err(damaged)
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
