//! The panel driving a real wings on real containers (podman): an admin adds a node,
//! configures wings from `hatchery node config`, imports the fixture egg, allocates a
//! port and creates a server; wings fetches it from the panel, installs it and
//! reports back; the server starts and answers on its console; a file written
//! through the API is read over SFTP by a subuser with `file.sftp` and refused to one
//! without; suspension locks the server; it is deleted with its files.

use std::time::Duration;

use serde_json::json;

use crate::local_node::{LocalNode, Sftp, free_port, import_fixture_egg};
use crate::support::{Dialect, eventually, panel};

#[test]
fn a_server_is_created_installed_started_and_deleted_through_real_wings() {
    let panel = panel(Dialect::Sqlite)
        .plugin("core-auth")
        .plugin("core-files")
        .start();
    let work = tempfile::tempdir().unwrap();
    let root_key = panel.admin_key();
    let owner_key = panel.user_with_password("owner", "owner password");
    let stranger_key = panel.user_key("stranger");
    let mut node = LocalNode::register(&panel, "local", None);
    node.start_wings();
    let (api_port, sftp_port, volumes) = (node.api_port, node.sftp_port, node.volumes.clone());
    let config = node.config.clone();
    let log = || node.log();
    import_fixture_egg(&panel, "Fixture Game", str::to_string);
    let game_port = free_port().to_string();
    let extra_port = free_port().to_string();
    let allocated = panel.json(
        "POST",
        "/api/admin/nodes/local/allocations",
        &root_key,
        Some(json!({ "ip": "127.0.0.1", "ports": format!("{game_port},{extra_port}") })),
    );
    assert_eq!(allocated.status, 201, "{allocated:?}");

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

    let created = panel.json(
        "POST",
        "/api/admin/servers",
        &root_key,
        Some(json!({
            "name": "e2e", "owner": "owner", "node": "local", "egg": "Fixture Game",
            "allocation": allocation, "memory_mb": 64, "disk_mb": 100, "variables": { "GREETING": "hi" },
            "allocation_limit": 2,
        })),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let uuid = created.body["data"]["uuid"].as_str().unwrap().to_string();
    let short_id = created.body["data"]["short_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(short_id, uuid[..8]);
    let listed = panel.get_as("/api/client/servers", &owner_key);
    assert_eq!(
        listed.body["data"][0]["short_id"],
        short_id.as_str(),
        "{listed:?}"
    );
    assert_eq!(
        listed.body["data"][0]["port"].as_u64(),
        game_port.parse().ok()
    );

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
    let free = panel.cli_ok(&["node", "allocations", "local", "--free"]);
    assert!(
        !free.contains(&game_port) && free.contains(&extra_port),
        "{free}"
    );

    let power = |key: &str, signal: &str| {
        panel.json(
            "POST",
            &format!("/api/client/servers/{short_id}/power"),
            key,
            Some(json!({ "signal": signal })),
        )
    };
    assert_eq!(power(&owner_key, "start").status, 204);
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
    let wait_for = |wanted: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while state().as_deref() != Some(wanted) {
            assert!(
                std::time::Instant::now() < deadline,
                "the server is not {wanted} ({:?}):\n{}",
                state(),
                log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for("running");
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
    // A command sent through the API is answered on the console too.
    let sent = panel.json(
        "POST",
        &format!("/api/client/servers/{short_id}/command"),
        &owner_key,
        Some(json!({ "command": "hello" })),
    );
    assert_eq!(sent.status, 204, "{sent:?}");
    socket_read_until(&mut socket, |seen| {
        seen.iter().any(|s| s.contains("you said: hello"))
    });
    drop(socket);
    assert_eq!(power(&owner_key, "stop").status, 204);
    wait_for("offline");

    // A file written through the API, read back over SFTP by subusers.
    let files = format!("/api/client/servers/{short_id}/files");
    let written = panel.request(
        "POST",
        &format!("{files}/write?file=motd.txt"),
        Some(&owner_key),
        Some(b"welcome aboard\n".to_vec()),
    );
    assert_eq!(written.status, 204, "{written:?}");
    let read = panel.request(
        "GET",
        &format!("{files}/contents?file=motd.txt"),
        Some(&owner_key),
        None,
    );
    assert_eq!(read.raw, b"welcome aboard\n");
    let escape = panel.request(
        "GET",
        &format!("{files}/contents?file=../../etc/passwd"),
        Some(&owner_key),
        None,
    );
    assert!((400..500).contains(&escape.status), "{escape:?}");

    let reader_key = panel.user_with_password("reader", "reader password");
    let watcher_key = panel.user_with_password("watcher", "watcher password");
    let users = format!("/api/client/servers/{short_id}/users");
    for (email, permissions) in [
        (
            "reader@example.com",
            json!(["file.sftp", "file.read", "file.read-content"]),
        ),
        (
            "watcher@example.com",
            json!(["websocket.connect", "control.console"]),
        ),
    ] {
        let added = panel.json(
            "POST",
            &users,
            &owner_key,
            Some(json!({ "email": email, "permissions": permissions })),
        );
        assert_eq!(added.status, 201, "{added:?}");
    }
    // Only an exact email address finds an account: an owner cannot walk user ids or
    // usernames to read other people's emails.
    let root_id = panel.get_as("/api/client/account", &root_key).body["data"]["id"].clone();
    for probe in [
        root_id.to_string(),
        "root".to_string(),
        "reader".to_string(),
    ] {
        let probed = panel.json(
            "POST",
            &users,
            &owner_key,
            Some(json!({ "email": probe, "permissions": ["file.read"] })),
        );
        assert_eq!(probed.status, 400, "{probe}: {probed:?}");
        assert!(!probed.raw_text().contains("@example.com"), "{probed:?}");
    }
    // Subusers see the server, and can do exactly what they were given.
    assert_eq!(
        panel.get_as("/api/client/servers", &reader_key).body["meta"]["total"],
        1
    );
    assert_eq!(
        panel
            .get_as(
                &format!("/api/client/servers/{short_id}/websocket"),
                &watcher_key
            )
            .status,
        200
    );
    assert_eq!(
        panel
            .get_as(
                &format!("/api/client/servers/{short_id}/websocket"),
                &reader_key
            )
            .status,
        403
    );
    assert_eq!(power(&watcher_key, "start").status, 403);
    let watcher_write = panel.request(
        "POST",
        &format!("{files}/write?file=x.txt"),
        Some(&watcher_key),
        Some(b"x".to_vec()),
    );
    assert_eq!(watcher_write.status, 403);
    // A subuser cannot hand out what they do not hold.
    let regrant = panel.json(
        "POST",
        &users,
        &watcher_key,
        Some(json!({ "email": "owner@example.com", "permissions": ["file.sftp"] })),
    );
    assert_eq!(regrant.status, 403);

    let sftp = Sftp {
        port: sftp_port,
        dir: work.path().to_path_buf(),
    };
    let (ok, output) = sftp.run(
        &format!("reader.{short_id}"),
        "reader password",
        "get motd.txt fetched.txt\n",
    );
    assert!(ok, "{output}\n{}\n{}", log(), panel.log());
    assert_eq!(
        std::fs::read_to_string(work.path().join("fetched.txt")).unwrap(),
        "welcome aboard\n"
    );
    let (ok, output) = sftp.run(
        &format!("reader.{short_id}"),
        "reader password",
        "put fetched.txt copy.txt\n",
    );
    assert!(
        !ok || output.contains("denied"),
        "a reader may not write: {output}"
    );
    assert!(!volumes.join(&uuid).join("copy.txt").exists());
    let (ok, output) = sftp.run(
        &format!("watcher.{short_id}"),
        "watcher password",
        "get motd.txt\n",
    );
    assert!(!ok, "a subuser without file.sftp got in: {output}");
    let (ok, _) = sftp.run(
        &format!("reader.{short_id}"),
        "wrong password",
        "get motd.txt\n",
    );
    assert!(!ok);
    // The owner writes over SFTP; wings reports it to the panel's activity log.
    let (ok, output) = sftp.run(
        &format!("owner.{short_id}"),
        "owner password",
        "put fetched.txt from-sftp.txt\n",
    );
    assert!(ok, "{output}");
    let activity = format!("/api/client/servers/{short_id}/activity");
    let sftp_event = eventually(
        Duration::from_secs(30),
        "wings to report the SFTP write",
        || {
            let answer = panel.get_as(&activity, &owner_key);
            answer.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|entry| entry["event"] == "server.sftp.write")
                .cloned()
        },
    );
    assert_eq!(sftp_event["actor"], "owner");
    // Events reported by wings are checked against the catalogue first: a node (or
    // whoever holds its token) cannot publish arbitrary events to the log and plugins.
    let node_token = format!(
        "{}.{}",
        config["token_id"].as_str().unwrap(),
        config["token"].as_str().unwrap()
    );
    let forged = panel.json(
        "POST",
        "/api/remote/activity",
        &node_token,
        Some(json!({ "data": [
            { "server": uuid, "event": "server:admin.takeover", "metadata": {} },
            { "server": uuid, "event": "server:console.command", "metadata": { "command": "forged-but-known" } },
        ] })),
    );
    assert_eq!(forged.status, 204, "{forged:?}");
    let logged = panel.get_as(&activity, &owner_key).raw_text();
    assert!(!logged.contains("takeover"), "{logged}");
    assert!(logged.contains("forged-but-known"), "{logged}");
    let events = panel.get_as(&activity, &owner_key).body["data"].clone();
    for expected in [
        "server.power.start",
        "server.console.command",
        "server.file.write",
        "server.subuser.create",
        "admin.server.create",
    ] {
        assert!(
            events
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["event"] == expected),
            "{expected} missing: {events:#}"
        );
    }
    assert_eq!(panel.get_as(&activity, &watcher_key).status, 403);

    // A live SFTP session ends the moment the panel revokes: here, a new password.
    let mut live = sftp.spawn(&format!("reader.{short_id}"), "reader password");
    {
        use std::io::Write;
        let mut stdin = live.stdin.take().unwrap();
        stdin.write_all(b"pwd\n").unwrap();
        stdin.flush().unwrap();
        // Wait until the session answers, so the revocation meets an open session.
        let stdout = live.stdout.take().unwrap();
        let (answered, answer) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("Remote working directory") {
                    let _ = answered.send(());
                }
            }
        });
        answer
            .recv_timeout(Duration::from_secs(20))
            .expect("the live session answered");
        assert!(Sftp::connected(&live));
        let changed = panel.json(
            "PATCH",
            "/api/admin/users/reader",
            &root_key,
            Some(json!({ "password": "reader password 2" })),
        );
        assert_eq!(changed.status, 200, "{changed:?}");
        eventually(Duration::from_secs(5), "the live session to end", || {
            (!Sftp::connected(&live)).then_some(())
        });
        drop(stdin);
        let _ = live.kill();
        let _ = live.wait();
    }

    // Removing a subuser takes their access away at once.
    let watcher_uuid = panel.get_as("/api/client/account", &watcher_key).body["data"]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        panel
            .request(
                "DELETE",
                &format!("{users}/{watcher_uuid}"),
                Some(&owner_key),
                None
            )
            .status,
        204
    );
    assert_eq!(
        panel
            .get_as(&format!("/api/client/servers/{short_id}"), &watcher_key)
            .status,
        404
    );

    // Suspended: no power, no SFTP, until an administrator lifts it.
    let suspended = panel.json(
        "POST",
        &format!("/api/admin/servers/{short_id}/suspend"),
        &root_key,
        None,
    );
    assert_eq!(
        suspended.body["data"]["status"], "suspended",
        "{suspended:?}"
    );
    assert_eq!(power(&owner_key, "start").status, 409);
    let (ok, _) = sftp.run(&format!("owner.{short_id}"), "owner password", "ls\n");
    assert!(!ok, "a suspended server's files are closed");
    let lifted = panel.json(
        "POST",
        &format!("/api/admin/servers/{short_id}/unsuspend"),
        &root_key,
        None,
    );
    assert_eq!(lifted.body["data"]["status"], serde_json::Value::Null);

    // A node in maintenance holds users' actions back.
    let node = panel.get_as("/api/admin/nodes/local", &root_key).body["data"].clone();
    let maintenance = |on: bool| {
        let spec = json!({
            "name": node["name"], "fqdn": node["fqdn"], "daemon_port": node["daemon_port"],
            "sftp_port": node["sftp_port"], "data_dir": node["data_dir"], "memory_mb": node["memory_mb"],
            "disk_mb": node["disk_mb"], "maintenance": on,
        });
        let answer = panel.json("PUT", "/api/admin/nodes/local", &root_key, Some(spec));
        assert_eq!(answer.body["data"]["maintenance"], on, "{answer:?}");
    };
    maintenance(true);
    let held = power(&owner_key, "start");
    assert_eq!(held.status, 409);
    assert!(
        held.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maintenance")
    );
    maintenance(false);

    // The owner renames it (lists show the new name at once) and changes a variable
    // within the egg's rules.
    assert_eq!(
        panel.get_as("/api/client/servers", &owner_key).body["data"][0]["name"],
        "e2e"
    );
    let renamed = panel.json(
        "POST",
        &format!("/api/client/servers/{short_id}/settings/rename"),
        &owner_key,
        Some(json!({ "name": "renamed" })),
    );
    assert_eq!(renamed.body["data"]["name"], "renamed");
    assert_eq!(
        panel.get_as("/api/client/servers", &owner_key).body["data"][0]["name"],
        "renamed"
    );
    let variable = |value: &str| {
        panel.json(
            "PUT",
            &format!("/api/client/servers/{short_id}/startup/variable"),
            &owner_key,
            Some(json!({ "key": "GREETING", "value": value })),
        )
    };
    assert_eq!(
        variable(&"x".repeat(30)).body["error"]["field"],
        "variables.GREETING"
    );
    let changed = variable("hello");
    let greeting = changed.body["data"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["env_variable"] == "GREETING")
        .cloned()
        .unwrap();
    assert_eq!(greeting["value"], "hello", "{changed:?}");
    // A variable the egg hides from users never reaches them, not even through the
    // activity log when an administrator sets it.
    let hidden = panel.json(
        "PATCH",
        &format!("/api/admin/servers/{short_id}"),
        &root_key,
        Some(json!({ "variables": { "RCON_PASSWORD": "hunter2-secret" } })),
    );
    assert_eq!(hidden.status, 200, "{hidden:?}");
    for path in [
        format!("/api/client/servers/{short_id}/activity"),
        format!("/api/client/servers/{short_id}/startup"),
        format!("/api/client/servers/{short_id}"),
    ] {
        let seen = panel.get_as(&path, &owner_key);
        assert_eq!(seen.status, 200, "{path}: {seen:?}");
        assert!(!seen.raw_text().contains("hunter2"), "{path}: {seen:?}");
    }
    assert!(
        panel
            .get_as(
                &format!("/api/client/servers/{short_id}/activity"),
                &owner_key
            )
            .raw_text()
            .contains("[hidden]")
    );

    // The owner takes the node's other free address (the limit is two), makes it
    // primary, and the game listens there on its next start.
    let network = format!("/api/client/servers/{short_id}/network/allocations");
    assert_eq!(
        panel.get_as(&network, &owner_key).body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(panel.get_as(&network, &reader_key).status, 403);
    let claimed = panel.json("POST", &network, &owner_key, None);
    assert_eq!(claimed.status, 201, "{claimed:?}");
    assert_eq!(
        claimed.body["data"]["port"].as_u64(),
        extra_port.parse().ok()
    );
    let extra_id = claimed.body["data"]["id"].as_i64().unwrap();
    let over = panel.json("POST", &network, &owner_key, None);
    assert_eq!(over.status, 409, "the limit is two: {over:?}");
    let noted = panel.json(
        "POST",
        &format!("{network}/{extra_id}"),
        &owner_key,
        Some(json!({ "notes": "game" })),
    );
    assert_eq!(noted.body["data"]["notes"], "game");
    let old_primary = panel.get_as(&network, &owner_key).body["data"][0]["id"]
        .as_i64()
        .unwrap();
    let primary = panel.json(
        "POST",
        &format!("{network}/{extra_id}/primary"),
        &owner_key,
        None,
    );
    assert_eq!(
        primary.body["data"]["allocation_id"].as_i64(),
        Some(extra_id),
        "{primary:?}"
    );
    let keep_primary = panel.request(
        "DELETE",
        &format!("{network}/{extra_id}"),
        Some(&owner_key),
        None,
    );
    assert_eq!(keep_primary.status, 409);
    let released = panel.request(
        "DELETE",
        &format!("{network}/{old_primary}"),
        Some(&owner_key),
        None,
    );
    assert_eq!(released.status, 204);
    assert_eq!(power(&owner_key, "start").status, 204);
    wait_for("running");
    let properties =
        std::fs::read_to_string(volumes.join(&uuid).join("server.properties")).unwrap();
    assert_eq!(properties.trim(), format!("server-port={extra_port}"));
    assert_eq!(power(&owner_key, "kill").status, 204);
    wait_for("offline");

    // `hatchery doctor` finds a server the node lost, and `--fix` has wings create and
    // install it again; the panel then agrees with its node.
    assert!(panel.cli_ok(&["doctor"]).contains("agree"));
    let wings_token = config["token"].as_str().unwrap().to_string();
    let lost = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .delete(format!("http://127.0.0.1:{api_port}/api/servers/{uuid}"))
        .header("Authorization", format!("Bearer {wings_token}"))
        .call()
        .unwrap();
    assert_eq!(lost.status().as_u16(), 204);
    let found = panel.cli(&["doctor"]);
    assert_eq!(found.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&found.stdout).contains("not on the node"),
        "{found:?}"
    );
    let fixed = panel.cli(&["doctor", "--fix"]);
    assert!(fixed.status.success(), "{fixed:?}");
    eventually(Duration::from_secs(60), "the node to agree again", || {
        panel.cli(&["doctor"]).status.success().then_some(())
    });
    assert!(volumes.join(&uuid).join("server.sh").exists(), "{}", log());

    panel.cli_ok(&["server", "delete", &short_id]);
    assert!(!volumes.join(&uuid).exists(), "{}", log());
    assert!(panel.cli_ok(&["server", "list"]).contains("no servers yet"));
    assert!(
        panel
            .cli_ok(&["node", "allocations", "local", "--free"])
            .contains(&game_port)
    );
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
