//! The Wasm side: the component-model bindings of `wit/v1` and their conversion to the
//! SDK's own types, so plugin code never sees generated WIT types.

pub(crate) mod bindings {
    wit_bindgen::generate!({
        path: "../wit/v1",
        world: "plugin-with-providers",
    });
}

use bindings::exports::hatchery::plugin::guest::Guest;
use bindings::hatchery::plugin::types as wit;

use crate::Plugin;

unsafe extern "Rust" {
    // Defined by `export_plugin!` in the plugin crate.
    safe fn __hatchery_plugin_instance() -> &'static dyn Plugin;
}

struct Component;

impl Guest for Component {
    fn handle_request(request: wit::HttpRequest) -> Result<wit::HttpResponse, String> {
        let response = __hatchery_plugin_instance()
            .handle_request(convert::request(request))
            .unwrap_or_else(Into::into);
        Ok(wit::HttpResponse {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }

    fn handle_event(event: wit::Event) -> Result<(), String> {
        __hatchery_plugin_instance()
            .handle_event(crate::Event {
                name: event.name,
                payload: event.payload,
                source: event.source,
            })
            .map_err(|err| err.to_string())
    }

    fn run_command(args: Vec<String>) -> wit::CommandOutput {
        let output = __hatchery_plugin_instance().run_command(args);
        wit::CommandOutput {
            exit_code: output.exit_code,
            stdout: output.stdout,
            stderr: output.stderr,
        }
    }
}

impl bindings::exports::hatchery::plugin::auth_method::Guest for Component {
    fn methods() -> Vec<auth_wit::SignInMethod> {
        __hatchery_plugin_instance()
            .auth_methods()
            .into_iter()
            .map(|method| auth_wit::SignInMethod {
                id: method.id,
                label: method.label,
                kind: match method.kind {
                    crate::MethodKind::Form => auth_wit::MethodKind::Form,
                    crate::MethodKind::Redirect => auth_wit::MethodKind::Redirect,
                    crate::MethodKind::Passkey => auth_wit::MethodKind::Passkey,
                },
                start: method.start,
            })
            .collect()
    }

    fn check_password(username: String, password: String) -> Result<Option<i64>, String> {
        __hatchery_plugin_instance()
            .check_password(&username, &password)
            .map_err(|err| err.to_string())
    }

    fn check_ssh_key(username: String, public_key: String) -> Result<Option<i64>, String> {
        __hatchery_plugin_instance()
            .check_ssh_key(&username, &public_key)
            .map_err(|err| err.to_string())
    }

    fn set_password(user_id: i64, password: auth_wit::PasswordInput) -> Result<bool, String> {
        let password = match password {
            auth_wit::PasswordInput::Plain(text) => crate::PasswordInput::Plain(text),
            auth_wit::PasswordInput::Hash(hash) => crate::PasswordInput::Hash(hash),
        };
        __hatchery_plugin_instance()
            .set_password(user_id, password)
            .map_err(|err| err.to_string())
    }
}

use bindings::exports::hatchery::plugin::auth_method as auth_wit;
use bindings::exports::hatchery::plugin::backup_driver as backup_wit;
use bindings::hatchery::plugin::backup_streams::{ArchiveReader, ArchiveWriter};

/// Largest part asked of wings at once.
const ARCHIVE_PART: usize = 4 * 1024 * 1024;

impl backup_wit::Guest for Component {
    fn save(backup: backup_wit::Backup, archive: &ArchiveReader) -> Result<String, String> {
        let mut reader = ArchiveIn {
            archive,
            pending: Vec::new(),
            offset: 0,
        };
        __hatchery_plugin_instance()
            .backup_save(&backup_ref(backup), &mut reader)
            .map_err(|err| err.to_string())
    }

    fn fetch(backup: backup_wit::Backup, into: &ArchiveWriter) -> Result<(), String> {
        __hatchery_plugin_instance()
            .backup_fetch(&backup_ref(backup), &mut ArchiveOut(into))
            .map_err(|err| err.to_string())
    }

    fn delete(backup: backup_wit::Backup) -> Result<(), String> {
        __hatchery_plugin_instance()
            .backup_delete(&backup_ref(backup))
            .map_err(|err| err.to_string())
    }
}

fn backup_ref(backup: backup_wit::Backup) -> crate::BackupRef {
    crate::BackupRef {
        uuid: backup.uuid,
        server: backup.server,
        config: backup.config,
    }
}

/// The archive wings is making, as a `std::io::Read`.
struct ArchiveIn<'a> {
    archive: &'a ArchiveReader,
    pending: Vec<u8>,
    offset: usize,
}

impl std::io::Read for ArchiveIn<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.offset == self.pending.len() {
            let want = buffer.len().clamp(64 * 1024, ARCHIVE_PART) as u32;
            self.pending = self
                .archive
                .read(want)
                .map_err(|err| std::io::Error::other(convert::host_error(err)))?;
            self.offset = 0;
        }
        let count = buffer.len().min(self.pending.len() - self.offset);
        buffer[..count].copy_from_slice(&self.pending[self.offset..self.offset + count]);
        self.offset += count;
        Ok(count)
    }
}

/// Where a fetched archive goes, as a `std::io::Write`.
struct ArchiveOut<'a>(&'a ArchiveWriter);

impl std::io::Write for ArchiveOut<'_> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let count = buffer.len().min(ARCHIVE_PART);
        self.0
            .write(&buffer[..count])
            .map_err(|err| std::io::Error::other(convert::host_error(err)))?;
        Ok(count)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

bindings::export!(Component with_types_in bindings);

pub(crate) mod convert {
    use super::wit;
    use crate::{
        ActivityEntry, DbRows, DbValue, Dialect, HostError, LogLevel, Principal, Request, Server,
    };

    pub fn host_error(error: wit::HostError) -> HostError {
        match error {
            wit::HostError::Denied(message) => HostError::Denied(message),
            wit::HostError::NotFound(message) => HostError::NotFound(message),
            wit::HostError::Invalid(message) => HostError::Invalid(message),
            wit::HostError::Unavailable(message) => HostError::Unavailable(message),
            wit::HostError::Internal(message) => HostError::Internal(message),
        }
    }

    pub fn server(server: wit::Server) -> Server {
        Server {
            uuid: server.uuid,
            short_id: server.short_id,
            name: server.name,
            description: server.description,
            owner_id: server.owner_id,
            node_id: server.node_id,
            egg_id: server.egg_id,
            status: server.status,
            image: server.image,
            memory_mb: server.memory_mb,
            disk_mb: server.disk_mb,
            cpu_percent: server.cpu_percent,
        }
    }

    pub fn file_entry(entry: wit::FileEntry) -> crate::FileEntry {
        crate::FileEntry {
            name: entry.name,
            size: entry.size,
            directory: entry.directory,
            file: entry.file,
            symlink: entry.symlink,
            mode: entry.mode,
            modified: entry.modified,
            mime: entry.mime,
        }
    }

    pub fn archive_entry(entry: wit::ArchiveEntry) -> crate::ArchiveEntry {
        crate::ArchiveEntry {
            name: entry.name,
            size: entry.size,
            directory: entry.directory,
            symlink: entry.symlink,
            modified: entry.modified,
        }
    }

    pub fn signed_url(url: wit::SignedUrl) -> crate::SignedUrl {
        crate::SignedUrl {
            url: url.url,
            expires_at: url.expires_at,
        }
    }

    pub fn activity_entry(entry: &ActivityEntry) -> wit::ActivityEntry {
        wit::ActivityEntry {
            event: entry.event.clone(),
            actor_id: entry.actor_id,
            server: entry.server.clone(),
            subject: entry.subject.clone(),
            properties: entry.properties.to_string(),
        }
    }

    pub fn request(request: wit::HttpRequest) -> Request {
        Request {
            method: request.method,
            route: request.route,
            path: request.path,
            query: request.query,
            params: request.params,
            headers: request.headers,
            body: request.body,
            principal: request.principal.map(|p| Principal {
                key_scope: None,
                user_id: p.user_id,
                username: p.username,
                admin: p.admin,
                permissions: p.permissions,
            }),
        }
    }

    pub fn log_level(level: LogLevel) -> wit::LogLevel {
        match level {
            LogLevel::Trace => wit::LogLevel::Trace,
            LogLevel::Debug => wit::LogLevel::Debug,
            LogLevel::Info => wit::LogLevel::Info,
            LogLevel::Warn => wit::LogLevel::Warn,
            LogLevel::Error => wit::LogLevel::Error,
        }
    }

    pub fn dialect(dialect: wit::Dialect) -> Dialect {
        match dialect {
            wit::Dialect::Sqlite => Dialect::Sqlite,
            wit::Dialect::Postgres => Dialect::Postgres,
        }
    }

    pub fn db_values(values: &[DbValue]) -> Vec<wit::DbValue> {
        values
            .iter()
            .map(|value| match value {
                DbValue::Null => wit::DbValue::Null,
                DbValue::Integer(v) => wit::DbValue::Integer(*v),
                DbValue::Real(v) => wit::DbValue::Real(*v),
                DbValue::Text(v) => wit::DbValue::Text(v.clone()),
                DbValue::Blob(v) => wit::DbValue::Blob(v.clone()),
            })
            .collect()
    }

    pub fn db_rows(rows: wit::DbRows) -> DbRows {
        DbRows {
            columns: rows.columns,
            rows: rows
                .rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|value| match value {
                            wit::DbValue::Null => DbValue::Null,
                            wit::DbValue::Integer(v) => DbValue::Integer(v),
                            wit::DbValue::Real(v) => DbValue::Real(v),
                            wit::DbValue::Text(v) => DbValue::Text(v),
                            wit::DbValue::Blob(v) => DbValue::Blob(v),
                        })
                        .collect()
                })
                .collect(),
        }
    }
}
