//! What wings asks the panel (`/api/remote/…`, Pterodactyl's protocol) and what the
//! panel answers: a server's description, its install script, SFTP logins and the
//! activity wings reports. The panel writes these and wings reads them with the same
//! types, so they cannot drift apart; Pterodactyl's own wings reads them too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A server as the panel describes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RemoteServer {
    pub settings: ServerSettings,
    pub process_configuration: ProcessConfiguration,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ServerSettings {
    pub uuid: String,
    pub meta: ServerMeta,
    pub suspended: bool,
    /// The startup command, variables already substituted or left as `{{VAR}}`.
    pub invocation: String,
    pub skip_egg_scripts: bool,
    /// Variables; panels send strings, numbers and booleans.
    pub environment: BTreeMap<String, Value>,
    pub allocations: Allocations,
    pub build: BuildLimits,
    pub container: ContainerSettings,
    #[serde(default = "yes")]
    pub crash_detection_enabled: bool,
    pub egg: EggSettings,
    /// Host directories mounted into the container (Pterodactyl's mounts; none yet).
    pub mounts: Vec<Value>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ServerMeta {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Allocations {
    pub force_outgoing_ip: bool,
    pub default: Allocation,
    /// Every allocation by IP, the default one included.
    pub mappings: BTreeMap<String, Vec<u16>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Allocation {
    pub ip: String,
    pub port: u16,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct BuildLimits {
    /// MiB; 0 is unlimited.
    pub memory_limit: u64,
    /// MiB; -1 is unlimited.
    pub swap: i64,
    pub io_weight: u16,
    /// Percent of one core; 0 is unlimited.
    pub cpu_limit: u64,
    /// MiB; 0 is unlimited.
    pub disk_space: u64,
    pub threads: Option<String>,
    pub oom_disabled: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ContainerSettings {
    pub image: String,
    /// Pterodactyl's wings reads these two; Hatchery's takes `build.oom_disabled`.
    pub oom_disabled: bool,
    pub requires_rebuild: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EggSettings {
    pub id: String,
    pub file_denylist: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ProcessConfiguration {
    pub startup: StartupConfiguration,
    pub stop: StopConfiguration,
    pub configs: Vec<ConfigurationFile>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StartupConfiguration {
    pub done: Vec<String>,
    /// Console lines that need a user's answer (Pterodactyl's; none are sent).
    pub user_interaction: Vec<String>,
    pub strip_ansi: bool,
}

/// `{"type":"command","value":"stop"}`, `{"type":"signal","value":"SIGINT"}`, or
/// Pterodactyl's `{"type":"stop"}` for `^C`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StopConfiguration {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<String>,
}

/// One egg configuration file in the panel's flattened form.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ConfigurationFile {
    pub file: String,
    pub parser: String,
    #[serde(default)]
    pub replace: Vec<Replacement>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Replacement {
    #[serde(rename = "match")]
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_value: Option<String>,
    pub replace_with: Value,
}

/// The egg's install script for `/api/remote/servers/{uuid}/install`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InstallScript {
    pub container_image: String,
    pub entrypoint: String,
    pub script: String,
}

/// An SFTP or SSH login wings asks the panel to check.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SftpAuthRequest {
    /// `password` or `public_key`.
    #[serde(rename = "type", default = "password_kind")]
    pub kind: String,
    /// `<username>.<server short id>`.
    pub username: String,
    /// The password, or the public key in OpenSSH format.
    pub password: String,
    #[serde(default)]
    pub ip: String,
}

fn password_kind() -> String {
    "password".into()
}

/// Who the panel says logged in, and what they may do on the server.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SftpAuthResponse {
    /// The server's uuid.
    pub server: String,
    /// The user's uuid.
    pub user: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// One thing a user did on a node, reported to the panel's activity log.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ActivityEvent {
    pub server: String,
    pub user: Option<String>,
    /// Pterodactyl's `server:sftp.write` form.
    pub event: String,
    #[serde(default)]
    pub metadata: Value,
    #[serde(default)]
    pub ip: String,
    /// RFC 3339.
    pub timestamp: Option<String>,
}

/// A batch of activity for `/api/remote/activity`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ActivityBatch {
    pub data: Vec<ActivityEvent>,
}
