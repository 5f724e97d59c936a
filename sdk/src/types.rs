//! The values a plugin exchanges with the host. They mirror `wit/v1/plugin.wit` one to
//! one; native plugins receive them serialized, Wasm plugins through the component model.

use serde::{Deserialize, Serialize};

/// The authenticated user behind a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub admin: bool,
    pub permissions: Vec<String>,
    /// When the caller used an API key limited to some servers or permissions, those
    /// limits; the host applies them to every server the caller reaches.
    #[serde(default)]
    pub key_scope: Option<KeyScope>,
}

/// What an API key was limited to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyScope {
    /// Only these servers (uuids); none: every server of its owner.
    pub servers: Option<Vec<String>>,
    /// Only these server permissions on them; none: all its owner holds.
    pub permissions: Option<Vec<String>>,
}

impl Principal {
    /// Whether the user holds `permission` (admins hold every permission).
    pub fn can(&self, permission: &str) -> bool {
        self.admin || self.permissions.iter().any(|p| p == permission)
    }
}

/// An HTTP request to one of the plugin's declared routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub method: String,
    /// The manifest's route pattern that matched, e.g. `/greetings/{name}`.
    pub route: String,
    pub path: String,
    pub query: String,
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// Bytes cross the native ABI as one block, not byte by byte.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
    pub principal: Option<Principal>,
}

impl Request {
    /// The value of a `{name}` segment of the matched route.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A header value; names compare case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON, or a 400 error that says why it could not be.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        serde_json::from_slice(&self.body)
            .map_err(|err| crate::Error::bad_request(format!("invalid JSON body: {err}")))
    }

    /// The query string's fields, or a 400 error that names the one that is wrong.
    pub fn query_fields<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        serde_urlencoded::from_str(&self.query)
            .map_err(|err| crate::Error::bad_request(format!("invalid query: {err}")))
    }

    /// One query-string value (percent-decoded), the first if it is given twice.
    pub fn query_value(&self, name: &str) -> Option<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query)
            .ok()?
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// The body's fields, from JSON or from an HTML form
    /// (`application/x-www-form-urlencoded`), as the `content-type` says.
    pub fn fields<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        if self.is_form() {
            serde_urlencoded::from_bytes(&self.body)
                .map_err(|err| crate::Error::bad_request(format!("invalid form: {err}")))
        } else {
            self.json()
        }
    }

    /// Whether the body is an HTML form post, which expects a redirect, not JSON.
    pub fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
    }

    /// The client's address as the host saw it (behind the proxies the admin trusts,
    /// the address they forwarded).
    pub fn client_ip(&self) -> Option<&str> {
        self.header("x-hatchery-client-ip")
    }

    /// The panel's public address (`https://panel.example.com`), for links a plugin
    /// sends or shows.
    pub fn panel_url(&self) -> Option<&str> {
        self.header("x-hatchery-panel-url")
    }

    /// How the caller signed in: `"session"` for a person in the web panel (a browser
    /// session), `"api-key"` for an API key; `None` when the caller is anonymous.
    pub fn credential(&self) -> Option<&str> {
        self.header("x-hatchery-credential")
    }

    /// On an auth route (`scope = "auth"`), the id of the browser session the caller
    /// signed in with (none for an API key): "this browser" in a list of sessions.
    pub fn session_id(&self) -> Option<i64> {
        self.header("x-hatchery-session-id")?.parse().ok()
    }

    /// On an auth route (`scope = "auth"`), one of this plugin's own cookies (set with
    /// [`Response::with_cookie`]); the panel's and other plugins' cookies never arrive.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie")?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// `true` when the route pattern and method are the ones given.
    pub fn is(&self, method: &str, route: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.route == route
    }

    /// On a server route (`scope = "server"`): the server's uuid, resolved by the host
    /// from whatever id the client used.
    pub fn server(&self) -> Option<&str> {
        self.header("x-hatchery-server")
    }

    /// On a server route: the caller's permissions on the server (`*` for owners and
    /// administrators), already checked against the route's own permission.
    pub fn server_permissions(&self) -> Vec<&str> {
        self.header("x-hatchery-server-permissions")
            .map(|list| list.split(',').filter(|p| !p.is_empty()).collect())
            .unwrap_or_default()
    }

    /// On a server route: whether the caller holds `permission` on the server.
    pub fn can(&self, permission: &str) -> bool {
        self.server_permissions()
            .iter()
            .any(|held| *held == "*" || *held == permission)
    }
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Bytes cross the native ABI as one block, not byte by byte.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

impl Response {
    /// A `200 OK` JSON response.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Response {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body,
            },
            Err(err) => crate::Error::internal(format!("could not encode JSON: {err}")).into(),
        }
    }

    /// A `200 OK` plain-text response.
    pub fn text(body: impl Into<String>) -> Self {
        Response {
            status: 200,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: body.into().into_bytes(),
        }
    }

    /// A `303 See Other` to `location`, for answers to HTML forms.
    pub fn redirect(location: &str) -> Self {
        Response {
            status: 303,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// The same response with another status code.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same response, signing the browser in with `session`: on a route with
    /// `scope = "auth"` of a plugin granted `identity`, the host sets its session
    /// cookie (HttpOnly, SameSite, Secure under TLS); plugins never see it.
    pub fn with_session(mut self, session: &NewSession) -> Self {
        self.headers
            .push((SESSION_HEADER.into(), session.token.clone()));
        self
    }

    /// The same response, keeping `name=value` in the browser for `max_age_seconds`
    /// (at most a day): on an auth route (`scope = "auth"`) only, for state a sign-in
    /// flow binds to the browser that started it. The host names it after the plugin,
    /// makes it HttpOnly and SameSite=Lax, and sends it back only to the plugin's
    /// sign-in routes (see [`Request::cookie`]). `name` is letters, digits, `-` and `_`;
    /// `value` is printable ASCII without `;`, `,`, `"` or `\`. `max_age_seconds` 0
    /// removes it.
    pub fn with_cookie(mut self, name: &str, value: &str, max_age_seconds: u64) -> Self {
        self.headers.push((
            "set-cookie".into(),
            format!("{name}={value}; Max-Age={max_age_seconds}"),
        ));
        self
    }

    /// The response the host's own handlers give for an unknown route.
    pub fn not_found() -> Self {
        crate::Error::new(404, "not_found", "no such route in this plugin").into()
    }
}

/// The response header a sign-in route names its new session in; the host turns it
/// into the session cookie and never passes it on.
pub const SESSION_HEADER: &str = "x-hatchery-session";

/// An event delivered to a subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub name: String,
    /// JSON text.
    pub payload: String,
    /// `host` or the emitting plugin's id.
    pub source: String,
}

impl Event {
    /// The payload parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        serde_json::from_str(&self.payload).map_err(|err| {
            crate::Error::internal(format!(
                "event {} has an unexpected payload: {err}",
                self.name
            ))
        })
    }
}

/// What a CLI command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutput {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CommandOutput {
    /// Success with `stdout` printed.
    pub fn ok(stdout: impl Into<String>) -> Self {
        CommandOutput {
            exit_code: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// Failure (exit code 1) with `message` on stderr.
    pub fn failure(message: impl Into<String>) -> Self {
        CommandOutput {
            exit_code: 1,
            stdout: String::new(),
            stderr: message.into(),
        }
    }

    /// Wrong arguments (exit code 2, as clap uses) with `usage` on stderr.
    pub fn usage(usage: impl Into<String>) -> Self {
        CommandOutput {
            exit_code: 2,
            stdout: String::new(),
            stderr: usage.into(),
        }
    }
}

/// One SQL value, as bound to a placeholder or read from a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DbValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(#[serde(with = "serde_bytes")] Vec<u8>),
}

impl DbValue {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            DbValue::Integer(value) => Some(*value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            DbValue::Text(value) => Some(value),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            DbValue::Blob(value) => Some(value),
            _ => None,
        }
    }
}

impl From<i64> for DbValue {
    fn from(value: i64) -> Self {
        DbValue::Integer(value)
    }
}

impl From<f64> for DbValue {
    fn from(value: f64) -> Self {
        DbValue::Real(value)
    }
}

impl From<&str> for DbValue {
    fn from(value: &str) -> Self {
        DbValue::Text(value.to_owned())
    }
}

impl From<String> for DbValue {
    fn from(value: String) -> Self {
        DbValue::Text(value)
    }
}

impl From<Vec<u8>> for DbValue {
    fn from(value: Vec<u8>) -> Self {
        DbValue::Blob(value)
    }
}

impl<T: Into<DbValue>> From<Option<T>> for DbValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(DbValue::Null, Into::into)
    }
}

/// The result of a query: column names and rows of values in the same order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DbRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<DbValue>>,
}

impl DbRows {
    /// The rows as maps from column name to value.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }
}

/// One row of [`DbRows`], with values looked up by column name.
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [DbValue],
}

impl Row<'_> {
    pub fn get(&self, column: &str) -> Option<&DbValue> {
        let index = self.columns.iter().position(|name| name == column)?;
        self.values.get(index)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Why a host call failed (contract 1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostError {
    /// The admin did not grant the capability, or the principal lacks the permission.
    Denied(String),
    NotFound(String),
    /// The arguments were refused: a bad name, SQL outside the plugin's tables, …
    Invalid(String),
    /// Something the call needs is away (a node's wings, the database); try later.
    Unavailable(String),
    Internal(String),
}

impl HostError {
    pub fn message(&self) -> &str {
        match self {
            HostError::Denied(message)
            | HostError::NotFound(message)
            | HostError::Invalid(message)
            | HostError::Unavailable(message)
            | HostError::Internal(message) => message,
        }
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for HostError {}

/// An entry of a server's directory (`host::files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    pub directory: bool,
    pub file: bool,
    pub symlink: bool,
    /// Permission bits, e.g. `0o644`.
    pub mode: u32,
    /// Seconds since the Unix epoch.
    pub modified: i64,
    /// A MIME type guessed from the name (`inode/directory` for directories).
    pub mime: String,
}

/// An entry inside an archive, as [`crate::host::files::archive_list`] finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    /// The path inside the archive, `/`-separated.
    pub name: String,
    /// Uncompressed bytes (0 for folders and links).
    pub size: u64,
    pub directory: bool,
    pub symlink: bool,
    /// Seconds since the Unix epoch, when the archive records it.
    pub modified: Option<i64>,
}

/// A URL that works once, until `expires_at` (seconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedUrl {
    pub url: String,
    pub expires_at: i64,
}

/// How a sign-in method signs people in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodKind {
    /// Credentials typed into the sign-in page and posted to `start`.
    Form,
    /// The browser goes to `start`, which sends it on to an identity provider.
    Redirect,
    /// WebAuthn in the browser, begun at `start`.
    Passkey,
}

impl MethodKind {
    /// `form`, `redirect` or `passkey`.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Form => "form",
            MethodKind::Redirect => "redirect",
            MethodKind::Passkey => "passkey",
        }
    }
}

/// A password the host hands to an `auth-method` provider to keep.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordInput {
    /// Typed by a person: the first-start form, `hatchery user create --password`.
    Plain(String),
    /// A hash made elsewhere and imported: Pterodactyl's bcrypt (`$2y$…`) or an
    /// argon2 PHC string.
    Hash(String),
}

/// Never prints the password or the hash.
impl std::fmt::Debug for PasswordInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordInput::Plain(_) => f.write_str("Plain(…)"),
            PasswordInput::Hash(_) => f.write_str("Hash(…)"),
        }
    }
}

/// One way to sign in, as the sign-in page offers it (provider `auth-method`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInMethod {
    /// Unique within the plugin, e.g. `password`, `github`.
    pub id: String,
    /// What the button or form says.
    pub label: String,
    pub kind: MethodKind,
    /// Where the browser begins: a path below `/api/auth/`.
    pub start: String,
}

/// The backup a `backup-driver` call is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRef {
    /// The backup's uuid; unique, and a safe file name.
    pub uuid: String,
    /// The uuid of the server it belongs to.
    pub server: String,
    /// The backup target's settings as the admin set them (a JSON object).
    pub config: String,
}

/// A user as `host::identity` finds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: i64,
    pub uuid: String,
    pub username: String,
    pub email: String,
    /// A root administrator.
    pub admin: bool,
    pub language: String,
    /// The admin permissions their role gives them.
    pub permissions: Vec<String>,
    /// The name of their role, if they have one.
    pub role: Option<String>,
}

/// An account a sign-in method opens for someone new, with
/// [`crate::host::identity::create_user`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    /// A role by name; never a root administrator.
    pub role: Option<String>,
}

/// Where a sign-in came from, for the user's list of sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOrigin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The administrator signing in as this user, if any.
    pub impersonator_id: Option<i64>,
}

/// A new session: answer a sign-in route with [`crate::Response::with_session`] and the
/// host sets the browser's cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSession {
    /// As [`SessionInfo::id`] names it.
    pub id: i64,
    pub token: String,
    /// Seconds since the Unix epoch.
    pub expires_at: i64,
}

/// One of a user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub impersonator_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was last used (to the minute).
    pub last_seen_at: i64,
}

/// A plain-text e-mail to one address (`host::mail::send`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// What a new API key may do (`host::identity::issue_api_key`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRequest {
    pub description: String,
    /// Only these servers (ids, uuids or short ids, of servers the owner may use).
    pub servers: Option<Vec<String>>,
    /// Only these server permissions on them (`control.console`, `file.read`, …).
    pub permissions: Option<Vec<String>>,
    /// Seconds since the Unix epoch; none: it never expires.
    pub expires_at: Option<i64>,
    /// Whether it may use its owner's administrator powers; without, it acts as them
    /// on their servers and account only.
    pub admin: bool,
    /// Addresses (`203.0.113.7`) and networks (`203.0.113.0/24`) it works from;
    /// empty: anywhere.
    pub allowed_ips: Vec<String>,
}

/// An API key as its owner sees it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub identifier: String,
    pub description: String,
    /// Server uuids it is limited to.
    pub servers: Option<Vec<String>>,
    pub permissions: Option<Vec<String>>,
    pub admin: bool,
    pub allowed_ips: Vec<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// To the minute.
    pub last_used_at: Option<i64>,
}

/// A new API key: `token` is shown to the user once; the host keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub identifier: String,
    pub token: String,
}

/// A game server, as the panel keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub uuid: String,
    pub short_id: String,
    pub name: String,
    pub description: String,
    pub owner_id: i64,
    pub node_id: i64,
    pub egg_id: i64,
    /// `installing`, `install_failed`, `reinstall_failed`, `suspended` or `deleting`;
    /// `None` when ready.
    pub status: Option<String>,
    pub image: String,
    pub memory_mb: i64,
    pub disk_mb: i64,
    pub cpu_percent: i64,
}

/// An entry for the activity log, recorded as `<plugin-id>:<event>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub event: String,
    /// The user who acted, when the plugin acts for one.
    pub actor_id: Option<i64>,
    /// The server it concerns (uuid or short id); its users see the entry.
    pub server: Option<String>,
    /// What was acted on, e.g. (`file`, `/server.properties`).
    pub subject: Option<(String, String)>,
    /// Details, a JSON object.
    pub properties: serde_json::Value,
}

impl ActivityEntry {
    pub fn new(event: impl Into<String>) -> ActivityEntry {
        ActivityEntry {
            event: event.into(),
            actor_id: None,
            server: None,
            subject: None,
            properties: serde_json::json!({}),
        }
    }
}

/// A request a plugin sends out with [`crate::host::http::fetch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingRequest {
    pub method: String,
    /// `http://` or `https://`, to a host the admin allowed (capability `http`).
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Bytes cross the native ABI as one block, not byte by byte.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

impl OutgoingRequest {
    pub fn get(url: impl Into<String>) -> OutgoingRequest {
        OutgoingRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}
