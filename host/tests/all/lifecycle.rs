//! Installing, enabling, disabling and removing plugins on a running panel, and
//! refusing bad packages without changing anything.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::time::Duration;

use hatchery_host::plugins::package;
use serde_json::json;

use crate::support::{Dialect, Panel, artifacts, dev_public_key, eventually, package_bytes, panel};

fn trusting_panel(dialect: Dialect) -> Panel {
    panel(dialect)
        .env("HATCHERY_TRUSTED_KEYS", &dev_public_key())
        .start()
}

fn install(panel: &Panel, bytes: Vec<u8>, query: &str) -> crate::support::Answer {
    let key = panel.admin_key();
    panel.request(
        "POST",
        &format!("/api/admin/plugins{query}"),
        Some(&key),
        Some(bytes),
    )
}

/// The files of an assembled plugin, to build variants of its package.
fn plugin_files(id: &str) -> BTreeMap<String, Vec<u8>> {
    package::read_dir_files(&artifacts().plugins.join(id)).unwrap()
}

fn with_manifest(id: &str, edit: impl Fn(String) -> String) -> BTreeMap<String, Vec<u8>> {
    let mut files = plugin_files(id);
    let manifest = String::from_utf8(files["plugin.toml"].clone()).unwrap();
    files.insert("plugin.toml".into(), edit(manifest).into_bytes());
    files
}

fn dev_key() -> ed25519_dalek::SigningKey {
    package::parse_signing_key(&std::fs::read_to_string(&artifacts().signing_key).unwrap()).unwrap()
}

/// Rewrites a zip, replacing one entry's bytes but keeping SIGNATURE as it was.
fn tamper(bytes: &[u8], path: &str, content: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        writer
            .start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        writer
            .write_all(if name == path { content } else { &data })
            .unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn raw_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        writer
            .start_file(
                *name,
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated),
            )
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Zips files as they are, unsigned and unchecked (`package::pack` refuses bad ones).
fn zip_files(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    raw_zip(&entries)
}

fn installed_ids(panel: &Panel) -> Vec<String> {
    panel.health()["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_signed_wasm_package_goes_live_on_a_running_panel_and_can_be_toggled_and_removed() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let panel = trusting_panel(dialect);
        let admin = panel.admin_key();
        assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 404);

        let installed = install(&panel, package_bytes("hello-wasm"), "");
        assert_eq!(installed.status, 201, "{installed:?}");
        assert_eq!(installed.body["state"], "enabled");
        assert_eq!(installed.body["source"], "package");
        assert_eq!(installed.body["granted"]["database"], true);
        assert_eq!(installed.body["trusted_code"], false);
        // Live on the next request, without a restart.
        assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 200);
        let greeted = panel.post_json(
            "/api/plugins/hello-wasm/greetings",
            Some(&admin),
            json!({ "name": "Ada" }),
        );
        assert_eq!(greeted.status, 201);

        let disabled = panel.request(
            "POST",
            "/api/admin/plugins/hello-wasm/disable",
            Some(&admin),
            None,
        );
        assert_eq!(disabled.body["state"], "disabled", "{disabled:?}");
        let gone = panel.get("/api/plugins/hello-wasm/hello");
        assert_eq!(gone.status, 404);
        assert!(
            gone.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("disabled")
        );
        assert_eq!(
            panel.plugin_health("hello-wasm").unwrap()["state"],
            "disabled"
        );

        let enabled = panel.request(
            "POST",
            "/api/admin/plugins/hello-wasm/enable",
            Some(&admin),
            None,
        );
        assert_eq!(enabled.body["state"], "enabled", "{enabled:?}");
        // Disabling kept the data.
        assert_eq!(
            panel.get("/api/plugins/hello-wasm/hello").body["greetings"],
            1
        );

        let removed = panel.request(
            "DELETE",
            "/api/admin/plugins/hello-wasm?purge=true",
            Some(&admin),
            None,
        );
        assert_eq!(removed.status, 204, "{removed:?}");
        assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 404);
        assert!(!installed_ids(&panel).contains(&"hello-wasm".to_string()));
        // Each step is the admin's in the activity log, with the plugin as subject.
        let logged = panel.get_as("/api/admin/activity?event=admin.plugin", &admin);
        let mut events: Vec<&str> = logged.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["event"].as_str().unwrap())
            .collect();
        events.sort();
        assert_eq!(
            events,
            [
                "admin.plugin.disable",
                "admin.plugin.enable",
                "admin.plugin.install",
                "admin.plugin.uninstall"
            ],
            "{logged:?}"
        );
        assert!(!panel.plugins_dir.join("hello-wasm").exists());

        // Purged: a reinstall starts from empty tables.
        install(&panel, package_bytes("hello-wasm"), "");
        assert_eq!(
            panel.get("/api/plugins/hello-wasm/hello").body["greetings"],
            0
        );
    }
}

#[test]
fn a_native_package_installs_at_runtime_too() {
    let panel = trusting_panel(Dialect::Sqlite);
    let installed = install(&panel, package_bytes("hello-native"), "");
    assert_eq!(installed.status, 201, "{installed:?}");
    assert_eq!(installed.body["trusted_code"], true);
    assert_eq!(
        panel.get("/api/plugins/hello-native/hello").body["runtime"],
        "native"
    );
}

#[test]
fn upgrades_hot_swap_code_and_keep_data() {
    let panel = trusting_panel(Dialect::Sqlite);
    let admin = panel.admin_key();
    install(&panel, package_bytes("hello-wasm"), "");
    panel.post_json(
        "/api/plugins/hello-wasm/greetings",
        Some(&admin),
        json!({ "name": "Ada" }),
    );
    let files = with_manifest("hello-wasm", |m| {
        m.replace("version = \"0.1.0\"", "version = \"0.2.0\"")
    });
    let upgraded = install(
        &panel,
        hatchery_host::plugins::catalogue::pack(&files, Some(&dev_key())).unwrap(),
        "",
    );
    assert_eq!(upgraded.status, 201, "{upgraded:?}");
    assert_eq!(upgraded.body["version"], "0.2.0");
    assert_eq!(
        panel.plugin_health("hello-wasm").unwrap()["version"],
        "0.2.0"
    );
    assert_eq!(
        panel.get("/api/plugins/hello-wasm/hello").body["greetings"],
        1
    );
}

#[test]
fn unsigned_and_untrusted_packages_need_an_explicit_yes() {
    let panel = trusting_panel(Dialect::Sqlite);
    let unsigned =
        hatchery_host::plugins::catalogue::pack(&plugin_files("hello-wasm"), None).unwrap();
    let refused = install(&panel, unsigned.clone(), "");
    assert_eq!(refused.status, 422, "{refused:?}");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not signed"),
        "{refused:?}"
    );
    assert!(installed_ids(&panel).is_empty());

    let stranger = package::parse_signing_key(&package::generate_signing_key()).unwrap();
    let untrusted =
        hatchery_host::plugins::catalogue::pack(&plugin_files("hello-wasm"), Some(&stranger))
            .unwrap();
    let refused = install(&panel, untrusted, "");
    assert_eq!(refused.status, 422);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a trusted key"),
        "{refused:?}"
    );
    assert!(installed_ids(&panel).is_empty());

    let allowed = install(&panel, unsigned, "?allow_unsigned=true");
    assert_eq!(allowed.status, 201, "{allowed:?}");
    assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 200);
}

#[test]
fn bad_packages_are_refused_with_a_reason_and_change_nothing() {
    let panel = panel(Dialect::Sqlite)
        .env("HATCHERY_TRUSTED_KEYS", &dev_public_key())
        .env("HATCHERY_MAX_PACKAGE_MB", "8")
        .start();
    // A working installed version that a bad upgrade must not disturb.
    assert_eq!(install(&panel, package_bytes("hello-wasm"), "").status, 201);
    let key = dev_key();
    let sign = |files: BTreeMap<String, Vec<u8>>| {
        hatchery_host::plugins::catalogue::pack(&files, Some(&key))
    };

    let mut missing_entry = plugin_files("hello-wasm");
    missing_entry.remove("plugin.wasm");
    let mut not_wasm = plugin_files("hello-wasm");
    not_wasm.insert("plugin.wasm".into(), b"\0asm but not really".to_vec());
    let mut hostile_migration = plugin_files("hello-wasm");
    hostile_migration.insert(
        "migrations/sqlite/0002_steal.sql".into(),
        b"DELETE FROM users".to_vec(),
    );
    let bomb = {
        let manifest = plugin_files("hello-wasm")["plugin.toml"].clone();
        raw_zip(&[
            ("plugin.toml", &manifest),
            ("plugin.wasm", &vec![0u8; 40 * 1024 * 1024]),
        ])
    };

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a zip", b"hello".to_vec(), "not a zip archive"),
        (
            "no manifest",
            raw_zip(&[("readme.txt", b"hi")]),
            "plugin.toml is missing",
        ),
        (
            "zip slip",
            raw_zip(&[("../escape.txt", b"x")]),
            "unsafe entry name",
        ),
        (
            "absolute path",
            raw_zip(&[("/etc/cron.d/x", b"x")]),
            "unsafe entry name",
        ),
        ("zip bomb", bomb, "expands beyond"),
        (
            "bad manifest",
            zip_files(&with_manifest("hello-wasm", |m| {
                m.replace("runtime = \"wasm\"", "runtime = \"python\"")
            })),
            "invalid plugin manifest",
        ),
        (
            "incompatible host",
            sign(with_manifest("hello-wasm", |m| {
                m.replace(">=0.1, <1", ">=7")
            }))
            .unwrap(),
            "needs a Hatchery host matching `>=7`",
        ),
        (
            "missing entry",
            zip_files(&missing_entry),
            "the entry `plugin.wasm` named in plugin.toml is missing",
        ),
        (
            "tampered file",
            tamper(
                &package_bytes("hello-wasm"),
                "ui/hello-card.js",
                b"alert(1)",
            ),
            "does not match its sha256",
        ),
        (
            "not a component",
            sign(not_wasm).unwrap(),
            "not a valid Wasm component",
        ),
        (
            "SQL outside its tables",
            sign(hostile_migration).unwrap(),
            "does not belong to this plugin",
        ),
    ];
    for (what, bytes, expected) in cases {
        let answer = install(&panel, bytes, "?allow_unsigned=true");
        assert_eq!(answer.status, 422, "{what}: {answer:?}");
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(expected),
            "{what}: `{message}` lacks `{expected}`"
        );
        // Nothing changed: the installed plugin still works, no staging leftovers.
        assert_eq!(
            panel.plugin_health("hello-wasm").unwrap()["version"],
            "0.1.0",
            "{what}"
        );
        assert_eq!(
            panel.get("/api/plugins/hello-wasm/hello").status,
            200,
            "{what}"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&panel.plugins_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(leftovers, vec!["hello-wasm".to_string()], "{what}");
    }
    assert!(!panel.data_dir().join("escape.txt").exists());

    // The panel answers 413 as soon as it sees the size; the client may still be
    // sending and see the connection close instead. Either way the panel said 413.
    let key = panel.admin_key();
    match panel.try_request(
        "POST",
        "/api/admin/plugins",
        Some(&key),
        Some(vec![0u8; 9 << 20]),
    ) {
        Ok(answer) => assert_eq!(answer.status, 413, "{answer:?}"),
        // The panel's log line may land a moment after the connection closed.
        Err(err) => {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !panel.log().contains("status=413") {
                assert!(
                    std::time::Instant::now() < deadline,
                    "upload failed with {err} but the panel did not refuse it:\n{}",
                    panel.log()
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    assert_eq!(panel.get("/api/health").status, 200);
}

#[test]
fn grants_are_checked_and_narrowed_grants_are_enforced() {
    let panel = trusting_panel(Dialect::Sqlite);
    let admin = panel.admin_key();
    // Without the database grant the plugin cannot run its migrations: it fails, visibly.
    let narrow = install(&panel, package_bytes("hello-wasm"), "?grant=emit");
    assert_eq!(narrow.status, 201, "{narrow:?}");
    assert_eq!(narrow.body["state"], "failed");
    assert!(
        narrow.body["error"]
            .as_str()
            .unwrap()
            .contains("database capability was not granted"),
        "{narrow:?}"
    );
    assert_eq!(
        panel.plugin_health("hello-wasm").unwrap()["state"],
        "failed"
    );

    let too_much = panel.request(
        "POST",
        "/api/admin/plugins/hello-wasm/enable",
        Some(&admin),
        Some(
            serde_json::to_vec(&json!({ "grants": { "database": true, "storage": true } }))
                .unwrap(),
        ),
    );
    assert_eq!(too_much.status, 400, "{too_much:?}");
    assert!(
        too_much.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("storage")
    );

    let fixed = panel.request(
        "POST",
        "/api/admin/plugins/hello-wasm/enable",
        Some(&admin),
        Some(serde_json::to_vec(&json!({ "grants": { "database": true, "emit": true } })).unwrap()),
    );
    assert_eq!(fixed.body["state"], "enabled", "{fixed:?}");
    assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 200);
}

#[test]
fn only_admins_manage_plugins() {
    let panel = trusting_panel(Dialect::Sqlite);
    let user = panel.user_key("eve");
    assert_eq!(panel.get("/api/admin/plugins").status, 401);
    assert_eq!(panel.get_as("/api/admin/plugins", &user).status, 403);
    let answer = panel.request(
        "POST",
        "/api/admin/plugins",
        Some(&user),
        Some(package_bytes("hello-wasm")),
    );
    assert_eq!(answer.status, 403);
    assert!(installed_ids(&panel).is_empty());
    let list = panel.get_as("/api/admin/plugins", &panel.admin_key());
    assert_eq!(list.body["plugins"], json!([]));
}

#[test]
fn cli_lifecycle_changes_reach_a_running_panel() {
    let panel = trusting_panel(Dialect::Sqlite);
    let package = artifacts().packages.join("hello-wasm.hpkg");
    let output = panel.cli_ok(&["plugin", "install", "--yes", package.to_str().unwrap()]);
    assert!(
        output.contains("hello-wasm 0.1.0 installed; it is now enabled"),
        "{output}"
    );
    eventually(
        Duration::from_secs(10),
        "the panel to load hello-wasm",
        || (panel.get("/api/plugins/hello-wasm/hello").status == 200).then_some(()),
    );
    let list = panel.cli_ok(&["plugin", "list"]);
    assert!(
        list.contains("hello-wasm") && list.contains("enabled"),
        "{list}"
    );
    // Events the CLI raises reach the running panel's subscribers (hello-wasm hears
    // `plugin.*`), not copies of the plugins inside the CLI process.
    let native = artifacts().packages.join("hello-native.hpkg");
    let cli_run = panel.cli(&["plugin", "install", "--yes", native.to_str().unwrap()]);
    assert!(cli_run.status.success());
    assert!(
        !String::from_utf8_lossy(&cli_run.stderr).contains("closed pool"),
        "{cli_run:?}"
    );
    eventually(
        Duration::from_secs(10),
        "plugin.installed to reach the panel's hello-wasm",
        || {
            let seen = panel.get("/api/plugins/hello-wasm/hello").body["events_seen"].clone();
            seen.as_array()?
                .iter()
                .any(|e| e == "plugin.installed")
                .then_some(())
        },
    );

    panel.cli_ok(&["plugin", "disable", "hello-wasm"]);
    eventually(
        Duration::from_secs(10),
        "the panel to disable hello-wasm",
        || (panel.get("/api/plugins/hello-wasm/hello").status == 404).then_some(()),
    );
    panel.cli_ok(&["plugin", "enable", "hello-wasm"]);
    eventually(
        Duration::from_secs(10),
        "the panel to enable hello-wasm",
        || (panel.get("/api/plugins/hello-wasm/hello").status == 200).then_some(()),
    );
    panel.cli_ok(&["plugin", "uninstall", "hello-wasm"]);
    eventually(
        Duration::from_secs(10),
        "the panel to drop hello-wasm",
        || (panel.plugin_health("hello-wasm").is_none()).then_some(()),
    );

    // Without --yes and without a terminal, nothing is installed.
    let refused = panel.cli(&["plugin", "install", package.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    let unknown = panel.cli(&["plugin", "enable", "nope"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no plugin `nope` is installed"));
}

#[test]
fn a_plugin_that_fails_to_load_is_listed_and_the_panel_still_starts() {
    let panel = panel(Dialect::Sqlite).plugin("hello-native").start();
    // Corrupt an operator-placed plugin, then restart.
    let mut panel = panel;
    std::fs::write(
        panel.plugins_dir.join("hello-native/plugin.so"),
        b"not a library",
    )
    .unwrap();
    panel.restart();
    let status = panel.plugin_health("hello-native").unwrap();
    assert_eq!(status["state"], "failed", "{status}");
    let error = status["error"].as_str().unwrap();
    assert!(error.contains("cannot load"), "{error}");
    assert_eq!(panel.get("/api/plugins/hello-native/hello").status, 500);
}

#[test]
fn files_changed_behind_the_panels_back_are_detected() {
    let mut panel = trusting_panel(Dialect::Sqlite);
    install(&panel, package_bytes("hello-wasm"), "");
    std::fs::write(
        panel.plugins_dir.join("hello-wasm/ui/hello-card.js"),
        b"// swapped",
    )
    .unwrap();
    panel.restart();
    let status = panel.plugin_health("hello-wasm").unwrap();
    assert_eq!(status["state"], "failed");
    assert!(
        status["error"]
            .as_str()
            .unwrap()
            .contains("changed since it was installed"),
        "{status}"
    );
}

/// Uninstalling with `--purge` from the CLI while a panel runs, then installing again:
/// the panel drops the purged database and uses the new one (on PostgreSQL a new
/// role and schema), starting from empty.
#[test]
fn a_purge_by_the_cli_reaches_a_running_panel() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let panel = trusting_panel(dialect);
        let admin = panel.admin_key();
        let package = artifacts().packages.join("hello-wasm.hpkg");
        let package = package.to_str().unwrap();
        let greet = || {
            panel.post_json(
                "/api/plugins/hello-wasm/greetings",
                Some(&admin),
                json!({ "name": "Ada" }),
            )
        };
        let greetings = || panel.get("/api/plugins/hello-wasm/hello").body["greetings"].clone();
        panel.cli_ok(&["plugin", "install", "--yes", package]);
        eventually(Duration::from_secs(10), "hello-wasm to load", || {
            (greet().status == 201).then_some(())
        });
        assert_eq!(greetings(), 1);
        panel.cli_ok(&["plugin", "uninstall", "--purge", "hello-wasm"]);
        eventually(
            Duration::from_secs(10),
            "the panel to drop hello-wasm",
            || panel.plugin_health("hello-wasm").is_none().then_some(()),
        );
        panel.cli_ok(&["plugin", "install", "--yes", package]);
        eventually(Duration::from_secs(10), "hello-wasm to load again", || {
            (panel.get("/api/plugins/hello-wasm/hello").status == 200).then_some(())
        });
        assert_eq!(greetings(), 0, "{dialect:?}: the purge kept data");
        assert_eq!(greet().status, 201, "{dialect:?}");
        assert_eq!(greetings(), 1);
    }
}
