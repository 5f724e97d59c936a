//! The node and its servers: system facts, create/sync/delete, install, power,
//! commands and recent logs.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, App};
use crate::error::Error;
use crate::executor::Executor;
use crate::server::{PowerState, Server};

pub fn routes<E: Executor>() -> Router<App<E>> {
    Router::new()
        .route("/api/system", get(system::<E>))
        .route("/api/servers", get(list::<E>).post(create::<E>))
        .route("/api/servers/{uuid}", get(show::<E>).delete(delete::<E>))
        .route("/api/servers/{uuid}/power", post(power::<E>))
        .route("/api/servers/{uuid}/commands", post(commands::<E>))
        .route("/api/servers/{uuid}/logs", get(logs::<E>))
        .route("/api/servers/{uuid}/install", post(install::<E>))
        .route("/api/servers/{uuid}/reinstall", post(reinstall::<E>))
        .route("/api/servers/{uuid}/sync", post(sync::<E>))
        .route("/api/servers/{uuid}/ws/deny", post(deny_tokens::<E>))
        .route("/api/deauthorize-user", post(deauthorize_user::<E>))
}

async fn system<E: Executor>(State(manager): State<App<E>>) -> ApiResult<Json<Value>> {
    let engine = manager.node.executor.engine_info().await?;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    Ok(Json(json!({
        "architecture": std::env::consts::ARCH,
        "cpu_count": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "kernel_version": kernel.trim(),
        "os": std::env::consts::OS,
        "version": env!("CARGO_PKG_VERSION"),
        "container_engine": { "name": engine.name, "version": engine.version, "api_version": engine.api_version },
    })))
}

/// A server as the panel sees it: state, suspension and live usage.
async fn describe<E: Executor>(server: &Arc<Server<E>>) -> ApiResult<Value> {
    let utilization = server.utilization().await?;
    Ok(json!({
        "uuid": server.uuid(),
        "state": utilization.state,
        "is_suspended": server.is_suspended(),
        "is_installing": server.is_installing(),
        "install": server.install_state(),
        "utilization": utilization,
    }))
}

async fn list<E: Executor>(State(manager): State<App<E>>) -> ApiResult<Json<Vec<Value>>> {
    manager.ensure_loaded()?;
    let mut described = Vec::new();
    for server in manager.servers() {
        described.push(describe(&server).await?);
    }
    Ok(Json(described))
}

async fn show<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(describe(&manager.server(&uuid)?).await?))
}

#[derive(Deserialize)]
struct CreateServer {
    uuid: String,
    #[serde(default)]
    start_on_completion: bool,
}

async fn create<E: Executor>(
    State(manager): State<App<E>>,
    Json(body): Json<CreateServer>,
) -> ApiResult<StatusCode> {
    manager
        .create_server(&body.uuid, body.start_on_completion)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

async fn delete<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    manager.delete_server(&uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PowerRequest {
    action: String,
}

/// Answers at once; the action runs on and reports through the console.
async fn power<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<PowerRequest>,
) -> ApiResult<StatusCode> {
    let server = manager.server(&uuid)?;
    let action = PowerAction::parse(&body.action)?;
    if action == PowerAction::Start || action == PowerAction::Restart {
        if server.is_suspended() {
            return Err(Error::InvalidState("the server is suspended".into()).into());
        }
        if server.is_installing() {
            return Err(Error::InvalidState("the server is being installed".into()).into());
        }
        if let Some(refusal) = server.install_state().refusal() {
            return Err(Error::InvalidState(refusal).into());
        }
    }
    if action == PowerAction::Start && server.state() != PowerState::Offline {
        return Err(Error::InvalidState("the server is already running".into()).into());
    }
    action.spawn(server);
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PowerAction {
    Start,
    Stop,
    Restart,
    Kill,
}

impl PowerAction {
    pub(super) fn parse(action: &str) -> Result<PowerAction, ApiError> {
        match action {
            "start" => Ok(PowerAction::Start),
            "stop" => Ok(PowerAction::Stop),
            "restart" => Ok(PowerAction::Restart),
            "kill" => Ok(PowerAction::Kill),
            other => Err(ApiError::bad_request(format!(
                "`{other}` is not a power action; use start, stop, restart or kill"
            ))),
        }
    }

    /// The subuser permission the action needs.
    pub(super) fn permission(self) -> &'static str {
        match self {
            PowerAction::Start => "control.start",
            PowerAction::Stop | PowerAction::Kill => "control.stop",
            PowerAction::Restart => "control.restart",
        }
    }

    /// Runs the action in the background; a failure goes to the console.
    pub(super) fn spawn<E: Executor>(self, server: Arc<Server<E>>) {
        tokio::spawn(async move {
            let result = match self {
                PowerAction::Start => server.start().await,
                PowerAction::Stop => server.stop().await,
                PowerAction::Restart => server.restart().await,
                PowerAction::Kill => server.kill().await,
            };
            if let Err(err) = result {
                tracing::info!(server = %server.uuid(), action = ?self, "power action failed: {err}");
                server.daemon_message(format!("{self:?} failed: {err}").to_lowercase());
            }
        });
    }
}

#[derive(Deserialize)]
struct Commands {
    commands: Vec<String>,
}

async fn commands<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<Commands>,
) -> ApiResult<StatusCode> {
    let server = manager.server(&uuid)?;
    for command in &body.commands {
        server.send_command(command).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct LogsQuery {
    size: Option<usize>,
}

async fn logs<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Query(query): Query<LogsQuery>,
) -> ApiResult<Json<Value>> {
    let server = manager.server(&uuid)?;
    let lines = server.recent_output(query.size.unwrap_or(100).clamp(1, 500));
    Ok(Json(json!({ "data": lines })))
}

async fn install<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let server = not_installing(&manager, &uuid)?;
    manager.spawn_install(server, false, false);
    Ok(StatusCode::ACCEPTED)
}

async fn reinstall<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let server = not_installing(&manager, &uuid)?;
    // The installation fetches the latest configuration itself, waiting for a panel
    // that is away.
    manager.spawn_install(server, true, false);
    Ok(StatusCode::ACCEPTED)
}

/// The server, unless an installation is already running on it.
fn not_installing<E: Executor>(manager: &App<E>, uuid: &str) -> ApiResult<Arc<Server<E>>> {
    let server = manager.server(uuid)?;
    if server.is_installing() {
        return Err(Error::InvalidState("the server is already being installed".into()).into());
    }
    Ok(server)
}

async fn sync<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    manager.sync_server(&uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct DenyTokens {
    jtis: Vec<String>,
}

async fn deny_tokens<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(body): Json<DenyTokens>,
) -> ApiResult<StatusCode> {
    manager.server(&uuid)?;
    manager.revoke_tokens(&body.jtis);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct DeauthorizeUser {
    user: String,
    #[serde(default)]
    servers: Vec<String>,
}

async fn deauthorize_user<E: Executor>(
    State(manager): State<App<E>>,
    Json(body): Json<DeauthorizeUser>,
) -> ApiResult<StatusCode> {
    manager.revoke_user(&body.user, &body.servers);
    Ok(StatusCode::NO_CONTENT)
}
