//! `/api/admin/plugins`: the plugin lifecycle for administrators.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Caller, MaybeCaller};
use crate::actions::Actor;
use crate::error::Result;
use crate::plugins::manifest::Capabilities;
use crate::plugins::{InstallOptions, PluginDetails, PluginSettings};
use crate::policy;

/// Requires a root administrator; who they are, for the activity log.
fn admin(caller: &Option<Caller>) -> Result<Actor> {
    policy::require_admin(caller.as_ref().map(|caller| &caller.principal))?;
    Ok(caller
        .as_ref()
        .expect("require_admin demanded a caller")
        .actor())
}

pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Json<Value>> {
    admin(&caller)?;
    Ok(Json(
        json!({ "plugins": state.plugins.registry().all_details() }),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Json<PluginDetails>> {
    admin(&caller)?;
    Ok(Json(state.plugins.details(&id)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallQuery {
    #[serde(default)]
    allow_unsigned: bool,
    /// Enable right away (the default).
    #[serde(default = "yes")]
    enable: bool,
    /// Comma-separated capabilities to grant; default: what the manifest requests.
    grant: Option<String>,
}

fn yes() -> bool {
    true
}

/// `POST /api/admin/plugins`: the body is the package file.
pub async fn install(
    State(state): State<AppState>,
    Query(query): Query<InstallQuery>,
    MaybeCaller(caller): MaybeCaller,
    body: Bytes,
) -> Result<(StatusCode, Json<PluginDetails>)> {
    let actor = admin(&caller)?;
    let grants = query
        .grant
        .as_deref()
        .map(Capabilities::parse_list)
        .transpose()
        .map_err(|err| crate::error::Error::bad_field("grant", err))?;
    let details = state
        .plugins
        .install(
            &body,
            InstallOptions {
                allow_unsigned: query.allow_unsigned,
                enable: query.enable,
                grants,
            },
            &actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(details)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableBody {
    /// Replaces the current grants when given.
    grants: Option<Capabilities>,
}

/// `POST /api/admin/plugins/{id}/enable`, optionally with `{"grants": {…}}`.
pub async fn enable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeCaller(caller): MaybeCaller,
    body: Bytes,
) -> Result<Json<PluginDetails>> {
    let actor = admin(&caller)?;
    let grants = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let body: EnableBody = serde_json::from_slice(&body)
            .map_err(|err| crate::error::Error::bad_request(format!("invalid JSON body: {err}")))?;
        body.grants
    };
    Ok(Json(state.plugins.enable(&id, grants, &actor).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantsBody {
    /// Added: `http:sso.example.com,subscribe:user.*`.
    #[serde(default)]
    grant: String,
    /// Taken away, in the same form.
    #[serde(default)]
    revoke: String,
}

/// `POST /api/admin/plugins/{id}/grants` with `{"grant": "…", "revoke": "…"}`.
pub async fn change_grants(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeCaller(caller): MaybeCaller,
    Json(body): Json<GrantsBody>,
) -> Result<Json<PluginDetails>> {
    let actor = admin(&caller)?;
    let grant = Capabilities::parse_list(&body.grant)
        .map_err(|err| crate::error::Error::bad_field("grant", err))?;
    let revoke = Capabilities::parse_list(&body.revoke)
        .map_err(|err| crate::error::Error::bad_field("revoke", err))?;
    Ok(Json(
        state
            .plugins
            .change_grants(&id, &grant, &revoke, &actor)
            .await?,
    ))
}

pub async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Json<PluginDetails>> {
    let actor = admin(&caller)?;
    Ok(Json(state.plugins.disable(&id, &actor).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UninstallQuery {
    #[serde(default)]
    purge: bool,
}

pub async fn uninstall(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<UninstallQuery>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<StatusCode> {
    let actor = admin(&caller)?;
    state.plugins.uninstall(&id, query.purge, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/plugins/{id}/settings`: the schema, the values (defaults filled in)
/// and which sealed settings have a value.
pub async fn settings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Json<PluginSettings>> {
    admin(&caller)?;
    Ok(Json(state.plugins.settings(&id).await?))
}

/// `PUT /api/admin/plugins/{id}/settings` with the whole settings object; sealed
/// settings left out keep their values.
pub async fn update_settings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<PluginSettings>> {
    admin(&Some(caller.clone()))?;
    let values: Value = serde_json::from_slice(&body)
        .map_err(|err| crate::error::Error::bad_request(format!("invalid JSON body: {err}")))?;
    let updated = state
        .plugins
        .set_settings(&id, values, &caller.actor())
        .await?;
    Ok(Json(updated))
}
