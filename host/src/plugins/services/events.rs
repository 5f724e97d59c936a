//! Capability `emit`: events in the plugin's own namespace.

use hatchery_runtime::services::Events;
use hatchery_sdk::{Event, HostError};

use super::{HostServices, check_name};

/// Largest event payload a plugin may publish.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

impl Events for HostServices {
    /// Publishes `<plugin-id>.<name>`.
    fn emit(&self, name: &str, payload: &str) -> Result<(), HostError> {
        self.require(self.grants.emit, "emit")?;
        check_name("event name", name)?;
        if payload.len() > MAX_EVENT_BYTES {
            return Err(HostError::Invalid(format!(
                "event payload is larger than {MAX_EVENT_BYTES} bytes"
            )));
        }
        serde_json::from_str::<serde_json::Value>(payload)
            .map_err(|err| HostError::Invalid(format!("event payload is not JSON: {err}")))?;
        self.core.events.publish(Event {
            name: format!("{}.{name}", self.plugin_id),
            payload: payload.to_string(),
            source: self.plugin_id.clone(),
        });
        Ok(())
    }
}
