//! The file manager's routes, on Pterodactyl's paths, verbs and shapes, so existing
//! API clients keep working. Each operation is a `node_files` call made as the
//! caller: the host checks their `file.*` permission and wings confines the path.

use hatchery_sdk::{Error, FileEntry, Request, Response, host};
use serde::{Deserialize, Serialize};

use crate::history::{self, Save};
use crate::{limits, no_content, paths, server};

/// Pterodactyl's `file_object`.
#[derive(Serialize)]
struct FileObject<'a> {
    object: &'static str,
    attributes: FileAttributes<'a>,
}

#[derive(Serialize)]
struct FileAttributes<'a> {
    name: &'a str,
    /// `-rw-r--r--`, `drwxr-xr-x`, `lrwxrwxrwx`.
    mode: String,
    /// `644`.
    mode_bits: String,
    size: u64,
    is_file: bool,
    is_symlink: bool,
    mimetype: &'a str,
    created_at: String,
    modified_at: String,
}

fn file_object(entry: &FileEntry) -> FileObject<'_> {
    let kind = if entry.symlink {
        'l'
    } else if entry.directory {
        'd'
    } else {
        '-'
    };
    let mut mode = String::with_capacity(10);
    mode.push(kind);
    for shift in [6, 3, 0] {
        let bits = (entry.mode >> shift) & 0o7;
        mode.push(if bits & 4 != 0 { 'r' } else { '-' });
        mode.push(if bits & 2 != 0 { 'w' } else { '-' });
        mode.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let modified = chrono::DateTime::from_timestamp(entry.modified, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    FileObject {
        object: "file_object",
        attributes: FileAttributes {
            name: &entry.name,
            mode,
            mode_bits: format!("{:o}", entry.mode & 0o777),
            size: entry.size,
            is_file: entry.file,
            is_symlink: entry.symlink,
            mimetype: &entry.mime,
            created_at: modified.clone(),
            modified_at: modified,
        },
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    directory: Option<String>,
    /// Without `per_page`, every entry (Pterodactyl's answer); with it, one page.
    #[serde(default)]
    per_page: Option<usize>,
    #[serde(default)]
    page: Option<usize>,
}

/// A folder's entries, folders first, then by name; all of them unless a page is asked.
pub fn list(request: &Request) -> Result<Response, Error> {
    let query: ListQuery = request.query_fields()?;
    let directory = paths::normal(query.directory.as_deref().unwrap_or("/"))?;
    let mut entries = host::files::list(server(request)?, &directory)?;
    entries.sort_by(|a, b| {
        b.directory
            .cmp(&a.directory)
            .then_with(|| a.name.cmp(&b.name))
    });
    let total = entries.len();
    let Some(per_page) = query.per_page else {
        let data = entries.iter().map(file_object).collect();
        return Ok(Response::json(&ListPage {
            object: "list",
            data,
            meta: None,
        }));
    };
    if !(1..=10_000).contains(&per_page) {
        return Err(Error::bad_request("per_page is 1 to 10000"));
    }
    let page = query.page.unwrap_or(1).max(1);
    let data: Vec<_> = entries
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(file_object)
        .collect();
    let meta = serde_json::json!({ "pagination": {
        "total": total,
        "count": data.len(),
        "per_page": per_page,
        "current_page": page,
        "total_pages": total.div_ceil(per_page),
    }});
    Ok(Response::json(&ListPage {
        object: "list",
        data,
        meta: Some(meta),
    }))
}

/// A listing, serialised as it is (20,000 entries are not built as a JSON tree first).
#[derive(Serialize)]
struct ListPage<'a> {
    object: &'static str,
    data: Vec<FileObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<serde_json::Value>,
}

/// The `?file=` a route is about, normalised.
pub fn file_query(request: &Request) -> Result<String, Error> {
    let file = request
        .query_value("file")
        .ok_or_else(|| Error::bad_request("name the file: ?file=<path>"))?;
    paths::normal(&file)
}

pub fn contents(request: &Request) -> Result<Response, Error> {
    let bytes = host::files::read(server(request)?, &file_query(request)?)?;
    Ok(Response {
        status: 200,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: bytes,
    })
}

/// Writes the body as the whole file. The save becomes a revision; the first save
/// of a file here also keeps the file as it was, so it can be had back.
pub fn write(request: &Request) -> Result<Response, Error> {
    let server = server(request)?;
    let path = file_query(request)?;
    let limits = limits()?;
    let principal = request.principal.as_ref();
    let keeping = history::keeps(&request.body, &limits);
    if keeping
        && request.can("file.read-content")
        && history::newest(server, &path)?.is_none()
        && let Ok(before) = host::files::read(server, &path)
    {
        remember(
            &Save {
                server,
                path: &path,
                content: &before,
                user_id: None,
                username: None,
                via: "original",
                restored_from: None,
            },
            &limits,
        );
    }
    host::files::write(server, &path, &request.body)?;
    if keeping {
        remember(
            &Save {
                server,
                path: &path,
                content: &request.body,
                user_id: principal.map(|caller| caller.user_id),
                username: principal.map(|caller| caller.username.as_str()),
                via: match request.credential() {
                    Some("session") => "web",
                    _ => "api",
                },
                restored_from: None,
            },
            &limits,
        );
    }
    Ok(no_content())
}

/// Keeps a revision of a save that already happened: failing to keep it must not turn
/// the save into an error, so it is logged.
fn remember(save: &Save<'_>, limits: &history::Limits) {
    if let Err(err) = history::record(save, limits) {
        host::log(
            hatchery_sdk::LogLevel::Warn,
            &format!(
                "the save of {} was not kept in its history: {err}",
                save.path
            ),
        );
    }
}

fn signed_url(url: hatchery_sdk::SignedUrl) -> Response {
    Response::json(&serde_json::json!({
        "object": "signed_url",
        "attributes": { "url": url.url },
    }))
}

pub fn download(request: &Request) -> Result<Response, Error> {
    let url = host::files::download_url(server(request)?, &file_query(request)?)?;
    Ok(signed_url(url))
}

pub fn upload(request: &Request) -> Result<Response, Error> {
    let directory = paths::normal(&request.query_value("directory").unwrap_or_default())?;
    let url = host::files::upload_url(server(request)?, &directory)?;
    Ok(signed_url(url))
}

fn root_default() -> String {
    "/".into()
}

#[derive(Deserialize)]
struct RenameBody {
    #[serde(default = "root_default")]
    root: String,
    files: Vec<Move>,
}

#[derive(Deserialize)]
struct Move {
    from: String,
    to: String,
}

/// Renames or moves each file in turn; the first that fails stops the rest, and
/// the answer says which.
pub fn rename(request: &Request) -> Result<Response, Error> {
    let server = server(request)?;
    let body: RenameBody = request.json()?;
    if body.files.is_empty() {
        return Err(Error::bad_request("name at least one file to rename"));
    }
    for item in &body.files {
        let from = paths::join(&body.root, &item.from)?;
        let to = paths::join(&body.root, &item.to)?;
        host::files::rename(server, &from, &to).map_err(|err| {
            let mut err = Error::from(err);
            err.message = format!("renaming {from} to {to}: {}", err.message);
            err
        })?;
        history::moved(server, &from, &to)?;
    }
    Ok(no_content())
}

#[derive(Deserialize)]
struct CopyBody {
    location: String,
}

pub fn copy(request: &Request) -> Result<Response, Error> {
    let body: CopyBody = request.json()?;
    host::files::copy(server(request)?, &paths::normal(&body.location)?)?;
    Ok(no_content())
}

#[derive(Deserialize)]
struct FilesBody {
    #[serde(default = "root_default")]
    root: String,
    files: Vec<String>,
}

impl FilesBody {
    fn paths(&self) -> Result<Vec<String>, Error> {
        if self.files.is_empty() {
            return Err(Error::bad_request("name at least one file"));
        }
        self.files
            .iter()
            .map(|name| paths::join(&self.root, name))
            .collect()
    }
}

/// Deletes many files and folders at once. Their history stays, so a deleted file
/// can be restored.
pub fn delete(request: &Request) -> Result<Response, Error> {
    let body: FilesBody = request.json()?;
    host::files::delete(server(request)?, &body.paths()?)?;
    Ok(no_content())
}

#[derive(Deserialize)]
struct FolderBody {
    #[serde(default = "root_default")]
    root: String,
    name: String,
}

pub fn create_folder(request: &Request) -> Result<Response, Error> {
    let body: FolderBody = request.json()?;
    host::files::mkdir(server(request)?, &paths::join(&body.root, &body.name)?)?;
    Ok(no_content())
}

#[derive(Deserialize)]
struct ChmodBody {
    #[serde(default = "root_default")]
    root: String,
    files: Vec<ModeChange>,
}

#[derive(Deserialize)]
struct ModeChange {
    file: String,
    /// Octal digits, as a number (`755`, Pterodactyl's form) or a string (`"0755"`).
    mode: serde_json::Value,
}

fn octal_mode(value: &serde_json::Value) -> Result<u32, Error> {
    let digits = match value {
        serde_json::Value::Number(number) => number.to_string(),
        serde_json::Value::String(text) => text.trim().to_string(),
        _ => String::new(),
    };
    u32::from_str_radix(&digits, 8)
        .ok()
        .filter(|mode| *mode <= 0o777)
        .ok_or_else(|| {
            Error::bad_request(format!(
                "mode `{value}` is not octal permission bits such as 644 or 755"
            ))
        })
}

pub fn chmod(request: &Request) -> Result<Response, Error> {
    let server = server(request)?;
    let body: ChmodBody = request.json()?;
    if body.files.is_empty() {
        return Err(Error::bad_request("name at least one file"));
    }
    let changes = body
        .files
        .iter()
        .map(|change| {
            Ok((
                paths::join(&body.root, &change.file)?,
                octal_mode(&change.mode)?,
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    for (path, mode) in changes {
        host::files::chmod(server, &path, mode)?;
    }
    Ok(no_content())
}

/// Packs files into a new `.tar.gz` beside them; answers with the archive.
pub fn compress(request: &Request) -> Result<Response, Error> {
    let body: FilesBody = request.json()?;
    let root = paths::normal(&body.root)?;
    if body.files.is_empty() {
        return Err(Error::bad_request("name at least one file to compress"));
    }
    let archive = host::files::compress(server(request)?, &root, &body.files)?;
    Ok(Response::json(&file_object(&archive)))
}

#[derive(Deserialize)]
struct DecompressBody {
    #[serde(default = "root_default")]
    root: String,
    file: String,
}

pub fn decompress(request: &Request) -> Result<Response, Error> {
    let body: DecompressBody = request.json()?;
    let root = paths::normal(&body.root)?;
    host::files::decompress(server(request)?, &root, &body.file)?;
    Ok(no_content())
}

#[derive(Deserialize)]
struct PullBody {
    url: String,
    #[serde(default = "root_default")]
    directory: String,
    #[serde(default)]
    filename: Option<String>,
}

/// Whether `host` is one the administrator lists: exact, `*.domain` for its
/// subdomains, or `*`.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        let pattern = pattern.trim().to_ascii_lowercase();
        pattern == "*"
            || pattern == host
            || pattern
                .strip_prefix("*.")
                .is_some_and(|domain| host.ends_with(&format!(".{domain}")))
    })
}

/// The host part of an http(s) URL.
fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next()?,
        None => host.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

/// Starts a download on the node, from a host the administrator allows (settings
/// `pull_hosts`); the node itself reaches only public addresses. Pterodactyl's body.
pub fn pull(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Settings {
        pull_hosts: Vec<String>,
    }
    let body: PullBody = request.json()?;
    let host = url_host(&body.url).ok_or_else(|| {
        Error::bad_request(format!("`{}` is not an http:// or https:// URL", body.url))
    })?;
    let settings: Settings = host::settings::get()?;
    if !host_allowed(host, &settings.pull_hosts) {
        return Err(Error::forbidden(format!(
            "files may not be pulled from {host}; an administrator lists the hosts allowed in the Files plugin's settings (pull_hosts)"
        )));
    }
    let directory = paths::normal(&body.directory)?;
    host::files::pull(
        server(request)?,
        &body.url,
        &directory,
        body.filename.as_deref(),
    )?;
    Ok(no_content())
}

/// A one-use URL that runs the search on the node and streams its hits; the query
/// (`name`, `glob`, `content`, `case_sensitive`, `min_size`, `max_size`,
/// `modified_after`, `modified_before`, `limit`) is carried into it.
pub fn search(request: &Request) -> Result<Response, Error> {
    let directory = paths::normal(&request.query_value("directory").unwrap_or_default())?;
    let signed = host::files::search_url(server(request)?, &directory)?;
    let carried: Vec<&str> = request
        .query
        .split('&')
        .filter(|pair| {
            !pair.is_empty() && !pair.starts_with("directory=") && !pair.starts_with("token=")
        })
        .collect();
    let url = match carried.is_empty() {
        true => signed.url,
        false => format!("{}&{}", signed.url, carried.join("&")),
    };
    Ok(Response::json(&serde_json::json!({
        "object": "signed_url",
        "attributes": { "url": url, "expires_at": signed.expires_at },
    })))
}

pub fn checksum(request: &Request) -> Result<Response, Error> {
    let algorithm = request
        .query_value("algorithm")
        .unwrap_or_else(|| "sha256".into());
    let checksum = host::files::checksum(server(request)?, &file_query(request)?, &algorithm)?;
    Ok(Response::json(&serde_json::json!({
        "object": "file_checksum",
        "attributes": { "algorithm": algorithm, "checksum": checksum },
    })))
}

/// An archive's entries, read on the node; nothing is extracted.
pub fn archive_list(request: &Request) -> Result<Response, Error> {
    let entries = host::files::archive_list(server(request)?, &file_query(request)?)?;
    let data: Vec<_> = entries
        .iter()
        .map(|entry| serde_json::json!({ "object": "archive_entry", "attributes": entry }))
        .collect();
    Ok(Response::json(
        &serde_json::json!({ "object": "list", "data": data }),
    ))
}

pub fn archive_contents(request: &Request) -> Result<Response, Error> {
    let entry = request
        .query_value("entry")
        .ok_or_else(|| Error::bad_request("name the entry: ?entry=<path inside the archive>"))?;
    let bytes = host::files::archive_read(server(request)?, &file_query(request)?, &entry)?;
    Ok(Response {
        status: 200,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: bytes,
    })
}

#[derive(Deserialize)]
struct ExtractBody {
    file: String,
    #[serde(default)]
    entries: Vec<String>,
    #[serde(default = "root_default")]
    root: String,
}

/// Extracts chosen entries (or all) of an archive into a folder; a hostile archive is
/// refused whole and nothing is written.
pub fn archive_extract(request: &Request) -> Result<Response, Error> {
    let body: ExtractBody = request.json()?;
    host::files::archive_extract(
        server(request)?,
        &paths::normal(&body.file)?,
        &body.entries,
        &paths::normal(&body.root)?,
    )?;
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulls_reach_only_hosts_the_administrator_lists() {
        let allowed = ["example.com".to_string(), "*.modrinth.com".to_string()];
        assert!(host_allowed("example.com", &allowed));
        assert!(host_allowed("cdn.modrinth.com", &allowed));
        assert!(!host_allowed("modrinth.com.evil.net", &allowed));
        assert!(!host_allowed("notexample.com", &allowed));
        assert!(host_allowed("anything.net", &["*".to_string()]));
        assert_eq!(
            url_host("https://user@cdn.example.com:8443/a?b"),
            Some("cdn.example.com")
        );
        assert_eq!(url_host("http://[::1]:80/"), Some("::1"));
        assert_eq!(url_host("ftp://example.com/x"), None);
    }

    #[test]
    fn modes_read_as_pterodactyl_sends_them() {
        assert_eq!(octal_mode(&serde_json::json!(755)).unwrap(), 0o755);
        assert_eq!(octal_mode(&serde_json::json!("0644")).unwrap(), 0o644);
        for bad in [
            serde_json::json!(999),
            serde_json::json!("4755"),
            serde_json::json!(true),
        ] {
            assert!(octal_mode(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entries_read_like_ls() {
        let entry = FileEntry {
            name: "run.sh".into(),
            size: 10,
            directory: false,
            file: true,
            symlink: false,
            mode: 0o754,
            modified: 0,
            mime: "text/x-shellscript".into(),
        };
        let object = file_object(&entry);
        assert_eq!(object.attributes.mode, "-rwxr-xr--");
        assert_eq!(object.attributes.mode_bits, "754");
        assert_eq!(object.attributes.modified_at, "1970-01-01T00:00:00Z");
    }
}
