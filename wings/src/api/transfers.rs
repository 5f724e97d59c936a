//! Signed URLs: `GET /download/file?token=…` and `POST /upload/file?token=…`, so a
//! browser moves files straight to and from wings. The panel signs each token with the
//! node token for one server (and one file, for downloads); each works once.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{ApiError, ApiResult, App};
use crate::error::Error;
use crate::executor::Executor;
use crate::files::ServerFiles;
use crate::manager::now;
use crate::token::{self, TransferClaims};
use hatchery_protocol::files::TransferQuery;

pub fn routes<E: Executor>() -> Router<App<E>> {
    Router::new()
        .route("/download/file", get(download::<E>))
        .route(
            "/upload/file",
            post(upload::<E>).layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// Checks a signed URL's token and spends it.
fn redeem<E: Executor>(manager: &App<E>, token: &str) -> ApiResult<TransferClaims> {
    let claims: TransferClaims = token::verify_any_server(token, &manager.config.token, now())
        .map_err(|err| ApiError(Error::Forbidden(format!("this link does not work: {err}"))))?;
    if !manager.use_transfer_token(&claims.unique_id, claims.exp) {
        return Err(ApiError(Error::Forbidden(
            "this link was already used; ask the panel for a new one".into(),
        )));
    }
    Ok(claims)
}

/// `Content-Disposition: attachment` with the file's own name.
pub(super) fn attachment(path: &str) -> HeaderValue {
    let name = path.rsplit('/').next().unwrap_or("download");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn download<E: Executor>(
    State(manager): State<App<E>>,
    Query(query): Query<TransferQuery>,
) -> ApiResult<Response> {
    let claims = redeem(&manager, &query.token)?;
    let path = claims
        .file_path
        .ok_or_else(|| ApiError(Error::Forbidden("this token is not for a download".into())))?;
    let files = manager.server(&claims.server_uuid)?.files()?;
    let opened_path = path.clone();
    let (file, size) = tokio::task::spawn_blocking(move || files.open_read(&opened_path))
        .await
        .map_err(|err| {
            ApiError(Error::Io {
                context: "download".into(),
                source: std::io::Error::other(err.to_string()),
            })
        })??;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(header::CONTENT_DISPOSITION, attachment(&path));
    Ok(response)
}

/// Streams each uploaded file into the server's directory as it arrives; a file only
/// replaces an old one once it is complete and within the quota and upload limit.
async fn upload<E: Executor>(
    State(manager): State<App<E>>,
    Query(query): Query<TransferQuery>,
    mut multipart: Multipart,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let claims = redeem(&manager, &query.token)?;
    let server = manager.server(&claims.server_uuid)?;
    let mut uploaded = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|err| ApiError::bad_request(format!("the upload is not valid multipart: {err}")))?
    {
        let Some(name) = field.file_name().map(str::to_string) else {
            continue;
        };
        let name = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_string();
        if name.is_empty() || name == "." || name == ".." {
            return Err(ApiError::bad_request("an uploaded file has no usable name"));
        }
        let path = format!("{}/{name}", query.directory);
        let files = server.files()?;
        stream_into_file(files, &path, field, manager.config.api.upload_limit).await?;
        manager.record_activity(
            &claims.server_uuid,
            Some(&claims.user_uuid)
                .filter(|u| !u.is_empty())
                .map(String::as_str),
            "server:file.uploaded",
            json!({ "directory": query.directory, "file": name }),
            "",
        );
        uploaded.push(path);
    }
    if uploaded.is_empty() {
        return Err(ApiError::bad_request(
            "the upload holds no file: send the files as multipart form fields",
        ));
    }
    Ok((StatusCode::OK, Json(json!({ "uploaded": uploaded }))))
}

/// Streams `chunks` into a server file, atomically: a file only replaces an old one
/// once every byte has arrived within `limit_mb` and the server's quota; a transfer that
/// breaks off or runs over writes nothing.
pub(super) async fn stream_into_file<S, E>(
    files: ServerFiles,
    path: &str,
    mut chunks: S,
    limit_mb: u64,
) -> ApiResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let limit = limit_mb * 1024 * 1024;
    let (sender, receiver) = mpsc::channel::<Vec<u8>>(8);
    let target = path.to_string();
    let writer = tokio::task::spawn_blocking(move || {
        files.write_from(&target, ChannelReader::new(receiver, limit))
    });
    let mut sent = 0u64;
    let mut failed = None;
    let mut refused = false;
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(chunk) => {
                sent += chunk.len() as u64;
                if sender.send(chunk.to_vec()).await.is_err() || sent > limit {
                    refused = true;
                    break; // a stopped writer's error says why
                }
            }
            Err(err) => {
                failed = Some(err.to_string());
                break;
            }
        }
    }
    if refused {
        drain(&mut chunks, limit).await;
    }
    if failed.is_some() || sent > limit {
        // An empty chunk makes the writer discard the file.
        let _ = sender.send(Vec::new()).await;
    }
    drop(sender);
    let written = writer.await.map_err(|err| {
        ApiError(Error::Io {
            context: "writing a file".into(),
            source: std::io::Error::other(err.to_string()),
        })
    })?;
    if sent > limit {
        return Err(ApiError(Error::BadRequest(format!(
            "`{path}` is larger than this node's {limit_mb} MiB upload limit; nothing was written"
        ))));
    }
    if let Some(err) = failed {
        return Err(ApiError::bad_request(format!(
            "the transfer of `{path}` broke off ({err}); nothing was written"
        )));
    }
    Ok(written?)
}

/// Reads and drops what is left of a refused body (up to `limit` bytes, for at most ten
/// seconds), so the client, still sending, gets to read why instead of a broken pipe.
async fn drain<S, E>(chunks: &mut S, limit: u64)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut left = limit;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = chunks.next().await {
            left = left.saturating_sub(chunk.len() as u64);
            if left == 0 {
                break;
            }
        }
    })
    .await;
}

/// A blocking reader over chunks sent from the async side. An empty chunk means the
/// upload broke off: the reader then fails, so the partial file is discarded.
struct ChannelReader {
    receiver: mpsc::Receiver<Vec<u8>>,
    current: std::io::Cursor<Vec<u8>>,
    remaining: u64,
}

impl ChannelReader {
    fn new(receiver: mpsc::Receiver<Vec<u8>>, limit: u64) -> ChannelReader {
        ChannelReader {
            receiver,
            current: std::io::Cursor::new(Vec::new()),
            remaining: limit,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let read = self.current.read(buffer)?;
            if read > 0 {
                return Ok(read);
            }
            match self.receiver.blocking_recv() {
                None => return Ok(0),
                Some(chunk) if chunk.is_empty() => {
                    return Err(std::io::Error::other("the upload broke off"));
                }
                Some(chunk) => {
                    if chunk.len() as u64 > self.remaining {
                        return Err(std::io::Error::other("the upload limit was exceeded"));
                    }
                    self.remaining -= chunk.len() as u64;
                    self.current = std::io::Cursor::new(chunk);
                }
            }
        }
    }
}
