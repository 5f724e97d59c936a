//! The services a plugin may call, with its grants enforced on every call. Both
//! runtimes forward their host calls here, so the rules are the same for Wasm and
//! native plugins. One module per capability of the contract (`db`, `events`,
//! `servers`, `activity`, `secrets`, `http`); every call fails with a typed [`HostError`].

mod activity;
mod db;
mod events;
mod files;
mod http;
mod identity;
mod secrets;
mod servers;
mod settings;

use std::sync::Arc;

use hatchery_sdk::{Dialect, HostError, LogLevel};

use super::manifest::Capabilities;
use super::settings::SettingsSchema;
use crate::actions::Core;
use crate::db::plugin_store::PluginStore;
use crate::db::sql_guard;
use crate::error::Error;

pub use db::MAX_QUERY_ROWS;
pub use events::MAX_EVENT_BYTES;
pub use files::FileWriter;
const MAX_LOG_LINE: usize = 8 * 1024;

pub struct HostServices {
    plugin_id: String,
    table_prefix: String,
    grants: Capabilities,
    /// The plugin's own database, when the `database` capability is granted.
    store: Option<Arc<PluginStore>>,
    /// The panel's database, secrets, event bus and nodes.
    core: Core,
    /// The plugin's settings schema, when its package has one.
    settings: Option<Arc<SettingsSchema>>,
}

impl HostServices {
    pub fn new(
        plugin_id: &str,
        grants: Capabilities,
        store: Option<Arc<PluginStore>>,
        core: Core,
    ) -> Self {
        HostServices {
            plugin_id: plugin_id.to_string(),
            table_prefix: sql_guard::table_prefix(plugin_id),
            grants,
            store,
            core,
            settings: None,
        }
    }

    /// Services whose `settings` calls answer with `schema`'s defaults filled in.
    pub fn with_settings(mut self, schema: Option<Arc<SettingsSchema>>) -> Self {
        self.settings = schema;
        self
    }

    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }

    pub fn dialect(&self) -> Dialect {
        self.core.db.dialect()
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        let message = truncate(message, MAX_LOG_LINE);
        let plugin = self.plugin_id.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }

    /// `Denied` unless the admin granted capability `name` (`granted`).
    fn require(&self, granted: bool, name: &str) -> Result<(), HostError> {
        match granted {
            true => Ok(()),
            false => Err(HostError::Denied(format!(
                "the {name} capability was not granted to plugin {}",
                self.plugin_id
            ))),
        }
    }
}

/// The kind of failure a plugin sees for a host error.
pub fn host_error(error: Error) -> HostError {
    let message = error.to_string();
    match error {
        Error::NotFound(_) => HostError::NotFound(message),
        Error::Forbidden(_) | Error::Unauthenticated(_) => HostError::Denied(message),
        Error::BadRequest { .. } | Error::Conflict(_) | Error::PayloadTooLarge(_) => {
            HostError::Invalid(message)
        }
        Error::Node(_) | Error::Database(_) | Error::TooManyRequests(_) | Error::PluginBusy(_) => {
            HostError::Unavailable(message)
        }
        _ => HostError::Internal(message),
    }
}

/// A name a plugin gives (an event, a secret): lowercase letters, digits, '.', '-', '_'.
fn check_name(what: &str, name: &str) -> Result<(), HostError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    match valid {
        true => Ok(()),
        false => Err(HostError::Invalid(format!(
            "{what} `{name}` must be 1 to 128 lowercase letters, digits, '.', '-' or '_'"
        ))),
    }
}

fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
