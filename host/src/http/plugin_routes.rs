//! `/api/plugins/{id}/…`: one catch-all that reads the current registry, so enabling
//! or disabling a plugin never rebuilds the router.

use axum::body::{Body, Bytes};
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use hatchery_sdk::Request;

use super::{AppState, auth, plugin_cookies};
use crate::db::sessions;
use crate::error::{Error, Result};
use crate::plugins::manifest::RouteScope;
use crate::plugins::{MountedRoute, RouteMatch};
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
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let incoming = Incoming {
        peer,
        method,
        uri,
        headers,
        body,
    };
    handle(state, id, "/".into(), incoming).await
}

pub async fn dispatch(
    state: State<AppState>,
    Path((id, path)): Path<(String, String)>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let incoming = Incoming {
        peer,
        method,
        uri,
        headers,
        body,
    };
    handle(state, id, format!("/{path}"), incoming).await
}

/// A request as it arrived, before any plugin is chosen.
struct Incoming {
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

async fn handle(
    State(state): State<AppState>,
    id: String,
    path: String,
    Incoming {
        peer,
        method,
        uri,
        headers,
        body,
    }: Incoming,
) -> Result<Response> {
    let registry = state.plugins.registry();
    let Some(plugin) = registry.enabled(&id).cloned() else {
        return Err(state.plugins.unavailable(&id));
    };
    drop(registry);
    let (route, params) = match plugin.match_route(RouteScope::Plugin, method.as_str(), &path) {
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

    let client_ip = auth::client_ip(&state, peer.as_ref().map(|Extension(peer)| peer), &headers);
    let (principal, credential) =
        match auth::principal(&state, &method, &headers, client_ip.as_deref()).await? {
            Some((principal, session_id)) => (Some(principal), Some(Credential::of(session_id))),
            None => (None, None),
        };
    policy::authorize(principal.as_ref(), route.auth, route.permission.as_deref())?;
    let call = PluginCall {
        route: &route,
        path,
        params,
        method: &method,
        uri: &uri,
        headers: &headers,
        body,
        principal,
        credential,
        server_context: None,
        session_id: None,
        client_ip,
        panel_url: &state.config.public_url,
    };
    let response = call_plugin(&id, &plugin, call).await?;
    into_http(&id, response, Vec::new())
}

/// The header the panel page sets on calls it makes for a sandboxed plugin frame.
pub const PLUGIN_CALL_HEADER: &str = "x-hatchery-plugin";

/// A call the panel page makes for a plugin's frame reaches only that plugin's own
/// routes; anything else (a core route, another plugin's) is refused here, whatever
/// the page's own checks let through.
pub async fn only_own_routes(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<Response> {
    let Some(plugin) = request.headers().get(PLUGIN_CALL_HEADER) else {
        return Ok(next.run(request).await);
    };
    let plugin = plugin.to_str().unwrap_or_default().to_string();
    let path = request.uri().path();
    let own = match path.strip_prefix("/api/plugins/") {
        Some(rest) => rest.split('/').next() == Some(plugin.as_str()),
        None => {
            let scoped = [
                ("/api/client/servers/", RouteScope::Server),
                ("/api/admin/", RouteScope::Admin),
                ("/api/client/account/", RouteScope::Account),
            ]
            .into_iter()
            .find_map(|(prefix, scope)| path.strip_prefix(prefix).map(|rest| (scope, rest)));
            match scoped {
                Some((scope, rest)) => {
                    let rest = match scope {
                        RouteScope::Server => rest.split_once('/').map_or("", |(_, rest)| rest),
                        _ => rest,
                    };
                    match state.plugins.registry().mounted_route(
                        scope,
                        request.method().as_str(),
                        &format!("/{rest}"),
                    ) {
                        MountedRoute::Found { plugin: found, .. } => found.manifest.id == plugin,
                        _ => false,
                    }
                }
                None => false,
            }
        }
    };
    if !own {
        return Err(Error::Forbidden(format!(
            "plugin {plugin}'s page may call only its own routes"
        )));
    }
    Ok(next.run(request).await)
}

/// The web panel: one of its built files, the sandboxed plugin frame, or the app's
/// page (with the nodes' console origins and the plugins' modules in it).
async fn app_page(state: &AppState, path: &str, headers: &HeaderMap) -> Result<Response> {
    if let Some(asset) = super::web::asset(path) {
        return Ok(asset);
    }
    if path == "/plugin-frame" {
        return Ok(super::web::frame_page(&panel_origin(state, headers)));
    }
    let origins = crate::db::nodes::list(&state.db)
        .await?
        .iter()
        .flat_map(|node| {
            [node.scheme.websocket(), node.scheme.as_str()]
                .map(|scheme| super::web::node_origin(scheme, &node.fqdn, node.daemon_port))
        })
        .flatten()
        .collect::<Vec<_>>();
    let modules: Vec<super::web::PluginModule> = state
        .plugins
        .all_ui_contributions()
        .into_iter()
        .map(|view| super::web::PluginModule {
            plugin: view.plugin,
            url: view.module,
            integrity: view.integrity,
        })
        .collect();
    Ok(super::web::page(&origins, &modules))
}

/// The panel's origin as this browser reached it (the Host it sent, the scheme of the
/// public URL); the public URL's own when the Host is missing or malformed.
fn panel_origin(state: &AppState, headers: &HeaderMap) -> String {
    let public = state.config.public_url.trim_end_matches('/');
    let scheme = public
        .split_once("://")
        .map_or("http", |(scheme, _)| scheme);
    match headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        Some(host) if super::web::is_plain_host(host) => {
            format!("{scheme}://{host}")
        }
        _ => public.to_string(),
    }
}

/// Everything the router does not serve: the web panel (any GET outside `/api/`),
/// plugins' routes at the shared mount points (contract 1.1), else a JSON 404.
/// - `/api/client/servers/{server}/…`: the host resolves the server and checks the
///   caller's access and the route's server permission before the plugin runs; the
///   plugin gets the server's uuid as the `server` parameter and the caller's
///   permissions on it in `x-hatchery-server-permissions`.
/// - `/api/admin/…`: root administrators, or staff holding the route's permission.
/// - `/api/auth/…`: sign-in flows; public or for signed-in users, as declared.
/// - `/api/client/account/…`: the signed-in caller's own account.
pub async fn fallback(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let request_path = uri.path().to_string();
    if !request_path.starts_with("/api/") && matches!(method, Method::GET | Method::HEAD) {
        return app_page(&state, &request_path, &headers).await;
    }
    let (scope, key, path) = if let Some(rest) = request_path.strip_prefix("/api/client/servers/") {
        let (key, rest) = rest.split_once('/').ok_or_else(no_such_endpoint)?;
        (RouteScope::Server, Some(key), format!("/{rest}"))
    } else if let Some(rest) = request_path.strip_prefix("/api/admin/") {
        (RouteScope::Admin, None, format!("/{rest}"))
    } else if let Some(rest) = request_path.strip_prefix("/api/auth/") {
        (RouteScope::Auth, None, format!("/{rest}"))
    } else if let Some(rest) = request_path.strip_prefix("/api/client/account/") {
        (RouteScope::Account, None, format!("/{rest}"))
    } else {
        return Err(no_such_endpoint());
    };
    let found = state
        .plugins
        .registry()
        .mounted_route(scope, method.as_str(), &path);
    let (plugin, route, mut params) = match found {
        MountedRoute::Found {
            plugin,
            route,
            params,
        } => (plugin, route, params),
        MountedRoute::NotFound => return Err(no_such_endpoint()),
        MountedRoute::WrongMethod => {
            return Err(Error::MethodNotAllowed(format!(
                "{method} is not allowed on this route"
            )));
        }
    };
    let client_ip = auth::client_ip(&state, peer.as_ref().map(|Extension(peer)| peer), &headers);
    let (principal, session_id) =
        match auth::principal(&state, &method, &headers, client_ip.as_deref()).await? {
            Some((principal, session_id)) => (Some(principal), session_id),
            None => (None, None),
        };
    let credential = principal.as_ref().map(|_| Credential::of(session_id));
    let mut server_context = None;
    match (scope, key) {
        (RouteScope::Server, Some(key)) => {
            let principal = policy::require_user(principal.as_ref())?;
            let (server, access) = super::client::server_access_for(&state, principal, key).await?;
            policy::authorize_server_route(server.status, &access, route.permission.as_deref())?;
            params.insert(0, ("server".into(), server.uuid.clone()));
            server_context = Some((server.uuid, access.permissions().join(",")));
        }
        (RouteScope::Admin, _) => {
            policy::authorize_admin_route(principal.as_ref(), route.permission.as_deref())?;
        }
        (RouteScope::Account, _) => {
            policy::require_user(principal.as_ref())?;
        }
        _ => policy::authorize(principal.as_ref(), route.auth, None)?,
    }
    let call = PluginCall {
        route: &route,
        path,
        params,
        method: &method,
        uri: &uri,
        headers: &headers,
        body,
        principal,
        credential,
        server_context,
        // Sign-in flows tell "this browser" from the caller's other sessions.
        session_id: session_id.filter(|_| scope == RouteScope::Auth),
        client_ip,
        panel_url: &state.config.public_url,
    };
    let id = plugin.manifest.id.clone();
    let mut response = call_plugin(&id, &plugin, call).await?;
    let mut cookies = Vec::new();
    if scope == RouteScope::Auth {
        let secure = state.config.public_url.starts_with("https://");
        while let Some(wanted) = take_header(&mut response.headers, "set-cookie") {
            match plugin_cookies::set_cookie(&id, &wanted, secure) {
                Some(cookie) => cookies.push(cookie),
                None => tracing::warn!(plugin = %id, "dropped a malformed cookie"),
            }
        }
    }
    let session = take_header(&mut response.headers, hatchery_sdk::SESSION_HEADER);
    let cookie = match session {
        Some(token) if scope == RouteScope::Auth && plugin.grants.identity => {
            match sessions::is_live(&state.db, &token).await? {
                true => Some(auth::session_set_cookie(
                    &token,
                    state.config.public_url.starts_with("https://"),
                )),
                false => {
                    tracing::warn!(plugin = %id, "a sign-in route named a session that does not exist; no cookie was set");
                    None
                }
            }
        }
        Some(_) => {
            tracing::warn!(plugin = %id, "only sign-in routes of plugins granted `identity` set sessions; no cookie was set");
            None
        }
        None => None,
    };
    cookies.extend(cookie);
    into_http(&id, response, cookies)
}

/// Removes the first `name` header (any case) and returns its value.
fn take_header(headers: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let at = headers
        .iter()
        .position(|(header, _)| header.eq_ignore_ascii_case(name))?;
    Some(headers.remove(at).1)
}

fn no_such_endpoint() -> Error {
    Error::NotFound("no such endpoint".into())
}

/// One request for a plugin's route, authorised already.
struct PluginCall<'a> {
    route: &'a crate::plugins::manifest::RouteDecl,
    path: String,
    params: Vec<(String, String)>,
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: Bytes,
    principal: Option<hatchery_sdk::Principal>,
    /// How the caller signed in, when they did.
    credential: Option<Credential>,
    /// (server uuid, the caller's permissions on it) for server routes.
    server_context: Option<(String, String)>,
    /// The client's address (behind trusted proxies, the one they forwarded).
    client_ip: Option<String>,
    /// On auth routes, the browser session the caller signed in with.
    session_id: Option<i64>,
    /// The panel's public address, for links plugins send and show.
    panel_url: &'a str,
}

/// How a caller proved who they are: a person in the web panel, or a script.
#[derive(Clone, Copy)]
enum Credential {
    Session,
    ApiKey,
}

impl Credential {
    fn of(session_id: Option<i64>) -> Self {
        match session_id {
            Some(_) => Credential::Session,
            None => Credential::ApiKey,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Credential::Session => "session",
            Credential::ApiKey => "api-key",
        }
    }
}

async fn call_plugin(
    id: &str,
    plugin: &crate::plugins::LoadedPlugin,
    call: PluginCall<'_>,
) -> Result<hatchery_sdk::Response> {
    let mut headers: Vec<(String, String)> = call
        .headers
        .iter()
        .filter(|(name, _)| {
            !WITHHELD_REQUEST_HEADERS.contains(&name.as_str())
                && !name.as_str().starts_with(HOST_HEADER_PREFIX)
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    if let Some(ip) = call.client_ip {
        headers.push((format!("{HOST_HEADER_PREFIX}client-ip"), ip));
    }
    headers.push((
        format!("{HOST_HEADER_PREFIX}panel-url"),
        call.panel_url.to_string(),
    ));
    // Sign-in routes get the plugin's own cookies back, and no others.
    if call.route.scope == RouteScope::Auth
        && let Some(own) = plugin_cookies::own_cookies(id, call.headers)
    {
        headers.push(("cookie".into(), own));
    }
    if let Some(credential) = call.credential {
        headers.push((
            format!("{HOST_HEADER_PREFIX}credential"),
            credential.as_str().to_string(),
        ));
    }
    if let Some(session_id) = call.session_id {
        headers.push((
            format!("{HOST_HEADER_PREFIX}session-id"),
            session_id.to_string(),
        ));
    }
    if let Some((server, permissions)) = call.server_context {
        headers.push((format!("{HOST_HEADER_PREFIX}server"), server));
        headers.push((
            format!("{HOST_HEADER_PREFIX}server-permissions"),
            permissions,
        ));
    }
    let request = Request {
        method: call.method.to_string(),
        route: call.route.path.clone(),
        path: call.path,
        query: call.uri.query().unwrap_or_default().to_string(),
        params: call.params,
        headers,
        body: call.body.to_vec(),
        principal: call.principal,
    };
    let span = tracing::debug_span!("plugin_call", plugin = %id, route = %call.route.path);
    Ok(tracing::Instrument::instrument(plugin.code.handle_request(request), span).await?)
}

/// Request headers only the host sets (a client's are dropped): the server context of
/// server routes.
const HOST_HEADER_PREFIX: &str = "x-hatchery-";

/// The plugin's answer as HTTP, with the cookies the host decided to set.
fn into_http(id: &str, response: hatchery_sdk::Response, cookies: Vec<String>) -> Result<Response> {
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
        if REFUSED_RESPONSE_HEADERS.contains(&lower.as_str())
            || lower.starts_with(HOST_HEADER_PREFIX)
        {
            tracing::debug!(plugin = id, header = %lower, "dropped a response header plugins may not set");
            continue;
        }
        match (HeaderName::try_from(lower), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => builder = builder.header(name, value),
            _ => tracing::warn!(plugin = id, "dropped a malformed response header"),
        }
    }
    for cookie in cookies {
        builder = builder.header(axum::http::header::SET_COOKIE, cookie);
    }
    builder
        .body(Body::from(response.body))
        .map_err(|err| Error::PluginCall(format!("plugin {id} gave an unusable response: {err}")))
}
