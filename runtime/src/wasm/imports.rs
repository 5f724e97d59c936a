//! The host side of every interface a component imports: contract 1.0's `host` (string
//! errors, for components built against 1.0) and 1.1's one interface per capability
//! (typed errors). Each forwards to the plugin's [`Services`](crate::services::Services).

use hatchery_sdk::{ActivityEntry, DbRows, DbValue, Dialect, HostError, LogLevel};

use super::CallState;
use super::bindings::hatchery::plugin::{
    activity, db, events, host, http, identity, log, mail, node_files, secrets, servers, settings,
    types,
};
use crate::services::{ArchiveReader, ArchiveWriter, FileWriter};
use wasmtime::component::Resource;

impl types::Host for CallState {}

fn log_level(level: types::LogLevel) -> LogLevel {
    match level {
        types::LogLevel::Trace => LogLevel::Trace,
        types::LogLevel::Debug => LogLevel::Debug,
        types::LogLevel::Info => LogLevel::Info,
        types::LogLevel::Warn => LogLevel::Warn,
        types::LogLevel::Error => LogLevel::Error,
    }
}

fn dialect(dialect: Dialect) -> types::Dialect {
    match dialect {
        Dialect::Sqlite => types::Dialect::Sqlite,
        Dialect::Postgres => types::Dialect::Postgres,
    }
}

fn error(error: HostError) -> types::HostError {
    match error {
        HostError::Denied(message) => types::HostError::Denied(message),
        HostError::NotFound(message) => types::HostError::NotFound(message),
        HostError::Invalid(message) => types::HostError::Invalid(message),
        HostError::Unavailable(message) => types::HostError::Unavailable(message),
        HostError::Internal(message) => types::HostError::Internal(message),
    }
}

fn from_wit_values(values: Vec<types::DbValue>) -> Vec<DbValue> {
    values
        .into_iter()
        .map(|value| match value {
            types::DbValue::Null => DbValue::Null,
            types::DbValue::Integer(v) => DbValue::Integer(v),
            types::DbValue::Real(v) => DbValue::Real(v),
            types::DbValue::Text(v) => DbValue::Text(v),
            types::DbValue::Blob(v) => DbValue::Blob(v),
        })
        .collect()
}

fn to_wit_rows(rows: DbRows) -> types::DbRows {
    let value = |value: DbValue| match value {
        DbValue::Null => types::DbValue::Null,
        DbValue::Integer(v) => types::DbValue::Integer(v),
        DbValue::Real(v) => types::DbValue::Real(v),
        DbValue::Text(v) => types::DbValue::Text(v),
        DbValue::Blob(v) => types::DbValue::Blob(v),
    };
    types::DbRows {
        columns: rows.columns,
        rows: rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(value).collect())
            .collect(),
    }
}

fn to_wit_server(server: hatchery_sdk::Server) -> types::Server {
    types::Server {
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

/// Contract 1.0: one interface, errors as text.
impl host::Host for CallState {
    async fn log(&mut self, level: types::LogLevel, message: String) {
        self.services.log(log_level(level), &message);
    }

    async fn plugin_id(&mut self) -> String {
        self.services.plugin_id().to_string()
    }

    async fn db_dialect(&mut self) -> types::Dialect {
        dialect(self.services.dialect())
    }

    async fn db_execute(
        &mut self,
        sql: String,
        params: Vec<types::DbValue>,
    ) -> Result<u64, String> {
        self.services
            .db_execute(&sql, from_wit_values(params))
            .await
            .map_err(|err| err.to_string())
    }

    async fn db_query(
        &mut self,
        sql: String,
        params: Vec<types::DbValue>,
    ) -> Result<types::DbRows, String> {
        self.services
            .db_query(&sql, from_wit_values(params))
            .await
            .map(to_wit_rows)
            .map_err(|err| err.to_string())
    }

    async fn emit(&mut self, name: String, payload: String) -> Result<(), String> {
        self.services
            .emit(&name, &payload)
            .map_err(|err| err.to_string())
    }
}

impl log::Host for CallState {
    async fn write(&mut self, level: types::LogLevel, message: String) {
        self.services.log(log_level(level), &message);
    }

    async fn plugin_id(&mut self) -> String {
        self.services.plugin_id().to_string()
    }
}

impl db::Host for CallState {
    async fn sql_dialect(&mut self) -> types::Dialect {
        dialect(self.services.dialect())
    }

    async fn execute(
        &mut self,
        sql: String,
        params: Vec<types::DbValue>,
    ) -> Result<u64, types::HostError> {
        self.services
            .db_execute(&sql, from_wit_values(params))
            .await
            .map_err(error)
    }

    async fn query(
        &mut self,
        sql: String,
        params: Vec<types::DbValue>,
    ) -> Result<types::DbRows, types::HostError> {
        self.services
            .db_query(&sql, from_wit_values(params))
            .await
            .map(to_wit_rows)
            .map_err(error)
    }
}

impl events::Host for CallState {
    async fn emit(&mut self, name: String, payload: String) -> Result<(), types::HostError> {
        self.services.emit(&name, &payload).map_err(error)
    }
}

impl servers::Host for CallState {
    async fn get(&mut self, server: String) -> Result<types::Server, types::HostError> {
        self.services
            .server_get(&server)
            .await
            .map(to_wit_server)
            .map_err(error)
    }

    async fn visible_to(&mut self, user_id: i64) -> Result<Vec<types::Server>, types::HostError> {
        self.services
            .servers_visible_to(user_id)
            .await
            .map(|list| list.into_iter().map(to_wit_server).collect())
            .map_err(error)
    }

    async fn permissions(
        &mut self,
        user_id: i64,
        server: String,
    ) -> Result<Vec<String>, types::HostError> {
        self.services
            .server_permissions(user_id, &server)
            .await
            .map_err(error)
    }

    async fn power(&mut self, server: String, signal: String) -> Result<(), types::HostError> {
        self.services
            .server_power(&server, &signal)
            .await
            .map_err(error)
    }

    async fn command(&mut self, server: String, line: String) -> Result<(), types::HostError> {
        self.services
            .server_command(&server, &line)
            .await
            .map_err(error)
    }
}

impl activity::Host for CallState {
    async fn record(&mut self, entry: types::ActivityEntry) -> Result<(), types::HostError> {
        let properties = serde_json::from_str(&entry.properties)
            .map_err(|err| types::HostError::Invalid(format!("properties are not JSON: {err}")))?;
        self.services
            .activity_record(ActivityEntry {
                event: entry.event,
                actor_id: entry.actor_id,
                server: entry.server,
                subject: entry.subject,
                properties,
            })
            .await
            .map_err(error)
    }
}

impl mail::Host for CallState {
    async fn send(&mut self, message: mail::Message) -> Result<(), types::HostError> {
        let message = hatchery_sdk::MailMessage {
            to: message.to,
            subject: message.subject,
            text: message.text,
        };
        self.services.mail_send(message).await.map_err(error)
    }
}

impl secrets::Host for CallState {
    async fn get(&mut self, name: String) -> Result<Option<String>, types::HostError> {
        self.services.secret_get(&name).await.map_err(error)
    }

    async fn set(&mut self, name: String, value: String) -> Result<(), types::HostError> {
        self.services.secret_set(&name, &value).await.map_err(error)
    }

    async fn delete(&mut self, name: String) -> Result<(), types::HostError> {
        self.services.secret_delete(&name).await.map_err(error)
    }
}

impl http::Host for CallState {
    async fn fetch(
        &mut self,
        request: types::OutgoingRequest,
    ) -> Result<types::HttpResponse, types::HostError> {
        self.services
            .http_fetch(hatchery_sdk::OutgoingRequest {
                method: request.method,
                url: request.url,
                headers: request.headers,
                body: request.body,
            })
            .await
            .map(|response| types::HttpResponse {
                status: response.status,
                headers: response.headers,
                body: response.body,
            })
            .map_err(error)
    }
}

fn to_wit_entry(entry: hatchery_sdk::FileEntry) -> types::FileEntry {
    types::FileEntry {
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

fn to_wit_url(url: hatchery_sdk::SignedUrl) -> types::SignedUrl {
    types::SignedUrl {
        url: url.url,
        expires_at: url.expires_at,
    }
}

/// A call's writers live in its store's table: when the call ends, any left
/// unfinished are dropped, which discards them.
impl node_files::HostFileWriter for CallState {
    async fn append(
        &mut self,
        writer: Resource<FileWriter>,
        chunk: Vec<u8>,
    ) -> Result<(), types::HostError> {
        let writer = self
            .table
            .get_mut(&writer)
            .map_err(|err| types::HostError::Invalid(format!("no such writer: {err}")))?;
        writer.0.append(chunk).await.map_err(error)
    }

    async fn finish(&mut self, writer: Resource<FileWriter>) -> Result<u64, types::HostError> {
        // `finish` borrows the writer; the guest drops it afterwards.
        let writer = self
            .table
            .get_mut(&writer)
            .map_err(|err| types::HostError::Invalid(format!("no such writer: {err}")))?;
        writer.0.finish().await.map_err(error)
    }

    async fn drop(&mut self, writer: Resource<FileWriter>) -> wasmtime::Result<()> {
        // Dropping an unfinished writer discards its file.
        let _ = self.table.delete(writer);
        Ok(())
    }
}

impl node_files::Host for CallState {
    async fn list(
        &mut self,
        server: String,
        directory: String,
    ) -> Result<Vec<types::FileEntry>, types::HostError> {
        self.services
            .files_list(self.caller.as_ref(), &server, &directory)
            .await
            .map(|entries| entries.into_iter().map(to_wit_entry).collect())
            .map_err(error)
    }

    async fn stat(
        &mut self,
        server: String,
        path: String,
    ) -> Result<types::FileEntry, types::HostError> {
        self.services
            .files_stat(self.caller.as_ref(), &server, &path)
            .await
            .map(to_wit_entry)
            .map_err(error)
    }

    async fn read(&mut self, server: String, path: String) -> Result<Vec<u8>, types::HostError> {
        self.services
            .files_read(self.caller.as_ref(), &server, &path, None)
            .await
            .map_err(error)
    }

    async fn read_range(
        &mut self,
        server: String,
        path: String,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, types::HostError> {
        self.services
            .files_read(self.caller.as_ref(), &server, &path, Some((offset, length)))
            .await
            .map_err(error)
    }

    async fn write(
        &mut self,
        server: String,
        path: String,
        contents: Vec<u8>,
    ) -> Result<(), types::HostError> {
        self.services
            .files_write(self.caller.as_ref(), &server, &path, contents)
            .await
            .map_err(error)
    }

    async fn open_writer(
        &mut self,
        server: String,
        path: String,
    ) -> Result<Resource<FileWriter>, types::HostError> {
        let writer = self
            .services
            .files_open_writer(self.caller.as_ref(), &server, &path)
            .await
            .map_err(error)?;
        self.table
            .push(FileWriter(writer))
            .map_err(|err| types::HostError::Unavailable(format!("too many open writers: {err}")))
    }

    async fn rename(
        &mut self,
        server: String,
        from: String,
        to: String,
    ) -> Result<(), types::HostError> {
        self.services
            .files_rename(self.caller.as_ref(), &server, &from, &to)
            .await
            .map_err(error)
    }

    async fn copy(&mut self, server: String, path: String) -> Result<String, types::HostError> {
        self.services
            .files_copy(self.caller.as_ref(), &server, &path)
            .await
            .map_err(error)
    }

    async fn delete(&mut self, server: String, paths: Vec<String>) -> Result<(), types::HostError> {
        self.services
            .files_delete(self.caller.as_ref(), &server, &paths)
            .await
            .map_err(error)
    }

    async fn mkdir(&mut self, server: String, path: String) -> Result<(), types::HostError> {
        self.services
            .files_mkdir(self.caller.as_ref(), &server, &path)
            .await
            .map_err(error)
    }

    async fn chmod(
        &mut self,
        server: String,
        path: String,
        mode: u32,
    ) -> Result<(), types::HostError> {
        self.services
            .files_chmod(self.caller.as_ref(), &server, &path, mode)
            .await
            .map_err(error)
    }

    async fn compress(
        &mut self,
        server: String,
        directory: String,
        files: Vec<String>,
    ) -> Result<types::FileEntry, types::HostError> {
        self.services
            .files_compress(self.caller.as_ref(), &server, &directory, &files)
            .await
            .map(to_wit_entry)
            .map_err(error)
    }

    async fn decompress(
        &mut self,
        server: String,
        directory: String,
        file: String,
    ) -> Result<(), types::HostError> {
        self.services
            .files_decompress(self.caller.as_ref(), &server, &directory, &file)
            .await
            .map_err(error)
    }

    async fn download_url(
        &mut self,
        server: String,
        path: String,
    ) -> Result<types::SignedUrl, types::HostError> {
        self.services
            .files_download_url(self.caller.as_ref(), &server, &path)
            .await
            .map(to_wit_url)
            .map_err(error)
    }

    async fn upload_url(
        &mut self,
        server: String,
        directory: String,
    ) -> Result<types::SignedUrl, types::HostError> {
        self.services
            .files_upload_url(self.caller.as_ref(), &server, &directory)
            .await
            .map(to_wit_url)
            .map_err(error)
    }

    async fn archive_list(
        &mut self,
        server: String,
        path: String,
    ) -> Result<Vec<types::ArchiveEntry>, types::HostError> {
        let entries = self
            .services
            .files_archive_list(self.caller.as_ref(), &server, &path)
            .await
            .map_err(error)?;
        Ok(entries
            .into_iter()
            .map(|entry| types::ArchiveEntry {
                name: entry.name,
                size: entry.size,
                directory: entry.directory,
                symlink: entry.symlink,
                modified: entry.modified,
            })
            .collect())
    }

    async fn archive_read(
        &mut self,
        server: String,
        path: String,
        entry: String,
    ) -> Result<Vec<u8>, types::HostError> {
        self.services
            .files_archive_read(self.caller.as_ref(), &server, &path, &entry)
            .await
            .map_err(error)
    }

    async fn archive_extract(
        &mut self,
        server: String,
        path: String,
        entries: Vec<String>,
        directory: String,
    ) -> Result<(), types::HostError> {
        self.services
            .files_archive_extract(self.caller.as_ref(), &server, &path, &entries, &directory)
            .await
            .map_err(error)
    }

    async fn checksum(
        &mut self,
        server: String,
        path: String,
        algorithm: String,
    ) -> Result<String, types::HostError> {
        self.services
            .files_checksum(self.caller.as_ref(), &server, &path, &algorithm)
            .await
            .map_err(error)
    }

    async fn search_url(
        &mut self,
        server: String,
        directory: String,
    ) -> Result<types::SignedUrl, types::HostError> {
        self.services
            .files_search_url(self.caller.as_ref(), &server, &directory)
            .await
            .map(to_wit_url)
            .map_err(error)
    }

    async fn pull(
        &mut self,
        server: String,
        url: String,
        directory: String,
        file_name: Option<String>,
    ) -> Result<(), types::HostError> {
        self.services
            .files_pull(
                self.caller.as_ref(),
                &server,
                &url,
                &directory,
                file_name.as_deref(),
            )
            .await
            .map_err(error)
    }
}

impl identity::Host for CallState {
    async fn find_user(
        &mut self,
        key: String,
    ) -> Result<Option<types::UserInfo>, types::HostError> {
        self.services
            .user_find(&key)
            .await
            .map(|user| {
                user.map(|user| types::UserInfo {
                    id: user.id,
                    uuid: user.uuid,
                    username: user.username,
                    email: user.email,
                    admin: user.admin,
                    language: user.language,
                    permissions: user.permissions,
                    role: user.role,
                })
            })
            .map_err(error)
    }

    async fn create_user(
        &mut self,
        user: types::NewUser,
    ) -> Result<types::UserInfo, types::HostError> {
        let user = hatchery_sdk::NewUser {
            username: user.username,
            email: user.email,
            role: user.role,
        };
        self.services
            .user_create(user)
            .await
            .map(|user| types::UserInfo {
                id: user.id,
                uuid: user.uuid,
                username: user.username,
                email: user.email,
                admin: user.admin,
                language: user.language,
                permissions: user.permissions,
                role: user.role,
            })
            .map_err(error)
    }

    async fn create_session(
        &mut self,
        user_id: i64,
        origin: types::SessionOrigin,
    ) -> Result<types::NewSession, types::HostError> {
        let origin = hatchery_sdk::SessionOrigin {
            ip: origin.ip,
            user_agent: origin.user_agent,
            impersonator_id: origin.impersonator_id,
        };
        self.services
            .session_create(user_id, origin)
            .await
            .map(|session| types::NewSession {
                id: session.id,
                token: session.token,
                expires_at: session.expires_at,
            })
            .map_err(error)
    }

    async fn sessions(
        &mut self,
        user_id: i64,
    ) -> Result<Vec<types::SessionInfo>, types::HostError> {
        self.services
            .sessions_of(user_id)
            .await
            .map(|sessions| {
                sessions
                    .into_iter()
                    .map(|session| types::SessionInfo {
                        id: session.id,
                        ip: session.ip,
                        user_agent: session.user_agent,
                        impersonator_id: session.impersonator_id,
                        created_at: session.created_at,
                        expires_at: session.expires_at,
                        last_seen_at: session.last_seen_at,
                    })
                    .collect()
            })
            .map_err(error)
    }

    async fn revoke_sessions(
        &mut self,
        user_id: i64,
        session_id: Option<i64>,
    ) -> Result<(), types::HostError> {
        self.services
            .sessions_revoke(user_id, session_id)
            .await
            .map_err(error)
    }

    async fn issue_api_key(
        &mut self,
        user_id: i64,
        request: types::ApiKeyRequest,
    ) -> Result<types::NewApiKey, types::HostError> {
        let request = hatchery_sdk::ApiKeyRequest {
            description: request.description,
            servers: request.servers,
            permissions: request.permissions,
            expires_at: request.expires_at,
            admin: request.admin,
            allowed_ips: request.allowed_ips,
        };
        self.services
            .api_key_issue(user_id, request)
            .await
            .map(|key| types::NewApiKey {
                identifier: key.identifier,
                token: key.token,
            })
            .map_err(error)
    }

    async fn api_keys(&mut self, user_id: i64) -> Result<Vec<types::ApiKeyInfo>, types::HostError> {
        self.services
            .api_keys_of(user_id)
            .await
            .map(|keys| {
                keys.into_iter()
                    .map(|key| types::ApiKeyInfo {
                        identifier: key.identifier,
                        description: key.description,
                        servers: key.servers,
                        permissions: key.permissions,
                        admin: key.admin,
                        allowed_ips: key.allowed_ips,
                        created_at: key.created_at,
                        expires_at: key.expires_at,
                        last_used_at: key.last_used_at,
                    })
                    .collect()
            })
            .map_err(error)
    }

    async fn revoke_api_key(
        &mut self,
        user_id: i64,
        identifier: String,
    ) -> Result<(), types::HostError> {
        self.services
            .api_key_revoke(user_id, &identifier)
            .await
            .map_err(error)
    }
}

impl settings::Host for CallState {
    async fn get(&mut self) -> Result<String, types::HostError> {
        self.services.settings_get().await.map_err(error)
    }
}

/// Backup archives: every part read or written counts as progress, which keeps a
/// long backup within its time limit while a stalled one is still stopped.
impl super::backup_bindings::hatchery::plugin::backup_streams::Host for CallState {}

impl super::backup_bindings::hatchery::plugin::backup_streams::HostArchiveReader for CallState {
    async fn read(
        &mut self,
        archive: Resource<ArchiveReader>,
        max: u32,
    ) -> Result<Vec<u8>, types::HostError> {
        let max = (max as usize).min(MAX_ARCHIVE_PART);
        let archive = self
            .table
            .get_mut(&archive)
            .map_err(|err| types::HostError::Invalid(format!("no such archive: {err}")))?;
        let part = archive.0.read(max).await.map_err(error)?;
        self.deadline.extend();
        Ok(part)
    }

    async fn drop(&mut self, archive: Resource<ArchiveReader>) -> wasmtime::Result<()> {
        // The host owns the archive; the guest only borrows it for a call.
        let _ = archive;
        Ok(())
    }
}

impl super::backup_bindings::hatchery::plugin::backup_streams::HostArchiveWriter for CallState {
    async fn write(
        &mut self,
        into: Resource<ArchiveWriter>,
        chunk: Vec<u8>,
    ) -> Result<(), types::HostError> {
        let into = self
            .table
            .get_mut(&into)
            .map_err(|err| types::HostError::Invalid(format!("no such archive: {err}")))?;
        into.0.write(chunk).await.map_err(error)?;
        self.deadline.extend();
        Ok(())
    }

    async fn drop(&mut self, into: Resource<ArchiveWriter>) -> wasmtime::Result<()> {
        let _ = into;
        Ok(())
    }
}

/// Largest archive part handed to a guest at once.
const MAX_ARCHIVE_PART: usize = 4 * 1024 * 1024;
