//! Forgotten passwords: a link by e-mail (through the panel's mail server), good for
//! an hour and once. Asking reveals nothing: the answer is the same whether or not
//! the address has an account, and asking is limited per address and per account.

use hatchery_sdk::{
    ActivityEntry, DbValue, Error, LogLevel, MailMessage, Request, Response, host, json,
};
use serde::Deserialize;

use crate::failures::{self, Limit};
use crate::{check_new_password, now, passwords, settings, store_hash, totp};

/// How long a reset link works.
const LINK_SECONDS: i64 = 3600;
/// Links asked for per account, and per address, within the failure window.
const ASKS_PER_ACCOUNT: i64 = 3;
const ASKS_PER_ADDRESS: i64 = 10;

/// `POST /api/auth/core-auth/password/reset`: `{email}`.
pub fn ask(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Ask {
        email: String,
    }
    let form = request.is_form();
    let body: Ask = request.fields()?;
    let settings = settings()?;
    let now = now();
    let email = body.email.trim().to_lowercase();
    let account = format!("reset:{email}");
    let address = format!("reset-address:{}", request.client_ip().unwrap_or("unknown"));
    let limits = [
        Limit {
            key: &account,
            allowed: ASKS_PER_ACCOUNT,
        },
        Limit {
            key: &address,
            allowed: ASKS_PER_ADDRESS,
        },
    ];
    for limit in &limits {
        if failures::wait_for(limit, settings.failure_window_seconds, now)?.is_some() {
            return Err(Error::too_many_requests(
                "too many reset links asked for; try again later",
            ));
        }
    }
    for limit in &limits {
        failures::record(limit.key, settings.failure_window_seconds, now)?;
    }
    let user = host::identity::find_user(&email)?
        .filter(|user| !email.is_empty() && user.email.eq_ignore_ascii_case(&email));
    if let Some(user) = user {
        send_link(request, &user)?;
    }
    if form {
        return Ok(Response::redirect("/sign-in?reset=sent"));
    }
    Ok(Response::json(&json!({ "data": {
        "message": "if an account has this address, a link to choose a new password is on its way",
    }}))
    .with_status(202))
}

fn send_link(request: &Request, user: &hatchery_sdk::UserInfo) -> Result<(), Error> {
    let token = crate::random_token()?;
    host::execute(
        "DELETE FROM core_auth__resets WHERE expires_at < $1",
        &[now().into()],
    )?;
    host::execute(
        "INSERT INTO core_auth__resets (token_sha256, user_id, expires_at) VALUES ($1, $2, $3)",
        &[
            totp::recovery_hash(&token).into(),
            user.id.into(),
            (now() + LINK_SECONDS).into(),
        ],
    )?;
    let panel = request.panel_url().unwrap_or_default();
    let text = format!(
        "Someone asked to reset the password of your Hatchery account \"{username}\" at {panel}.\n\n\
         To choose a new password, open this link within an hour:\n\
         {panel}/reset-password?token={token}\n\n\
         If it was not you, ignore this message; your password stays as it is.\n",
        username = user.username,
    );
    let sent = host::mail::send(&MailMessage {
        to: user.email.clone(),
        subject: "Reset your Hatchery password".into(),
        text,
    });
    // The answer must not tell whether the account exists, so a mail server that is
    // missing or down is the administrator's to hear about, in the log.
    if let Err(err) = sent {
        host::log(
            LogLevel::Warn,
            &format!("a password reset link could not be sent: {err}"),
        );
    }
    Ok(())
}

/// `POST /api/auth/core-auth/password/reset/confirm`: `{token, password}`.
pub fn confirm(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Confirm {
        token: String,
        password: String,
    }
    let form = request.is_form();
    let body: Confirm = request.fields()?;
    let key = totp::recovery_hash(body.token.trim());
    let rows = host::query(
        "SELECT user_id FROM core_auth__resets WHERE token_sha256 = $1 AND expires_at > $2",
        &[key.as_str().into(), now().into()],
    )?;
    let Some(user_id) = rows
        .iter()
        .next()
        .and_then(|row| row.get("user_id").and_then(DbValue::as_i64))
    else {
        if form {
            return Ok(Response::redirect("/sign-in?error=reset-expired"));
        }
        return Err(Error::bad_request(
            "the reset link has expired or was used; ask for a new one",
        ));
    };
    check_new_password(&body.password, &settings()?)?;
    // Taken once: of two confirmations racing, one deletes it and goes on.
    let taken = host::execute(
        "DELETE FROM core_auth__resets WHERE token_sha256 = $1",
        &[key.as_str().into()],
    )?;
    if taken != 1 {
        return Err(Error::bad_request(
            "the reset link has expired or was used; ask for a new one",
        ));
    }
    store_hash(user_id, &passwords::hash(&body.password)?)?;
    host::execute(
        "DELETE FROM core_auth__resets WHERE user_id = $1",
        &[user_id.into()],
    )?;
    host::identity::revoke_sessions(user_id, None)?;
    if let Some(user) =
        host::identity::find_user(&user_id.to_string())?.filter(|user| user.id == user_id)
    {
        failures::clear(&format!("account:{}", user.username.to_lowercase()))?;
        failures::clear(&format!("account:{}", user.email.to_lowercase()))?;
    }
    let mut entry = ActivityEntry::new("password.reset");
    entry.actor_id = Some(user_id);
    host::activity::record(&entry)?;
    if form {
        return Ok(Response::redirect("/sign-in?reset=done"));
    }
    Ok(Response::json(&json!({ "data": { "reset": true } })))
}
