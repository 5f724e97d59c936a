//! Wings' calls to the panel (Pterodactyl's `/api/remote/…` protocol): server
//! configurations, install scripts and results, SFTP logins and activity. Wings
//! authenticates as `token_id.token`.
//!
//! The wire shapes are Pterodactyl's, so this wings works with a Pterodactyl panel and
//! Hatchery's panel alike (`hatchery_protocol::remote`); [`ToServerConfig`] turns one into what
//! [`crate::server::Server`] runs.

use std::collections::BTreeMap;
use std::time::Duration;

pub use hatchery_protocol::remote::{
    ActivityEvent, RemoteServer, SftpAuthRequest, SftpAuthResponse,
};
use hatchery_protocol::remote::{
    InstallScript as InstallScriptWire, ProcessConfiguration, StopConfiguration,
};
use hatchery_runtime::node::{NodePluginRelease, NodePluginSummary};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::egg_files::ConfigFile;
use crate::error::{Error, Result};
use crate::executor::{PortBinding, ResourceLimits};
use crate::server::{InstallScript, ServerConfig, StopAction};

/// A client for one panel.
#[derive(Clone)]
pub struct PanelClient {
    base: String,
    authorization: String,
    agent: ureq::Agent,
}

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: PageMeta,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(default)]
    current_page: u64,
    #[serde(default)]
    last_page: u64,
}

impl PanelClient {
    /// `remote` is the panel's base URL; wings authenticates as `token_id.token`.
    pub fn new(remote: &str, token_id: &str, token: &str) -> PanelClient {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .user_agent(concat!("hatchery-wings/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        PanelClient {
            base: remote.trim_end_matches('/').to_string(),
            authorization: format!("Bearer {token_id}.{token}"),
            agent,
        }
    }

    /// Every server the panel placed on this node.
    pub async fn servers(&self) -> Result<Vec<RemoteServer>> {
        let mut servers = Vec::new();
        let mut page = 1;
        loop {
            let answer: Page<RemoteServer> = self
                .call(
                    "GET",
                    &format!("/api/remote/servers?page={page}&per_page=50"),
                    None,
                )
                .await?;
            let done = answer.data.is_empty() || answer.meta.current_page >= answer.meta.last_page;
            servers.extend(answer.data);
            if done {
                return Ok(servers);
            }
            page += 1;
        }
    }

    pub async fn server(&self, uuid: &str) -> Result<RemoteServer> {
        self.call("GET", &format!("/api/remote/servers/{uuid}"), None)
            .await
    }

    pub async fn install_script(&self, uuid: &str) -> Result<InstallScript> {
        let wire: InstallScriptWire = self
            .call("GET", &format!("/api/remote/servers/{uuid}/install"), None)
            .await?;
        Ok(InstallScript {
            image: wire.container_image,
            entrypoint: wire.entrypoint,
            script: wire.script,
        })
    }

    pub async fn report_install(
        &self,
        uuid: &str,
        successful: bool,
        reinstall: bool,
    ) -> Result<()> {
        let body = serde_json::json!({ "successful": successful, "reinstall": reinstall });
        self.call::<Value>(
            "POST",
            &format!("/api/remote/servers/{uuid}/install"),
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Tells the panel that wings just started: no server on this node is mid-install
    /// any more, except the ones named in `resuming`, whose installation runs again.
    /// Tells a Hatchery panel that a server changed state or crashed (its plugins hear
    /// of it). Pterodactyl's panel has no such endpoint and answers 404.
    pub async fn report_server_event(&self, uuid: &str, event: Value) -> Result<()> {
        self.call::<Value>(
            "POST",
            &format!("/api/remote/servers/{uuid}/events"),
            Some(event),
        )
        .await
        .map(drop)
    }

    pub async fn reset_states(&self, resuming: &[String]) -> Result<()> {
        let body = serde_json::json!({ "installing": resuming });
        self.call::<Value>("POST", "/api/remote/servers/reset", Some(body))
            .await
            .map(drop)
    }

    /// Checks an SFTP or SSH login. A refusal is [`Error::Forbidden`].
    pub async fn sftp_auth(&self, request: &SftpAuthRequest) -> Result<SftpAuthResponse> {
        let body = serde_json::to_value(request).expect("plain data encodes");
        self.call("POST", "/api/remote/sftp/auth", Some(body)).await
    }

    pub async fn send_activity(&self, events: Vec<ActivityEvent>) -> Result<()> {
        let body = serde_json::json!({ "data": events });
        self.call::<Value>("POST", "/api/remote/activity", Some(body))
            .await
            .map(drop)
    }

    /// The plugins the panel wants this node to run.
    pub async fn node_plugins(&self) -> Result<Vec<NodePluginSummary>> {
        let answer: Data<Vec<NodePluginSummary>> =
            self.call("GET", "/api/remote/plugins", None).await?;
        Ok(answer.data)
    }

    /// One plugin's code, grants and settings.
    pub async fn node_plugin(&self, id: &str) -> Result<NodePluginRelease> {
        let answer: Data<NodePluginRelease> = self
            .call("GET", &format!("/api/remote/plugins/{id}"), None)
            .await?;
        Ok(answer.data)
    }

    async fn call<T: DeserializeOwned + Send + 'static>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Value>,
    ) -> Result<T> {
        let client = self.clone();
        let url = format!("{}{path}", self.base);
        tokio::task::spawn_blocking(move || client.call_blocking(method, &url, body))
            .await
            .map_err(|err| Error::Panel(format!("the request to the panel failed: {err}")))?
    }

    fn call_blocking<T: DeserializeOwned>(
        &self,
        method: &str,
        url: &str,
        body: Option<Value>,
    ) -> Result<T> {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json");
        let sent = match body {
            Some(body) => self.agent.run(
                request
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(&body).expect("JSON encodes"))
                    .map_err(|err| Error::Panel(err.to_string()))?,
            ),
            None => self.agent.run(
                request
                    .body(())
                    .map_err(|err| Error::Panel(err.to_string()))?,
            ),
        };
        let mut response =
            sent.map_err(|err| Error::Panel(format!("cannot reach the panel at {url}: {err}")))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|err| Error::Panel(format!("{url}: cannot read the answer: {err}")))?;
        match status {
            200..=299 => {
                let text = if text.trim().is_empty() {
                    "null"
                } else {
                    &text
                };
                serde_json::from_str(text).map_err(|err| {
                    Error::Panel(format!("{url} answered with unexpected JSON: {err}"))
                })
            }
            401 | 403 => Err(Error::Forbidden(
                panel_message(&text)
                    .unwrap_or_else(|| format!("the panel refused the request ({status})")),
            )),
            404 => {
                Err(Error::NotFound(panel_message(&text).unwrap_or_else(|| {
                    format!("the panel does not know {url}")
                })))
            }
            // Any other 4xx is the panel's final word: retrying cannot change it.
            400..=499 => Err(Error::BadRequest(format!(
                "{url} answered {status}: {}",
                panel_message(&text).unwrap_or(text)
            ))),
            _ => Err(Error::Panel(format!(
                "{url} answered {status}: {}",
                panel_message(&text).unwrap_or(text)
            ))),
        }
    }
}

/// Longest wait between two attempts to reach the panel.
const RETRY_CAP: Duration = Duration::from_secs(30);

/// Runs `attempt` until the panel gives an answer: while it cannot be reached or
/// answers 5xx, waits with capped exponential back-off and jitter (telling `waiting`
/// why each time). A 2xx or 4xx answer is returned as it is.
pub async fn until_answered<T, F, Fut>(mut attempt: F, mut waiting: impl FnMut(&Error)) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(500);
    loop {
        match attempt().await {
            Err(err @ Error::Panel(_)) => {
                waiting(&err);
                tokio::time::sleep(with_jitter(delay)).await;
                delay = (delay * 2).min(RETRY_CAP);
            }
            answered => return answered,
        }
    }
}

/// `delay` plus up to a quarter more, so nodes do not retry in step.
fn with_jitter(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |now| now.subsec_nanos());
    delay + delay / 4 * (nanos % 1000) / 1000
}

/// The message of a panel error, in Hatchery's or Pterodactyl's shape.
fn panel_message(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    let message = value
        .pointer("/error/message")
        .or_else(|| value.pointer("/errors/0/detail"))
        .or_else(|| value.get("error"))?;
    message.as_str().map(str::to_string)
}

/// What a server runs, from the panel's description of it.
pub trait ToServerConfig {
    /// `stop_timeout` and the auto-restart choice are the node's.
    fn server_config(&self, stop_timeout: Duration) -> Result<ServerConfig>;
}

impl ToServerConfig for RemoteServer {
    fn server_config(&self, stop_timeout: Duration) -> Result<ServerConfig> {
        let settings = &self.settings;
        if settings.container.image.is_empty() {
            return Err(Error::Panel(format!(
                "the panel sent no docker image for server {}",
                settings.uuid
            )));
        }
        let default_allocation = PortBinding {
            ip: settings.allocations.default.ip.clone(),
            port: settings.allocations.default.port,
        };
        let extra_allocations = settings
            .allocations
            .mappings
            .iter()
            .flat_map(|(ip, ports)| {
                ports.iter().map(|port| PortBinding {
                    ip: ip.clone(),
                    port: *port,
                })
            })
            .filter(|binding| *binding != default_allocation)
            .collect();
        let environment = settings
            .environment
            .iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (key.clone(), text)
            })
            .collect();
        let build = &settings.build;
        Ok(ServerConfig {
            uuid: settings.uuid.clone(),
            image: settings.container.image.clone(),
            startup: settings.invocation.clone(),
            environment,
            limits: ResourceLimits {
                memory_mb: build.memory_limit,
                swap_mb: build.swap,
                cpu_percent: build.cpu_limit,
                pids: 0,
                io_weight: build.io_weight,
            },
            disk_mb: build.disk_space,
            default_allocation,
            extra_allocations,
            done: self.process_configuration.startup.done.clone(),
            stop: stop_action(&self.process_configuration.stop),
            config_files: config_files(&self.process_configuration)?,
            stop_timeout,
            auto_restart: settings.crash_detection_enabled,
            suspended: settings.suspended,
        })
    }
}

/// How the panel's stop configuration stops the server.
fn stop_action(stop: &StopConfiguration) -> StopAction {
    let value = stop.value.clone().unwrap_or_default();
    match stop.kind.as_str() {
        // Pterodactyl's panel sends `stop` for `^C`, which means Ctrl-C: SIGINT.
        "stop" => StopAction::Signal("SIGINT".into()),
        "signal" if value.to_ascii_uppercase().starts_with("SIG") => {
            StopAction::Signal(value.to_ascii_uppercase())
        }
        "signal" => StopAction::from_egg(&format!("^{value}")),
        _ => StopAction::from_egg(&value),
    }
}

/// The panel's flattened `replace` lists, back in the egg form the parsers take.
fn config_files(process: &ProcessConfiguration) -> Result<BTreeMap<String, ConfigFile>> {
    let mut files = BTreeMap::new();
    for file in &process.configs {
        let mut find = serde_json::Map::new();
        for replacement in &file.replace {
            match &replacement.if_value {
                None => {
                    find.insert(replacement.key.clone(), replacement.replace_with.clone());
                }
                Some(condition) => {
                    let entry = find
                        .entry(replacement.key.clone())
                        .or_insert_with(|| Value::Object(Default::default()));
                    if let Value::Object(conditions) = entry {
                        conditions.insert(condition.clone(), replacement.replace_with.clone());
                    }
                }
            }
        }
        let raw = serde_json::json!({ "parser": file.parser, "find": find });
        let parsed: ConfigFile = serde_json::from_value(raw)
            .map_err(|err| Error::Panel(format!("configuration file `{}`: {err}", file.file)))?;
        files.insert(file.file.clone(), parsed);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pterodactyl_server_configuration_becomes_a_server_config() {
        let wire = serde_json::json!({
            "settings": {
                "uuid": "d3aac109-e5a0-4331-b03e-3454f7e136dc",
                "meta": { "name": "Survival", "description": "" },
                "suspended": false,
                "invocation": "java -Xmx{{SERVER_MEMORY}}M -jar server.jar",
                "skip_egg_scripts": false,
                "build": { "memory_limit": 1024, "swap": 0, "io_weight": 500, "cpu_limit": 150,
                           "threads": null, "disk_space": 2048, "oom_disabled": true },
                "container": { "image": "ghcr.io/pterodactyl/yolks:java_17", "oom_disabled": true, "requires_rebuild": false },
                "allocations": { "force_outgoing_ip": false, "default": { "ip": "0.0.0.0", "port": 25565 },
                                 "mappings": { "0.0.0.0": [25565, 25566] } },
                "mounts": [],
                "egg": { "id": "9ac39f3d", "file_denylist": [] },
                "environment": { "SERVER_JARFILE": "server.jar", "BUILD_NUMBER": 42, "EULA": true }
            },
            "process_configuration": {
                "startup": { "done": [")! For help, type "], "user_interaction": [], "strip_ansi": false },
                "stop": { "type": "command", "value": "stop" },
                "configs": [{
                    "file": "server.properties", "parser": "properties",
                    "replace": [
                        { "match": "server-port", "replace_with": "{{server.build.default.port}}" },
                        { "match": "online-mode", "if_value": "true", "replace_with": "false" }
                    ]
                }]
            }
        });
        let remote: RemoteServer = serde_json::from_value(wire).unwrap();
        let config = remote.server_config(Duration::from_secs(30)).unwrap();
        assert_eq!(config.limits.memory_mb, 1024);
        assert_eq!(config.limits.cpu_percent, 150);
        assert_eq!(config.disk_mb, 2048);
        assert_eq!(config.default_allocation.port, 25565);
        assert_eq!(config.extra_allocations.len(), 1);
        assert_eq!(config.extra_allocations[0].port, 25566);
        assert_eq!(config.environment["BUILD_NUMBER"], "42");
        assert_eq!(config.environment["EULA"], "true");
        assert_eq!(config.stop, StopAction::Command("stop".into()));
        let file = &config.config_files["server.properties"];
        assert_eq!(file.find["server-port"], "{{server.build.default.port}}");
        assert_eq!(file.find["online-mode"]["true"], "false");
    }

    #[test]
    fn stop_forms_from_both_panels_mean_what_the_egg_said() {
        let stop = |kind: &str, value: Option<&str>| {
            stop_action(&StopConfiguration {
                kind: kind.into(),
                value: value.map(str::to_string),
            })
        };
        assert_eq!(stop("stop", None), StopAction::Signal("SIGINT".into()));
        assert_eq!(
            stop("signal", Some("SIGTERM")),
            StopAction::Signal("SIGTERM".into())
        );
        assert_eq!(
            stop("signal", Some("X")),
            StopAction::Signal("SIGKILL".into())
        );
        assert_eq!(
            stop("command", Some("quit")),
            StopAction::Command("quit".into())
        );
    }

    #[test]
    fn panel_errors_are_read_in_either_shape() {
        assert_eq!(
            panel_message(r#"{"error":{"code":"forbidden","message":"bad password"}}"#).as_deref(),
            Some("bad password")
        );
        assert_eq!(
            panel_message(r#"{"errors":[{"code":"x","status":"403","detail":"nope"}]}"#).as_deref(),
            Some("nope")
        );
        assert_eq!(panel_message("<html>"), None);
    }
}

/// Pterodactyl's `{"data": …}` envelope.
#[derive(Deserialize)]
struct Data<T> {
    data: T,
}
