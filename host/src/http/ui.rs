//! UI slots: which contributions exist, and their ES modules.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::auth::MaybeCaller;
use crate::error::{Error, Result};

/// `GET /api/ui/contributions`: every enabled plugin's contributions the caller may see.
pub async fn contributions(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Json<Value>> {
    let principal = caller.map(|caller| caller.principal);
    Ok(Json(
        json!({ "contributions": state.plugins.ui_contributions(principal.as_ref()) }),
    ))
}

/// `GET /plugin-assets/{id}/{path}`: a contributed module, served as JavaScript.
pub async fn asset(
    State(state): State<AppState>,
    Path((id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let registry = state.plugins.registry();
    let asset = registry
        .enabled(&id)
        .and_then(|plugin| plugin.ui_asset(&path))
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("plugin {id} has no UI module {path}")))?;
    let etag = format!("\"{}\"", asset.integrity);
    let cache_headers = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        // Sandboxed plugin frames have an opaque origin; modules are public code.
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_string()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok((axum::http::StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/javascript; charset=utf-8".to_string(),
        )],
        cache_headers,
        [("x-integrity", asset.integrity.clone())],
        asset.bytes.to_vec(),
    )
        .into_response())
}
