//! The file manager's API on a server's directory. Every path is confined by
//! [`crate::files::ServerFiles`]; file work runs on the blocking pool.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use hatchery_protocol::files::{
    ArchiveEntry, ArchiveEntryQuery, Checksum, ChecksumQuery, ChmodFiles, Copied, CopyFile,
    CreateDirectory, Decompress, DirectoryQuery, EntryKind, ExtractEntries, FileEntry, FileList,
    FileQuery, PullFile, RenameFiles, WriteQuery,
};

use super::{ApiError, ApiResult, App};
use crate::error::Error;
use crate::executor::Executor;
use crate::files::{Entry, ServerFiles};

/// The largest file the editor reads in one request; bigger files are downloaded or
/// read in parts (`offset` and `length`).
pub const MAX_READ_BYTES: u64 = 32 * 1024 * 1024;

pub fn routes<E: Executor>() -> Router<App<E>> {
    Router::new()
        .route("/api/servers/{uuid}/files/list-directory", get(list::<E>))
        .route("/api/servers/{uuid}/files/stat", get(stat_file::<E>))
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
        .route(
            "/api/servers/{uuid}/files/archive/list",
            get(archive_list::<E>),
        )
        .route(
            "/api/servers/{uuid}/files/archive/contents",
            get(archive_contents::<E>),
        )
        .route(
            "/api/servers/{uuid}/files/archive/extract",
            post(archive_extract::<E>),
        )
        .route("/api/servers/{uuid}/files/checksum", get(checksum::<E>))
        .route("/api/servers/{uuid}/files/pull", post(pull::<E>))
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
pub(super) fn stat(entry: &Entry) -> FileEntry {
    let kind = if entry.directory {
        EntryKind::Directory
    } else if entry.symlink {
        EntryKind::Symlink
    } else if entry.file {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    FileEntry::new(
        entry.name.clone(),
        entry.size,
        kind,
        entry.mode,
        entry.modified as i64,
    )
}

async fn list<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<DirectoryQuery>,
) -> ApiResult<Json<Vec<FileEntry>>> {
    let entries = with_files(&manager, &uuid, move |files| files.list(&query.directory)).await?;
    Ok(Json(entries.iter().map(stat).collect()))
}

/// One entry, without following a final link (Hatchery's addition).
async fn stat_file<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<FileQuery>,
) -> ApiResult<Json<FileEntry>> {
    let entry = with_files(&manager, &uuid, move |files| {
        files.entry(&query.file, false)
    })
    .await?;
    Ok(Json(stat(&entry)))
}

async fn contents<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<FileQuery>,
) -> ApiResult<Response> {
    let file = query.file.clone();
    let (offset, length) = (query.offset, query.length);
    let bytes = with_files(&manager, &uuid, move |files| match (offset, length) {
        (None, None) => files.read(&file, MAX_READ_BYTES),
        (offset, length) => files.read_range(
            &file,
            offset.unwrap_or(0),
            length.unwrap_or(MAX_READ_BYTES).min(MAX_READ_BYTES),
        ),
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

/// Streams the body into the file; the old file stays until every byte has arrived
/// within the node's upload limit and the server's quota.
async fn write<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<WriteQuery>,
    body: Body,
) -> ApiResult<StatusCode> {
    let files = manager.server(&uuid)?.files()?;
    files.check_write_only(&query.file, query.only)?;
    let limit_mb = manager.config.api.upload_limit;
    super::transfers::stream_into_file(files, &query.file, body.into_data_stream(), limit_mb)
        .await?;
    Ok(StatusCode::NO_CONTENT)
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

async fn copy<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<CopyFile>,
) -> ApiResult<Json<Copied>> {
    let name = with_files(&manager, &uuid, move |files| files.copy(&body.location)).await?;
    Ok(Json(Copied { name }))
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
) -> ApiResult<Json<FileEntry>> {
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

/// An archive's entries, read without extracting anything (Hatchery's addition).
async fn archive_list<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<FileQuery>,
) -> ApiResult<Json<Vec<ArchiveEntry>>> {
    let entries = with_files(&manager, &uuid, move |files| {
        files.archive_entries(&query.file)
    })
    .await?;
    Ok(Json(entries))
}

/// One file inside an archive, up to the editor's read limit (Hatchery's addition).
async fn archive_contents<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<ArchiveEntryQuery>,
) -> ApiResult<Response> {
    let bytes = with_files(&manager, &uuid, move |files| {
        files.archive_entry(&query.file, &query.entry, MAX_READ_BYTES)
    })
    .await?;
    let mut response = Body::from(bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

/// Some entries of an archive (or all) into a folder (Hatchery's addition).
async fn archive_extract<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<ExtractEntries>,
) -> ApiResult<StatusCode> {
    with_files(&manager, &uuid, move |files| {
        files.extract(&body.root, &body.file, &body.entries)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A file's sha256, md5 or crc32 (Hatchery's addition).
async fn checksum<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<ChecksumQuery>,
) -> ApiResult<Json<Checksum>> {
    let algorithm = query.algorithm.clone();
    let checksum = with_files(&manager, &uuid, move |files| {
        files.checksum(&query.file, &query.algorithm)
    })
    .await?;
    Ok(Json(Checksum {
        algorithm,
        checksum,
    }))
}

/// Downloads a URL into the server's directory. In the background unless
/// `foreground`; either way the outcome is recorded in the server's activity
/// (`server:file.pull`, or `server:file.pull-failed` with the reason).
async fn pull<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<PullFile>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    if manager.config.api.disable_remote_download {
        return Err(ApiError(Error::Forbidden(
            "this node does not pull files from URLs (api.disable_remote_download)".into(),
        )));
    }
    let files = manager.server(&uuid)?.files()?;
    let policy = crate::files::pull::PullPolicy {
        private_networks: manager.config.api.remote_download_private_networks,
        max_bytes: manager.config.api.upload_limit.saturating_mul(1024 * 1024),
    };
    let foreground = body.foreground;
    let recorder = manager.clone();
    let work = tokio::task::spawn_blocking(move || {
        let pulled = files.pull(
            &body.url,
            &body.root,
            body.file_name.as_deref(),
            body.use_header,
            &policy,
        );
        let (event, metadata) = match &pulled {
            Ok(path) => (
                "server:file.pull",
                serde_json::json!({ "url": body.url, "file": path, "files": [path] }),
            ),
            Err(err) => (
                "server:file.pull-failed",
                serde_json::json!({ "url": body.url, "error": err.to_string() }),
            ),
        };
        recorder.record_activity(&uuid, None, event, metadata, "");
        pulled
    });
    if !foreground {
        return Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "started": true })),
        ));
    }
    let path = work.await.map_err(|err| {
        ApiError(Error::Io {
            context: "pull".into(),
            source: std::io::Error::other(err.to_string()),
        })
    })??;
    Ok((StatusCode::OK, Json(serde_json::json!({ "file": path }))))
}
