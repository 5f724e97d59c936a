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
use hatchery_protocol::remote::{
    ActivityBatch, InstallScript, RemoteServer, SftpAuthRequest, SftpAuthResponse,
};

use crate::db::nodes::{self, Node};
use crate::db::servers::{self, Server};
use crate::db::{activity, subusers, users};
use crate::domain::vocabulary::ServerStatus;
use crate::error::{Error, Result};
use crate::events::host_event;
use crate::plugins::Login;
use crate::plugins::manifest::Provider;
use crate::policy;

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
) -> Result<Json<RemoteServer>> {
    let server = own_server(&state, &node, &uuid).await?;
    Ok(Json(servers::wings_description(&state.db, &server).await?))
}

pub async fn install_script(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Path(uuid): Path<String>,
) -> Result<Json<InstallScript>> {
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
    state.caches.lists.invalidate();
    state.plugins.events().publish(host_event(
        "server.installed",
        json!({ "server": server.uuid, "successful": result.successful, "reinstall": result.reinstall }),
    ));
    tracing::info!(server = %server.uuid, successful = result.successful, "installation finished");
    Ok(StatusCode::NO_CONTENT)
}

/// A state change or crash wings saw, for plugins (`server.state-changed`,
/// `server.crashed`); nothing is stored.
#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum ServerEventReport {
    StateChanged {
        state: String,
    },
    Crashed {
        #[serde(default)]
        exit_code: i64,
        #[serde(default)]
        oom_killed: bool,
    },
}

pub async fn server_event(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Path(uuid): Path<String>,
    Json(report): Json<ServerEventReport>,
) -> Result<StatusCode> {
    let server = own_server(&state, &node, &uuid).await?;
    let event = match report {
        ServerEventReport::StateChanged { state } => {
            if !matches!(
                state.as_str(),
                "offline" | "starting" | "running" | "stopping"
            ) {
                return Err(Error::bad_field("state", "not a power state"));
            }
            host_event(
                "server.state-changed",
                json!({ "server": server.uuid, "state": state }),
            )
        }
        ServerEventReport::Crashed {
            exit_code,
            oom_killed,
        } => host_event(
            "server.crashed",
            json!({ "server": server.uuid, "exit_code": exit_code, "oom_killed": oom_killed }),
        ),
    };
    state.plugins.events().publish(event);
    Ok(StatusCode::NO_CONTENT)
}

/// Hatchery's wings names the installations it resumes after a restart; Pterodactyl's
/// sends no body, and then every unfinished installation on the node failed.
#[derive(Deserialize, Default)]
pub struct ResetRequest {
    #[serde(default)]
    installing: Vec<String>,
}

pub async fn reset(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    body: axum::body::Bytes,
) -> Result<StatusCode> {
    let request: ResetRequest = serde_json::from_slice(&body).unwrap_or_default();
    servers::reset_installing(&state.db, node.id, &request.installing).await?;
    // wings is back: what the panel still shows as installing takes wings' word.
    let core = state.core();
    tokio::spawn(async move { crate::actions::reconcile::on_wings_connect(&core, node.id).await });
    state.caches.lists.invalidate();
    Ok(StatusCode::NO_CONTENT)
}

/// Checks an SFTP/SSH login for wings: the user's panel password or one of their SSH
/// keys, on a server of this node they may use with `file.sftp`. Every refusal reads
/// the same, so the answer does not tell which part was wrong.
pub async fn sftp_auth(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Json(request): Json<SftpAuthRequest>,
) -> Result<Json<SftpAuthResponse>> {
    let refused =
        || Error::Forbidden("the username, password or key is not right for this server".into());
    let limiter_key = format!("{}|{}", request.ip, request.username.to_ascii_lowercase());
    if !state.login_limiter.allow(&limiter_key) {
        return Err(Error::TooManyRequests(
            "too many failed logins; wait a minute before trying again".into(),
        ));
    }
    let (username, short_id) = request.username.rsplit_once('.').ok_or_else(refused)?;
    // Each check costs an argon2 hash: admitted a few at a time, at a bounded rate.
    let _turn = state
        .password_gate
        .admit(short_id)
        .await
        .map_err(|why| Error::TooManyRequests(why.into()))?;
    let server = servers::find(&state.db, short_id)
        .await?
        .filter(|server| server.node_id == node.id && server.short_id == short_id);
    let (user, credentials_ok) = sftp_login(&state, username, &request).await?;
    let (Some(server), Some(user), true) = (server, user, credentials_ok) else {
        state.login_limiter.failed(&limiter_key);
        return Err(refused());
    };
    let identity = hatchery_sdk::Principal {
        user_id: user.id,
        username: user.username.clone(),
        admin: user.admin,
        permissions: Vec::new(),
        key_scope: None,
    };
    let subuser = subusers::permissions(&state.db, server.id, user.id).await?;
    let access = policy::server_access(&identity, &server.uuid, server.owner_id, subuser)
        .map_err(|_| refused())?;
    if !access.can("file.sftp") {
        state.login_limiter.failed(&limiter_key);
        return Err(refused());
    }
    if server.status == Some(ServerStatus::Suspended) {
        return Err(Error::Forbidden("the server is suspended".into()));
    }
    if node.maintenance {
        return Err(Error::Forbidden("the node is under maintenance".into()));
    }
    state.login_limiter.succeeded(&limiter_key);
    Ok(Json(SftpAuthResponse {
        server: server.uuid,
        user: user.uuid,
        permissions: access.permissions(),
    }))
}

/// Whose credentials these are: passwords and SSH keys are the sign-in plugins' to
/// judge.
async fn sftp_login(
    state: &AppState,
    username: &str,
    request: &SftpAuthRequest,
) -> Result<(Option<users::User>, bool)> {
    let providers = state.plugins.registry().providers(Provider::AuthMethod);
    provider_login(state, &providers, username, request).await
}

/// Asks each `auth-method` provider in turn; the first that knows the credentials
/// names the user. A provider that fails is logged and skipped.
async fn provider_login(
    state: &AppState,
    providers: &[std::sync::Arc<crate::plugins::LoadedPlugin>],
    username: &str,
    request: &SftpAuthRequest,
) -> Result<(Option<users::User>, bool)> {
    let login = match request.kind.as_str() {
        "password" => Login::Password {
            username: username.to_string(),
            password: request.password.clone(),
        },
        "public_key" => Login::PublicKey {
            username: username.to_string(),
            key: request.password.clone(),
        },
        _ => return Ok((None, false)),
    };
    for plugin in providers {
        match plugin.code.check_login(&login).await {
            Ok(Some(user_id)) => {
                // A provider vouches for the user who was named, nobody else.
                let user = users::find(&state.db, &user_id.to_string())
                    .await?
                    .filter(|user| user.id == user_id && user.username == username);
                let found = user.is_some();
                return Ok((user, found));
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(plugin = %plugin.manifest.id, "a sign-in provider failed: {err}")
            }
        }
    }
    Ok((None, false))
}

/// The events wings reports (Pterodactyl's names). Anything else is dropped with a
/// warning: a compromised node must not publish arbitrary events to plugins.
pub const WINGS_EVENTS: &[&str] = &[
    "server:power.start",
    "server:power.stop",
    "server:power.restart",
    "server:power.kill",
    "server:console.command",
    "server:sftp.write",
    "server:sftp.create",
    "server:sftp.create-directory",
    "server:sftp.rename",
    "server:sftp.delete",
    "server:file.uploaded",
    "server:file.pull",
    "server:file.pull-failed",
];
/// Largest metadata kept for one wings activity entry.
const MAX_WINGS_METADATA_BYTES: usize = 16 * 1024;

/// What users did on the node (console commands, SFTP changes, uploads), batched by
/// wings. Entries for servers on other nodes, and events not in [`WINGS_EVENTS`], are
/// skipped.
pub async fn activity(
    State(state): State<AppState>,
    WingsNode(node): WingsNode,
    Json(batch): Json<ActivityBatch>,
) -> Result<StatusCode> {
    if batch.data.len() > 10_000 {
        return Err(Error::PayloadTooLarge(
            "send at most 10000 activity entries at once".into(),
        ));
    }
    let core = state.core();
    for mut entry in batch.data {
        if !WINGS_EVENTS.contains(&entry.event.as_str()) {
            tracing::warn!(node = %node.name, event = %entry.event.chars().take(64).collect::<String>(), "wings reported an unknown activity event; dropped");
            continue;
        }
        if !entry.metadata.is_object() && !entry.metadata.is_null()
            || entry.metadata.to_string().len() > MAX_WINGS_METADATA_BYTES
        {
            entry.metadata = json!({ "truncated": true });
        }
        let Some(server) = servers::find(&state.db, &entry.server)
            .await?
            .filter(|server| server.node_id == node.id)
        else {
            continue;
        };
        let user = match &entry.user {
            Some(uuid) => users::find(&state.db, uuid)
                .await?
                .filter(|user| &user.uuid == uuid),
            None => None,
        };
        let event = entry.event.replacen(':', ".", 1);
        let created_at = entry
            .timestamp
            .as_deref()
            .and_then(|timestamp| chrono::DateTime::parse_from_rfc3339(timestamp).ok())
            .map(|timestamp| timestamp.with_timezone(&chrono::Utc));
        let new = activity::NewActivity {
            event,
            actor_id: user.as_ref().map(|user| user.id),
            actor: Some(user.map_or_else(|| "wings".to_string(), |user| user.username)),
            ip: (!entry.ip.is_empty()).then_some(entry.ip),
            server_id: Some(server.id),
            subject_type: Some("server".into()),
            subject_id: Some(server.uuid.clone()),
            properties: entry.metadata,
            created_at,
            ..activity::NewActivity::default()
        };
        let written = match new.event.as_str() {
            "server.sftp.write" | "server.sftp.create" => Some("sftp"),
            "server.file.uploaded" => Some("upload"),
            "server.file.pull" => Some("pull"),
            _ => None,
        };
        if let Some(via) = written {
            core.events.publish(host_event(
                "file.written",
                json!({
                    "server": server.uuid,
                    "files": file_list(&new.properties),
                    "via": via,
                    "user_id": new.actor_id,
                    "username": new.actor_id.and(new.actor.as_deref()),
                }),
            ));
        }
        core.record_entry(&new).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The paths an SFTP entry (`files`) or an upload (`directory` + `file`) names.
fn file_list(metadata: &Value) -> Vec<Value> {
    match (&metadata["files"], &metadata["file"]) {
        (Value::Array(files), _) => files.clone(),
        (_, Value::String(file)) => {
            let directory = metadata["directory"].as_str().unwrap_or("/");
            vec![json!(format!("{}/{file}", directory.trim_end_matches('/')))]
        }
        _ => Vec::new(),
    }
}

/// The plugins the calling node should run.
pub async fn plugins(
    State(state): State<AppState>,
    WingsNode(_node): WingsNode,
) -> Result<Json<Value>> {
    Ok(Json(json!({ "data": state.plugins.node_plugins().await? })))
}

/// One plugin's code, grants and settings for the calling node.
pub async fn plugin(
    State(state): State<AppState>,
    WingsNode(_node): WingsNode,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(
        json!({ "data": state.plugins.node_plugin_release(&id).await? }),
    ))
}
