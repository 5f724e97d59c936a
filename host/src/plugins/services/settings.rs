//! The plugin's settings, as the administrator set them (no grant needed: they are
//! the plugin's own configuration), with the schema's defaults filled in.

use async_trait::async_trait;
use hatchery_runtime::services::Settings;
use hatchery_sdk::HostError;
use serde_json::Value;

use super::{HostServices, host_error};
use crate::db::plugin_settings;

#[async_trait]
impl Settings for HostServices {
    /// Every setting as a JSON object, sealed values included.
    async fn settings_get(&self) -> Result<String, HostError> {
        let stored = plugin_settings::get(&self.core.db, &self.core.secrets, &self.plugin_id)
            .await
            .map_err(host_error)?;
        let values = match &self.settings {
            Some(schema) => schema.with_defaults(&stored.merged()),
            None => stored.merged(),
        };
        Ok(Value::Object(values).to_string())
    }
}
