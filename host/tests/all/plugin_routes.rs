//! Routes, migrations, events and UI slots of the example plugins, in both runtimes.

use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{DIALECTS, Dialect, eventually, panel};

#[test]
fn health_reports_database_and_every_plugin() {
    for dialect in DIALECTS {
        let panel = panel(dialect)
            .plugin("hello-wasm")
            .plugin("hello-native")
            .start();
        let health = panel.health();
        assert_eq!(health["status"], "ok");
        assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            health["database"],
            if dialect == Dialect::Sqlite {
                "sqlite"
            } else {
                "postgres"
            }
        );
        let plugins = health["plugins"].as_array().unwrap();
        for (id, runtime) in [("hello-wasm", "wasm"), ("hello-native", "native")] {
            let plugin = plugins
                .iter()
                .find(|p| p["id"] == id)
                .unwrap_or_else(|| panic!("{id} in {health}"));
            assert_eq!(plugin["state"], "enabled", "{plugin}");
            assert_eq!(plugin["runtime"], runtime);
            assert_eq!(plugin["version"], "0.1.0");
            assert!(plugin.get("error").is_none());
        }
    }
}

/// The example plugin as built against contract 1.0, kept as a binary: every 1.x host
/// loads it, serves its routes, runs its commands and its database calls.
#[test]
fn a_plugin_built_against_contract_1_0_still_loads() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/contract-1.0/hello-wasm");
    for dialect in DIALECTS {
        let panel = panel(dialect).plugin_from(&fixture).start();
        let health = panel.plugin_health("hello-wasm").unwrap();
        assert_eq!(health["state"], "enabled", "{health}");
        assert_eq!(panel.get("/api/plugins/hello-wasm/hello").status, 200);
        let admin = panel.admin_key();
        let greeted = panel.post_json(
            "/api/plugins/hello-wasm/greetings",
            Some(&admin),
            json!({ "name": "Ada" }),
        );
        assert_eq!(greeted.status, 201, "{greeted:?}");
        let listed = panel.get("/api/plugins/hello-wasm/greetings");
        assert!(listed.raw_text().contains("Ada"), "{listed:?}");
        assert!(panel.cli_ok(&["hello-wasm", "list"]).contains("Ada"));
    }
}

/// `[[timers]]` (contract 1.1): hello-wasm's `heartbeat` fires every 10 seconds.
#[test]
fn a_timer_fires_on_its_schedule() {
    let panel = panel(Dialect::Sqlite).plugin("hello-wasm").start();
    assert_eq!(panel.get("/api/plugins/hello-wasm/hello").body["ticks"], 0);
    eventually(Duration::from_secs(40), "the heartbeat timer", || {
        let ticks = panel.get("/api/plugins/hello-wasm/hello").body["ticks"].as_i64()?;
        (ticks >= 1).then_some(())
    });
}

#[test]
fn hello_routes_answer_in_both_runtimes() {
    let panel = panel(Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin("hello-native")
        .start();
    for (id, runtime) in [("hello-wasm", "wasm"), ("hello-native", "native")] {
        let answer = panel.get(&format!("/api/plugins/{id}/hello"));
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(answer.body.get("hello").is_some(), "{answer:?}");
        assert_eq!(answer.body["plugin"], id);
        assert_eq!(answer.body["runtime"], runtime);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(
            answer.header("content-security-policy"),
            Some("sandbox; default-src 'none'")
        );
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }
    // Undeclared routes and methods never reach the plugin.
    assert_eq!(panel.get("/api/plugins/hello-wasm/nope").status, 404);
    assert_eq!(
        panel
            .request("DELETE", "/api/plugins/hello-wasm/hello", None, None)
            .status,
        405
    );
    let missing = panel.get("/api/plugins/no-such-plugin/hello");
    assert_eq!(missing.status, 404);
    assert!(
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no plugin `no-such-plugin`")
    );
}

#[test]
fn the_host_checks_authentication_and_permissions_before_the_plugin_runs() {
    let panel = panel(Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin("hello-native")
        .start();
    let admin = panel.admin_key();
    let user = panel.user_key("mallory");
    let body = json!({ "name": "Ada" });

    let anonymous = panel.post_json("/api/plugins/hello-wasm/greetings", None, body.clone());
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert_eq!(anonymous.body["error"]["code"], "unauthenticated");

    let bad_key = panel.post_json(
        "/api/plugins/hello-wasm/greetings",
        Some("hk_wrong"),
        body.clone(),
    );
    assert_eq!(bad_key.status, 401);

    let forbidden = panel.post_json(
        "/api/plugins/hello-wasm/greetings",
        Some(&user),
        body.clone(),
    );
    assert_eq!(forbidden.status, 403, "{forbidden:?}");
    assert!(
        forbidden.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hello-wasm.greet")
    );

    // Nothing was stored by the refused calls.
    assert_eq!(
        panel.get("/api/plugins/hello-wasm/hello").body["greetings"],
        0
    );

    let created = panel.post_json("/api/plugins/hello-wasm/greetings", Some(&admin), body);
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.body["greeting"], "Hello, Ada!");
    let list = panel.get("/api/plugins/hello-wasm/greetings");
    assert_eq!(
        list.body["greetings"],
        json!([{ "name": "Ada", "greeted_by": "root" }])
    );

    // A route that needs any signed-in user accepts the non-admin.
    let note = panel.post_json(
        "/api/plugins/hello-native/notes",
        Some(&admin),
        json!({ "body": "remember" }),
    );
    assert_eq!(note.status, 201, "{note:?}");
    let id = note.body["id"].as_i64().unwrap();
    let read = panel.get_as(&format!("/api/plugins/hello-native/notes/{id}"), &user);
    assert_eq!(read.status, 200, "{read:?}");
    assert_eq!(read.body["body"], "remember");
    assert_eq!(read.body["author"], "root");
    assert_eq!(
        panel
            .get(&format!("/api/plugins/hello-native/notes/{id}"))
            .status,
        401
    );
    assert_eq!(
        panel
            .get_as("/api/plugins/hello-native/notes/999", &user)
            .status,
        404
    );
}

#[test]
fn plugin_errors_are_json_with_the_plugins_status() {
    let panel = panel(Dialect::Sqlite).plugin("hello-wasm").start();
    let admin = panel.admin_key();
    let answer = panel.request(
        "POST",
        "/api/plugins/hello-wasm/greetings",
        Some(&admin),
        Some(b"not json".to_vec()),
    );
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
}

#[test]
fn events_cross_runtimes_in_order_and_reach_every_subscriber() {
    for dialect in DIALECTS {
        let panel = panel(dialect)
            .plugin("hello-wasm")
            .plugin("hello-native")
            .start();
        let admin = panel.admin_key();
        for name in ["Ada", "Grace", "Edsger"] {
            let answer = panel.post_json(
                "/api/plugins/hello-wasm/greetings",
                Some(&admin),
                json!({ "name": name }),
            );
            assert_eq!(answer.status, 201, "{answer:?}");
        }
        // hello-native subscribes to hello-wasm.greeted: delivered asynchronously, in order.
        let heard = eventually(
            Duration::from_secs(10),
            "hello-native to hear three greetings",
            || {
                let heard =
                    panel.get("/api/plugins/hello-native/hello").body["greetings_heard"].clone();
                (heard.as_array().map_or(0, Vec::len) == 3).then_some(heard)
            },
        );
        assert_eq!(heard, json!(["Ada", "Grace", "Edsger"]));
        // The publisher does not receive its own event.
        let seen = panel.get("/api/plugins/hello-wasm/hello").body["events_seen"].clone();
        assert!(
            !seen
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e == "hello-wasm.greeted"),
            "{seen}"
        );
    }
}

#[test]
fn migrations_are_tracked_per_plugin_and_run_once() {
    let mut panel = panel(Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin("hello-native")
        .start();
    let admin = panel.admin_key();
    panel.post_json(
        "/api/plugins/hello-wasm/greetings",
        Some(&admin),
        json!({ "name": "Ada" }),
    );
    panel.restart();
    // Data survives and the migration did not run again.
    assert_eq!(
        panel.get("/api/plugins/hello-wasm/hello").body["greetings"],
        1
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let history = |url: String| -> Vec<(String, i64)> {
        runtime.block_on(async {
            let db = hatchery_host::db::Database::connect(&url).await.unwrap();
            let hatchery_host::db::Database::Sqlite(pool) = db else {
                unreachable!("a SQLite panel")
            };
            sqlx::query_as("SELECT owner, version FROM schema_migrations ORDER BY owner, version")
                .fetch_all(&pool)
                .await
                .unwrap()
        })
    };
    // Every core migration once, in the panel's database...
    let core_count =
        hatchery_host::db::migrate::core_migrations(hatchery_host::db::Dialect::Sqlite).len();
    let expected: Vec<(String, i64)> = (1..=core_count as i64)
        .map(|v| ("core".into(), v))
        .collect();
    assert_eq!(history(panel.database_url().to_string()), expected);
    // ...and each plugin's own, once, in the plugin's own database.
    for (id, migrations) in [("hello-native", 1), ("hello-wasm", 2)] {
        let file = panel
            .data_dir()
            .join("plugin-databases")
            .join(format!("{id}.sqlite"));
        let expected: Vec<(String, i64)> = (1..=migrations)
            .map(|version| (id.to_string(), version))
            .collect();
        assert_eq!(history(format!("sqlite://{}", file.display())), expected);
    }
}

#[test]
fn ui_slots_list_contributions_and_serve_their_modules() {
    let panel = panel(Dialect::Sqlite)
        .plugin("hello-wasm")
        .plugin("hello-native")
        .start();
    let answer = panel.get("/api/ui/contributions");
    assert_eq!(answer.status, 200);
    let contributions = answer.body["contributions"].as_array().unwrap().clone();
    assert_eq!(contributions.len(), 2, "{contributions:?}");
    let card = contributions
        .iter()
        .find(|c| c["plugin"] == "hello-wasm")
        .unwrap();
    assert_eq!(card["slot"], "dashboard.widgets/v1");
    assert_eq!(card["export"], "HelloCard");
    assert_eq!(card["title"], "Greetings");
    let native = contributions
        .iter()
        .find(|c| c["plugin"] == "hello-native")
        .unwrap();
    assert_eq!(native["slot"], "admin.overview.cards/v1");

    for contribution in &contributions {
        let module = panel.get(contribution["module"].as_str().unwrap());
        assert_eq!(module.status, 200);
        assert_eq!(
            module.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(module.header("x-content-type-options"), Some("nosniff"));
        let expected = {
            use base64::Engine;
            format!(
                "sha256-{}",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&module.raw))
            )
        };
        assert_eq!(contribution["integrity"], expected.as_str());
        assert!(String::from_utf8_lossy(&module.raw).contains("export"));
    }
    assert_eq!(
        panel.get("/plugin-assets/hello-wasm/ui/missing.js").status,
        404
    );
    assert_eq!(
        panel.get("/plugin-assets/hello-wasm/plugin.wasm").status,
        404,
        "only UI modules are served"
    );
}

/// Contract 1.1 settings: administrators' values are checked against the plugin's JSON
/// Schema before anything is stored; `writeOnly` values are sealed and never shown
/// again; the plugin reads them with the schema's defaults filled in.
#[test]
fn settings_follow_the_plugins_schema_and_reach_the_plugin() {
    for dialect in DIALECTS {
        let panel = panel(dialect).plugin("hello-wasm").start();
        let admin = panel.admin_key();
        let ada = panel.user_key("ada");
        let settings = "/api/admin/plugins/hello-wasm/settings";
        assert_eq!(panel.get_as(settings, &ada).status, 403);
        let shown = panel.get_as(settings, &admin);
        assert_eq!(shown.status, 200, "{dialect:?}: {shown:?}");
        assert_eq!(shown.body["schema"]["title"], "Hello (Wasm)");
        assert_eq!(
            shown.body["values"],
            json!({ "greeting": "Hello", "max_greetings": 1000 })
        );

        let refused = panel.json(
            "PUT",
            settings,
            &admin,
            Some(json!({ "greeting": "", "max_greetings": 0, "colour": "red" })),
        );
        assert_eq!(refused.status, 400, "{refused:?}");
        let message = refused.body["error"]["message"].as_str().unwrap();
        for named in ["/greeting", "/max_greetings", "colour"] {
            assert!(message.contains(named), "{named} in {message}");
        }
        assert_eq!(
            panel.get_as(settings, &admin).body["values"]["greeting"],
            "Hello"
        );

        let saved = panel.json(
            "PUT",
            settings,
            &admin,
            Some(json!({ "greeting": "Ahoy", "webhook_token": "t0ken-value" })),
        );
        assert_eq!(saved.status, 200, "{saved:?}");
        assert_eq!(saved.body["sealed_set"], json!(["webhook_token"]));
        assert!(!saved.raw_text().contains("t0ken-value"), "{saved:?}");
        let sealed: String = crate::crashes::scalar(
            panel.database_url(),
            "SELECT sealed FROM plugin_settings WHERE plugin_id = 'hello-wasm'",
        );
        assert!(!sealed.contains("t0ken") && sealed.len() > 20, "{sealed}");
        let hello = panel.get("/api/plugins/hello-wasm/hello");
        assert_eq!(hello.body["greeting"], "Ahoy", "{hello:?}");
        assert_eq!(hello.body["has_webhook_token"], true);
        let greeted = panel.post_json(
            "/api/plugins/hello-wasm/greetings",
            Some(&admin),
            json!({ "name": "Ada" }),
        );
        assert_eq!(greeted.body["greeting"], "Ahoy, Ada!", "{greeted:?}");

        // Saved again without the sealed value (forms never see it): it stays.
        let again = panel.json("PUT", settings, &admin, Some(json!({ "greeting": "Hi" })));
        assert_eq!(again.status, 200, "{again:?}");
        assert_eq!(
            panel.get("/api/plugins/hello-wasm/hello").body["has_webhook_token"],
            true
        );

        // The CLI checks the same way.
        let invalid = panel.cli(&[
            "plugin",
            "settings",
            "hello-wasm",
            "--set",
            "max_greetings=0",
        ]);
        assert!(!invalid.status.success());
        assert!(String::from_utf8_lossy(&invalid.stderr).contains("/max_greetings"));
        panel.cli_ok(&[
            "plugin",
            "settings",
            "hello-wasm",
            "--set",
            "max_greetings=1",
        ]);
        let full = panel.post_json(
            "/api/plugins/hello-wasm/greetings",
            Some(&admin),
            json!({ "name": "Bob" }),
        );
        assert_eq!(full.status, 409, "{full:?}");
        let logged = panel.get_as("/api/admin/activity?event=admin.plugin.settings", &admin);
        assert_eq!(
            logged.body["data"].as_array().unwrap().len(),
            3,
            "{logged:?}"
        );
        assert!(!logged.raw_text().contains("t0ken-value"));
    }
}
