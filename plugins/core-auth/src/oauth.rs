//! Sign-in with an identity provider (OAuth 2.0 authorization code with PKCE; OpenID
//! Connect on top where the provider speaks it), and linking providers to accounts.
//!
//! A flow's secrets stay here (`core_auth__oauth_flows`: PKCE verifier, nonce, ten
//! minutes, used once); the browser that started it holds a cookie equal to `state`,
//! so a callback URL carried to another browser (login CSRF, a link planted in someone
//! else's account) is refused.
//!
//! ID tokens come straight from the provider's token endpoint over TLS, which OpenID
//! Connect Core §3.1.3.7 accepts in place of checking their signature; their issuer,
//! audience, expiry and nonce are checked. Unsigned tokens (`alg: none`) are refused.

use base64::Engine;
use hatchery_sdk::{
    ActivityEntry, DbValue, Error, HostError, NewUser, OutgoingRequest, Request, Response,
    SessionOrigin, UserInfo, host, json,
};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::oauth_providers::{self, Endpoints, Kind, Provider};
use crate::{complete_sign_in, in_browser, now, random_token, safe_redirect, second_factor};

/// How long the provider may take to send the browser back.
const FLOW_SECONDS: i64 = 600;
/// The browser's half of a flow.
const FLOW_COOKIE: &str = "oauth";
/// Clock difference tolerated on an ID token's times.
const LEEWAY_SECONDS: i64 = 120;

/// The token endpoint's answer, with OpenID Connect's `id_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}
impl oauth2::ExtraTokenFields for IdTokenField {}

type ProviderClient = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenField, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

fn client(
    provider: &Provider,
    endpoints: &Endpoints,
    panel_url: &str,
) -> Result<ProviderClient, Error> {
    let bad = |what: &str, err: oauth2::url::ParseError| {
        Error::new(
            502,
            "oauth_provider",
            format!("the provider's {what} is not a URL: {err}"),
        )
    };
    Ok(
        oauth2::Client::new(ClientId::new(provider.client_id.clone()))
            .set_client_secret(ClientSecret::new(provider.client_secret()?))
            .set_auth_uri(
                AuthUrl::new(endpoints.authorization.clone())
                    .map_err(|e| bad("authorization URL", e))?,
            )
            .set_token_uri(TokenUrl::new(endpoints.token.clone()).map_err(|e| bad("token URL", e))?)
            .set_redirect_uri(
                RedirectUrl::new(provider.redirect_uri(panel_url))
                    .map_err(|e| bad("redirect URL", e))?,
            )
            .set_auth_type(match endpoints.basic_auth {
                true => AuthType::BasicAuth,
                false => AuthType::RequestBody,
            }),
    )
}

/// oauth2's HTTP client: the host's `http` capability.
fn send(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HostError> {
    let (parts, body) = request.into_parts();
    let outgoing = OutgoingRequest {
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
            .collect(),
        body,
    };
    let answer = host::http::fetch(&outgoing)?;
    let mut response = oauth2::http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response
        .body(answer.body)
        .map_err(|err| HostError::Internal(format!("the provider's answer: {err}")))
}

/// `GET /api/auth/core-auth/oauth/{provider}/start[?redirect=/path]`: off to the
/// provider to sign in.
pub fn start_sign_in(request: &Request) -> Result<Response, Error> {
    let provider = oauth_providers::enabled(request)?;
    crate::failures::count_start(request.client_ip(), now())?;
    let wanted = request.query_value("redirect");
    let redirect = safe_redirect(wanted.as_deref());
    let (url, state) = open_flow(request, &provider, None, &redirect)?;
    Ok(Response::redirect(&url).with_cookie(FLOW_COOKIE, &state, FLOW_SECONDS as u64))
}

/// `POST /api/auth/core-auth/oauth/{provider}/link`: where the signed-in browser goes
/// to link the provider's account to the caller's: `{url}`.
pub fn start_link(request: &Request) -> Result<Response, Error> {
    let caller = in_browser(request)?;
    let provider = oauth_providers::enabled(request)?;
    let (url, state) = open_flow(request, &provider, Some(caller), "/account/security")?;
    Ok(
        Response::json(&json!({ "data": { "url": url } })).with_cookie(
            FLOW_COOKIE,
            &state,
            FLOW_SECONDS as u64,
        ),
    )
}

/// Remembers a new flow; the provider's authorization URL and the flow's state.
fn open_flow(
    request: &Request,
    provider: &Provider,
    linking: Option<i64>,
    redirect: &str,
) -> Result<(String, String), Error> {
    let endpoints = provider.endpoints()?;
    let client = client(provider, &endpoints, &panel_url(request)?)?;
    let state = random_token()?;
    let nonce = random_token()?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut authorize = client
        .authorize_url(|| CsrfToken::new(state.clone()))
        .set_pkce_challenge(challenge);
    for scope in provider.scopes.split(' ') {
        authorize = authorize.add_scope(Scope::new(scope.to_string()));
    }
    if provider.kind.is_oidc() {
        authorize = authorize.add_extra_param("nonce", nonce.clone());
    }
    let (url, _) = authorize.url();
    host::execute(
        "DELETE FROM core_auth__oauth_flows WHERE expires_at < $1",
        &[now().into()],
    )?;
    host::execute(
        "INSERT INTO core_auth__oauth_flows (state_sha256, provider, verifier, nonce, user_id, redirect, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            crate::totp::recovery_hash(&state).into(),
            provider.id.as_str().into(),
            verifier.secret().as_str().into(),
            nonce.as_str().into(),
            linking.map_or(DbValue::Null, DbValue::from),
            redirect.into(),
            (now() + FLOW_SECONDS).into(),
        ],
    )?;
    Ok((url.to_string(), state))
}

/// A flow taken back: it is gone from the table either way.
struct Flow {
    verifier: String,
    nonce: String,
    linking: Option<i64>,
    redirect: String,
}

fn take_flow(provider: &str, state: &str) -> Result<Option<Flow>, Error> {
    let key = crate::totp::recovery_hash(state);
    let rows = host::query(
        "SELECT verifier, nonce, user_id, redirect, expires_at FROM core_auth__oauth_flows \
         WHERE state_sha256 = $1 AND provider = $2",
        &[key.as_str().into(), provider.into()],
    )?;
    host::execute(
        "DELETE FROM core_auth__oauth_flows WHERE state_sha256 = $1",
        &[key.as_str().into()],
    )?;
    let Some(row) = rows.iter().next() else {
        return Ok(None);
    };
    let text = |name: &str| {
        row.get(name)
            .and_then(DbValue::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if row.get("expires_at").and_then(DbValue::as_i64).unwrap_or(0) < now() {
        return Ok(None);
    }
    Ok(Some(Flow {
        verifier: text("verifier"),
        nonce: text("nonce"),
        linking: row.get("user_id").and_then(DbValue::as_i64),
        redirect: text("redirect"),
    }))
}

/// Why a callback went nowhere; the page it lands on says it in words.
fn failed(page: &str, reason: &str) -> Response {
    Response::redirect(&format!("{page}?error=oauth-{reason}"))
}

/// A flow that ended: the browser forgets it.
fn ended(response: Response) -> Response {
    response.with_cookie(FLOW_COOKIE, "", 0)
}

/// `GET /api/auth/core-auth/oauth/{provider}/callback?code&state`: the provider sends
/// the browser back; sign in, or link, and go on.
pub fn callback(request: &Request) -> Result<Response, Error> {
    let provider = oauth_providers::enabled(request)?;
    let state = request.query_value("state").unwrap_or_default();
    // The browser that started the flow holds its state; no other browser does.
    let bound = request
        .cookie(FLOW_COOKIE)
        .is_some_and(|cookie| !state.is_empty() && constant_time_eq(cookie, &state));
    if !bound {
        return Ok(failed("/sign-in", "state"));
    }
    let Some(flow) = take_flow(&provider.id, &state)? else {
        return Ok(failed("/sign-in", "state"));
    };
    finish(request, &provider, &flow).map(ended)
}

fn finish(request: &Request, provider: &Provider, flow: &Flow) -> Result<Response, Error> {
    let page = match flow.linking {
        Some(_) => "/account/security",
        None => "/sign-in",
    };
    if request.query_value("error").is_some() {
        return Ok(failed(page, "denied"));
    }
    let Some(code) = request.query_value("code") else {
        return Ok(failed(page, "denied"));
    };
    let identity = match who_is_it(request, provider, flow, code) {
        Ok(identity) => identity,
        Err(err) => {
            host::log(
                hatchery_sdk::LogLevel::Warn,
                &format!("sign-in with {} failed: {}", provider.id, err.message),
            );
            return Ok(failed(page, "provider"));
        }
    };
    match flow.linking {
        Some(user_id) => link(provider, &identity, user_id),
        None => sign_in(request, provider, &identity, &flow.redirect),
    }
}

/// Who the provider says signed in.
#[derive(Debug, Default)]
struct Identity {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    username: Option<String>,
    /// Values of the provider's role claim (`groups`).
    groups: Vec<String>,
}

fn who_is_it(
    request: &Request,
    provider: &Provider,
    flow: &Flow,
    code: String,
) -> Result<Identity, Error> {
    let endpoints = provider.endpoints()?;
    let client = client(provider, &endpoints, &panel_url(request)?)?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
        .request(&send)
        .map_err(|err| provider_error(format!("the code was not accepted: {err}")))?;
    let access = token.access_token().secret();
    match provider.kind {
        Kind::Google | Kind::Oidc => {
            let id_token = token
                .extra_fields()
                .id_token
                .as_deref()
                .ok_or_else(|| provider_error("the provider sent no ID token"))?;
            let issuer = endpoints.issuer.as_deref().unwrap_or_default();
            let mut claims =
                check_id_token(id_token, issuer, &provider.client_id, &flow.nonce, now())
                    .map_err(provider_error)?;
            if let Some(userinfo) = &endpoints.userinfo {
                let more = get_json(userinfo, access)?;
                // OpenID Connect Core §5.3.2: the same subject, or none of it counts.
                if more["sub"].as_str() == claims["sub"].as_str()
                    && let (Some(base), Some(extra)) = (claims.as_object_mut(), more.as_object())
                {
                    for (key, value) in extra {
                        base.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
            Ok(oidc_identity(&claims, provider.role_claim.as_deref()))
        }
        Kind::Github => {
            let user = get_json("https://api.github.com/user", access)?;
            let mut identity = Identity {
                subject: user["id"]
                    .as_i64()
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                username: user["login"].as_str().map(str::to_string),
                ..Identity::default()
            };
            // The primary address, if GitHub verified it.
            let emails = get_json("https://api.github.com/user/emails", access)?;
            if let Some(primary) = emails.as_array().and_then(|emails| {
                emails
                    .iter()
                    .find(|email| email["primary"] == true && email["verified"] == true)
            }) {
                identity.email = primary["email"].as_str().map(str::to_string);
                identity.email_verified = true;
            }
            Ok(identity)
        }
        Kind::Discord => {
            let user = get_json("https://discord.com/api/users/@me", access)?;
            Ok(Identity {
                subject: user["id"].as_str().unwrap_or_default().to_string(),
                username: user["username"].as_str().map(str::to_string),
                email: user["email"].as_str().map(str::to_string),
                email_verified: user["verified"] == true,
                groups: Vec::new(),
            })
        }
    }
    .and_then(|identity| match identity.subject.is_empty() {
        true => Err(provider_error("the provider did not say who signed in")),
        false => Ok(identity),
    })
}

fn provider_error(message: impl Into<String>) -> Error {
    Error::new(502, "oauth_provider", message.into())
}

fn get_json(url: &str, access_token: &str) -> Result<serde_json::Value, Error> {
    let mut request = OutgoingRequest::get(url);
    request.headers = vec![
        ("authorization".into(), format!("Bearer {access_token}")),
        ("accept".into(), "application/json".into()),
        // GitHub refuses requests without one.
        ("user-agent".into(), "Hatchery".into()),
    ];
    let answer = oauth_providers::fetch(request)?;
    if answer.status != 200 {
        return Err(provider_error(format!("{url} answered {}", answer.status)));
    }
    serde_json::from_slice(&answer.body)
        .map_err(|err| provider_error(format!("{url} did not answer JSON: {err}")))
}

/// The claims of an ID token from the token endpoint, once its issuer, audience,
/// times and nonce are right.
fn check_id_token(
    token: &str,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<serde_json::Value, String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the ID token is not a signed JWT".into());
    };
    let decode = |part: &str| -> Result<serde_json::Value, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|err| format!("the ID token is not base64url: {err}"))?;
        serde_json::from_slice(&bytes).map_err(|err| format!("the ID token is not JSON: {err}"))
    };
    let header = decode(header)?;
    if header["alg"]
        .as_str()
        .is_none_or(|alg| alg.eq_ignore_ascii_case("none"))
    {
        return Err("the ID token is not signed".into());
    }
    let claims = decode(payload)?;
    if claims["iss"].as_str() != Some(issuer) {
        return Err(format!(
            "the ID token was issued by {}, not {issuer}",
            claims["iss"]
        ));
    }
    let audiences: Vec<&str> = match &claims["aud"] {
        serde_json::Value::String(one) => vec![one.as_str()],
        serde_json::Value::Array(many) => many.iter().filter_map(|aud| aud.as_str()).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&client_id) {
        return Err("the ID token is meant for another client".into());
    }
    if audiences.len() > 1 && claims["azp"].as_str() != Some(client_id) {
        return Err("the ID token was given to another party".into());
    }
    if claims["exp"]
        .as_i64()
        .is_none_or(|exp| exp + LEEWAY_SECONDS < now)
    {
        return Err("the ID token has expired".into());
    }
    if claims["iat"]
        .as_i64()
        .is_some_and(|iat| iat > now + LEEWAY_SECONDS)
    {
        return Err("the ID token was issued in the future".into());
    }
    match claims["nonce"].as_str() {
        Some(sent) if constant_time_eq(sent, nonce) => Ok(claims),
        _ => Err("the ID token's nonce is not the one this sign-in sent".into()),
    }
}

fn oidc_identity(claims: &serde_json::Value, role_claim: Option<&str>) -> Identity {
    let groups = role_claim
        .map(|claim| match &claims[claim] {
            serde_json::Value::String(one) => vec![one.clone()],
            serde_json::Value::Array(many) => many
                .iter()
                .filter_map(|value| value.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    Identity {
        subject: claims["sub"].as_str().unwrap_or_default().to_string(),
        email: claims["email"].as_str().map(str::to_string),
        // Providers that do not say are not vouching for the address.
        email_verified: claims["email_verified"] == true,
        username: claims["preferred_username"]
            .as_str()
            .or(claims["nickname"].as_str())
            .map(str::to_string),
        groups,
    }
}

/// The account linked to this identity signs in (second factor included); or, when the
/// administrator allows it, a new account is opened for them.
fn sign_in(
    request: &Request,
    provider: &Provider,
    identity: &Identity,
    redirect: &str,
) -> Result<Response, Error> {
    let linked = linked_user(&provider.id, &identity.subject)?;
    let user = match linked {
        Some(user) => user,
        None if provider.auto_provision => match provision(provider, identity)? {
            Some(user) => user,
            None => return Ok(failed("/sign-in", "no-account")),
        },
        None => return Ok(failed("/sign-in", "not-linked")),
    };
    host::execute(
        "UPDATE core_auth__oauth_links SET last_used_at = $1 WHERE provider = $2 AND subject = $3",
        &[
            now().into(),
            provider.id.as_str().into(),
            identity.subject.as_str().into(),
        ],
    )?;
    let origin = SessionOrigin {
        ip: request.client_ip().map(str::to_string),
        user_agent: request.header("user-agent").map(str::to_string),
        impersonator_id: None,
    };
    let settings = crate::settings()?;
    let answer = match second_factor::owed(&user, &settings)? {
        second_factor::Owed::Nothing => complete_sign_in(&user, &origin, true, redirect, None)?,
        _ => {
            let challenge = second_factor::open_challenge(user.id, &origin, redirect)?;
            Response::redirect(&format!(
                "/sign-in/second-factor?challenge={}",
                challenge.token
            ))
        }
    };
    Ok(answer)
}

fn linked_user(provider: &str, subject: &str) -> Result<Option<UserInfo>, Error> {
    let rows = host::query(
        "SELECT user_id FROM core_auth__oauth_links WHERE provider = $1 AND subject = $2",
        &[provider.into(), subject.into()],
    )?;
    match rows
        .iter()
        .next()
        .and_then(|row| row.get("user_id")?.as_i64())
    {
        Some(user_id) => Ok(host::identity::find_user(&user_id.to_string())?),
        None => Ok(None),
    }
}

/// A new account for someone the provider vouches for: only with an address the
/// provider verified and no account here already holds (that person signs in as
/// themselves and links the provider instead).
fn provision(provider: &Provider, identity: &Identity) -> Result<Option<UserInfo>, Error> {
    let Some(email) = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified)
    else {
        return Ok(None);
    };
    if host::identity::find_user(email)?.is_some() {
        return Ok(None);
    }
    let role = identity
        .groups
        .iter()
        .find_map(|group| provider.role_map.get(group))
        .or(provider.default_role.as_ref())
        .cloned();
    let wanted = identity
        .username
        .clone()
        .or_else(|| email.split('@').next().map(str::to_string))
        .unwrap_or_default();
    let base = username_from(&wanted);
    let mut attempt = 0;
    let user = loop {
        let username = match attempt {
            0 => base.clone(),
            n => format!("{base}{n}"),
        };
        let new = NewUser {
            username,
            email: email.to_string(),
            role: role.clone(),
        };
        match host::identity::create_user(&new) {
            Ok(user) => break user,
            // Someone has the name already: the next free one.
            Err(HostError::Invalid(message))
                if attempt < 20 && message.contains("already exists") =>
            {
                attempt += 1
            }
            Err(err) => return Err(err.into()),
        }
    };
    store_link(&provider.id, identity, user.id)?;
    let mut entry = ActivityEntry::new("oauth.provision");
    entry.actor_id = Some(user.id);
    entry.properties = json!({ "provider": provider.id, "role": role });
    host::activity::record(&entry)?;
    Ok(Some(user))
}

/// A username the panel accepts, from what the provider calls them.
fn username_from(wanted: &str) -> String {
    let cleaned: String = wanted
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '_' | '-' | '.' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .take(32)
        .collect();
    match cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric()) {
        "" => "user".to_string(),
        name => name.to_string(),
    }
}

fn store_link(provider: &str, identity: &Identity, user_id: i64) -> Result<(), Error> {
    host::execute(
        "INSERT INTO core_auth__oauth_links (provider, subject, user_id, email, linked_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            provider.into(),
            identity.subject.as_str().into(),
            user_id.into(),
            identity
                .email
                .as_deref()
                .map_or(DbValue::Null, DbValue::from),
            now().into(),
        ],
    )?;
    Ok(())
}

/// Links the provider's account to `user_id`, unless it is someone else's already.
fn link(provider: &Provider, identity: &Identity, user_id: i64) -> Result<Response, Error> {
    let page = "/account/security";
    if let Some(holder) = linked_user(&provider.id, &identity.subject)? {
        let reason = match holder.id == user_id {
            true => "already-linked",
            false => "linked-elsewhere",
        };
        return Ok(failed(page, reason));
    }
    let rows = host::query(
        "SELECT subject FROM core_auth__oauth_links WHERE provider = $1 AND user_id = $2",
        &[provider.id.as_str().into(), user_id.into()],
    )?;
    if rows.iter().next().is_some() {
        return Ok(failed(page, "already-linked"));
    }
    store_link(&provider.id, identity, user_id)?;
    let mut entry = ActivityEntry::new("oauth.link");
    entry.actor_id = Some(user_id);
    entry.properties = json!({ "provider": provider.id });
    host::activity::record(&entry)?;
    Ok(Response::redirect(&format!(
        "{page}?linked={}",
        provider.id
    )))
}

/// `GET /api/auth/core-auth/oauth/links`: the caller's linked providers.
pub fn list_links(request: &Request) -> Result<Response, Error> {
    let caller = crate::signed_in(request)?;
    let rows = host::query(
        "SELECT l.provider, p.name, l.email, l.linked_at, l.last_used_at FROM core_auth__oauth_links l \
         LEFT JOIN core_auth__oauth_providers p ON p.id = l.provider WHERE l.user_id = $1 ORDER BY l.linked_at",
        &[caller.into()],
    )?;
    let links: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            json!({
                "provider": row.get("provider").and_then(DbValue::as_str),
                "name": row.get("name").and_then(DbValue::as_str),
                "email": row.get("email").and_then(DbValue::as_str),
                "linked_at": row.get("linked_at").and_then(DbValue::as_i64),
                "last_used_at": row.get("last_used_at").and_then(DbValue::as_i64),
            })
        })
        .collect();
    Ok(Response::json(&json!({ "data": links })))
}

/// `DELETE /api/auth/core-auth/oauth/links/{provider}`: unlinks a provider, unless it is
/// the caller's only way to sign in.
pub fn unlink(request: &Request) -> Result<Response, Error> {
    let caller = in_browser(request)?;
    let provider = request.param("provider").unwrap_or_default().to_string();
    let links = host::query(
        "SELECT provider FROM core_auth__oauth_links WHERE user_id = $1",
        &[caller.into()],
    )?;
    let providers: Vec<String> = links
        .iter()
        .filter_map(|row| {
            row.get("provider")
                .and_then(DbValue::as_str)
                .map(str::to_string)
        })
        .collect();
    if !providers.contains(&provider) {
        return Err(Error::not_found(
            "that provider is not linked to your account",
        ));
    }
    let other_way = providers.len() > 1
        || crate::stored_hash(caller)?.is_some()
        || crate::passkeys::has_any(caller)?;
    if !other_way {
        return Err(Error::conflict(
            "this is your only way to sign in; set a password or add a passkey first",
        ));
    }
    host::execute(
        "DELETE FROM core_auth__oauth_links WHERE user_id = $1 AND provider = $2",
        &[caller.into(), provider.as_str().into()],
    )?;
    let mut entry = ActivityEntry::new("oauth.unlink");
    entry.actor_id = Some(caller);
    entry.properties = json!({ "provider": provider });
    host::activity::record(&entry)?;
    Ok(Response::json(&json!({ "data": { "unlinked": provider } })))
}

/// Forgets a deleted user's links.
pub fn forget(user_id: i64) -> Result<(), Error> {
    host::execute(
        "DELETE FROM core_auth__oauth_links WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(())
}

fn panel_url(request: &Request) -> Result<String, Error> {
    request
        .panel_url()
        .map(str::to_string)
        .ok_or_else(|| Error::internal("the host did not say the panel's address"))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: serde_json::Value, claims: serde_json::Value) -> String {
        let encode = |value: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
        };
        format!("{}.{}.c2ln", encode(header), encode(claims))
    }

    fn claims() -> serde_json::Value {
        json!({ "iss": "https://id.example", "aud": "panel", "sub": "42", "exp": 2000, "iat": 1000, "nonce": "n1" })
    }

    #[test]
    fn id_tokens_are_checked_claim_by_claim() {
        let rs256 = json!({ "alg": "RS256" });
        let good = token(rs256.clone(), claims());
        assert!(check_id_token(&good, "https://id.example", "panel", "n1", 1500).is_ok());

        let wrong = [
            (token(json!({ "alg": "none" }), claims()), "not signed"),
            (good.clone(), "nonce"),
        ];
        assert!(
            check_id_token(&wrong[0].0, "https://id.example", "panel", "n1", 1500)
                .unwrap_err()
                .contains(wrong[0].1)
        );
        assert!(
            check_id_token(&wrong[1].0, "https://id.example", "panel", "other", 1500)
                .unwrap_err()
                .contains(wrong[1].1)
        );
        for (field, value, says) in [
            ("iss", json!("https://evil.example"), "issued by"),
            ("aud", json!("someone-else"), "another client"),
            ("aud", json!(["panel", "x"]), "another party"),
            ("exp", json!(1000), "expired"),
            ("iat", json!(9000), "future"),
        ] {
            let mut bad = claims();
            bad[field] = value;
            let err = check_id_token(
                &token(rs256.clone(), bad),
                "https://id.example",
                "panel",
                "n1",
                1500,
            )
            .unwrap_err();
            assert!(err.contains(says), "{field}: {err}");
        }
        assert!(check_id_token("a.b", "https://id.example", "panel", "n1", 1500).is_err());
    }

    #[test]
    fn provider_names_become_usernames() {
        assert_eq!(username_from("Ada Lovelace"), "adalovelace");
        assert_eq!(username_from("ünï"), "n");
        assert_eq!(username_from("--"), "user");
        assert_eq!(username_from("grace.hopper"), "grace.hopper");
    }

    #[test]
    fn role_claims_are_strings_or_lists() {
        let claims = json!({ "sub": "1", "groups": ["ops", "players"], "email": "a@b.c", "email_verified": true });
        let identity = oidc_identity(&claims, Some("groups"));
        assert_eq!(identity.groups, ["ops", "players"]);
        assert!(identity.email_verified);
        let unverified = oidc_identity(&json!({ "sub": "1", "email": "a@b.c" }), None);
        assert!(!unverified.email_verified);
    }
}
