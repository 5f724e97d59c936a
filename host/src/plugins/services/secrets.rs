//! Capability `secrets`: values sealed with the panel's key, readable only by the
//! plugin that stored them.

use async_trait::async_trait;
use hatchery_runtime::services::Secrets;
use hatchery_sdk::HostError;

use super::{HostServices, check_name, host_error};
use crate::db::plugin_secrets;

/// Largest secret a plugin may keep.
const MAX_SECRET_BYTES: usize = 64 * 1024;

#[async_trait]
impl Secrets for HostServices {
    async fn secret_get(&self, name: &str) -> Result<Option<String>, HostError> {
        self.require(self.grants.secrets, "secrets")?;
        check_name("secret name", name)?;
        let sealed = plugin_secrets::get(&self.core.db, &self.plugin_id, name)
            .await
            .map_err(host_error)?;
        sealed
            .map(|sealed| self.core.secrets.open(&sealed).map_err(host_error))
            .transpose()
    }

    async fn secret_set(&self, name: &str, value: &str) -> Result<(), HostError> {
        self.require(self.grants.secrets, "secrets")?;
        check_name("secret name", name)?;
        if value.len() > MAX_SECRET_BYTES {
            return Err(HostError::Invalid(format!(
                "a secret holds at most {MAX_SECRET_BYTES} bytes"
            )));
        }
        let sealed = self.core.secrets.seal(value);
        plugin_secrets::set(&self.core.db, &self.plugin_id, name, &sealed)
            .await
            .map_err(host_error)
    }

    async fn secret_delete(&self, name: &str) -> Result<(), HostError> {
        self.require(self.grants.secrets, "secrets")?;
        check_name("secret name", name)?;
        plugin_secrets::delete(&self.core.db, &self.plugin_id, name)
            .await
            .map_err(host_error)
    }
}
