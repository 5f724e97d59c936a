//! What a plugin's host calls reach: one trait per capability of the contract, which
//! the process that loads the plugin implements. The panel implements them all; wings
//! implements the few that make sense where the data is (log, settings, outbound
//! HTTP) and leaves the rest to their default, which answers `unavailable`. Both
//! runtimes forward every host call to these traits, so a call means the same thing
//! in Wasm and native plugins and on the panel and a node.

use async_trait::async_trait;
use hatchery_sdk::{
    ActivityEntry, ApiKeyInfo, ApiKeyRequest, ArchiveEntry, DbRows, DbValue, Dialect, FileEntry,
    HostError, LogLevel, MailMessage, NewApiKey, NewSession, NewUser, OutgoingRequest, Principal,
    Response, Server, SessionInfo, SessionOrigin, SignedUrl, UserInfo,
};

/// The answer of a call the process hosting the plugin does not serve.
pub fn not_here(call: &str) -> HostError {
    HostError::Unavailable(format!("{call} is not available where this plugin runs"))
}

/// Everything a loaded plugin can call, with its grants enforced by the implementer.
pub trait Services:
    Database + Events + Servers + Activity + Secrets + Http + NodeFiles + Identity + Settings + Mail
{
    fn plugin_id(&self) -> &str;

    fn log(&self, level: LogLevel, message: &str) {
        let message = truncate(message, MAX_LOG_LINE);
        let plugin = self.plugin_id();
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

/// Longest log line a plugin may write; the rest is cut.
const MAX_LOG_LINE: usize = 8 * 1024;

/// Capability `database`: the plugin's own tables.
#[async_trait]
pub trait Database: Send + Sync {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    async fn db_execute(&self, _sql: &str, _params: Vec<DbValue>) -> Result<u64, HostError> {
        Err(not_here("db.execute"))
    }
    async fn db_query(&self, _sql: &str, _params: Vec<DbValue>) -> Result<DbRows, HostError> {
        Err(not_here("db.query"))
    }
}

/// Capability `emit`: events in the plugin's own namespace.
pub trait Events: Send + Sync {
    fn emit(&self, _name: &str, _payload: &str) -> Result<(), HostError> {
        Err(not_here("events.emit"))
    }
}

/// Capabilities `servers` and `server_control`.
#[async_trait]
pub trait Servers: Send + Sync {
    async fn server_get(&self, _key: &str) -> Result<Server, HostError> {
        Err(not_here("servers.get"))
    }
    async fn servers_visible_to(&self, _user_id: i64) -> Result<Vec<Server>, HostError> {
        Err(not_here("servers.visible-to"))
    }
    async fn server_permissions(
        &self,
        _user_id: i64,
        _key: &str,
    ) -> Result<Vec<String>, HostError> {
        Err(not_here("servers.permissions"))
    }
    async fn server_power(&self, _key: &str, _signal: &str) -> Result<(), HostError> {
        Err(not_here("servers.power"))
    }
    async fn server_command(&self, _key: &str, _line: &str) -> Result<(), HostError> {
        Err(not_here("servers.command"))
    }
}

/// Capability `activity`.
#[async_trait]
pub trait Activity: Send + Sync {
    async fn activity_record(&self, _entry: ActivityEntry) -> Result<(), HostError> {
        Err(not_here("activity.record"))
    }
}

/// Capability `secrets`: values sealed by the host.
#[async_trait]
pub trait Secrets: Send + Sync {
    async fn secret_get(&self, _name: &str) -> Result<Option<String>, HostError> {
        Err(not_here("secrets.get"))
    }
    async fn secret_set(&self, _name: &str, _value: &str) -> Result<(), HostError> {
        Err(not_here("secrets.set"))
    }
    async fn secret_delete(&self, _name: &str) -> Result<(), HostError> {
        Err(not_here("secrets.delete"))
    }
}

/// Capability `mail`: e-mail through the panel's mail server.
#[async_trait]
pub trait Mail: Send + Sync {
    async fn mail_send(&self, _message: MailMessage) -> Result<(), HostError> {
        Err(not_here("mail.send"))
    }
}

/// Capability `http`: requests to the hosts the admin allowed.
#[async_trait]
pub trait Http: Send + Sync {
    async fn http_fetch(&self, _request: OutgoingRequest) -> Result<Response, HostError> {
        Err(not_here("http.fetch"))
    }
}

/// Capability `settings`: the plugin's settings object, defaults filled in.
#[async_trait]
pub trait Settings: Send + Sync {
    async fn settings_get(&self) -> Result<String, HostError> {
        Err(not_here("settings.get"))
    }
}

/// Capability `identity`.
#[async_trait]
pub trait Identity: Send + Sync {
    async fn user_find(&self, _key: &str) -> Result<Option<UserInfo>, HostError> {
        Err(not_here("identity.find-user"))
    }
    async fn user_create(&self, _user: NewUser) -> Result<UserInfo, HostError> {
        Err(not_here("identity.create-user"))
    }
    async fn session_create(
        &self,
        _user_id: i64,
        _origin: SessionOrigin,
    ) -> Result<NewSession, HostError> {
        Err(not_here("identity.create-session"))
    }
    async fn sessions_of(&self, _user_id: i64) -> Result<Vec<SessionInfo>, HostError> {
        Err(not_here("identity.sessions"))
    }
    async fn sessions_revoke(
        &self,
        _user_id: i64,
        _session_id: Option<i64>,
    ) -> Result<(), HostError> {
        Err(not_here("identity.revoke-sessions"))
    }
    async fn api_key_issue(
        &self,
        _user_id: i64,
        _request: ApiKeyRequest,
    ) -> Result<NewApiKey, HostError> {
        Err(not_here("identity.issue-api-key"))
    }
    async fn api_keys_of(&self, _user_id: i64) -> Result<Vec<ApiKeyInfo>, HostError> {
        Err(not_here("identity.api-keys"))
    }
    async fn api_key_revoke(&self, _user_id: i64, _identifier: &str) -> Result<(), HostError> {
        Err(not_here("identity.revoke-api-key"))
    }
}

/// A file being written in parts; dropped unfinished, nothing is kept.
#[async_trait]
pub trait FileSink: Send {
    async fn append(&mut self, chunk: Vec<u8>) -> Result<(), HostError>;
    /// Completes the file; the number of bytes written.
    async fn finish(&mut self) -> Result<u64, HostError>;
}

/// The Wasm resource `file-writer`.
pub struct FileWriter(pub Box<dyn FileSink>);

/// A backup archive being made, which a backup driver reads.
#[async_trait]
pub trait ArchiveSource: Send {
    /// Up to `max` bytes; empty at the end of the archive.
    async fn read(&mut self, max: usize) -> Result<Vec<u8>, HostError>;
}

/// Where an archive a backup driver fetches goes.
#[async_trait]
pub trait ArchiveSink: Send {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), HostError>;
}

/// The Wasm resource `archive-reader`.
pub struct ArchiveReader(pub Box<dyn ArchiveSource>);

/// The Wasm resource `archive-writer`.
pub struct ArchiveWriter(pub Box<dyn ArchiveSink>);

/// Capability `node_files`: a server's files, acting for `caller` during a request.
#[async_trait]
pub trait NodeFiles: Send + Sync {
    async fn files_list(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _directory: &str,
    ) -> Result<Vec<FileEntry>, HostError> {
        Err(not_here("node-files.list"))
    }
    async fn files_stat(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
    ) -> Result<FileEntry, HostError> {
        Err(not_here("node-files.stat"))
    }
    async fn files_read(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
        _range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>, HostError> {
        Err(not_here("node-files.read"))
    }
    async fn files_write(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
        _contents: Vec<u8>,
    ) -> Result<(), HostError> {
        Err(not_here("node-files.write"))
    }
    async fn files_open_writer(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
    ) -> Result<Box<dyn FileSink>, HostError> {
        Err(not_here("node-files.open-writer"))
    }
    async fn files_rename(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _from: &str,
        _to: &str,
    ) -> Result<(), HostError> {
        Err(not_here("node-files.rename"))
    }
    async fn files_copy(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
    ) -> Result<String, HostError> {
        Err(not_here("node-files.copy"))
    }
    async fn files_delete(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _paths: &[String],
    ) -> Result<(), HostError> {
        Err(not_here("node-files.delete"))
    }
    async fn files_mkdir(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
    ) -> Result<(), HostError> {
        Err(not_here("node-files.mkdir"))
    }
    async fn files_chmod(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
        _mode: u32,
    ) -> Result<(), HostError> {
        Err(not_here("node-files.chmod"))
    }
    async fn files_compress(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _directory: &str,
        _names: &[String],
    ) -> Result<FileEntry, HostError> {
        Err(not_here("node-files.compress"))
    }
    async fn files_decompress(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _directory: &str,
        _file: &str,
    ) -> Result<(), HostError> {
        Err(not_here("node-files.decompress"))
    }
    async fn files_download_url(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
    ) -> Result<SignedUrl, HostError> {
        Err(not_here("node-files.download-url"))
    }
    async fn files_upload_url(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _directory: &str,
    ) -> Result<SignedUrl, HostError> {
        Err(not_here("node-files.upload-url"))
    }
    async fn files_archive_list(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
    ) -> Result<Vec<ArchiveEntry>, HostError> {
        Err(not_here("node-files.archive-list"))
    }
    async fn files_archive_read(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
        _entry: &str,
    ) -> Result<Vec<u8>, HostError> {
        Err(not_here("node-files.archive-read"))
    }
    async fn files_archive_extract(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
        _entries: &[String],
        _directory: &str,
    ) -> Result<(), HostError> {
        Err(not_here("node-files.archive-extract"))
    }
    async fn files_checksum(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _path: &str,
        _algorithm: &str,
    ) -> Result<String, HostError> {
        Err(not_here("node-files.checksum"))
    }
    async fn files_search_url(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _directory: &str,
    ) -> Result<SignedUrl, HostError> {
        Err(not_here("node-files.search-url"))
    }
    async fn files_pull(
        &self,
        _caller: Option<&Principal>,
        _server: &str,
        _url: &str,
        _directory: &str,
        _file_name: Option<&str>,
    ) -> Result<(), HostError> {
        Err(not_here("node-files.pull"))
    }
}

/// `text` cut to at most `limit` bytes, on a character boundary.
pub fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
