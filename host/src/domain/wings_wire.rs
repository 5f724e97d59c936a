//! What the panel tells wings about a server, in Pterodactyl's wire shapes: the
//! server's `settings`, the egg's `process_configuration`, and the install script.
//! wings (ours or Pterodactyl's) reads exactly these.

use std::collections::BTreeMap;

use hatchery_protocol::remote::{
    Allocation, Allocations, BuildLimits, ConfigurationFile, ContainerSettings, EggSettings,
    InstallScript, ProcessConfiguration, RemoteServer, Replacement, ServerMeta, ServerSettings,
    StartupConfiguration, StopConfiguration,
};
use serde_json::Value;

use super::eggs::Egg;

/// A server as wings needs to know it.
#[derive(Debug, Clone)]
pub struct ServerWire<'a> {
    pub uuid: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub suspended: bool,
    pub startup: &'a str,
    pub skip_egg_scripts: bool,
    /// Every variable's value, the egg's defaults filled in.
    pub environment: BTreeMap<String, String>,
    pub memory_mb: i64,
    pub swap_mb: i64,
    pub io_weight: i32,
    pub cpu_percent: i64,
    pub threads: Option<&'a str>,
    pub disk_mb: i64,
    pub oom_disabled: bool,
    pub image: &'a str,
    pub default_ip: &'a str,
    pub default_port: i32,
    /// Every allocation, the default one included.
    pub allocations: Vec<(String, i32)>,
    pub egg_uuid: &'a str,
    pub egg: &'a Egg,
}

impl ServerWire<'_> {
    /// `{settings, process_configuration}` for `/api/remote/servers[/{uuid}]`.
    pub fn describe(&self) -> RemoteServer {
        let port = |port: i32| u16::try_from(port).unwrap_or_default();
        let mut mappings: BTreeMap<String, Vec<u16>> = BTreeMap::new();
        for (ip, allocated) in &self.allocations {
            mappings
                .entry(ip.clone())
                .or_default()
                .push(port(*allocated));
        }
        let unsigned = |value: i64| u64::try_from(value).unwrap_or_default();
        RemoteServer {
            settings: ServerSettings {
                uuid: self.uuid.to_string(),
                meta: ServerMeta {
                    name: self.name.to_string(),
                    description: self.description.to_string(),
                },
                suspended: self.suspended,
                invocation: self.startup.to_string(),
                skip_egg_scripts: self.skip_egg_scripts,
                environment: self
                    .environment
                    .iter()
                    .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                    .collect(),
                allocations: Allocations {
                    force_outgoing_ip: false,
                    default: Allocation {
                        ip: self.default_ip.to_string(),
                        port: port(self.default_port),
                    },
                    mappings,
                },
                build: BuildLimits {
                    memory_limit: unsigned(self.memory_mb),
                    swap: self.swap_mb,
                    io_weight: u16::try_from(self.io_weight).unwrap_or(500),
                    cpu_limit: unsigned(self.cpu_percent),
                    threads: self.threads.map(str::to_string),
                    disk_space: unsigned(self.disk_mb),
                    oom_disabled: self.oom_disabled,
                },
                container: ContainerSettings {
                    image: self.image.to_string(),
                    oom_disabled: self.oom_disabled,
                    requires_rebuild: false,
                },
                crash_detection_enabled: true,
                egg: EggSettings {
                    id: self.egg_uuid.to_string(),
                    file_denylist: self.egg.file_denylist.clone(),
                },
                mounts: Vec::new(),
            },
            process_configuration: process_configuration(self.egg),
        }
    }
}

/// The egg's startup detection, stop method and configuration files, flattened the
/// way Pterodactyl's panel sends them.
pub fn process_configuration(egg: &Egg) -> ProcessConfiguration {
    let done: Vec<String> = match egg.config_startup.get("done") {
        Some(Value::String(done)) => vec![done.clone()],
        Some(Value::Array(done)) => done
            .iter()
            .filter_map(|line| line.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let strip_ansi = egg
        .config_startup
        .get("strip_ansi")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (kind, value) = match egg.config_stop.trim() {
        "^C" => ("signal", "SIGINT"),
        "^^C" => ("signal", "SIGTERM"),
        "^X" => ("signal", "SIGKILL"),
        command => ("command", command),
    };
    let mut configs = Vec::new();
    if let Value::Object(files) = &egg.config_files {
        for (file, spec) in files {
            let mut replace = Vec::new();
            if let Some(Value::Object(find)) = spec.get("find") {
                for (key, value) in find {
                    match value {
                        // A map of conditions: old value (or `regex:`) → replacement.
                        Value::Object(conditions) => {
                            for (condition, replacement) in conditions {
                                replace.push(Replacement {
                                    key: key.clone(),
                                    if_value: Some(condition.clone()),
                                    replace_with: replacement.clone(),
                                });
                            }
                        }
                        other => replace.push(Replacement {
                            key: key.clone(),
                            if_value: None,
                            replace_with: other.clone(),
                        }),
                    }
                }
            }
            configs.push(ConfigurationFile {
                file: file.clone(),
                parser: spec
                    .get("parser")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                replace,
            });
        }
    }
    ProcessConfiguration {
        startup: StartupConfiguration {
            done,
            user_interaction: Vec::new(),
            strip_ansi,
        },
        stop: StopConfiguration {
            kind: kind.to_string(),
            value: Some(value.to_string()),
        },
        configs,
    }
}

/// `{container_image, entrypoint, script}` for `/api/remote/servers/{uuid}/install`.
pub fn install_script(egg: &Egg) -> InstallScript {
    InstallScript {
        container_image: egg.install_container.clone(),
        entrypoint: match egg.install_entrypoint.is_empty() {
            true => "bash".to_string(),
            false => egg.install_entrypoint.clone(),
        },
        script: egg.install_script.replace("\r\n", "\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wings_reads_what_the_panel_sends() {
        let egg = Egg::parse(include_str!("../../tests/fixtures/fixture-egg.json")).unwrap();
        let wire = ServerWire {
            uuid: "8d1f7a2c-0000-4000-8000-000000000001",
            name: "Survival",
            description: "",
            suspended: false,
            startup: &egg.startup,
            skip_egg_scripts: false,
            environment: BTreeMap::from([("GREETING".into(), "hi".into())]),
            memory_mb: 512,
            swap_mb: 0,
            io_weight: 500,
            cpu_percent: 100,
            threads: None,
            disk_mb: 1024,
            oom_disabled: false,
            image: "localhost/hatchery-test/busybox:2",
            default_ip: "127.0.0.1",
            default_port: 25565,
            allocations: vec![("127.0.0.1".into(), 25565), ("127.0.0.1".into(), 25566)],
            egg_uuid: "egg-uuid",
            egg: &egg,
        };
        // What the panel sends is what wings reads back, through JSON.
        let sent = serde_json::to_value(wire.describe()).unwrap();
        let remote: RemoteServer = serde_json::from_value(sent).unwrap();
        use hatchery_wings::remote::ToServerConfig;
        let config = remote
            .server_config(std::time::Duration::from_secs(30))
            .unwrap();
        assert_eq!(config.default_allocation.port, 25565);
        assert_eq!(config.extra_allocations.len(), 1);
        assert_eq!(config.environment["GREETING"], "hi");
        assert_eq!(config.done, vec!["Done (".to_string()]);
        assert_eq!(
            config.stop,
            hatchery_wings::server::StopAction::Command("stop".into())
        );
        assert_eq!(
            config.config_files["server.properties"].find["server-port"],
            "{{server.build.default.port}}"
        );
        let script = install_script(&egg);
        assert_eq!(script.entrypoint, "sh");
    }
}
