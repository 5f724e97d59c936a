//! SSH public keys the panel still holds: from before keys belonged to the sign-in
//! plugin, or brought in by an import. At start they are handed to the plugin serving
//! `/api/client/account/ssh-keys` (`PluginHost::hand_over_ssh_keys`).

use super::{Database, on_pool};
use crate::error::Result;

/// A key waiting to be handed over.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldKey {
    pub user_id: i64,
    pub name: String,
    pub fingerprint: String,
    pub public_key: String,
}

pub async fn all(db: &Database) -> Result<Vec<HeldKey>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, HeldKey>(
            "SELECT user_id, name, fingerprint, public_key FROM user_ssh_keys ORDER BY id",
        )
        .fetch_all(pool)
        .await?
    }))
}

pub async fn delete(db: &Database, user_id: i64, fingerprint: &str) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM user_ssh_keys WHERE user_id = $1 AND fingerprint = $2")
            .bind(user_id)
            .bind(fingerprint)
            .execute(pool)
            .await?;
    });
    Ok(())
}
