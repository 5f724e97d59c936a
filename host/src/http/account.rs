//! `/api/client/account`: the signed-in user's own account.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::api::{Data, data, found};
use super::auth::Caller;
use crate::actions::Activity;
use crate::db::users::{self, User, UserChanges};
use crate::error::{Error, Result};

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Account {
    #[serde(flatten)]
    pub user: User,
    /// The admin permissions the user's role gives (root admins hold all).
    pub permissions: Vec<String>,
    /// Set while an administrator is acting as this user.
    pub impersonator_id: Option<i64>,
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/client/account", tag = "account",
    responses((status = 200, body = Data<Account>), (status = 401, body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn show(caller: Caller) -> Result<Json<Data<Account>>> {
    Ok(data(Account {
        user: caller.user,
        permissions: caller.principal.permissions,
        impersonator_id: caller.impersonator_id,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    pub email: Option<String>,
    pub language: Option<String>,
    pub password: Option<String>,
    /// Required to change the email or the password.
    pub current_password: Option<String>,
}

/// Changes the caller's email, language or password. A new password signs out every
/// session.
#[utoipa::path(patch, path = "/api/client/account", tag = "account", request_body = AccountChanges,
    responses((status = 200, body = Data<User>), (status = 400, body = super::api::ErrorBody)),
    security(("api_key" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Json(changes): Json<AccountChanges>,
) -> Result<Json<Data<User>>> {
    let user = found(
        users::find(&state.db, &caller.uuid).await?,
        "user",
        &caller.uuid,
    )?;
    if changes.email.is_some() || changes.password.is_some() {
        let current = changes.current_password.as_deref().unwrap_or("");
        if !state.plugins.password_matches(&user, current).await? {
            return Err(Error::bad_field(
                "current_password",
                "the current password is not right",
            ));
        }
    }
    let user_changes = UserChanges {
        email: changes.email.clone(),
        language: changes.language.clone(),
        ..UserChanges::default()
    };
    users::check_changes(&user_changes)?;
    if let Some(password) = changes.password.clone() {
        state.plugins.change_password(&user, password).await?;
    }
    let updated = users::update(&state.db, &user, &user_changes).await?;
    if changes.password.is_some() {
        state.core().end_sessions(&user.uuid, None).await;
    }
    let mut changed = Vec::new();
    for (name, set) in [
        ("email", changes.email.is_some()),
        ("language", changes.language.is_some()),
        ("password", changes.password.is_some()),
    ] {
        if set {
            changed.push(name);
        }
    }
    state
        .core()
        .record(
            &caller.actor(),
            Activity::new("user.account.update")
                .subject("user", &user.uuid)
                .with(json!({ "changed": changed })),
        )
        .await;
    Ok(data(updated))
}
