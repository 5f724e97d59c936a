//! wings as a daemon: the real `wings` binary driven over its HTTP API and console
//! websocket the way the panel and a browser drive it, with real containers.

#[path = "../common/mod.rs"]
mod common;
mod sftp;
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{Answer, PanelStandIn, Wings, free_port, multipart, server_uuid};

const SHORT: Duration = Duration::from_secs(5);
const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn the_panel_must_present_the_node_token() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let anonymous = wings.call_without_token("GET", "/api/servers").await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert!(anonymous.text().contains("node token"), "{anonymous:?}");
    let wrong = wings
        .call_raw("GET", "/api/servers", false, Vec::new(), "text/plain")
        .await;
    assert_eq!(wrong.status, 401);
    let listed = wings.call("GET", "/api/servers", None).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.json(), json!([]));
    let system = wings.call("GET", "/api/system", None).await.json();
    assert_eq!(system["version"], env!("CARGO_PKG_VERSION"));
    assert!(system["cpu_count"].as_u64().unwrap() >= 1);
    assert!(
        system["container_engine"]["api_version"].is_string(),
        "{system}"
    );
    // On start wings told the panel to clear stale install states.
    assert_eq!(panel.state.lock().unwrap().resets, 1);
    let missing = wings.call("GET", "/api/servers/no-such-server", None).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.json()["error"]
            .as_str()
            .unwrap()
            .contains("not on this node")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_is_installed_and_run_from_the_console() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 512).await;
    let again = wings
        .call("POST", "/api/servers", Some(json!({ "uuid": uuid })))
        .await;
    assert_eq!(again.status, 409, "creating it twice: {again:?}");

    let mut console = wings.console(&uuid).await;
    let token = panel.console_token(
        &uuid,
        &[
            "websocket.connect",
            "control.console",
            "control.start",
            "control.stop",
        ],
        600,
    );
    console.send("auth", &[&token]).await;
    console.expect_event("auth success", SHORT).await;
    console.expect_status("offline", SHORT).await;

    console.send("set state", &["start"]).await;
    console.expect_status("starting", LONG).await;
    console
        .expect_output("Starting game server on port", LONG)
        .await;
    console.expect_status("running", LONG).await;

    console.send("send command", &["ping"]).await;
    console.expect_output("pong", SHORT).await;

    console.send("send stats", &[]).await;
    let stats = console
        .expect("stats while running", SHORT, |event, args| {
            event == "stats" && args[0].contains(r#""state":"running""#)
        })
        .await;
    let stats: serde_json::Value = serde_json::from_str(&stats[0]).unwrap();
    assert!(stats["memory_bytes"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["network"]["rx_bytes"].is_u64(), "{stats}");
    assert!(stats["uptime"].as_u64().unwrap() > 0, "{stats}");

    // The panel sees the same state, and the egg's config file was written.
    let described = wings
        .call("GET", &format!("/api/servers/{uuid}"), None)
        .await
        .json();
    assert_eq!(described["state"], "running", "{described}");
    let properties = wings
        .call(
            "GET",
            &format!("/api/servers/{uuid}/files/contents?file=server.properties"),
            None,
        )
        .await;
    assert!(
        properties.text().starts_with("server-port="),
        "{properties:?}"
    );

    // Commands also come from the panel's API; logs return recent output.
    let sent = wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/commands"),
            Some(json!({ "commands": ["ping"] })),
        )
        .await;
    assert_eq!(sent.status, 204, "{sent:?}");
    let logs = wings
        .call("GET", &format!("/api/servers/{uuid}/logs?size=50"), None)
        .await
        .json();
    let lines: Vec<&str> = logs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("Done (0.1s)!")),
        "{lines:?}"
    );

    console.send("set state", &["stop"]).await;
    console.expect_output("Saving and stopping", LONG).await;
    console.expect_status("offline", LONG).await;

    // What the user did reaches the panel's activity log.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let activity = panel.activity();
        if activity
            .iter()
            .any(|a| a["event"] == "server:console.command" && a["metadata"]["command"] == "ping")
            && activity.iter().any(|a| a["event"] == "server:power.start")
        {
            assert!(
                activity.iter().all(|a| a["server"] == uuid.as_str()),
                "{activity:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "activity never arrived: {activity:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Deleting removes the container and the files.
    let volume = wings.dir.path().join("volumes").join(&uuid);
    assert!(volume.join("server.sh").exists());
    let deleted = wings
        .call("DELETE", &format!("/api/servers/{uuid}"), None)
        .await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert!(!volume.exists());
    assert_eq!(
        wings
            .call("GET", &format!("/api/servers/{uuid}"), None)
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn console_tokens_grant_exactly_what_they_say() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 512).await;

    // Nothing before authenticating.
    let mut console = wings.console(&uuid).await;
    console.send("send logs", &[]).await;
    console.expect_event("jwt error", SHORT).await;
    // A token signed with another key, or for another server, is refused.
    let other = wings.console(&uuid).await;
    drop(other);
    console.send("auth", &["not.a.token"]).await;
    let error = console.expect_event("jwt error", SHORT).await;
    assert!(
        error[0].contains("signature") || error[0].contains("malformed"),
        "{error:?}"
    );
    let elsewhere = panel.console_token(&server_uuid(), &["websocket.connect"], 600);
    console.send("auth", &[&elsewhere]).await;
    let error = console.expect_event("jwt error", SHORT).await;
    assert!(error[0].contains("another server"), "{error:?}");
    let no_connect = panel.console_token(&uuid, &["control.console"], 600);
    console.send("auth", &[&no_connect]).await;
    console.expect_event("jwt error", SHORT).await;

    // A read-only token sees the console but cannot act.
    let read_only = panel.console_token(&uuid, &["websocket.connect"], 600);
    console.send("auth", &[&read_only]).await;
    console.expect_event("auth success", SHORT).await;
    console.send("set state", &["start"]).await;
    let denied = console.expect_event("daemon error", SHORT).await;
    assert!(denied[0].contains("control.start"), "{denied:?}");
    assert_eq!(
        wings
            .call("GET", &format!("/api/servers/{uuid}"), None)
            .await
            .json()["state"],
        "offline"
    );

    // A token about to run out is announced, then expires; re-authenticating works.
    let short = panel.console_token(&uuid, &["websocket.connect"], 7);
    console.send("auth", &[&short]).await;
    console.expect_event("auth success", SHORT).await;
    console
        .expect_event("token expiring", Duration::from_secs(10))
        .await;
    console
        .expect_event("token expired", Duration::from_secs(15))
        .await;
    console.send("send logs", &[]).await;
    console.expect_event("jwt error", SHORT).await;

    // The panel can take a token back before it expires.
    let revocable = panel.console_token(&uuid, &["websocket.connect"], 600);
    console.send("auth", &[&revocable]).await;
    console.expect_event("auth success", SHORT).await;
    let payload = revocable.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let denied = wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/ws/deny"),
            Some(json!({ "jtis": [claims["jti"]] })),
        )
        .await;
    assert_eq!(denied.status, 204);
    let revoked = console
        .expect_event("jwt error", Duration::from_secs(10))
        .await;
    assert!(revoked[0].contains("revoked"), "{revoked:?}");
    // ...and the socket ends: a revoked user keeps nothing open.
    assert!(console.closes_within(SHORT).await, "{:?}", console.seen);
    let mut again = wings.console(&uuid).await;
    again.send("auth", &[&revocable]).await;
    let refused = again.expect_event("jwt error", SHORT).await;
    assert!(refused[0].contains("revoked"), "{refused:?}");

    // A socket that never authenticates is closed after 15 seconds.
    let mut idle = wings.console(&uuid).await;
    let closed = idle.closes_within(Duration::from_secs(20)).await;
    assert!(
        closed,
        "an unauthenticated socket stayed open: {:?}",
        idle.seen
    );

    // A browser on a foreign origin cannot open a console at all.
    let request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://127.0.0.1:{}/api/servers/{uuid}/ws", wings.api_port),
    )
    .map(|mut request| {
        request
            .headers_mut()
            .insert("Origin", "http://evil.example".parse().unwrap());
        request
    })
    .unwrap();
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn files_are_managed_through_the_api_and_signed_urls() {
    let panel = PanelStandIn::start().await;
    let wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 3).await;
    let files = format!("/api/servers/{uuid}/files");

    let written = wings
        .call_raw(
            "POST",
            &format!("{files}/write?file=config/motd.txt"),
            true,
            b"welcome".to_vec(),
            "text/plain",
        )
        .await;
    assert_eq!(written.status, 204, "{written:?}");
    let read = wings
        .call(
            "GET",
            &format!("{files}/contents?file=config/motd.txt"),
            None,
        )
        .await;
    assert_eq!(read.text(), "welcome");
    let listed = wings
        .call(
            "GET",
            &format!("{files}/list-directory?directory=config"),
            None,
        )
        .await
        .json();
    assert_eq!(listed[0]["name"], "motd.txt", "{listed}");
    assert_eq!(listed[0]["mode"], "-rw-r--r--", "{listed}");
    assert_eq!(listed[0]["mime"], "text/plain", "{listed}");

    assert_eq!(
        wings
            .call(
                "POST",
                &format!("{files}/create-directory"),
                Some(json!({ "name": "plugins", "path": "/" }))
            )
            .await
            .status,
        204
    );
    let renamed = wings
        .call("PUT", &format!("{files}/rename"), Some(json!({ "root": "/", "files": [{ "from": "config/motd.txt", "to": "plugins/motd.txt" }] })))
        .await;
    assert_eq!(renamed.status, 204, "{renamed:?}");
    let copied = wings
        .call(
            "POST",
            &format!("{files}/copy"),
            Some(json!({ "location": "plugins/motd.txt" })),
        )
        .await
        .json();
    assert_eq!(copied["name"], "/plugins/motd copy.txt", "{copied}");
    let chmod = wings
        .call(
            "POST",
            &format!("{files}/chmod"),
            Some(json!({ "root": "plugins", "files": [{ "file": "motd.txt", "mode": "600" }] })),
        )
        .await;
    assert_eq!(chmod.status, 204, "{chmod:?}");
    let archive = wings
        .call(
            "POST",
            &format!("{files}/compress"),
            Some(json!({ "root": "/", "files": ["plugins"] })),
        )
        .await;
    assert_eq!(archive.status, 200, "{archive:?}");
    let archive_name = archive.json()["name"].as_str().unwrap().to_string();
    assert!(archive_name.ends_with(".tar.gz"), "{archive:?}");
    assert_eq!(
        wings
            .call(
                "POST",
                &format!("{files}/delete"),
                Some(json!({ "root": "/", "files": ["plugins"] }))
            )
            .await
            .status,
        204
    );
    let extracted = wings
        .call(
            "POST",
            &format!("{files}/decompress"),
            Some(json!({ "root": "/", "file": archive_name })),
        )
        .await;
    assert_eq!(extracted.status, 204, "{extracted:?}");
    assert_eq!(
        wings
            .call(
                "GET",
                &format!("{files}/contents?file=plugins/motd.txt"),
                None
            )
            .await
            .text(),
        "welcome"
    );

    // Hostile paths are refused with a reason and touch nothing outside.
    std::os::unix::fs::symlink(
        "/etc",
        wings
            .dir
            .path()
            .join("volumes")
            .join(&uuid)
            .join("etc-link"),
    )
    .unwrap();
    for path in ["../../etc/passwd", "etc-link/passwd", "a%00b"] {
        let answer = wings
            .call("GET", &format!("{files}/contents?file={path}"), None)
            .await;
        assert_eq!(answer.status, 400, "{path}: {answer:?}");
        assert!(
            answer.json()["error"].as_str().unwrap().contains("outside") || path.contains("%00"),
            "{path}: {answer:?}"
        );
    }
    let escape = wings
        .call_raw(
            "POST",
            &format!("{files}/write?file=../escape.txt"),
            true,
            b"x".to_vec(),
            "text/plain",
        )
        .await;
    assert_eq!(escape.status, 400, "{escape:?}");
    assert!(!wings.dir.path().join("volumes").join("escape.txt").exists());

    // Above the node's 1 MiB upload limit: refused.
    let big = vec![b'x'; 1024 * 1024 + 1];
    let over = wings
        .call_raw(
            "POST",
            &format!("{files}/write?file=plugins/motd.txt"),
            true,
            big,
            "text/plain",
        )
        .await;
    assert_eq!(over.status, 400, "above the 1 MiB upload limit: {over:?}");
    // Over the 3 MiB disk quota: refused, and the old file is kept whole.
    let chunk = vec![b'y'; 900 * 1024];
    for name in ["a.bin", "b.bin", "c.bin"] {
        let written = wings
            .call_raw(
                "POST",
                &format!("{files}/write?file={name}"),
                true,
                chunk.clone(),
                "application/octet-stream",
            )
            .await;
        assert_eq!(written.status, 204, "{name}: {written:?}");
    }
    let over_quota = wings
        .call_raw(
            "POST",
            &format!("{files}/write?file=plugins/motd.txt"),
            true,
            chunk,
            "application/octet-stream",
        )
        .await;
    assert_eq!(over_quota.status, 507, "{over_quota:?}");
    assert!(over_quota.text().contains("disk space"), "{over_quota:?}");
    assert_eq!(
        wings
            .call(
                "GET",
                &format!("{files}/contents?file=plugins/motd.txt"),
                None
            )
            .await
            .text(),
        "welcome"
    );
    let freed = wings
        .call(
            "POST",
            &format!("{files}/delete"),
            Some(json!({ "root": "/", "files": ["a.bin", "b.bin", "c.bin"] })),
        )
        .await;
    assert_eq!(freed.status, 204);

    // Signed upload and download URLs work once, without the node token.
    let upload_token = panel.transfer_token(&uuid, None);
    let (body, content_type) = multipart("uploaded.txt", b"from a browser");
    let uploaded = wings
        .call_raw(
            "POST",
            &format!("/upload/file?token={upload_token}&directory=plugins"),
            false,
            body.clone(),
            &content_type,
        )
        .await;
    assert_eq!(uploaded.status, 200, "{uploaded:?}");
    let reused = wings
        .call_raw(
            "POST",
            &format!("/upload/file?token={upload_token}&directory=plugins"),
            false,
            body,
            &content_type,
        )
        .await;
    assert_eq!(reused.status, 403, "{reused:?}");
    assert!(reused.text().contains("already used"), "{reused:?}");
    let download_token = panel.transfer_token(&uuid, Some("plugins/uploaded.txt"));
    let downloaded = wings
        .call_without_token("GET", &format!("/download/file?token={download_token}"))
        .await;
    assert_eq!(downloaded.status, 200, "{downloaded:?}");
    assert_eq!(downloaded.text(), "from a browser");
    let again = wings
        .call_without_token("GET", &format!("/download/file?token={download_token}"))
        .await;
    assert_eq!(again.status, 403);
    let forged = wings
        .call_without_token("GET", "/download/file?token=a.b.c")
        .await;
    assert_eq!(forged.status, 403);
    // An upload above the node's limit is refused and leaves nothing behind.
    let token = panel.transfer_token(&uuid, None);
    let (body, content_type) = multipart("huge.bin", &vec![0u8; 1024 * 1024 + 10]);
    let huge = wings
        .call_raw(
            "POST",
            &format!("/upload/file?token={token}&directory=plugins"),
            false,
            body,
            &content_type,
        )
        .await;
    assert_eq!(huge.status, 400, "{huge:?}");
    let names: Vec<String> = wings
        .call(
            "GET",
            &format!("{files}/list-directory?directory=plugins"),
            None,
        )
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!names.iter().any(|n| n.contains("huge")), "{names:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_wings_reattaches_and_replays_recent_output() {
    let panel = PanelStandIn::start().await;
    let mut wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    wings.create_installed_server(&panel, &uuid, 512).await;
    let started = wings
        .call(
            "POST",
            &format!("/api/servers/{uuid}/power"),
            Some(json!({ "action": "start" })),
        )
        .await;
    assert_eq!(started.status, 202, "{started:?}");
    let token = panel.console_token(
        &uuid,
        &["websocket.connect", "control.console", "control.stop"],
        600,
    );
    let mut console = wings.console(&uuid).await;
    console.send("auth", &[&token]).await;
    console.expect_status("running", LONG).await;
    console.send("send command", &["ping"]).await;
    console.expect_output("pong", SHORT).await;

    // wings dies; the game server does not.
    let (dir, api_port, sftp_port) = (wings.dir.clone(), wings.api_port, wings.sftp_port);
    wings.kill();
    let wings = Wings::start_in(&panel, dir, api_port, sftp_port).await;
    let deadline = Instant::now() + LONG;
    while wings
        .call("GET", &format!("/api/servers/{uuid}"), None)
        .await
        .json()["state"]
        != "running"
    {
        assert!(
            Instant::now() < deadline,
            "the server was not re-attached:\n{}",
            wings.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut console = wings.console(&uuid).await;
    console.send("auth", &[&token]).await;
    console.expect_event("auth success", SHORT).await;
    // What the server printed before wings restarted is still there.
    console.send("send logs", &[]).await;
    console
        .expect_output("Starting game server on port", SHORT)
        .await;
    console.send("send command", &["ping"]).await;
    console.expect_output("pong", SHORT).await;
    console.send("set state", &["stop"]).await;
    console.expect_status("offline", LONG).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_is_served_over_tls_when_configured() {
    let panel = PanelStandIn::start().await;
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let wings = Wings::start_tls(&panel, &cert, &key).await;
    let curl = |url: String, extra: &[&str]| {
        std::process::Command::new("curl")
            .args(["-sS", "--max-time", "10", "--http1.1", "--cacert"])
            .arg(&cert)
            .args(["-H", &format!("Authorization: Bearer {}", panel.node_token)])
            .args(extra)
            .arg(url)
            .output()
            .unwrap()
    };
    let secure = curl(
        format!("https://localhost:{}/api/system", wings.api_port),
        &[],
    );
    assert!(
        secure.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&secure.stderr),
        wings.log()
    );
    let system: serde_json::Value = serde_json::from_slice(&secure.stdout).unwrap();
    assert_eq!(system["version"], env!("CARGO_PKG_VERSION"));
    // Plain HTTP on the TLS port gets no answer.
    assert!(
        !curl(
            format!("http://localhost:{}/api/system", wings.api_port),
            &[]
        )
        .status
        .success()
    );
    // Websocket upgrades pass through TLS to the console route.
    let upgrade = curl(
        format!(
            "https://localhost:{}/api/servers/missing/ws",
            wings.api_port
        ),
        &[
            "-i",
            "-H",
            "Connection: Upgrade",
            "-H",
            "Upgrade: websocket",
            "-H",
            "Sec-WebSocket-Version: 13",
            "-H",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ],
    );
    let head = String::from_utf8_lossy(&upgrade.stdout);
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert!(head.contains("not on this node"), "{head}");
}

/// The panel goes away right after placing a server: wings waits for it instead of
/// failing the install, refuses to start the uninstalled server meanwhile, survives
/// its own kill -9, and delivers the install result once the panel answers again.
#[tokio::test(flavor = "multi_thread")]
async fn installs_wait_for_a_panel_that_is_away_and_results_survive_a_wings_crash() {
    let panel = PanelStandIn::start().await;
    let mut wings = Wings::start(&panel).await;
    let uuid = server_uuid();
    panel.add_server(&uuid, free_port(), 64);
    panel.set_away("install_script", true);
    panel.set_away("install_result", true);
    let created = wings
        .call(
            "POST",
            "/api/servers",
            Some(json!({ "uuid": uuid, "start_on_completion": false })),
        )
        .await;
    assert_eq!(created.status, 202, "{created:?}");
    let server = format!("/api/servers/{uuid}");
    let install_state = |answer: &Answer| answer.json()["install"]["install"].clone();
    let deadline = Instant::now() + LONG;
    while install_state(&wings.call("GET", &server, None).await) != "waiting" {
        assert!(Instant::now() < deadline, "{}", wings.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing runs a server that is not installed.
    let power = format!("/api/servers/{uuid}/power");
    let start = Some(json!({ "action": "start" }));
    let refused = wings.call("POST", &power, start.clone()).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(refused.text().contains("has not run yet"), "{refused:?}");

    // wings dies while waiting; the next one resumes the installation.
    let (dir, api_port, sftp_port) = (wings.dir.clone(), wings.api_port, wings.sftp_port);
    wings.kill();
    let mut wings = Wings::start_in(&panel, dir, api_port, sftp_port).await;
    panel.set_away("install_script", false);
    let deadline = Instant::now() + LONG;
    while install_state(&wings.call("GET", &server, None).await) != "installed" {
        assert!(Instant::now() < deadline, "{}", wings.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(panel.installs().is_empty(), "the panel was still away");

    // And dies again before the panel took the result: it is kept on disk.
    let (dir, api_port, sftp_port) = (wings.dir.clone(), wings.api_port, wings.sftp_port);
    wings.kill();
    panel.set_away("install_result", false);
    let wings = Wings::start_in(&panel, dir, api_port, sftp_port).await;
    let deadline = Instant::now() + LONG;
    while !panel.installs().contains(&(uuid.clone(), true)) {
        assert!(Instant::now() < deadline, "{}", wings.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(wings.call("POST", &power, start).await.status, 202);

    // A failed installation keeps the server from starting, with the reason.
    let failing = server_uuid();
    panel.state.lock().unwrap().failing_install = true;
    panel.add_server(&failing, free_port(), 64);
    let created = wings
        .call(
            "POST",
            "/api/servers",
            Some(json!({ "uuid": failing, "start_on_completion": true })),
        )
        .await;
    assert_eq!(created.status, 202);
    let deadline = Instant::now() + LONG;
    while !panel.installs().contains(&(failing.clone(), false)) {
        assert!(Instant::now() < deadline, "{}", wings.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let refused = wings
        .call(
            "POST",
            &format!("/api/servers/{failing}/power"),
            Some(json!({ "action": "start" })),
        )
        .await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(refused.text().contains("install failed"), "{refused:?}");
    let state = wings
        .call("GET", &format!("/api/servers/{failing}"), None)
        .await;
    assert_eq!(state.json()["state"], "offline");
}

/// A zip holding `files`, as the panel packs a plugin.
fn plugin_package(files: &[(&str, &[u8])]) -> String {
    use base64::Engine as _;
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn driver_manifest(id: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"Driver\"\nversion = \"0.1.0\"\nhost = \">=0.1, <1\"\n\
         runtime = \"wasm\"\nentry = \"plugin.wasm\"\nprovides = [\"backup-driver\"]\n\
         [capabilities]\nstorage = true\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_plugin_releases_are_refused_one_by_one_and_wings_stays_up() {
    let panel = PanelStandIn::start().await;
    let release = |id: &str, package: String, grants: serde_json::Value| json!({ "id": id, "version": "0.1.0", "package": package, "grants": grants, "settings": "{}" });
    let storage = json!({ "storage": true });
    let cases = [
        (
            "not-base64",
            Some(release("not-base64", "!!".into(), storage.clone())),
        ),
        (
            "not-a-zip",
            Some(release("not-a-zip", "aGVsbG8=".into(), storage.clone())),
        ),
        ("no-release", None),
        (
            "../escape",
            Some(release("../escape", "aGVsbG8=".into(), storage.clone())),
        ),
        (
            "other-id",
            Some(release(
                "someone-else",
                plugin_package(&[
                    ("plugin.toml", driver_manifest("someone-else").as_bytes()),
                    ("plugin.wasm", b"\0asm"),
                ]),
                storage.clone(),
            )),
        ),
        (
            "renamed",
            Some(release(
                "renamed",
                plugin_package(&[
                    ("plugin.toml", driver_manifest("original").as_bytes()),
                    ("plugin.wasm", b"\0asm"),
                ]),
                storage.clone(),
            )),
        ),
        (
            "greedy",
            Some(release(
                "greedy",
                plugin_package(&[
                    ("plugin.toml", driver_manifest("greedy").as_bytes()),
                    ("plugin.wasm", b"\0asm"),
                ]),
                json!({ "storage": true, "node_files": true }),
            )),
        ),
        (
            "not-wasm",
            Some(release(
                "not-wasm",
                plugin_package(&[
                    ("plugin.toml", driver_manifest("not-wasm").as_bytes()),
                    ("plugin.wasm", b"not a component"),
                ]),
                storage.clone(),
            )),
        ),
        (
            "malformed",
            Some(json!({ "id": "malformed", "package": 7 })),
        ),
    ];
    {
        let mut state = panel.state.lock().unwrap();
        for (id, release) in &cases {
            state
                .plugin_summaries
                .push(json!({ "id": id, "version": "0.1.0", "digest": format!("digest-of-{id}") }));
            if let Some(release) = release {
                state
                    .plugin_releases
                    .insert(id.to_string(), release.clone());
            }
        }
    }
    let wings = Wings::start(&panel).await;
    let report = wings.call("POST", "/api/plugins/sync", None).await;
    assert_eq!(report.status, 200, "{report:?}");
    let report = report.json();
    assert_eq!(report["loaded"], json!([]), "{report}");
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed.len(), cases.len(), "{report}");
    let reason = |id: &str| {
        failed
            .iter()
            .find(|f| f["id"] == id)
            .map(|f| f["error"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no failure for {id}: {report}"))
    };
    assert!(reason("not-base64").contains("not base64"));
    assert!(reason("../escape").contains("escape") || reason("../escape").contains("id"));
    assert!(reason("other-id").contains("someone-else"));
    assert!(reason("renamed").contains("the package is plugin original"));
    assert!(reason("greedy").contains("grants beyond the manifest"));

    // Nothing was kept, nowhere: no release files, nothing beside the plugins folder.
    let lib = wings.dir.path().join("lib");
    let kept: Vec<_> = std::fs::read_dir(lib.join("plugins"))
        .map(|dir| dir.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(kept.iter().all(|name| name == ".cache"), "{kept:?}");
    assert!(!lib.join("escape.json").exists());
    assert_eq!(
        wings.call("GET", "/api/plugins", None).await.json(),
        json!([])
    );
    let system = wings.call("GET", "/api/system", None).await;
    assert_eq!(system.status, 200);
}
