//! The panel's side of wings' calls (`/api/remote/…`, Pterodactyl's protocol): wings
//! authenticates as `token_id.token` of its node and only ever sees that node's
//! servers.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use crate::db::nodes::{self, Node};
use crate::db::servers::{self, Server};
use crate::error::{Error, Result};

/// The node whose wings is calling.
pub struct WingsNode(pub Node);

impl FromRequestParts<AppState> for WingsNode {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<WingsNode> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Error::Unauthenticated(
                    "wings authenticates with `Authorization: Bearer <token_id>.<token>`".into(),
                )
            })?;
        nodes::authenticate_wings(&state.db, &state.secrets, bearer.trim())
            .await?
            .map(WingsNode)
            .ok_or_else(|| {
                Error::Forbidden("the node token is not valid; copy `hatchery node config <node>` to the node again".into())
            })
    }
}

/// A server on the calling node; any other server is "not found".
async fn own_server(state: &AppState, node: &Node, uuid: &str) -> Result<Server> {
    servers::find(&state.db, uuid)
        .await?
        .filter(|server| server.node_id == node.id && server.uuid == uuid)
        .ok_or_else(|| Error::NotFound(format!("no server {uuid} on this node")))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

pub async fn servers(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Query(query): Query<PageQuery>,
) -> Result<Json<Value>> {
    let per_page = query.per_page.unwrap_or(50).clamp(1, 500);
    let page = query.page.unwrap_or(1).max(1);
    let (page_servers, total) = servers::page_on_node(&state.db, node.id, page, per_page).await?;
    let mut data = Vec::with_capacity(page_servers.len());
    for server in &page_servers {
        data.push(servers::wings_description(&state.db, server).await?);
    }
    let last_page = ((total + per_page - 1) / per_page).max(1);
    Ok(Json(json!({
        "data": data,
        "meta": { "current_page": page, "last_page": last_page, "per_page": per_page, "total": total },
    })))
}

pub async fn server(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Path(uuid): Path<String>,
) -> Result<Json<Value>> {
    let server = own_server(&state, &node, &uuid).await?;
    Ok(Json(servers::wings_description(&state.db, &server).await?))
}

pub async fn install_script(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Path(uuid): Path<String>,
) -> Result<Json<Value>> {
    let server = own_server(&state, &node, &uuid).await?;
    Ok(Json(servers::install_script(&state.db, &server).await?))
}

#[derive(Deserialize)]
pub struct InstallResult {
    successful: bool,
    #[serde(default)]
    reinstall: bool,
}

pub async fn install_result(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Path(uuid): Path<String>,
    Json(result): Json<InstallResult>,
) -> Result<StatusCode> {
    let server = own_server(&state, &node, &uuid).await?;
    servers::finish_install(&state.db, &server, result.successful, result.reinstall).await?;
    tracing::info!(server = %server.uuid, successful = result.successful, "installation finished");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
) -> Result<StatusCode> {
    servers::reset_installing(&state.db, node.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
