//! Sign-ins and credentials, for plugins that implement sign-in methods (contract 1.1
//! `identity`): sessions, with an impersonator when an administrator acts as a user,
//! and API keys. The host keeps and verifies them; who may do what is decided in
//! [`crate::policy`], and every change is recorded and published as `user.*`.

use chrono::Utc;
use serde_json::json;

use super::{Activity, Actor, Core};
use crate::db::sessions::{self, SessionInfo, SessionOrigin};
use crate::db::users::{self, IssuedKey, User};
use crate::db::{servers, subusers};
use crate::error::{Error, Result};
use crate::events::host_event;
use crate::policy;

async fn user(core: &Core, user_id: i64) -> Result<User> {
    users::find(&core.db, &user_id.to_string())
        .await?
        .filter(|user| user.id == user_id)
        .ok_or_else(|| Error::NotFound(format!("no user {user_id}")))
}

fn publish(core: &Core, event: &str, user: &User, details: serde_json::Value) {
    let mut payload = json!({ "user_id": user.id, "user": user.uuid, "username": user.username });
    if let (Some(payload), Some(details)) = (payload.as_object_mut(), details.as_object()) {
        payload.extend(details.clone());
    }
    core.events.publish(host_event(event, payload));
}

/// Opens an account for someone a sign-in method vouches for (an identity provider's
/// user): never a root administrator, with a role only if it exists.
pub async fn provision_user(
    core: &Core,
    actor: &Actor,
    username: &str,
    email: &str,
    role: Option<&str>,
) -> Result<User> {
    let role_id = match role {
        Some(name) => Some(
            crate::db::roles::find(&core.db, name)
                .await?
                .filter(|found| found.name == name)
                .ok_or_else(|| Error::bad_field("role", format!("there is no role `{name}`")))?
                .id,
        ),
        None => None,
    };
    let new = users::NewUser {
        username: username.to_string(),
        email: email.to_string(),
        admin: false,
        language: None,
        role_id,
    };
    let user = users::create(&core.db, &new).await?;
    core.record(
        actor,
        Activity::new("auth.user.provision")
            .subject("user", &user.uuid)
            .with(json!({ "user_id": user.id, "username": user.username, "role": role })),
    )
    .await;
    Ok(user)
}

/// Signs `user_id` in: a new session, whose token goes to the browser as a cookie.
/// With an impersonator, that administrator must be allowed to act as this user.
pub async fn create_session(
    core: &Core,
    actor: &Actor,
    user_id: i64,
    origin: &SessionOrigin,
) -> Result<sessions::Opened> {
    let user = user(core, user_id).await?;
    if let Some(impersonator_id) = origin.impersonator_id {
        let impersonator = users::identity(&core.db, impersonator_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user {impersonator_id}")))?;
        let target = users::identity(&core.db, user_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user {user_id}")))?;
        policy::check_impersonation(&impersonator.principal(), &target.principal())?;
    }
    let opened = sessions::open(&core.db, user.id, origin).await?;
    let acting = Actor::user(
        user.id,
        &user.username,
        origin.impersonator_id,
        origin.ip.clone(),
    );
    let via = json!({ "via": actor.name, "impersonator_id": origin.impersonator_id });
    core.record(
        &acting,
        Activity::new("auth.session.create").with(via.clone()),
    )
    .await;
    publish(core, "user.signed-in", &user, via);
    Ok(opened)
}

pub async fn list_sessions(core: &Core, user_id: i64) -> Result<Vec<SessionInfo>> {
    let user = user(core, user_id).await?;
    sessions::for_user(&core.db, user.id).await
}

/// Ends one session of `user_id`, or all of them with `session_id` none.
pub async fn revoke_sessions(
    core: &Core,
    actor: &Actor,
    user_id: i64,
    session_id: Option<i64>,
) -> Result<()> {
    let user = user(core, user_id).await?;
    match session_id {
        Some(id) => {
            if !sessions::delete_by_id(&core.db, user.id, id).await? {
                return Err(Error::NotFound(format!(
                    "user {user_id} has no session {id}"
                )));
            }
        }
        None => sessions::delete_for_user(&core.db, user.id).await?,
    }
    let details = json!({ "session_id": session_id });
    core.record(
        actor,
        Activity::new("auth.session.revoke")
            .subject("user", &user.uuid)
            .with(details.clone()),
    )
    .await;
    publish(core, "user.signed-out", &user, details);
    Ok(())
}

/// A new API key for `user_id`; its token is shown once and only its hash is kept.
pub async fn issue_api_key(
    core: &Core,
    actor: &Actor,
    user_id: i64,
    options: &users::KeyOptions,
) -> Result<IssuedKey> {
    let user = user(core, user_id).await?;
    if options.description.chars().count() > 255 {
        return Err(Error::bad_request(
            "a key's description is at most 255 characters",
        ));
    }
    if options
        .expires_at
        .is_some_and(|expiry| expiry <= Utc::now())
    {
        return Err(Error::bad_request("a key cannot expire in the past"));
    }
    if options.allowed_ips.len() > 64 {
        return Err(Error::bad_request(
            "a key works from at most 64 addresses or networks",
        ));
    }
    let mut options = options.clone();
    options.scope = key_scope(core, user.id, &options.scope).await?;
    let key = users::issue_api_key(&core.db, user.id, &options).await?;
    let details = json!({
        "identifier": key.identifier,
        "description": options.description,
        "admin": options.admin_power,
        "allowed_ips": options.allowed_ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "servers": options.scope.servers,
        "permissions": options.scope.permissions,
    });
    core.record(
        actor,
        Activity::new("auth.api-key.create")
            .subject("user", &user.uuid)
            .with(details.clone()),
    )
    .await;
    publish(core, "user.api-key-created", &user, details);
    Ok(key)
}

/// A key's limits as stored: the servers named (by id, uuid or short id) as uuids,
/// each one the user may use; the permissions, each a server permission.
async fn key_scope(
    core: &Core,
    user_id: i64,
    asked: &hatchery_sdk::KeyScope,
) -> Result<hatchery_sdk::KeyScope> {
    let owner = users::identity(&core.db, user_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no user {user_id}")))?
        .principal();
    let servers = match &asked.servers {
        None => None,
        Some(keys) => {
            let mut uuids = Vec::with_capacity(keys.len());
            for key in keys.iter().take(256) {
                let unknown = || Error::bad_field("servers", format!("no server `{key}`"));
                let server = servers::find(&core.db, key).await?.ok_or_else(unknown)?;
                let subuser = match policy::needs_subuser_permissions(&owner, server.owner_id) {
                    true => subusers::permissions(&core.db, server.id, user_id).await?,
                    false => None,
                };
                policy::server_access(&owner, &server.uuid, server.owner_id, subuser)
                    .map_err(|_| unknown())?;
                if !uuids.contains(&server.uuid) {
                    uuids.push(server.uuid);
                }
            }
            Some(uuids)
        }
    };
    if let Some(permissions) = &asked.permissions {
        policy::check_server_permissions(permissions)?;
    }
    Ok(hatchery_sdk::KeyScope {
        servers,
        permissions: asked.permissions.clone(),
    })
}

/// Revokes a key of `user_id`; it stops working on the next request.
pub async fn revoke_api_key(
    core: &Core,
    actor: &Actor,
    user_id: i64,
    identifier: &str,
) -> Result<()> {
    let user = user(core, user_id).await?;
    if !users::revoke_api_key(&core.db, user.id, identifier).await? {
        return Err(Error::NotFound(format!(
            "user {user_id} has no API key {identifier}"
        )));
    }
    let details = json!({ "identifier": identifier });
    core.record(
        actor,
        Activity::new("auth.api-key.revoke")
            .subject("user", &user.uuid)
            .with(details.clone()),
    )
    .await;
    publish(core, "user.api-key-revoked", &user, details);
    Ok(())
}
