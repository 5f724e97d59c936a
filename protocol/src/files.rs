//! Wings' file manager API (`/api/servers/{uuid}/files/…`), in Pterodactyl's shapes.

use serde::{Deserialize, Serialize};

/// One directory entry, as `list-directory` and `stat` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    /// RFC 3339; wings reports the modification time (Linux keeps no birth time for us).
    pub created: String,
    pub modified: String,
    /// `drwxr-xr-x`, as `ls -l` shows it.
    pub mode: String,
    /// Octal permission bits, e.g. `755`.
    pub mode_bits: String,
    pub size: u64,
    pub directory: bool,
    pub file: bool,
    pub symlink: bool,
    pub mime: String,
}

/// What kind of thing an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    File,
    Symlink,
    /// A socket, device or fifo: listed, never read.
    Other,
}

impl FileEntry {
    /// An entry from the facts the file system gives: `mode` holds the permission bits,
    /// `modified` is in seconds since the Unix epoch.
    pub fn new(name: String, size: u64, kind: EntryKind, mode: u32, modified: i64) -> FileEntry {
        let modified = chrono::DateTime::from_timestamp(modified, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        FileEntry {
            mime: mime(&name, kind).to_string(),
            mode: mode_string(kind, mode),
            mode_bits: format!("{:o}", mode & 0o777),
            created: modified.clone(),
            modified,
            name,
            size,
            directory: kind == EntryKind::Directory,
            file: kind == EntryKind::File,
            symlink: kind == EntryKind::Symlink,
        }
    }

    /// The modification time in seconds since the Unix epoch (0 when unreadable).
    pub fn modified_unix(&self) -> i64 {
        chrono::DateTime::parse_from_rfc3339(&self.modified)
            .map(|time| time.timestamp())
            .unwrap_or(0)
    }

    /// The permission bits (`0o755`).
    pub fn mode_value(&self) -> u32 {
        u32::from_str_radix(&self.mode_bits, 8).unwrap_or(0)
    }
}

fn mode_string(kind: EntryKind, mode: u32) -> String {
    let mut text = String::from(match kind {
        EntryKind::Directory => 'd',
        EntryKind::Symlink => 'l',
        EntryKind::File | EntryKind::Other => '-',
    });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    text
}

/// A MIME type from the name, enough for a file manager to pick an editor or icon.
fn mime(name: &str, kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Directory => return "inode/directory",
        EntryKind::Symlink => return "inode/symlink",
        EntryKind::File | EntryKind::Other => {}
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" | "log" | "properties" | "cfg" | "conf" | "ini" | "toml" | "env" | "sh" | "md" => {
            "text/plain"
        }
        "json" => "application/json",
        "yml" | "yaml" => "application/yaml",
        "xml" => "application/xml",
        "js" => "text/javascript",
        "html" | "htm" => "text/html",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "jar" => "application/java-archive",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// `GET list-directory?directory=…`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DirectoryQuery {
    #[serde(default)]
    pub directory: String,
}

/// `GET contents?file=…` and `GET stat?file=…`. `offset` and `length` read a part of a
/// large file (Hatchery's addition; Pterodactyl reads whole files).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileQuery {
    pub file: String,
    #[serde(default)]
    pub download: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
}

/// Which writes a caller may make: `file.create` and `file.update` are separate
/// permissions, so the panel says which one the caller holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteOnly {
    /// Only create files that do not exist yet.
    New,
    /// Only change files that exist.
    Existing,
}

/// `POST write?file=…[&only=new|existing]` with the whole file as the body, streamed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteQuery {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<WriteOnly>,
}

/// `POST create-directory`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateDirectory {
    pub name: String,
    #[serde(default)]
    pub path: String,
}

/// `PUT rename`: each `from` → `to`, relative to `root`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenameFiles {
    #[serde(default)]
    pub root: String,
    pub files: Vec<RenameFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenameFile {
    pub from: String,
    pub to: String,
}

/// `POST copy`: makes `name copy.ext` beside the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CopyFile {
    pub location: String,
}

/// `POST copy`'s answer: the copy's path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Copied {
    pub name: String,
}

/// `POST delete` and `POST compress`: names relative to `root`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileList {
    #[serde(default)]
    pub root: String,
    pub files: Vec<String>,
}

/// `POST chmod`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChmodFiles {
    #[serde(default)]
    pub root: String,
    pub files: Vec<ChmodFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChmodFile {
    pub file: String,
    /// Octal digits, e.g. `"755"`.
    pub mode: String,
}

/// `POST decompress`: unpacks `root/file` into `root`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decompress {
    #[serde(default)]
    pub root: String,
    pub file: String,
}

/// A signed URL's query: `GET /download/file?token=…`, `POST /upload/file?token=…&directory=…`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferQuery {
    pub token: String,
    #[serde(default)]
    pub directory: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_like_ls_and_round_trips_its_facts() {
        let entry = FileEntry::new(
            "server.properties".into(),
            42,
            EntryKind::File,
            0o644,
            86_400,
        );
        assert_eq!(entry.mode, "-rw-r--r--");
        assert_eq!(entry.mode_bits, "644");
        assert_eq!(entry.mime, "text/plain");
        assert_eq!(entry.modified, "1970-01-02T00:00:00Z");
        assert_eq!(entry.modified_unix(), 86_400);
        assert_eq!(entry.mode_value(), 0o644);
        let folder = FileEntry::new("world".into(), 0, EntryKind::Directory, 0o755, 0);
        assert_eq!(folder.mode, "drwxr-xr-x");
        assert!(folder.directory && !folder.file);
        assert_eq!(folder.mime, "inode/directory");
    }
}

/// One entry inside an archive: `GET …/files/archive/list?file=` answers a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    /// The path inside the archive, `/`-separated, folders without a trailing `/`.
    pub name: String,
    /// Uncompressed bytes (0 for folders and links).
    pub size: u64,
    pub directory: bool,
    pub symlink: bool,
    /// Seconds since the Unix epoch, when the archive records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<i64>,
}

/// `GET …/files/archive/contents?file=&entry=`: one entry's bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveEntryQuery {
    pub file: String,
    pub entry: String,
}

/// `POST …/files/archive/extract`: `entries` (files or folders; none: everything) of
/// archive `file` into folder `root`, each landing there under its own name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractEntries {
    pub file: String,
    #[serde(default)]
    pub entries: Vec<String>,
    #[serde(default)]
    pub root: String,
}

/// `GET …/files/checksum?file=&algorithm=`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChecksumQuery {
    pub file: String,
    /// `sha256`, `md5` or `crc32`.
    pub algorithm: String,
}

/// A file's checksum, lowercase hex.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: String,
    pub checksum: String,
}

/// `POST …/files/pull`: download `url` into folder `root` (Pterodactyl's body). The
/// name is `file_name`, else the one the server gives (`use_header`), else the URL's
/// last segment. wings answers at once and downloads in the background, recording
/// the outcome in the server's activity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullFile {
    pub url: String,
    #[serde(default)]
    pub root: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default)]
    pub use_header: bool,
    /// Answer only once the download finished (or failed).
    #[serde(default)]
    pub foreground: bool,
}
