//! Secrets plugins keep (capability `secrets`), stored sealed: this module only moves
//! the sealed text; sealing and opening happen in the plugin services.

use super::{Database, on_pool};
use crate::error::Result;

pub async fn get(db: &Database, plugin_id: &str, name: &str) -> Result<Option<String>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT sealed FROM plugin_secrets WHERE plugin_id = $1 AND name = $2")
            .bind(plugin_id)
            .bind(name)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn set(db: &Database, plugin_id: &str, name: &str, sealed: &str) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO plugin_secrets (plugin_id, name, sealed, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plugin_id, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
        )
        .bind(plugin_id)
        .bind(name)
        .bind(sealed)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(pool)
        .await?;
    });
    Ok(())
}

pub async fn delete(db: &Database, plugin_id: &str, name: &str) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM plugin_secrets WHERE plugin_id = $1 AND name = $2")
            .bind(plugin_id)
            .bind(name)
            .execute(pool)
            .await?;
    });
    Ok(())
}
