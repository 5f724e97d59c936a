//! The HTTP API. This is the only module that knows about HTTP; everything below it
//! speaks the host's own types.

mod account;
mod admin;
mod admin_eggs;
mod admin_nodes;
mod admin_servers;
mod admin_users;
mod api;
pub mod auth;
pub mod caches;
mod client;
mod errors;
mod health;
pub mod limiter;
pub mod openapi;
mod plugin_cookies;
mod plugin_routes;
mod public;
mod remote;
mod ui;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post, put};
use tracing::Instrument;

use std::sync::atomic::AtomicBool;

use crate::actions::Core;
use crate::config::Config;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::plugins::PluginHost;
use crate::secrets::SecretBox;
use caches::Caches;
use limiter::LoginLimiter;

/// Largest request body a plugin route receives (a whole file written through
/// core-files' `files/write`; uploads go to wings directly).
pub const PLUGIN_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Largest egg file imported.
pub const EGG_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Database,
    pub plugins: Arc<PluginHost>,
    pub secrets: Arc<SecretBox>,
    /// Cleared once an administrator exists, so the public settings stop asking the
    /// database.
    pub setup_required: Arc<AtomicBool>,
    pub login_limiter: Arc<LoginLimiter>,
    pub password_gate: Arc<limiter::PasswordGate>,
    pub caches: Arc<Caches>,
}

impl AppState {
    pub fn new(
        config: Config,
        db: Database,
        plugins: Arc<PluginHost>,
        secrets: Arc<SecretBox>,
        caches: Arc<Caches>,
    ) -> AppState {
        AppState {
            config: Arc::new(config),
            db,
            plugins,
            secrets,
            setup_required: Arc::new(AtomicBool::new(true)),
            login_limiter: Arc::new(LoginLimiter::default()),
            password_gate: Arc::default(),
            caches,
        }
    }

    /// What the domain actions need.
    pub fn core(&self) -> Core {
        Core {
            db: self.db.clone(),
            secrets: self.secrets.clone(),
            events: self.plugins.events().clone(),
            observer: Some(self.caches.clone()),
        }
    }
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
        .route("/api/admin/plugins/{id}/grants", post(admin::change_grants))
        .route(
            "/api/admin/plugins/{id}/settings",
            get(admin::settings).put(admin::update_settings),
        )
        .route(
            "/api/plugins/{id}",
            any(plugin_routes::dispatch_root).layer(DefaultBodyLimit::max(PLUGIN_BODY_LIMIT)),
        )
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/settings", get(public::settings))
        .route("/api/setup", post(public::setup))
        .route("/api/auth/logout", post(public::logout))
        .route("/api/auth/methods", get(public::sign_in_methods))
        .route("/api/permissions", get(public::permissions))
        .route(
            "/api/client/account",
            get(account::show).patch(account::update),
        )
        .route("/api/client/servers", get(client::list))
        .route("/api/client/servers/{id}", get(client::show))
        .route("/api/client/servers/{id}/websocket", get(client::websocket))
        .route("/api/client/servers/{id}/resources", get(client::resources))
        .route("/api/client/servers/{id}/power", post(client::power))
        .route("/api/client/servers/{id}/command", post(client::command))
        .route(
            "/api/client/servers/{id}/settings/rename",
            post(client::rename),
        )
        .route(
            "/api/client/servers/{id}/settings/reinstall",
            post(client::reinstall),
        )
        .route(
            "/api/client/servers/{id}/settings/docker-image",
            put(client::docker_image),
        )
        .route("/api/client/servers/{id}/startup", get(client::startup))
        .route(
            "/api/client/servers/{id}/startup/variable",
            put(client::update_variable),
        )
        .route(
            "/api/client/servers/{id}/users",
            get(client::subuser_list).post(client::subuser_create),
        )
        .route(
            "/api/client/servers/{id}/users/{user}",
            post(client::subuser_update).delete(client::subuser_delete),
        )
        .route("/api/client/servers/{id}/activity", get(client::activity))
        .route(
            "/api/client/servers/{id}/network/allocations",
            get(client::allocation_list).post(client::allocation_claim),
        )
        .route(
            "/api/client/servers/{id}/network/allocations/{allocation}",
            post(client::allocation_notes).delete(client::allocation_release),
        )
        .route(
            "/api/client/servers/{id}/network/allocations/{allocation}/primary",
            post(client::allocation_primary),
        )
        .route(
            "/api/admin/users",
            get(admin_users::user_list).post(admin_users::user_create),
        )
        .route(
            "/api/admin/users/{user}",
            get(admin_users::user_show)
                .patch(admin_users::user_update)
                .delete(admin_users::user_delete),
        )
        .route(
            "/api/admin/roles",
            get(admin_users::role_list).post(admin_users::role_create),
        )
        .route(
            "/api/admin/roles/{role}",
            axum::routing::patch(admin_users::role_update).delete(admin_users::role_delete),
        )
        .route("/api/admin/activity", get(admin_users::activity_list))
        .route(
            "/api/admin/nodes",
            get(admin_nodes::list).post(admin_nodes::create),
        )
        .route(
            "/api/admin/nodes/{node}",
            get(admin_nodes::show)
                .put(admin_nodes::update)
                .delete(admin_nodes::delete),
        )
        .route("/api/admin/nodes/{node}/health", get(admin_nodes::health))
        .route(
            "/api/admin/nodes/{node}/configuration",
            get(admin_nodes::configuration),
        )
        .route(
            "/api/admin/nodes/{node}/reset-token",
            post(admin_nodes::reset_token),
        )
        .route(
            "/api/admin/nodes/{node}/allocations",
            get(admin_nodes::allocations)
                .post(admin_nodes::allocate)
                .delete(admin_nodes::deallocate),
        )
        .route(
            "/api/admin/eggs",
            get(admin_eggs::list)
                .post(admin_eggs::import)
                .layer(DefaultBodyLimit::max(EGG_LIMIT)),
        )
        .route(
            "/api/admin/eggs/{egg}",
            get(admin_eggs::show).delete(admin_eggs::delete),
        )
        .route("/api/admin/eggs/{egg}/export", get(admin_eggs::export))
        .route("/api/admin/nests", get(admin_eggs::nests))
        .route(
            "/api/admin/servers",
            get(admin_servers::list).post(admin_servers::create),
        )
        .route(
            "/api/admin/servers/{server}",
            get(admin_servers::show)
                .patch(admin_servers::update)
                .delete(admin_servers::delete),
        )
        .route(
            "/api/admin/servers/{server}/suspend",
            post(admin_servers::suspend),
        )
        .route(
            "/api/admin/servers/{server}/unsuspend",
            post(admin_servers::unsuspend),
        )
        .route(
            "/api/admin/servers/{server}/reinstall",
            post(admin_servers::reinstall),
        )
        .route("/api/remote/sftp/auth", post(remote::sftp_auth))
        .route("/api/remote/activity", post(remote::activity))
        .route("/api/remote/plugins", get(remote::plugins))
        .route("/api/remote/plugins/{id}", get(remote::plugin))
        .route("/api/remote/servers", get(remote::servers))
        .route("/api/remote/servers/reset", post(remote::reset))
        .route("/api/remote/servers/{uuid}", get(remote::server))
        .route(
            "/api/remote/servers/{uuid}/install",
            get(remote::install_script).post(remote::install_result),
        )
        .route(
            "/api/remote/servers/{uuid}/events",
            post(remote::server_event),
        )
        .route(
            "/api/plugins/{id}/{*path}",
            any(plugin_routes::dispatch).layer(DefaultBodyLimit::max(PLUGIN_BODY_LIMIT)),
        )
        // Plugins' server, admin, auth and account routes: the host's own routes win.
        .fallback(plugin_routes::fallback.layer(DefaultBodyLimit::max(PLUGIN_BODY_LIMIT)))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            plugin_routes::only_own_routes,
        ))
        .layer(middleware::from_fn(request_span))
        .with_state(state)
}

/// Per-request tracing that costs next to nothing at the default level: the span (with
/// method and path) exists only when debug logging is on, and failures are logged with
/// their method, path and status whatever the level.
async fn request_span(request: Request, next: Next) -> Response {
    // A request refused before its body was read (unauthenticated, forbidden, too
    // large) leaves the body unread, and hyper then drops the connection. Say so, or
    // keep-alive clients send their next request into a closed socket.
    let has_body = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .is_some_and(|length| length != "0")
        || request
            .headers()
            .contains_key(axum::http::header::TRANSFER_ENCODING);
    let method = request.method().clone();
    let uri = request.uri().clone();
    let span = tracing::debug_span!("request", %method, path = %uri.path());
    let mut response = next.run(request).instrument(span).await;
    let status = response.status();
    if status.is_server_error() {
        tracing::warn!(%method, path = %uri.path(), status = status.as_u16(), "request failed");
    } else {
        tracing::debug!(%method, path = %uri.path(), status = status.as_u16(), "responded");
    }
    if has_body && (status.is_client_error() || status.is_server_error()) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
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
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
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
