//! Capability `secrets`: values sealed with the panel's key, readable only by the
//! plugin that stored them.

use hatchery_sdk::HostError;

use super::{HostServices, check_name, host_error};
use crate::db::on_pool;

/// Largest secret a plugin may keep.
const MAX_SECRET_BYTES: usize = 64 * 1024;

impl HostServices {
    pub async fn secret_get(&self, name: &str) -> Result<Option<String>, HostError> {
        self.require(self.grants.secrets, "secrets")?;
        check_name("secret name", name)?;
        let db = &self.core.db;
        let sealed: Option<String> = on_pool!(db, pool => {
            sqlx::query_scalar("SELECT sealed FROM plugin_secrets WHERE plugin_id = $1 AND name = $2")
                .bind(&self.plugin_id)
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(|err| host_error(err.into()))?
        });
        sealed
            .map(|sealed| self.core.secrets.open(&sealed).map_err(host_error))
            .transpose()
    }

    pub async fn secret_set(&self, name: &str, value: &str) -> Result<(), HostError> {
        self.require(self.grants.secrets, "secrets")?;
        check_name("secret name", name)?;
        if value.len() > MAX_SECRET_BYTES {
            return Err(HostError::Invalid(format!(
                "a secret holds at most {MAX_SECRET_BYTES} bytes"
            )));
        }
        let sealed = self.core.secrets.seal(value);
        let db = &self.core.db;
        on_pool!(db, pool => {
            sqlx::query(
                "INSERT INTO plugin_secrets (plugin_id, name, sealed, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (plugin_id, name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
            )
            .bind(&self.plugin_id)
            .bind(name)
            .bind(&sealed)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(pool)
            .await
            .map_err(|err| host_error(err.into()))?;
        });
        Ok(())
    }

    pub async fn secret_delete(&self, name: &str) -> Result<(), HostError> {
        self.require(self.grants.secrets, "secrets")?;
        check_name("secret name", name)?;
        let db = &self.core.db;
        on_pool!(db, pool => {
            sqlx::query("DELETE FROM plugin_secrets WHERE plugin_id = $1 AND name = $2")
                .bind(&self.plugin_id)
                .bind(name)
                .execute(pool)
                .await
                .map_err(|err| host_error(err.into()))?;
        });
        Ok(())
    }
}
