//! `plugin.toml`: everything the host knows about a plugin without running its code.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Ids that name host event namespaces, so no plugin may take them.
/// Ids a plugin cannot take: the host's own names and the namespaces of its events
/// (`activity.…`, `server.…`, …) and permissions (`admin.…`, `control.…`, …), since a
/// plugin's events and permissions are named `<id>.…`.
const RESERVED_IDS: &[&str] = &[
    "host",
    "core",
    "plugin",
    "plugins",
    "server",
    "servers",
    "user",
    "users",
    "node",
    "nodes",
    "egg",
    "eggs",
    "nest",
    "nests",
    "backup",
    "backups",
    "admin",
    "api",
    "auth",
    "system",
    "serve",
    "help",
    "activity",
    "wings",
    "role",
    "roles",
    "session",
    "sessions",
    "subuser",
    "subusers",
    "allocation",
    "allocations",
    "database",
    "databases",
    "schedule",
    "schedules",
    "file",
    "files",
    "control",
    "websocket",
    "startup",
    "settings",
    "account",
    "client",
    "remote",
    "sftp",
    "console",
    "doctor",
    "install",
    "daemon",
];

/// What the host reading a manifest defines itself, so that a plugin's routes and
/// permissions are checked against it.
pub trait HostCatalogue {
    /// `name` is one of the host's server permissions (`control.console`, …).
    fn is_server_permission(&self, name: &str) -> bool;
    /// `name` is one of the host's admin permissions (`users.read`, …).
    fn is_admin_permission(&self, name: &str) -> bool;
    /// The full path of the host's own route that `path` in `scope` would shadow.
    fn shadowed_route(&self, scope: RouteScope, path: &str) -> Option<String>;
}

/// The catalogue on a node: wings reads manifests the panel has already checked
/// against its own catalogue, and serves no routes.
pub struct CheckedByPanel;

impl HostCatalogue for CheckedByPanel {
    fn is_server_permission(&self, _: &str) -> bool {
        true
    }
    fn is_admin_permission(&self, _: &str) -> bool {
        true
    }
    fn shadowed_route(&self, _: RouteScope, _: &str) -> Option<String> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Lowercase letters, digits and single hyphens: `hello-wasm`.
    pub id: String,
    pub name: String,
    pub version: semver::Version,
    #[serde(default)]
    pub description: String,
    /// The host versions this plugin works with, e.g. `>=0.1, <1`.
    pub host: semver::VersionReq,
    pub runtime: Runtime,
    /// The code inside the package: a component (`.wasm`) or a shared library.
    pub entry: String,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub permissions: Vec<PermissionDecl>,
    #[serde(default)]
    pub routes: Vec<RouteDecl>,
    #[serde(default)]
    pub commands: Vec<CommandDecl>,
    #[serde(default)]
    pub ui: Vec<UiContribution>,
    /// Schedules on which the host sends the plugin `timer.<name>` (contract 1.1).
    #[serde(default)]
    pub timers: Vec<TimerDecl>,
    /// Typed providers the plugin implements (contract 1.1): `auth-method`.
    #[serde(default)]
    pub provides: Vec<Provider>,
    /// A JSON Schema in the package describing the plugin's settings object
    /// (contract 1.1), e.g. `settings.schema.json`.
    #[serde(default)]
    pub settings: Option<String>,
}

/// An interface a plugin implements for the host to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// Sign-in methods; the host also asks it to check SFTP logins.
    AuthMethod,
    /// Stores backup archives and gives them back; runs inside wings, where the data is.
    BackupDriver,
}

impl Provider {
    /// The interface's name, as manifests write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::AuthMethod => "auth-method",
            Provider::BackupDriver => "backup-driver",
        }
    }

    /// Whether wings, not the panel, loads the plugin to call this provider.
    pub fn runs_on_nodes(self) -> bool {
        matches!(self, Provider::BackupDriver)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Wasm,
    Native,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Wasm => "wasm",
            Runtime::Native => "native",
        }
    }
}

/// What a plugin asks for (in the manifest) or was given (by the admin). Everything
/// defaults to nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Create and use its own tables (`<id>__…`).
    #[serde(default)]
    pub database: bool,
    /// Publish events in its own namespace (`<id>.…`).
    #[serde(default)]
    pub emit: bool,
    /// A private directory, visible to a Wasm plugin as `/data`.
    #[serde(default)]
    pub storage: bool,
    /// Read servers and who may do what on them (contract 1.1).
    #[serde(default)]
    pub servers: bool,
    /// Power servers on and off and type into their consoles (contract 1.1).
    #[serde(default)]
    pub server_control: bool,
    /// Write to the activity log (contract 1.1).
    #[serde(default)]
    pub activity: bool,
    /// Keep secrets sealed by the host (contract 1.1).
    #[serde(default)]
    pub secrets: bool,
    /// Send e-mail from the panel's address (contract 1.1).
    #[serde(default)]
    pub mail: bool,
    /// Work on servers' files through their nodes (contract 1.1); during a request only
    /// with the caller's file permissions.
    #[serde(default)]
    pub node_files: bool,
    /// Find users, sign them in, and issue and revoke their API keys (contract 1.1):
    /// for sign-in methods.
    #[serde(default)]
    pub identity: bool,
    /// Run its browser modules in the panel's own page, with the signed-in person's
    /// full power; without it they run in a sandboxed frame that reaches only the
    /// plugin's own routes.
    #[serde(default)]
    pub ui_trusted: bool,
    /// Events to receive: exact names or `prefix.*`.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Hosts it may send requests to (contract 1.1): `s3.example.com`,
    /// `*.example.com` (any subdomain), `127.0.0.1:9000` (that port only). Requested,
    /// `*` asks that an administrator may grant hosts of their choosing (an identity
    /// provider or object store they configure); granted, `*` itself reaches nothing.
    #[serde(default)]
    pub http: Vec<String>,
}

impl Capabilities {
    /// Every on/off capability: (name, granted, what the install prompt says).
    fn flags(&self) -> [(&'static str, bool, &'static str); 11] {
        [
            ("database", self.database, "create and use its own tables"),
            ("emit", self.emit, "publish events in its own namespace"),
            ("storage", self.storage, "a private data directory"),
            (
                "servers",
                self.servers,
                "see every server and who may do what on it",
            ),
            (
                "server_control",
                self.server_control,
                "start, stop and kill servers and type into their consoles",
            ),
            ("activity", self.activity, "write to the activity log"),
            ("secrets", self.secrets, "keep secrets sealed by the panel"),
            (
                "mail",
                self.mail,
                "send e-mail to anyone from the panel's address",
            ),
            (
                "node_files",
                self.node_files,
                "read, write and delete files of every server",
            ),
            (
                "identity",
                self.identity,
                "sign anyone in, and issue and revoke anyone's API keys",
            ),
            (
                "ui_trusted",
                self.ui_trusted,
                "run its pages inside the panel with the full power of whoever views them",
            ),
        ]
    }

    fn flag_mut(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "database" => &mut self.database,
            "emit" => &mut self.emit,
            "storage" => &mut self.storage,
            "servers" => &mut self.servers,
            "server_control" => &mut self.server_control,
            "activity" => &mut self.activity,
            "ui_trusted" => &mut self.ui_trusted,
            "secrets" => &mut self.secrets,
            "mail" => &mut self.mail,
            "node_files" => &mut self.node_files,
            "identity" => &mut self.identity,
            _ => return None,
        })
    }

    /// Whether every grant here was also requested in `requested`.
    pub fn is_within(&self, requested: &Capabilities) -> Result<(), String> {
        let mut excess: Vec<String> = self
            .flags()
            .iter()
            .zip(requested.flags())
            .filter(|((_, granted, _), (_, asked, _))| *granted && !asked)
            .map(|((name, _, _), _)| name.to_string())
            .collect();
        for pattern in &self.subscribe {
            if !requested.subscribe.contains(pattern) {
                excess.push(format!("subscribe:{pattern}"));
            }
        }
        let any_host = requested.http.iter().any(|host| host == ANY_HOST);
        for host in &self.http {
            if !any_host && !requested.http.contains(host) {
                excess.push(format!("http:{host}"));
            }
        }
        if excess.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "cannot grant what the plugin did not request: {}",
                excess.join(", ")
            ))
        }
    }

    /// Human-readable lines, as the install prompt shows them.
    pub fn describe(&self) -> Vec<String> {
        self.consent()
            .into_iter()
            .map(|(grant, what)| {
                let kind = grant.split(':').next().unwrap_or_default();
                format!("{kind}: {what}")
            })
            .collect()
    }

    /// Each capability held, as `hatchery plugin grant` spells it (`database`,
    /// `subscribe:user.*`, `http:s3.example.com`), with what it allows.
    pub fn consent(&self) -> Vec<(String, String)> {
        let mut items: Vec<(String, String)> = self
            .flags()
            .iter()
            .filter(|(_, granted, _)| *granted)
            .map(|(name, _, what)| (name.to_string(), what.to_string()))
            .collect();
        for pattern in &self.subscribe {
            items.push((
                format!("subscribe:{pattern}"),
                format!("receive `{pattern}` events"),
            ));
        }
        for host in &self.http {
            let what = match host.as_str() {
                ANY_HOST => {
                    "send requests to hosts an administrator adds later (`hatchery plugin grant`)"
                        .to_string()
                }
                host => format!("send requests to {host}"),
            };
            items.push((format!("http:{host}"), what));
        }
        items
    }

    /// These grants and `more`'s, together.
    pub fn with(&self, more: &Capabilities) -> Capabilities {
        let mut joined = self.clone();
        for (name, granted, _) in more.flags() {
            if granted && let Some(flag) = joined.flag_mut(name) {
                *flag = true;
            }
        }
        for pattern in &more.subscribe {
            if !joined.subscribe.contains(pattern) {
                joined.subscribe.push(pattern.clone());
            }
        }
        for host in &more.http {
            if !joined.http.contains(host) {
                joined.http.push(host.clone());
            }
        }
        joined
    }

    /// These grants without `fewer`'s.
    pub fn without(&self, fewer: &Capabilities) -> Capabilities {
        let mut left = self.clone();
        for (name, revoked, _) in fewer.flags() {
            if revoked && let Some(flag) = left.flag_mut(name) {
                *flag = false;
            }
        }
        left.subscribe
            .retain(|pattern| !fewer.subscribe.contains(pattern));
        left.http.retain(|host| !fewer.http.contains(host));
        left
    }

    /// Parses `database,emit,servers,…,subscribe:<pattern>` as given on the command line.
    pub fn parse_list(list: &str) -> Result<Capabilities, String> {
        let mut grants = Capabilities::default();
        for item in list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            if let Some(pattern) = item.strip_prefix("subscribe:") {
                grants.subscribe.push(pattern.to_string());
                continue;
            }
            if let Some(host) = item.strip_prefix("http:") {
                check_http_host(host)?;
                grants.http.push(host.to_string());
                continue;
            }
            match grants.flag_mut(item) {
                Some(flag) => *flag = true,
                None => {
                    let names: Vec<&str> =
                        grants.flags().iter().map(|(name, _, _)| *name).collect();
                    return Err(format!(
                        "unknown capability `{item}`; use {}, subscribe:<event> or http:<host>",
                        names.join(", ")
                    ));
                }
            }
        }
        Ok(grants)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionDecl {
    /// `<plugin-id>.<name>`, e.g. `hello-wasm.greet`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `server` for a permission owners give subusers on a server (contract 1.1).
    #[serde(default)]
    pub scope: PermissionScope,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PermissionScope {
    /// Held through a role, across the panel.
    #[default]
    Panel,
    /// Held as a subuser on one server.
    Server,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteDecl {
    pub method: String,
    /// Below the scope's mount point; `{name}` marks a parameter segment.
    pub path: String,
    #[serde(default)]
    pub auth: RouteAuth,
    /// A permission the user must hold: one of `[[permissions]]`, or for a server
    /// route a server permission (the host's, or one of the plugin's with
    /// `scope = "server"`).
    pub permission: Option<String>,
    #[serde(default)]
    pub scope: RouteScope,
    /// One line for the panel's OpenAPI document (contract 1.1).
    #[serde(default)]
    pub summary: Option<String>,
}

/// Where a route is mounted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteScope {
    /// `/api/plugins/<id>/…`.
    #[default]
    Plugin,
    /// `/api/client/servers/{server}/…` (contract 1.1): the host resolves the server
    /// and checks the caller's server permission before the plugin runs.
    Server,
    /// `/api/admin/…` (contract 1.1): for root administrators, or staff whose role
    /// holds the route's admin permission.
    Admin,
    /// `/api/auth/…` (contract 1.1): sign-in flows, public or for signed-in users; a
    /// plugin with the `identity` grant signs a browser in through the host.
    Auth,
    /// `/api/client/account/…` (contract 1.1): the signed-in caller's own account
    /// (SSH keys, linked accounts), next to the host's `/api/client/account`.
    Account,
}

/// Who may call a route; the host enforces it before the plugin runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteAuth {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    #[default]
    User,
    /// Administrators only.
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandDecl {
    /// The subcommand: `hatchery <plugin-id> <name> …`.
    pub name: String,
    pub about: String,
    /// Arguments as shown in help, e.g. `NAME`.
    #[serde(default)]
    pub usage: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiContribution {
    /// A versioned slot id, e.g. `dashboard.widgets/v1`.
    pub slot: String,
    /// An ES module inside the package's `ui/` directory.
    pub module: String,
    /// The module's export to render.
    #[serde(default = "default_export")]
    pub export: String,
    pub title: String,
    pub permission: Option<String>,
    /// The page's address segment, for slots that are pages (`server.tabs/v1`,
    /// `admin.pages/v1`): lowercase letters, digits and dashes.
    pub path: Option<String>,
    /// Where it sits among the slot's items, lower first (0–1000; the panel's own
    /// server tabs are at 10, 50, 70, 80, 90 and 100). Without it: after them.
    #[serde(default)]
    pub order: Option<u16>,
}

fn default_export() -> String {
    "default".into()
}

/// A schedule: every `every` (`30s`, `15m`, `1h`, `1d`; at least 10 seconds), or daily
/// `at` a UTC time (`03:30`). Delivered to `handle_event` as `timer.<name>`, once per
/// due time across every panel sharing the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerDecl {
    pub name: String,
    pub every: Option<String>,
    pub at: Option<String>,
}

/// When a timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Every(std::time::Duration),
    /// Seconds after midnight, UTC.
    DailyAt(u32),
}

impl TimerDecl {
    pub fn schedule(&self) -> Result<Schedule, String> {
        match (&self.every, &self.at) {
            (Some(every), None) => {
                let seconds = parse_interval(every).ok_or_else(|| {
                    format!(
                        "timers: `{}`: every = `{every}` is not like 30s, 15m, 1h or 1d",
                        self.name
                    )
                })?;
                if seconds < 10 {
                    return Err(format!(
                        "timers: `{}` may fire at most every 10 seconds",
                        self.name
                    ));
                }
                Ok(Schedule::Every(std::time::Duration::from_secs(seconds)))
            }
            (None, Some(at)) => {
                let parsed = at.split_once(':').and_then(|(hours, minutes)| {
                    let (hours, minutes) =
                        (hours.parse::<u32>().ok()?, minutes.parse::<u32>().ok()?);
                    (hours < 24 && minutes < 60 && at.len() == 5)
                        .then_some(hours * 3600 + minutes * 60)
                });
                parsed.map(Schedule::DailyAt).ok_or_else(|| {
                    format!(
                        "timers: `{}`: at = `{at}` is not a UTC time like 03:30",
                        self.name
                    )
                })
            }
            _ => Err(format!(
                "timers: `{}` needs exactly one of `every` or `at`",
                self.name
            )),
        }
    }
}

/// In a manifest's `http`: hosts an administrator chooses may be granted.
pub const ANY_HOST: &str = "*";

/// `host`, `*.domain` or `host:port`: lowercase letters, digits, '.', '-'; or `*`.
fn check_http_host(entry: &str) -> Result<(), String> {
    if entry == ANY_HOST {
        return Ok(());
    }
    let (host, port) = match entry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (entry, None),
    };
    let name = host.strip_prefix("*.").unwrap_or(host);
    let valid_name = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && !name.starts_with('.')
        && !name.ends_with('.');
    let valid_port = port.is_none_or(|port| port.parse::<u16>().is_ok_and(|port| port > 0));
    match valid_name && valid_port {
        true => Ok(()),
        false => Err(format!(
            "capabilities: http host `{entry}` is not like s3.example.com, *.example.com or 127.0.0.1:9000"
        )),
    }
}

/// `30s`, `15m`, `1h`, `1d` in seconds.
fn parse_interval(text: &str) -> Option<u64> {
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let count: u64 = text[..text.len() - 1].parse().ok()?;
    count.checked_mul(unit)
}

impl Manifest {
    /// Parses and validates `plugin.toml` text against what `host` already defines;
    /// errors name the offending field.
    pub fn parse(text: &str, host: &dyn HostCatalogue) -> Result<Manifest, String> {
        let manifest: Manifest = toml::from_str(text).map_err(|err| err.to_string())?;
        manifest.validate(host)?;
        Ok(manifest)
    }

    fn validate(&self, host: &dyn HostCatalogue) -> Result<(), String> {
        validate_id(&self.id)?;
        if self.name.trim().is_empty() {
            return Err("name: must not be empty".into());
        }
        validate_relative_path("entry", &self.entry)?;
        if let Some(schema) = &self.settings {
            validate_relative_path("settings", schema)?;
        }
        if self.runtime == Runtime::Wasm && !self.entry.ends_with(".wasm") {
            return Err(format!(
                "entry: a wasm plugin's entry must be a .wasm file, not `{}`",
                self.entry
            ));
        }

        if self.runs_on_nodes() && self.runtime != Runtime::Wasm {
            return Err(
                "provides: node-side providers (backup-driver) run inside wings, which loads Wasm plugins only; build the plugin for wasm32-wasip2".into(),
            );
        }

        let own_prefix = format!("{}.", self.id);
        let mut permissions = BTreeSet::new();
        for permission in &self.permissions {
            if !permission.name.starts_with(&own_prefix)
                || permission.name.len() == own_prefix.len()
            {
                return Err(format!(
                    "permissions: `{}` must start with `{own_prefix}`",
                    permission.name
                ));
            }
            if !permissions.insert(permission.name.as_str()) {
                return Err(format!(
                    "permissions: `{}` is declared twice",
                    permission.name
                ));
            }
        }
        let scope_of = |name: &str| {
            self.permissions
                .iter()
                .find(|permission| permission.name == name)
                .map(|permission| permission.scope)
        };
        let check_permission = |field: &str, permission: &Option<String>| match permission {
            Some(name) if scope_of(name) != Some(PermissionScope::Panel) => Err(format!(
                "{field}: permission `{name}` is not declared under [[permissions]]"
            )),
            _ => Ok(()),
        };
        // A server route needs a server permission: the host's, or the plugin's own.
        let check_server_permission = |permission: &Option<String>| match permission {
            Some(name)
                if scope_of(name) != Some(PermissionScope::Server)
                    && !host.is_server_permission(name) =>
            {
                Err(format!(
                    "routes: `{name}` is not a server permission (the host's, or one declared with scope = \"server\")"
                ))
            }
            _ => Ok(()),
        };

        // An admin route needs an admin permission: the host's, or the plugin's own
        // (held through roles); none means root administrators only.
        let check_admin_permission = |permission: &Option<String>| match permission {
            Some(name)
                if scope_of(name) != Some(PermissionScope::Panel)
                    && !host.is_admin_permission(name) =>
            {
                Err(format!(
                    "routes: `{name}` is not an admin permission (the host's, or one of the plugin's [[permissions]])"
                ))
            }
            _ => Ok(()),
        };

        let mut seen_routes = BTreeSet::new();
        for route in &self.routes {
            let method = route.method.to_ascii_uppercase();
            if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
                return Err(format!(
                    "routes: method `{}` is not GET, POST, PUT, PATCH or DELETE",
                    route.method
                ));
            }
            crate::routes::RoutePattern::parse(&route.path)
                .map_err(|err| format!("routes: {err}"))?;
            if !seen_routes.insert((route.scope, method.clone(), route.path.clone())) {
                return Err(format!("routes: {method} {} is declared twice", route.path));
            }
            if route.summary.as_deref().is_some_and(|summary| {
                summary.chars().count() > 200 || summary.chars().any(char::is_control)
            }) {
                return Err(format!(
                    "routes: the summary of {method} {} is one line of at most 200 characters",
                    route.path
                ));
            }
            if let Some(core) = host.shadowed_route(route.scope, &route.path) {
                return Err(format!(
                    "routes: {method} {} would shadow the host's {core}",
                    route.path
                ));
            }
            match route.scope {
                RouteScope::Plugin => check_permission("routes", &route.permission)?,
                RouteScope::Server => {
                    if route.auth != RouteAuth::User {
                        return Err(format!(
                            "routes: {method} {} is a server route; those are for signed-in users (leave `auth` out)",
                            route.path
                        ));
                    }
                    check_server_permission(&route.permission)?;
                }
                RouteScope::Admin => {
                    if route.auth != RouteAuth::User {
                        return Err(format!(
                            "routes: {method} {} is an admin route; its `permission` says who may call it (leave `auth` out)",
                            route.path
                        ));
                    }
                    check_admin_permission(&route.permission)?;
                }
                RouteScope::Account => {
                    if route.auth != RouteAuth::User || route.permission.is_some() {
                        return Err(format!(
                            "routes: {method} {} is an account route: for the signed-in caller, with no `auth` or permission",
                            route.path
                        ));
                    }
                }
                RouteScope::Auth => {
                    if route.auth == RouteAuth::Admin || route.permission.is_some() {
                        return Err(format!(
                            "routes: {method} {} is a sign-in route: `auth` is public or user, with no permission",
                            route.path
                        ));
                    }
                }
            }
        }

        let mut seen_commands = BTreeSet::new();
        for command in &self.commands {
            if !is_slug(&command.name) {
                return Err(format!(
                    "commands: `{}` must be lowercase letters, digits and hyphens",
                    command.name
                ));
            }
            if !seen_commands.insert(command.name.as_str()) {
                return Err(format!("commands: `{}` is declared twice", command.name));
            }
        }

        for host in &self.capabilities.http {
            check_http_host(host)?;
        }

        let mut seen_timers = BTreeSet::new();
        for timer in &self.timers {
            if !is_slug(&timer.name) {
                return Err(format!(
                    "timers: `{}` must be lowercase letters, digits and hyphens",
                    timer.name
                ));
            }
            if !seen_timers.insert(timer.name.as_str()) {
                return Err(format!("timers: `{}` is declared twice", timer.name));
            }
            timer.schedule()?;
        }

        for contribution in &self.ui {
            let (name, version) = contribution.slot.split_once("/v").ok_or_else(|| {
                format!(
                    "ui: slot `{}` needs a version, like `dashboard.widgets/v1`",
                    contribution.slot
                )
            })?;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
                || version.parse::<u32>().is_err()
            {
                return Err(format!(
                    "ui: slot `{}` is not a slot id like `dashboard.widgets/v1`",
                    contribution.slot
                ));
            }
            validate_relative_path("ui.module", &contribution.module)?;
            if !contribution.module.starts_with("ui/")
                || !(contribution.module.ends_with(".js") || contribution.module.ends_with(".mjs"))
            {
                return Err(format!(
                    "ui: module `{}` must be a .js or .mjs file inside ui/",
                    contribution.module
                ));
            }
            // Server slots show per server, to those holding a server permission there;
            // the others to those holding a panel permission.
            match contribution.slot.starts_with("server.") {
                true => check_server_permission(&contribution.permission)?,
                false => check_admin_permission(&contribution.permission)?,
            }
            if let Some(path) = &contribution.path
                && (path.is_empty()
                    || path.len() > 40
                    || !path
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            {
                return Err(format!(
                    "ui: path `{path}` may hold only lowercase letters, digits and dashes"
                ));
            }
            if let Some(order) = contribution.order
                && order > 1000
            {
                return Err(format!("ui: order {order} is past 1000"));
            }
        }

        for pattern in &self.capabilities.subscribe {
            let name = pattern.strip_suffix(".*").unwrap_or(pattern);
            if name.is_empty()
                || !name.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' || c == '_'
                })
            {
                return Err(format!(
                    "capabilities.subscribe: `{pattern}` is not an event name or `prefix.*` pattern"
                ));
            }
        }
        Ok(())
    }

    /// Whether wings loads this plugin too: it provides a node-side interface.
    pub fn runs_on_nodes(&self) -> bool {
        self.provides
            .iter()
            .any(|provider| provider.runs_on_nodes())
    }

    /// Whether this host's version is inside the manifest's `host` range.
    pub fn check_host_version(&self, host_version: &semver::Version) -> Result<(), String> {
        if self.host.matches(host_version) {
            Ok(())
        } else {
            Err(format!(
                "plugin {} {} needs a Hatchery host matching `{}`, but this host is {host_version}",
                self.id, self.version, self.host
            ))
        }
    }
}

pub fn validate_id(id: &str) -> Result<(), String> {
    let well_formed = (2..=48).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && is_slug(id);
    if !well_formed {
        return Err(format!(
            "id: `{id}` must be 2–48 lowercase letters, digits and single hyphens, starting with a letter"
        ));
    }
    if RESERVED_IDS.contains(&id) {
        return Err(format!("id: `{id}` is reserved for the host"));
    }
    Ok(())
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A path inside a package: relative, `/`-separated, no `..`, no empty parts.
pub fn validate_relative_path(field: &str, path: &str) -> Result<(), String> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if bad {
        Err(format!(
            "{field}: `{path}` must be a relative path inside the package"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host with two server permissions and one server route of its own.
    struct TestHost;

    impl HostCatalogue for TestHost {
        fn is_server_permission(&self, name: &str) -> bool {
            matches!(name, "file.read" | "control.start")
        }
        fn is_admin_permission(&self, name: &str) -> bool {
            name == "users.read"
        }
        fn shadowed_route(&self, scope: RouteScope, path: &str) -> Option<String> {
            let pattern = crate::routes::RoutePattern::parse(path).ok()?;
            let own = crate::routes::RoutePattern::parse("/power").unwrap();
            (scope == RouteScope::Server && own.overlaps(&pattern))
                .then(|| "/api/client/servers/{server}/power".to_string())
        }
    }

    const VALID: &str = r#"
id = "hello-wasm"
name = "Hello"
version = "0.1.0"
host = ">=0.1, <1"
runtime = "wasm"
entry = "plugin.wasm"

[capabilities]
database = true
subscribe = ["hello-native.greeted", "plugin.*"]

[[permissions]]
name = "hello-wasm.greet"

[[routes]]
method = "POST"
path = "/greetings/{name}"
permission = "hello-wasm.greet"

[[ui]]
slot = "dashboard.widgets/v1"
module = "ui/card.js"
title = "Hello"
"#;

    fn with(replace: &str, by: &str) -> Result<Manifest, String> {
        assert!(VALID.contains(replace), "{replace}");
        Manifest::parse(&VALID.replacen(replace, by, 1), &TestHost)
    }

    #[test]
    fn server_routes_need_server_permissions_and_leave_core_routes_alone() {
        let route = |path: &str, permission: &str| {
            with(
                "[[ui]]",
                &format!(
                    "[[permissions]]\nname = \"hello-wasm.wave\"\nscope = \"server\"\n\n[[routes]]\nmethod = \"POST\"\npath = \"{path}\"\nscope = \"server\"\npermission = \"{permission}\"\n\n[[ui]]"
                ),
            )
        };
        assert!(route("/hello/wave", "hello-wasm.wave").is_ok());
        assert!(route("/files/list", "file.read").is_ok());
        let cases = [
            (
                "/power",
                "control.start",
                "would shadow the host's /api/client/servers/{server}/power",
            ),
            ("/{name}", "file.read", "would shadow"),
            (
                "/hello/wave",
                "hello-wasm.greet",
                "is not a server permission",
            ),
            (
                "/hello/wave",
                "admin.everything",
                "is not a server permission",
            ),
        ];
        for (path, permission, message) in cases {
            let err = route(path, permission).unwrap_err();
            assert!(err.contains(message), "{path} {permission}: {err}");
        }
    }

    #[test]
    fn timers_take_an_interval_or_a_daily_time() {
        let timer = |line: &str| {
            with(
                "[[ui]]",
                &format!("[[timers]]\nname = \"tick\"\n{line}\n\n[[ui]]"),
            )
            .map(|manifest| manifest.timers[0].schedule().unwrap())
        };
        assert_eq!(
            timer("every = \"15m\""),
            Ok(Schedule::Every(std::time::Duration::from_secs(900)))
        );
        assert_eq!(timer("at = \"03:30\""), Ok(Schedule::DailyAt(12_600)));
        for (line, message) in [
            ("every = \"5s\"", "at most every 10 seconds"),
            ("every = \"soon\"", "is not like 30s"),
            ("at = \"25:00\"", "is not a UTC time"),
            ("", "needs exactly one of `every` or `at`"),
            ("every = \"1h\"\nat = \"01:00\"", "needs exactly one"),
        ] {
            let err = timer(line).unwrap_err();
            assert!(err.contains(message), "{line}: {err}");
        }
    }

    #[test]
    fn a_valid_manifest_parses() {
        let manifest = Manifest::parse(VALID, &TestHost).unwrap();
        assert_eq!(manifest.id, "hello-wasm");
        assert_eq!(manifest.routes[0].auth, RouteAuth::User);
        assert_eq!(manifest.ui[0].export, "default");
    }

    // Golden messages: what an author sees for each mistake.
    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                r#"id = "hello-wasm""#,
                r#"id = "Hello""#,
                "id: `Hello` must be 2–48 lowercase letters",
            ),
            (
                r#"id = "hello-wasm""#,
                r#"id = "server""#,
                "id: `server` is reserved for the host",
            ),
            (
                r#"id = "hello-wasm""#,
                r#"id = "activity""#,
                "id: `activity` is reserved for the host",
            ),
            (r#"id = "hello-wasm""#, r#"id = "a--b""#, "single hyphens"),
            (
                r#"entry = "plugin.wasm""#,
                r#"entry = "../x.wasm""#,
                "entry: `../x.wasm` must be a relative path",
            ),
            (
                r#"entry = "plugin.wasm""#,
                "entry = \"plugin.wasm\"\nsettings = \"../../etc/passwd\"",
                "settings: `../../etc/passwd` must be a relative path",
            ),
            (
                r#"entry = "plugin.wasm""#,
                r#"entry = "plugin.so""#,
                "entry: a wasm plugin's entry must be a .wasm file",
            ),
            (
                r#"method = "POST""#,
                r#"method = "BREW""#,
                "routes: method `BREW`",
            ),
            (
                r#"path = "/greetings/{name}""#,
                r#"path = "greetings""#,
                "routes: route path `greetings` must start with /",
            ),
            (
                r#"permission = "hello-wasm.greet""#,
                r#"permission = "hello-wasm.other""#,
                "routes: permission `hello-wasm.other` is not declared",
            ),
            (
                r#"name = "hello-wasm.greet""#,
                r#"name = "other.greet""#,
                "permissions: `other.greet` must start with `hello-wasm.`",
            ),
            (
                r#"slot = "dashboard.widgets/v1""#,
                r#"slot = "dashboard""#,
                "ui: slot `dashboard` needs a version",
            ),
            (
                r#"module = "ui/card.js""#,
                r#"module = "card.css""#,
                "ui: module `card.css` must be a .js or .mjs file inside ui/",
            ),
            (
                r#"module = "ui/card.js""#,
                "module = \"ui/card.js\"\norder = 5000",
                "ui: order 5000 is past 1000",
            ),
            (r#"host = ">=0.1, <1""#, r#"host = "soon""#, "host"),
            (r#"runtime = "wasm""#, r#"runtime = "python""#, "runtime"),
            (
                "database = true",
                "database = true\nnetwork = true",
                "unknown field `network`",
            ),
            (
                r#""plugin.*""#,
                r#""Plugin!""#,
                "capabilities.subscribe: `Plugin!`",
            ),
        ];
        for (from, to, expected) in cases {
            let err = with(from, to).expect_err(to);
            assert!(
                err.contains(expected),
                "for `{to}`: got `{err}`, expected `{expected}`"
            );
        }
    }

    #[test]
    fn host_range_is_checked() {
        let manifest = Manifest::parse(VALID, &TestHost).unwrap();
        assert!(
            manifest
                .check_host_version(&semver::Version::new(0, 1, 0))
                .is_ok()
        );
        let err = manifest
            .check_host_version(&semver::Version::new(1, 0, 0))
            .unwrap_err();
        assert!(
            err.contains("needs a Hatchery host matching `>=0.1, <1`"),
            "{err}"
        );
    }

    #[test]
    fn grants_cannot_exceed_requests() {
        let requested = Capabilities::parse_list("database,subscribe:plugin.*").unwrap();
        assert!(
            Capabilities::parse_list("database")
                .unwrap()
                .is_within(&requested)
                .is_ok()
        );
        let err = Capabilities::parse_list("database,storage")
            .unwrap()
            .is_within(&requested)
            .unwrap_err();
        assert!(err.contains("storage"));
        assert!(Capabilities::parse_list("network").is_err());
    }

    #[test]
    fn hosts_an_administrator_adds_need_a_request_for_any_host() {
        let fixed = Capabilities::parse_list("http:github.com").unwrap();
        let open = Capabilities::parse_list("http:github.com,http:*").unwrap();
        let chosen = Capabilities::parse_list("http:sso.example.com").unwrap();
        assert!(
            chosen
                .is_within(&fixed)
                .unwrap_err()
                .contains("sso.example.com")
        );
        assert!(chosen.is_within(&open).is_ok());

        assert!(Capabilities::parse_list("http:https://sso.example.com/").is_err());
        let granted = fixed.with(&chosen);
        assert_eq!(granted.http, ["github.com", "sso.example.com"]);
        assert_eq!(granted.without(&fixed).http, ["sso.example.com"]);
        assert!(
            open.describe()
                .iter()
                .any(|line| line.contains("an administrator adds"))
        );
    }
}
