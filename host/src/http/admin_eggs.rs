//! `/api/admin/eggs`: import (Pterodactyl PTDL_v1/v2 JSON, Pelican YAML), export,
//! list and delete.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::api::{Data, data, found};
use super::auth::Caller;
use crate::actions::Activity;
use crate::db::eggs::{self, EggRecord, Imported, Nest};
use crate::domain::eggs::{Egg, ExportFormat};
use crate::error::{Error, Result};

#[utoipa::path(get, path = "/api/admin/eggs", tag = "admin",
    responses((status = 200, body = Data<Vec<EggRecord>>)), security(("api_key" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Data<Vec<EggRecord>>>> {
    caller.require_admin_permission("eggs.read")?;
    Ok(data(eggs::list(&state.db).await?))
}

#[utoipa::path(get, path = "/api/admin/nests", tag = "admin",
    responses((status = 200, body = Data<Vec<Nest>>)), security(("api_key" = []), ("session" = [])))]
pub async fn nests(State(state): State<AppState>, caller: Caller) -> Result<Json<Data<Vec<Nest>>>> {
    caller.require_admin_permission("eggs.read")?;
    Ok(data(eggs::nests(&state.db).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EggDetails {
    #[serde(flatten)]
    pub record: EggRecord,
    /// The whole egg: images, startup, variables with rules, config, install script.
    #[schema(value_type = Object)]
    pub definition: Value,
}

#[utoipa::path(get, path = "/api/admin/eggs/{egg}", tag = "admin",
    params(("egg" = String, Path, description = "id, uuid or name")),
    responses((status = 200, body = Data<EggDetails>)), security(("api_key" = []), ("session" = [])))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Data<EggDetails>>> {
    caller.require_admin_permission("eggs.read")?;
    let record = found(eggs::find(&state.db, &key).await?, "egg", &key)?;
    let definition = serde_json::to_value(record.egg()?).unwrap_or(Value::Null);
    Ok(data(EggDetails { record, definition }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The nest (group) to import into; created when missing. Defaults to the egg's
    /// first tag, or `Imported`.
    pub nest: Option<String>,
    /// Only check the egg.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// `created`, `updated`, or `valid` for a dry run.
    pub result: String,
    pub egg: Option<EggRecord>,
    /// What was accepted but adjusted (duplicate variables, …).
    pub warnings: Vec<String>,
}

/// Imports one egg file, unchanged, as sent in the body.
#[utoipa::path(post, path = "/api/admin/eggs", tag = "admin", params(ImportQuery),
    request_body(content = String, content_type = "application/json", description = "a PTDL_v1/PTDL_v2 JSON or Pelican YAML egg"),
    responses((status = 201, body = Data<ImportResult>), (status = 400, body = super::api::ErrorBody, description = "not an egg; the message says why")),
    security(("api_key" = []), ("session" = [])))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Data<ImportResult>>)> {
    caller.require_admin_permission("eggs.import")?;
    let text =
        std::str::from_utf8(&body).map_err(|_| Error::bad_request("the egg is not UTF-8 text"))?;
    let egg = Egg::parse(text).map_err(Error::bad_request)?;
    let warnings = egg.warnings.clone();
    if query.dry_run {
        return Ok((
            StatusCode::OK,
            data(ImportResult {
                result: "valid".into(),
                egg: None,
                warnings,
            }),
        ));
    }
    let nest = query
        .nest
        .clone()
        .or_else(|| egg.tags.first().cloned())
        .unwrap_or_else(|| "Imported".into());
    let (record, outcome) = eggs::import(&state.db, &nest, &egg).await?;
    let result = match outcome {
        Imported::Created => "created",
        Imported::Updated => "updated",
    };
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.egg.import")
                .subject("egg", &record.uuid)
                .with(json!({ "name": record.name, "result": result })),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        data(ImportResult {
            result: result.into(),
            egg: Some(record),
            warnings,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `pterodactyl` (PTDL_v2 JSON, the default) or `pelican` (YAML).
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/eggs/{egg}/export", tag = "admin",
    params(("egg" = String, Path), ExportQuery),
    responses((status = 200, description = "the egg file")), security(("api_key" = []), ("session" = [])))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String)> {
    caller.require_admin_permission("eggs.import")?;
    let record = found(eggs::find(&state.db, &key).await?, "egg", &key)?;
    let (format, content_type) = match query.format.as_deref() {
        None | Some("pterodactyl") => (ExportFormat::Pterodactyl, "application/json"),
        Some("pelican") => (ExportFormat::Pelican, "application/yaml"),
        Some(other) => {
            return Err(Error::bad_field(
                "format",
                format!("`{other}` is not pterodactyl or pelican"),
            ));
        }
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, content_type)],
        record.egg()?.export(format),
    ))
}

#[utoipa::path(delete, path = "/api/admin/eggs/{egg}", tag = "admin", params(("egg" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 409, body = super::api::ErrorBody, description = "servers use it")),
    security(("api_key" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<StatusCode> {
    caller.require_admin_permission("eggs.delete")?;
    let record = found(eggs::find(&state.db, &key).await?, "egg", &key)?;
    eggs::delete(&state.db, &record).await?;
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("admin.egg.delete")
                .subject("egg", &record.uuid)
                .with(json!({ "name": record.name })),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
