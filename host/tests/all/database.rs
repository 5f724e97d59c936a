//! The database layer on SQLite and PostgreSQL: migrations, identity, and the
//! capability-checked SQL service plugins use.

use std::sync::Arc;

use std::time::Duration;

use hatchery_host::actions::Core;
use hatchery_host::db::migrate::{self, Migration};
use hatchery_host::db::plugin_store::{PluginStore, StoreSettings};
use hatchery_host::db::{Database, plugins as plugin_records, users};
use hatchery_host::events::EventBus;
use hatchery_host::plugins::manifest::Capabilities;
use hatchery_host::plugins::services::HostServices;
use hatchery_host::secrets::SecretBox;
use hatchery_runtime::services::Database as _;
use hatchery_sdk::{DbValue, HostError};

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
        let user = users::create(&db, &new_user("ada", "Ada@Example.com"))
            .await
            .unwrap();
        assert_eq!(user.email, "ada@example.com");
        assert!(
            users::create(&db, &new_user("ada", "x@example.com"))
                .await
                .is_err()
        );

        let key = users::issue_api_key(
            &db,
            user.id,
            &users::KeyOptions {
                description: "ci".into(),
                allowed_ips: vec![
                    hatchery_host::domain::networks::IpNetwork::parse("10.0.0.0/8").unwrap(),
                ],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let verified = users::verify_api_key(&db, &key.token).await.unwrap();
        assert_eq!(verified.user.username, "ada");
        let limits = verified.key.unwrap();
        assert!(!limits.admin_power);
        assert!(limits.allows(Some("10.2.3.4".parse().unwrap())));
        assert!(!limits.allows(Some("192.0.2.1".parse().unwrap())));
        assert!(!limits.allows(None));
        // Its use is written down.
        let listed = users::api_keys(&db, user.id).await.unwrap();
        assert!(listed[0].last_used_at.is_some());
        assert_eq!(listed[0].allowed_ips(), vec!["10.0.0.0/8".to_string()]);

        let mut wrong = key.token.clone();
        wrong.pop();
        wrong.push(if key.token.ends_with('0') { '1' } else { '0' });
        assert!(users::verify_api_key(&db, &wrong).await.is_err());
        assert!(users::verify_api_key(&db, "hk_short").await.is_err());
        assert!(users::verify_api_key(&db, "").await.is_err());

        let expired = users::issue_api_key(
            &db,
            user.id,
            &users::KeyOptions {
                description: "old".into(),
                expires_at: Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
                ..Default::default()
            },
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
        let store = Arc::new(
            PluginStore::open(&db, "demo", &store_settings(dir.path()))
                .await
                .unwrap(),
        );
        let core = core_of(&db, dir.path());
        let services = HostServices::new("demo", granted, Some(store.clone()), core.clone());
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
        assert!(
            matches!(&refused, HostError::Invalid(message) if message.contains("does not belong")),
            "{refused:?}"
        );

        let without_grant =
            HostServices::new("demo", Capabilities::default(), Some(store.clone()), core);
        let denied = without_grant
            .db_query("SELECT * FROM demo__values", vec![])
            .await
            .unwrap_err();
        assert!(
            matches!(&denied, HostError::Denied(message) if message.contains("database capability was not granted")),
            "{denied:?}"
        );
        db.close().await;
    }
}

/// What plugins' host calls act through, on `db`.
fn core_of(db: &Database, data_dir: &std::path::Path) -> Core {
    Core {
        db: db.clone(),
        secrets: Arc::new(SecretBox::load_or_create(data_dir).unwrap()),
        events: Arc::new(EventBus::default()),
        observer: None,
    }
}

fn store_settings(data_dir: &std::path::Path) -> StoreSettings {
    StoreSettings {
        data_dir: data_dir.to_path_buf(),
        statement_timeout: Duration::from_millis(1500),
    }
}

/// Runs SQL on a plugin's own connection *without* the SQL guard: what the database
/// itself allows a plugin that got past the guard.
async fn raw(store: &PluginStore, sql: &str) -> Result<u64, String> {
    raw_on(store.database(), sql).await
}

async fn raw_on(db: &Database, sql: &str) -> Result<u64, String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Database::Sqlite(pool) => sqlx::raw_sql(sql)
            .execute(pool)
            .await
            .map(|d| d.rows_affected()),
        Database::Postgres(pool) => sqlx::raw_sql(sql)
            .execute(pool)
            .await
            .map(|d| d.rows_affected()),
    }
    .map_err(|err| err.to_string())
}

const ENDLESS: &str = "WITH RECURSIVE demo__r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM demo__r) \
                       SELECT count(*) FROM demo__r";

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_store_cannot_reach_panel_tables_even_past_the_guard() {
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        users::create(&db, &new_user("ada", "ada@example.com"))
            .await
            .unwrap();
        let store = PluginStore::open(&db, "demo", &store_settings(dir.path()))
            .await
            .unwrap();
        // Its own tables work.
        raw(
            &store,
            "CREATE TABLE demo__t (id INTEGER PRIMARY KEY, v TEXT)",
        )
        .await
        .unwrap();
        assert_eq!(
            raw(&store, "INSERT INTO demo__t (id, v) VALUES (1, 'x')").await,
            Ok(1)
        );

        let attempts: &[&str] = match dialect {
            Dialect::Sqlite => &[
                "SELECT * FROM users",
                "INSERT INTO api_keys (user_id) VALUES (1)",
                "ATTACH DATABASE 'panel.db' AS panel",
            ],
            Dialect::Postgres => &[
                "SELECT * FROM public.users",
                "SELECT * FROM users",
                "CREATE TABLE demo__k (extra TEXT) INHERITS (public.api_keys)",
                "WITH demo__c AS (SELECT 1) TABLE public.users",
                "SELECT * FROM query_to_xml('select * from public.api_keys', true, true, '')",
                "CREATE TABLE public.demo__planted (id INTEGER)",
                "CREATE TABLE demo__fk (u BIGINT REFERENCES public.users (id))",
                "ALTER TABLE public.users RENAME TO demo__users",
                "SET ROLE postgres",
                "CREATE SCHEMA demo_other",
            ],
        };
        for sql in attempts {
            let err = raw(&store, sql).await.expect_err(&format!(
                "{dialect:?}: `{sql}` must be refused by the database"
            ));
            let expected = [
                "permission denied",
                "must be owner",
                "no such table",
                "does not exist",
                "too many attached databases",
            ];
            assert!(
                expected.iter().any(|needle| err.contains(needle)),
                "{dialect:?}: `{sql}`: {err}"
            );
        }
        // The panel's users are untouched and still the panel's alone.
        assert!(users::find_by_username(&db, "ada").await.unwrap().is_some());
        store.close().await;
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_plugin_queries_are_cancelled_in_the_database_and_the_panel_keeps_answering() {
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        let store = Arc::new(
            PluginStore::open(&db, "demo", &store_settings(dir.path()))
                .await
                .unwrap(),
        );
        let runaway: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.query(ENDLESS, vec![], 10).await })
            })
            .collect();
        // While eight never-ending queries run, the panel's own pool answers.
        tokio::time::sleep(Duration::from_millis(200)).await;
        for n in 0..5 {
            let name = format!("user{n}");
            users::create(&db, &new_user(&name, &format!("{name}@example.com")))
                .await
                .unwrap();
            assert!(users::find_by_username(&db, &name).await.unwrap().is_some());
        }
        for task in runaway {
            let err = task.await.unwrap().unwrap_err();
            assert!(
                err.contains("was cancelled") || err.contains("busy"),
                "{dialect:?}: {err}"
            );
        }
        // Cancelled in the database, not abandoned: the store is usable at once.
        let rows = store.query("SELECT 1 AS one", vec![], 10).await.unwrap();
        assert_eq!(rows.rows.len(), 1, "{dialect:?}");
        if dialect == Dialect::Postgres {
            let Database::Postgres(pool) = &db else {
                unreachable!()
            };
            // The server ended them (a backend reports idle a moment after its error).
            let mut still_running: i64 = -1;
            for _ in 0..20 {
                still_running = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE query LIKE 'WITH RECURSIVE demo__r%' AND state = 'active'",
                )
                .fetch_one(pool)
                .await
                .unwrap();
                if still_running == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(
                still_running, 0,
                "the server still runs the cancelled queries"
            );
        }
        store.close().await;
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_from_before_plugin_stores_move_into_them_with_nothing_lost() {
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        // How an earlier Hatchery kept them: in the panel's database.
        let migrations = vec![
            Migration::from_file(
                "0001_notes.sql",
                "CREATE TABLE demo__notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL); \
                 CREATE INDEX demo__notes_body ON demo__notes (body)"
                    .into(),
            )
            .unwrap(),
        ];
        migrate::apply(&db, "demo", &migrations).await.unwrap();
        raw_on(
            &db,
            "INSERT INTO demo__notes (id, body) VALUES (1, 'keep me')",
        )
        .await
        .unwrap();

        let store = PluginStore::open(&db, "demo", &store_settings(dir.path()))
            .await
            .unwrap();
        let rows = store
            .query("SELECT body FROM demo__notes", vec![], 10)
            .await
            .unwrap();
        assert_eq!(
            rows.rows,
            vec![vec![DbValue::Text("keep me".into())]],
            "{dialect:?}"
        );
        assert!(
            plugin_records::tables_with_prefix(&db, "demo__")
                .await
                .unwrap()
                .is_empty(),
            "{dialect:?}: the originals are gone from the panel's database"
        );
        // The history moved too: the migration does not run again in the store.
        assert_eq!(
            migrate::apply(store.database(), "demo", &migrations)
                .await
                .unwrap(),
            0
        );
        // Opening again changes nothing.
        store.close().await;
        let store = PluginStore::open(&db, "demo", &store_settings(dir.path()))
            .await
            .unwrap();
        assert_eq!(
            store
                .query("SELECT count(*) AS n FROM demo__notes", vec![], 10)
                .await
                .unwrap()
                .rows,
            vec![vec![DbValue::Integer(1)]]
        );
        store.close().await;
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
            source: hatchery_host::domain::vocabulary::PluginSource::Package,
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

fn new_user(username: &str, email: &str) -> users::NewUser {
    users::NewUser {
        username: username.into(),
        email: email.into(),
        ..users::NewUser::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_sessions_held_passwords_and_the_setup_link() {
    use hatchery_host::db::{roles, sessions};
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;

        // The setup link works once, and only while nobody has an account.
        // Panels starting together issue one token between them; later, a new one.
        let window = chrono::Duration::seconds(60);
        let setup = sessions::issue_setup_token_once(&db, window)
            .await
            .unwrap()
            .expect("the first start issues a token");
        assert_eq!(
            sessions::issue_setup_token_once(&db, window).await.unwrap(),
            None
        );
        assert!(sessions::setup_pending(&db).await.unwrap());
        assert!(sessions::setup_token_valid(&db, &setup).await.unwrap());
        assert!(
            !sessions::setup_token_valid(&db, "0".repeat(48).as_str())
                .await
                .unwrap()
        );
        // The token redeems for the first user being created, and for nobody once a
        // second one exists.
        let ada = users::create(&db, &new_user("ada", "ada@example.com"))
            .await
            .unwrap();
        assert!(
            !sessions::redeem_setup_token(&db, "0".repeat(48).as_str(), ada.id)
                .await
                .unwrap()
        );
        let grace = users::create(&db, &new_user("grace", "grace@example.com"))
            .await
            .unwrap();
        assert!(
            !sessions::redeem_setup_token(&db, &setup, ada.id)
                .await
                .unwrap()
        );
        users::delete(&db, &grace).await.unwrap();
        assert!(
            sessions::redeem_setup_token(&db, &setup, ada.id)
                .await
                .unwrap()
        );
        assert!(
            !sessions::redeem_setup_token(&db, &setup, ada.id)
                .await
                .unwrap()
        );
        assert!(!sessions::setup_pending(&db).await.unwrap());
        let grace = users::create(&db, &new_user("grace", "grace@example.com"))
            .await
            .unwrap();

        // Hashes the panel holds (an import's) wait there until handed over.
        assert!(users::held_password_hashes(&db).await.unwrap().is_empty());
        hold_password_hash(
            &db,
            grace.id,
            "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi",
        )
        .await;
        assert_eq!(
            users::held_password_hashes(&db).await.unwrap(),
            vec![(
                grace.id,
                "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi".to_string()
            )]
        );
        users::forget_password_hash(&db, grace.id).await.unwrap();
        assert!(users::held_password_hashes(&db).await.unwrap().is_empty());

        // A role's permissions reach the user's identity; unknown permissions are refused.
        assert!(
            roles::create(&db, "bad", "", &["nodes.fly".into()])
                .await
                .is_err()
        );
        let role = roles::create(
            &db,
            "moderators",
            "",
            &["servers.read".into(), "nodes.read".into()],
        )
        .await
        .unwrap();
        let ada = users::update(
            &db,
            &ada,
            &users::UserChanges {
                role_id: Some(Some(role.id)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(ada.role_id, Some(role.id));

        let token = sessions::create(&db, ada.id, &sessions::SessionOrigin::default())
            .await
            .unwrap();
        let (identity, impersonator) = sessions::verify(&db, &token, IDLE).await.unwrap();
        assert_eq!(identity.user.username, "ada");
        assert_eq!(
            identity.permissions(),
            vec!["nodes.read".to_string(), "servers.read".into()]
        );
        assert_eq!(impersonator, None);
        assert!(sessions::verify(&db, &"f".repeat(64), IDLE).await.is_err());

        // Deleting the role takes its permissions away, not the user.
        roles::delete(&db, &role).await.unwrap();
        assert!(
            sessions::verify(&db, &token, IDLE)
                .await
                .unwrap()
                .0
                .permissions()
                .is_empty()
        );

        // A session unused for longer than the idle limit ends, and is gone.
        let idle = sessions::create(&db, ada.id, &sessions::SessionOrigin::default())
            .await
            .unwrap();
        assert!(sessions::verify(&db, &idle, IDLE).await.is_ok());
        let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
        age_sessions(&db, ada.id, two_hours_ago).await;
        // Used within a longer limit: the use is written down, so it is fresh again.
        assert!(sessions::verify(&db, &idle, IDLE * 3).await.is_ok());
        assert!(sessions::verify(&db, &idle, IDLE).await.is_ok());
        age_sessions(&db, ada.id, two_hours_ago).await;
        assert!(sessions::verify(&db, &idle, IDLE).await.is_err());
        assert!(
            sessions::verify(&db, &idle, IDLE * 3).await.is_err(),
            "an ended session is gone"
        );
        let token = sessions::create(&db, ada.id, &sessions::SessionOrigin::default())
            .await
            .unwrap();

        // Signing a user out everywhere ends the session.
        sessions::delete_for_user(&db, ada.id).await.unwrap();
        assert!(sessions::verify(&db, &token, IDLE).await.is_err());

        // An admin acting as grace is marked in her session.
        let as_grace = sessions::create(
            &db,
            grace.id,
            &sessions::SessionOrigin {
                impersonator_id: Some(ada.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            sessions::verify(&db, &as_grace, IDLE).await.unwrap().1,
            Some(ada.id)
        );
        sessions::delete(&db, &as_grace).await.unwrap();
        assert!(sessions::verify(&db, &as_grace, IDLE).await.is_err());
        db.close().await;
    }
}

/// The idle limit the session checks here use.
const IDLE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Makes every session of a user last used at `when`.
async fn age_sessions(
    db: &hatchery_host::db::Database,
    user_id: i64,
    when: chrono::DateTime<chrono::Utc>,
) {
    let sql = "UPDATE sessions SET last_seen_at = $1 WHERE user_id = $2";
    update(db, sql, when, user_id).await;
}

/// Puts a hash where an import leaves it.
async fn hold_password_hash(db: &hatchery_host::db::Database, user_id: i64, hash: &str) {
    let sql = "UPDATE users SET password_hash = $1 WHERE id = $2";
    update(db, sql, hash.to_string(), user_id).await;
}

/// Runs `sql` with `$1 = value, $2 = id` straight on the database, as a tool would.
async fn update<T>(db: &hatchery_host::db::Database, sql: &'static str, value: T, id: i64)
where
    T: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + 'static,
{
    use hatchery_host::db::Database;
    let done = match db {
        Database::Sqlite(pool) => sqlx::query(sql)
            .bind(value)
            .bind(id)
            .execute(pool)
            .await
            .map(drop),
        Database::Postgres(pool) => sqlx::query(sql)
            .bind(value)
            .bind(id)
            .execute(pool)
            .await
            .map(drop),
    };
    done.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_is_filtered_by_server_actor_and_event_prefix() {
    use hatchery_host::db::Page;
    use hatchery_host::db::activity::{self, ActivityFilter, NewActivity};
    for dialect in DIALECTS {
        let dir = tempfile::tempdir().unwrap();
        let (db, _guard) = fresh(dialect, dir.path()).await;
        let ada = users::create(&db, &new_user("ada", "ada@example.com"))
            .await
            .unwrap();
        for (event, server_id, actor_id) in [
            ("server.power.start", Some(1), Some(ada.id)),
            ("server.power.stop", Some(1), None),
            ("server.powerful", Some(2), Some(ada.id)),
            ("admin.node.create", None, Some(ada.id)),
        ] {
            activity::record(
                &db,
                &NewActivity {
                    event: event.into(),
                    server_id,
                    actor_id,
                    properties: serde_json::json!({ "n": event }),
                    ..NewActivity::default()
                },
            )
            .await
            .unwrap();
        }
        let events = |filter: ActivityFilter| {
            let db = db.clone();
            async move {
                let (rows, total) = activity::page(&db, &filter, &Page::new(None, None))
                    .await
                    .unwrap();
                assert_eq!(rows.len() as i64, total);
                rows.into_iter().map(|row| row.event).collect::<Vec<_>>()
            }
        };
        // `server.power` means the events under it, not every name that starts alike.
        assert_eq!(
            events(ActivityFilter {
                event: Some("server.power".into()),
                ..Default::default()
            })
            .await,
            vec!["server.power.stop", "server.power.start"]
        );
        assert_eq!(
            events(ActivityFilter {
                server_id: Some(1),
                actor_id: Some(ada.id),
                ..Default::default()
            })
            .await,
            vec!["server.power.start"]
        );
        assert_eq!(events(ActivityFilter::default()).await.len(), 4);
        let (first, total) = activity::page(
            &db,
            &ActivityFilter::default(),
            &Page::new(Some(2), Some(3)),
        )
        .await
        .unwrap();
        assert_eq!((first.len(), total), (1, 4));
        assert_eq!(first[0].event, "server.power.start");
        db.close().await;
    }
}
