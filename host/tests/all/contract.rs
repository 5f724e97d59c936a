//! Contract 1.1 host calls from a real plugin: servers (what each user sees and may do,
//! through the same policy as the API), the activity log and sealed secrets, on a
//! panel driving a real wings.

use serde_json::json;

use crate::local_node::{
    LocalNode, Sftp, add_ports, create_server, import_fixture_egg, installed_server,
    server_request, wait_installed,
};
use crate::support::{DIALECTS, Dialect, eventually, panel};

#[test]
fn a_plugin_sees_servers_as_each_user_may_and_records_activity_and_secrets() {
    for dialect in DIALECTS {
        let panel = panel(dialect)
            .plugin("hello-wasm")
            .plugin("core-files")
            .start();
        let admin = panel.admin_key();
        let owner = panel.user_key("owner");
        let helper = panel.user_key("helper");
        let stranger = panel.user_key("stranger");
        let (mut node, uuid) = installed_server(&panel, &admin, "shared");
        let added = panel.json(
            "POST",
            &format!("/api/client/servers/{uuid}/users"),
            &owner,
            Some(json!({ "email": "helper@example.com", "permissions": ["control.console"] })),
        );
        assert_eq!(added.status, 201, "{added:?}");

        let mine = |key: &str| {
            let answer = panel.get_as("/api/plugins/hello-wasm/my-servers", key);
            assert_eq!(answer.status, 200, "{dialect:?}: {answer:?}");
            answer.body
        };
        let owned = mine(&owner);
        assert_eq!(owned["servers"][0]["uuid"], uuid.as_str(), "{owned}");
        assert_eq!(owned["servers"][0]["permissions"], json!(["*"]));
        let shared = mine(&helper);
        assert_eq!(shared["servers"][0]["uuid"], uuid.as_str(), "{shared}");
        assert_eq!(
            shared["servers"][0]["permissions"],
            json!(["control.console"])
        );
        assert_eq!(mine(&stranger)["servers"], json!([]));
        // The secret survives between calls (a Wasm plugin starts fresh on each).
        assert_eq!(mine(&owner)["visits"], 4);

        // The activity log names the plugin's event and the user it acted for.
        let logged = panel.get_as(
            "/api/admin/activity?event=hello-wasm:servers.listed&user=helper",
            &admin,
        );
        assert_eq!(logged.status, 200, "{logged:?}");
        let entries = logged.body["data"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{logged:?}");
        assert_eq!(entries[0]["properties"]["count"], 1);

        // Sealed: the database holds no plaintext.
        let sealed: String = crate::crashes::scalar(
            panel.database_url(),
            "SELECT sealed FROM plugin_secrets WHERE plugin_id = 'hello-wasm' AND name = 'visits'",
        );
        assert_ne!(sealed, "4");
        assert!(sealed.len() > 20, "{sealed}");

        // A server route: the host resolves the server and checks the route's server
        // permission before the plugin runs; a client cannot claim permissions.
        let wave = format!("/api/client/servers/{uuid}/hello-wasm/wave");
        let spoofed = panel.json_with(
            "POST",
            &wave,
            &[
                ("Authorization", &format!("Bearer {helper}")),
                ("x-hatchery-server-permissions", "*"),
            ],
            None,
        );
        assert_eq!(spoofed.status, 403, "{spoofed:?}");
        assert!(
            spoofed
                .raw_text()
                .contains("needs the `hello-wasm.wave` permission")
        );
        assert_eq!(panel.json("POST", &wave, &stranger, None).status, 404);
        assert_eq!(panel.request("GET", &wave, Some(&owner), None).status, 405);
        let waved = |key: &str| {
            panel
                .get_as(
                    &format!("/api/admin/activity?event=hello-wasm:waved&user={key}"),
                    &admin,
                )
                .body["data"]
                .as_array()
                .unwrap()
                .len()
        };
        assert_eq!(waved("helper"), 0, "the plugin ran for a refused call");
        let by_owner = panel.json("POST", &wave, &owner, None);
        assert_eq!(by_owner.status, 200, "{by_owner:?}");
        assert_eq!(by_owner.body["server"], "shared");
        assert_eq!(by_owner.body["permissions"], json!(["*"]));
        let granted = panel.json(
            "POST",
            &format!("/api/client/servers/{uuid}/users/helper@example.com"),
            &owner,
            Some(json!({ "permissions": ["control.console", "hello-wasm.wave"] })),
        );
        assert_eq!(granted.status, 200, "{granted:?}");
        let by_helper = panel.json_with(
            "POST",
            &wave,
            &[
                ("Authorization", &format!("Bearer {helper}")),
                ("x-hatchery-server-permissions", "*"),
            ],
            None,
        );
        assert_eq!(by_helper.status, 200, "{by_helper:?}");
        assert_eq!(
            by_helper.body["permissions"],
            json!(["control.console", "hello-wasm.wave"])
        );
        assert_eq!(waved("helper"), 1);

        // node_files: the plugin acts for the caller, with the caller's own file
        // permissions, whatever its route needs.
        let notes = format!("/api/client/servers/{uuid}/hello-wasm/notes");
        let note = |key: &str, body: serde_json::Value| panel.json("POST", &notes, key, Some(body));
        let read_note = || {
            panel.request(
                "GET",
                &format!("/api/client/servers/{uuid}/files/contents?file=notes/hello.txt"),
                Some(&owner),
                None,
            )
        };
        let refused = note(&helper, json!({ "text": "from the helper" }));
        assert_eq!(refused.status, 403, "{refused:?}");
        assert!(refused.raw_text().contains("file.create"), "{refused:?}");
        assert_eq!(read_note().status, 404, "a refused write left a file");
        let written = note(&owner, json!({ "text": "Hello from the plugin" }));
        assert_eq!(written.status, 200, "{dialect:?}: {written:?}");
        assert_eq!(written.body["size"], 21, "{written:?}");
        assert_eq!(written.body["stat_size"], 21, "{written:?}");
        assert_eq!(written.body["start"], "Hello", "{written:?}");
        assert_eq!(written.body["listed"], json!(["hello.txt"]), "{written:?}");
        assert_eq!(read_note().raw_text(), "Hello from the plugin");
        // A writer dropped before it finished changes nothing.
        let abandoned = note(&owner, json!({ "text": "half a note", "abandon": true }));
        assert_eq!(abandoned.status, 200, "{abandoned:?}");
        assert_eq!(read_note().raw_text(), "Hello from the plugin");
        // May create files but not change them: the existing note stays.
        let granted = panel.json(
            "POST",
            &format!("/api/client/servers/{uuid}/users/helper@example.com"),
            &owner,
            Some(json!({ "permissions": ["control.console", "hello-wasm.wave", "file.create"] })),
        );
        assert_eq!(granted.status, 200, "{granted:?}");
        let replace = note(&helper, json!({ "text": "replaced" }));
        assert_eq!(replace.status, 403, "{replace:?}");
        assert!(replace.raw_text().contains("file.update"), "{replace:?}");
        assert_eq!(read_note().raw_text(), "Hello from the plugin");
        // The write is the owner's in the activity log.
        let logged = panel.get_as(
            "/api/admin/activity?event=server.file.write&user=owner",
            &admin,
        );
        assert!(
            logged.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|entry| entry["properties"]["file"] == "/notes/hello.txt"),
            "{logged:?}"
        );
        // The subuser picker offers the plugin's server permission.
        let catalogue = panel.get("/api/permissions");
        assert!(
            catalogue.body["data"]["server"]
                .as_array()
                .unwrap()
                .iter()
                .any(|permission| permission["name"] == "hello-wasm.wave"),
            "{catalogue:?}"
        );
        // The event catalogue: what wings reports reaches plugins that subscribe.
        let written = panel.request(
            "POST",
            &format!("/api/client/servers/{uuid}/files/write?file=notes.txt"),
            Some(&owner),
            Some(b"hello".to_vec()),
        );
        assert_eq!(written.status, 204, "{written:?}");
        let start = panel.json(
            "POST",
            &format!("/api/client/servers/{uuid}/power"),
            &owner,
            Some(json!({ "signal": "start" })),
        );
        assert_eq!(start.status, 204, "{start:?}");
        node.wait_for_state(&uuid, "running");
        // The game exits by itself on `stop` typed at its console: wings sees a crash.
        let typed = panel.json(
            "POST",
            &format!("/api/client/servers/{uuid}/command"),
            &owner,
            Some(json!({ "command": "stop" })),
        );
        assert_eq!(typed.status, 204, "{typed:?}");
        let seen = eventually(std::time::Duration::from_secs(30), "the events", || {
            let seen = panel.get("/api/plugins/hello-wasm/hello").body["events_seen"].to_string();
            [
                "server.installed",
                "file.written",
                "server.state-changed",
                "server.crashed",
            ]
            .iter()
            .all(|event| seen.contains(event))
            .then_some(seen)
        });
        assert!(!seen.contains("server.deleted"), "{seen}");

        // Routes nobody serves stay a JSON 404.
        let nothing = panel.get_as(&format!("/api/client/servers/{uuid}/nothing/here"), &owner);
        assert_eq!(nothing.status, 404);
        assert_eq!(nothing.body["error"]["code"], "not_found");
        // wings restarts a crashed game: deleting the server removes its container.
        let deleted = panel.request(
            "DELETE",
            &format!("/api/admin/servers/{uuid}"),
            Some(&admin),
            None,
        );
        assert_eq!(deleted.status, 204, "{deleted:?}");
        node.kill_wings();
    }
}

/// `identity` and the auth and admin scopes: a sign-in route creates a session and the
/// host sets its cookie; an admin route admits root administrators and staff whose role
/// holds its permission, and nobody else.
#[test]
fn sign_in_routes_set_sessions_and_admin_routes_need_their_permission() {
    for dialect in DIALECTS {
        let panel = panel(dialect).plugin("hello-wasm").start();
        let admin = panel.admin_key();
        let ada = panel.user_key("ada");
        let sign_in = "/api/auth/hello-wasm/session";
        assert_eq!(panel.json_with("POST", sign_in, &[], None).status, 401);
        let signed = panel.json("POST", sign_in, &ada, None);
        assert_eq!(signed.status, 200, "{dialect:?}: {signed:?}");
        assert_eq!(signed.body["username"], "ada");
        assert_eq!(signed.body["sessions"], 1);
        let cookie = signed
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.clone())
            .expect("the host set the session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite"),
            "{cookie}"
        );
        assert!(
            !signed
                .headers
                .iter()
                .any(|(name, _)| name.starts_with("x-hatchery")),
            "{signed:?}"
        );
        let session = cookie.split(';').next().unwrap().to_string();
        let account = panel.json_with("GET", "/api/client/account", &[("Cookie", &session)], None);
        assert_eq!(account.status, 200, "{account:?}");
        assert_eq!(account.body["data"]["username"], "ada");
        let logged = panel.get_as(
            "/api/admin/activity?event=auth.session.create&user=ada",
            &admin,
        );
        assert_eq!(
            logged.body["data"].as_array().unwrap().len(),
            1,
            "{logged:?}"
        );

        let greetings = "/api/admin/hello-wasm/greetings";
        assert_eq!(panel.json_with("GET", greetings, &[], None).status, 401);
        assert_eq!(panel.get_as(greetings, &ada).status, 403);
        let by_admin = panel.get_as(greetings, &admin);
        assert_eq!(by_admin.status, 200, "{by_admin:?}");
        assert_eq!(by_admin.body["greetings"], 0);
        let role = panel.json(
            "POST",
            "/api/admin/roles",
            &admin,
            Some(json!({ "name": "support", "permissions": ["users.read"] })),
        );
        assert_eq!(role.status, 201, "{role:?}");
        let staff = panel.json(
            "POST",
            "/api/admin/users",
            &admin,
            Some(json!({ "username": "sam", "email": "sam@example.com", "role_id": role.body["data"]["id"] })),
        );
        assert_eq!(staff.status, 201, "{staff:?}");
        let sam = panel.cli_ok(&["user", "api-key", "sam"]).trim().to_string();
        assert_eq!(panel.get_as(greetings, &sam).status, 200);
        // The host's own admin routes stay the host's.
        assert_eq!(panel.get_as("/api/admin/users", &sam).status, 200);
    }
}

/// Provider `auth-method`: the sign-in page lists its methods, and the SFTP logins wings
/// asks the panel about are checked by it, with a real OpenSSH client against a real
/// wings.
#[test]
fn sftp_logins_are_checked_by_the_sign_in_provider() {
    let panel = panel(Dialect::Sqlite)
        .plugin("sign-in-test")
        .plugin("core-files")
        .start();
    let admin = panel.admin_key();
    let methods = panel.get("/api/auth/methods");
    assert_eq!(methods.status, 200, "{methods:?}");
    assert_eq!(
        methods.body["data"],
        json!([{
            "plugin": "sign-in-test",
            "id": "password",
            "label": "Password (test provider)",
            "kind": "form",
            "start": "/api/auth/sign-in-test/password",
        }])
    );
    let saved = panel.json(
        "PUT",
        "/api/admin/plugins/sign-in-test/settings",
        &admin,
        Some(json!({ "passwords": { "ada": "provider password" } })),
    );
    assert_eq!(saved.status, 200, "{saved:?}");
    // This provider keeps no passwords: a user with one cannot be made, and no
    // half-made user is left behind.
    let refused = panel.json(
        "POST",
        "/api/admin/users",
        &admin,
        Some(
            json!({ "username": "ada", "email": "ada@example.com", "password": "panel password" }),
        ),
    );
    assert_eq!(refused.status, 409, "{refused:?}");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("enable core-auth"),
        "{refused:?}"
    );
    let created = panel.json(
        "POST",
        "/api/admin/users",
        &admin,
        Some(json!({ "username": "ada", "email": "ada@example.com" })),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let ada = panel.cli_ok(&["user", "api-key", "ada"]).trim().to_string();

    let mut node = LocalNode::register(&panel, "local", None);
    node.start_wings();
    import_fixture_egg(&panel, "Fixture Game", str::to_string);
    let port = add_ports(&panel, &admin, "local", 1)[0];
    let mut request = server_request("sftp", "Fixture Game", port.into());
    request["owner"] = json!("ada");
    let uuid = create_server(&panel, &admin, request);
    wait_installed(&panel, &uuid);
    let written = panel.request(
        "POST",
        &format!("/api/client/servers/{uuid}/files/write?file=motd.txt"),
        Some(&ada),
        Some(b"through the provider\n".to_vec()),
    );
    assert_eq!(written.status, 204, "{written:?}");
    let short_id = panel
        .get_as(&format!("/api/client/servers/{uuid}"), &ada)
        .body["data"]["short_id"]
        .as_str()
        .unwrap()
        .to_string();

    let work = tempfile::tempdir().unwrap();
    let sftp = Sftp {
        port: node.sftp_port,
        dir: work.path().to_path_buf(),
    };
    let login = format!("ada.{short_id}");
    let (ok, output) = sftp.run(&login, "provider password", "get motd.txt fetched.txt\n");
    assert!(ok, "{output}\n{}\n{}", node.log(), panel.log());
    assert_eq!(
        std::fs::read_to_string(work.path().join("fetched.txt")).unwrap(),
        "through the provider\n"
    );
    // The provider decides: a password it does not know is refused.
    let (ok, output) = sftp.run(&login, "panel password", "get motd.txt\n");
    assert!(!ok, "{output}");
    node.kill_wings();
}

/// Two enabled plugins never serve one server route: the later one (by id) fails to load,
/// naming the other, and loads once the other is disabled.
#[test]
fn two_plugins_never_serve_one_server_route() {
    // hello-wasm under another id, with the same server route.
    let copy = tempfile::tempdir().unwrap();
    let dir = copy.path().join("hello-copy");
    crate::support::copy_dir(
        &crate::support::artifacts().plugins.join("hello-wasm"),
        &dir,
    );
    std::fs::remove_dir_all(dir.join("migrations")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let manifest = manifest
        .replace("id = \"hello-wasm\"", "id = \"hello-copy\"")
        .replace("\"hello-wasm.", "\"hello-copy.")
        .replace("database = true\n", "");
    assert!(manifest.contains("path = \"/hello-wasm/wave\""));
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();

    let panel = panel(crate::support::Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin_from(&dir)
        .start();
    assert_eq!(
        panel.plugin_health("hello-copy").unwrap()["state"],
        "enabled"
    );
    let refused = panel.plugin_health("hello-wasm").unwrap();
    assert_eq!(refused["state"], "failed", "{refused}");
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("/hello-wasm/wave") && error.contains("plugin hello-copy"),
        "{error}"
    );

    let admin = panel.admin_key();
    let disabled = panel.json(
        "POST",
        "/api/admin/plugins/hello-copy/disable",
        &admin,
        None,
    );
    assert!(disabled.status < 300, "{disabled:?}");
    eventually(
        std::time::Duration::from_secs(10),
        "hello-wasm to load",
        || (panel.plugin_health("hello-wasm")?["state"] == "enabled").then_some(()),
    );
}

/// Outbound HTTP (capability `http`) reaches the hosts the admin allowed, and nothing else.
#[test]
fn outbound_http_reaches_only_allowed_hosts() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let mut head = [0u8; 4096];
            let _ = client.read(&mut head);
            let _ = client.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            );
        }
    });
    let copy = tempfile::tempdir().unwrap();
    let dir = copy.path().join("hello-wasm");
    crate::support::copy_dir(
        &crate::support::artifacts().plugins.join("hello-wasm"),
        &dir,
    );
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    assert!(manifest.contains("http = [\"example.com\"]"));
    let manifest = manifest.replace(
        "http = [\"example.com\"]",
        &format!("http = [\"127.0.0.1:{port}\"]"),
    );
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();

    let panel = panel(crate::support::Dialect::Sqlite)
        .plugin_from(&dir)
        .start();
    let admin = panel.admin_key();
    let fetch = |url: String| {
        panel.post_json(
            "/api/plugins/hello-wasm/fetch",
            Some(&admin),
            json!({ "url": url }),
        )
    };
    let fetched = fetch(format!("http://127.0.0.1:{port}/anything"));
    assert_eq!(fetched.status, 200, "{fetched:?}");
    assert_eq!(fetched.body["body"], "hello");
    let other_port = crate::local_node::free_port();
    for url in [
        format!("http://127.0.0.1:{other_port}/"),
        format!("http://localhost:{port}/"),
        "https://example.com/".to_string(),
    ] {
        let refused = fetch(url.clone());
        assert_eq!(refused.status, 403, "{url}: {refused:?}");
        assert!(
            refused.raw_text().contains("is not among the hosts"),
            "{refused:?}"
        );
    }
    assert_eq!(fetch("file:///etc/passwd".into()).status, 400);
}

/// A backup driver runs inside wings, where the data is: wings fetches the plugin from
/// the panel, streams the server's files to it and measures the archive itself; a
/// driver failing part-way keeps nothing; disabling and enabling on the panel reaches
/// the node without a restart.
#[test]
fn a_backup_driver_runs_inside_wings_and_follows_the_panel() {
    use sha2::Digest;
    let panel = panel(Dialect::Sqlite)
        .plugin("local-archives")
        .plugin("core-files")
        .env("HATCHERY_WASM_TIMEOUT_MS", "1500")
        .start();
    let admin = panel.admin_key();
    let owner = panel.user_key("owner");
    let mut node = LocalNode::register(&panel, "local", None);
    node.start_wings();
    let loaded = || {
        node.wings_get("/api/plugins")
            .and_then(|list| list.as_array().cloned())
            .unwrap_or_default()
    };
    eventually(
        std::time::Duration::from_secs(30),
        "wings loads the driver",
        || (loaded().len() == 1).then_some(()),
    );
    assert_eq!(loaded()[0]["id"], "local-archives");
    assert_eq!(loaded()[0]["provides"], json!(["backup-driver"]));
    let details = panel.get_as("/api/admin/plugins/local-archives", &admin);
    assert_eq!(details.body["runs_on_nodes"], true, "{details:?}");

    import_fixture_egg(&panel, "Fixture Game", str::to_string);
    let port = add_ports(&panel, &admin, "local", 1)[0];
    let uuid = create_server(
        &panel,
        &admin,
        server_request("kept", "Fixture Game", port.into()),
    );
    wait_installed(&panel, &uuid);
    let written = panel.request(
        "POST",
        &format!("/api/client/servers/{uuid}/files/write?file=world/level.dat"),
        Some(&owner),
        Some(b"the level as it was".to_vec()),
    );
    assert_eq!(written.status, 204, "{written:?}");

    let backup = uuid::Uuid::new_v4().to_string();
    let (status, body) = node.wings_call(
        "POST",
        &format!("/api/servers/{uuid}/backup"),
        json!({ "adapter": "local-archives", "uuid": backup }),
    );
    assert_eq!(
        status,
        200,
        "{}\n{}",
        String::from_utf8_lossy(&body),
        node.log()
    );
    let saved: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(saved["checksum_type"], "sha256");
    let kept_dir = node
        .root_directory()
        .join("plugin-data/local-archives")
        .join(&uuid);
    let kept = std::fs::read(kept_dir.join(format!("{backup}.tar"))).unwrap();
    assert_eq!(saved["size"], kept.len() as u64);
    assert_eq!(saved["checksum"], hex::encode(sha2::Sha256::digest(&kept)));

    // The driver gives the same bytes back: a tar holding the server's files.
    let fetch = format!("/api/servers/{uuid}/backup/{backup}/fetch");
    let (status, fetched) = node.wings_call("POST", &fetch, json!({ "adapter": "local-archives" }));
    assert_eq!(status, 200);
    assert_eq!(fetched, kept);
    let holds = |needle: &[u8]| fetched.windows(needle.len()).any(|w| w == needle);
    assert!(holds(b"world/level.dat") && holds(b"the level as it was"));

    // A driver that fails part-way keeps nothing, and wings says why.
    let failing = uuid::Uuid::new_v4().to_string();
    let (status, body) = node.wings_call(
        "POST",
        &format!("/api/servers/{uuid}/backup"),
        json!({ "adapter": "local-archives", "uuid": failing, "config": { "fail_after_bytes": 512 } }),
    );
    assert_eq!(status, 502, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("the store went away"));
    let names: Vec<String> = std::fs::read_dir(&kept_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![format!("{backup}.tar")]);

    // A driver that hangs is stopped at the panel's time limit, not wings' default.
    let (status, body) = node.wings_call(
        "POST",
        &format!("/api/servers/{uuid}/backup"),
        json!({ "adapter": "local-archives", "uuid": uuid::Uuid::new_v4().to_string(), "config": { "spin": true } }),
    );
    let said = String::from_utf8_lossy(&body);
    assert_ne!(status, 200, "{said}");
    assert!(said.contains("time limit of 1500 ms"), "{said}");
    assert_eq!(
        node.wings_get("/api/plugins").unwrap()[0]["id"],
        "local-archives"
    );

    // Disabling the plugin on the panel unloads it on the node without a restart;
    // its archives stay.
    let disabled = panel.json(
        "POST",
        "/api/admin/plugins/local-archives/disable",
        &admin,
        None,
    );
    assert_eq!(disabled.status, 200, "{disabled:?}");
    eventually(
        std::time::Duration::from_secs(30),
        "wings unloads the driver",
        || loaded().is_empty().then_some(()),
    );
    let (status, body) = node.wings_call("POST", &fetch, json!({ "adapter": "local-archives" }));
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("enable it on the panel"));
    assert!(kept_dir.join(format!("{backup}.tar")).exists());

    let enabled = panel.json(
        "POST",
        "/api/admin/plugins/local-archives/enable",
        &admin,
        None,
    );
    assert_eq!(enabled.status, 200, "{enabled:?}");
    eventually(
        std::time::Duration::from_secs(30),
        "wings loads the driver again",
        || (loaded().len() == 1).then_some(()),
    );
    let (status, _) = node.wings_call(
        "DELETE",
        &format!("/api/servers/{uuid}/backup/{backup}"),
        json!({ "adapter": "local-archives" }),
    );
    assert_eq!(status, 204);
    assert!(!kept_dir.join(format!("{backup}.tar")).exists());
    node.kill_wings();
}
