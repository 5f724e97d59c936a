//! `/api/admin/users`, `/api/admin/roles` and `/api/admin/activity`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::api::{Data, PageQuery, Paginated, data, found, paginated};
use super::auth::Caller;
use crate::actions::Activity;
use crate::db::activity::{self, ActivityEntry, ActivityFilter};
use crate::db::roles::{self, Role};
use crate::db::sessions;
use crate::db::users::{self, NewUser, User, UserChanges};
use crate::error::{Error, Result};
use crate::policy;

/// Users, paged; `search` matches username and email.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(PageQuery),
    responses((status = 200, body = Paginated<User>)), security(("api_key" = []), ("session" = [])))]
pub async fn user_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> Result<Json<Paginated<User>>> {
    caller.require_admin_permission("users.read")?;
    let page = query.page();
    let (rows, total) = users::page(&state.db, &page, query.search()).await?;
    Ok(paginated(rows, total, page))
}

#[utoipa::path(get, path = "/api/admin/users/{user}", tag = "admin",
    params(("user" = String, Path, description = "id, uuid, username or email")),
    responses((status = 200, body = Data<User>)), security(("api_key" = []), ("session" = [])))]
pub async fn user_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<User>>> {
    caller.require_admin_permission("users.read")?;
    Ok(data(found(
        users::find(&state.db, &key).await?,
        "user",
        &key,
    )?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    pub username: String,
    pub email: String,
    pub password: Option<String>,
    #[serde(default)]
    pub admin: bool,
    pub language: Option<String>,
    pub role_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/admin/users", tag = "admin", request_body = UserRequest,
    responses((status = 201, body = Data<User>), (status = 409, body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn user_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<UserRequest>,
) -> Result<(StatusCode, Json<Data<User>>)> {
    caller.require_admin_permission("users.create")?;
    policy::check_user_create(&caller.principal, request.admin)?;
    if let Some(role_id) = request.role_id {
        check_role_power(&state, &caller, role_id).await?;
    }
    let new = NewUser {
        username: request.username,
        email: request.email,
        admin: request.admin,
        language: request.language,
        role_id: request.role_id,
    };
    let user = state.plugins.create_user(&new, request.password).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.user.create")
                .subject("user", &user.uuid)
                .with(json!({ "username": user.username, "admin": user.admin })),
        )
        .await;
    Ok((StatusCode::CREATED, data(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub admin: Option<bool>,
    pub language: Option<String>,
    /// A role id, or `null` to remove the role.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub role_id: Option<Option<i64>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(deserializer).map(Some)
}

#[utoipa::path(patch, path = "/api/admin/users/{user}", tag = "admin", request_body = UserUpdate,
    params(("user" = String, Path)),
    responses((status = 200, body = Data<User>)), security(("api_key" = []), ("session" = [])))]
pub async fn user_update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<UserUpdate>,
) -> Result<Json<Data<User>>> {
    caller.require_admin_permission("users.update")?;
    let user = found(users::find(&state.db, &key).await?, "user", &key)?;
    policy::check_user_change(&caller.principal, (user.id, user.admin), request.admin)?;
    if let Some(role_id) = user.role_id {
        check_role_power(&state, &caller, role_id).await?;
    }
    if let Some(Some(role_id)) = request.role_id {
        check_role_power(&state, &caller, role_id).await?;
    }
    let changes = UserChanges {
        username: request.username,
        email: request.email,
        admin: request.admin,
        language: request.language,
        role_id: request.role_id,
    };
    users::check_changes(&changes)?;
    if let Some(password) = request.password.clone() {
        state.plugins.change_password(&user, password).await?;
    }
    let updated = users::update(&state.db, &user, &changes).await?;
    // A new password, or less power: whatever is open on the nodes ends now.
    if request.password.is_some() || updated.admin != user.admin || updated.role_id != user.role_id
    {
        state.core().end_sessions(&user.uuid, None).await;
    }
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.user.update")
                .subject("user", &user.uuid)
                .with(json!({
                    "password_changed": request.password.is_some(),
                    "admin": updated.admin,
                    "role_id": updated.role_id,
                })),
        )
        .await;
    Ok(data(updated))
}

#[utoipa::path(delete, path = "/api/admin/users/{user}", tag = "admin", params(("user" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 409, body = super::api::ErrorBody, description = "the user owns servers")),
    security(("api_key" = []), ("session" = [])))]
pub async fn user_delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode> {
    caller.require_admin_permission("users.delete")?;
    let user = found(users::find(&state.db, &key).await?, "user", &key)?;
    policy::check_user_delete(&caller.principal, (user.id, user.admin))?;
    if let Some(role_id) = user.role_id {
        check_role_power(&state, &caller, role_id).await?;
    }
    sessions::delete_for_user(&state.db, user.id).await?;
    users::delete(&state.db, &user).await?;
    state.core().end_sessions(&user.uuid, None).await;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.user.delete")
                .subject("user", &user.uuid)
                .with(json!({ "username": user.username, "user_id": user.id })),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/admin/roles", tag = "admin",
    responses((status = 200, body = Data<Vec<Role>>)), security(("api_key" = []), ("session" = [])))]
pub async fn role_list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Data<Vec<Role>>>> {
    caller.require_admin_permission("roles.read")?;
    Ok(data(roles::list(&state.db).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Admin permissions; `GET /api/permissions` lists them.
    pub permissions: Vec<String>,
}

#[utoipa::path(post, path = "/api/admin/roles", tag = "admin", request_body = RoleRequest,
    responses((status = 201, body = Data<Role>)), security(("api_key" = []), ("session" = [])))]
pub async fn role_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<RoleRequest>,
) -> Result<(StatusCode, Json<Data<Role>>)> {
    caller.require_admin_permission("roles.manage")?;
    grantable(&caller, &request.permissions)?;
    let role = roles::create(
        &state.db,
        &request.name,
        &request.description,
        &request.permissions,
    )
    .await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.role.create")
                .subject("role", role.id)
                .with(json!({ "name": role.name, "permissions": role.permissions })),
        )
        .await;
    Ok((StatusCode::CREATED, data(role)))
}

/// The caller may give role `role_id`, or manage a user who holds it.
async fn check_role_power(state: &AppState, caller: &Caller, role_id: i64) -> Result<()> {
    let key = role_id.to_string();
    let role = found(roles::find(&state.db, &key).await?, "role", &key)?;
    crate::policy::check_role_power(&caller.principal, &role.name, &role.permissions)
}

/// A role manager cannot hand out more than they hold.
fn grantable(caller: &Caller, permissions: &[String]) -> Result<()> {
    match permissions
        .iter()
        .find(|permission| !caller.principal.can(permission))
    {
        Some(permission) => Err(Error::Forbidden(format!(
            "you cannot give `{permission}`: you do not hold it"
        ))),
        None => Ok(()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/api/admin/roles/{role}", tag = "admin", request_body = RoleUpdate,
    params(("role" = String, Path, description = "id or name")),
    responses((status = 200, body = Data<Role>)), security(("api_key" = []), ("session" = [])))]
pub async fn role_update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(request): Json<RoleUpdate>,
) -> Result<Json<Data<Role>>> {
    caller.require_admin_permission("roles.manage")?;
    let role = found(roles::find(&state.db, &key).await?, "role", &key)?;
    if let Some(permissions) = &request.permissions {
        grantable(&caller, permissions)?;
    }
    let updated = roles::update(
        &state.db,
        &role,
        request.name.as_deref(),
        request.description.as_deref(),
        request.permissions.as_deref(),
    )
    .await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.role.update")
                .subject("role", role.id)
                .with(json!({ "name": updated.name, "permissions": updated.permissions })),
        )
        .await;
    Ok(data(updated))
}

#[utoipa::path(delete, path = "/api/admin/roles/{role}", tag = "admin", params(("role" = String, Path)),
    responses((status = 204, description = "deleted; its users keep their accounts")), security(("api_key" = []), ("session" = [])))]
pub async fn role_delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode> {
    caller.require_admin_permission("roles.manage")?;
    let role = found(roles::find(&state.db, &key).await?, "role", &key)?;
    roles::delete(&state.db, &role).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.role.delete")
                .subject("role", role.id)
                .with(json!({ "name": role.name })),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Only this event or events under it (`server.power`).
    pub event: Option<String>,
    /// Only this server (id, uuid or short id).
    pub server: Option<String>,
    /// Only this actor (id, uuid, username or email).
    pub user: Option<String>,
}

/// The whole activity log, newest first, narrowed by event, server and user.
#[utoipa::path(get, path = "/api/admin/activity", tag = "admin", params(ActivityQuery),
    responses((status = 200, body = Paginated<ActivityEntry>)), security(("api_key" = []), ("session" = [])))]
pub async fn activity_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<Paginated<ActivityEntry>>> {
    caller.require_admin_permission("activity.read")?;
    let mut filter = ActivityFilter {
        event: query.event.clone(),
        ..ActivityFilter::default()
    };
    if let Some(key) = &query.server {
        filter.server_id = Some(
            found(
                crate::db::servers::find(&state.db, key).await?,
                "server",
                key,
            )?
            .id,
        );
    }
    if let Some(key) = &query.user {
        filter.actor_id = Some(found(users::find(&state.db, key).await?, "user", key)?.id);
    }
    let page = crate::db::Page::new(query.page, query.per_page);
    let (rows, total) = activity::page(&state.db, &filter, &page).await?;
    Ok(paginated(rows, total, page))
}
