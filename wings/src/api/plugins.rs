//! The node-side parts of plugins: which ones run here, bringing them in line with the
//! panel, and the backups their drivers keep.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use hatchery_runtime::manifest::Provider;
use hatchery_sdk::BackupRef;
use serde::Deserialize;
use serde_json::Value;

use super::{ApiError, ApiResult, App};
use crate::backups::{self, Saved};
use crate::executor::Executor;
use crate::plugins::{LoadedSummary, SyncReport};

pub fn routes<E: Executor>() -> Router<App<E>> {
    Router::new()
        .route("/api/plugins", get(list::<E>))
        .route("/api/plugins/sync", post(sync::<E>))
        .route("/api/servers/{uuid}/backup", post(create_backup::<E>))
        .route(
            "/api/servers/{uuid}/backup/{backup}",
            delete(delete_backup::<E>),
        )
        .route(
            "/api/servers/{uuid}/backup/{backup}/fetch",
            post(fetch_backup::<E>),
        )
}

async fn list<E: Executor>(State(manager): State<App<E>>) -> Json<Vec<LoadedSummary>> {
    Json(manager.plugins.list())
}

/// The panel says its plugins changed: fetch what differs now.
async fn sync<E: Executor>(State(manager): State<App<E>>) -> ApiResult<Json<SyncReport>> {
    Ok(Json(manager.plugins.sync(&manager.panel).await?))
}

/// Which driver keeps a backup, and the target's settings for it.
#[derive(Deserialize)]
struct DriverChoice {
    /// The id of the plugin providing `backup-driver`.
    adapter: String,
    /// The backup target's settings (a JSON object).
    #[serde(default)]
    config: Option<Value>,
}

#[derive(Deserialize)]
struct CreateBackup {
    uuid: String,
    #[serde(flatten)]
    driver: DriverChoice,
}

fn backup_ref(server: &str, backup: &str, driver: &DriverChoice) -> ApiResult<BackupRef> {
    if uuid::Uuid::parse_str(backup).is_err() {
        return Err(ApiError::bad_request(format!(
            "`{backup}` is not a backup uuid"
        )));
    }
    let config = driver
        .config
        .clone()
        .unwrap_or_else(|| Value::Object(Default::default()));
    if !config.is_object() {
        return Err(ApiError::bad_request("`config` must be a JSON object"));
    }
    Ok(BackupRef {
        uuid: backup.to_ascii_lowercase(),
        server: server.to_string(),
        config: config.to_string(),
    })
}

/// Archives the server's directory into the chosen driver; answers when it is kept,
/// with the archive's size and SHA-256.
async fn create_backup<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    Json(request): Json<CreateBackup>,
) -> ApiResult<Json<Saved>> {
    let server = manager.server(&uuid)?;
    let driver = manager
        .plugins
        .provider(&request.driver.adapter, Provider::BackupDriver)?;
    let backup = backup_ref(&server.uuid(), &request.uuid, &request.driver)?;
    let saved = backups::save(server.files()?, &driver, &backup).await?;
    tracing::info!(server = %backup.server, backup = %backup.uuid, size = saved.size, driver = %driver.id, "backup kept");
    Ok(Json(saved))
}

async fn delete_backup<E: Executor>(
    State(manager): State<App<E>>,
    Path((uuid, backup)): Path<(String, String)>,
    Json(driver): Json<DriverChoice>,
) -> ApiResult<StatusCode> {
    let server = manager.server(&uuid)?;
    let plugin = manager
        .plugins
        .provider(&driver.adapter, Provider::BackupDriver)?;
    let backup = backup_ref(&server.uuid(), &backup, &driver)?;
    plugin
        .code()
        .backup_delete(&backup)
        .await
        .map_err(crate::plugins::plugin_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The archive as the driver gives it back; a driver failing part-way cuts the
/// response short, so a partial archive never looks whole.
async fn fetch_backup<E: Executor>(
    State(manager): State<App<E>>,
    Path((uuid, backup)): Path<(String, String)>,
    Json(driver): Json<DriverChoice>,
) -> ApiResult<Response> {
    let server = manager.server(&uuid)?;
    let plugin = manager
        .plugins
        .provider(&driver.adapter, Provider::BackupDriver)?;
    let backup = backup_ref(&server.uuid(), &backup, &driver)?;
    let parts = backups::fetch(plugin, backup);
    let stream = futures_util::stream::unfold(parts, |mut parts| async move {
        parts.recv().await.map(|part| (part, parts))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-tar")],
        Body::from_stream(stream),
    )
        .into_response())
}
