//! Administrators acting as a user. The host decides who may (`users.impersonate`, and
//! never someone with more power) and records every action with the administrator;
//! this keeps which browser session to go back to.

use hatchery_sdk::{ActivityEntry, DbValue, Error, Request, Response, SessionOrigin, host, json};
use serde::Deserialize;

use crate::{now, public_user, signed_in};

/// `POST /api/auth/core-auth/impersonate`: `{user}` (id, username or email).
pub fn start(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Start {
        user: String,
    }
    let admin = signed_in(request)?;
    let admin_session = request.session_id().ok_or_else(|| {
        Error::bad_request("act as someone from a signed-in browser, not with an API key")
    })?;
    if let Some(open) = impersonation(admin_session)? {
        return Err(Error::conflict(format!(
            "this browser already acts as user {}; exit first",
            open.user_id
        )));
    }
    let body: Start = request.fields()?;
    let target = host::identity::find_user(body.user.trim())?
        .ok_or_else(|| Error::not_found(format!("no user `{}`", body.user.trim())))?;
    let session = host::identity::create_session(
        target.id,
        &SessionOrigin {
            ip: request.client_ip().map(str::to_string),
            user_agent: request.header("user-agent").map(str::to_string),
            impersonator_id: Some(admin),
        },
    )?;
    host::execute(
        "INSERT INTO core_auth__impersonations (session_id, user_id, admin_id, admin_session_id, started_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            session.id.into(),
            target.id.into(),
            admin.into(),
            admin_session.into(),
            now().into(),
        ],
    )?;
    let mut entry = ActivityEntry::new("impersonate.start");
    entry.actor_id = Some(admin);
    entry.subject = Some(("user".into(), target.uuid.clone()));
    host::activity::record(&entry)?;
    Ok(
        Response::json(&json!({ "data": { "acting_as": public_user(&target) } }))
            .with_session(&session),
    )
}

/// `POST /api/auth/core-auth/impersonate/exit`: ends acting as the user and signs
/// this browser back in as the administrator, if their own session is still live.
pub fn exit(request: &Request) -> Result<Response, Error> {
    let acting_as = signed_in(request)?;
    let open = request
        .session_id()
        .map(impersonation)
        .transpose()?
        .flatten()
        .filter(|open| open.user_id == acting_as)
        .ok_or_else(|| Error::bad_request("this browser is not acting as anyone"))?;
    host::identity::revoke_sessions(acting_as, Some(open.session_id))?;
    host::execute(
        "DELETE FROM core_auth__impersonations WHERE session_id = $1",
        &[open.session_id.into()],
    )?;
    let admin_still_in = host::identity::sessions(open.admin_id)?
        .iter()
        .any(|session| session.id == open.admin_session_id);
    if !admin_still_in {
        return Ok(Response::json(
            &json!({ "data": { "signed_out": true, "reason": "your own session had ended" } }),
        ));
    }
    // The browser never had the administrator's token again: it gets a new one, and
    // the one it replaces ends.
    let session = host::identity::create_session(
        open.admin_id,
        &SessionOrigin {
            ip: request.client_ip().map(str::to_string),
            user_agent: request.header("user-agent").map(str::to_string),
            impersonator_id: None,
        },
    )?;
    host::identity::revoke_sessions(open.admin_id, Some(open.admin_session_id))?;
    let admin = host::identity::find_user(&open.admin_id.to_string())?
        .filter(|user| user.id == open.admin_id)
        .ok_or_else(|| Error::not_found("the administrator is gone"))?;
    Ok(
        Response::json(&json!({ "data": { "signed_in_as": public_user(&admin) } }))
            .with_session(&session),
    )
}

struct Open {
    session_id: i64,
    user_id: i64,
    admin_id: i64,
    admin_session_id: i64,
}

fn impersonation(session_id: i64) -> Result<Option<Open>, Error> {
    let rows = host::query(
        "SELECT user_id, admin_id, admin_session_id FROM core_auth__impersonations WHERE session_id = $1",
        &[session_id.into()],
    )?;
    Ok(rows.iter().next().and_then(|row| {
        let number = |column: &str| row.get(column).and_then(DbValue::as_i64);
        Some(Open {
            session_id,
            user_id: number("user_id")?,
            admin_id: number("admin_id")?,
            admin_session_id: number("admin_session_id")?,
        })
    }))
}
