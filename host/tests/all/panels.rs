//! Several panels on one database, started at the same moment: migrations
//! (the host's and every plugin's), plugin adoption and the first-start setup link
//! happen once, and every panel serves.

use serde_json::json;

use crate::support::{Dialect, TestDatabase, panel};

#[test]
fn four_panels_start_together_on_an_empty_postgresql_database() {
    panels_start_together(Dialect::Postgres, 4);
}

/// Two panel processes on one machine, one SQLite file and one data directory (an
/// upgrade that starts the new panel before the old one is gone).
#[test]
fn two_panels_start_together_on_an_empty_sqlite_database() {
    panels_start_together(Dialect::Sqlite, 2);
}

fn panels_start_together(dialect: Dialect, count: usize) {
    let shared = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(dialect, shared.path());
    // Panels sharing a database share the panel key (plugin roles' passwords are
    // sealed with it), as operators are told to.
    let key = b"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    std::fs::write(shared.path().join("app.key"), key).unwrap();
    // On SQLite they share the data directory too: plugin databases are files there.
    let shared_dir = shared.path().display().to_string();
    if dialect == Dialect::Sqlite {
        crate::support::copy_dir(
            &crate::support::artifacts().plugins.join("hello-wasm"),
            &shared.path().join("plugins/hello-wasm"),
        );
    }
    let panels: Vec<_> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..count)
            .map(|_| {
                scope.spawn(|| {
                    let builder = panel(dialect)
                        .env("HATCHERY_DATABASE_URL", &database.url)
                        .file("app.key", key);
                    match dialect {
                        Dialect::Postgres => builder.plugin("hello-wasm"),
                        Dialect::Sqlite => builder.env("HATCHERY_DATA_DIR", &shared_dir),
                    }
                    .start()
                })
            })
            .collect();
        starting.into_iter().map(|p| p.join().unwrap()).collect()
    });

    for panel in &panels {
        assert_eq!(panel.health()["status"], "ok", "{}", panel.log());
        assert_eq!(
            panel.plugin_health("hello-wasm").unwrap()["state"],
            "enabled",
            "{}",
            panel.log()
        );
        assert!(!panel.log().contains("duplicate key"), "{}", panel.log());
    }
    // One setup link between them.
    let links = panels
        .iter()
        .filter(|panel| panel.log().contains("/setup?token="))
        .count();
    assert_eq!(links, 1);

    // They share the plugin's data: a greeting made through one is counted by another.
    let admin = panels[0].admin_key();
    let greeted = panels[0].post_json(
        "/api/plugins/hello-wasm/greetings",
        Some(&admin),
        json!({ "name": "Ada" }),
    );
    assert_eq!(greeted.status, 201, "{greeted:?}");
    assert_eq!(
        panels[count - 1].get("/api/plugins/hello-wasm/hello").body["greetings"],
        1
    );

    // hello-wasm's 10-second timer fires once per due time between them, not once per
    // panel: in 25 seconds about twice, where each panel firing would make it 2 × count.
    std::thread::sleep(std::time::Duration::from_secs(25));
    let ticks = panels[0].get("/api/plugins/hello-wasm/hello").body["ticks"]
        .as_i64()
        .unwrap();
    assert!((1..=3).contains(&ticks), "{ticks} firings in 25 s");
}
