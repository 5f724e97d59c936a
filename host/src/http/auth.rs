//! Who is calling: an API key (`Authorization: Bearer hk_…`) or a session cookie.
//! Both are checked here and nowhere else; handlers receive a [`Caller`].

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use hatchery_sdk::Principal;

use super::{AppState, caches};
use crate::actions::Actor;
use crate::db::users::{Identity, User};
use crate::db::{sessions, users};
use crate::error::{Error, Result};

pub const SESSION_COOKIE: &str = "hatchery_session";

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub user: User,
    pub uuid: String,
    /// The administrator acting as this user, when impersonating.
    pub impersonator_id: Option<i64>,
    pub ip: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::user(
            self.principal.user_id,
            &self.principal.username,
            self.impersonator_id,
            self.ip.clone(),
        )
    }

    pub fn user_id(&self) -> i64 {
        self.principal.user_id
    }

    /// Requires a root admin or a role holding `permission` (see `policy`).
    pub fn require_admin_permission(&self, permission: &str) -> Result<()> {
        crate::policy::require_admin_permission(Some(&self.principal), permission).map(drop)
    }
}

/// The caller if credentials were sent; bad credentials are an error, never silently
/// treated as anonymous.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<MaybeCaller> {
        let ip = client_ip(state, parts.extensions.get(), &parts.headers);
        let Some((identity, impersonator_id)) =
            identify(state, &parts.method, &parts.headers, ip.as_deref()).await?
        else {
            return Ok(MaybeCaller(None));
        };
        let principal = identity.principal();
        Ok(MaybeCaller(Some(Caller {
            principal,
            uuid: identity.user.uuid.clone(),
            user: identity.user,
            impersonator_id,
            ip,
        })))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller> {
        MaybeCaller::from_request_parts(parts, state)
            .await?
            .0
            .ok_or_else(|| {
                Error::Unauthenticated(
                    "sign in or send an API key as `Authorization: Bearer <key>`".into(),
                )
            })
    }
}

/// The principal for plugin routes, which take the request's headers, with the
/// browser session that proved it (none for an API key).
pub async fn principal(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    ip: Option<&str>,
) -> Result<Option<(Principal, Option<i64>)>> {
    Ok(identify(state, method, headers, ip)
        .await?
        .map(|(identity, _)| (identity.principal(), identity.session_id)))
}

async fn identify(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    ip: Option<&str>,
) -> Result<Option<(Identity, Option<i64>)>> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Error::Unauthenticated("the Authorization header must be `Bearer <API key>`".into())
            })?;
        // Checked on every request, never remembered: a revoked key stops at once in
        // every panel process.
        let identity = users::verify_api_key(&state.db, token.trim()).await?;
        if let Some(key) = &identity.key
            && !key.allows(ip.and_then(|ip| ip.parse().ok()))
        {
            return Err(Error::Forbidden(format!(
                "API key {} may not be used from {}",
                key.identifier,
                ip.unwrap_or("an unknown address")
            )));
        }
        return Ok(Some((identity, None)));
    }
    let Some(token) = session_cookie(headers) else {
        return Ok(None);
    };
    // Cookies ride along on cross-site requests; a changing request must come from
    // the panel's own pages (SameSite=Strict covers browsers that send no Origin).
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        && let Some(origin) = headers.get(ORIGIN).and_then(|origin| origin.to_str().ok())
        && origin.trim_end_matches('/') != state.config.public_origin()
    {
        return Err(Error::Forbidden(format!(
            "requests from {origin} cannot use the panel's session; use an API key"
        )));
    }
    let key = caches::key("session", token);
    if let Some(cached) = state.caches.identities.get(&key) {
        return Ok(Some(cached));
    }
    let (identity, impersonator) =
        sessions::verify(&state.db, token, state.config.session_idle).await?;
    state.caches.identities.insert(key, &identity, impersonator);
    Ok(Some((identity, impersonator)))
}

/// The session token from the `Cookie` header, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value for a new session.
pub fn session_set_cookie(token: &str, secure: bool) -> String {
    let max_age = sessions::SESSION_LIFETIME.num_seconds();
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

/// The `Set-Cookie` value that signs the browser out.
pub fn session_clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The client's address: the socket's peer, or, behind a trusted reverse proxy, the
/// nearest `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(
    state: &AppState,
    peer: Option<&ConnectInfo<SocketAddr>>,
    headers: &HeaderMap,
) -> Option<String> {
    let peer = peer.map(|ConnectInfo(address)| address.ip())?;
    let trusted = &state.config.trusted_proxies;
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Vec<_>>();
    let client = forwarded
        .into_iter()
        .rev()
        .find(|address| !trusted.contains(address))
        .unwrap_or(peer);
    Some(client.to_string())
}
