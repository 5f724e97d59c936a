//! The HTTP API. This is the only module that knows about HTTP; everything below it
//! speaks the host's own types.

mod admin;
mod auth;
mod client;
mod health;
mod plugin_routes;
mod remote;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use tracing::Instrument;

use crate::config::Config;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::plugins::PluginHost;
use crate::secrets::SecretBox;

/// Largest request body a plugin route receives.
pub const PLUGIN_BODY_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Database,
    pub plugins: Arc<PluginHost>,
    pub secrets: Arc<SecretBox>,
}

pub fn router(state: AppState) -> Router {
    let package_limit = usize::try_from(state.config.max_package_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/health", get(health::health))
        .route("/api/ui/contributions", get(ui::contributions))
        .route("/plugin-assets/{id}/{*path}", get(ui::asset))
        .route(
            "/api/admin/plugins",
            get(admin::list)
                .post(admin::install)
                .layer(DefaultBodyLimit::max(package_limit)),
        )
        .route(
            "/api/admin/plugins/{id}",
            get(admin::show).delete(admin::uninstall),
        )
        .route("/api/admin/plugins/{id}/enable", post(admin::enable))
        .route("/api/admin/plugins/{id}/disable", post(admin::disable))
        .route(
            "/api/plugins/{id}",
            any(plugin_routes::dispatch_root).layer(DefaultBodyLimit::max(PLUGIN_BODY_LIMIT)),
        )
        .route("/api/client/servers/{id}/websocket", get(client::websocket))
        .route("/api/remote/servers", get(remote::servers))
        .route("/api/remote/servers/reset", post(remote::reset))
        .route("/api/remote/servers/{uuid}", get(remote::server))
        .route(
            "/api/remote/servers/{uuid}/install",
            get(remote::install_script).post(remote::install_result),
        )
        .route(
            "/api/plugins/{id}/{*path}",
            any(plugin_routes::dispatch).layer(DefaultBodyLimit::max(PLUGIN_BODY_LIMIT)),
        )
        .fallback(|| async { Error::NotFound("no such endpoint".into()) })
        .layer(middleware::from_fn(request_span))
        .with_state(state)
}

/// One tracing span per request.
async fn request_span(request: Request, next: Next) -> Response {
    let span =
        tracing::info_span!("request", method = %request.method(), path = %request.uri().path());
    async move {
        let mut response = next.run(request).await;
        tracing::debug!(status = response.status().as_u16(), "responded");
        // A refused body is left unread, so the connection cannot be reused; say so,
        // or keep-alive clients send their next request into a closed socket.
        if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
    .instrument(span)
    .await
}

/// Binds the configured address; done before anything slow so a taken port is
/// reported at once.
pub async fn bind(config: &Config) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|err| {
            Error::io(
                format!(
                    "cannot listen on {} (set listen or HATCHERY_LISTEN to another address)",
                    config.listen
                ),
                err,
            )
        })
}

/// Serves the API on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<()> {
    let address = listener
        .local_addr()
        .map_err(|err| Error::io("cannot read the listening address", err))?;
    tracing::info!(
        "Hatchery {} is listening on http://{address}",
        crate::plugins::HOST_VERSION
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|err| Error::io("the HTTP server stopped", err))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler installs");
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}
