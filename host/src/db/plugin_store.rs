//! Each plugin's own database, isolated by the database itself.
//!
//! The SQL guard (`sql_guard`) is the first layer; this is the one that cannot be
//! talked around by a clever statement:
//! - **SQLite**: a plugin gets its own database file (`<data_dir>/plugin-databases/
//!   <id>.sqlite`) and its own small pool, so no connection it uses can even name a
//!   panel table. A query that runs too long is interrupted inside SQLite by a progress
//!   handler with a deadline.
//! - **PostgreSQL**: a plugin gets its own schema and its own login role, which owns
//!   that schema and holds no privilege on the panel's tables. The role has a
//!   connection limit, a `statement_timeout` and its schema as `search_path`; the
//!   plugin's pool logs in as that role. The role's random password is kept sealed
//!   in `plugin_databases`.
//!
//! Plugin tables made before this existed lived among the panel's tables; opening a
//! store moves them (and their migration history) into it, and nothing is lost if
//! the move is interrupted: the copy commits before the originals are dropped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use hatchery_sdk::{DbRows, DbValue};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Column, Connection, Row, TypeInfo, ValueRef};

use super::{Database, Dialect, on_pool, plugins, sql_guard};
use crate::error::{Error, Result};
use crate::secrets::SecretBox;

/// Connections one plugin's pool may hold in one panel process.
const POOL_CONNECTIONS: u32 = 4;
/// Connections one plugin's role may hold on the PostgreSQL server, over every panel
/// process sharing the database (and the CLI).
const ROLE_CONNECTION_LIMIT: u32 = 12;
/// How often (in SQLite virtual-machine steps) the deadline is checked.
const SQLITE_PROGRESS_STEPS: i32 = 1_000;

/// Where plugin stores live and how long a plugin query may run.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    pub data_dir: PathBuf,
    pub statement_timeout: Duration,
}

impl StoreSettings {
    fn sqlite_file(&self, plugin_id: &str) -> PathBuf {
        self.data_dir
            .join("plugin-databases")
            .join(format!("{plugin_id}.sqlite"))
    }
}

/// One plugin's database: its pool, and the limits every query runs under.
pub struct PluginStore {
    db: Database,
    statement_timeout: Duration,
}

impl std::fmt::Debug for PluginStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginStore")
            .field("dialect", &self.db.dialect_name())
            .finish()
    }
}

impl PluginStore {
    /// Opens (creating on first use) the store of `plugin_id` beside the panel's
    /// database `panel`, moving any of its tables still among the panel's.
    pub async fn open(
        panel: &Database,
        plugin_id: &str,
        settings: &StoreSettings,
    ) -> Result<PluginStore> {
        let db = match panel {
            Database::Sqlite(panel_pool) => {
                Database::Sqlite(open_sqlite(panel_pool, plugin_id, settings).await?)
            }
            Database::Postgres(panel_pool) => {
                Database::Postgres(open_postgres(panel_pool, plugin_id, settings).await?)
            }
        };
        Ok(PluginStore {
            db,
            statement_timeout: settings.statement_timeout,
        })
    }

    /// The store's pool, for the host's own work on it (migrations).
    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Runs one statement, returning the rows it changed. The statement must have
    /// passed the SQL guard already.
    pub async fn execute(&self, sql: &str, params: Vec<DbValue>) -> Result<u64, String> {
        let started = Instant::now();
        let outcome = match &self.db {
            Database::Sqlite(pool) => {
                let mut connection = self.sqlite_connection(pool).await?;
                bind_all(sqlx::query(AssertSqlSafe(sql)), params)
                    .execute(&mut *connection)
                    .await
                    .map(|done| done.rows_affected())
            }
            Database::Postgres(pool) => bind_all(sqlx::query(AssertSqlSafe(sql)), params)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
        };
        outcome.map_err(|err| self.describe(err, started))
    }

    /// Runs one query, returning at most `max_rows` rows.
    pub async fn query(
        &self,
        sql: &str,
        params: Vec<DbValue>,
        max_rows: usize,
    ) -> Result<DbRows, String> {
        let started = Instant::now();
        match &self.db {
            Database::Sqlite(pool) => {
                let mut connection = self.sqlite_connection(pool).await?;
                let stream =
                    bind_all(sqlx::query(AssertSqlSafe(sql)), params).fetch(&mut *connection);
                collect_rows(stream, max_rows, |err| self.describe(err, started)).await
            }
            Database::Postgres(pool) => {
                let stream = bind_all(sqlx::query(AssertSqlSafe(sql)), params).fetch(pool);
                collect_rows(stream, max_rows, |err| self.describe(err, started)).await
            }
        }
    }

    /// A pooled connection whose statements SQLite interrupts once the deadline passes.
    async fn sqlite_connection(
        &self,
        pool: &SqlitePool,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, String> {
        let mut connection = pool
            .acquire()
            .await
            .map_err(|err| self.describe(err, Instant::now()))?;
        let deadline = Instant::now() + self.statement_timeout;
        connection
            .lock_handle()
            .await
            .map_err(|err| format!("database error: {err}"))?
            .set_progress_handler(SQLITE_PROGRESS_STEPS, move || Instant::now() < deadline);
        Ok(connection)
    }

    fn describe(&self, err: sqlx::Error, started: Instant) -> String {
        let cancelled = match &err {
            sqlx::Error::Database(db_err) => {
                // SQLITE_INTERRUPT, or PostgreSQL's query_canceled.
                db_err.code().as_deref() == Some("9") || db_err.code().as_deref() == Some("57014")
            }
            sqlx::Error::PoolTimedOut => {
                return "the plugin's database connections are all busy with long queries; try again"
                    .into();
            }
            _ => false,
        };
        if cancelled || (started.elapsed() >= self.statement_timeout && is_interrupt(&err)) {
            format!(
                "the query ran longer than {} ms and was cancelled",
                self.statement_timeout.as_millis()
            )
        } else {
            format!("database error: {err}")
        }
    }
}

fn is_interrupt(err: &sqlx::Error) -> bool {
    err.to_string().contains("interrupted")
}

async fn collect_rows<R, S>(
    mut stream: S,
    max_rows: usize,
    describe: impl Fn(sqlx::Error) -> String,
) -> Result<DbRows, String>
where
    R: ToValues + Row,
    S: futures_util::Stream<Item = Result<R, sqlx::Error>> + Unpin,
{
    let mut rows = DbRows::default();
    while let Some(row) = stream.try_next().await.map_err(&describe)? {
        if rows.rows.len() >= max_rows {
            return Err(format!(
                "the query returns more than {max_rows} rows; add a LIMIT and page through them"
            ));
        }
        if rows.columns.is_empty() {
            rows.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
        }
        rows.rows.push(row.to_values()?);
    }
    Ok(rows)
}

/// Removes a plugin's store and everything in it, and its secrets and timers.
pub async fn purge(panel: &Database, plugin_id: &str, settings: &StoreSettings) -> Result<()> {
    match panel {
        Database::Sqlite(_) => {
            let file = settings.sqlite_file(plugin_id);
            for path in [
                file.clone(),
                with_suffix(&file, "-wal"),
                with_suffix(&file, "-shm"),
            ] {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => {
                        return Err(Error::io(format!("cannot remove {}", path.display()), err));
                    }
                }
            }
        }
        Database::Postgres(pool) => {
            let names = postgres_names(pool, plugin_id).await?;
            sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                quote(&names.schema)
            )))
            .execute(pool)
            .await?;
            // Sessions still logged in as the role (another panel's pool) would keep it
            // alive; end them first. Allowed to fail where the panel may not signal.
            let _ = sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            )
            .bind(&names.role)
            .execute(pool)
            .await;
            sqlx::query(AssertSqlSafe(format!(
                "DROP ROLE IF EXISTS {}",
                quote(&names.role)
            )))
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM plugin_databases WHERE plugin_id = $1")
                .bind(plugin_id)
                .execute(pool)
                .await?;
        }
    }
    // Its secrets, timers and settings go with its data.
    on_pool!(panel, pool => {
        sqlx::query("DELETE FROM plugin_settings WHERE plugin_id = $1")
            .bind(plugin_id)
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM plugin_secrets WHERE plugin_id = $1")
            .bind(plugin_id)
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM plugin_timers WHERE plugin_id = $1")
            .bind(plugin_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `"name"`, with embedded quotes doubled: identifiers come from plugin SQL.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

// ---------------------------------------------------------------- SQLite

/// Opens (creating) a plugin's file. Panels starting together may race to create it:
/// switching a new file to WAL can answer "database is locked" at once, without waiting
/// for the busy timeout, so that is tried again a few times.
async fn open_sqlite(
    panel: &SqlitePool,
    plugin_id: &str,
    settings: &StoreSettings,
) -> Result<SqlitePool> {
    let mut attempt = 0;
    loop {
        match open_sqlite_once(panel, plugin_id, settings).await {
            Err(err) if attempt < 8 && err.to_string().contains("database is locked") => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
            }
            outcome => return outcome,
        }
    }
}

async fn open_sqlite_once(
    panel: &SqlitePool,
    plugin_id: &str,
    settings: &StoreSettings,
) -> Result<SqlitePool> {
    let file = settings.sqlite_file(plugin_id);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|err| Error::io(format!("cannot create {}", dir.display()), err))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(settings.statement_timeout)
        .foreign_keys(true);
    move_sqlite_tables(panel, plugin_id, &file, options.clone()).await?;
    SqlitePoolOptions::new()
        .max_connections(POOL_CONNECTIONS)
        .acquire_timeout(settings.statement_timeout * 2)
        .after_connect(|connection, _| {
            Box::pin(async move {
                let mut handle = connection.lock_handle().await?;
                // No ATTACH on a plugin's connection: its file is all it can open.
                // SAFETY: the handle is locked for this call and stays valid.
                unsafe {
                    libsqlite3_sys::sqlite3_limit(
                        handle.as_raw_handle().as_ptr(),
                        libsqlite3_sys::SQLITE_LIMIT_ATTACHED,
                        0,
                    );
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(|err| {
            Error::PluginLoad(format!(
                "cannot open its database {}: {err}",
                file.display()
            ))
        })
}

/// Moves the plugin's tables from the panel's file into its own: copy (one
/// transaction in the plugin's file, migration history included), then drop the
/// originals. A crash between the two leaves both copies; the next open sees the
/// history already in the plugin's file and only drops the originals.
async fn move_sqlite_tables(
    panel: &SqlitePool,
    plugin_id: &str,
    file: &Path,
    options: SqliteConnectOptions,
) -> Result<()> {
    let prefix = sql_guard::table_prefix(plugin_id);
    let tables = plugins::tables_with_prefix(&Database::Sqlite(panel.clone()), &prefix).await?;
    if tables.is_empty() {
        return Ok(());
    }
    let panel_file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(panel)
            .await?;
    if panel_file.is_empty() {
        return Err(Error::PluginLoad(
            "its tables are in an in-memory panel database and cannot be moved".into(),
        ));
    }
    tracing::info!(plugin = plugin_id, tables = tables.len(), to = %file.display(), "moving plugin tables into the plugin's own database");

    let mut store = sqlx::SqliteConnection::connect_with(&options.foreign_keys(false)).await?;
    sqlx::query("ATTACH DATABASE $1 AS panel")
        .bind(&panel_file)
        .execute(&mut store)
        .await?;
    let copied = copy_into_sqlite_store(&mut store, plugin_id, &prefix).await;
    sqlx::query("DETACH DATABASE panel")
        .execute(&mut store)
        .await?;
    store.close().await?;
    copied?;

    let mut tx = panel.begin_with("BEGIN IMMEDIATE").await?;
    for table in &tables {
        sqlx::query(AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS {}",
            quote(table)
        )))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM schema_migrations WHERE owner = $1")
        .bind(plugin_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn copy_into_sqlite_store(
    store: &mut sqlx::SqliteConnection,
    plugin_id: &str,
    prefix: &str,
) -> Result<()> {
    let mut tx = sqlx::Connection::begin_with(store, "BEGIN IMMEDIATE").await?;
    sqlx::query(AssertSqlSafe(super::migrate::CREATE_TRACKING_TABLE))
        .execute(&mut *tx)
        .await?;
    let already: i64 =
        sqlx::query_scalar("SELECT count(*) FROM main.schema_migrations WHERE owner = $1")
            .bind(plugin_id)
            .fetch_one(&mut *tx)
            .await?;
    if already > 0 {
        // An earlier move committed here; only the originals are left to drop.
        return Ok(tx.commit().await?);
    }
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let objects: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT type, name, sql FROM panel.sqlite_master \
         WHERE name LIKE $1 ESCAPE '\\' AND sql IS NOT NULL AND type IN ('table', 'index') \
         ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid",
    )
    .bind(&pattern)
    .fetch_all(&mut *tx)
    .await?;
    for (_, _, create) in &objects {
        // The definitions are the plugin's own statements, unqualified: run here,
        // they create the same objects in the plugin's file.
        sqlx::raw_sql(AssertSqlSafe(create.clone()))
            .execute(&mut *tx)
            .await?;
    }
    for (kind, name, _) in &objects {
        if kind == "table" {
            let name = quote(name);
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO main.{name} SELECT * FROM panel.{name}"
            )))
            .execute(&mut *tx)
            .await?;
        }
    }
    sqlx::query(
        "INSERT INTO main.schema_migrations SELECT * FROM panel.schema_migrations WHERE owner = $1",
    )
    .bind(plugin_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- PostgreSQL

struct PostgresNames {
    schema: String,
    role: String,
}

/// The plugin's schema (per database) and role (per server, so named from both).
async fn postgres_names(pool: &PgPool, plugin_id: &str) -> Result<PostgresNames> {
    let database: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(pool)
        .await?;
    let digest = Sha256::digest(format!("{database}\0{plugin_id}").as_bytes());
    Ok(PostgresNames {
        schema: format!("plugin_{}", plugin_id.replace('-', "_")),
        role: format!("hatchery_plugin_{}", &hex::encode(digest)[..24]),
    })
}

async fn open_postgres(
    panel: &PgPool,
    plugin_id: &str,
    settings: &StoreSettings,
) -> Result<PgPool> {
    let names = postgres_names(panel, plugin_id).await?;
    let secrets = SecretBox::load_or_create(&settings.data_dir)?;
    let password = prepare_postgres_role(panel, plugin_id, &names, &secrets, settings)
        .await
        .map_err(|err| match err {
            Error::Database(err) => Error::PluginLoad(format!(
                "cannot prepare its PostgreSQL schema and role ({err}); the panel's database user \
                 needs the CREATEROLE privilege (or to be a superuser) to isolate plugins"
            )),
            other => other,
        })?;
    let timeout_ms = settings.statement_timeout.as_millis().to_string();
    let options = (*panel.connect_options())
        .clone()
        .username(&names.role)
        .password(&password)
        .options([
            ("statement_timeout", timeout_ms.as_str()),
            ("search_path", names.schema.as_str()),
        ]);
    Ok(PgPoolOptions::new()
        .max_connections(POOL_CONNECTIONS)
        .acquire_timeout(settings.statement_timeout * 2)
        .connect_lazy_with(options))
}

/// Creates the plugin's role and schema on first use (and moves old tables into
/// it), then applies the limits. Returns the role's password.
async fn prepare_postgres_role(
    panel: &PgPool,
    plugin_id: &str,
    names: &PostgresNames,
    secrets: &SecretBox,
    settings: &StoreSettings,
) -> Result<String> {
    let role = quote(&names.role);
    let schema = quote(&names.schema);
    let mut tx = panel.begin().await?;
    // Panels and the CLI opening the same store at once must not race.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("plugin-store:{plugin_id}"))
        .execute(&mut *tx)
        .await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT password FROM plugin_databases WHERE plugin_id = $1")
            .bind(plugin_id)
            .fetch_optional(&mut *tx)
            .await?;
    let password = match stored {
        Some(sealed) => secrets.open(&sealed)?,
        None => {
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes)
                .map_err(|err| Error::Config(format!("no randomness: {err}")))?;
            // Hex only, so it is safe inside the literal below.
            let password = hex::encode(bytes);
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                    .bind(&names.role)
                    .fetch_one(&mut *tx)
                    .await?;
            let verb = if exists { "ALTER" } else { "CREATE" };
            sqlx::query(AssertSqlSafe(format!(
                "{verb} ROLE {role} WITH LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE \
                 NOREPLICATION NOBYPASSRLS PASSWORD '{password}'"
            )))
            .execute(&mut *tx)
            .await?;
            sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}"
            )))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO plugin_databases (plugin_id, schema_name, role_name, password) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(plugin_id)
            .bind(&names.schema)
            .bind(&names.role)
            .bind(secrets.seal(&password))
            .execute(&mut *tx)
            .await?;
            password
        }
    };
    // Limits are applied on every open, so a changed timeout takes effect.
    let timeout_ms = settings.statement_timeout.as_millis();
    for statement in [
        format!("ALTER ROLE {role} CONNECTION LIMIT {ROLE_CONNECTION_LIMIT}"),
        format!("ALTER ROLE {role} SET statement_timeout = {timeout_ms}"),
        format!("ALTER ROLE {role} SET idle_in_transaction_session_timeout = {timeout_ms}"),
        format!("ALTER ROLE {role} SET search_path = {schema}"),
        format!("REVOKE ALL ON SCHEMA {schema} FROM PUBLIC"),
    ] {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    move_postgres_tables(&mut tx, plugin_id, names).await?;
    tx.commit().await?;
    Ok(password)
}

/// Moves tables a plugin made in the panel's schema into its own, with their
/// migration history, in the caller's transaction.
async fn move_postgres_tables(
    tx: &mut sqlx::PgTransaction<'_>,
    plugin_id: &str,
    names: &PostgresNames,
) -> Result<()> {
    let pattern = format!(
        "{}%",
        sql_guard::table_prefix(plugin_id).replace('_', "\\_")
    );
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_name LIKE $1 ESCAPE '\\'",
    )
    .bind(&pattern)
    .fetch_all(&mut **tx)
    .await?;
    let history: i64 =
        sqlx::query_scalar("SELECT count(*) FROM schema_migrations WHERE owner = $1")
            .bind(plugin_id)
            .fetch_one(&mut **tx)
            .await?;
    if tables.is_empty() && history == 0 {
        return Ok(());
    }
    tracing::info!(plugin = plugin_id, tables = tables.len(), schema = %names.schema, "moving plugin tables into the plugin's own schema");
    let role = quote(&names.role);
    let schema = quote(&names.schema);
    for table in &tables {
        let table = quote(table);
        for statement in [
            format!("ALTER TABLE {table} SET SCHEMA {schema}"),
            format!("ALTER TABLE {schema}.{table} OWNER TO {role}"),
        ] {
            sqlx::query(AssertSqlSafe(statement))
                .execute(&mut **tx)
                .await?;
        }
    }
    let tracking = super::migrate::CREATE_TRACKING_TABLE.replacen(
        "schema_migrations",
        &format!("{schema}.schema_migrations"),
        1,
    );
    sqlx::query(AssertSqlSafe(tracking))
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {schema}.schema_migrations SELECT * FROM schema_migrations WHERE owner = $1 \
         ON CONFLICT DO NOTHING"
    )))
    .bind(plugin_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(AssertSqlSafe(format!(
        "ALTER TABLE {schema}.schema_migrations OWNER TO {role}"
    )))
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM schema_migrations WHERE owner = $1")
        .bind(plugin_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- values

/// Binds plugin values to a query of either dialect.
fn bind_all<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    params: Vec<DbValue>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for param in params {
        // Untyped NULLs bind as integers, which both dialects cast on assignment.
        query = match param {
            DbValue::Null => query.bind(None::<i64>),
            DbValue::Integer(v) => query.bind(v),
            DbValue::Real(v) => query.bind(v),
            DbValue::Text(v) => query.bind(v),
            DbValue::Blob(v) => query.bind(v),
        };
    }
    query
}

/// Converts a result row into plugin values, per dialect.
trait ToValues {
    fn to_values(&self) -> Result<Vec<DbValue>, String>;
}

impl ToValues for sqlx::sqlite::SqliteRow {
    fn to_values(&self) -> Result<Vec<DbValue>, String> {
        row_values(self, sqlite_value)
    }
}

impl ToValues for sqlx::postgres::PgRow {
    fn to_values(&self) -> Result<Vec<DbValue>, String> {
        row_values(self, postgres_value)
    }
}

/// Reads every column, giving NULLs directly and the rest to `decode` with the
/// column's type name.
fn row_values<R>(
    row: &R,
    decode: fn(&R, usize, &str) -> Result<DbValue, sqlx::Error>,
) -> Result<Vec<DbValue>, String>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
{
    (0..row.len())
        .map(|index| {
            let raw = row.try_get_raw(index).map_err(|err| err.to_string())?;
            if raw.is_null() {
                return Ok(DbValue::Null);
            }
            let kind = raw.type_info().name().to_string();
            match decode(row, index, &kind) {
                Ok(value) => Ok(value),
                Err(sqlx::Error::TypeNotFound { type_name }) => Err(format!(
                    "column {} has type {type_name}, which plugins cannot read; cast it to text in the query",
                    row.columns()[index].name()
                )),
                Err(err) => Err(err.to_string()),
            }
        })
        .collect()
}

fn sqlite_value(
    row: &sqlx::sqlite::SqliteRow,
    index: usize,
    kind: &str,
) -> Result<DbValue, sqlx::Error> {
    Ok(match kind {
        "INTEGER" | "BOOLEAN" | "INT8" | "BIGINT" => DbValue::Integer(row.try_get(index)?),
        "REAL" | "NUMERIC" => DbValue::Real(row.try_get(index)?),
        "BLOB" => DbValue::Blob(row.try_get(index)?),
        _ => DbValue::Text(row.try_get(index)?),
    })
}

fn postgres_value(
    row: &sqlx::postgres::PgRow,
    index: usize,
    kind: &str,
) -> Result<DbValue, sqlx::Error> {
    Ok(match kind {
        "INT2" => DbValue::Integer(row.try_get::<i16, _>(index)?.into()),
        "INT4" => DbValue::Integer(row.try_get::<i32, _>(index)?.into()),
        "INT8" => DbValue::Integer(row.try_get(index)?),
        "BOOL" => DbValue::Integer(row.try_get::<bool, _>(index)?.into()),
        "FLOAT4" => DbValue::Real(row.try_get::<f32, _>(index)?.into()),
        "FLOAT8" => DbValue::Real(row.try_get(index)?),
        "BYTEA" => DbValue::Blob(row.try_get(index)?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" => DbValue::Text(row.try_get(index)?),
        "TIMESTAMPTZ" => DbValue::Text(
            row.try_get::<chrono::DateTime<chrono::Utc>, _>(index)?
                .to_rfc3339(),
        ),
        "JSON" | "JSONB" => DbValue::Text(row.try_get::<serde_json::Value, _>(index)?.to_string()),
        other => {
            return Err(sqlx::Error::TypeNotFound {
                type_name: other.to_string(),
            });
        }
    })
}
