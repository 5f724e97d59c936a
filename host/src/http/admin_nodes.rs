//! `/api/admin/nodes`: nodes, their wings configuration and their allocations.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::api::{Data, data, found};
use super::auth::Caller;
use crate::actions::Activity;
use crate::db::nodes::{self, Allocation, NewNode, Node};
use crate::domain::vocabulary::Scheme;
use crate::error::Result;

async fn node(state: &AppState, key: &str) -> Result<Node> {
    found(nodes::find(&state.db, key).await?, "node", key)
}

#[utoipa::path(get, path = "/api/admin/nodes", tag = "admin",
    responses((status = 200, body = Data<Vec<Node>>)), security(("api_key" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Data<Vec<Node>>>> {
    caller.require_admin_permission("nodes.read")?;
    Ok(data(nodes::list(&state.db).await?))
}

#[utoipa::path(get, path = "/api/admin/nodes/{node}", tag = "admin",
    params(("node" = String, Path, description = "id, uuid or name")),
    responses((status = 200, body = Data<Node>)), security(("api_key" = []), ("session" = [])))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Node>>> {
    caller.require_admin_permission("nodes.read")?;
    Ok(data(node(&state, &key).await?))
}

fn default_scheme() -> Scheme {
    Scheme::Http
}
fn default_daemon_port() -> u16 {
    8080
}
fn default_sftp_port() -> u16 {
    2022
}
fn default_data_dir() -> String {
    "/var/lib/pterodactyl/volumes".into()
}
fn default_upload_size() -> u32 {
    100
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Host name or IP address the panel and browsers reach wings at.
    pub fqdn: String,
    #[serde(default = "default_scheme")]
    pub scheme: Scheme,
    #[serde(default)]
    pub behind_proxy: bool,
    #[serde(default = "default_daemon_port")]
    pub daemon_port: u16,
    #[serde(default = "default_sftp_port")]
    pub sftp_port: u16,
    #[serde(default = "default_data_dir")]
    pub data_dir: String,
    pub memory_mb: u64,
    #[serde(default)]
    pub memory_overallocate: i32,
    pub disk_mb: u64,
    #[serde(default)]
    pub disk_overallocate: i32,
    #[serde(default = "default_upload_size")]
    pub upload_size_mb: u32,
    /// Only on update: keeps users out of the node's servers while it is serviced.
    #[serde(default)]
    pub maintenance: bool,
}

impl NodeRequest {
    fn new_node(&self) -> NewNode {
        NewNode {
            name: self.name.clone(),
            description: self.description.clone(),
            fqdn: self.fqdn.clone(),
            scheme: self.scheme,
            behind_proxy: self.behind_proxy,
            daemon_port: self.daemon_port,
            sftp_port: self.sftp_port,
            data_dir: self.data_dir.clone(),
            memory_mb: self.memory_mb,
            memory_overallocate: self.memory_overallocate,
            disk_mb: self.disk_mb,
            disk_overallocate: self.disk_overallocate,
            upload_size_mb: self.upload_size_mb,
        }
    }
}

#[utoipa::path(post, path = "/api/admin/nodes", tag = "admin", request_body = NodeRequest,
    responses((status = 201, body = Data<Node>)), security(("api_key" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<NodeRequest>,
) -> Result<(StatusCode, Json<Data<Node>>)> {
    caller.require_admin_permission("nodes.create")?;
    let node = nodes::create(&state.db, &state.secrets, &request.new_node()).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.node.create")
                .subject("node", node.id)
                .with(json!({ "name": node.name, "fqdn": node.fqdn })),
        )
        .await;
    Ok((StatusCode::CREATED, data(node)))
}

/// Replaces the node's settings (send every field, as on create).
#[utoipa::path(put, path = "/api/admin/nodes/{node}", tag = "admin", request_body = NodeRequest,
    params(("node" = String, Path)),
    responses((status = 200, body = Data<Node>)), security(("api_key" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<NodeRequest>,
) -> Result<Json<Data<Node>>> {
    caller.require_admin_permission("nodes.update")?;
    let existing = node(&state, &key).await?;
    let updated = nodes::update(
        &state.db,
        &existing,
        &request.new_node(),
        request.maintenance,
    )
    .await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.node.update")
                .subject("node", existing.id)
                .with(json!({ "name": updated.name })),
        )
        .await;
    Ok(data(updated))
}

#[utoipa::path(delete, path = "/api/admin/nodes/{node}", tag = "admin", params(("node" = String, Path)),
    responses((status = 204, description = "deleted with its allocations"), (status = 409, body = super::api::ErrorBody, description = "servers remain")),
    security(("api_key" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode> {
    caller.require_admin_permission("nodes.delete")?;
    let existing = node(&state, &key).await?;
    nodes::delete(&state.db, &existing).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.node.delete")
                .subject("node", existing.id)
                .with(json!({ "name": existing.name })),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The wings configuration file (YAML) to copy to the node; it holds the node's token.
#[utoipa::path(get, path = "/api/admin/nodes/{node}/configuration", tag = "admin", params(("node" = String, Path)),
    responses((status = 200, description = "wings' config.yml", content_type = "application/yaml")),
    security(("api_key" = []), ("session" = [])))]
pub async fn configuration(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String)> {
    caller.require_admin_permission("nodes.update")?;
    let node = node(&state, &key).await?;
    let token = nodes::token(&state.secrets, &node)?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.node.configuration").subject("node", node.id),
        )
        .await;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/yaml")],
        nodes::wings_config(&node, &token, &state.config.public_url),
    ))
}

/// Whether the node's wings answers, how fast, and what it runs.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct NodeHealth {
    pub reachable: bool,
    /// Round trip of the probe, in milliseconds.
    pub latency_ms: Option<u64>,
    /// wings' `/api/system` answer: version, kernel, CPUs, container engine.
    #[schema(value_type = Object)]
    pub system: Option<serde_json::Value>,
    /// Why the node did not answer.
    pub error: Option<String>,
}

/// Asks the node's wings how it is, within five seconds.
#[utoipa::path(get, path = "/api/admin/nodes/{node}/health", tag = "admin", params(("node" = String, Path)),
    responses((status = 200, body = Data<NodeHealth>)), security(("api_key" = []), ("session" = [])))]
pub async fn health(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<NodeHealth>>> {
    caller.require_admin_permission("nodes.read")?;
    let node = node(&state, &key).await?;
    let wings = state.core().wings(node.id).await?;
    let started = std::time::Instant::now();
    let probe = tokio::time::timeout(std::time::Duration::from_secs(5), wings.system()).await;
    let latency_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    Ok(data(match probe {
        Ok(Ok(system)) => NodeHealth {
            reachable: true,
            latency_ms,
            system: Some(system),
            error: None,
        },
        Ok(Err(err)) => NodeHealth {
            reachable: false,
            latency_ms: None,
            system: None,
            error: Some(err.to_string()),
        },
        Err(_) => NodeHealth {
            reachable: false,
            latency_ms: None,
            system: None,
            error: Some(format!(
                "wings at {} did not answer within 5 seconds",
                node.public_url()
            )),
        },
    }))
}

/// A new token for the node; its wings must be given the new configuration.
#[utoipa::path(post, path = "/api/admin/nodes/{node}/reset-token", tag = "admin", params(("node" = String, Path)),
    responses((status = 200, body = Data<Node>)), security(("api_key" = []), ("session" = [])))]
pub async fn reset_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Node>>> {
    caller.require_admin_permission("nodes.update")?;
    let existing = node(&state, &key).await?;
    let updated = nodes::reset_token(&state.db, &state.secrets, &existing).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.node.reset-token").subject("node", existing.id),
        )
        .await;
    Ok(data(updated))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllocationQuery {
    /// Only allocations no server uses.
    #[serde(default)]
    pub free: bool,
}

#[utoipa::path(get, path = "/api/admin/nodes/{node}/allocations", tag = "admin",
    params(("node" = String, Path), AllocationQuery),
    responses((status = 200, body = Data<Vec<Allocation>>)), security(("api_key" = []), ("session" = [])))]
pub async fn allocations(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(query): Query<AllocationQuery>,
) -> Result<Json<Data<Vec<Allocation>>>> {
    caller.require_admin_permission("nodes.read")?;
    let node = node(&state, &key).await?;
    Ok(data(
        nodes::allocations(&state.db, &node, query.free).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    pub ip: String,
    /// `25565`, `25565-25570`, or a comma-separated list of them.
    pub ports: String,
    pub alias: Option<String>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AllocationsChanged {
    pub count: usize,
}

/// Adds allocations; ones that already exist are left as they are.
#[utoipa::path(post, path = "/api/admin/nodes/{node}/allocations", tag = "admin", request_body = AllocationRequest,
    params(("node" = String, Path)),
    responses((status = 201, body = Data<AllocationsChanged>)), security(("api_key" = []), ("session" = [])))]
pub async fn allocate(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<AllocationRequest>,
) -> Result<(StatusCode, Json<Data<AllocationsChanged>>)> {
    caller.require_admin_permission("nodes.update")?;
    let node = node(&state, &key).await?;
    let ports = nodes::parse_ports(&request.ports)?;
    let count = nodes::add_allocations(
        &state.db,
        &node,
        &request.ip,
        &ports,
        request.alias.as_deref(),
    )
    .await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.node.allocate")
                .subject("node", node.id)
                .with(json!({ "ip": request.ip, "ports": request.ports, "added": count })),
        )
        .await;
    Ok((StatusCode::CREATED, data(AllocationsChanged { count })))
}

/// Removes free allocations; refuses, removing nothing, if a server uses one.
#[utoipa::path(delete, path = "/api/admin/nodes/{node}/allocations", tag = "admin", request_body = AllocationRequest,
    params(("node" = String, Path)),
    responses((status = 200, body = Data<AllocationsChanged>)), security(("api_key" = []), ("session" = [])))]
pub async fn deallocate(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<AllocationRequest>,
) -> Result<Json<Data<AllocationsChanged>>> {
    caller.require_admin_permission("nodes.update")?;
    let node = node(&state, &key).await?;
    let ports = nodes::parse_ports(&request.ports)?;
    let count = nodes::remove_allocations(&state.db, &node, request.ip.trim(), &ports).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.node.deallocate")
                .subject("node", node.id)
                .with(json!({ "ip": request.ip, "ports": request.ports, "removed": count })),
        )
        .await;
    Ok(data(AllocationsChanged { count }))
}
