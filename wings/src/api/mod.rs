//! Wings' HTTP API, compatible with Pterodactyl's: the panel manages servers and files
//! under `/api/…` with the node token; browsers reach the console websocket and signed
//! upload/download URLs with short-lived tokens the panel signs.

mod files;
mod plugins;
mod search;
mod servers;
mod transfers;
mod websocket;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::executor::Executor;
use crate::manager::Manager;

pub type App<E> = Arc<Manager<E>>;

/// Every route wings serves.
pub fn router<E: Executor>(manager: App<E>) -> Router {
    let panel_only = Router::new()
        .merge(servers::routes())
        .merge(files::routes())
        .merge(plugins::routes())
        .merge(search::panel_routes())
        .layer(middleware::from_fn_with_state(
            manager.clone(),
            require_node_token::<E>,
        ));
    Router::new()
        .merge(panel_only)
        .merge(websocket::routes())
        .merge(transfers::routes())
        .merge(search::signed_routes())
        .layer(middleware::from_fn_with_state(manager.clone(), cors::<E>))
        .with_state(manager)
}

/// An error as the panel reads it: `{"error": "…"}` with a fitting status.
pub struct ApiError(Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError(error)
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl ApiError {
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError(Error::BadRequest(message.into()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            Error::NotFound(_) | Error::NoSuchContainer(_) => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::InvalidState(_) => StatusCode::CONFLICT,
            Error::QuotaExceeded(_) => StatusCode::INSUFFICIENT_STORAGE,
            Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Panel(_) | Error::Plugin(_) => StatusCode::BAD_GATEWAY,
            Error::Loading(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Config(_) | Error::Engine(_) | Error::ImageUnavailable(_) | Error::Io { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), "request failed: {}", self.0);
        }
        let body = serde_json::json!({ "error": self.0.to_string() });
        (status, axum::Json(body)).into_response()
    }
}

/// The panel authenticates with `Authorization: Bearer <node token>`, compared in
/// constant time.
async fn require_node_token<E: Executor>(
    State(manager): State<App<E>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let expected = manager.config.token.as_bytes();
    if presented.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected)) {
        let body = serde_json::json!({
            "error": "the request needs the node token: send `Authorization: Bearer <token>` as the panel does"
        });
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    next.run(request).await
}

/// Origins allowed to call wings from a browser: the panel's and `allowed_origins`.
fn origin_allowed<E: Executor>(manager: &Manager<E>, origin: &str) -> bool {
    let panel = manager.config.remote.trim_end_matches('/');
    origin == panel
        || manager
            .config
            .allowed_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.trim_end_matches('/') == origin)
}

/// Browsers upload and download straight from wings with signed URLs, so the panel's
/// origin may call it; preflight requests are answered here.
async fn cors<E: Executor>(
    State(manager): State<App<E>>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .filter(|origin| origin_allowed(&manager, origin))
        .map(str::to_string);
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PATCH, PUT, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "Accept, Accept-Encoding, Authorization, Cache-Control, Content-Type, Content-Length, Origin, X-Real-IP, X-CSRF-Token",
            ),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("7200"),
        );
    }
    response
}

/// The client's address: the socket's, unless the socket is one of `trusted` proxies,
/// which may name the client in `X-Real-IP` or (nearest untrusted hop of)
/// `X-Forwarded-For`. Anyone else's headers are ignored: a stranger cannot pick the
/// address the activity log records.
fn client_ip(
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    trusted: &[std::net::IpAddr],
) -> String {
    let Some(peer) = peer.map(|peer| peer.ip()) else {
        return String::new();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(real) = header("x-real-ip").and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
    {
        return real.to_string();
    }
    header("x-forwarded-for")
        .and_then(|hops| {
            hops.rsplit(',')
                .filter_map(|hop| hop.trim().parse::<std::net::IpAddr>().ok())
                .find(|hop| !trusted.contains(hop))
        })
        .unwrap_or(peer)
        .to_string()
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve<E: Executor>(
    listener: tokio::net::TcpListener,
    manager: App<E>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(manager).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the API over TLS (`api.ssl`), one HTTP/1.1 connection per TLS session, with
/// websocket upgrades.
pub async fn serve_tls<E: Executor>(
    listener: tokio::net::TcpListener,
    manager: App<E>,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use tower::ServiceExt;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let app = router(manager);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!("cannot accept a connection: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let handshake =
                tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream));
            let Ok(Ok(stream)) = handshake.await else {
                return;
            };
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    app.clone().oneshot(request)
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

/// The TLS configuration from `api.ssl.cert` and `api.ssl.key` (PEM files).
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> crate::Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let problem = |what: &str, path: &std::path::Path, err: &dyn std::fmt::Display| {
        Error::Config(format!(
            "api.ssl.{what}: cannot use {}: {err}",
            path.display()
        ))
    };
    let certificates = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| problem("cert", cert, &err))?;
    if certificates.is_empty() {
        return Err(problem("cert", cert, &"it holds no certificate"));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|err| problem("key", key, &err))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(certificates, private_key)
        })
        .map_err(|err| problem("key", key, &err))
}
