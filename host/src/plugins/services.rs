//! The services a plugin may call, with its grants enforced on every call. Both
//! runtimes forward their host calls here, so the rules are the same for Wasm and
//! native plugins.

use std::sync::Arc;

use hatchery_sdk::{DbRows, DbValue, Dialect, Event, LogLevel};

use super::manifest::Capabilities;
use crate::db::plugin_store::PluginStore;
use crate::db::sql_guard;
use crate::events::EventBus;

/// Rows a single query may return; more is almost always a missing `LIMIT`.
pub const MAX_QUERY_ROWS: usize = 10_000;
/// Largest event payload a plugin may publish.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
const MAX_LOG_LINE: usize = 8 * 1024;

pub struct HostServices {
    plugin_id: String,
    table_prefix: String,
    dialect: Dialect,
    grants: Capabilities,
    /// The plugin's own database, when the `database` capability is granted.
    store: Option<Arc<PluginStore>>,
    events: Arc<EventBus>,
}

impl HostServices {
    pub fn new(
        plugin_id: &str,
        dialect: Dialect,
        grants: Capabilities,
        store: Option<Arc<PluginStore>>,
        events: Arc<EventBus>,
    ) -> Self {
        HostServices {
            plugin_id: plugin_id.to_string(),
            table_prefix: sql_guard::table_prefix(plugin_id),
            dialect,
            grants,
            store,
            events,
        }
    }

    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
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

    /// The plugin's store, once the statement passed the guard.
    fn checked_store(&self, sql: &str) -> Result<&PluginStore, String> {
        let store = match &self.store {
            Some(store) if self.grants.database => store,
            _ => return Err("the database capability was not granted to this plugin".into()),
        };
        sql_guard::check(self.dialect, sql, &self.table_prefix, true)?;
        Ok(store)
    }

    pub async fn db_execute(&self, sql: &str, params: Vec<DbValue>) -> Result<u64, String> {
        self.checked_store(sql)?.execute(sql, params).await
    }

    pub async fn db_query(&self, sql: &str, params: Vec<DbValue>) -> Result<DbRows, String> {
        self.checked_store(sql)?
            .query(sql, params, MAX_QUERY_ROWS)
            .await
    }

    /// Publishes `<plugin-id>.<name>`.
    pub fn emit(&self, name: &str, payload: &str) -> Result<(), String> {
        if !self.grants.emit {
            return Err("the emit capability was not granted to this plugin".into());
        }
        let valid_name = !name.is_empty()
            && name.len() <= 128
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
            });
        if !valid_name {
            return Err(format!(
                "event name `{name}` must be lowercase letters, digits, '.', '-' or '_'"
            ));
        }
        if payload.len() > MAX_EVENT_BYTES {
            return Err(format!(
                "event payload is larger than {MAX_EVENT_BYTES} bytes"
            ));
        }
        serde_json::from_str::<serde_json::Value>(payload)
            .map_err(|err| format!("event payload is not JSON: {err}"))?;
        self.events.publish(Event {
            name: format!("{}.{name}", self.plugin_id),
            payload: payload.to_string(),
            source: self.plugin_id.clone(),
        });
        Ok(())
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
