//! People's own API keys: made here, kept (hashed) and checked by the host on every
//! request. A key acts as its owner, with administrator powers only when asked for
//! and only if the owner has them, from anywhere or only the addresses given, on all
//! their servers or only some, with all their permissions there or only some.

use hatchery_sdk::{ApiKeyRequest, Error, Request, Response, host, json};
use serde::Deserialize;

use crate::{in_browser, now, signed_in};

/// Longest a key may live, when it expires at all.
const MAX_DAYS: i64 = 3650;

/// `GET /api/auth/core-auth/api-keys`
pub fn list(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let keys = host::identity::api_keys(caller)?;
    Ok(Response::json(
        &json!({ "data": keys.iter().map(|key| json!({
        "identifier": key.identifier,
        "description": key.description,
        "admin": key.admin,
        "servers": key.servers,
        "permissions": key.permissions,
        "allowed_ips": key.allowed_ips,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
    })).collect::<Vec<_>>() }),
    ))
}

/// `POST /api/auth/core-auth/api-keys`: the token is in the answer, and only there.
pub fn issue(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Issue {
        #[serde(default)]
        description: String,
        #[serde(default)]
        expires_in_days: Option<i64>,
        #[serde(default)]
        admin: bool,
        #[serde(default)]
        allowed_ips: Vec<String>,
        /// Only these servers (ids, uuids or short ids).
        #[serde(default)]
        servers: Option<Vec<String>>,
        /// Only these server permissions on them.
        #[serde(default)]
        permissions: Option<Vec<String>>,
    }
    let caller = request
        .principal
        .as_ref()
        .ok_or_else(|| Error::unauthorized("sign in first"))?;
    let body: Issue = request.json()?;
    if body.admin && !caller.admin && caller.permissions.is_empty() {
        return Err(Error::forbidden(
            "you hold no administrator powers for a key to carry",
        ));
    }
    let expires_at = match body.expires_in_days {
        Some(days) if !(1..=MAX_DAYS).contains(&days) => {
            return Err(Error::bad_request(format!(
                "a key lives 1 to {MAX_DAYS} days"
            )));
        }
        Some(days) => Some(now() + days * 86_400),
        None => None,
    };
    let key = host::identity::issue_api_key(
        in_browser(request)?,
        &ApiKeyRequest {
            description: body.description,
            expires_at,
            admin: body.admin,
            allowed_ips: body.allowed_ips,
            servers: body.servers,
            permissions: body.permissions,
        },
    )?;
    Ok(Response::json(&json!({ "data": {
        "identifier": key.identifier,
        "token": key.token,
        "expires_at": expires_at,
    }}))
    .with_status(201))
}

/// `DELETE /api/auth/core-auth/api-keys/{identifier}`
pub fn revoke(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let identifier = request.param("identifier").unwrap_or_default();
    host::identity::revoke_api_key(caller, identifier)?;
    Ok(Response::json(
        &json!({ "data": { "revoked": identifier } }),
    ))
}
