//! The database layer on SQLite and PostgreSQL: migrations, identity, and the
//! capability-checked SQL service plugins use.

use std::sync::Arc;

use hatchery_host::db::migrate::{self, Migration};
use hatchery_host::db::{Database, plugins as plugin_records, users};
use hatchery_host::events::EventBus;
use hatchery_host::plugins::manifest::Capabilities;
use hatchery_host::plugins::services::HostServices;
use hatchery_sdk::DbValue;

use crate::support::{DIALECTS, Dialect, TestDatabase};

async fn fresh(dialect: Dialect, dir: &std::path::Path) -> (Database, TestDatabase) {
    let test_db = TestDatabase::new(dialect, dir);
    let db = Database::connect(&test_db.url).await.expect("connect");
    migrate::apply_core(&db).await.expect("core migrations");
    (db, test_db)
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_apply_once_and_catch_edits() {
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        assert_eq!(
            migrate::apply_core(&db).await.unwrap(),
            0,
            "already applied"
        );

        let first = vec![
            Migration::from_file("0001_a.sql", "CREATE TABLE demo__a (id INTEGER)".into()).unwrap(),
        ];
        assert_eq!(migrate::apply(&db, "demo", &first).await.unwrap(), 1);
        assert_eq!(migrate::apply(&db, "demo", &first).await.unwrap(), 0);

        let edited = vec![
            Migration::from_file("0001_a.sql", "CREATE TABLE demo__b (id INTEGER)".into()).unwrap(),
        ];
        let err = migrate::apply(&db, "demo", &edited)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("was changed after it was applied"), "{err}");

        // A failing migration leaves nothing behind: not the table, not the record.
        let broken = vec![
            first[0].clone(),
            Migration::from_file(
                "0002_b.sql",
                "CREATE TABLE demo__c (id INTEGER); CREATE TABLE oops (".into(),
            )
            .unwrap(),
        ];
        assert!(migrate::apply(&db, "demo", &broken).await.is_err());
        let tables = plugin_records::tables_with_prefix(&db, "demo__")
            .await
            .unwrap();
        assert_eq!(tables, vec!["demo__a".to_string()], "{dialect:?}");
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_verify_in_constant_form_and_expire() {
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        let user = users::create(&db, "ada", "Ada@Example.com", true)
            .await
            .unwrap();
        assert_eq!(user.email, "ada@example.com");
        assert!(
            users::create(&db, "ada", "x@example.com", false)
                .await
                .is_err()
        );

        let key = users::issue_api_key(&db, user.id, "ci", None)
            .await
            .unwrap();
        assert_eq!(
            users::verify_api_key(&db, &key.token)
                .await
                .unwrap()
                .username,
            "ada"
        );

        let mut wrong = key.token.clone();
        wrong.pop();
        wrong.push(if key.token.ends_with('0') { '1' } else { '0' });
        assert!(users::verify_api_key(&db, &wrong).await.is_err());
        assert!(users::verify_api_key(&db, "hk_short").await.is_err());
        assert!(users::verify_api_key(&db, "").await.is_err());

        let expired = users::issue_api_key(
            &db,
            user.id,
            "old",
            Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .await
        .unwrap();
        let err = users::verify_api_key(&db, &expired.token)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("expired"), "{err}");
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plugin_sql_round_trips_every_value_type_on_both_dialects() {
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        let granted = Capabilities {
            database: true,
            ..Capabilities::default()
        };
        let services =
            HostServices::new("demo", granted, db.clone(), Arc::new(EventBus::default()));
        let create = match dialect {
            Dialect::Sqlite => {
                "CREATE TABLE demo__values (i INTEGER, r REAL, t TEXT, b BLOB, n INTEGER)"
            }
            Dialect::Postgres => {
                "CREATE TABLE demo__values (i BIGINT, r DOUBLE PRECISION, t TEXT, b BYTEA, n INTEGER)"
            }
        };
        services.db_execute(create, vec![]).await.unwrap();
        let inserted = services
            .db_execute(
                "INSERT INTO demo__values (i, r, t, b, n) VALUES ($1, $2, $3, $4, $5)",
                vec![
                    DbValue::Integer(-7),
                    DbValue::Real(2.5),
                    DbValue::Text("héllo".into()),
                    DbValue::Blob(vec![0, 255]),
                    DbValue::Null,
                ],
            )
            .await
            .unwrap();
        assert_eq!(inserted, 1);
        let rows = services
            .db_query(
                "SELECT i, r, t, b, n FROM demo__values WHERE i = $1",
                vec![DbValue::Integer(-7)],
            )
            .await
            .unwrap();
        assert_eq!(rows.columns, ["i", "r", "t", "b", "n"]);
        assert_eq!(
            rows.rows,
            vec![vec![
                DbValue::Integer(-7),
                DbValue::Real(2.5),
                DbValue::Text("héllo".into()),
                DbValue::Blob(vec![0, 255]),
                DbValue::Null
            ]],
            "{dialect:?}"
        );

        let refused = services
            .db_query("SELECT * FROM users", vec![])
            .await
            .unwrap_err();
        assert!(refused.contains("does not belong"), "{refused}");

        let without_grant = HostServices::new(
            "demo",
            Capabilities::default(),
            db.clone(),
            Arc::new(EventBus::default()),
        );
        let denied = without_grant
            .db_query("SELECT * FROM demo__values", vec![])
            .await
            .unwrap_err();
        assert!(
            denied.contains("database capability was not granted"),
            "{denied}"
        );
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plugin_records_bump_the_revision_panels_watch() {
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        let before = plugin_records::revision(&db).await.unwrap();
        let now = chrono::Utc::now();
        let record = plugin_records::PluginRecord {
            id: "demo".into(),
            version: "1.0.0".into(),
            runtime: "wasm".into(),
            enabled: true,
            grants: "{}".into(),
            source: "package".into(),
            content_sha256: "abc".into(),
            installed_at: now,
            updated_at: now,
        };
        plugin_records::save(&db, &record).await.unwrap();
        assert!(
            plugin_records::set_enabled(&db, "demo", false, Some("{\"database\":true}"))
                .await
                .unwrap()
        );
        assert!(
            !plugin_records::set_enabled(&db, "missing", false, None)
                .await
                .unwrap()
        );
        let stored = plugin_records::get(&db, "demo").await.unwrap().unwrap();
        assert!(!stored.enabled);
        assert_eq!(stored.grants, "{\"database\":true}");
        assert!(plugin_records::revision(&db).await.unwrap() >= before + 2);
        assert!(plugin_records::delete(&db, "demo").await.unwrap());
        assert!(plugin_records::list(&db).await.unwrap().is_empty());
        db.close().await;
    }
}
