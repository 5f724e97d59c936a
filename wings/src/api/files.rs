//! The file manager's API on a server's directory. Every path is confined by
//! [`crate::files::ServerFiles`]; file work runs on the blocking pool.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, App};
use crate::error::Error;
use crate::executor::Executor;
use crate::files::{Entry, ServerFiles, WriteOnly};

/// The largest file the editor reads in one request; bigger files are downloaded.
pub const MAX_READ_BYTES: u64 = 32 * 1024 * 1024;

pub fn routes<E: Executor>() -> Router<App<E>> {
    Router::new()
        .route("/api/servers/{uuid}/files/list-directory", get(list::<E>))
        .route("/api/servers/{uuid}/files/contents", get(contents::<E>))
        .route("/api/servers/{uuid}/files/write", post(write::<E>))
        .route(
            "/api/servers/{uuid}/files/create-directory",
            post(create_directory::<E>),
        )
        .route("/api/servers/{uuid}/files/rename", put(rename::<E>))
        .route("/api/servers/{uuid}/files/copy", post(copy::<E>))
        .route("/api/servers/{uuid}/files/delete", post(delete::<E>))
        .route("/api/servers/{uuid}/files/chmod", post(chmod::<E>))
        .route("/api/servers/{uuid}/files/compress", post(compress::<E>))
        .route(
            "/api/servers/{uuid}/files/decompress",
            post(decompress::<E>),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Runs file work for a server on the blocking pool.
async fn with_files<E: Executor, T: Send + 'static>(
    manager: &App<E>,
    uuid: &str,
    work: impl FnOnce(ServerFiles) -> crate::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let files = manager.server(uuid)?.files()?;
    tokio::task::spawn_blocking(move || work(files))
        .await
        .map_err(|err| {
            ApiError(Error::Io {
                context: "file operation".into(),
                source: std::io::Error::other(err.to_string()),
            })
        })?
        .map_err(ApiError::from)
}

/// An entry in Pterodactyl's shape.
pub(super) fn stat(entry: &Entry) -> Value {
    let modified = chrono::DateTime::from_timestamp(entry.modified as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "name": entry.name,
        "created": modified,
        "modified": modified,
        "mode": mode_string(entry),
        "mode_bits": format!("{:o}", entry.mode & 0o777),
        "size": entry.size,
        "directory": entry.directory,
        "file": entry.file,
        "symlink": entry.symlink,
        "mime": mime(entry),
    })
}

/// `drwxr-xr-x`, as `ls -l` shows it.
fn mode_string(entry: &Entry) -> String {
    let kind = if entry.directory {
        'd'
    } else if entry.symlink {
        'l'
    } else {
        '-'
    };
    let mut text = String::from(kind);
    for shift in [6, 3, 0] {
        let bits = (entry.mode >> shift) & 0o7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    text
}

/// A MIME type from the name, enough for the file manager to pick an editor or icon.
fn mime(entry: &Entry) -> &'static str {
    if entry.directory {
        return "inode/directory";
    }
    if entry.symlink {
        return "inode/symlink";
    }
    let extension = entry
        .name
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

#[derive(Deserialize)]
struct DirectoryQuery {
    #[serde(default)]
    directory: String,
}

async fn list<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<DirectoryQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let entries = with_files(&manager, &uuid, move |files| files.list(&query.directory)).await?;
    Ok(Json(entries.iter().map(stat).collect()))
}

#[derive(Deserialize)]
struct FileQuery {
    file: String,
    #[serde(default)]
    download: bool,
}

async fn contents<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<FileQuery>,
) -> ApiResult<Response> {
    let file = query.file.clone();
    let bytes = with_files(&manager, &uuid, move |files| {
        files.read(&file, MAX_READ_BYTES)
    })
    .await?;
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if query.download {
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            super::transfers::attachment(&query.file),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
struct WriteQuery {
    file: String,
    /// Hatchery's panel says which kind of write the caller may make: `new` (they
    /// hold `file.create` only) or `existing` (`file.update` only). Absent: either.
    #[serde(default)]
    only: Option<WriteOnly>,
}

async fn write<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<WriteQuery>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let limit = manager.config.api.upload_limit * 1024 * 1024;
    if body.len() as u64 > limit {
        return Err(ApiError(Error::BadRequest(format!(
            "the file is larger than this node's {} MiB upload limit",
            manager.config.api.upload_limit
        ))));
    }
    with_files(&manager, &uuid, move |files| {
        files.write_only(&query.file, &body, query.only)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct CreateDirectory {
    name: String,
    #[serde(default)]
    path: String,
}

async fn create_directory<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<CreateDirectory>,
) -> ApiResult<StatusCode> {
    with_files(&manager, &uuid, move |files| {
        files.create_dir(&format!("{}/{}", body.path, body.name))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RenameFiles {
    #[serde(default)]
    root: String,
    files: Vec<RenameFile>,
}

#[derive(Deserialize)]
struct RenameFile {
    from: String,
    to: String,
}

async fn rename<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<RenameFiles>,
) -> ApiResult<StatusCode> {
    if body.files.is_empty() {
        return Err(ApiError::bad_request("name at least one file to rename"));
    }
    with_files(&manager, &uuid, move |files| {
        for file in &body.files {
            files.rename(
                &format!("{}/{}", body.root, file.from),
                &format!("{}/{}", body.root, file.to),
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct CopyFile {
    location: String,
}

async fn copy<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<CopyFile>,
) -> ApiResult<Json<Value>> {
    let copied = with_files(&manager, &uuid, move |files| files.copy(&body.location)).await?;
    Ok(Json(json!({ "name": copied })))
}

#[derive(Deserialize)]
struct FileList {
    #[serde(default)]
    root: String,
    files: Vec<String>,
}

async fn delete<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<FileList>,
) -> ApiResult<StatusCode> {
    if body.files.is_empty() {
        return Err(ApiError::bad_request("name at least one file to delete"));
    }
    with_files(&manager, &uuid, move |files| {
        for file in &body.files {
            files.delete(&format!("{}/{file}", body.root))?;
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ChmodFiles {
    #[serde(default)]
    root: String,
    files: Vec<ChmodFile>,
}

#[derive(Deserialize)]
struct ChmodFile {
    file: String,
    /// Octal digits, e.g. `"755"`.
    mode: String,
}

async fn chmod<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<ChmodFiles>,
) -> ApiResult<StatusCode> {
    let mut changes = Vec::new();
    for file in body.files {
        let mode = u32::from_str_radix(&file.mode, 8).map_err(|_| {
            ApiError::bad_request(format!("`{}` is not an octal mode like 644", file.mode))
        })?;
        changes.push((format!("{}/{}", body.root, file.file), mode));
    }
    with_files(&manager, &uuid, move |files| {
        for (path, mode) in &changes {
            files.chmod(path, *mode)?;
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn compress<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<FileList>,
) -> ApiResult<Json<Value>> {
    if body.files.is_empty() {
        return Err(ApiError::bad_request("name at least one file to compress"));
    }
    let root = body.root.clone();
    let entry = with_files(&manager, &uuid, move |files| {
        let archive = files.compress(&body.root, &body.files)?;
        let name = archive.rsplit('/').next().unwrap_or(&archive).to_string();
        files
            .list(&root)?
            .into_iter()
            .find(|entry| entry.name == name)
            .ok_or_else(|| Error::NotFound(format!("the archive `{archive}` vanished")))
    })
    .await?;
    Ok(Json(stat(&entry)))
}

#[derive(Deserialize)]
struct Decompress {
    #[serde(default)]
    root: String,
    file: String,
}

async fn decompress<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<Decompress>,
) -> ApiResult<StatusCode> {
    with_files(&manager, &uuid, move |files| {
        files.decompress(&body.root, &format!("{}/{}", body.root, body.file))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
