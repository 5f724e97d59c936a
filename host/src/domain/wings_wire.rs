//! What the panel tells wings about a server, in Pterodactyl's wire shapes: the
//! server's `settings`, the egg's `process_configuration`, and the install script.
//! wings (ours or Pterodactyl's) reads exactly these.

use std::collections::BTreeMap;

use serde_json::{Value, json};

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
    pub fn describe(&self) -> Value {
        let mut mappings: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for (ip, port) in &self.allocations {
            mappings.entry(ip.as_str()).or_default().push(*port);
        }
        json!({
            "settings": {
                "uuid": self.uuid,
                "meta": { "name": self.name, "description": self.description },
                "suspended": self.suspended,
                "invocation": self.startup,
                "skip_egg_scripts": self.skip_egg_scripts,
                "environment": self.environment,
                "allocations": {
                    "force_outgoing_ip": false,
                    "default": { "ip": self.default_ip, "port": self.default_port },
                    "mappings": mappings,
                },
                "build": {
                    "memory_limit": self.memory_mb,
                    "swap": self.swap_mb,
                    "io_weight": self.io_weight,
                    "cpu_limit": self.cpu_percent,
                    "threads": self.threads,
                    "disk_space": self.disk_mb,
                    "oom_disabled": self.oom_disabled,
                },
                "container": { "image": self.image, "oom_disabled": self.oom_disabled, "requires_rebuild": false },
                "mounts": [],
                "egg": { "id": self.egg_uuid, "file_denylist": self.egg.file_denylist },
                "crash_detection_enabled": true,
            },
            "process_configuration": process_configuration(self.egg),
        })
    }
}

/// The egg's startup detection, stop method and configuration files, flattened the
/// way Pterodactyl's panel sends them.
pub fn process_configuration(egg: &Egg) -> Value {
    let done: Vec<Value> = match egg.config_startup.get("done") {
        Some(Value::String(done)) => vec![Value::String(done.clone())],
        Some(Value::Array(done)) => done.clone(),
        _ => Vec::new(),
    };
    let strip_ansi = egg
        .config_startup
        .get("strip_ansi")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let stop = match egg.config_stop.trim() {
        "^C" => json!({ "type": "signal", "value": "SIGINT" }),
        "^^C" => json!({ "type": "signal", "value": "SIGTERM" }),
        "^X" => json!({ "type": "signal", "value": "SIGKILL" }),
        command => json!({ "type": "command", "value": command }),
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
                                replace.push(json!({ "match": key, "if_value": condition, "replace_with": replacement }));
                            }
                        }
                        other => replace.push(json!({ "match": key, "replace_with": other })),
                    }
                }
            }
            configs.push(json!({ "file": file, "parser": spec.get("parser"), "replace": replace }));
        }
    }
    json!({
        "startup": { "done": done, "user_interaction": [], "strip_ansi": strip_ansi },
        "stop": stop,
        "configs": configs,
    })
}

/// `{container_image, entrypoint, script}` for `/api/remote/servers/{uuid}/install`.
pub fn install_script(egg: &Egg) -> Value {
    json!({
        "container_image": egg.install_container,
        "entrypoint": if egg.install_entrypoint.is_empty() { "bash" } else { egg.install_entrypoint.as_str() },
        "script": egg.install_script.replace("\r\n", "\n"),
    })
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
        let described = wire.describe();
        let remote: hatchery_wings::remote::RemoteServer =
            serde_json::from_value(described).unwrap();
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
        assert_eq!(script["entrypoint"], "sh");
    }
}
