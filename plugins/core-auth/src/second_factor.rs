//! The second factor: an authenticator app (TOTP) with recovery codes.
//!
//! A sign-in whose password is right but owes a code gets a challenge (five minutes,
//! five tries) instead of a session; `POST /api/auth/core-auth/second-factor` with the
//! challenge and a code finishes it. A code works once (the step it was made for must
//! be newer than the last one used), a recovery code once ever. Members of roles the
//! admin named set an app up inside that same challenge before their first session.

use hatchery_sdk::{
    ActivityEntry, DbValue, Error, Request, Response, SessionOrigin, UserInfo, host, json,
};
use serde::Deserialize;

use crate::{Settings, complete_sign_in, in_browser, now, signed_in, totp};

/// How long a half-done sign-in waits for its code.
const CHALLENGE_SECONDS: i64 = 300;
/// Codes tried against one challenge before it is spent.
const CHALLENGE_ATTEMPTS: i64 = 5;
/// How the authenticator app names the account's issuer.
const ISSUER: &str = "Hatchery";

/// What a signing-in user still owes after their password.
pub enum Owed {
    Nothing,
    /// A code from their authenticator app, a security key, or a recovery code.
    Code,
    /// Their role requires a second factor they have not set up yet.
    Enrolment,
}

impl Owed {
    pub fn as_str(&self) -> &'static str {
        match self {
            Owed::Nothing => "none",
            Owed::Code => "code",
            Owed::Enrolment => "enrol",
        }
    }
}

pub fn owed(user: &UserInfo, settings: &Settings) -> Result<Owed, Error> {
    if confirmed(user.id)? || crate::passkeys::has_any(user.id)? {
        return Ok(Owed::Code);
    }
    let required = (user.admin && settings.second_factor_for_admins)
        || user
            .role
            .as_ref()
            .is_some_and(|role| settings.second_factor_roles.contains(role));
    Ok(if required {
        Owed::Enrolment
    } else {
        Owed::Nothing
    })
}

pub struct Challenge {
    pub token: String,
    pub expires_at: i64,
}

pub fn open_challenge(
    user_id: i64,
    origin: &SessionOrigin,
    redirect: &str,
) -> Result<Challenge, Error> {
    let token = crate::random_token()?;
    let expires_at = now() + CHALLENGE_SECONDS;
    host::execute(
        "DELETE FROM core_auth__challenges WHERE expires_at < $1",
        &[now().into()],
    )?;
    host::execute(
        "INSERT INTO core_auth__challenges (token_sha256, user_id, attempts, expires_at, redirect, ip, user_agent) \
         VALUES ($1, $2, 0, $3, $4, $5, $6)",
        &[
            totp::recovery_hash(&token).into(),
            user_id.into(),
            expires_at.into(),
            redirect.into(),
            optional(origin.ip.as_deref()),
            optional(origin.user_agent.as_deref()),
        ],
    )?;
    Ok(Challenge { token, expires_at })
}

fn optional(text: Option<&str>) -> DbValue {
    text.map_or(DbValue::Null, DbValue::from)
}

/// A challenge still open: its user, where the form goes after, and how it began.
struct OpenChallenge {
    key: String,
    user_id: i64,
    redirect: String,
    origin: SessionOrigin,
}

/// The challenge `token` names, counting this try; refused once spent or expired.
fn take_a_try(token: &str) -> Result<OpenChallenge, Error> {
    let spent = || Error::unauthorized("the sign-in has expired; sign in again");
    let key = totp::recovery_hash(token);
    let tried = host::execute(
        "UPDATE core_auth__challenges SET attempts = attempts + 1 \
         WHERE token_sha256 = $1 AND expires_at > $2 AND attempts < $3",
        &[key.as_str().into(), now().into(), CHALLENGE_ATTEMPTS.into()],
    )?;
    if tried != 1 {
        return Err(spent());
    }
    let rows = host::query(
        "SELECT user_id, redirect, ip, user_agent FROM core_auth__challenges WHERE token_sha256 = $1",
        &[key.as_str().into()],
    )?;
    let row = rows.iter().next().ok_or_else(spent)?;
    let text = |column: &str| {
        row.get(column)
            .and_then(DbValue::as_str)
            .map(str::to_string)
    };
    Ok(OpenChallenge {
        user_id: row
            .get("user_id")
            .and_then(DbValue::as_i64)
            .ok_or_else(spent)?,
        redirect: text("redirect").unwrap_or_else(|| "/".into()),
        origin: SessionOrigin {
            ip: text("ip"),
            user_agent: text("user_agent"),
            impersonator_id: None,
        },
        key,
    })
}

fn close(challenge: &OpenChallenge) -> Result<(), Error> {
    host::execute(
        "DELETE FROM core_auth__challenges WHERE token_sha256 = $1",
        &[challenge.key.as_str().into()],
    )?;
    Ok(())
}

/// `POST /api/auth/core-auth/second-factor` (public): `{challenge, code}` finishes a
/// sign-in with an app's code or a recovery code, or `{challenge, ceremony,
/// credential}` with a security key; for an enrolment, the first code confirms the app
/// and the answer carries the recovery codes, shown once.
pub fn finish(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Finish {
        challenge: String,
        #[serde(default)]
        code: String,
        #[serde(default)]
        ceremony: Option<String>,
        #[serde(default)]
        credential: Option<webauthn_rs::prelude::PublicKeyCredential>,
    }
    let form = request.is_form();
    let body: Finish = request.fields()?;
    let challenge = match take_a_try(&body.challenge) {
        Ok(challenge) => challenge,
        Err(_) if form => return Ok(Response::redirect("/sign-in?error=expired")),
        Err(err) => return Err(err),
    };
    let user = host::identity::find_user(&challenge.user_id.to_string())?
        .filter(|user| user.id == challenge.user_id)
        .ok_or_else(|| Error::unauthorized("the sign-in has expired; sign in again"))?;
    let was_confirmed = confirmed(user.id)? || crate::passkeys::has_any(user.id)?;
    let accepted = match (was_confirmed, body.ceremony.as_deref(), body.credential) {
        (true, Some(ceremony), Some(credential)) => {
            crate::passkeys::second_factor_check(request, user.id, ceremony, credential)?
        }
        (true, _, _) => {
            accept_code(user.id, &body.code)? || use_recovery_code(user.id, &body.code)?
        }
        (false, _, _) => has_secret(user.id)? && accept_code(user.id, &body.code)?,
    };
    if !accepted {
        if form {
            return Ok(Response::redirect(&format!(
                "/sign-in/second-factor?challenge={}&error=code",
                body.challenge
            )));
        }
        return Err(Error::unauthorized("the code is not right"));
    }
    close(&challenge)?;
    let recovery_codes = match was_confirmed {
        true => None,
        false => {
            confirm(user.id)?;
            Some(replace_recovery_codes(user.id)?)
        }
    };
    complete_sign_in(
        &user,
        &challenge.origin,
        form && recovery_codes.is_none(),
        &challenge.redirect,
        recovery_codes,
    )
}

/// `POST /api/auth/core-auth/second-factor/webauthn` (public): `{challenge}`; options
/// for one of the account's security keys. Counts as a try of the challenge.
pub fn webauthn_options(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Options {
        challenge: String,
    }
    let body: Options = request.json()?;
    let challenge = take_a_try(&body.challenge)?;
    crate::passkeys::second_factor_options(request, challenge.user_id)
}

/// `POST /api/auth/core-auth/second-factor/enrol` (public): `{challenge}` of a sign-in
/// that owes an enrolment; the app's secret to scan.
pub fn enrol_during_sign_in(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Enrol {
        challenge: String,
    }
    let body: Enrol = request.fields()?;
    let challenge = take_a_try(&body.challenge)?;
    if confirmed(challenge.user_id)? {
        return Err(Error::conflict("an authenticator app is already set up"));
    }
    let user = host::identity::find_user(&challenge.user_id.to_string())?
        .filter(|user| user.id == challenge.user_id)
        .ok_or_else(|| Error::unauthorized("the sign-in has expired; sign in again"))?;
    begin(&user)
}

/// `GET /api/auth/core-auth/totp`: whether the caller uses an app, and how many
/// recovery codes they have left.
pub fn status(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let rows = host::query(
        "SELECT COUNT(*) AS left_over FROM core_auth__recovery_codes WHERE user_id = $1",
        &[caller.into()],
    )?;
    let left = rows
        .iter()
        .next()
        .and_then(|row| row.get("left_over").and_then(DbValue::as_i64))
        .unwrap_or(0);
    Ok(Response::json(&json!({ "data": {
        "enabled": confirmed(caller)?,
        "recovery_codes_left": left,
    }})))
}

/// `POST /api/auth/core-auth/totp`: a new secret for the caller's app (not in force
/// until a code from it is confirmed).
pub fn begin_for_caller(request: &Request) -> Result<Response, Error> {
    let caller = in_browser(request)?;
    if confirmed(caller)? {
        return Err(Error::conflict(
            "an authenticator app is already set up; remove it first",
        ));
    }
    let user = host::identity::find_user(&caller.to_string())?
        .filter(|user| user.id == caller)
        .ok_or_else(|| Error::unauthorized("sign in first"))?;
    begin(&user)
}

fn begin(user: &UserInfo) -> Result<Response, Error> {
    let secret = totp::new_secret()?;
    host::secrets::set(&secret_name(user.id), &secret)?;
    host::execute(
        "INSERT INTO core_auth__totp (user_id, confirmed, last_step, created_at) VALUES ($1, 0, 0, $2) \
         ON CONFLICT (user_id) DO UPDATE SET confirmed = 0, last_step = 0, created_at = $2",
        &[user.id.into(), now().into()],
    )?;
    Ok(Response::json(&json!({ "data": {
        "secret": secret,
        "uri": totp::enrolment_uri(ISSUER, &user.username, &secret),
    }})))
}

/// `POST /api/auth/core-auth/totp/confirm`: `{code}` from the new app puts it in
/// force; the answer carries ten recovery codes, shown once.
pub fn confirm_for_caller(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Confirm {
        code: String,
    }
    let caller = in_browser(request)?;
    let body: Confirm = request.fields()?;
    if confirmed(caller)? {
        return Err(Error::conflict("the authenticator app is already set up"));
    }
    if !has_secret(caller)? {
        return Err(Error::bad_request(
            "begin with POST /api/auth/core-auth/totp",
        ));
    }
    if !accept_code(caller, &body.code)? {
        return Err(Error::new(400, "code", "the code is not right"));
    }
    confirm(caller)?;
    let codes = replace_recovery_codes(caller)?;
    record(caller, "totp.enable")?;
    Ok(Response::json(
        &json!({ "data": { "enabled": true, "recovery_codes": codes } }),
    ))
}

/// `DELETE /api/auth/core-auth/totp`: `{code}` (from the app, or a recovery code)
/// removes the app. A role that requires a second factor asks for a new one at the
/// next sign-in.
pub fn remove_for_caller(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Remove {
        code: String,
    }
    let caller = in_browser(request)?;
    let body: Remove = request.fields()?;
    if confirmed(caller)?
        && !accept_code(caller, &body.code)?
        && !use_recovery_code(caller, &body.code)?
    {
        return Err(Error::new(400, "code", "the code is not right"));
    }
    forget(caller)?;
    record(caller, "totp.disable")?;
    Ok(Response::json(&json!({ "data": { "enabled": false } })))
}

/// `POST /api/auth/core-auth/totp/recovery-codes`: `{code}` from the app; ten new
/// recovery codes replace the old ones.
pub fn renew_recovery_codes(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Renew {
        code: String,
    }
    let caller = in_browser(request)?;
    let body: Renew = request.fields()?;
    if !confirmed(caller)? || !accept_code(caller, &body.code)? {
        return Err(Error::new(400, "code", "the code is not right"));
    }
    let codes = replace_recovery_codes(caller)?;
    Ok(Response::json(
        &json!({ "data": { "recovery_codes": codes } }),
    ))
}

/// Removes everything of a user's second factor (their account is gone, or they
/// turned it off).
pub fn forget(user_id: i64) -> Result<(), Error> {
    host::execute(
        "DELETE FROM core_auth__totp WHERE user_id = $1",
        &[user_id.into()],
    )?;
    host::execute(
        "DELETE FROM core_auth__recovery_codes WHERE user_id = $1",
        &[user_id.into()],
    )?;
    host::secrets::delete(&secret_name(user_id))?;
    Ok(())
}

fn secret_name(user_id: i64) -> String {
    format!("totp-{user_id}")
}

fn confirmed(user_id: i64) -> Result<bool, Error> {
    let rows = host::query(
        "SELECT confirmed FROM core_auth__totp WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(rows
        .iter()
        .next()
        .and_then(|row| row.get("confirmed").and_then(DbValue::as_i64))
        == Some(1))
}

fn has_secret(user_id: i64) -> Result<bool, Error> {
    Ok(host::secrets::get(&secret_name(user_id))?.is_some())
}

fn confirm(user_id: i64) -> Result<(), Error> {
    host::execute(
        "UPDATE core_auth__totp SET confirmed = 1 WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(())
}

/// Whether `code` is the app's for now and newer than any code used before; the
/// step is then taken, so the same code never works twice (not even at once).
fn accept_code(user_id: i64, code: &str) -> Result<bool, Error> {
    let Some(secret) = host::secrets::get(&secret_name(user_id))? else {
        return Ok(false);
    };
    let Some(step) = totp::matching_step(&secret, code, now()) else {
        return Ok(false);
    };
    let taken = host::execute(
        "UPDATE core_auth__totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2",
        &[user_id.into(), step.into()],
    )?;
    Ok(taken == 1)
}

fn use_recovery_code(user_id: i64, code: &str) -> Result<bool, Error> {
    let used = host::execute(
        "DELETE FROM core_auth__recovery_codes WHERE user_id = $1 AND code_sha256 = $2",
        &[user_id.into(), totp::recovery_hash(code).into()],
    )?;
    if used == 1 {
        record(user_id, "recovery-code.use")?;
    }
    Ok(used == 1)
}

fn replace_recovery_codes(user_id: i64) -> Result<Vec<String>, Error> {
    let codes = totp::new_recovery_codes()?;
    host::execute(
        "DELETE FROM core_auth__recovery_codes WHERE user_id = $1",
        &[user_id.into()],
    )?;
    for code in &codes {
        host::execute(
            "INSERT INTO core_auth__recovery_codes (user_id, code_sha256) VALUES ($1, $2)",
            &[user_id.into(), totp::recovery_hash(code).into()],
        )?;
    }
    Ok(codes)
}

fn record(user_id: i64, event: &str) -> Result<(), Error> {
    let mut entry = ActivityEntry::new(event);
    entry.actor_id = Some(user_id);
    host::activity::record(&entry)?;
    Ok(())
}
