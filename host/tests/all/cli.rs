//! Plugin-contributed CLI commands and the core commands around them.

use std::time::Duration;

use serde_json::json;

use crate::support::{Dialect, eventually, panel};

#[test]
fn help_lists_the_commands_plugins_contribute() {
    let panel = panel(Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin("hello-native")
        .start();
    let help = panel.cli_ok(&["--help"]);
    assert!(help.contains("hello-wasm"), "{help}");
    assert!(help.contains("hello-native"), "{help}");
    assert!(help.contains("Greets people"), "{help}");
    let plugin_help = panel.cli_ok(&["hello-wasm", "--help"]);
    assert!(
        plugin_help.contains("greet")
            && plugin_help.contains("Greet NAME and remember the greeting"),
        "{plugin_help}"
    );
    assert!(plugin_help.contains("list"), "{plugin_help}");
}

#[test]
fn plugin_commands_run_in_both_runtimes_and_share_the_panels_data() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let panel = panel(dialect)
            .plugin("hello-wasm")
            .plugin("hello-native")
            .start();
        let output = panel.cli_ok(&["hello-wasm", "greet", "Ada"]);
        assert_eq!(output, "Hello, Ada!\n");
        // The running panel sees what the command stored.
        let list = panel.get("/api/plugins/hello-wasm/greetings");
        assert_eq!(
            list.body["greetings"],
            json!([{ "name": "Ada", "greeted_by": "cli" }])
        );
        assert_eq!(panel.cli_ok(&["hello-wasm", "list"]), "Ada\n");

        let native = panel.cli_ok(&["hello-native", "greet", "Bob"]);
        assert_eq!(native, "Hello, Bob! (from native code)\n");
        // The command's event reached hello-wasm's handler in the running panel.
        eventually(
            Duration::from_secs(10),
            "hello-native.greeted to reach the panel's hello-wasm",
            || {
                let seen = panel.get("/api/plugins/hello-wasm/hello").body["events_seen"].clone();
                seen.as_array()?
                    .iter()
                    .any(|e| e == "hello-native.greeted")
                    .then_some(())
            },
        );
    }
}

#[test]
fn plugin_command_failures_keep_their_exit_codes() {
    let panel = panel(Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin("hostile-native")
        .plugin("hostile-wasm")
        .start();
    let usage = panel.cli(&["hello-wasm", "greet"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&usage.stderr).contains("usage: hatchery hello-wasm greet NAME")
    );

    let invalid = panel.cli(&["hello-wasm", "greet", ""]);
    assert_eq!(invalid.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("a name is 1 to 64 characters"));

    for id in ["hostile-native", "hostile-wasm"] {
        let crash = panel.cli(&[id, "crash"]);
        assert_eq!(crash.status.code(), Some(1), "{crash:?}");
        let stderr = String::from_utf8_lossy(&crash.stderr);
        assert!(stderr.contains(&format!("plugin {id}")), "{stderr}");
    }
}

#[test]
fn disabled_plugins_say_how_to_enable_them() {
    let panel = panel(Dialect::Sqlite).plugin("hello-wasm").start();
    panel.cli_ok(&["plugin", "disable", "hello-wasm"]);
    let output = panel.cli(&["hello-wasm", "greet", "Ada"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("hatchery plugin enable hello-wasm"),
        "{stderr}"
    );
    // The running panel notices the change without a restart.
    eventually(
        Duration::from_secs(10),
        "the panel to disable hello-wasm",
        || (panel.get("/api/plugins/hello-wasm/hello").status == 404).then_some(()),
    );
}

#[test]
fn user_commands_validate_their_input() {
    let panel = panel(Dialect::Sqlite).start();
    let bad = panel.cli(&[
        "user",
        "create",
        "--username",
        "no spaces",
        "--email",
        "a@b.c",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("usernames are"));
    panel.cli_ok(&[
        "user",
        "create",
        "--username",
        "ada",
        "--email",
        "ada@example.com",
    ]);
    let twice = panel.cli(&[
        "user",
        "create",
        "--username",
        "ada",
        "--email",
        "other@example.com",
    ]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already exists"));
    let unknown = panel.cli(&["user", "api-key", "nobody"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user `nobody`"));
}

#[test]
fn roles_and_users_from_the_command_line() {
    let panel = panel(Dialect::Sqlite).plugin("core-auth").start();
    let refused = panel.cli(&[
        "role",
        "create",
        "--name",
        "bad",
        "--permission",
        "nodes.fly",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nodes.fly"));
    let created = panel.cli_ok(&[
        "role",
        "create",
        "--name",
        "support",
        "--permission",
        "users.read",
        "--permission",
        "servers.read",
    ]);
    assert!(created.contains("created role support"), "{created}");
    assert!(
        panel
            .cli_ok(&["role", "permissions"])
            .contains("servers.delete")
    );

    // The password comes from standard input, so it stays out of `ps` and shell history.
    let output = panel.cli_with_stdin(
        &[
            "user",
            "create",
            "--username",
            "helper",
            "--email",
            "helper@example.com",
            "--role",
            "support",
            "--password",
            "-",
        ],
        "a good long password\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed = panel.cli_ok(&["user", "list"]);
    assert!(
        listed.contains("helper") && listed.contains("helper@example.com"),
        "{listed}"
    );
    let key = panel
        .cli_ok(&["user", "api-key", "helper"])
        .trim()
        .to_string();
    assert_eq!(panel.get_as("/api/admin/users", &key).status, 200);
    assert_eq!(panel.get_as("/api/admin/nodes", &key).status, 403);

    // The sign-in plugin keeps the password: it signs the user in.
    let signed_in = panel.post_json(
        "/api/auth/core-auth/password",
        None,
        json!({ "user": "helper", "password": "a good long password" }),
    );
    assert_eq!(signed_in.status, 200, "{signed_in:?}");

    // A too-short new password is refused with the rule it breaks.
    let short = panel.cli_with_stdin(
        &["user", "set-password", "helper", "--password", "-"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("8 to 1024"));
    let changed = panel.cli_with_stdin(
        &["user", "set-password", "helper", "--password", "-"],
        "another long password\n",
    );
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    let old = panel.post_json(
        "/api/auth/core-auth/password",
        None,
        json!({ "user": "helper", "password": "a good long password" }),
    );
    assert_eq!(old.status, 401, "{old:?}");
}
