//! File search, streamed: one JSON object per line for each hit as the walk finds it,
//! then a summary line (`{"done": …, "scanned", "hits", "truncated", "elapsed_ms"}`,
//! or `{"error": "…"}`). The panel asks at `GET /api/servers/{uuid}/files/search`
//! with the node token; a browser at `GET /search/files?token=…` with a one-use token
//! the panel signed for one folder, searching inside files only when it says so.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{ApiError, ApiResult, App};
use crate::error::Error;
use crate::executor::Executor;
use crate::files::ServerFiles;
use crate::files::search::SearchQuery;
use crate::manager::now;
use crate::token::{self, SearchClaims};

/// The panel's route (behind the node token).
pub fn panel_routes<E: Executor>() -> Router<App<E>> {
    Router::new().route("/api/servers/{uuid}/files/search", get(by_panel::<E>))
}

/// The browser's route (a signed token).
pub fn signed_routes<E: Executor>() -> Router<App<E>> {
    Router::new().route("/search/files", get(by_token::<E>))
}

#[derive(Deserialize)]
struct PanelSearch {
    #[serde(default)]
    directory: String,
    #[serde(flatten)]
    query: SearchQuery,
}

#[derive(Deserialize)]
struct SignedSearch {
    token: String,
    #[serde(flatten)]
    query: SearchQuery,
}

async fn by_panel<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(search): Query<PanelSearch>,
) -> ApiResult<Response> {
    let files = manager.server(&uuid)?.files()?;
    Ok(stream(files, search.directory, search.query, true))
}

async fn by_token<E: Executor>(
    State(manager): State<App<E>>,
    Query(search): Query<SignedSearch>,
) -> ApiResult<Response> {
    let claims: SearchClaims =
        token::verify_any_server(&search.token, &manager.config.token, now()).map_err(|err| {
            ApiError(Error::Forbidden(format!(
                "this search link does not work: {err}"
            )))
        })?;
    if !manager.use_transfer_token(&claims.search_id, claims.exp) {
        return Err(ApiError(Error::Forbidden(
            "this search link was already used; ask the panel for a new one".into(),
        )));
    }
    let files = manager.server(&claims.server_uuid)?.files()?;
    Ok(stream(
        files,
        claims.directory,
        search.query,
        claims.contents,
    ))
}

/// Runs the search on the blocking pool and streams its lines; a client that goes
/// away stops the walk.
fn stream(files: ServerFiles, directory: String, query: SearchQuery, contents: bool) -> Response {
    let (lines, mut receiver) = mpsc::channel::<Bytes>(64);
    tokio::task::spawn_blocking(move || {
        let result = files.search(&directory, &query, contents, &mut |hit| {
            lines.blocking_send(line(&hit)).is_ok()
        });
        let last = match result {
            Ok(summary) => line(&summary),
            Err(err) => line(&serde_json::json!({ "error": err.to_string() })),
        };
        let _ = lines.blocking_send(last);
    });
    let body = futures_util::stream::poll_fn(move |context| {
        receiver
            .poll_recv(context)
            .map(|line| line.map(Ok::<_, std::convert::Infallible>))
    });
    let mut response = Body::from_stream(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

/// One line of the stream.
fn line<T: serde::Serialize>(value: &T) -> Bytes {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}
