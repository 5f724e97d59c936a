//! A plugin that loops, hoards memory, traps, panics, reaches for files and foreign
//! tables: each call fails with a clear error and the panel keeps serving.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Dialect, Panel, eventually, panel};

fn hostile_panel() -> Panel {
    panel(Dialect::Sqlite)
        .plugin("hostile-wasm")
        .plugin("hostile-native")
        .plugin("hello-wasm")
        .plugin("hello-native")
        .env("HATCHERY_WASM_TIMEOUT_MS", "1000")
        .env("HATCHERY_WASM_MEMORY_MB", "16")
        .start()
}

fn assert_still_serving(panel: &Panel) {
    assert_eq!(panel.health()["status"], "ok");
    assert_eq!(
        panel.get("/api/plugins/hostile-wasm/ok").body,
        json!({ "ok": true })
    );
    assert_eq!(panel.get("/api/plugins/hello-native/hello").status, 200);
}

#[test]
fn loops_allocations_traps_and_panics_become_errors() {
    let panel = hostile_panel();
    let cases = [
        (
            "/api/plugins/hostile-wasm/loop",
            504,
            "plugin_timeout",
            "did not finish within its time limit of 1000 ms",
        ),
        (
            "/api/plugins/hostile-wasm/alloc",
            500,
            "plugin_failed",
            "exceeded its memory limit of 16 MiB",
        ),
        (
            "/api/plugins/hostile-wasm/trap",
            500,
            "plugin_failed",
            "plugin hostile-wasm crashed",
        ),
        (
            "/api/plugins/hostile-wasm/panic",
            500,
            "plugin_failed",
            "plugin hostile-wasm crashed",
        ),
        (
            "/api/plugins/hostile-native/panic",
            500,
            "plugin_failed",
            "plugin panicked: the hostile plugin panicked on purpose",
        ),
        (
            "/api/plugins/hostile-native/trap",
            500,
            "plugin_failed",
            "native code cannot trap",
        ),
    ];
    for (path, status, code, message) in cases {
        let started = Instant::now();
        let answer = panel.get(path);
        assert_eq!(answer.status, status, "{path}: {answer:?}");
        assert_eq!(answer.body["error"]["code"], code, "{path}");
        let text = answer.body["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{path}: `{text}` lacks `{message}`");
        eprintln!("{path} failed as expected after {:?}", started.elapsed());
        assert_still_serving(&panel);
    }
}

#[test]
fn a_looping_plugin_does_not_stall_the_rest_of_the_panel() {
    let panel = hostile_panel();
    std::thread::scope(|scope| {
        let looping: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| panel.get("/api/plugins/hostile-wasm/loop").status))
            .collect();
        // While four calls spin, health and other plugins answer.
        std::thread::sleep(Duration::from_millis(100));
        for _ in 0..5 {
            assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 200);
            assert_eq!(panel.health()["status"], "ok");
        }
        for call in looping {
            assert_eq!(call.join().unwrap(), 504);
        }
    });
}

/// Eight never-ending recursive queries at once: each is cancelled in the database
/// after the time limit, and meanwhile the panel (its own pool) keeps answering.
#[test]
fn endless_plugin_queries_leave_the_panel_answering() {
    const ENDLESS: &str = "WITH RECURSIVE hostile_wasm__r(n) AS \
        (SELECT 1 UNION ALL SELECT n + 1 FROM hostile_wasm__r) SELECT count(*) FROM hostile_wasm__r";
    for dialect in crate::support::DIALECTS {
        let panel = panel(dialect)
            .plugin("hostile-wasm")
            .plugin("hello-wasm")
            .env("HATCHERY_WASM_TIMEOUT_MS", "1500")
            .env("HATCHERY_WASM_CONCURRENCY", "16")
            .start();
        let admin = panel.admin_key();
        std::thread::scope(|scope| {
            let endless: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        panel.request(
                            "POST",
                            "/api/plugins/hostile-wasm/sql",
                            None,
                            Some(ENDLESS.as_bytes().to_vec()),
                        )
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(300));
            for _ in 0..5 {
                assert_eq!(panel.health()["status"], "ok", "{dialect:?}");
                assert_eq!(panel.get_as("/api/admin/users", &admin).status, 200);
                assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 200);
            }
            for call in endless {
                let answer = call.join().unwrap();
                // The database cancels it and the plugin says so, or (when it waited
                // for a connection first) the plugin's own time limit ends the call.
                let message = answer.body["refused"].as_str().unwrap_or_default();
                assert!(
                    message.contains("was cancelled")
                        || message.contains("busy")
                        || answer.body["error"]["code"] == "plugin_timeout",
                    "{dialect:?}: {answer:?}"
                );
            }
        });
        // Nothing is left running: the plugin's next query answers at once.
        let answer = panel.request(
            "POST",
            "/api/plugins/hostile-wasm/sql",
            None,
            Some(b"SELECT 1 AS one".to_vec()),
        );
        assert_eq!(answer.body, json!({ "rows": 1 }), "{dialect:?}");
    }
}

#[test]
fn concurrency_is_capped_per_plugin() {
    let panel = panel(Dialect::Sqlite)
        .plugin("hostile-wasm")
        .env("HATCHERY_WASM_TIMEOUT_MS", "8000")
        .env("HATCHERY_WASM_CONCURRENCY", "1")
        .start();
    std::thread::scope(|scope| {
        let spinning = scope.spawn(|| panel.get("/api/plugins/hostile-wasm/loop").status);
        // Once the loop holds the only slot, other calls wait briefly, then get 503.
        let busy = eventually(
            Duration::from_secs(7),
            "a call to be turned away as busy",
            || {
                let answer = panel.get("/api/plugins/hostile-wasm/ok");
                (answer.status == 503).then_some(answer)
            },
        );
        assert_eq!(busy.body["error"]["code"], "plugin_busy");
        assert!(
            busy.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("1 calls are already running")
        );
        assert_eq!(spinning.join().unwrap(), 504);
    });
    assert_eq!(panel.get("/api/plugins/hostile-wasm/ok").status, 200);
}

#[test]
fn the_sandbox_grants_nothing_that_was_not_granted() {
    let panel = hostile_panel();
    let escape = panel.get("/api/plugins/hostile-wasm/escape");
    assert_eq!(escape.status, 200, "{escape:?}");
    assert_ne!(escape.body["read_etc_passwd"], "read", "{escape:?}");
    assert_ne!(escape.body["list_root"], "listed", "{escape:?}");
    assert_eq!(escape.body["environment"], 0);
    let servers = &escape.body["servers_without_grant"];
    assert_eq!(servers["denied"], true, "{escape:?}");
    assert!(
        servers["message"]
            .as_str()
            .unwrap()
            .contains("servers capability was not granted")
    );
    let emitted = &escape.body["emit_without_grant"];
    assert_eq!(emitted["denied"], true, "{escape:?}");
    assert!(
        emitted["message"]
            .as_str()
            .unwrap()
            .contains("emit capability was not granted")
    );
    let files = &escape.body["files_without_grant"];
    assert_eq!(files["denied"], true, "{escape:?}");
    assert!(
        files["message"]
            .as_str()
            .unwrap()
            .contains("node_files capability was not granted")
    );
    let identity = &escape.body["identity_without_grant"];
    assert_eq!(identity["denied"], true, "{escape:?}");
    assert!(
        identity["message"]
            .as_str()
            .unwrap()
            .contains("identity capability was not granted")
    );
}

#[test]
fn plugin_sql_is_confined_to_its_own_tables() {
    let panel = hostile_panel();
    let refused = [
        ("SELECT * FROM users", "does not belong to this plugin"),
        ("SELECT * FROM api_keys", "does not belong to this plugin"),
        (
            "SELECT * FROM hello_wasm__greetings",
            "does not belong to this plugin",
        ),
        ("DELETE FROM plugins", "does not belong to this plugin"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "not allowed"),
        ("PRAGMA writable_schema = 1", "not allowed"),
        ("PRAGMA table_info(users)", "could not parse SQL"),
        ("SELECT 1; DROP TABLE users", "one statement"),
        (
            "SELECT * FROM sqlite_master",
            "does not belong to this plugin",
        ),
    ];
    for (sql, expected) in refused {
        let answer = panel.request(
            "POST",
            "/api/plugins/hostile-wasm/sql",
            None,
            Some(sql.as_bytes().to_vec()),
        );
        assert_eq!(answer.status, 403, "{sql}: {answer:?}");
        assert_eq!(answer.body["invalid"], true, "{sql}: {answer:?}");
        let message = answer.body["refused"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "{sql}: `{message}` lacks `{expected}`"
        );
    }
    // Its own namespace works.
    let answer = panel.request(
        "POST",
        "/api/plugins/hostile-wasm/sql",
        None,
        Some(b"SELECT 1 AS one".to_vec()),
    );
    assert_eq!(answer.body, json!({ "rows": 1 }));
    // And the core tables are intact.
    assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 200);
}

#[test]
fn a_failing_subscriber_does_not_affect_the_others() {
    let panel = hostile_panel();
    let admin = panel.admin_key();
    for name in ["Ada", "Grace"] {
        panel.post_json(
            "/api/plugins/hello-wasm/greetings",
            Some(&admin),
            json!({ "name": name }),
        );
    }
    // Both hostile plugins panic on hello-wasm.greeted; hello-native still hears both.
    let heard = eventually(
        Duration::from_secs(10),
        "hello-native to hear both greetings",
        || {
            let heard =
                panel.get("/api/plugins/hello-native/hello").body["greetings_heard"].clone();
            (heard.as_array().map_or(0, Vec::len) == 2).then_some(heard)
        },
    );
    assert_eq!(heard, json!(["Ada", "Grace"]));
    eventually(Duration::from_secs(10), "the failures to be logged", || {
        let log = panel.log();
        (log.contains("event handler failed")
            && log.contains("hostile-native")
            && log.contains("hostile-wasm"))
        .then_some(())
    });
    assert_still_serving(&panel);
}
