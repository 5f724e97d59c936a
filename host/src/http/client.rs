//! The API a server's users call (`/api/client/servers/…`): the owner, subusers with
//! the permission each action needs, and root administrators.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::api::{Data, PageQuery, Paginated, data, found, paginated};
use super::auth::Caller;
use crate::actions::{self, Activity};
use crate::db::activity::{self, ActivityEntry, ActivityFilter};
use crate::db::nodes::{self, Allocation};
use crate::db::servers::{self, Server, ServerChanges, ServerSummary, Visibility};
use crate::db::{eggs, subusers, users};
use crate::domain::vocabulary::PowerSignal;
use crate::error::{Error, Result};
use crate::policy::{self, ServerAccess};

/// The server `key` (id, uuid or short id) and how the caller may use it; servers the
/// caller has no part in do not exist for them.
async fn server_for(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<(Server, ServerAccess)> {
    server_access_for(state, &caller.principal, key).await
}

/// Like `server_for`, for a principal (plugins' server routes).
pub(super) async fn server_access_for(
    state: &AppState,
    principal: &hatchery_sdk::Principal,
    key: &str,
) -> Result<(Server, ServerAccess)> {
    let server = found(servers::find(&state.db, key).await?, "server", key)?;
    let subuser = match policy::needs_subuser_permissions(principal, server.owner_id) {
        true => subusers::permissions(&state.db, server.id, principal.user_id).await?,
        false => None,
    };
    let access = policy::server_access(principal, &server.uuid, server.owner_id, subuser)
        .map_err(|_| Error::NotFound(format!("no server `{key}`")))?;
    Ok((server, access))
}

/// `PageQuery` plus `type`; spelled out because flattened query fields lose their types.
#[derive(Debug, Deserialize)]
pub struct ServerListQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub search: Option<String>,
    /// `admin` lists every server (administrators only); otherwise the caller's own
    /// and those they are a subuser of.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// The caller's servers (owned and shared), or with `?type=admin` every server.
#[utoipa::path(get, path = "/api/client/servers", tag = "servers",
    params(PageQuery, ("type" = Option<String>, Query, description = "`admin` for every server")),
    responses((status = 200, body = Paginated<ServerSummary>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ServerListQuery>,
) -> Result<axum::response::Response> {
    let visibility = match query.kind.as_deref() {
        Some("admin") => {
            policy::require_admin_permission(Some(&caller.principal), "servers.read")?;
            Visibility::All
        }
        None | Some("owner") => Visibility::AccessibleTo(caller.user_id()),
        Some(other) => {
            return Err(Error::bad_field(
                "type",
                format!("`{other}` is not `admin` or `owner`"),
            ));
        }
    };
    let query = PageQuery {
        page: query.page,
        per_page: query.per_page,
        search: query.search,
    };
    super::api::cached_server_page(&state, visibility, &query, &caller.principal).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServerDetails {
    #[serde(flatten)]
    pub server: Server,
    pub allocations: Vec<Allocation>,
    /// What the caller may do here (`*` is everything).
    pub permissions: Vec<String>,
    pub is_owner: bool,
    /// Where SFTP clients connect (the user name is `username.short_id`).
    pub sftp: SftpDetails,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SftpDetails {
    pub host: String,
    pub port: i32,
}

/// One server with its addresses and the caller's permissions on it.
#[utoipa::path(get, path = "/api/client/servers/{server}", tag = "servers",
    params(("server" = String, Path, description = "id, uuid or short id")),
    responses((status = 200, body = Data<ServerDetails>), (status = 404, body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<ServerDetails>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    let allocations = servers::allocations(&state.db, &server).await?;
    let node = found(
        nodes::find(&state.db, &server.node_id.to_string()).await?,
        "node",
        &server.node_id.to_string(),
    )?;
    Ok(data(ServerDetails {
        sftp: SftpDetails {
            host: node.fqdn,
            port: node.sftp_port,
        },
        is_owner: server.owner_id == caller.user_id(),
        permissions: access.permissions(),
        allocations,
        server,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsoleAccess {
    /// A JWT for wings, valid for 10 minutes, carrying the caller's permissions.
    pub token: String,
    /// The websocket URL on the server's node.
    pub socket: String,
}

/// A console token with exactly the caller's permissions, and where the console is.
#[utoipa::path(get, path = "/api/client/servers/{server}/websocket", tag = "servers",
    params(("server" = String, Path, description = "id, uuid or short id")),
    responses((status = 200, body = Data<ConsoleAccess>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn websocket(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<ConsoleAccess>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("websocket.connect")?;
    let node = found(
        nodes::find(&state.db, &server.node_id.to_string()).await?,
        "node",
        &server.node_id.to_string(),
    )?;
    if node.maintenance {
        return Err(Error::Conflict(format!(
            "node {} is under maintenance; try again later",
            node.name
        )));
    }
    let token = crate::node_tokens::console(
        &nodes::token(&state.secrets, &node)?,
        &server.uuid,
        &caller.uuid,
        &access.permissions(),
    );
    let scheme = node.scheme.websocket();
    let socket = format!(
        "{scheme}://{}:{}/api/servers/{}/ws",
        node.fqdn, node.daemon_port, server.uuid
    );
    Ok(data(ConsoleAccess { token, socket }))
}

/// The live state and resource use of a server, as its wings reports them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Resources {
    /// `offline`, `starting`, `running` or `stopping`.
    pub current_state: String,
    pub is_suspended: bool,
    pub resources: ResourceUse,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ResourceUse {
    pub memory_bytes: u64,
    /// The container's memory limit (0 when unlimited).
    pub memory_limit_bytes: u64,
    /// Percent of one core (so up to 100 × cores).
    pub cpu_absolute: f64,
    pub disk_bytes: u64,
    pub network_rx_bytes: u64,
    pub network_tx_bytes: u64,
    /// Milliseconds since the server started (0 when it is not running).
    pub uptime: u64,
}

/// What the server is doing and what it uses right now, asked of its node.
#[utoipa::path(get, path = "/api/client/servers/{server}/resources", tag = "servers",
    params(("server" = String, Path, description = "id, uuid or short id")),
    responses((status = 200, body = Data<Resources>),
        (status = 502, description = "the node did not answer", body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn resources(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Resources>>> {
    let (server, _access) = server_for(&state, &caller, &key).await?;
    let reported = state
        .core()
        .wings(server.node_id)
        .await?
        .server(&server.uuid)
        .await?;
    let used = &reported["utilization"];
    let number = |value: &serde_json::Value| value.as_u64().unwrap_or(0);
    Ok(data(Resources {
        current_state: reported["state"].as_str().unwrap_or("offline").to_string(),
        is_suspended: reported["is_suspended"].as_bool().unwrap_or(false),
        resources: ResourceUse {
            memory_bytes: number(&used["memory_bytes"]),
            memory_limit_bytes: number(&used["memory_limit_bytes"]),
            cpu_absolute: used["cpu_absolute"].as_f64().unwrap_or(0.0),
            disk_bytes: number(&used["disk_bytes"]),
            network_rx_bytes: number(&used["network"]["rx_bytes"]),
            network_tx_bytes: number(&used["network"]["tx_bytes"]),
            uptime: number(&used["uptime"]),
        },
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PowerRequest {
    /// `start`, `stop`, `restart` or `kill`.
    pub signal: String,
}

/// Starts, stops, restarts or kills the server.
#[utoipa::path(post, path = "/api/client/servers/{server}/power", tag = "servers",
    params(("server" = String, Path)), request_body = PowerRequest,
    responses((status = 204, description = "sent to wings"), (status = 403, body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn power(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<PowerRequest>,
) -> Result<StatusCode> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    let signal: PowerSignal = request
        .signal
        .parse()
        .map_err(|why: String| Error::bad_field("signal", why))?;
    access.require(policy::power_permission(signal))?;
    actions::servers::power(&state.core(), &caller.actor(), &server, signal).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommandRequest {
    pub command: String,
}

/// Sends a line to the server's console.
#[utoipa::path(post, path = "/api/client/servers/{server}/command", tag = "servers",
    params(("server" = String, Path)), request_body = CommandRequest,
    responses((status = 204, description = "sent")),
    security(("api_key" = []), ("session" = [])))]
pub async fn command(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<CommandRequest>,
) -> Result<StatusCode> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("control.console")?;
    actions::servers::send_command(&state.core(), &caller.actor(), &server, &request.command)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameRequest {
    pub name: String,
    pub description: Option<String>,
}

#[utoipa::path(post, path = "/api/client/servers/{server}/settings/rename", tag = "servers",
    params(("server" = String, Path)), request_body = RenameRequest,
    responses((status = 200, body = Data<Server>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<RenameRequest>,
) -> Result<Json<Data<Server>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("settings.rename")?;
    let updated = actions::servers::rename(
        &state.core(),
        &caller.actor(),
        &server,
        &request.name,
        request.description.as_deref(),
    )
    .await?;
    Ok(data(updated))
}

/// Runs the egg's install script again (files are kept unless the script removes them).
#[utoipa::path(post, path = "/api/client/servers/{server}/settings/reinstall", tag = "servers",
    params(("server" = String, Path)),
    responses((status = 202, description = "installing")),
    security(("api_key" = []), ("session" = [])))]
pub async fn reinstall(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("settings.reinstall")?;
    actions::servers::reinstall(&state.core(), &caller.actor(), &server).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StartupVariable {
    pub name: String,
    pub description: String,
    pub env_variable: String,
    pub default_value: String,
    pub value: String,
    pub is_editable: bool,
    /// Laravel-style rules, e.g. `required|string|max:20`.
    pub rules: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Startup {
    pub startup: String,
    pub image: String,
    /// The egg's images the server may switch between (display name → image).
    pub images: BTreeMap<String, String>,
    pub variables: Vec<StartupVariable>,
}

/// The startup command, image and the variables the caller may see.
#[utoipa::path(get, path = "/api/client/servers/{server}/startup", tag = "servers",
    params(("server" = String, Path)),
    responses((status = 200, body = Data<Startup>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn startup(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Startup>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("startup.read")?;
    data_startup(&state, &server, access.beyond_user_rules())
        .await
        .map(data)
}

async fn data_startup(state: &AppState, server: &Server, admin: bool) -> Result<Startup> {
    let egg = found(
        eggs::find(&state.db, &server.egg_id.to_string()).await?,
        "egg",
        &server.egg_id.to_string(),
    )?
    .egg()?;
    let values = servers::variables(&state.db, server).await?;
    let variables = egg
        .variables
        .iter()
        .filter(|variable| admin || variable.user_viewable)
        .map(|variable| StartupVariable {
            name: variable.name.clone(),
            description: variable.description.clone(),
            env_variable: variable.env_variable.clone(),
            default_value: variable.default_value.clone(),
            value: values
                .get(&variable.env_variable)
                .cloned()
                .unwrap_or_else(|| variable.default_value.clone()),
            is_editable: admin || (variable.user_editable && variable.user_viewable),
            rules: variable.rules.clone(),
        })
        .collect();
    Ok(Startup {
        startup: server.startup.clone(),
        image: server.image.clone(),
        images: egg.docker_images.iter().cloned().collect(),
        variables,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VariableChange {
    pub key: String,
    pub value: String,
}

/// Changes one variable the egg lets users edit; the value is checked against its rules.
#[utoipa::path(put, path = "/api/client/servers/{server}/startup/variable", tag = "servers",
    params(("server" = String, Path)), request_body = VariableChange,
    responses((status = 200, body = Data<Startup>), (status = 400, body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn update_variable(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(change): Json<VariableChange>,
) -> Result<Json<Data<Startup>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("startup.update")?;
    let admin = access.beyond_user_rules();
    let changes = BTreeMap::from([(change.key, change.value)]);
    let updated = actions::servers::update(
        &state.core(),
        &caller.actor(),
        &server,
        ServerChanges::default(),
        &changes,
        !admin,
        "server.startup.edit",
    )
    .await?;
    data_startup(&state, &updated, admin).await.map(data)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ImageChange {
    pub image: String,
}

/// Switches to another of the egg's docker images.
#[utoipa::path(put, path = "/api/client/servers/{server}/settings/docker-image", tag = "servers",
    params(("server" = String, Path)), request_body = ImageChange,
    responses((status = 204, description = "changed; applies on the next start")),
    security(("api_key" = []), ("session" = [])))]
pub async fn docker_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(change): Json<ImageChange>,
) -> Result<StatusCode> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("startup.docker-image")?;
    let changes = ServerChanges {
        image: Some(change.image),
        ..ServerChanges::default()
    };
    let as_user = !access.beyond_user_rules();
    actions::servers::update(
        &state.core(),
        &caller.actor(),
        &server,
        changes,
        &BTreeMap::new(),
        as_user,
        "server.startup.image",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The server's subusers.
#[utoipa::path(get, path = "/api/client/servers/{server}/users", tag = "subusers",
    params(("server" = String, Path)),
    responses((status = 200, body = Data<Vec<subusers::Subuser>>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn subuser_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Vec<subusers::Subuser>>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("user.read")?;
    Ok(data(subusers::list(&state.db, server.id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubuserRequest {
    /// The user's email address; they must have an account.
    pub email: String,
    pub permissions: Vec<String>,
}

/// Adds a subuser with permissions the caller holds themselves.
#[utoipa::path(post, path = "/api/client/servers/{server}/users", tag = "subusers",
    params(("server" = String, Path)), request_body = SubuserRequest,
    responses((status = 201, body = Data<subusers::Subuser>), (status = 403, body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn subuser_create(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<SubuserRequest>,
) -> Result<(StatusCode, Json<Data<subusers::Subuser>>)> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("user.create")?;
    policy::check_subuser_grant(&access, &request.permissions)?;
    // Only an exact email address finds an account: ids, uuids and usernames would let
    // an owner walk the user table.
    let user = users::find_by_email(&state.db, &request.email)
        .await?
        .ok_or_else(|| {
            Error::bad_field(
                "email",
                "no account uses this email address; the person signs up first",
            )
        })?;
    if user.id == server.owner_id {
        return Err(Error::bad_field(
            "email",
            "the owner already holds every permission",
        ));
    }
    if subusers::find(&state.db, server.id, user.id)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(format!(
            "{} is already a subuser here",
            user.username
        )));
    }
    let subuser = subusers::upsert(&state.db, server.id, user.id, &request.permissions).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("server.subuser.create")
                .on_server(server.id)
                .subject("user", &user.uuid)
                .with(json!({ "permissions": subuser.permissions })),
        )
        .await;
    Ok((StatusCode::CREATED, data(subuser)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubuserPermissions {
    pub permissions: Vec<String>,
}

/// Replaces a subuser's permissions (their open consoles and SFTP sessions end).
#[utoipa::path(post, path = "/api/client/servers/{server}/users/{user}", tag = "subusers",
    params(("server" = String, Path), ("user" = String, Path, description = "the subuser's uuid")), request_body = SubuserPermissions,
    responses((status = 200, body = Data<subusers::Subuser>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn subuser_update(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, user_key)): Path<(String, String)>,
    Json(request): Json<SubuserPermissions>,
) -> Result<Json<Data<subusers::Subuser>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("user.update")?;
    policy::check_subuser_grant(&access, &request.permissions)?;
    let user = subuser_of(&state, &server, &user_key).await?;
    if user.id == caller.user_id() {
        return Err(Error::Forbidden(
            "you cannot change your own permissions".into(),
        ));
    }
    let subuser = subusers::upsert(&state.db, server.id, user.id, &request.permissions).await?;
    state.core().end_sessions(&user.uuid, Some(&server)).await;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("server.subuser.update")
                .on_server(server.id)
                .subject("user", &user.uuid)
                .with(json!({ "permissions": subuser.permissions })),
        )
        .await;
    Ok(data(subuser))
}

/// Removes a subuser; their open consoles and SFTP sessions end.
#[utoipa::path(delete, path = "/api/client/servers/{server}/users/{user}", tag = "subusers",
    params(("server" = String, Path), ("user" = String, Path, description = "the subuser's uuid")),
    responses((status = 204, description = "removed")),
    security(("api_key" = []), ("session" = [])))]
pub async fn subuser_delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, user_key)): Path<(String, String)>,
) -> Result<StatusCode> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("user.delete")?;
    let user = subuser_of(&state, &server, &user_key).await?;
    subusers::delete(&state.db, server.id, user.id).await?;
    state.core().end_sessions(&user.uuid, Some(&server)).await;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("server.subuser.delete")
                .on_server(server.id)
                .subject("user", &user.uuid),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn subuser_of(state: &AppState, server: &Server, user_key: &str) -> Result<users::User> {
    let user = found(users::find(&state.db, user_key).await?, "subuser", user_key)?;
    found(
        subusers::find(&state.db, server.id, user.id).await?,
        "subuser",
        user_key,
    )?;
    Ok(user)
}

/// Ends a user's consoles and SFTP sessions on the server's node, so changed
/// permissions apply at once. A node that is down has nothing open.
/// The server's activity, newest first.
#[utoipa::path(get, path = "/api/client/servers/{server}/activity", tag = "servers",
    params(("server" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<ActivityEntry>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Json<Paginated<ActivityEntry>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("activity.read")?;
    let page = query.page();
    let filter = ActivityFilter {
        server_id: Some(server.id),
        event: query.search().map(str::to_string),
        ..ActivityFilter::default()
    };
    let (rows, total) = activity::page(&state.db, &filter, &page).await?;
    Ok(paginated(rows, total, page))
}

/// The server's addresses, the primary first.
#[utoipa::path(get, path = "/api/client/servers/{server}/network/allocations", tag = "servers",
    params(("server" = String, Path)),
    responses((status = 200, body = Data<Vec<Allocation>>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn allocation_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<Vec<Allocation>>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("allocation.read")?;
    Ok(data(servers::allocations(&state.db, &server).await?))
}

/// Takes a free address of the node, within the server's allocation limit.
#[utoipa::path(post, path = "/api/client/servers/{server}/network/allocations", tag = "servers",
    params(("server" = String, Path)),
    responses((status = 201, body = Data<Allocation>), (status = 409, body = super::api::ErrorBody, description = "the limit is reached or the node has none free")),
    security(("api_key" = []), ("session" = [])))]
pub async fn allocation_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<(StatusCode, Json<Data<Allocation>>)> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("allocation.create")?;
    let allocation =
        actions::servers::claim_allocation(&state.core(), &caller.actor(), &server).await?;
    Ok((StatusCode::CREATED, data(allocation)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AllocationNotes {
    /// What the address is for; empty or `null` clears it.
    pub notes: Option<String>,
}

#[utoipa::path(post, path = "/api/client/servers/{server}/network/allocations/{allocation}", tag = "servers",
    params(("server" = String, Path), ("allocation" = i64, Path)), request_body = AllocationNotes,
    responses((status = 200, body = Data<Allocation>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn allocation_notes(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, allocation_id)): Path<(String, i64)>,
    Json(request): Json<AllocationNotes>,
) -> Result<Json<Data<Allocation>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("allocation.update")?;
    let allocation = actions::servers::set_allocation_notes(
        &state.core(),
        &caller.actor(),
        &server,
        allocation_id,
        request.notes.as_deref(),
    )
    .await?;
    Ok(data(allocation))
}

/// Makes an address the primary one (the game's `SERVER_PORT` on its next start).
#[utoipa::path(post, path = "/api/client/servers/{server}/network/allocations/{allocation}/primary", tag = "servers",
    params(("server" = String, Path), ("allocation" = i64, Path)),
    responses((status = 200, body = Data<Server>)),
    security(("api_key" = []), ("session" = [])))]
pub async fn allocation_primary(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, allocation_id)): Path<(String, i64)>,
) -> Result<Json<Data<Server>>> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("allocation.update")?;
    let updated = actions::servers::set_primary_allocation(
        &state.core(),
        &caller.actor(),
        &server,
        allocation_id,
    )
    .await?;
    Ok(data(updated))
}

/// Gives an address back to the node (not the primary one).
#[utoipa::path(delete, path = "/api/client/servers/{server}/network/allocations/{allocation}", tag = "servers",
    params(("server" = String, Path), ("allocation" = i64, Path)),
    responses((status = 204, description = "released")),
    security(("api_key" = []), ("session" = [])))]
pub async fn allocation_release(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, allocation_id)): Path<(String, i64)>,
) -> Result<StatusCode> {
    let (server, access) = server_for(&state, &caller, &key).await?;
    access.require("allocation.delete")?;
    actions::servers::release_allocation(&state.core(), &caller.actor(), &server, allocation_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
