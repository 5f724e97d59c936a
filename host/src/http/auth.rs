//! Who is calling: API keys now, sessions once the auth plugin issues them.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use hatchery_sdk::Principal;

use super::AppState;
use crate::db::users;
use crate::error::{Error, Result};

/// The caller, if credentials were sent. Bad credentials are an error, never
/// silently treated as anonymous.
pub async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| {
            Error::Unauthenticated("the Authorization header must be `Bearer <API key>`".into())
        })?;
    let user = users::verify_api_key(&state.db, token.trim()).await?;
    Ok(Some(Principal {
        user_id: user.id,
        username: user.username,
        admin: user.admin,
        // Role-granted permissions join here when roles exist; admins hold all.
        permissions: Vec::new(),
    }))
}
