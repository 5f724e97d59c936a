//! Services the host offers a plugin (contract 1.1). Each call is checked against the
//! capabilities the admin granted; a denied or failed call returns a [`HostError`]
//! saying why. Inside a route, `?` turns it into the matching HTTP answer.

use crate::{DbRows, DbValue, Dialect, HostError, LogLevel};

/// Writes a line to the host's log, tagged with this plugin's id.
pub fn log(level: LogLevel, message: &str) {
    imp::log(level, message)
}

/// The id this plugin was installed under.
pub fn plugin_id() -> String {
    imp::plugin_id()
}

/// The SQL dialect of the plugin's database, for plugins that write dialect-specific SQL.
pub fn dialect() -> Dialect {
    imp::dialect()
}

/// Runs one statement against the plugin's own tables (named `<id with _>__…`).
/// Placeholders are `$1`, `$2`, … in both dialects. Returns the number of rows affected.
/// Capability `database`.
pub fn execute(sql: &str, params: &[DbValue]) -> Result<u64, HostError> {
    imp::execute(sql, params)
}

/// Runs one query against the plugin's own tables. Capability `database`.
pub fn query(sql: &str, params: &[DbValue]) -> Result<DbRows, HostError> {
    imp::query(sql, params)
}

/// Publishes the event `<plugin-id>.<name>` with a JSON payload. Capability `emit`.
pub fn emit(name: &str, payload: &serde_json::Value) -> Result<(), HostError> {
    imp::emit(name, &payload.to_string())
}

/// Game servers. Capability `servers`; `power` and `command` need `server_control`.
/// A `server` argument takes a uuid or a short id.
pub mod servers {
    use super::imp;
    use crate::{HostError, Server};

    pub fn get(server: &str) -> Result<Server, HostError> {
        imp::server_get(server)
    }

    /// The servers `user_id` may see: their own, those they are a subuser of, and all
    /// of them for administrators who may read servers.
    pub fn visible_to(user_id: i64) -> Result<Vec<Server>, HostError> {
        imp::servers_visible_to(user_id)
    }

    /// The server permissions `user_id` holds on `server` (`*` for owners and
    /// administrators); `NotFound` when they may not see it at all.
    pub fn permissions(user_id: i64, server: &str) -> Result<Vec<String>, HostError> {
        imp::server_permissions(user_id, server)
    }

    /// `start`, `stop`, `restart` or `kill`, recorded as done by the plugin.
    pub fn power(server: &str, signal: &str) -> Result<(), HostError> {
        imp::server_power(server, signal)
    }

    /// Types one line into the server's console.
    pub fn command(server: &str, line: &str) -> Result<(), HostError> {
        imp::server_command(server, line)
    }
}

/// The activity log. Capability `activity`.
pub mod activity {
    use super::imp;
    use crate::{ActivityEntry, HostError};

    /// Records `entry` as `<plugin-id>:<event>`.
    pub fn record(entry: &ActivityEntry) -> Result<(), HostError> {
        imp::activity_record(entry)
    }
}

/// Secrets the host keeps sealed with the panel's key; a plugin reads only its own.
/// Capability `secrets`.
pub mod secrets {
    use super::imp;
    use crate::HostError;

    pub fn get(name: &str) -> Result<Option<String>, HostError> {
        imp::secret_get(name)
    }

    pub fn set(name: &str, value: &str) -> Result<(), HostError> {
        imp::secret_set(name, value)
    }

    pub fn delete(name: &str) -> Result<(), HostError> {
        imp::secret_delete(name)
    }
}

/// Requests to other services. Capability `http`, listing the hosts the admin allows
/// (`s3.example.com`, `*.example.com`, `127.0.0.1:9000`). Redirects are not followed;
/// answers are capped at 16 MiB.
pub mod http {
    use super::imp;
    use crate::{HostError, OutgoingRequest, Response};

    pub fn fetch(request: &OutgoingRequest) -> Result<Response, HostError> {
        imp::http_fetch(request)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use serde::de::DeserializeOwned;

    use crate::abi::{self, guest::host_call};
    use crate::{ActivityEntry, DbRows, DbValue, Dialect, HostError, LogLevel, Server};

    /// A contract 1.1 call: the host answers with an encoded `Result<T, HostError>`.
    fn typed<T: DeserializeOwned>(op: u32, input: &[u8]) -> Result<T, HostError> {
        host_call::<Result<T, HostError>>(op, input)
            .unwrap_or_else(|message| Err(HostError::Internal(message)))
    }

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

    pub fn execute(sql: &str, params: &[DbValue]) -> Result<u64, HostError> {
        typed(abi::HOST_DB_EXECUTE_TYPED, &abi::encode(&(sql, params)))
    }

    pub fn query(sql: &str, params: &[DbValue]) -> Result<DbRows, HostError> {
        typed(abi::HOST_DB_QUERY_TYPED, &abi::encode(&(sql, params)))
    }

    pub fn emit(name: &str, payload: &str) -> Result<(), HostError> {
        typed(abi::HOST_EMIT_TYPED, &abi::encode(&(name, payload)))
    }

    pub fn server_get(server: &str) -> Result<Server, HostError> {
        typed(abi::HOST_SERVERS_GET, &abi::encode(&server))
    }

    pub fn servers_visible_to(user_id: i64) -> Result<Vec<Server>, HostError> {
        typed(abi::HOST_SERVERS_VISIBLE_TO, &abi::encode(&user_id))
    }

    pub fn server_permissions(user_id: i64, server: &str) -> Result<Vec<String>, HostError> {
        typed(
            abi::HOST_SERVERS_PERMISSIONS,
            &abi::encode(&(user_id, server)),
        )
    }

    pub fn server_power(server: &str, signal: &str) -> Result<(), HostError> {
        typed(abi::HOST_SERVERS_POWER, &abi::encode(&(server, signal)))
    }

    pub fn server_command(server: &str, line: &str) -> Result<(), HostError> {
        typed(abi::HOST_SERVERS_COMMAND, &abi::encode(&(server, line)))
    }

    pub fn activity_record(entry: &ActivityEntry) -> Result<(), HostError> {
        // The properties travel as JSON text: postcard does not carry `Value`.
        let entry = (
            &entry.event,
            entry.actor_id,
            &entry.server,
            &entry.subject,
            entry.properties.to_string(),
        );
        typed(abi::HOST_ACTIVITY_RECORD, &abi::encode(&entry))
    }

    pub fn secret_get(name: &str) -> Result<Option<String>, HostError> {
        typed(abi::HOST_SECRETS_GET, &abi::encode(&name))
    }

    pub fn secret_set(name: &str, value: &str) -> Result<(), HostError> {
        typed(abi::HOST_SECRETS_SET, &abi::encode(&(name, value)))
    }

    pub fn secret_delete(name: &str) -> Result<(), HostError> {
        typed(abi::HOST_SECRETS_DELETE, &abi::encode(&name))
    }

    pub fn http_fetch(request: &crate::OutgoingRequest) -> Result<crate::Response, HostError> {
        typed(abi::HOST_HTTP_FETCH, &abi::encode(request))
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::wasm::bindings::hatchery::plugin::{
        activity, db, events, http, log as wit_log, secrets, servers,
    };
    use crate::wasm::convert;
    use crate::{ActivityEntry, DbRows, DbValue, Dialect, HostError, LogLevel, Server};

    pub fn log(level: LogLevel, message: &str) {
        wit_log::write(convert::log_level(level), message)
    }

    pub fn plugin_id() -> String {
        wit_log::plugin_id()
    }

    pub fn dialect() -> Dialect {
        convert::dialect(db::sql_dialect())
    }

    pub fn execute(sql: &str, params: &[DbValue]) -> Result<u64, HostError> {
        db::execute(sql, &convert::db_values(params)).map_err(convert::host_error)
    }

    pub fn query(sql: &str, params: &[DbValue]) -> Result<DbRows, HostError> {
        db::query(sql, &convert::db_values(params))
            .map(convert::db_rows)
            .map_err(convert::host_error)
    }

    pub fn emit(name: &str, payload: &str) -> Result<(), HostError> {
        events::emit(name, payload).map_err(convert::host_error)
    }

    pub fn server_get(server: &str) -> Result<Server, HostError> {
        servers::get(server)
            .map(convert::server)
            .map_err(convert::host_error)
    }

    pub fn servers_visible_to(user_id: i64) -> Result<Vec<Server>, HostError> {
        servers::visible_to(user_id)
            .map(|list| list.into_iter().map(convert::server).collect())
            .map_err(convert::host_error)
    }

    pub fn server_permissions(user_id: i64, server: &str) -> Result<Vec<String>, HostError> {
        servers::permissions(user_id, server).map_err(convert::host_error)
    }

    pub fn server_power(server: &str, signal: &str) -> Result<(), HostError> {
        servers::power(server, signal).map_err(convert::host_error)
    }

    pub fn server_command(server: &str, line: &str) -> Result<(), HostError> {
        servers::command(server, line).map_err(convert::host_error)
    }

    pub fn activity_record(entry: &ActivityEntry) -> Result<(), HostError> {
        activity::record(&convert::activity_entry(entry)).map_err(convert::host_error)
    }

    pub fn secret_get(name: &str) -> Result<Option<String>, HostError> {
        secrets::get(name).map_err(convert::host_error)
    }

    pub fn secret_set(name: &str, value: &str) -> Result<(), HostError> {
        secrets::set(name, value).map_err(convert::host_error)
    }

    pub fn secret_delete(name: &str) -> Result<(), HostError> {
        secrets::delete(name).map_err(convert::host_error)
    }

    pub fn http_fetch(request: &crate::OutgoingRequest) -> Result<crate::Response, HostError> {
        let request = crate::wasm::bindings::hatchery::plugin::types::OutgoingRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        };
        http::fetch(&request)
            .map(|response| crate::Response {
                status: response.status,
                headers: response.headers,
                body: response.body,
            })
            .map_err(convert::host_error)
    }
}
