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

/// E-mail from the panel's address through its mail server. Capability `mail`; the
/// call fails with `Unavailable` when the administrator configured no mail server.
pub mod mail {
    use super::imp;
    use crate::{HostError, MailMessage};

    pub fn send(message: &MailMessage) -> Result<(), HostError> {
        imp::mail_send(message)
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

/// Files in a server's directory, worked on by the server's node. Capability
/// `node_files`. Paths are inside the server's directory (`/` is its root).
///
/// While handling a request, the plugin acts for the user who made it: each call needs
/// that user's server permission (`file.read` to list and stat, `file.read-content` to
/// read, `file.create` / `file.update` to write, `file.delete`, `file.archive`) and is
/// recorded in the activity log as theirs. Outside a request it acts as itself.
pub mod files {
    use super::imp;
    use crate::{ArchiveEntry, FileEntry, HostError, SignedUrl};

    pub fn list(server: &str, directory: &str) -> Result<Vec<FileEntry>, HostError> {
        imp::files_list(server, directory)
    }

    /// One entry; a final link is not followed.
    pub fn stat(server: &str, path: &str) -> Result<FileEntry, HostError> {
        imp::files_stat(server, path)
    }

    /// A whole file of at most 32 MiB; read larger ones with [`read_range`].
    pub fn read(server: &str, path: &str) -> Result<Vec<u8>, HostError> {
        imp::files_read(server, path)
    }

    /// Up to `length` bytes (at most 32 MiB) from `offset`; fewer at the end.
    pub fn read_range(
        server: &str,
        path: &str,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, HostError> {
        imp::files_read_range(server, path, offset, length)
    }

    /// Replaces or creates a whole file, atomically.
    pub fn write(server: &str, path: &str, contents: &[u8]) -> Result<(), HostError> {
        imp::files_write(server, path, contents)
    }

    /// Starts a file written in parts; see [`FileWriter`].
    pub fn open_writer(server: &str, path: &str) -> Result<FileWriter, HostError> {
        imp::files_open_writer(server, path).map(|inner| FileWriter { inner })
    }

    /// A file written in parts, streamed to the node as they come. The file appears,
    /// atomically, at [`FileWriter::finish`]; dropping the writer (or leaving it idle
    /// for a minute) discards what was sent.
    pub struct FileWriter {
        inner: imp::Writer,
    }

    impl FileWriter {
        pub fn append(&mut self, chunk: &[u8]) -> Result<(), HostError> {
            imp::writer_append(&self.inner, chunk)
        }

        /// Completes the file; returns its size in bytes.
        pub fn finish(self) -> Result<u64, HostError> {
            imp::writer_finish(self.inner)
        }
    }

    pub fn rename(server: &str, from: &str, to: &str) -> Result<(), HostError> {
        imp::files_rename(server, from, to)
    }

    /// Copies a file beside itself (`name copy.ext`); returns the copy's path.
    pub fn copy(server: &str, path: &str) -> Result<String, HostError> {
        imp::files_copy(server, path)
    }

    /// Deletes files and directories, with what they hold.
    pub fn delete(server: &str, paths: &[String]) -> Result<(), HostError> {
        imp::files_delete(server, paths)
    }

    /// Creates a directory and any missing parents.
    pub fn mkdir(server: &str, path: &str) -> Result<(), HostError> {
        imp::files_mkdir(server, path)
    }

    /// Sets permission bits (`0o000` to `0o777`).
    pub fn chmod(server: &str, path: &str, mode: u32) -> Result<(), HostError> {
        imp::files_chmod(server, path, mode)
    }

    /// Packs `files` of `directory` into a new archive there; returns the archive.
    pub fn compress(
        server: &str,
        directory: &str,
        files: &[String],
    ) -> Result<FileEntry, HostError> {
        imp::files_compress(server, directory, files)
    }

    /// Unpacks archive `file` of `directory` into `directory`.
    pub fn decompress(server: &str, directory: &str, file: &str) -> Result<(), HostError> {
        imp::files_decompress(server, directory, file)
    }

    /// A URL the user's browser downloads `path` from, straight from the node, once.
    pub fn download_url(server: &str, path: &str) -> Result<SignedUrl, HostError> {
        imp::files_download_url(server, path)
    }

    /// A URL the user's browser uploads files to (multipart) into `directory`, once.
    pub fn upload_url(server: &str, directory: &str) -> Result<SignedUrl, HostError> {
        imp::files_upload_url(server, directory)
    }

    /// The entries of archive `path` (zip, jar, tar, tar.gz, tar.zst, 7z), read on the
    /// node without extracting anything. Needs `file.read-content`.
    pub fn archive_list(server: &str, path: &str) -> Result<Vec<ArchiveEntry>, HostError> {
        imp::files_archive_list(server, path)
    }

    /// The bytes of file `entry` inside archive `path` (at most 32 MiB). Needs
    /// `file.read-content`.
    pub fn archive_read(server: &str, path: &str, entry: &str) -> Result<Vec<u8>, HostError> {
        imp::files_archive_read(server, path, entry)
    }

    /// Extracts `entries` (none: everything) of archive `path` into `directory`, each
    /// under its own name; a hostile archive is refused whole. Needs `file.archive`.
    pub fn archive_extract(
        server: &str,
        path: &str,
        entries: &[String],
        directory: &str,
    ) -> Result<(), HostError> {
        imp::files_archive_extract(server, path, entries, directory)
    }

    /// A file's checksum as lowercase hex: `sha256`, `md5` or `crc32`. Needs
    /// `file.read-content`.
    pub fn checksum(server: &str, path: &str, algorithm: &str) -> Result<String, HostError> {
        imp::files_checksum(server, path, algorithm)
    }

    /// A URL the user's browser searches `directory` at, on the node, once; results
    /// stream back as JSON lines. Needs `file.read` (and `file.read-content` for
    /// searches by content).
    pub fn search_url(server: &str, directory: &str) -> Result<SignedUrl, HostError> {
        imp::files_search_url(server, directory)
    }

    /// Starts downloading `url` into `directory` on the node, named `file_name` or
    /// after the URL; only public addresses are reached, and the outcome lands in the
    /// server's activity. Needs `file.create`.
    pub fn pull(
        server: &str,
        url: &str,
        directory: &str,
        file_name: Option<&str>,
    ) -> Result<(), HostError> {
        imp::files_pull(server, url, directory, file_name)
    }
}

/// The plugin's settings, as the administrator saved them: checked against the JSON
/// Schema the manifest names (`settings = "settings.schema.json"`), with its defaults
/// filled in and `writeOnly` values unsealed. No capability needed.
pub mod settings {
    use super::imp;
    use crate::HostError;

    /// The settings as `T` (a struct with `#[derive(Deserialize)]`).
    pub fn get<T: serde::de::DeserializeOwned>() -> Result<T, HostError> {
        serde_json::from_str(&imp::settings_get()?).map_err(|err| {
            HostError::Invalid(format!("the settings do not fit this plugin's type: {err}"))
        })
    }

    /// The settings as a JSON object.
    pub fn json() -> Result<serde_json::Value, HostError> {
        get()
    }
}

/// Users, sign-ins and credentials, for plugins that implement sign-in methods.
/// Capability `identity`. Answer a sign-in route (`scope = "auth"`) with
/// [`crate::Response::with_session`] and the host sets the browser's cookie.
pub mod identity {
    use super::imp;
    use crate::{
        ApiKeyInfo, ApiKeyRequest, HostError, NewApiKey, NewSession, NewUser, SessionInfo,
        SessionOrigin, UserInfo,
    };

    /// A user by id, uuid, username or email.
    pub fn find_user(key: &str) -> Result<Option<UserInfo>, HostError> {
        imp::identity_find_user(key)
    }

    /// Opens an account (auto-provisioning by an identity provider). `Invalid` when the
    /// username or email is taken or malformed, or the role does not exist.
    pub fn create_user(user: &NewUser) -> Result<UserInfo, HostError> {
        imp::identity_create_user(user)
    }

    /// Signs a user in. With an impersonator, that administrator must hold
    /// `users.impersonate` and everything the user holds.
    pub fn create_session(user_id: i64, origin: &SessionOrigin) -> Result<NewSession, HostError> {
        imp::identity_create_session(user_id, origin)
    }

    /// The user's live sessions, the newest first.
    pub fn sessions(user_id: i64) -> Result<Vec<SessionInfo>, HostError> {
        imp::identity_sessions(user_id)
    }

    /// Ends one session of the user, or every one with `session_id` `None`.
    pub fn revoke_sessions(user_id: i64, session_id: Option<i64>) -> Result<(), HostError> {
        imp::identity_revoke_sessions(user_id, session_id)
    }

    /// A new API key for the user; show `token` once. Administrator powers only when
    /// the request asks and the user has them.
    pub fn issue_api_key(user_id: i64, request: &ApiKeyRequest) -> Result<NewApiKey, HostError> {
        imp::identity_issue_api_key(user_id, request)
    }

    /// The user's API keys, the newest first.
    pub fn api_keys(user_id: i64) -> Result<Vec<ApiKeyInfo>, HostError> {
        imp::identity_api_keys(user_id)
    }

    /// Revokes a key; it stops working on the next request.
    pub fn revoke_api_key(user_id: i64, identifier: &str) -> Result<(), HostError> {
        imp::identity_revoke_api_key(user_id, identifier)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use serde::de::DeserializeOwned;
    use serde_bytes::{ByteBuf, Bytes};

    use crate::abi::{self, guest::host_call};
    use crate::{
        ActivityEntry, ApiKeyInfo, ApiKeyRequest, ArchiveEntry, DbRows, DbValue, Dialect,
        FileEntry, HostError, LogLevel, NewApiKey, NewSession, NewUser, Server, SessionInfo,
        SessionOrigin, SignedUrl, UserInfo,
    };

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

    pub fn mail_send(message: &crate::MailMessage) -> Result<(), HostError> {
        typed(abi::HOST_MAIL_SEND, &abi::encode(message))
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

    pub fn files_list(server: &str, directory: &str) -> Result<Vec<FileEntry>, HostError> {
        typed(abi::HOST_FILES_LIST, &abi::encode(&(server, directory)))
    }

    pub fn files_stat(server: &str, path: &str) -> Result<FileEntry, HostError> {
        typed(abi::HOST_FILES_STAT, &abi::encode(&(server, path)))
    }

    pub fn files_read(server: &str, path: &str) -> Result<Vec<u8>, HostError> {
        typed::<ByteBuf>(abi::HOST_FILES_READ, &abi::encode(&(server, path))).map(ByteBuf::into_vec)
    }

    pub fn files_read_range(
        server: &str,
        path: &str,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, HostError> {
        let input = abi::encode(&(server, path, offset, length));
        typed::<ByteBuf>(abi::HOST_FILES_READ_RANGE, &input).map(ByteBuf::into_vec)
    }

    pub fn files_write(server: &str, path: &str, contents: &[u8]) -> Result<(), HostError> {
        typed(
            abi::HOST_FILES_WRITE,
            &abi::encode(&(server, path, Bytes::new(contents))),
        )
    }

    /// A writer is a handle the host hands out; dropping it tells the host to discard.
    pub struct Writer {
        handle: u64,
        finished: std::cell::Cell<bool>,
    }

    impl Drop for Writer {
        fn drop(&mut self) {
            if !self.finished.get() {
                let _ = typed::<()>(abi::HOST_FILES_ABORT, &abi::encode(&self.handle));
            }
        }
    }

    pub fn files_open_writer(server: &str, path: &str) -> Result<Writer, HostError> {
        let handle = typed(abi::HOST_FILES_OPEN_WRITER, &abi::encode(&(server, path)))?;
        Ok(Writer {
            handle,
            finished: std::cell::Cell::new(false),
        })
    }

    pub fn writer_append(writer: &Writer, chunk: &[u8]) -> Result<(), HostError> {
        typed(
            abi::HOST_FILES_APPEND,
            &abi::encode(&(writer.handle, Bytes::new(chunk))),
        )
    }

    pub fn writer_finish(writer: Writer) -> Result<u64, HostError> {
        writer.finished.set(true);
        typed(abi::HOST_FILES_FINISH, &abi::encode(&writer.handle))
    }

    pub fn files_rename(server: &str, from: &str, to: &str) -> Result<(), HostError> {
        typed(abi::HOST_FILES_RENAME, &abi::encode(&(server, from, to)))
    }

    pub fn files_copy(server: &str, path: &str) -> Result<String, HostError> {
        typed(abi::HOST_FILES_COPY, &abi::encode(&(server, path)))
    }

    pub fn files_delete(server: &str, paths: &[String]) -> Result<(), HostError> {
        typed(abi::HOST_FILES_DELETE, &abi::encode(&(server, paths)))
    }

    pub fn files_mkdir(server: &str, path: &str) -> Result<(), HostError> {
        typed(abi::HOST_FILES_MKDIR, &abi::encode(&(server, path)))
    }

    pub fn files_chmod(server: &str, path: &str, mode: u32) -> Result<(), HostError> {
        typed(abi::HOST_FILES_CHMOD, &abi::encode(&(server, path, mode)))
    }

    pub fn files_compress(
        server: &str,
        directory: &str,
        files: &[String],
    ) -> Result<FileEntry, HostError> {
        let input = abi::encode(&(server, directory, files));
        typed(abi::HOST_FILES_COMPRESS, &input)
    }

    pub fn files_decompress(server: &str, directory: &str, file: &str) -> Result<(), HostError> {
        let input = abi::encode(&(server, directory, file));
        typed(abi::HOST_FILES_DECOMPRESS, &input)
    }

    pub fn files_download_url(server: &str, path: &str) -> Result<SignedUrl, HostError> {
        typed(abi::HOST_FILES_DOWNLOAD_URL, &abi::encode(&(server, path)))
    }

    pub fn files_upload_url(server: &str, directory: &str) -> Result<SignedUrl, HostError> {
        typed(
            abi::HOST_FILES_UPLOAD_URL,
            &abi::encode(&(server, directory)),
        )
    }

    pub fn files_archive_list(server: &str, path: &str) -> Result<Vec<ArchiveEntry>, HostError> {
        typed(abi::HOST_FILES_ARCHIVE_LIST, &abi::encode(&(server, path)))
    }

    pub fn files_archive_read(server: &str, path: &str, entry: &str) -> Result<Vec<u8>, HostError> {
        let bytes: ByteBuf = typed(
            abi::HOST_FILES_ARCHIVE_READ,
            &abi::encode(&(server, path, entry)),
        )?;
        Ok(bytes.into_vec())
    }

    pub fn files_archive_extract(
        server: &str,
        path: &str,
        entries: &[String],
        directory: &str,
    ) -> Result<(), HostError> {
        let input = abi::encode(&(server, path, entries, directory));
        typed(abi::HOST_FILES_ARCHIVE_EXTRACT, &input)
    }

    pub fn files_checksum(server: &str, path: &str, algorithm: &str) -> Result<String, HostError> {
        typed(
            abi::HOST_FILES_CHECKSUM,
            &abi::encode(&(server, path, algorithm)),
        )
    }

    pub fn files_search_url(server: &str, directory: &str) -> Result<SignedUrl, HostError> {
        typed(
            abi::HOST_FILES_SEARCH_URL,
            &abi::encode(&(server, directory)),
        )
    }

    pub fn files_pull(
        server: &str,
        url: &str,
        directory: &str,
        file_name: Option<&str>,
    ) -> Result<(), HostError> {
        let input = abi::encode(&(server, url, directory, file_name));
        typed(abi::HOST_FILES_PULL, &input)
    }

    pub fn identity_find_user(key: &str) -> Result<Option<UserInfo>, HostError> {
        typed(abi::HOST_IDENTITY_FIND_USER, &abi::encode(&key))
    }

    pub fn identity_create_user(user: &NewUser) -> Result<UserInfo, HostError> {
        typed(abi::HOST_IDENTITY_CREATE_USER, &abi::encode(user))
    }

    pub fn settings_get() -> Result<String, HostError> {
        typed(abi::HOST_SETTINGS_GET, &[])
    }

    pub fn identity_create_session(
        user_id: i64,
        origin: &SessionOrigin,
    ) -> Result<NewSession, HostError> {
        let input = abi::encode(&(user_id, origin));
        typed(abi::HOST_IDENTITY_CREATE_SESSION, &input)
    }

    pub fn identity_sessions(user_id: i64) -> Result<Vec<SessionInfo>, HostError> {
        typed(abi::HOST_IDENTITY_SESSIONS, &abi::encode(&user_id))
    }

    pub fn identity_revoke_sessions(
        user_id: i64,
        session_id: Option<i64>,
    ) -> Result<(), HostError> {
        let input = abi::encode(&(user_id, session_id));
        typed(abi::HOST_IDENTITY_REVOKE_SESSIONS, &input)
    }

    pub fn identity_issue_api_key(
        user_id: i64,
        request: &ApiKeyRequest,
    ) -> Result<NewApiKey, HostError> {
        let input = abi::encode(&(user_id, request));
        typed(abi::HOST_IDENTITY_ISSUE_API_KEY, &input)
    }

    pub fn identity_api_keys(user_id: i64) -> Result<Vec<ApiKeyInfo>, HostError> {
        typed(abi::HOST_IDENTITY_API_KEYS, &abi::encode(&user_id))
    }

    pub fn identity_revoke_api_key(user_id: i64, identifier: &str) -> Result<(), HostError> {
        let input = abi::encode(&(user_id, identifier));
        typed(abi::HOST_IDENTITY_REVOKE_API_KEY, &input)
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::wasm::bindings::hatchery::plugin::{
        activity, db, events, http, identity, log as wit_log, mail, node_files, secrets, servers,
        settings, types,
    };
    use crate::wasm::convert;
    use crate::{
        ActivityEntry, ApiKeyInfo, ApiKeyRequest, ArchiveEntry, DbRows, DbValue, Dialect,
        FileEntry, HostError, LogLevel, NewApiKey, NewSession, NewUser, Server, SessionInfo,
        SessionOrigin, SignedUrl, UserInfo,
    };

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

    pub fn mail_send(message: &crate::MailMessage) -> Result<(), HostError> {
        let message = mail::Message {
            to: message.to.clone(),
            subject: message.subject.clone(),
            text: message.text.clone(),
        };
        mail::send(&message).map_err(convert::host_error)
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

    pub fn files_list(server: &str, directory: &str) -> Result<Vec<FileEntry>, HostError> {
        node_files::list(server, directory)
            .map(|entries| entries.into_iter().map(convert::file_entry).collect())
            .map_err(convert::host_error)
    }

    pub fn files_stat(server: &str, path: &str) -> Result<FileEntry, HostError> {
        node_files::stat(server, path)
            .map(convert::file_entry)
            .map_err(convert::host_error)
    }

    pub fn files_read(server: &str, path: &str) -> Result<Vec<u8>, HostError> {
        node_files::read(server, path).map_err(convert::host_error)
    }

    pub fn files_read_range(
        server: &str,
        path: &str,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, HostError> {
        node_files::read_range(server, path, offset, length).map_err(convert::host_error)
    }

    pub fn files_write(server: &str, path: &str, contents: &[u8]) -> Result<(), HostError> {
        node_files::write(server, path, contents).map_err(convert::host_error)
    }

    /// The host's resource: dropping it discards an unfinished file.
    pub type Writer = node_files::FileWriter;

    pub fn files_open_writer(server: &str, path: &str) -> Result<Writer, HostError> {
        node_files::open_writer(server, path).map_err(convert::host_error)
    }

    pub fn writer_append(writer: &Writer, chunk: &[u8]) -> Result<(), HostError> {
        writer.append(chunk).map_err(convert::host_error)
    }

    pub fn writer_finish(writer: Writer) -> Result<u64, HostError> {
        writer.finish().map_err(convert::host_error)
    }

    pub fn files_rename(server: &str, from: &str, to: &str) -> Result<(), HostError> {
        node_files::rename(server, from, to).map_err(convert::host_error)
    }

    pub fn files_copy(server: &str, path: &str) -> Result<String, HostError> {
        node_files::copy(server, path).map_err(convert::host_error)
    }

    pub fn files_delete(server: &str, paths: &[String]) -> Result<(), HostError> {
        node_files::delete(server, paths).map_err(convert::host_error)
    }

    pub fn files_mkdir(server: &str, path: &str) -> Result<(), HostError> {
        node_files::mkdir(server, path).map_err(convert::host_error)
    }

    pub fn files_chmod(server: &str, path: &str, mode: u32) -> Result<(), HostError> {
        node_files::chmod(server, path, mode).map_err(convert::host_error)
    }

    pub fn files_compress(
        server: &str,
        directory: &str,
        files: &[String],
    ) -> Result<FileEntry, HostError> {
        node_files::compress(server, directory, files)
            .map(convert::file_entry)
            .map_err(convert::host_error)
    }

    pub fn files_decompress(server: &str, directory: &str, file: &str) -> Result<(), HostError> {
        node_files::decompress(server, directory, file).map_err(convert::host_error)
    }

    pub fn files_download_url(server: &str, path: &str) -> Result<SignedUrl, HostError> {
        node_files::download_url(server, path)
            .map(convert::signed_url)
            .map_err(convert::host_error)
    }

    pub fn files_upload_url(server: &str, directory: &str) -> Result<SignedUrl, HostError> {
        node_files::upload_url(server, directory)
            .map(convert::signed_url)
            .map_err(convert::host_error)
    }

    pub fn files_archive_list(server: &str, path: &str) -> Result<Vec<ArchiveEntry>, HostError> {
        node_files::archive_list(server, path)
            .map(|entries| entries.into_iter().map(convert::archive_entry).collect())
            .map_err(convert::host_error)
    }

    pub fn files_archive_read(server: &str, path: &str, entry: &str) -> Result<Vec<u8>, HostError> {
        node_files::archive_read(server, path, entry).map_err(convert::host_error)
    }

    pub fn files_archive_extract(
        server: &str,
        path: &str,
        entries: &[String],
        directory: &str,
    ) -> Result<(), HostError> {
        node_files::archive_extract(server, path, entries, directory).map_err(convert::host_error)
    }

    pub fn files_checksum(server: &str, path: &str, algorithm: &str) -> Result<String, HostError> {
        node_files::checksum(server, path, algorithm).map_err(convert::host_error)
    }

    pub fn files_search_url(server: &str, directory: &str) -> Result<SignedUrl, HostError> {
        node_files::search_url(server, directory)
            .map(convert::signed_url)
            .map_err(convert::host_error)
    }

    pub fn files_pull(
        server: &str,
        url: &str,
        directory: &str,
        file_name: Option<&str>,
    ) -> Result<(), HostError> {
        node_files::pull(server, url, directory, file_name).map_err(convert::host_error)
    }

    pub fn identity_find_user(key: &str) -> Result<Option<UserInfo>, HostError> {
        identity::find_user(key)
            .map(|user| {
                user.map(|user| UserInfo {
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
            .map_err(convert::host_error)
    }

    pub fn identity_create_user(user: &NewUser) -> Result<UserInfo, HostError> {
        let user = types::NewUser {
            username: user.username.clone(),
            email: user.email.clone(),
            role: user.role.clone(),
        };
        identity::create_user(&user)
            .map(|user| UserInfo {
                id: user.id,
                uuid: user.uuid,
                username: user.username,
                email: user.email,
                admin: user.admin,
                language: user.language,
                permissions: user.permissions,
                role: user.role,
            })
            .map_err(convert::host_error)
    }

    pub fn identity_create_session(
        user_id: i64,
        origin: &SessionOrigin,
    ) -> Result<NewSession, HostError> {
        let origin = types::SessionOrigin {
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            impersonator_id: origin.impersonator_id,
        };
        identity::create_session(user_id, &origin)
            .map(|session| NewSession {
                id: session.id,
                token: session.token,
                expires_at: session.expires_at,
            })
            .map_err(convert::host_error)
    }

    pub fn identity_sessions(user_id: i64) -> Result<Vec<SessionInfo>, HostError> {
        identity::sessions(user_id)
            .map(|sessions| {
                sessions
                    .into_iter()
                    .map(|session| SessionInfo {
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
            .map_err(convert::host_error)
    }

    pub fn identity_revoke_sessions(
        user_id: i64,
        session_id: Option<i64>,
    ) -> Result<(), HostError> {
        identity::revoke_sessions(user_id, session_id).map_err(convert::host_error)
    }

    pub fn identity_issue_api_key(
        user_id: i64,
        request: &ApiKeyRequest,
    ) -> Result<NewApiKey, HostError> {
        let request = types::ApiKeyRequest {
            description: request.description.clone(),
            servers: request.servers.clone(),
            permissions: request.permissions.clone(),
            expires_at: request.expires_at,
            admin: request.admin,
            allowed_ips: request.allowed_ips.clone(),
        };
        identity::issue_api_key(user_id, &request)
            .map(|key| NewApiKey {
                identifier: key.identifier,
                token: key.token,
            })
            .map_err(convert::host_error)
    }

    pub fn identity_api_keys(user_id: i64) -> Result<Vec<ApiKeyInfo>, HostError> {
        identity::api_keys(user_id)
            .map(|keys| {
                keys.into_iter()
                    .map(|key| ApiKeyInfo {
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
            .map_err(convert::host_error)
    }

    pub fn identity_revoke_api_key(user_id: i64, identifier: &str) -> Result<(), HostError> {
        identity::revoke_api_key(user_id, identifier).map_err(convert::host_error)
    }

    pub fn settings_get() -> Result<String, HostError> {
        settings::get().map_err(convert::host_error)
    }
}
