//! WebAuthn (webauthn-rs): passkeys for passwordless sign-in, and security keys as a
//! second factor. The relying party is the panel itself: its public URL is the only
//! origin accepted, its host name the RP id.
//!
//! A ceremony's state stays on the server (`core_auth__ceremonies`, five minutes, used
//! once); the browser only ever holds the random token naming it.

use hatchery_sdk::{
    ActivityEntry, DbValue, Error, Request, Response, SessionOrigin, UserInfo, host, json,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::{complete_sign_in, in_browser, now, safe_redirect, signed_in, totp};

/// How long a ceremony waits for the authenticator.
const CEREMONY_SECONDS: i64 = 300;
/// Passkeys one account may hold.
const MAX_PASSKEYS: usize = 32;

/// The panel as a WebAuthn relying party, from its public address.
fn relying_party(request: &Request) -> Result<Webauthn, Error> {
    let panel = request
        .panel_url()
        .ok_or_else(|| Error::internal("the host did not say the panel's address"))?;
    let origin = Url::parse(panel)
        .map_err(|err| Error::internal(format!("the panel's address `{panel}`: {err}")))?;
    let rp_id = origin
        .host_str()
        .ok_or_else(|| Error::internal(format!("the panel's address `{panel}` has no host")))?
        .to_string();
    // Browsers (and the WebAuthn rules) bind passkeys to a domain name.
    if rp_id.parse::<std::net::Ipv4Addr>().is_ok() || rp_id.starts_with('[') {
        return Err(Error::conflict(format!(
            "passkeys need the panel's public_url to name a domain, not an address ({panel}); \
             http://localhost:<port> works for trying them out"
        )));
    }
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|builder| builder.rp_name("Hatchery").build())
        .map_err(|err| Error::internal(format!("WebAuthn for {panel}: {err}")))
}

fn webauthn_error(err: impl std::fmt::Display) -> Error {
    Error::new(
        400,
        "webauthn",
        format!("the authenticator's answer was refused: {err}"),
    )
}

/// `POST /api/auth/core-auth/passkeys`: begins adding a passkey or security key to
/// the caller's account; the answer holds the browser's `navigator.credentials.create`
/// options.
pub fn register_start(request: &Request) -> Result<Response, Error> {
    let caller = in_browser(request)?;
    let user = find(caller)?;
    let existing = stored(caller)?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(Error::conflict(format!(
            "an account holds at most {MAX_PASSKEYS} passkeys; remove one first"
        )));
    }
    let webauthn = relying_party(request)?;
    let user_handle =
        Uuid::parse_str(&user.uuid).map_err(|err| Error::internal(format!("user uuid: {err}")))?;
    let exclude: Vec<CredentialID> = existing
        .iter()
        .map(|(_, passkey)| passkey.cred_id().clone())
        .collect();
    let (options, state) = webauthn
        .start_passkey_registration(user_handle, &user.username, &user.username, Some(exclude))
        .map_err(|err| Error::internal(format!("cannot begin: {err}")))?;
    let ceremony = open_ceremony(Some(caller), "register", &state)?;
    // Ask authenticators to keep the passkey themselves when they can, so it signs in
    // without a username ("discoverable"); ones that cannot still make a security key.
    let mut options = serde_json::to_value(&options)
        .map_err(|err| Error::internal(format!("the options: {err}")))?;
    options["publicKey"]["authenticatorSelection"]["residentKey"] = json!("preferred");
    Ok(Response::json(
        &json!({ "data": { "ceremony": ceremony, "options": options } }),
    ))
}

/// `POST /api/auth/core-auth/passkeys/finish`: `{ceremony, name, credential}` from
/// `navigator.credentials.create`.
pub fn register_finish(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Finish {
        ceremony: String,
        #[serde(default)]
        name: String,
        credential: RegisterPublicKeyCredential,
    }
    let caller = in_browser(request)?;
    let body: Finish = request.json()?;
    let state: PasskeyRegistration = take_ceremony(&body.ceremony, Some(caller), "register")?;
    let passkey = relying_party(request)?
        .finish_passkey_registration(&body.credential, &state)
        .map_err(webauthn_error)?;
    let name = match body.name.trim() {
        "" => "Passkey".to_string(),
        name => name.chars().take(64).collect(),
    };
    let credential_id = credential_key(passkey.cred_id());
    let inserted = host::execute(
        "INSERT INTO core_auth__passkeys (user_id, credential_id, name, passkey, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            caller.into(),
            credential_id.as_str().into(),
            name.as_str().into(),
            to_json(&passkey)?.as_str().into(),
            now().into(),
        ],
    );
    if inserted.is_err() {
        return Err(Error::conflict("this authenticator is already registered"));
    }
    record(caller, "passkey.add", &name)?;
    Ok(Response::json(&json!({ "data": { "name": name } })).with_status(201))
}

/// `GET /api/auth/core-auth/passkeys`: the caller's passkeys.
pub fn list(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let rows = host::query(
        "SELECT id, name, created_at, last_used_at FROM core_auth__passkeys \
         WHERE user_id = $1 ORDER BY id",
        &[caller.into()],
    )?;
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            json!({
                "id": row.get("id").and_then(DbValue::as_i64),
                "name": row.get("name").and_then(DbValue::as_str),
                "created_at": row.get("created_at").and_then(DbValue::as_i64),
                "last_used_at": row.get("last_used_at").and_then(DbValue::as_i64),
            })
        })
        .collect();
    Ok(Response::json(&json!({ "data": keys })))
}

/// `PATCH /api/auth/core-auth/passkeys/{id}`: `{name}`.
pub fn rename(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Rename {
        name: String,
    }
    let caller = signed_in(request)?;
    let id = passkey_id(request)?;
    let body: Rename = request.json()?;
    let name: String = body.name.trim().chars().take(64).collect();
    if name.is_empty() {
        return Err(Error::new(400, "name", "a passkey needs a name"));
    }
    let changed = host::execute(
        "UPDATE core_auth__passkeys SET name = $3 WHERE id = $1 AND user_id = $2",
        &[id.into(), caller.into(), name.as_str().into()],
    )?;
    if changed != 1 {
        return Err(Error::not_found("no such passkey"));
    }
    Ok(Response::json(
        &json!({ "data": { "id": id, "name": name } }),
    ))
}

/// `DELETE /api/auth/core-auth/passkeys/{id}`
pub fn remove(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let id = passkey_id(request)?;
    let removed = host::execute(
        "DELETE FROM core_auth__passkeys WHERE id = $1 AND user_id = $2",
        &[id.into(), caller.into()],
    )?;
    if removed != 1 {
        return Err(Error::not_found("no such passkey"));
    }
    record(caller, "passkey.remove", &id.to_string())?;
    Ok(Response::json(&json!({ "data": { "removed": id } })))
}

/// `POST /api/auth/core-auth/passkey` (public): begins a passwordless sign-in. With
/// `{user}` the options name that account's passkeys (security keys that cannot be
/// discovered work too); without, any passkey the browser finds will do.
pub fn sign_in_start(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize, Default)]
    struct Start {
        #[serde(default, alias = "username", alias = "email")]
        user: Option<String>,
    }
    let body: Start = if request.body.is_empty() {
        Start::default()
    } else {
        request.json()?
    };
    crate::failures::count_start(request.client_ip(), now())?;
    let webauthn = relying_party(request)?;
    let named = match body.user.as_deref().map(str::trim) {
        Some(login) if !login.is_empty() => host::identity::find_user(login)?.filter(|user| {
            user.username.eq_ignore_ascii_case(login) || user.email.eq_ignore_ascii_case(login)
        }),
        _ => None,
    };
    let keys = match &named {
        Some(user) => stored(user.id)?,
        None => Vec::new(),
    };
    // An account without passkeys (or none at all) gets the same kind of answer as
    // a sign-in without a name: nothing here says whether it exists.
    let (options, ceremony) = match (&named, keys.is_empty()) {
        (Some(user), false) => {
            let passkeys: Vec<Passkey> = keys.into_iter().map(|(_, key)| key).collect();
            let (options, state) = webauthn
                .start_passkey_authentication(&passkeys)
                .map_err(|err| Error::internal(format!("cannot begin: {err}")))?;
            (options, open_ceremony(Some(user.id), "sign-in", &state)?)
        }
        _ => {
            let (options, state) = webauthn
                .start_discoverable_authentication()
                .map_err(|err| Error::internal(format!("cannot begin: {err}")))?;
            (options, open_ceremony(None, "discover", &state)?)
        }
    };
    Ok(Response::json(
        &json!({ "data": { "ceremony": ceremony, "options": options } }),
    ))
}

/// `POST /api/auth/core-auth/passkey/finish` (public): `{ceremony, credential,
/// redirect?}` from `navigator.credentials.get`; signs the browser in. A passkey is two
/// factors in one (the device, and the PIN or fingerprint that unlocks it), so no code
/// is asked for after it.
pub fn sign_in_finish(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Finish {
        ceremony: String,
        credential: PublicKeyCredential,
        #[serde(default)]
        redirect: Option<String>,
    }
    let body: Finish = request.json()?;
    let webauthn = relying_party(request)?;
    let refused = || Error::unauthorized("the passkey was not accepted");
    let (user_id, row_id, result) = match peek_kind(&body.ceremony)?.as_deref() {
        Some("sign-in") => {
            let (user_id, state): (Option<i64>, PasskeyAuthentication) =
                take_ceremony_of(&body.ceremony, "sign-in")?;
            let user_id = user_id.ok_or_else(refused)?;
            let result = webauthn
                .finish_passkey_authentication(&body.credential, &state)
                .map_err(|_| refused())?;
            let row_id = owned_key(user_id, result.cred_id())?.ok_or_else(refused)?;
            (user_id, row_id, result)
        }
        Some("discover") => {
            let (_, state): (Option<i64>, DiscoverableAuthentication) =
                take_ceremony_of(&body.ceremony, "discover")?;
            let (handle, credential) = webauthn
                .identify_discoverable_authentication(&body.credential)
                .map_err(|_| refused())?;
            let key = credential_key(&CredentialID::from(credential.to_vec()));
            let (row_id, user_id, passkey) = by_credential(&key)?.ok_or_else(refused)?;
            let owner = find(user_id)?;
            if Uuid::parse_str(&owner.uuid).ok() != Some(handle) {
                return Err(refused());
            }
            let result = webauthn
                .finish_discoverable_authentication_v2(&body.credential, state, &passkey)
                .map_err(|_| refused())?;
            (user_id, row_id, result)
        }
        _ => return Err(Error::unauthorized("the sign-in has expired; begin again")),
    };
    note_use(row_id, &result)?;
    let user = find(user_id)?;
    let origin = SessionOrigin {
        ip: request.client_ip().map(str::to_string),
        user_agent: request.header("user-agent").map(str::to_string),
        impersonator_id: None,
    };
    complete_sign_in(
        &user,
        &origin,
        false,
        &safe_redirect(body.redirect.as_deref()),
        None,
    )
}

/// Options for a security key as the second factor of a sign-in whose password was
/// right: `navigator.credentials.get` with the account's keys.
pub fn second_factor_options(request: &Request, user_id: i64) -> Result<Response, Error> {
    let passkeys: Vec<Passkey> = stored(user_id)?.into_iter().map(|(_, key)| key).collect();
    if passkeys.is_empty() {
        return Err(Error::conflict("this account has no security key"));
    }
    let (options, state) = relying_party(request)?
        .start_passkey_authentication(&passkeys)
        .map_err(|err| Error::internal(format!("cannot begin: {err}")))?;
    let ceremony = open_ceremony(Some(user_id), "second-factor", &state)?;
    Ok(Response::json(
        &json!({ "data": { "ceremony": ceremony, "options": options } }),
    ))
}

/// Whether `credential` (for `ceremony`) proves `user_id` holds one of their keys.
pub fn second_factor_check(
    request: &Request,
    user_id: i64,
    ceremony: &str,
    credential: PublicKeyCredential,
) -> Result<bool, Error> {
    let state: PasskeyAuthentication = take_ceremony(ceremony, Some(user_id), "second-factor")?;
    let Ok(result) = relying_party(request)?.finish_passkey_authentication(&credential, &state)
    else {
        return Ok(false);
    };
    match owned_key(user_id, result.cred_id())? {
        Some(row_id) => {
            note_use(row_id, &result)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Whether the user has any passkey or security key.
pub fn has_any(user_id: i64) -> Result<bool, Error> {
    let rows = host::query(
        "SELECT COUNT(*) AS held FROM core_auth__passkeys WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(rows
        .iter()
        .next()
        .and_then(|row| row.get("held").and_then(DbValue::as_i64))
        .unwrap_or(0)
        > 0)
}

/// Removes a user's keys and open ceremonies (their account is gone).
pub fn forget(user_id: i64) -> Result<(), Error> {
    host::execute(
        "DELETE FROM core_auth__passkeys WHERE user_id = $1",
        &[user_id.into()],
    )?;
    host::execute(
        "DELETE FROM core_auth__ceremonies WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(())
}

fn find(user_id: i64) -> Result<UserInfo, Error> {
    host::identity::find_user(&user_id.to_string())?
        .filter(|user| user.id == user_id)
        .ok_or_else(|| Error::not_found("no such user"))
}

fn passkey_id(request: &Request) -> Result<i64, Error> {
    request
        .param("id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::not_found("no such passkey"))
}

/// A user's passkeys with their row ids.
fn stored(user_id: i64) -> Result<Vec<(i64, Passkey)>, Error> {
    let rows = host::query(
        "SELECT id, passkey FROM core_auth__passkeys WHERE user_id = $1 ORDER BY id",
        &[user_id.into()],
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let id = row.get("id").and_then(DbValue::as_i64)?;
            let passkey = serde_json::from_str(row.get("passkey")?.as_str()?).ok()?;
            Some((id, passkey))
        })
        .collect())
}

fn by_credential(credential_id: &str) -> Result<Option<(i64, i64, Passkey)>, Error> {
    let rows = host::query(
        "SELECT id, user_id, passkey FROM core_auth__passkeys WHERE credential_id = $1",
        &[credential_id.into()],
    )?;
    Ok(rows.iter().next().and_then(|row| {
        Some((
            row.get("id").and_then(DbValue::as_i64)?,
            row.get("user_id").and_then(DbValue::as_i64)?,
            serde_json::from_str(row.get("passkey")?.as_str()?).ok()?,
        ))
    }))
}

/// The row of `user_id`'s key with this credential id.
fn owned_key(user_id: i64, credential: &CredentialID) -> Result<Option<i64>, Error> {
    Ok(by_credential(&credential_key(credential))?
        .filter(|(_, owner, _)| *owner == user_id)
        .map(|(row, _, _)| row))
}

/// Keeps the authenticator's new signature counter (a cloned key shows as a counter
/// going backwards) and when it was used.
fn note_use(row_id: i64, result: &webauthn_rs::prelude::AuthenticationResult) -> Result<(), Error> {
    let rows = host::query(
        "SELECT passkey FROM core_auth__passkeys WHERE id = $1",
        &[row_id.into()],
    )?;
    let Some(mut passkey) = rows
        .iter()
        .next()
        .and_then(|row| serde_json::from_str::<Passkey>(row.get("passkey")?.as_str()?).ok())
    else {
        return Ok(());
    };
    passkey.update_credential(result);
    host::execute(
        "UPDATE core_auth__passkeys SET passkey = $2, last_used_at = $3 WHERE id = $1",
        &[
            row_id.into(),
            to_json(&passkey)?.as_str().into(),
            now().into(),
        ],
    )?;
    Ok(())
}

/// A credential id as stored: its base64url form.
fn credential_key(credential: &CredentialID) -> String {
    serde_json::to_value(credential)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn to_json(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|err| Error::internal(format!("cannot keep: {err}")))
}

fn open_ceremony(
    user_id: Option<i64>,
    kind: &str,
    state: &impl serde::Serialize,
) -> Result<String, Error> {
    let token = crate::random_token()?;
    host::execute(
        "DELETE FROM core_auth__ceremonies WHERE expires_at < $1",
        &[now().into()],
    )?;
    host::execute(
        "INSERT INTO core_auth__ceremonies (token_sha256, user_id, kind, state, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            totp::recovery_hash(&token).into(),
            user_id.map_or(DbValue::Null, DbValue::from),
            kind.into(),
            to_json(state)?.as_str().into(),
            (now() + CEREMONY_SECONDS).into(),
        ],
    )?;
    Ok(token)
}

fn peek_kind(token: &str) -> Result<Option<String>, Error> {
    let rows = host::query(
        "SELECT kind FROM core_auth__ceremonies WHERE token_sha256 = $1 AND expires_at > $2",
        &[totp::recovery_hash(token).into(), now().into()],
    )?;
    Ok(rows.iter().next().and_then(|row| {
        row.get("kind")
            .and_then(DbValue::as_str)
            .map(str::to_string)
    }))
}

/// The state of ceremony `token` of `kind`, used up now; the user it was for.
fn take_ceremony_of<T: DeserializeOwned>(
    token: &str,
    kind: &str,
) -> Result<(Option<i64>, T), Error> {
    let expired = || Error::unauthorized("the ceremony has expired; begin again");
    let key = totp::recovery_hash(token);
    let rows = host::query(
        "SELECT user_id, state FROM core_auth__ceremonies \
         WHERE token_sha256 = $1 AND kind = $2 AND expires_at > $3",
        &[key.as_str().into(), kind.into(), now().into()],
    )?;
    let row = rows.iter().next().ok_or_else(expired)?;
    let user_id = row.get("user_id").and_then(DbValue::as_i64);
    let state = row
        .get("state")
        .and_then(DbValue::as_str)
        .and_then(|state| serde_json::from_str(state).ok())
        .ok_or_else(expired)?;
    // Used once: of two answers racing, one deletes it and goes on.
    let taken = host::execute(
        "DELETE FROM core_auth__ceremonies WHERE token_sha256 = $1",
        &[key.as_str().into()],
    )?;
    if taken != 1 {
        return Err(expired());
    }
    Ok((user_id, state))
}

/// Like [`take_ceremony_of`], for a ceremony that must belong to `user_id`.
fn take_ceremony<T: DeserializeOwned>(
    token: &str,
    user_id: Option<i64>,
    kind: &str,
) -> Result<T, Error> {
    let (owner, state) = take_ceremony_of(token, kind)?;
    if owner != user_id {
        return Err(Error::unauthorized("the ceremony has expired; begin again"));
    }
    Ok(state)
}

fn record(user_id: i64, event: &str, name: &str) -> Result<(), Error> {
    let mut entry = ActivityEntry::new(event);
    entry.actor_id = Some(user_id);
    entry.properties = json!({ "name": name });
    host::activity::record(&entry)?;
    Ok(())
}
