//! `/api/plugins/{id}/…`: one catch-all that reads the current registry, so enabling
//! or disabling a plugin never rebuilds the router.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use hatchery_sdk::Request;

use super::{AppState, auth};
use crate::error::{Error, Result};
use crate::plugins::RouteMatch;
use crate::policy;

/// Request headers a plugin never sees: credentials stay with the host.
const WITHHELD_REQUEST_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization"];
/// Response headers a plugin may not set.
const REFUSED_RESPONSE_HEADERS: &[&str] = &[
    "set-cookie",
    "connection",
    "transfer-encoding",
    "content-length",
    "keep-alive",
    "upgrade",
    "strict-transport-security",
    "content-security-policy",
    "x-content-type-options",
];

pub async fn dispatch_root(
    state: State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    handle(state, id, "/".into(), method, uri, headers, body).await
}

pub async fn dispatch(
    state: State<AppState>,
    Path((id, path)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    handle(state, id, format!("/{path}"), method, uri, headers, body).await
}

async fn handle(
    State(state): State<AppState>,
    id: String,
    path: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let registry = state.plugins.registry();
    let Some(plugin) = registry.enabled(&id).cloned() else {
        return Err(state.plugins.unavailable(&id));
    };
    drop(registry);
    let (route, params) = match plugin.match_route(method.as_str(), &path) {
        RouteMatch::Found { route, params } => (route.clone(), params),
        RouteMatch::WrongMethod => {
            return Err(Error::MethodNotAllowed(format!(
                "{method} is not allowed on this route"
            )));
        }
        RouteMatch::NotFound => {
            return Err(Error::NotFound(format!("plugin {id} has no route {path}")));
        }
    };

    let principal = auth::principal(&state, &method, &headers).await?;
    policy::authorize(principal.as_ref(), route.auth, route.permission.as_deref())?;

    let request = Request {
        method: method.to_string(),
        route: route.path.clone(),
        path,
        query: uri.query().unwrap_or_default().to_string(),
        params,
        headers: headers
            .iter()
            .filter(|(name, _)| !WITHHELD_REQUEST_HEADERS.contains(&name.as_str()))
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
        principal,
    };
    let span = tracing::info_span!("plugin_call", plugin = %id, route = %route.path);
    let response =
        tracing::Instrument::instrument(plugin.code.handle_request(request), span).await?;
    into_http(&id, response)
}

fn into_http(id: &str, response: hatchery_sdk::Response) -> Result<Response> {
    let status = StatusCode::from_u16(response.status)
        .ok()
        .filter(|status| !status.is_informational())
        .ok_or_else(|| {
            Error::PluginCall(format!(
                "plugin {id} answered with invalid status {}",
                response.status
            ))
        })?;
    // Whatever a plugin answers is inert on the panel's origin: a plugin that returns
    // HTML gets an opaque, script-less document, so it cannot act as the signed-in user.
    let mut builder = Response::builder()
        .status(status)
        .header("content-security-policy", "sandbox; default-src 'none'")
        .header("x-content-type-options", "nosniff");
    for (name, value) in response.headers {
        let lower = name.to_ascii_lowercase();
        if REFUSED_RESPONSE_HEADERS.contains(&lower.as_str()) {
            tracing::debug!(plugin = id, header = %lower, "dropped a response header plugins may not set");
            continue;
        }
        match (HeaderName::try_from(lower), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => builder = builder.header(name, value),
            _ => tracing::warn!(plugin = id, "dropped a malformed response header"),
        }
    }
    builder
        .body(Body::from(response.body))
        .map_err(|err| Error::PluginCall(format!("plugin {id} gave an unusable response: {err}")))
}
