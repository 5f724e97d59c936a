//! The services a plugin may call, with its grants enforced on every call. Both
//! runtimes forward their host calls here, so the rules are the same for Wasm and
//! native plugins. One module per capability of the contract (`db`, `events`,
//! `servers`, `activity`, `secrets`, `http`, `node_files`, `identity`, `settings`), each
//! implementing the runtime's trait for it; every call fails with a typed [`HostError`].

mod activity;
mod db;
mod events;
mod files;
mod http;
mod identity;
mod mail;
mod secrets;
mod servers;
mod settings;

use std::sync::Arc;

use hatchery_runtime::services::Services;
use hatchery_sdk::HostError;

use super::manifest::Capabilities;
use super::settings::SettingsSchema;
use crate::actions::Core;
use crate::db::plugin_store::PluginStore;
use crate::db::sql_guard;
use crate::error::Error;

pub use db::MAX_QUERY_ROWS;
pub use events::MAX_EVENT_BYTES;

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
    /// The panel's mail server, when one is configured.
    mailer: Option<Arc<crate::mail::Mailer>>,
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
            mailer: None,
        }
    }

    /// Services whose `mail` calls go through `mailer`.
    pub fn with_mailer(mut self, mailer: Option<Arc<crate::mail::Mailer>>) -> Self {
        self.mailer = mailer;
        self
    }

    /// Services whose `settings` calls answer with `schema`'s defaults filled in.
    pub fn with_settings(mut self, schema: Option<Arc<SettingsSchema>>) -> Self {
        self.settings = schema;
        self
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

impl Services for HostServices {
    fn plugin_id(&self) -> &str {
        &self.plugin_id
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
