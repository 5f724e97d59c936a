//! The web panel in real Chromium, driven by the scripts in `web/e2e` (playwright-core).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::core_files::Files;
use crate::local_node::{LocalNode, fixture_egg, free_port, installed_server};
use crate::support::{Dialect, dev_public_key, eventually, package_bytes, panel, session_cookie};

/// Runs `web/e2e/<script>` with `args`; its output when it fails.
fn run_in_chromium(script: &str, args: &[&str]) {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web");
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "the web panel's packages are not installed: `cargo xtask test` installs them (npm ci in web/)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is not installed at {chromium}: `cargo xtask test` installs it (apt-get install chromium)"
    );
    let output = Command::new("node")
        .arg(format!("e2e/{script}"))
        .args(args)
        .current_dir(&web)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_person_signs_in_and_adds_an_ssh_key_in_chromium() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    panel.user_with_password("ada", "correct horse battery");
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("laptop");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();

    run_in_chromium(
        "sign-in.mjs",
        &[&panel.url, "ada", "correct horse battery", public.trim()],
    );

    // What the browser did is what the account holds.
    let signed_in = panel.post_json(
        "/api/auth/core-auth/password",
        None,
        serde_json::json!({ "user": "ada", "password": "correct horse battery" }),
    );
    let cookie = session_cookie(&signed_in);
    let listed = panel.json_with(
        "GET",
        "/api/client/account/ssh-keys",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(listed.body["data"][0]["name"], "laptop", "{listed:?}");
}

/// Passkeys with Chromium's virtual authenticator: added, renamed, and then the only
/// thing needed to sign in.
#[test]
fn a_passkey_added_in_chromium_signs_in_alone() {
    let panel = panel(Dialect::Sqlite)
        .plugin("core-auth")
        .public_host("localhost")
        .start();
    panel.user_with_password("ada", "correct horse battery");
    run_in_chromium(
        "passkey.mjs",
        &[&panel.public_url, "ada", "correct horse battery"],
    );
    let key = panel.cli_ok(&["user", "api-key", "ada"]);
    let passkeys = panel.get_as("/api/auth/core-auth/passkeys", key.trim());
    assert_eq!(
        passkeys.body["data"][0]["name"], "work laptop",
        "{passkeys:?}"
    );
    assert!(
        passkeys.body["data"][0]["last_used_at"].is_i64(),
        "{passkeys:?}"
    );
}

/// An administrator adds a sign-in provider and sets up an authenticator app, in
/// Chromium; the panel holds what the pages made.
#[test]
fn an_administrator_adds_a_provider_and_an_authenticator_app_in_chromium() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let chief = panel.admin_with_password("chief", "correct horse battery");
    run_in_chromium(
        "account-and-admin.mjs",
        &[&panel.url, "chief", "correct horse battery"],
    );
    let providers = panel.json("GET", "/api/admin/core-auth/oauth-providers", &chief, None);
    assert_eq!(providers.body["data"][0]["id"], "gh", "{providers:?}");
    assert_eq!(providers.body["data"][0]["client_secret_set"], true);
    let app = panel.get_as("/api/auth/core-auth/totp", &chief);
    assert_eq!(app.body["data"]["enabled"], true, "{app:?}");
    assert_eq!(app.body["data"]["recovery_codes_left"], 10, "{app:?}");
}

/// The panel as an administrator meets it, against real wings and podman: node
/// health and configuration, an allocation, the fixture egg pasted in, a server made
/// with the form and watched while it installs, started, run from its console, its
/// variable refused then saved, a subuser, a role and a user, a plugin enabled through
/// its consent screen. What the pages did is what the panel holds.
#[test]
fn an_administrator_sets_up_and_runs_a_server_from_the_pages_in_chromium() {
    let panel = panel(Dialect::Sqlite)
        .plugin("core-auth")
        .env("HATCHERY_TRUSTED_KEYS", &dev_public_key())
        .start();
    let chief = panel.admin_with_password("chief", "correct horse battery");
    panel.user_with_password("helper", "helper password");
    let mut node = LocalNode::register(&panel, "local", None);
    node.start_wings();
    let work = tempfile::tempdir().unwrap();
    // The install prints for a while, so the browser sees it happen.
    let egg = fixture_egg("Fixture Game", |script| {
        script.replacen(
            "cd /mnt/server",
            "cd /mnt/server\nfor step in 1 2 3 4 5 6 7 8 9 10 11 12; do echo \"install step $step\"; sleep 1; done",
            1,
        )
    });
    let egg_file = work.path().join("egg-fixture-game.json");
    std::fs::write(&egg_file, serde_json::to_string_pretty(&egg).unwrap()).unwrap();
    let package = work.path().join("hello-wasm.hpkg");
    std::fs::write(&package, package_bytes("hello-wasm")).unwrap();
    let port = free_port().to_string();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/panel");

    run_in_chromium(
        "server.mjs",
        &[
            &panel.url,
            "chief",
            "correct horse battery",
            egg_file.to_str().unwrap(),
            &port,
            package.to_str().unwrap(),
            "helper@example.com",
            "helper password",
            shots.to_str().unwrap(),
        ],
    );

    let servers = panel.get_as("/api/admin/servers", &chief);
    let uuid = servers.body["data"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(servers.body["data"][0]["port"].as_u64(), port.parse().ok());
    let short_id = &uuid[..8];
    assert_eq!(
        node.power_state(&uuid).as_deref(),
        Some("running"),
        "{}",
        node.log()
    );
    let startup = panel.get_as(&format!("/api/client/servers/{short_id}/startup"), &chief);
    let greeting = startup.body["data"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|variable| variable["env_variable"] == "GREETING")
        .cloned()
        .unwrap();
    assert_eq!(greeting["value"], "howdy", "{startup:?}");
    let users = panel.get_as(&format!("/api/client/servers/{short_id}/users"), &chief);
    assert_eq!(users.body["data"][0]["username"], "helper", "{users:?}");
    let mut granted: Vec<String> =
        serde_json::from_value(users.body["data"][0]["permissions"].clone()).unwrap();
    granted.sort();
    assert_eq!(granted, ["control.console", "websocket.connect"]);

    let roles = panel.get_as("/api/admin/roles", &chief);
    assert_eq!(roles.body["data"][0]["name"], "Support", "{roles:?}");
    let staffer = panel.get_as("/api/admin/users/staffer", &chief);
    assert_eq!(staffer.body["data"]["role_id"], roles.body["data"][0]["id"]);

    // Enabled with what stayed ticked (everything asked for but `identity`), then
    // disabled at the end of the run.
    let plugin = panel.get_as("/api/admin/plugins/hello-wasm", &chief);
    assert_eq!(plugin.body["state"], "disabled", "{}", plugin.body);
    assert_eq!(plugin.body["granted"]["database"], true, "{}", plugin.body);
    assert_eq!(plugin.body["granted"]["identity"], false, "{}", plugin.body);
    let settings = panel.get_as("/api/admin/plugins/hello-wasm/settings", &chief);
    assert_eq!(settings.body["values"]["greeting"], "Ahoy", "{settings:?}");

    // wings reports console commands to the panel's activity log in batches.
    eventually(
        Duration::from_secs(30),
        "the command in the activity log",
        || {
            let activity = panel.get_as(
                &format!("/api/client/servers/{short_id}/activity?per_page=100"),
                &chief,
            );
            activity
                .raw_text()
                .contains("ping from chromium")
                .then_some(())
        },
    );

    // Deleted, so its container does not outlive the test.
    let deleted = panel.request(
        "DELETE",
        &format!("/api/admin/servers/{uuid}"),
        Some(&chief),
        None,
    );
    assert_eq!(deleted.status, 204, "{deleted:?}");
    eventually(Duration::from_secs(60), "wings to drop the server", || {
        (!node.servers_on_wings().contains(&uuid)).then_some(())
    });
}

/// A trusted plugin's card renders in the page itself; a plugin whose browser module
/// throws shows an error card where its widget would be, and the page keeps working.
#[test]
fn a_broken_plugin_module_shows_an_error_card_and_the_page_works_in_chromium() {
    let copy = tempfile::tempdir().unwrap();
    let broken = copy.path().join("broken-ui");
    crate::support::copy_dir(
        &crate::support::artifacts().plugins.join("bench-wasm"),
        &broken,
    );
    let manifest = std::fs::read_to_string(broken.join("plugin.toml"))
        .unwrap()
        .replace("id = \"bench-wasm\"", "id = \"broken-ui\"")
        .replace("[capabilities]\n", "[capabilities]\nui_trusted = true\n");
    std::fs::write(
        broken.join("plugin.toml"),
        format!(
            "{manifest}\n[[ui]]\nslot = \"dashboard.widgets/v1\"\nmodule = \"ui/broken.js\"\nexport = \"Widget\"\ntitle = \"Broken\"\n"
        ),
    )
    .unwrap();
    std::fs::create_dir(broken.join("ui")).unwrap();
    std::fs::write(
        broken.join("ui/broken.js"),
        "throw new Error('broken on purpose');\nexport function Widget() { return null; }\n",
    )
    .unwrap();
    let panel = panel(Dialect::Sqlite)
        .plugin("core-auth")
        .plugin("hello-native")
        .plugin_from(&broken)
        .start();
    panel.admin_with_password("chief", "correct horse battery");
    assert_eq!(
        panel.plugin_health("broken-ui").unwrap()["state"],
        "enabled"
    );
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/slots");
    run_in_chromium(
        "slots.mjs",
        &[
            &panel.url,
            "chief",
            "correct horse battery",
            shots.to_str().unwrap(),
        ],
    );
}

/// First start: the setup link from the log creates the first administrator in the
/// web panel, who can then sign in with that password.
#[test]
fn the_first_administrator_is_created_from_the_setup_link_in_chromium() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let log = panel.log();
    let start = log
        .find("/setup?token=")
        .expect("the log holds the setup link");
    let token: String = log[start + "/setup?token=".len()..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/setup");
    run_in_chromium(
        "setup.mjs",
        &[
            &format!("{}/setup?token={token}", panel.url),
            shots.to_str().unwrap(),
        ],
    );
    let signed_in = panel.post_json(
        "/api/auth/core-auth/password",
        None,
        serde_json::json!({ "user": "root", "password": "correct horse battery" }),
    );
    assert_eq!(signed_in.status, 200, "{signed_in:?}");
    assert_eq!(
        panel.get("/api/settings").body["data"]["setup_required"],
        false
    );
}

/// The Files tab (core-files' page) in Chromium against real wings: a folder of 5,000
/// entries, picking and packing, a dropped upload and a folder upload, a rename and a
/// download, an edit saved with Ctrl+S and then restored from its history, a draft
/// offered back, an archive browsed and partly extracted, a content search; and a
/// subuser who may only read is offered nothing else. What the page did is on the node
/// and in the history.
#[test]
fn files_are_managed_edited_and_restored_in_chromium() {
    let panel = panel(Dialect::Sqlite)
        .plugin("core-auth")
        .plugin("core-files")
        .start();
    let admin = panel.admin_key();
    let chief = panel.admin_with_password("chief", "correct horse battery");
    panel.user_with_password("owner", "owner password");
    panel.user_with_password("reader", "reader password");
    let (node, uuid) = installed_server(&panel, &admin, "files");
    let short_id = &uuid[..8];
    // A subuser who may look at files and read them, and nothing more.
    let added = panel.json(
        "POST",
        &format!("/api/client/servers/{short_id}/users"),
        &chief,
        Some(serde_json::json!({
            "email": "reader@example.com",
            "permissions": ["file.read", "file.read-content"],
        })),
    );
    assert_eq!(added.status, 201, "{added:?}");
    let volume = node.volumes.join(&uuid);
    std::fs::create_dir_all(volume.join("many")).unwrap();
    for index in 0..5_000 {
        std::fs::write(volume.join(format!("many/file-{index:05}.txt")), b"x").unwrap();
    }
    std::fs::write(volume.join("a.txt"), b"first\n").unwrap();
    std::fs::write(volume.join("b.txt"), b"second\n").unwrap();
    let mut bundle = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in [
        ("readme.txt", "Read me first\n"),
        ("docs/guide.txt", "The guide\n"),
        ("docs/more/deep.txt", "Deep down\n"),
    ] {
        bundle
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut bundle, text.as_bytes()).unwrap();
    }
    std::fs::write(
        volume.join("bundle.zip"),
        bundle.finish().unwrap().into_inner(),
    )
    .unwrap();
    let files = Files::new(&panel, short_id);
    let original = b"# Server settings\nmotd=hello\nmax-players=10\n";
    assert_eq!(
        files
            .write("/config/server.properties", &chief, original)
            .status,
        204
    );
    let work = tempfile::tempdir().unwrap();
    let pack = work.path().join("pack");
    std::fs::create_dir_all(pack.join("config")).unwrap();
    std::fs::write(pack.join("readme.txt"), "a folder picked whole\n").unwrap();
    std::fs::write(pack.join("config/settings.yml"), "enabled: true\n").unwrap();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/files");

    run_in_chromium(
        "files.mjs",
        &[
            &panel.url,
            "chief",
            "correct horse battery",
            short_id,
            "reader",
            "reader password",
            pack.to_str().unwrap(),
            shots.to_str().unwrap(),
        ],
    );

    // The restore gave back the first bytes exactly; the draft was never saved.
    assert_eq!(
        std::fs::read(volume.join("config/server.properties")).unwrap(),
        original
    );
    let revisions = files.history("/config/server.properties", &chief);
    let vias: Vec<&str> = revisions
        .iter()
        .map(|revision| revision["via"].as_str().unwrap())
        .collect();
    assert_eq!(vias, ["restore", "web", "api"], "{revisions:?}");
    assert_eq!(revisions[1]["username"], "chief");
    assert_eq!(
        std::fs::read_to_string(volume.join("renamed.txt")).unwrap(),
        "uploaded by dropping\n"
    );
    assert!(!volume.join("dropped.txt").exists());
    assert_eq!(
        std::fs::read_to_string(volume.join("pack/config/settings.yml")).unwrap(),
        "enabled: true\n"
    );
    assert_eq!(
        std::fs::read_to_string(volume.join("extracted/docs/more/deep.txt")).unwrap(),
        "Deep down\n"
    );
    assert!(!volume.join("extracted/readme.txt").exists());
    let packed: Vec<_> = std::fs::read_dir(&volume)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("archive-") && name.ends_with(".tar.gz"))
        .collect();
    assert_eq!(packed.len(), 1, "{packed:?}");
}
