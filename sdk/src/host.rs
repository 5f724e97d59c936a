//! Services the host offers a plugin. Each call is checked against the capabilities the
//! admin granted; a denied or failed call returns `Err` with a message saying why.

use crate::{DbRows, DbValue, Dialect, LogLevel};

/// Writes a line to the host's log, tagged with this plugin's id.
pub fn log(level: LogLevel, message: &str) {
    imp::log(level, message)
}

/// The id this plugin was installed under.
pub fn plugin_id() -> String {
    imp::plugin_id()
}

/// The SQL dialect of the panel's database, for plugins that write dialect-specific SQL.
pub fn dialect() -> Dialect {
    imp::dialect()
}

/// Runs one statement against the plugin's own tables (named `<id with _>__…`).
/// Placeholders are `$1`, `$2`, … in both dialects. Returns the number of rows affected.
pub fn execute(sql: &str, params: &[DbValue]) -> Result<u64, String> {
    imp::execute(sql, params)
}

/// Runs one query against the plugin's own tables.
pub fn query(sql: &str, params: &[DbValue]) -> Result<DbRows, String> {
    imp::query(sql, params)
}

/// Publishes the event `<plugin-id>.<name>` with a JSON payload.
pub fn emit(name: &str, payload: &serde_json::Value) -> Result<(), String> {
    imp::emit(name, &payload.to_string())
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use crate::abi::{self, guest::host_call};
    use crate::{DbRows, DbValue, Dialect, LogLevel};

    pub fn log(level: LogLevel, message: &str) {
        // A log line that cannot be delivered has nowhere better to go.
        let _ = host_call::<()>(abi::HOST_LOG, &abi::encode(&(level, message)));
    }

    pub fn plugin_id() -> String {
        host_call(abi::HOST_PLUGIN_ID, &[]).unwrap_or_default()
    }

    pub fn dialect() -> Dialect {
        host_call(abi::HOST_DB_DIALECT, &[]).unwrap_or(Dialect::Sqlite)
    }

    pub fn execute(sql: &str, params: &[DbValue]) -> Result<u64, String> {
        host_call(abi::HOST_DB_EXECUTE, &abi::encode(&(sql, params)))
    }

    pub fn query(sql: &str, params: &[DbValue]) -> Result<DbRows, String> {
        host_call(abi::HOST_DB_QUERY, &abi::encode(&(sql, params)))
    }

    pub fn emit(name: &str, payload: &str) -> Result<(), String> {
        host_call(abi::HOST_EMIT, &abi::encode(&(name, payload)))
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::wasm::bindings::hatchery::plugin::host;
    use crate::wasm::convert;
    use crate::{DbRows, DbValue, Dialect, LogLevel};

    pub fn log(level: LogLevel, message: &str) {
        host::log(convert::log_level(level), message)
    }

    pub fn plugin_id() -> String {
        host::plugin_id()
    }

    pub fn dialect() -> Dialect {
        convert::dialect(host::db_dialect())
    }

    pub fn execute(sql: &str, params: &[DbValue]) -> Result<u64, String> {
        host::db_execute(sql, &convert::db_values(params))
    }

    pub fn query(sql: &str, params: &[DbValue]) -> Result<DbRows, String> {
        host::db_query(sql, &convert::db_values(params)).map(convert::db_rows)
    }

    pub fn emit(name: &str, payload: &str) -> Result<(), String> {
        host::emit(name, payload)
    }
}
