//! core-auth: how people sign in to Hatchery, built on the contract's `auth-method`
//! provider and `identity` interface like any third-party sign-in plugin.
//!
//! - Passwords: argon2id for every new hash; bcrypt hashes imported from Pterodactyl
//!   (`$2y$`) are verified unchanged and replaced with argon2id on the next sign-in.
//! - Sign-in at `POST /api/auth/core-auth/password`, as JSON or as an HTML form; the
//!   host turns the new session into its cookie.
//! - Forgotten passwords: a link by e-mail, good for an hour and once (`resets`).
//! - Failed sign-ins are limited per address and per account, and every failure reads
//!   the same, so no answer tells whether an account exists.
//! - A second factor: an authenticator app (TOTP) with recovery codes, required for
//!   the roles the admin names (`second_factor`).
//! - API keys people make for themselves: expiry, administrator powers or not, the
//!   addresses they work from (`api_keys`).
//! - WebAuthn (`passkeys`): passkeys for passwordless sign-in, security keys as a
//!   second factor.
//! - Identity providers (`oauth`, `oauth_providers`): GitHub, Google, Discord and any
//!   OpenID Connect provider, linked to accounts or opening them.
//! - Impersonation: an administrator acts as a user on this browser and goes back.
//! - SSH keys for SFTP (`ssh_keys`), at Pterodactyl's `/api/client/account/ssh-keys`.
//! - SFTP passwords and keys come here through the provider's `check-password` and
//!   `check-ssh-key`.

mod api_keys;
mod failures;
mod impersonation;
mod oauth;
mod oauth_providers;
mod passkeys;
mod passwords;
mod resets;
mod second_factor;
mod ssh_keys;
mod totp;

use hatchery_sdk::{
    ActivityEntry, DbValue, Error, Event, MethodKind, PasswordInput, Plugin, Request, Response,
    SessionOrigin, SignInMethod, UserInfo, export_plugin, host, json,
};
use serde::Deserialize;

use failures::Limit;
use passwords::Verdict;

#[derive(Default)]
struct CoreAuth;

export_plugin!(CoreAuth);

/// What every refused sign-in says, whatever the reason.
const REFUSED: &str = "the username or password is not right";

/// The administrator's settings (`settings.schema.json`), defaults filled in by the host.
#[derive(Deserialize)]
struct Settings {
    min_password_length: usize,
    failures_per_account: i64,
    failures_per_address: i64,
    failure_window_seconds: i64,
    /// Roles whose members must sign in with a second factor.
    second_factor_roles: Vec<String>,
    /// Root administrators must, too.
    second_factor_for_admins: bool,
}

fn settings() -> Result<Settings, Error> {
    Ok(host::settings::get()?)
}

/// 256 random bits as hex: tokens for links, challenges and ceremonies.
fn random_token() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| Error::internal(format!("no randomness: {err}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default()
}

impl Plugin for CoreAuth {
    fn handle_request(&self, request: Request) -> Result<Response, Error> {
        if request.is("POST", "/core-auth/password") {
            return sign_in(&request);
        }
        if request.is("PUT", "/core-auth/password") {
            return change_password(&request);
        }
        if request.is("POST", "/core-auth/password/reset") {
            return resets::ask(&request);
        }
        if request.is("POST", "/core-auth/password/reset/confirm") {
            return resets::confirm(&request);
        }
        if request.is("GET", "/core-auth/password") {
            return password_status(&request);
        }
        if request.is("GET", "/core-auth/sessions") {
            return list_sessions(&request);
        }
        if request.is("DELETE", "/core-auth/sessions/{id}") {
            let caller = signed_in(&request)?;
            let id = request
                .param("id")
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| Error::not_found("no such session"))?;
            host::identity::revoke_sessions(caller, Some(id))?;
            return Ok(Response::json(&json!({ "data": { "signed_out": 1 } })));
        }
        if request.is("POST", "/core-auth/sessions/sign-out-others") {
            return sign_out_others(&request);
        }
        if request.is("GET", "/core-auth/api-keys") {
            return api_keys::list(&request);
        }
        if request.is("POST", "/core-auth/api-keys") {
            return api_keys::issue(&request);
        }
        if request.is("DELETE", "/core-auth/api-keys/{identifier}") {
            return api_keys::revoke(&request);
        }
        if request.is("GET", "/core-auth/passkeys") {
            return passkeys::list(&request);
        }
        if request.is("POST", "/core-auth/passkeys") {
            return passkeys::register_start(&request);
        }
        if request.is("POST", "/core-auth/passkeys/finish") {
            return passkeys::register_finish(&request);
        }
        if request.is("PATCH", "/core-auth/passkeys/{id}") {
            return passkeys::rename(&request);
        }
        if request.is("DELETE", "/core-auth/passkeys/{id}") {
            return passkeys::remove(&request);
        }
        if request.is("POST", "/core-auth/passkey") {
            return passkeys::sign_in_start(&request);
        }
        if request.is("POST", "/core-auth/passkey/finish") {
            return passkeys::sign_in_finish(&request);
        }
        if request.is("POST", "/core-auth/second-factor/webauthn") {
            return second_factor::webauthn_options(&request);
        }
        if request.is("GET", "/ssh-keys") {
            return ssh_keys::list(&request);
        }
        if request.is("POST", "/ssh-keys") {
            return ssh_keys::add(&request);
        }
        if request.is("POST", "/ssh-keys/remove") {
            return ssh_keys::remove(&request);
        }
        if request.is("GET", "/core-auth/oauth/providers") {
            return oauth_providers::list_public(&request);
        }
        if request.is("GET", "/core-auth/oauth-providers") {
            return oauth_providers::list_for_admin(&request);
        }
        if request.is("GET", "/core-auth/oauth/{provider}/start") {
            return oauth::start_sign_in(&request);
        }
        if request.is("GET", "/core-auth/oauth/{provider}/callback") {
            return oauth::callback(&request);
        }
        if request.is("POST", "/core-auth/oauth/{provider}/link") {
            return oauth::start_link(&request);
        }
        if request.is("GET", "/core-auth/oauth/links") {
            return oauth::list_links(&request);
        }
        if request.is("DELETE", "/core-auth/oauth/links/{provider}") {
            return oauth::unlink(&request);
        }
        if request.is("POST", "/core-auth/oauth-providers") {
            return oauth_providers::create(&request);
        }
        if request.is("PUT", "/core-auth/oauth-providers/{provider}") {
            return oauth_providers::update(&request);
        }
        if request.is("DELETE", "/core-auth/oauth-providers/{provider}") {
            return oauth_providers::delete(&request);
        }
        if request.is("POST", "/core-auth/impersonate") {
            return impersonation::start(&request);
        }
        if request.is("POST", "/core-auth/impersonate/exit") {
            return impersonation::exit(&request);
        }
        if request.is("POST", "/core-auth/second-factor") {
            return second_factor::finish(&request);
        }
        if request.is("POST", "/core-auth/second-factor/enrol") {
            return second_factor::enrol_during_sign_in(&request);
        }
        if request.is("GET", "/core-auth/totp") {
            return second_factor::status(&request);
        }
        if request.is("POST", "/core-auth/totp") {
            return second_factor::begin_for_caller(&request);
        }
        if request.is("POST", "/core-auth/totp/confirm") {
            return second_factor::confirm_for_caller(&request);
        }
        if request.is("DELETE", "/core-auth/totp") {
            return second_factor::remove_for_caller(&request);
        }
        if request.is("POST", "/core-auth/totp/recovery-codes") {
            return second_factor::renew_recovery_codes(&request);
        }
        Ok(Response::not_found())
    }

    fn handle_event(&self, event: Event) -> Result<(), Error> {
        if event.name == "user.deleted" {
            let entry: serde_json::Value = event.json()?;
            if let Some(user_id) = entry["properties"]["user_id"].as_i64() {
                host::execute(
                    "DELETE FROM core_auth__passwords WHERE user_id = $1",
                    &[user_id.into()],
                )?;
                second_factor::forget(user_id)?;
                passkeys::forget(user_id)?;
                oauth::forget(user_id)?;
                ssh_keys::forget(user_id)?;
            }
        }
        Ok(())
    }

    fn auth_methods(&self) -> Vec<SignInMethod> {
        vec![
            SignInMethod {
                id: "password".into(),
                label: "Password".into(),
                kind: MethodKind::Form,
                start: "core-auth/password".into(),
            },
            SignInMethod {
                id: "passkey".into(),
                label: "Passkey".into(),
                kind: MethodKind::Passkey,
                start: "core-auth/passkey".into(),
            },
        ]
        .into_iter()
        .chain(
            oauth_providers::all()
                .unwrap_or_default()
                .into_iter()
                .filter(|provider| provider.enabled)
                .map(|provider| SignInMethod {
                    id: format!("oauth-{}", provider.id),
                    label: provider.name.clone(),
                    kind: MethodKind::Redirect,
                    start: format!("core-auth/oauth/{}/start", provider.id),
                }),
        )
        .collect()
    }

    fn check_password(&self, username: &str, password: &str) -> Result<Option<i64>, Error> {
        let settings = settings()?;
        let account = account_key(username);
        let account_limit = Limit {
            key: &account,
            allowed: settings.failures_per_account,
        };
        if failures::wait_for(&account_limit, settings.failure_window_seconds, now())?.is_some() {
            return Ok(None);
        }
        let user = find_user(username)?.filter(|user| user.username == username);
        match check(user.as_ref(), password)? {
            Some(user) => {
                failures::clear(&account)?;
                Ok(Some(user.id))
            }
            None => {
                failures::record(&account, settings.failure_window_seconds, now())?;
                Ok(None)
            }
        }
    }

    fn check_ssh_key(&self, username: &str, public_key: &str) -> Result<Option<i64>, Error> {
        ssh_keys::check(username, public_key)
    }

    fn set_password(&self, user_id: i64, password: PasswordInput) -> Result<bool, Error> {
        let hash = match password {
            PasswordInput::Plain(password) => {
                check_new_password(&password, &settings()?)?;
                passwords::hash(&password)?
            }
            PasswordInput::Hash(hash) if passwords::is_importable(&hash) => hash,
            PasswordInput::Hash(_) => {
                return Err(Error::bad_request(
                    "the password hash is neither bcrypt (`$2y$…`) nor argon2",
                ));
            }
        };
        store_hash(user_id, &hash)?;
        Ok(true)
    }
}

/// The body of a sign-in, from a script (JSON) or the sign-in page (a form).
#[derive(Deserialize)]
struct SignIn {
    /// A username or an email address (Pterodactyl's clients send it as `user`).
    #[serde(alias = "user", alias = "username", alias = "email")]
    login: String,
    password: String,
    /// Where a form goes after signing in: a path on the panel.
    #[serde(default)]
    redirect: Option<String>,
}

fn sign_in(request: &Request) -> Result<Response, Error> {
    let form = request.is_form();
    let body: SignIn = match request.fields() {
        Ok(body) => body,
        Err(_) if form => return Ok(Response::redirect("/sign-in?error=credentials")),
        Err(err) => return Err(err),
    };
    let settings = settings()?;
    let now = now();
    let account = account_key(&body.login);
    let address = format!("address:{}", request.client_ip().unwrap_or("unknown"));
    let limits = [
        Limit {
            key: &account,
            allowed: settings.failures_per_account,
        },
        Limit {
            key: &address,
            allowed: settings.failures_per_address,
        },
    ];
    for limit in &limits {
        if let Some(wait) = failures::wait_for(limit, settings.failure_window_seconds, now)? {
            if form {
                return Ok(Response::redirect("/sign-in?error=too-many-attempts"));
            }
            let minutes = (wait + 59) / 60;
            return Err(Error::too_many_requests(format!(
                "too many failed sign-ins; try again in {minutes} minute{}",
                if minutes == 1 { "" } else { "s" }
            )));
        }
    }

    let login = body.login.trim();
    let user = find_user(login)?.filter(|user| {
        user.username.eq_ignore_ascii_case(login) || user.email.eq_ignore_ascii_case(login)
    });
    let Some(user) = check(user.as_ref(), &body.password)? else {
        for limit in &limits {
            failures::record(limit.key, settings.failure_window_seconds, now)?;
        }
        if form {
            return Ok(Response::redirect("/sign-in?error=credentials"));
        }
        return Err(Error::unauthorized(REFUSED));
    };
    failures::clear(&account)?;
    let origin = SessionOrigin {
        ip: request.client_ip().map(str::to_string),
        user_agent: request.header("user-agent").map(str::to_string),
        impersonator_id: None,
    };
    let redirect = safe_redirect(body.redirect.as_deref());
    match second_factor::owed(&user, &settings)? {
        second_factor::Owed::Nothing => complete_sign_in(&user, &origin, form, &redirect, None),
        owed => {
            let challenge = second_factor::open_challenge(user.id, &origin, &redirect)?;
            if form {
                return Ok(Response::redirect(&format!(
                    "/sign-in/second-factor?challenge={}",
                    challenge.token
                )));
            }
            Ok(Response::json(&json!({ "data": {
                "complete": false,
                "second_factor": owed.as_str(),
                "challenge": challenge.token,
                "expires_at": challenge.expires_at,
            }})))
        }
    }
}

/// Signs `user` in on this browser: the JSON answer, or a form's redirect.
fn complete_sign_in(
    user: &UserInfo,
    origin: &SessionOrigin,
    form: bool,
    redirect: &str,
    recovery_codes: Option<Vec<String>>,
) -> Result<Response, Error> {
    let session = host::identity::create_session(user.id, origin)?;
    let answer = match form {
        true => Response::redirect(redirect),
        false => {
            let mut data = json!({
                "complete": true,
                "user": public_user(user),
                "expires_at": session.expires_at,
            });
            if let Some(codes) = recovery_codes {
                data["recovery_codes"] = json!(codes);
            }
            Response::json(&json!({ "data": data }))
        }
    };
    Ok(answer.with_session(&session))
}

/// `PUT /api/auth/core-auth/password`: the caller's new password, given the current
/// one (unless they have none yet). Every session ends; this browser gets a new one.
fn change_password(request: &Request) -> Result<Response, Error> {
    #[derive(Deserialize)]
    struct Change {
        #[serde(default)]
        current_password: String,
        password: String,
    }
    let caller = signed_in(request)?;
    let body: Change = request.fields()?;
    let settings = settings()?;
    let now = now();
    let account = format!("user:{caller}");
    let limit = Limit {
        key: &account,
        allowed: settings.failures_per_account,
    };
    if failures::wait_for(&limit, settings.failure_window_seconds, now)?.is_some() {
        return Err(Error::too_many_requests(
            "too many wrong current passwords; try again later",
        ));
    }
    if let Some(stored) = stored_hash(caller)?
        && passwords::verify(&stored, &body.current_password) == Verdict::Wrong
    {
        failures::record(&account, settings.failure_window_seconds, now)?;
        return Err(Error::new(
            400,
            "current_password",
            "the current password is not right",
        ));
    }
    check_new_password(&body.password, &settings)?;
    store_hash(caller, &passwords::hash(&body.password)?)?;
    failures::clear(&account)?;

    host::identity::revoke_sessions(caller, None)?;
    let session = host::identity::create_session(
        caller,
        &SessionOrigin {
            ip: request.client_ip().map(str::to_string),
            user_agent: request.header("user-agent").map(str::to_string),
            impersonator_id: None,
        },
    )?;
    let mut entry = ActivityEntry::new("password.change");
    entry.actor_id = Some(caller);
    host::activity::record(&entry)?;
    Ok(Response::json(&json!({ "data": { "changed": true } })).with_session(&session))
}

/// `GET /api/auth/core-auth/password`: whether the caller has a password, and since when.
fn password_status(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let rows = host::query(
        "SELECT changed_at FROM core_auth__passwords WHERE user_id = $1",
        &[caller.into()],
    )?;
    let changed_at = rows
        .iter()
        .next()
        .and_then(|row| row.get("changed_at").and_then(DbValue::as_i64));
    Ok(Response::json(&json!({ "data": {
        "has_password": changed_at.is_some(),
        "changed_at": changed_at,
    }})))
}

fn signed_in(request: &Request) -> Result<i64, Error> {
    request
        .principal
        .as_ref()
        .map(|caller| caller.user_id)
        .ok_or_else(|| Error::unauthorized("sign in first"))
}

/// The caller, signed in on a browser. What could outlast or widen a credential —
/// new API keys, passkeys, authenticator apps — is made only there: an API key (which
/// may be limited to some servers, permissions or addresses) never makes a stronger one.
fn in_browser(request: &Request) -> Result<i64, Error> {
    let caller = signed_in(request)?;
    match request.session_id() {
        Some(_) => Ok(caller),
        None => Err(Error::forbidden(
            "do this from a signed-in browser; an API key cannot",
        )),
    }
}

/// `GET /api/auth/core-auth/sessions`: the caller's browsers, this one marked.
fn list_sessions(request: &Request) -> Result<Response, Error> {
    let caller = signed_in(request)?;
    let current = request.session_id();
    let sessions: Vec<serde_json::Value> = host::identity::sessions(caller)?
        .into_iter()
        .map(|session| {
            json!({
                "id": session.id,
                "ip": session.ip,
                "user_agent": session.user_agent,
                "impersonator_id": session.impersonator_id,
                "created_at": session.created_at,
                "last_seen_at": session.last_seen_at,
                "expires_at": session.expires_at,
                "current": Some(session.id) == current,
            })
        })
        .collect();
    Ok(Response::json(&json!({ "data": sessions })))
}

/// `POST /api/auth/core-auth/sessions/sign-out-others`: every browser but this one.
fn sign_out_others(request: &Request) -> Result<Response, Error> {
    let caller = in_browser(request)?;
    let current = request.session_id();
    let mut signed_out = 0;
    for session in host::identity::sessions(caller)? {
        if Some(session.id) != current {
            host::identity::revoke_sessions(caller, Some(session.id))?;
            signed_out += 1;
        }
    }
    Ok(Response::json(
        &json!({ "data": { "signed_out": signed_out } }),
    ))
}

/// The user, when `password` is theirs; an old-style hash is replaced on the way.
/// Unknown users and users without a password cost the same time as a wrong password.
fn check(user: Option<&UserInfo>, password: &str) -> Result<Option<UserInfo>, Error> {
    let stored = match user {
        Some(user) => stored_hash(user.id)?,
        None => None,
    };
    let (Some(user), Some(stored)) = (user, stored) else {
        passwords::waste_a_check(password);
        return Ok(None);
    };
    match passwords::verify(&stored, password) {
        Verdict::Wrong => Ok(None),
        Verdict::Right { rehash } => {
            if rehash {
                store_hash(user.id, &passwords::hash(password)?)?;
            }
            Ok(Some(user.clone()))
        }
    }
}

fn find_user(login: &str) -> Result<Option<UserInfo>, Error> {
    if login.is_empty() || login.len() > 255 {
        return Ok(None);
    }
    Ok(host::identity::find_user(login)?)
}

fn stored_hash(user_id: i64) -> Result<Option<String>, Error> {
    let rows = host::query(
        "SELECT hash FROM core_auth__passwords WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(rows.iter().next().and_then(|row| {
        row.get("hash")
            .and_then(DbValue::as_str)
            .map(str::to_string)
    }))
}

fn store_hash(user_id: i64, hash: &str) -> Result<(), Error> {
    host::execute(
        "INSERT INTO core_auth__passwords (user_id, hash, changed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET hash = $2, changed_at = $3",
        &[user_id.into(), hash.into(), now().into()],
    )?;
    Ok(())
}

fn check_new_password(password: &str, settings: &Settings) -> Result<(), Error> {
    let length = password.chars().count();
    if length < settings.min_password_length || password.len() > passwords::MAX_PASSWORD_BYTES {
        return Err(Error::new(
            400,
            "password",
            format!(
                "a password is {} to {} characters",
                settings.min_password_length,
                passwords::MAX_PASSWORD_BYTES
            ),
        ));
    }
    Ok(())
}

/// The failure counter of whoever signs in as `login`, whether or not they exist.
fn account_key(login: &str) -> String {
    format!("account:{}", login.trim().to_lowercase())
}

/// Where a signed-in form goes: a path on this panel, never another site.
fn safe_redirect(wanted: Option<&str>) -> String {
    match wanted {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

fn public_user(user: &UserInfo) -> serde_json::Value {
    json!({
        "id": user.id,
        "uuid": user.uuid,
        "username": user.username,
        "email": user.email,
        "admin": user.admin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_panel() {
        assert_eq!(safe_redirect(Some("/servers/abc")), "/servers/abc");
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/ok\r\nlocation: x",
            "",
        ] {
            assert_eq!(safe_redirect(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_redirect(None), "/");
    }

    #[test]
    fn account_keys_ignore_case_and_spaces() {
        assert_eq!(account_key(" Ada@Example.com "), "account:ada@example.com");
    }
}
