//! The plugin's settings, as the administrator set them (no grant needed: they are
//! the plugin's own configuration), with the schema's defaults filled in.

use async_trait::async_trait;
use hatchery_runtime::services::Settings;
use hatchery_sdk::HostError;

use super::{HostServices, host_error};
use crate::plugins::settings::effective;

#[async_trait]
impl Settings for HostServices {
    /// Every setting as a JSON object, sealed values included.
    async fn settings_get(&self) -> Result<String, HostError> {
        effective(
            &self.core.db,
            &self.core.secrets,
            &self.plugin_id,
            self.settings.as_deref(),
        )
        .await
        .map_err(host_error)
    }
}
