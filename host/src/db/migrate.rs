//! Schema migrations for the host and for every plugin, through one mechanism: each
//! owner (`core` or a plugin id) has numbered SQL files per dialect, recorded in
//! `schema_migrations` with a checksum so an edited, already-applied file is caught.

use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;

use super::{Database, Dialect, on_pool};
use crate::error::{Error, Result};

pub const CORE_OWNER: &str = "core";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub sql: String,
}

impl Migration {
    /// Builds a migration from a file name such as `0001_create_greetings.sql`.
    pub fn from_file(file_name: &str, sql: String) -> Result<Migration, String> {
        let (version, name) = hatchery_runtime::package::migration_name(file_name)?;
        Ok(Migration {
            version,
            name: name.to_string(),
            sql,
        })
    }

    fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// The host's own migrations for `dialect`, in order.
pub fn core_migrations(dialect: Dialect) -> Vec<Migration> {
    macro_rules! core_files {
        ($dir:literal: $($name:literal),+) => {
            &[$(($name, include_str!(concat!("../../migrations/", $dir, "/", $name)))),+]
        };
    }
    let files: &[(&str, &str)] = match dialect {
        Dialect::Sqlite => {
            core_files!("sqlite": "0001_core.sql", "0002_eggs.sql", "0003_nodes.sql", "0004_servers.sql", "0005_identity.sql", "0006_allocation_limit.sql", "0007_event_outbox.sql", "0008_server_intents.sql", "0009_plugin_secrets.sql", "0010_plugin_timers.sql", "0011_plugin_settings.sql", "0012_session_activity.sql", "0013_api_key_limits.sql")
        }
        Dialect::Postgres => {
            core_files!("postgres": "0001_core.sql", "0002_eggs.sql", "0003_nodes.sql", "0004_servers.sql", "0005_identity.sql", "0006_allocation_limit.sql", "0007_plugin_databases.sql", "0008_event_outbox.sql", "0009_server_intents.sql", "0010_plugin_secrets.sql", "0011_plugin_timers.sql", "0012_plugin_settings.sql", "0013_session_activity.sql", "0014_api_key_limits.sql")
        }
    };
    files
        .iter()
        .map(|(name, sql)| {
            Migration::from_file(name, sql.to_string()).expect("core migration names are valid")
        })
        .collect()
}

pub(crate) const CREATE_TRACKING_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    owner TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (owner, version)
)";

/// Applies the migrations of `owner` that have not run yet, each in its own
/// transaction, in version order. Returns how many ran.
///
/// On PostgreSQL the whole run holds a session advisory lock, so panels starting
/// together on one database wait for each other instead of racing (even
/// `CREATE TABLE IF NOT EXISTS` races in PostgreSQL's catalog); on SQLite each
/// migration's transaction begins `IMMEDIATE`, taking the file's write lock before it
/// reads what has run.
pub async fn apply(db: &Database, owner: &str, migrations: &[Migration]) -> Result<usize> {
    match db {
        Database::Postgres(pool) => {
            let mut holder = pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATIONS_LOCK)
                .execute(&mut *holder)
                .await?;
            let outcome = apply_unlocked(db, owner, migrations).await;
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATIONS_LOCK)
                .execute(&mut *holder)
                .await;
            if unlocked.is_err() {
                // A session that cannot unlock must not go back to the pool holding it.
                holder.detach();
            }
            outcome
        }
        Database::Sqlite(_) => apply_unlocked(db, owner, migrations).await,
    }
}

/// The advisory lock every migration run holds on PostgreSQL ("hatchery" in ASCII).
const MIGRATIONS_LOCK: i64 = 0x6861_7463_6865_7279;

async fn apply_unlocked(db: &Database, owner: &str, migrations: &[Migration]) -> Result<usize> {
    let mut sorted: Vec<&Migration> = migrations.iter().collect();
    sorted.sort_by_key(|m| m.version);
    if let Some(pair) = sorted
        .windows(2)
        .find(|pair| pair[0].version == pair[1].version)
    {
        return Err(Error::Migration(format!(
            "{owner}: two migrations share version {}",
            pair[0].version
        )));
    }

    on_pool!(db, pool => sqlx::query(CREATE_TRACKING_TABLE).execute(pool).await.map(drop))?;

    let mut applied_count = 0;
    for migration in sorted {
        let ran = on_pool!(db, pool => {
            let mut tx = pool.begin_with(db.begin_write()).await?;
            let existing: Option<(String,)> = sqlx::query_as(
                "SELECT checksum FROM schema_migrations WHERE owner = $1 AND version = $2",
            )
            .bind(owner)
            .bind(migration.version)
            .fetch_optional(&mut *tx)
            .await?;
            match existing {
                Some((checksum,)) if checksum == migration.checksum() => false,
                Some(_) => {
                    return Err(Error::Migration(format!(
                        "{owner}: migration {:04}_{} was changed after it was applied; \
                         add a new migration instead of editing an old one",
                        migration.version, migration.name
                    )));
                }
                None => {
                    sqlx::raw_sql(AssertSqlSafe(migration.sql.clone()))
                        .execute(&mut *tx)
                        .await
                        .map_err(|err| {
                            Error::Migration(format!(
                                "{owner}: {:04}_{}: {err}",
                                migration.version, migration.name
                            ))
                        })?;
                    sqlx::query(
                        "INSERT INTO schema_migrations (owner, version, name, checksum, applied_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(owner)
                    .bind(migration.version)
                    .bind(&migration.name)
                    .bind(migration.checksum())
                    .bind(chrono::Utc::now().to_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    true
                }
            }
        });
        if ran {
            applied_count += 1;
            tracing::info!(owner, version = migration.version, name = %migration.name, "applied migration");
        }
    }
    Ok(applied_count)
}

/// Forgets `owner`'s migrations (after its tables were dropped).
pub async fn forget(db: &Database, owner: &str) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query(CREATE_TRACKING_TABLE).execute(pool).await?;
        sqlx::query("DELETE FROM schema_migrations WHERE owner = $1")
            .bind(owner)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Runs the host's own migrations.
pub async fn apply_core(db: &Database) -> Result<usize> {
    apply(db, CORE_OWNER, &core_migrations(db.dialect())).await
}
