//! The panel driving a real wings on real containers (podman): an admin adds a node,
//! configures wings from `hatchery node config`, imports the fixture egg, allocates a
//! port and creates a server; wings fetches it from the panel, installs it and
//! reports back; the server starts, runs, and is deleted with its files.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{Dialect, eventually, hatchery_bin, panel};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `wings` process, killed when dropped.
struct WingsProcess(Child);

impl Drop for WingsProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_server_is_created_installed_started_and_deleted_through_real_wings() {
    let panel = panel(Dialect::Sqlite).start();
    let work = tempfile::tempdir().unwrap();
    let (api_port, sftp_port) = (free_port(), free_port());
    let volumes = work.path().join("volumes");
    let owner_key = panel.user_key("owner");
    let stranger_key = panel.user_key("stranger");
    panel.cli_ok(&[
        "node",
        "create",
        "--name",
        "local",
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

    // The configuration the panel prints, with what this machine needs on top.
    let printed = panel.cli_ok(&["node", "config", "local"]);
    let mut config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&printed).unwrap();
    assert_eq!(config["remote"].as_str(), Some(panel.url.as_str()));
    let socket =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
    let extra: serde_yaml_ng::Value = serde_yaml_ng::from_str(&format!(
        "{{api: {{host: 127.0.0.1}}, system: {{root_directory: {root}/lib, log_directory: {root}/log, tmp_directory: {root}/tmp, user: {{uid: 0, gid: 0}}, sftp: {{bind_address: 127.0.0.1}}}}, docker: {{socket: '{socket}', container_pid_limit: 64}}}}",
        root = work.path().display()
    ))
    .unwrap();
    merge(&mut config, &extra);
    let config_path = work.path().join("wings.yml");
    std::fs::write(&config_path, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    let wings_bin = hatchery_bin().with_file_name("wings");
    let wings_log = work.path().join("wings.log");
    let _wings = WingsProcess(
        Command::new(&wings_bin)
            .arg("--config")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&wings_log).unwrap())
            .spawn()
            .unwrap_or_else(|err| panic!("{} does not run: {err}", wings_bin.display())),
    );
    let log = || std::fs::read_to_string(&wings_log).unwrap_or_default();
    eventually(Duration::from_secs(30), "wings listens", || {
        std::net::TcpStream::connect(("127.0.0.1", api_port)).ok()
    });

    let egg = work.path().join("fixture-egg.json");
    std::fs::write(&egg, include_str!("../fixtures/fixture-egg.json")).unwrap();
    panel.cli_ok(&["egg", "import", "--nest", "Tests", egg.to_str().unwrap()]);
    let game_port = free_port().to_string();
    panel.cli_ok(&[
        "node",
        "allocate",
        "local",
        "--ip",
        "127.0.0.1",
        "--ports",
        &game_port,
    ]);

    let allocation = format!("127.0.0.1:{game_port}");
    let create = |greeting: &str| {
        let greeting = format!("GREETING={greeting}");
        panel.cli(&[
            "server",
            "create",
            "--name",
            "e2e",
            "--owner",
            "owner",
            "--node",
            "local",
            "--egg",
            "Fixture Game",
            "--allocation",
            &allocation,
            "--memory",
            "64",
            "--disk",
            "100",
            "--var",
            &greeting,
        ])
    };
    // A variable that breaks the egg's rules is refused before anything is made.
    let refused = create(&"x".repeat(30));
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("GREETING may not be greater than 20 characters")
    );

    let created = create("hi");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let created = String::from_utf8_lossy(&created.stdout).into_owned();
    assert!(created.starts_with("created server e2e"), "{created}");
    let server: serde_json::Value =
        serde_json::from_str(&panel.cli_ok(&["server", "list", "--json"])).unwrap();
    let uuid = server[0]["uuid"].as_str().unwrap().to_string();
    let short_id = server[0]["short_id"].as_str().unwrap().to_string();
    assert_eq!(short_id, uuid[..8]);

    // wings fetched the server from the panel, installed it and reported back.
    eventually(
        Duration::from_secs(90),
        "the installation to be reported",
        || {
            let listed: serde_json::Value =
                serde_json::from_str(&panel.cli_ok(&["server", "list", "--json"])).unwrap();
            match listed[0]["status"].as_str() {
                Some("installing") => None,
                Some(other) => panic!("the install ended as {other}:\n{}", log()),
                None => Some(()),
            }
        },
    );
    assert!(volumes.join(&uuid).join("server.sh").exists(), "{}", log());
    // The allocation is taken now.
    assert!(
        panel
            .cli_ok(&["node", "allocations", "local", "--free"])
            .contains("no allocations")
    );

    panel.cli_ok(&["server", "power", &short_id, "start"]);
    let node_token = config["token"].as_str().unwrap().to_string();
    let state = || {
        let response = ureq::get(&format!("http://127.0.0.1:{api_port}/api/servers/{uuid}"))
            .header("Authorization", &format!("Bearer {node_token}"))
            .call()
            .ok()?
            .body_mut()
            .read_json::<serde_json::Value>()
            .ok()?;
        response["state"].as_str().map(str::to_string)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while state().as_deref() != Some("running") {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not run ({:?}):\n{}",
            state(),
            log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let properties =
        std::fs::read_to_string(volumes.join(&uuid).join("server.properties")).unwrap();
    assert_eq!(properties.trim(), format!("server-port={game_port}"));

    // The owner's console: the panel issues the token, wings checks it.
    let stranger = panel.get_as(
        &format!("/api/client/servers/{short_id}/websocket"),
        &stranger_key,
    );
    assert_eq!(stranger.status, 404, "{stranger:?}");
    let issued = panel.get_as(
        &format!("/api/client/servers/{short_id}/websocket"),
        &owner_key,
    );
    assert_eq!(issued.status, 200, "{issued:?}");
    let socket_url = issued.body["data"]["socket"].as_str().unwrap().to_string();
    assert_eq!(
        socket_url,
        format!("ws://127.0.0.1:{api_port}/api/servers/{uuid}/ws")
    );
    let (mut socket, _) = tungstenite::connect(socket_url.as_str()).unwrap();
    for (event, args) in [
        ("auth", vec![issued.body["data"]["token"].as_str().unwrap()]),
        ("send logs", vec![]),
        ("send command", vec!["ping"]),
    ] {
        let frame = serde_json::json!({ "event": event, "args": args }).to_string();
        socket.send(tungstenite::Message::text(frame)).unwrap();
    }
    let wanted = ["auth success", "Done (0.1s)!", "you said: ping"];
    socket_read_until(&mut socket, |seen| {
        wanted.iter().all(|w| seen.iter().any(|s| s.contains(w)))
    });
    drop(socket);

    panel.cli_ok(&["server", "delete", &short_id]);
    assert!(!volumes.join(&uuid).exists(), "{}", log());
    assert!(panel.cli_ok(&["server", "list"]).contains("no servers yet"));
    assert!(
        panel
            .cli_ok(&["node", "allocations", "local", "--free"])
            .contains(&game_port)
    );
}

/// Overlays `extra` onto `base`, map by map.
fn merge(base: &mut serde_yaml_ng::Value, extra: &serde_yaml_ng::Value) {
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

/// Reads frames (as `event: args`) until `done` holds; the socket times out after 30 s.
fn socket_read_until(
    socket: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    done: impl Fn(&[String]) -> bool,
) {
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
    }
    let mut seen = Vec::new();
    while !done(&seen) {
        match socket.read() {
            Ok(tungstenite::Message::Text(text)) => {
                let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                seen.push(format!(
                    "{}: {}",
                    frame["event"].as_str().unwrap_or_default(),
                    frame["args"]
                ));
            }
            Ok(_) => {}
            Err(err) => panic!("the console closed ({err}); frames: {seen:#?}"),
        }
    }
}
