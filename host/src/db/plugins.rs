//! The `plugins` table: which plugins are installed, enabled, and what they were granted.
//! Every change bumps `plugins.revision`, which running panels poll to apply it.

use chrono::{DateTime, Utc};

use super::{Database, on_pool};
use crate::domain::vocabulary::PluginSource;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PluginRecord {
    pub id: String,
    pub version: String,
    /// `wasm` or `native`.
    pub runtime: String,
    pub enabled: bool,
    /// JSON of [`crate::plugins::manifest::Capabilities`] the admin granted.
    pub grants: String,
    #[sqlx(try_from = "String")]
    pub source: PluginSource,
    /// Hash over every file of the installed plugin; a change means new code.
    pub content_sha256: String,
    pub installed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn list(db: &Database) -> Result<Vec<PluginRecord>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, PluginRecord>("SELECT * FROM plugins ORDER BY id")
            .fetch_all(pool)
            .await?
    }))
}

pub async fn get(db: &Database, id: &str) -> Result<Option<PluginRecord>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, PluginRecord>("SELECT * FROM plugins WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Inserts or replaces the record (keeping `installed_at` of an upgrade's original).
pub async fn save(db: &Database, record: &PluginRecord) -> Result<()> {
    on_pool!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        sqlx::query(
            "INSERT INTO plugins (id, version, runtime, enabled, grants, source, content_sha256, installed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, runtime = excluded.runtime, \
             enabled = excluded.enabled, grants = excluded.grants, source = excluded.source, \
             content_sha256 = excluded.content_sha256, updated_at = excluded.updated_at",
        )
        .bind(&record.id)
        .bind(&record.version)
        .bind(&record.runtime)
        .bind(record.enabled)
        .bind(&record.grants)
        .bind(record.source.as_str())
        .bind(&record.content_sha256)
        .bind(record.installed_at)
        .bind(record.updated_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(BUMP_REVISION).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Enables or disables a plugin, optionally replacing its grants. Returns `false` when
/// no such plugin is installed.
pub async fn set_enabled(
    db: &Database,
    id: &str,
    enabled: bool,
    grants: Option<&str>,
) -> Result<bool> {
    let changed = on_pool!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let result = sqlx::query(
            "UPDATE plugins SET enabled = $2, grants = COALESCE($3, grants), updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(enabled)
        .bind(grants)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        sqlx::query(BUMP_REVISION).execute(&mut *tx).await?;
        tx.commit().await?;
        result.rows_affected() > 0
    });
    Ok(changed)
}

pub async fn set_grants(db: &Database, id: &str, grants: &str) -> Result<()> {
    on_pool!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        sqlx::query("UPDATE plugins SET grants = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(grants)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
        sqlx::query(BUMP_REVISION).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn delete(db: &Database, id: &str) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let result = sqlx::query("DELETE FROM plugins WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(BUMP_REVISION).execute(&mut *tx).await?;
        tx.commit().await?;
        result.rows_affected() > 0
    });
    Ok(deleted)
}

/// A number that changes whenever any plugin record changes.
pub async fn revision(db: &Database) -> Result<i64> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar::<_, i64>("SELECT value FROM host_state WHERE key = 'plugins.revision'")
            .fetch_one(pool)
            .await?
    }))
}

/// Names of the tables whose names start with `prefix` (a plugin's tables).
pub async fn tables_with_prefix(db: &Database, prefix: &str) -> Result<Vec<String>> {
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let names: Vec<String> =
        match db {
            Database::Sqlite(pool) => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE $1 ESCAPE '\\'",
            )
            .bind(&pattern)
            .fetch_all(pool)
            .await?,
            Database::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name LIKE $1 ESCAPE '\\'",
                )
                .bind(&pattern)
                .fetch_all(pool)
                .await?
            }
        };
    Ok(names)
}

/// Drops the tables a plugin kept among the panel's, from before plugins had their own
/// stores (a purge).
pub async fn drop_legacy_tables(db: &Database, prefix: &str) -> Result<()> {
    for table in tables_with_prefix(db, prefix).await? {
        let statement = format!("DROP TABLE IF EXISTS \"{}\"", table.replace('"', "\"\""));
        on_pool!(db, pool => sqlx::query(sqlx::AssertSqlSafe(statement)).execute(pool).await.map(drop))?;
    }
    Ok(())
}

const BUMP_REVISION: &str =
    "UPDATE host_state SET value = value + 1 WHERE key = 'plugins.revision'";
