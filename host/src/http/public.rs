//! What anyone may call: the settings the web app loads first, the first-start setup,
//! signing out, the permission catalogue and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hatchery_sdk::PasswordInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::api::{Data, data};
use super::auth::{MaybeCaller, session_clear_cookie, session_cookie, session_set_cookie};
use crate::actions::{Activity, Actor};
use crate::db::sessions::{self, SessionOrigin};
use crate::db::users::{self, NewUser, User};
use crate::error::{Error, Result};
use crate::policy;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicSettings {
    pub name: String,
    pub version: String,
    /// The panel's address as configured.
    pub url: String,
    /// True until the first administrator is created through the setup link.
    pub setup_required: bool,
}

/// The public settings; the web app's first request.
#[utoipa::path(get, path = "/api/settings", tag = "public",
    responses((status = 200, body = Data<PublicSettings>)))]
pub async fn settings(State(state): State<AppState>) -> Result<Json<Data<PublicSettings>>> {
    let setup_required = state
        .setup_required
        .load(std::sync::atomic::Ordering::Relaxed)
        && sessions::setup_pending(&state.db).await?;
    if !setup_required {
        state
            .setup_required
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(data(PublicSettings {
        name: "Hatchery".into(),
        version: crate::plugins::HOST_VERSION.to_string(),
        url: state.config.public_url.clone(),
        setup_required,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The token from the link printed in the panel's log on first start.
    pub token: String,
    pub username: String,
    pub email: String,
    pub password: String,
}

/// Creates the first administrator with the one-time setup token and signs them in.
#[utoipa::path(post, path = "/api/setup", tag = "public", request_body = SetupRequest,
    responses((status = 201, body = Data<User>, description = "the administrator; the session cookie is set"),
              (status = 403, body = super::api::ErrorBody, description = "the token is wrong, used or expired")))]
pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<SetupRequest>,
) -> Result<Response> {
    let new = NewUser {
        username: request.username,
        email: request.email,
        admin: true,
        ..NewUser::default()
    };
    // Check everything before the token is used up, so a typo does not burn it.
    users::check_new(&new)?;
    let refused = || {
        Error::Forbidden(
            "the setup link is wrong, used or expired; run `hatchery user create --admin` instead"
                .into(),
        )
    };
    let token = request.token.trim();
    if !sessions::setup_token_valid(&state.db, token).await? {
        return Err(refused());
    }
    let user = users::create(&state.db, &new).await?;
    // The sign-in plugin keeps the password; if it refuses it (or none is enabled),
    // the administrator is not kept and the link still works.
    let password = state
        .plugins
        .set_password(user.id, PasswordInput::Plain(request.password))
        .await;
    let redeemed = match password {
        Ok(()) => sessions::redeem_setup_token(&state.db, token, user.id).await,
        Err(err) => Err(err),
    };
    match redeemed {
        Ok(true) => {}
        outcome => {
            users::delete(&state.db, &user).await?;
            return Err(outcome.err().unwrap_or_else(refused));
        }
    }
    state
        .setup_required
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let origin = SessionOrigin {
        user_agent: user_agent(&headers),
        ..SessionOrigin::default()
    };
    let token = sessions::create(&state.db, user.id, &origin).await?;
    state
        .core()
        .record(
            &Actor::user(user.id, &user.username, None, None),
            Activity::new("admin.setup").subject("user", &user.uuid),
        )
        .await;
    let cookie = session_set_cookie(&token, state.config.public_url.starts_with("https://"));
    Ok((StatusCode::CREATED, [(SET_COOKIE, cookie)], data(user)).into_response())
}

pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .map(str::to_string)
}

/// Ends the caller's session (API keys are revoked where they were issued).
#[utoipa::path(post, path = "/api/auth/logout", tag = "public",
    responses((status = 204, description = "signed out; the cookie is cleared")))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response> {
    if let Some(token) = session_cookie(&headers) {
        sessions::delete(&state.db, token).await?;
        if let Some(caller) = caller {
            state
                .core()
                .record(&caller.actor(), Activity::new("auth.logout"))
                .await;
        }
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, session_clear_cookie())],
    )
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionCatalogue {
    /// What roles can hold.
    pub admin: Vec<PermissionInfo>,
    /// What subusers can hold on a server.
    pub server: Vec<PermissionInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionInfo {
    pub name: String,
    pub description: String,
}

/// Every admin and server permission with what it allows: the host's, then those of
/// enabled plugins (`[[permissions]]`, server ones with `scope = "server"`).
#[utoipa::path(get, path = "/api/permissions", tag = "public",
    responses((status = 200, body = Data<PermissionCatalogue>)))]
pub async fn permissions(State(state): State<AppState>) -> Json<Data<PermissionCatalogue>> {
    use crate::plugins::manifest::PermissionScope;
    let list = |permissions: &[(&str, &str)]| -> Vec<PermissionInfo> {
        permissions
            .iter()
            .map(|(name, description)| PermissionInfo {
                name: name.to_string(),
                description: description.to_string(),
            })
            .collect()
    };
    let mut catalogue = PermissionCatalogue {
        admin: list(policy::ADMIN_PERMISSIONS),
        server: list(policy::SERVER_PERMISSIONS),
    };
    for plugin in state.plugins.registry().loaded_plugins() {
        for permission in &plugin.manifest.permissions {
            let info = PermissionInfo {
                name: permission.name.clone(),
                description: permission.description.clone(),
            };
            match permission.scope {
                PermissionScope::Panel => catalogue.admin.push(info),
                PermissionScope::Server => catalogue.server.push(info),
            }
        }
    }
    data(catalogue)
}

/// A way to sign in, from a plugin that provides `auth-method`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInOption {
    /// The plugin that offers it.
    pub plugin: String,
    pub id: String,
    pub label: String,
    /// `form`, `redirect` or `passkey`.
    pub kind: String,
    /// Where the browser begins, e.g. `/api/auth/core-auth/password`.
    pub start: String,
}

/// The ways to sign in, for the sign-in page. A plugin that fails to answer is left
/// out (and logged).
#[utoipa::path(get, path = "/api/auth/methods", tag = "public",
    responses((status = 200, body = Data<Vec<SignInOption>>)))]
pub async fn sign_in_methods(
    State(state): State<AppState>,
) -> Result<Json<Data<Vec<SignInOption>>>> {
    let providers = state
        .plugins
        .registry()
        .providers(crate::plugins::manifest::Provider::AuthMethod);
    let mut options = Vec::new();
    for plugin in providers {
        match plugin.code.auth_methods().await {
            Ok(methods) => options.extend(methods.into_iter().map(|method| {
                SignInOption {
                    plugin: plugin.manifest.id.clone(),
                    id: method.id,
                    label: method.label,
                    kind: serde_json::to_value(method.kind)
                        .ok()
                        .and_then(|kind| kind.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    start: format!("/api/auth/{}", method.start.trim_start_matches('/')),
                }
            })),
            Err(err) => {
                tracing::warn!(plugin = %plugin.manifest.id, "could not list its sign-in methods: {err}")
            }
        }
    }
    Ok(Json(Data { data: options }))
}
