//! `/api/admin/servers`: create, change, suspend, reinstall and delete any server.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::api::{Data, PageQuery, Paginated, data, found};
use super::auth::Caller;
use crate::actions;
use crate::db::servers::{self, NewServer, Server, ServerChanges, ServerSummary, Visibility};
use crate::db::{eggs, nodes, users};
use crate::error::{Error, Result};

async fn server(state: &AppState, key: &str) -> Result<Server> {
    found(servers::find(&state.db, key).await?, "server", key)
}

#[utoipa::path(get, path = "/api/admin/servers", tag = "admin", params(PageQuery),
    responses((status = 200, body = Paginated<ServerSummary>)), security(("api_key" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> Result<axum::response::Response> {
    caller.require_admin_permission("servers.read")?;
    super::api::cached_server_page(&state, Visibility::All, &query, &caller.principal).await
}

#[utoipa::path(get, path = "/api/admin/servers/{server}", tag = "admin",
    params(("server" = String, Path, description = "id, uuid or short id")),
    responses((status = 200, body = Data<Server>)), security(("api_key" = []), ("session" = [])))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Server>>> {
    caller.require_admin_permission("servers.read")?;
    Ok(data(server(&state, &key).await?))
}

fn default_io_weight() -> i32 {
    500
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The owner's id, uuid, username or email.
    pub owner: String,
    /// The node's id, uuid or name.
    pub node: String,
    /// The egg's id, uuid or name.
    pub egg: String,
    /// The primary allocation as `ip:port`.
    pub allocation: String,
    /// More allocations as `ip:port`.
    #[serde(default)]
    pub extra_allocations: Vec<String>,
    /// Defaults to the egg's first image.
    pub image: Option<String>,
    /// Defaults to the egg's startup command.
    pub startup: Option<String>,
    pub memory_mb: i64,
    #[serde(default)]
    pub swap_mb: i64,
    pub disk_mb: i64,
    #[serde(default = "default_io_weight")]
    pub io_weight: i32,
    #[serde(default)]
    pub cpu_percent: i64,
    /// Values for the egg's variables; missing ones take the egg's default.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub skip_scripts: bool,
    /// How many allocations (the primary included) the server's users may hold
    /// (they pick free ones of the node themselves).
    #[serde(default)]
    pub allocation_limit: i32,
    /// Start the server once it is installed.
    #[serde(default)]
    pub start_on_completion: bool,
}

/// Creates a server; its node's wings installs it right away.
#[utoipa::path(post, path = "/api/admin/servers", tag = "admin", request_body = ServerRequest,
    responses((status = 201, body = Data<Server>), (status = 400, body = super::api::ErrorBody), (status = 502, body = super::api::ErrorBody, description = "wings could not be reached; nothing was created")),
    security(("api_key" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<ServerRequest>,
) -> Result<(StatusCode, Json<Data<Server>>)> {
    caller.require_admin_permission("servers.create")?;
    let owner = users::find(&state.db, &request.owner)
        .await?
        .ok_or_else(|| Error::bad_field("owner", format!("no user `{}`", request.owner)))?;
    let node = nodes::find(&state.db, &request.node)
        .await?
        .ok_or_else(|| Error::bad_field("node", format!("no node `{}`", request.node)))?;
    let egg = eggs::find(&state.db, &request.egg)
        .await?
        .ok_or_else(|| Error::bad_field("egg", format!("no egg `{}`", request.egg)))?;
    let mut allocations =
        vec![nodes::find_allocation(&state.db, &node, &request.allocation).await?];
    for extra in &request.extra_allocations {
        allocations.push(nodes::find_allocation(&state.db, &node, extra).await?);
    }
    let new = NewServer {
        name: request.name,
        description: request.description,
        owner_id: owner.id,
        node,
        egg,
        allocations,
        image: request.image,
        startup: request.startup,
        memory_mb: request.memory_mb,
        swap_mb: request.swap_mb,
        disk_mb: request.disk_mb,
        io_weight: request.io_weight,
        cpu_percent: request.cpu_percent,
        threads: None,
        oom_disabled: true,
        skip_scripts: request.skip_scripts,
        allocation_limit: request.allocation_limit,
        variables: request.variables,
    };
    let server = actions::servers::create(
        &state.core(),
        &caller.actor(),
        &new,
        request.start_on_completion,
    )
    .await?;
    Ok((StatusCode::CREATED, data(server)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    /// A new owner's id, uuid, username or email.
    pub owner: Option<String>,
    /// Any image (users can only pick the egg's).
    pub image: Option<String>,
    pub startup: Option<String>,
    pub memory_mb: Option<i64>,
    pub swap_mb: Option<i64>,
    pub disk_mb: Option<i64>,
    pub io_weight: Option<i32>,
    pub cpu_percent: Option<i64>,
    pub allocation_limit: Option<i32>,
    /// Variables to change, checked against the egg's rules.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// Changes details, build limits, startup, image and variables; wings applies them
/// at once and the game on its next start.
#[utoipa::path(patch, path = "/api/admin/servers/{server}", tag = "admin", request_body = ServerUpdate,
    params(("server" = String, Path)),
    responses((status = 200, body = Data<Server>)), security(("api_key" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<ServerUpdate>,
) -> Result<Json<Data<Server>>> {
    caller.require_admin_permission("servers.update")?;
    let existing = server(&state, &key).await?;
    let owner_id = match &request.owner {
        Some(owner) => Some(
            users::find(&state.db, owner)
                .await?
                .ok_or_else(|| Error::bad_field("owner", format!("no user `{owner}`")))?
                .id,
        ),
        None => None,
    };
    let changes = ServerChanges {
        name: request.name,
        description: request.description,
        owner_id,
        image: request.image,
        startup: request.startup,
        memory_mb: request.memory_mb,
        swap_mb: request.swap_mb,
        disk_mb: request.disk_mb,
        io_weight: request.io_weight,
        cpu_percent: request.cpu_percent,
        allocation_limit: request.allocation_limit,
        variables: None,
    };
    let updated = actions::servers::update(
        &state.core(),
        &caller.actor(),
        &existing,
        changes,
        &request.variables,
        false,
        "admin.server.update",
    )
    .await?;
    if updated.owner_id != existing.owner_id
        && let Some(previous) = users::find(&state.db, &existing.owner_id.to_string()).await?
    {
        // The previous owner's consoles and SFTP sessions on this server end now.
        state
            .core()
            .end_sessions(&previous.uuid, Some(&updated))
            .await;
    }
    Ok(data(updated))
}

#[utoipa::path(post, path = "/api/admin/servers/{server}/suspend", tag = "admin", params(("server" = String, Path)),
    responses((status = 200, body = Data<Server>, description = "suspended; wings stops it")), security(("api_key" = []), ("session" = [])))]
pub async fn suspend(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Server>>> {
    caller.require_admin_permission("servers.update")?;
    let existing = server(&state, &key).await?;
    Ok(data(
        actions::servers::set_suspended(&state.core(), &caller.actor(), &existing, true).await?,
    ))
}

#[utoipa::path(post, path = "/api/admin/servers/{server}/unsuspend", tag = "admin", params(("server" = String, Path)),
    responses((status = 200, body = Data<Server>)), security(("api_key" = []), ("session" = [])))]
pub async fn unsuspend(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Server>>> {
    caller.require_admin_permission("servers.update")?;
    let existing = server(&state, &key).await?;
    Ok(data(
        actions::servers::set_suspended(&state.core(), &caller.actor(), &existing, false).await?,
    ))
}

#[utoipa::path(post, path = "/api/admin/servers/{server}/reinstall", tag = "admin", params(("server" = String, Path)),
    responses((status = 202, description = "installing")), security(("api_key" = []), ("session" = [])))]
pub async fn reinstall(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode> {
    caller.require_admin_permission("servers.update")?;
    let existing = server(&state, &key).await?;
    actions::servers::reinstall(&state.core(), &caller.actor(), &existing).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete the record even if the node's wings cannot be reached.
    #[serde(default)]
    pub force: bool,
}

#[utoipa::path(delete, path = "/api/admin/servers/{server}", tag = "admin", params(("server" = String, Path), DeleteQuery),
    responses((status = 204, description = "deleted on the node and in the panel")), security(("api_key" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode> {
    caller.require_admin_permission("servers.delete")?;
    let existing = server(&state, &key).await?;
    actions::servers::delete(&state.core(), &caller.actor(), &existing, query.force).await?;
    Ok(StatusCode::NO_CONTENT)
}
