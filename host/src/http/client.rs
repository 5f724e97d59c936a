//! The API a server's users call (Pterodactyl's `/api/client/…`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::AppState;
use super::auth::principal;
use crate::db::{nodes, servers, users};
use crate::error::{Error, Result};
use crate::policy;

/// `{token, socket}`: a console token for the caller on this server, with exactly the
/// caller's permissions, and where wings' websocket is.
pub async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let principal = principal(&state, &headers).await?.ok_or_else(|| {
        Error::Unauthenticated("sign in or send an API key as `Authorization: Bearer <key>`".into())
    })?;
    let server = servers::find(&state.db, &id)
        .await?
        .ok_or_else(|| Error::NotFound("no such server".into()))?;
    let permissions = policy::server_permissions(&principal, server.owner_id)?;
    let node = nodes::find(&state.db, &server.node_id.to_string())
        .await?
        .ok_or_else(|| Error::NotFound("the server's node is gone".into()))?;
    let user = users::find_by_username(&state.db, &principal.username)
        .await?
        .ok_or_else(|| Error::Unauthenticated("the user no longer exists".into()))?;
    let token = crate::console_token::sign(
        &nodes::token(&state.secrets, &node)?,
        &server.uuid,
        &user.uuid,
        &permissions,
    );
    let scheme = if node.scheme == "https" { "wss" } else { "ws" };
    let socket = format!(
        "{scheme}://{}:{}/api/servers/{}/ws",
        node.fqdn, node.daemon_port, server.uuid
    );
    Ok(Json(
        json!({ "data": { "token": token, "socket": socket } }),
    ))
}
