//! The identity providers an administrator configures for sign-in: presets for GitHub,
//! Google and Discord, and any OpenID Connect provider by its issuer. Client secrets are
//! kept sealed by the host (`secrets`), never shown again.
//!
//! The plugin may call the presets' hosts; an administrator who adds their own provider
//! grants its host too (`hatchery plugin grant core-auth http:sso.example.com`), so a
//! sign-in plugin never reaches a host nobody chose.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hatchery_sdk::{DbValue, Error, HostError, OutgoingRequest, Request, Response, host, json};
use serde::{Deserialize, Serialize};

use crate::now;

/// How long a provider's discovery document is trusted before it is fetched again.
const DISCOVERY_SECONDS: i64 = 300;

/// What kind of provider, and so where its endpoints are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Github,
    Google,
    Discord,
    /// Any OpenID Connect provider, found by discovery from its issuer.
    Oidc,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Github => "github",
            Kind::Google => "google",
            Kind::Discord => "discord",
            Kind::Oidc => "oidc",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        [Kind::Github, Kind::Google, Kind::Discord, Kind::Oidc]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Scopes asked for when the administrator names none.
    fn default_scopes(self) -> &'static str {
        match self {
            Kind::Github => "read:user user:email",
            Kind::Discord => "identify email",
            Kind::Google | Kind::Oidc => "openid email profile",
        }
    }

    pub fn is_oidc(self) -> bool {
        matches!(self, Kind::Google | Kind::Oidc)
    }
}

/// A configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// OpenID Connect providers: the issuer, exactly as its tokens name it.
    pub issuer: Option<String>,
    pub client_id: String,
    pub scopes: String,
    /// Open an account for someone the provider vouches for who has none here.
    pub auto_provision: bool,
    /// The claim holding groups or roles (`groups`), for `role_map`.
    pub role_claim: Option<String>,
    /// A claim value → the role a new account gets.
    pub role_map: BTreeMap<String, String>,
    /// The role of new accounts no mapping matched.
    pub default_role: Option<String>,
    pub enabled: bool,
}

impl Provider {
    pub fn client_secret(&self) -> Result<String, Error> {
        host::secrets::get(&secret_name(&self.id))?.ok_or_else(|| {
            Error::conflict(format!(
                "the provider `{}` has no client secret; an administrator sets it again",
                self.id
            ))
        })
    }

    /// Where the provider sends the browser back: registered with the provider.
    pub fn redirect_uri(&self, panel_url: &str) -> String {
        format!(
            "{}/api/auth/core-auth/oauth/{}/callback",
            panel_url.trim_end_matches('/'),
            self.id
        )
    }

    /// The provider's endpoints.
    pub fn endpoints(&self) -> Result<Endpoints, Error> {
        match self.kind {
            Kind::Github => Ok(Endpoints {
                issuer: None,
                authorization: "https://github.com/login/oauth/authorize".into(),
                token: "https://github.com/login/oauth/access_token".into(),
                userinfo: Some("https://api.github.com/user".into()),
                basic_auth: false,
            }),
            Kind::Discord => Ok(Endpoints {
                issuer: None,
                authorization: "https://discord.com/oauth2/authorize".into(),
                token: "https://discord.com/api/oauth2/token".into(),
                userinfo: Some("https://discord.com/api/users/@me".into()),
                basic_auth: true,
            }),
            Kind::Google | Kind::Oidc => {
                let issuer = self.issuer.as_deref().unwrap_or(GOOGLE_ISSUER);
                discover(issuer)
            }
        }
    }

    fn public(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "name": self.name,
            "kind": self.kind.as_str(),
            "start": format!("/api/auth/core-auth/oauth/{}/start", self.id),
        })
    }

    fn for_admin(&self, panel_url: &str) -> serde_json::Value {
        json!({
            "id": self.id,
            "name": self.name,
            "kind": self.kind.as_str(),
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret_set": host::secrets::get(&secret_name(&self.id)).ok().flatten().is_some(),
            "scopes": self.scopes,
            "auto_provision": self.auto_provision,
            "role_claim": self.role_claim,
            "role_map": self.role_map,
            "default_role": self.default_role,
            "enabled": self.enabled,
            "redirect_uri": self.redirect_uri(panel_url),
        })
    }
}

const GOOGLE_ISSUER: &str = "https://accounts.google.com";

fn secret_name(id: &str) -> String {
    format!("oauth.{id}.client-secret")
}

/// Where to send the browser, where to trade the code, where to ask who it was.
#[derive(Debug, Clone, Deserialize)]
pub struct Endpoints {
    pub issuer: Option<String>,
    pub authorization: String,
    pub token: String,
    pub userinfo: Option<String>,
    /// The client authenticates with HTTP Basic (else in the form body).
    pub basic_auth: bool,
}

/// Discovery documents fetched recently: (issuer, fetched at, endpoints).
static DISCOVERED: Mutex<Vec<(String, i64, Endpoints)>> = Mutex::new(Vec::new());

/// The endpoints an OpenID Connect issuer publishes (`/.well-known/openid-configuration`).
fn discover(issuer: &str) -> Result<Endpoints, Error> {
    let now = now();
    if let Ok(cache) = DISCOVERED.lock()
        && let Some((_, _, found)) = cache
            .iter()
            .find(|(known, at, _)| known == issuer && now - at < DISCOVERY_SECONDS)
    {
        return Ok(found.clone());
    }
    #[derive(Deserialize)]
    struct Document {
        issuer: String,
        authorization_endpoint: String,
        token_endpoint: String,
        userinfo_endpoint: Option<String>,
        #[serde(default)]
        token_endpoint_auth_methods_supported: Vec<String>,
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let answer = fetch(OutgoingRequest::get(&url))?;
    if answer.status != 200 {
        return Err(Error::new(
            502,
            "oauth_provider",
            format!("{url} answered {}", answer.status),
        ));
    }
    let document: Document = serde_json::from_slice(&answer.body).map_err(|err| {
        Error::new(
            502,
            "oauth_provider",
            format!("{url} is not a discovery document: {err}"),
        )
    })?;
    // OpenID Connect Discovery 1.0 §4.3: the document names exactly this issuer.
    if document.issuer != issuer {
        return Err(Error::new(
            502,
            "oauth_provider",
            format!(
                "{url} names issuer `{}`, not `{issuer}`; use the issuer exactly as the provider writes it",
                document.issuer
            ),
        ));
    }
    let methods = &document.token_endpoint_auth_methods_supported;
    let endpoints = Endpoints {
        issuer: Some(document.issuer),
        authorization: document.authorization_endpoint,
        token: document.token_endpoint,
        userinfo: document.userinfo_endpoint,
        basic_auth: methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic"),
    };
    if let Ok(mut cache) = DISCOVERED.lock() {
        cache.retain(|(known, _, _)| known != issuer);
        cache.push((issuer.to_string(), now, endpoints.clone()));
    }
    Ok(endpoints)
}

/// A request through the host's `http` capability; a host nobody granted reads as a
/// problem the administrator can fix.
pub fn fetch(request: OutgoingRequest) -> Result<hatchery_sdk::Response, Error> {
    host::http::fetch(&request).map_err(|err| match err {
        HostError::Denied(message) => Error::new(400, "oauth_provider_host", message),
        HostError::Unavailable(message) => Error::new(502, "oauth_provider", message),
        other => other.into(),
    })
}

const COLUMNS: &str = "id, name, kind, issuer, client_id, scopes, auto_provision, role_claim, \
     role_map, default_role, enabled";

fn from_row(row: hatchery_sdk::Row<'_>) -> Option<Provider> {
    let text = |name: &str| row.get(name).and_then(DbValue::as_str).map(str::to_string);
    let flag = |name: &str| row.get(name).and_then(DbValue::as_i64).unwrap_or(0) != 0;
    Some(Provider {
        id: text("id")?,
        name: text("name")?,
        kind: Kind::parse(&text("kind")?)?,
        issuer: text("issuer"),
        client_id: text("client_id")?,
        scopes: text("scopes")?,
        auto_provision: flag("auto_provision"),
        role_claim: text("role_claim"),
        role_map: serde_json::from_str(&text("role_map")?).unwrap_or_default(),
        default_role: text("default_role"),
        enabled: flag("enabled"),
    })
}

pub fn all() -> Result<Vec<Provider>, Error> {
    let rows = host::query(
        &format!("SELECT {COLUMNS} FROM core_auth__oauth_providers ORDER BY name"),
        &[],
    )?;
    Ok(rows.iter().filter_map(from_row).collect())
}

pub fn find(id: &str) -> Result<Option<Provider>, Error> {
    let rows = host::query(
        &format!("SELECT {COLUMNS} FROM core_auth__oauth_providers WHERE id = $1"),
        &[id.into()],
    )?;
    Ok(rows.iter().next().and_then(from_row))
}

/// An enabled provider by the id in the path, or a 404.
pub fn enabled(request: &Request) -> Result<Provider, Error> {
    request
        .param("provider")
        .map(find)
        .transpose()?
        .flatten()
        .filter(|provider| provider.enabled)
        .ok_or_else(|| Error::not_found("no such sign-in provider"))
}

/// `GET /api/auth/core-auth/oauth/providers`: the buttons of the sign-in page.
pub fn list_public(_request: &Request) -> Result<Response, Error> {
    let providers: Vec<serde_json::Value> = all()?
        .iter()
        .filter(|provider| provider.enabled)
        .map(Provider::public)
        .collect();
    Ok(Response::json(&json!({ "data": providers })))
}

fn panel_url(request: &Request) -> String {
    request.panel_url().unwrap_or_default().to_string()
}

/// `GET /api/admin/core-auth/oauth-providers`: every provider, secrets left out.
pub fn list_for_admin(request: &Request) -> Result<Response, Error> {
    let panel = panel_url(request);
    let providers: Vec<serde_json::Value> = all()?
        .iter()
        .map(|provider| provider.for_admin(&panel))
        .collect();
    Ok(Response::json(&json!({ "data": providers })))
}

/// What an administrator sends to add or change a provider.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderForm {
    id: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    /// Left out when changing a provider: the sealed one stays.
    client_secret: Option<String>,
    scopes: Option<String>,
    auto_provision: Option<bool>,
    role_claim: Option<String>,
    role_map: Option<BTreeMap<String, String>>,
    default_role: Option<String>,
    enabled: Option<bool>,
}

fn is_slug(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
}

/// `https://…`, or `http://` on this machine only: the back channel that carries the
/// ID token is what vouches for it (OpenID Connect Core §3.1.3.7), so it must be TLS
/// unless it never leaves the host.
fn check_issuer(issuer: &str) -> Result<(), Error> {
    let url = oauth2::url::Url::parse(issuer)
        .map_err(|err| Error::new(400, "issuer", format!("`{issuer}` is not a URL: {err}")))?;
    let local = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match (url.scheme(), local) {
        ("https", _) | ("http", true) => Ok(()),
        _ => Err(Error::new(
            400,
            "issuer",
            "the issuer must be an https:// URL (http:// only on this machine)",
        )),
    }
}

/// Checks a form on top of `base` (a new provider, or the one being changed).
fn apply(form: ProviderForm, mut base: Provider) -> Result<(Provider, Option<String>), Error> {
    if let Some(name) = form.name {
        base.name = name.trim().to_string();
    }
    if let Some(kind) = form.kind {
        base.kind = Kind::parse(&kind)
            .ok_or_else(|| Error::new(400, "kind", "kind is github, google, discord or oidc"))?;
    }
    if form.issuer.is_some() {
        base.issuer = form.issuer.filter(|issuer| !issuer.trim().is_empty());
    }
    if let Some(client_id) = form.client_id {
        base.client_id = client_id.trim().to_string();
    }
    if let Some(scopes) = form.scopes {
        base.scopes = scopes.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    if let Some(auto) = form.auto_provision {
        base.auto_provision = auto;
    }
    if form.role_claim.is_some() {
        base.role_claim = form.role_claim.filter(|claim| !claim.is_empty());
    }
    if let Some(map) = form.role_map {
        base.role_map = map;
    }
    if form.default_role.is_some() {
        base.default_role = form.default_role.filter(|role| !role.is_empty());
    }
    if let Some(enabled) = form.enabled {
        base.enabled = enabled;
    }
    if base.name.is_empty() || base.name.len() > 64 {
        return Err(Error::new(400, "name", "a name is 1 to 64 characters"));
    }
    if base.client_id.is_empty() || base.client_id.len() > 255 {
        return Err(Error::new(400, "client_id", "the client id is required"));
    }
    if base.scopes.is_empty() {
        base.scopes = base.kind.default_scopes().to_string();
    }
    if base.kind.is_oidc() && !base.scopes.split(' ').any(|scope| scope == "openid") {
        return Err(Error::new(
            400,
            "scopes",
            "OpenID Connect sign-in needs the `openid` scope",
        ));
    }
    match base.kind {
        Kind::Oidc => {
            let issuer = base.issuer.as_deref().ok_or_else(|| {
                Error::new(
                    400,
                    "issuer",
                    "an OpenID Connect provider needs its issuer URL",
                )
            })?;
            check_issuer(issuer)?;
        }
        Kind::Google => base.issuer = Some(GOOGLE_ISSUER.into()),
        Kind::Github | Kind::Discord => base.issuer = None,
    }
    let secret = form.client_secret.filter(|secret| !secret.is_empty());
    Ok((base, secret))
}

/// `POST /api/admin/core-auth/oauth-providers`: adds a provider. OpenID Connect
/// providers are asked for their discovery document first, so a wrong issuer or a host
/// not granted yet is said now, not at someone's sign-in.
pub fn create(request: &Request) -> Result<Response, Error> {
    let form: ProviderForm = request.json()?;
    let id = form.id.clone().unwrap_or_default();
    if !is_slug(&id) {
        return Err(Error::new(
            400,
            "id",
            "an id is 1 to 32 lowercase letters, digits and hyphens (it appears in the callback URL)",
        ));
    }
    if find(&id)?.is_some() {
        return Err(Error::conflict(format!(
            "there is a provider `{id}` already"
        )));
    }
    let base = Provider {
        id: id.clone(),
        name: String::new(),
        kind: Kind::Oidc,
        issuer: None,
        client_id: String::new(),
        scopes: String::new(),
        auto_provision: false,
        role_claim: None,
        role_map: BTreeMap::new(),
        default_role: None,
        enabled: true,
    };
    let (provider, secret) = apply(form, base)?;
    let secret =
        secret.ok_or_else(|| Error::new(400, "client_secret", "the client secret is required"))?;
    provider.endpoints()?;
    host::secrets::set(&secret_name(&id), &secret)?;
    save(&provider, true)?;
    record(request, "oauth.provider.create", &provider);
    Ok(
        Response::json(&json!({ "data": provider.for_admin(&panel_url(request)) }))
            .with_status(201),
    )
}

/// `PUT /api/admin/core-auth/oauth-providers/{provider}`: changes a provider.
pub fn update(request: &Request) -> Result<Response, Error> {
    let current = request
        .param("provider")
        .map(find)
        .transpose()?
        .flatten()
        .ok_or_else(|| Error::not_found("no such sign-in provider"))?;
    let form: ProviderForm = request.json()?;
    if form.id.as_deref().is_some_and(|id| id != current.id) {
        return Err(Error::new(400, "id", "a provider's id cannot change"));
    }
    let (provider, secret) = apply(form, current)?;
    if provider.kind.is_oidc() {
        provider.endpoints()?;
    }
    if let Some(secret) = secret {
        host::secrets::set(&secret_name(&provider.id), &secret)?;
    }
    save(&provider, false)?;
    record(request, "oauth.provider.update", &provider);
    Ok(Response::json(
        &json!({ "data": provider.for_admin(&panel_url(request)) }),
    ))
}

/// `DELETE /api/admin/core-auth/oauth-providers/{provider}`: removes a provider, its
/// secret and every account's link to it.
pub fn delete(request: &Request) -> Result<Response, Error> {
    let provider = request
        .param("provider")
        .map(find)
        .transpose()?
        .flatten()
        .ok_or_else(|| Error::not_found("no such sign-in provider"))?;
    host::execute(
        "DELETE FROM core_auth__oauth_links WHERE provider = $1",
        &[provider.id.as_str().into()],
    )?;
    host::execute(
        "DELETE FROM core_auth__oauth_providers WHERE id = $1",
        &[provider.id.as_str().into()],
    )?;
    host::secrets::delete(&secret_name(&provider.id))?;
    record(request, "oauth.provider.delete", &provider);
    Ok(Response::json(
        &json!({ "data": { "deleted": provider.id } }),
    ))
}

fn save(provider: &Provider, new: bool) -> Result<(), Error> {
    let optional = |text: &Option<String>| text.as_deref().map_or(DbValue::Null, DbValue::from);
    let role_map = serde_json::to_string(&provider.role_map).unwrap_or_else(|_| "{}".into());
    let mut values: Vec<DbValue> = vec![
        provider.id.as_str().into(),
        provider.name.as_str().into(),
        provider.kind.as_str().into(),
        optional(&provider.issuer),
        provider.client_id.as_str().into(),
        provider.scopes.as_str().into(),
        i64::from(provider.auto_provision).into(),
        optional(&provider.role_claim),
        role_map.as_str().into(),
        optional(&provider.default_role),
        i64::from(provider.enabled).into(),
    ];
    let sql = match new {
        true => {
            values.push(now().into());
            "INSERT INTO core_auth__oauth_providers (id, name, kind, issuer, client_id, scopes, \
             auto_provision, role_claim, role_map, default_role, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        }
        false => {
            "UPDATE core_auth__oauth_providers SET name = $2, kind = $3, issuer = $4, \
             client_id = $5, scopes = $6, auto_provision = $7, role_claim = $8, role_map = $9, \
             default_role = $10, enabled = $11 WHERE id = $1"
        }
    };
    host::execute(sql, &values)?;
    Ok(())
}

fn record(request: &Request, event: &str, provider: &Provider) {
    let mut entry = hatchery_sdk::ActivityEntry::new(event);
    entry.actor_id = request.principal.as_ref().map(|caller| caller.user_id);
    entry.subject = Some(("oauth-provider".into(), provider.id.clone()));
    entry.properties = json!({ "name": provider.name, "kind": provider.kind.as_str() });
    let _ = host::activity::record(&entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_travel_over_tls_unless_they_stay_on_this_machine() {
        assert!(check_issuer("https://sso.example.com/realms/games").is_ok());
        assert!(check_issuer("http://127.0.0.1:9400").is_ok());
        assert!(check_issuer("http://localhost:9400").is_ok());
        assert!(check_issuer("http://sso.example.com").is_err());
        assert!(check_issuer("ftp://sso.example.com").is_err());
        assert!(check_issuer("not a url").is_err());
    }

    #[test]
    fn provider_ids_fit_in_a_url() {
        assert!(is_slug("company-sso"));
        for bad in ["", "-x", "Has Caps", "a/b", &"x".repeat(33)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }
}
