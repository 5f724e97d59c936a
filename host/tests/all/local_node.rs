//! A node on this machine for tests that need real wings: the node registered with
//! `hatchery node create`, a `wings` process configured from `hatchery node config`
//! (plus what this machine needs), the fixture egg imported, and free ports.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Panel, eventually, hatchery_bin};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The fixture egg: a shell-script game on the local busybox image.
pub const FIXTURE_EGG: &str = include_str!("../fixtures/fixture-egg.json");

pub struct LocalNode {
    pub api_port: u16,
    pub sftp_port: u16,
    /// Server volumes (`<volumes>/<uuid>`).
    pub volumes: PathBuf,
    /// The configuration the panel printed, as wings runs it.
    pub config: serde_yaml_ng::Value,
    config_path: PathBuf,
    log_path: PathBuf,
    wings: Option<Child>,
    // Removed last: wings' files.
    _work: tempfile::TempDir,
}

impl LocalNode {
    /// Registers node `name` with the panel and writes its wings configuration, with
    /// `remote` (the URL wings calls the panel on) when given. wings is not started.
    pub fn register(panel: &Panel, name: &str, remote: Option<&str>) -> LocalNode {
        let work = tempfile::tempdir().unwrap();
        let (api_port, sftp_port) = (free_port(), free_port());
        let volumes = work.path().join("volumes");
        panel.cli_ok(&[
            "node",
            "create",
            "--name",
            name,
            "--fqdn",
            "127.0.0.1",
            "--port",
            &api_port.to_string(),
            "--sftp-port",
            &sftp_port.to_string(),
            "--data-dir",
            volumes.to_str().unwrap(),
            "--memory",
            "4096",
            "--disk",
            "10240",
        ]);
        let printed = panel.cli_ok(&["node", "config", name]);
        let mut config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&printed).unwrap();
        assert_eq!(config["remote"].as_str(), Some(panel.url.as_str()));
        let socket = std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
        let extra: serde_yaml_ng::Value = serde_yaml_ng::from_str(&format!(
            "{{api: {{host: 127.0.0.1}}, system: {{root_directory: {root}/lib, log_directory: {root}/log, tmp_directory: {root}/tmp, user: {{uid: 0, gid: 0}}, sftp: {{bind_address: 127.0.0.1}}}}, docker: {{socket: '{socket}', container_pid_limit: 64}}}}",
            root = work.path().display()
        ))
        .unwrap();
        merge(&mut config, &extra);
        if let Some(remote) = remote {
            config["remote"] = serde_yaml_ng::Value::String(remote.to_string());
        }
        let config_path = work.path().join("wings.yml");
        std::fs::write(&config_path, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
        LocalNode {
            api_port,
            sftp_port,
            volumes,
            config,
            config_path,
            log_path: work.path().join("wings.log"),
            wings: None,
            _work: work,
        }
    }

    /// Starts wings (its log is appended to) and waits until its API listens.
    pub fn start_wings(&mut self) {
        assert!(self.wings.is_none(), "wings already runs");
        let wings_bin = hatchery_bin().with_file_name("wings");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap();
        let child = Command::new(&wings_bin)
            .arg("--config")
            .arg(&self.config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("{} does not run: {err}", wings_bin.display()));
        self.wings = Some(child);
        let port = self.api_port;
        eventually(Duration::from_secs(30), "wings listens", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
    }

    /// Kills wings with SIGKILL, as `kill -9` would.
    pub fn kill_wings(&mut self) {
        if let Some(mut child) = self.wings.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn token(&self) -> String {
        self.config["token"].as_str().unwrap().to_string()
    }

    /// GET on wings' own API with the node's token; `None` when it does not answer 200.
    pub fn wings_get(&self, path: &str) -> Option<Value> {
        ureq::get(&format!("http://127.0.0.1:{}{path}", self.api_port))
            .header("Authorization", &format!("Bearer {}", self.token()))
            .call()
            .ok()?
            .body_mut()
            .read_json::<Value>()
            .ok()
    }

    /// A call on wings' own API with the node's token and a JSON body: the status and
    /// the body's bytes.
    pub fn wings_call(&self, method: &str, path: &str, body: Value) -> (u16, Vec<u8>) {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:{}{path}", self.api_port))
            .header("Authorization", format!("Bearer {}", self.token()))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.run(request).unwrap();
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        (status, bytes)
    }

    /// wings' root directory (`system.root_directory`).
    pub fn root_directory(&self) -> PathBuf {
        PathBuf::from(self.config["system"]["root_directory"].as_str().unwrap())
    }

    /// What wings says of a server (state, installation), if it has it.
    pub fn server_on_wings(&self, uuid: &str) -> Option<Value> {
        self.wings_get(&format!("/api/servers/{uuid}"))
    }

    /// The uuids of every server wings keeps (waits while wings is still loading).
    pub fn servers_on_wings(&self) -> Vec<String> {
        let listed = eventually(Duration::from_secs(60), "wings lists its servers", || {
            self.wings_get("/api/servers")
        });
        let mut uuids: Vec<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|server| server["uuid"].as_str().unwrap().to_string())
            .collect();
        uuids.sort();
        uuids
    }

    /// The server's power state on wings.
    pub fn power_state(&self, uuid: &str) -> Option<String> {
        self.server_on_wings(uuid)?["state"]
            .as_str()
            .map(str::to_string)
    }

    /// Waits until wings reports the server `wanted` (`running`, `offline`, …).
    pub fn wait_for_state(&self, uuid: &str, wanted: &str) {
        eventually(
            Duration::from_secs(60),
            &format!("the server is {wanted}"),
            || (self.power_state(uuid).as_deref() == Some(wanted)).then_some(()),
        );
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        self.kill_wings();
    }
}

/// Imports the fixture egg (as `Fixture Game` in nest `Tests`), with its install
/// script changed by `edit_script` (a slower one, say).
pub fn import_fixture_egg(panel: &Panel, name: &str, edit_script: impl Fn(&str) -> String) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), fixture_egg(name, edit_script).to_string()).unwrap();
    panel.cli_ok(&[
        "egg",
        "import",
        "--nest",
        "Tests",
        file.path().to_str().unwrap(),
    ]);
}

/// The fixture egg named `name`, its install script passed through `edit_script`.
pub fn fixture_egg(name: &str, edit_script: impl Fn(&str) -> String) -> Value {
    let mut egg: Value = serde_json::from_str(FIXTURE_EGG).unwrap();
    egg["name"] = json!(name);
    let script = egg["scripts"]["installation"]["script"]
        .as_str()
        .unwrap()
        .to_string();
    egg["scripts"]["installation"]["script"] = json!(edit_script(&script));
    egg
}

/// Adds `count` free ports on 127.0.0.1 to the node; returns them.
pub fn add_ports(panel: &Panel, admin_key: &str, node: &str, count: usize) -> Vec<u16> {
    let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let added = panel.json(
        "POST",
        &format!("/api/admin/nodes/{node}/allocations"),
        admin_key,
        Some(json!({ "ip": "127.0.0.1", "ports": list.join(",") })),
    );
    assert_eq!(added.status, 201, "{added:?}");
    ports
}

/// The node's allocations no server holds, as `node allocations --free --json` lists them.
pub fn free_allocations(panel: &Panel, node: &str) -> Vec<Value> {
    serde_json::from_str(&panel.cli_ok(&["node", "allocations", node, "--free", "--json"])).unwrap()
}

/// A `POST /api/admin/servers` body: a small server of `owner` on node `local`.
pub fn server_request(name: &str, egg: &str, port: u64) -> Value {
    json!({
        "name": name, "owner": "owner", "node": "local", "egg": egg,
        "allocation": format!("127.0.0.1:{port}"), "memory_mb": 64, "disk_mb": 100,
        "variables": { "GREETING": "hi" },
    })
}

/// Creates the server `body` describes; returns its uuid.
pub fn create_server(panel: &Panel, admin_key: &str, body: Value) -> String {
    let created = panel.json("POST", "/api/admin/servers", admin_key, Some(body));
    assert_eq!(created.status, 201, "{created:?}");
    created.body["data"]["uuid"].as_str().unwrap().to_string()
}

/// Node `local` with its wings running and the fixture egg imported, and a small
/// server `name` of `owner` installed on it; returns the node and the server's uuid.
pub fn installed_server(panel: &Panel, admin_key: &str, name: &str) -> (LocalNode, String) {
    let mut node = LocalNode::register(panel, "local", None);
    node.start_wings();
    import_fixture_egg(panel, "Fixture Game", str::to_string);
    let port = add_ports(panel, admin_key, "local", 1)[0];
    let uuid = create_server(
        panel,
        admin_key,
        server_request(name, "Fixture Game", port.into()),
    );
    wait_installed(panel, &uuid);
    (node, uuid)
}

/// Waits until the panel shows the server as installed.
pub fn wait_installed(panel: &Panel, uuid: &str) {
    eventually(Duration::from_secs(90), "the install", || {
        (panel_status(panel, uuid).as_deref() == Some("installed")).then_some(())
    });
}

/// The panel's servers, as `hatchery server list --json` prints them.
pub fn panel_servers(panel: &Panel) -> Vec<Value> {
    serde_json::from_str::<Value>(&panel.cli_ok(&["server", "list", "--json"]))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A server's status in the panel (`installed` for none), `None` when it is gone.
pub fn panel_status(panel: &Panel, uuid: &str) -> Option<String> {
    panel_servers(panel)
        .into_iter()
        .find(|server| server["uuid"] == uuid)
        .map(|server| server["status"].as_str().unwrap_or("installed").to_string())
}

/// Overlays `extra` onto `base`, map by map.
pub fn merge(base: &mut serde_yaml_ng::Value, extra: &serde_yaml_ng::Value) {
    match (base, extra) {
        (serde_yaml_ng::Value::Mapping(base), serde_yaml_ng::Value::Mapping(extra)) => {
            for (key, value) in extra {
                match base.get_mut(key) {
                    Some(existing) if existing.is_mapping() && value.is_mapping() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, extra) => *base = extra.clone(),
    }
}

/// OpenSSH's `sftp` client against wings, with a password from SSH_ASKPASS.
pub struct Sftp {
    pub port: u16,
    pub dir: std::path::PathBuf,
}

impl Sftp {
    /// Runs `commands`; returns (success, stdout + stderr).
    pub fn run(&self, user: &str, password: &str, commands: &str) -> (bool, String) {
        use std::io::Write;
        let mut child = self.spawn(user, password);
        child
            .stdin
            .take()
            .unwrap()
            .write_all(commands.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    /// Runs `commands` signing in with the private key at `key` (no password).
    pub fn run_with_key(
        &self,
        user: &str,
        key: &std::path::Path,
        commands: &str,
    ) -> (bool, String) {
        use std::io::Write;
        let mut child = std::process::Command::new("sftp")
            .args(["-F", "/dev/null", "-b", "-"])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"])
            .args([
                "-o",
                "PreferredAuthentications=publickey",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .arg("-i")
            .arg(key)
            .args(["-P", &self.port.to_string()])
            .arg(format!("{user}@127.0.0.1"))
            .env_remove("SSH_AUTH_SOCK")
            .current_dir(&self.dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("OpenSSH's sftp client is installed");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(commands.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    /// Whether the connection of a live `sftp` session (its `ssh` child) is still up.
    pub fn connected(session: &std::process::Child) -> bool {
        let pid = session.id();
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .is_ok_and(|children| !children.trim().is_empty())
    }

    /// Starts `sftp` with its stdin and stdout piped.
    pub fn spawn(&self, user: &str, password: &str) -> std::process::Child {
        use std::os::unix::fs::PermissionsExt;
        let askpass = self.dir.join(format!("askpass-{}", user.replace('.', "-")));
        std::fs::write(&askpass, format!("#!/bin/sh\necho '{password}'\n")).unwrap();
        std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::process::Command::new("sftp")
            // No `-b`: batch mode turns password prompts off.
            .args(["-F", "/dev/null"])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"])
            .args([
                "-o",
                "PreferredAuthentications=password",
                "-o",
                "PubkeyAuthentication=no",
            ])
            .args(["-o", "NumberOfPasswordPrompts=1"])
            .args(["-P", &self.port.to_string()])
            .arg(format!("{user}@127.0.0.1"))
            .env_remove("SSH_AUTH_SOCK")
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .current_dir(&self.dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("OpenSSH's sftp client is installed")
    }
}
