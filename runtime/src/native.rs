//! The native runtime: shared libraries loaded with libloading through the SDK's C ABI.
//!
//! Native plugins are trusted code (not sandboxed): they run in the host process. The
//! host still checks the ABI magic and version before calling anything, only moves
//! bytes across the boundary, catches panics on both sides, and never unloads a
//! library (disable = unregister; a restart drops the code).

use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;
use hatchery_sdk::abi::{self, Buffer, HostApi};
use hatchery_sdk::{
    ActivityEntry, CommandOutput, DbValue, Event, HostError, LogLevel, Principal, Request, Response,
};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::services::{FileSink, Services};
use crate::{Error, Login, Result};

type InitFn = unsafe extern "C" fn(*const HostApi) -> i32;
type CallFn = unsafe extern "C" fn(u32, *const u8, usize, *mut Buffer) -> i32;
type FreeFn = unsafe extern "C" fn(Buffer);

/// A library that was loaded and initialised; lives until the process exits.
struct NativeLibrary {
    call: CallFn,
    free: FreeFn,
    context: &'static NativeContext,
}

/// What the host's callbacks need; `services` is swapped when grants change.
struct NativeContext {
    services: ArcSwap<Arc<dyn Services>>,
    runtime: tokio::runtime::Handle,
    /// Files being written in parts, by the handle the plugin holds.
    writers: Mutex<HashMap<u64, Box<dyn FileSink>>>,
    next_writer: AtomicU64,
}

/// Most files a native plugin may have open for writing at once.
const MAX_OPEN_WRITERS: usize = 16;

thread_local! {
    /// The user whose request the plugin is handling on this thread; host calls made
    /// from it act for them. A plugin's own threads act as the plugin.
    static CALLER: std::cell::RefCell<Option<Principal>> = const { std::cell::RefCell::new(None) };
}

/// Libraries already in this process, by plugin id and code hash.
fn loaded() -> &'static Mutex<HashMap<(String, String), &'static NativeLibrary>> {
    static LOADED: OnceLock<Mutex<HashMap<(String, String), &'static NativeLibrary>>> =
        OnceLock::new();
    LOADED.get_or_init(Default::default)
}

pub struct NativePlugin {
    id: String,
    library: &'static NativeLibrary,
}

impl NativePlugin {
    /// Loads (or reuses) the library whose bytes are `code`. The bytes are copied to a
    /// file named by their hash first, so replacing the installed plugin never changes
    /// code that is already mapped.
    pub fn load(
        id: &str,
        code: &[u8],
        services: Arc<dyn Services>,
        cache_dir: &Path,
    ) -> Result<NativePlugin> {
        let digest = hex::encode(Sha256::digest(code));
        let key = (id.to_string(), digest.clone());
        let mut loaded = loaded().lock().expect("native registry lock");
        if let Some(library) = loaded.get(&key) {
            library.context.services.store(Arc::new(services));
            return Ok(NativePlugin {
                id: id.to_string(),
                library,
            });
        }

        let dir = cache_dir.join("native");
        std::fs::create_dir_all(&dir)
            .map_err(|err| Error::io(format!("cannot create {}", dir.display()), err))?;
        let path = dir.join(format!("{id}-{digest}{}", std::env::consts::DLL_SUFFIX));
        if !path.exists() {
            let partial = path.with_extension("partial");
            std::fs::write(&partial, code)
                .and_then(|()| std::fs::rename(&partial, &path))
                .map_err(|err| Error::io(format!("cannot write {}", path.display()), err))?;
        }

        let context: &'static NativeContext = Box::leak(Box::new(NativeContext {
            services: ArcSwap::new(Arc::new(services)),
            runtime: tokio::runtime::Handle::current(),
            writers: Mutex::new(HashMap::new()),
            next_writer: AtomicU64::new(1),
        }));
        let library = open(id, &path, context)?;
        let library: &'static NativeLibrary = Box::leak(Box::new(library));
        loaded.insert(key, library);
        Ok(NativePlugin {
            id: id.to_string(),
            library,
        })
    }

    pub async fn handle_request(&self, request: Request) -> Result<Response> {
        let caller = request.principal.clone();
        let output = self
            .call(abi::OP_HANDLE_REQUEST, abi::encode(&request), caller)
            .await?;
        abi::decode(&output).map_err(|err| Error::Call(format!("plugin {}: {err}", self.id)))
    }

    pub async fn handle_event(&self, event: Event) -> Result<()> {
        self.call(abi::OP_HANDLE_EVENT, abi::encode(&event), None)
            .await
            .map(drop)
    }

    pub async fn run_command(&self, args: Vec<String>) -> Result<CommandOutput> {
        let output = self
            .call(abi::OP_RUN_COMMAND, abi::encode(&args), None)
            .await?;
        abi::decode(&output).map_err(|err| Error::Call(format!("plugin {}: {err}", self.id)))
    }

    /// Provider `auth-method`: the sign-in methods the plugin offers.
    pub async fn auth_methods(&self) -> Result<Vec<hatchery_sdk::SignInMethod>> {
        let output = self.call(abi::OP_AUTH_METHODS, Vec::new(), None).await?;
        abi::decode(&output).map_err(|err| Error::Call(format!("plugin {}: {err}", self.id)))
    }

    /// Provider `auth-method`: a login by password or SSH key.
    pub async fn check_login(&self, login: &Login) -> Result<Option<i64>> {
        let (op, input) = match login {
            Login::Password { username, password } => {
                (abi::OP_CHECK_PASSWORD, abi::encode(&(username, password)))
            }
            Login::PublicKey { username, key } => {
                (abi::OP_CHECK_SSH_KEY, abi::encode(&(username, key)))
            }
        };
        let output = self.call(op, input, None).await?;
        let checked: std::result::Result<Option<i64>, String> = abi::decode(&output)
            .map_err(|err| Error::Call(format!("plugin {}: {err}", self.id)))?;
        checked.map_err(|err| {
            Error::Call(format!("plugin {} could not check a login: {err}", self.id))
        })
    }

    /// Provider `auth-method`: a password to keep for a user.
    pub async fn set_password(
        &self,
        user_id: i64,
        password: hatchery_sdk::PasswordInput,
    ) -> Result<bool> {
        let input = abi::encode(&(user_id, password));
        let output = self.call(abi::OP_SET_PASSWORD, input, None).await?;
        let kept: std::result::Result<bool, String> = abi::decode(&output)
            .map_err(|err| Error::Call(format!("plugin {}: {err}", self.id)))?;
        kept.map_err(Error::Refused)
    }

    /// Calls the plugin where blocking is allowed: its code may block, and its host
    /// calls wait on the async runtime from there.
    async fn call(&self, op: u32, input: Vec<u8>, caller: Option<Principal>) -> Result<Vec<u8>> {
        let library = self.library;
        let invoke = move || {
            let _caller = CallerScope::enter(caller);
            let mut output = Buffer::EMPTY;
            // SAFETY: the library passed the magic and ABI checks; input and output
            // are valid for the duration of the call; the output is freed by the
            // library's own allocator.
            unsafe {
                let status = (library.call)(op, input.as_ptr(), input.len(), &mut output);
                let bytes = output.as_slice().to_vec();
                (library.free)(output);
                (status, bytes)
            }
        };
        // On the multi-threaded runtime the call runs in place (cheaper than a hop to
        // the blocking pool) while tokio hands this worker's other tasks elsewhere.
        let multi_threaded = tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread;
        let (status, bytes) = if multi_threaded {
            tokio::task::block_in_place(invoke)
        } else {
            tokio::task::spawn_blocking(invoke).await.map_err(|err| {
                Error::Call(format!("plugin {} could not be called: {err}", self.id))
            })?
        };
        match status {
            abi::STATUS_OK => Ok(bytes),
            _ => Err(Error::Call(format!(
                "plugin {}: {}",
                self.id,
                String::from_utf8_lossy(&bytes)
            ))),
        }
    }
}

/// Sets the thread's caller for one call into the plugin, and clears it after.
struct CallerScope;

impl CallerScope {
    fn enter(caller: Option<Principal>) -> CallerScope {
        CALLER.with(|slot| *slot.borrow_mut() = caller);
        CallerScope
    }
}

impl Drop for CallerScope {
    fn drop(&mut self) {
        CALLER.with(|slot| *slot.borrow_mut() = None);
    }
}

fn open(id: &str, path: &Path, context: &'static NativeContext) -> Result<NativeLibrary> {
    let fail = |message: String| Error::Load(format!("{id}: {message}"));
    // SAFETY: loading runs the library's initialisers; native plugins are trusted code
    // that the admin installed knowingly.
    let library = unsafe { libloading::Library::new(path) }
        .map_err(|err| fail(format!("cannot load {}: {err}", path.display())))?;
    // SAFETY: each symbol is read with the type the SDK exports it with, and only after
    // the magic and ABI version (plain data) were checked.
    unsafe {
        let magic = library
            .get::<*const [u8; 8]>("HATCHERY_PLUGIN_MAGIC")
            .map_err(|_| fail("not a Hatchery plugin (no HATCHERY_PLUGIN_MAGIC); build it with hatchery_sdk::export_plugin!".into()))?;
        if **magic != abi::MAGIC {
            return Err(fail("not a Hatchery plugin (wrong magic)".into()));
        }
        let version = library
            .get::<*const u32>("HATCHERY_PLUGIN_ABI_VERSION")
            .map_err(|_| fail("no HATCHERY_PLUGIN_ABI_VERSION symbol".into()))?;
        if **version != abi::ABI_VERSION {
            return Err(fail(format!(
                "built for native ABI version {}, this host speaks {}; rebuild it with a matching hatchery-sdk",
                **version,
                abi::ABI_VERSION
            )));
        }
        let init: InitFn = *library
            .get::<InitFn>("hatchery_plugin_init")
            .map_err(|_| fail("no hatchery_plugin_init symbol".into()))?;
        let call: CallFn = *library
            .get::<CallFn>("hatchery_plugin_call")
            .map_err(|_| fail("no hatchery_plugin_call symbol".into()))?;
        let free: FreeFn = *library
            .get::<FreeFn>("hatchery_plugin_free")
            .map_err(|_| fail("no hatchery_plugin_free symbol".into()))?;

        let host_api: &'static HostApi = Box::leak(Box::new(HostApi {
            abi_version: abi::ABI_VERSION,
            context: context as *const NativeContext as *const c_void,
            call: host_call,
            free: host_free,
        }));
        if init(host_api) != abi::STATUS_OK {
            return Err(fail("hatchery_plugin_init refused the host".into()));
        }
        // Never unloaded: code may still run on other threads, and Rust cdylibs do not
        // support unloading safely.
        std::mem::forget(library);
        Ok(NativeLibrary {
            call,
            free,
            context,
        })
    }
}

unsafe extern "C" fn host_free(buffer: Buffer) {
    // SAFETY: the buffer was made by `host_call` below in this allocator.
    unsafe { buffer.free() }
}

unsafe extern "C" fn host_call(
    context: *const c_void,
    op: u32,
    input: *const u8,
    input_len: usize,
    output: *mut Buffer,
) -> i32 {
    // SAFETY: `context` is the leaked NativeContext handed out in `open`; the plugin
    // passes a readable input and a writable output, per the ABI.
    let (context, input) = unsafe {
        (
            &*(context as *const NativeContext),
            if input.is_null() {
                &[][..]
            } else {
                std::slice::from_raw_parts(input, input_len)
            },
        )
    };
    // A host panic must never unwind into plugin code.
    let outcome = catch_unwind(AssertUnwindSafe(|| serve_host_call(context, op, input)));
    let (status, bytes) = match outcome {
        Ok(Ok(bytes)) => (abi::STATUS_OK, bytes),
        Ok(Err(message)) => (abi::STATUS_ERROR, message.into_bytes()),
        Err(_) => (
            abi::STATUS_PANIC,
            b"the host failed while serving this call".to_vec(),
        ),
    };
    unsafe { output.write(Buffer::from_vec(bytes)) };
    status
}

fn serve_host_call(context: &NativeContext, op: u32, input: &[u8]) -> Result<Vec<u8>, String> {
    let services = context.services.load_full();
    // Contract 1.0 calls answer a failure as text; 1.1 calls encode `Result<T, HostError>`.
    let text = |error: HostError| error.to_string();
    Ok(match op {
        abi::HOST_LOG => {
            let (level, message): (LogLevel, String) = abi::decode(input)?;
            services.log(level, &message);
            abi::encode(&())
        }
        abi::HOST_PLUGIN_ID => abi::encode(services.plugin_id()),
        abi::HOST_DB_DIALECT => abi::encode(&services.dialect()),
        abi::HOST_DB_EXECUTE => {
            let (sql, params): (String, Vec<DbValue>) = abi::decode(input)?;
            let affected = context
                .runtime
                .block_on(services.db_execute(&sql, params))
                .map_err(text)?;
            abi::encode(&affected)
        }
        abi::HOST_DB_QUERY => {
            let (sql, params): (String, Vec<DbValue>) = abi::decode(input)?;
            let rows = context
                .runtime
                .block_on(services.db_query(&sql, params))
                .map_err(text)?;
            abi::encode(&rows)
        }
        abi::HOST_EMIT => {
            let (name, payload): (String, String) = abi::decode(input)?;
            services.emit(&name, &payload).map_err(text)?;
            abi::encode(&())
        }
        abi::HOST_DB_EXECUTE_TYPED => {
            let (sql, params): (String, Vec<DbValue>) = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.db_execute(&sql, params)))
        }
        abi::HOST_DB_QUERY_TYPED => {
            let (sql, params): (String, Vec<DbValue>) = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.db_query(&sql, params)))
        }
        abi::HOST_EMIT_TYPED => {
            let (name, payload): (String, String) = abi::decode(input)?;
            abi::encode(&services.emit(&name, &payload))
        }
        abi::HOST_SERVERS_GET => {
            let server: String = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.server_get(&server)))
        }
        abi::HOST_SERVERS_VISIBLE_TO => {
            let user_id: i64 = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.servers_visible_to(user_id)),
            )
        }
        abi::HOST_SERVERS_PERMISSIONS => {
            let (user_id, server): (i64, String) = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.server_permissions(user_id, &server)),
            )
        }
        abi::HOST_SERVERS_POWER => {
            let (server, signal): (String, String) = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.server_power(&server, &signal)),
            )
        }
        abi::HOST_SERVERS_COMMAND => {
            let (server, line): (String, String) = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.server_command(&server, &line)),
            )
        }
        abi::HOST_ACTIVITY_RECORD => {
            let (event, actor_id, server, subject, properties): ActivityWire = abi::decode(input)?;
            let outcome = match serde_json::from_str(&properties) {
                Ok(properties) => {
                    context
                        .runtime
                        .block_on(services.activity_record(ActivityEntry {
                            event,
                            actor_id,
                            server,
                            subject,
                            properties,
                        }))
                }
                Err(err) => Err(HostError::Invalid(format!(
                    "properties are not JSON: {err}"
                ))),
            };
            abi::encode(&outcome)
        }
        abi::HOST_MAIL_SEND => {
            let message: hatchery_sdk::MailMessage = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.mail_send(message)))
        }
        abi::HOST_SECRETS_GET => {
            let name: String = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.secret_get(&name)))
        }
        abi::HOST_SECRETS_SET => {
            let (name, value): (String, String) = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.secret_set(&name, &value)))
        }
        abi::HOST_SECRETS_DELETE => {
            let name: String = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.secret_delete(&name)))
        }
        abi::HOST_HTTP_FETCH => {
            let request: hatchery_sdk::OutgoingRequest = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.http_fetch(request)))
        }
        abi::HOST_SETTINGS_GET => abi::encode(&context.runtime.block_on(services.settings_get())),
        abi::HOST_IDENTITY_FIND_USER => {
            let key: String = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.user_find(&key)))
        }
        abi::HOST_IDENTITY_CREATE_USER => {
            let user: hatchery_sdk::NewUser = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.user_create(user)))
        }
        abi::HOST_IDENTITY_CREATE_SESSION => {
            let (user_id, origin): (i64, hatchery_sdk::SessionOrigin) = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.session_create(user_id, origin)),
            )
        }
        abi::HOST_IDENTITY_SESSIONS => {
            let user_id: i64 = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.sessions_of(user_id)))
        }
        abi::HOST_IDENTITY_REVOKE_SESSIONS => {
            let (user_id, session_id): (i64, Option<i64>) = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.sessions_revoke(user_id, session_id)),
            )
        }
        abi::HOST_IDENTITY_ISSUE_API_KEY => {
            let (user_id, request): (i64, hatchery_sdk::ApiKeyRequest) = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.api_key_issue(user_id, request)),
            )
        }
        abi::HOST_IDENTITY_API_KEYS => {
            let user_id: i64 = abi::decode(input)?;
            abi::encode(&context.runtime.block_on(services.api_keys_of(user_id)))
        }
        abi::HOST_IDENTITY_REVOKE_API_KEY => {
            let (user_id, identifier): (i64, String) = abi::decode(input)?;
            abi::encode(
                &context
                    .runtime
                    .block_on(services.api_key_revoke(user_id, &identifier)),
            )
        }
        op if (abi::HOST_FILES_LIST..=abi::HOST_FILES_UPLOAD_URL).contains(&op)
            || (abi::HOST_FILES_ARCHIVE_LIST..=abi::HOST_FILES_PULL).contains(&op) =>
        {
            let caller = CALLER.with(|slot| slot.borrow().clone());
            serve_files_call(context, &**services, caller.as_ref(), op, input)?
        }
        other => {
            return Err(format!(
                "unknown host operation {other}; the plugin may need a newer host"
            ));
        }
    })
}

/// Capability `node_files`, acting for `caller` (the user of the request being handled).
fn serve_files_call(
    context: &NativeContext,
    services: &dyn Services,
    caller: Option<&Principal>,
    op: u32,
    input: &[u8],
) -> Result<Vec<u8>, String> {
    let runtime = &context.runtime;
    Ok(match op {
        abi::HOST_FILES_LIST => {
            let (server, directory): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_list(caller, &server, &directory)))
        }
        abi::HOST_FILES_STAT => {
            let (server, path): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_stat(caller, &server, &path)))
        }
        abi::HOST_FILES_READ => {
            let (server, path): (String, String) = abi::decode(input)?;
            abi::encode(
                &runtime
                    .block_on(services.files_read(caller, &server, &path, None))
                    .map(ByteBuf::from),
            )
        }
        abi::HOST_FILES_READ_RANGE => {
            let (server, path, offset, length): (String, String, u64, u64) = abi::decode(input)?;
            let range = Some((offset, length));
            abi::encode(
                &runtime
                    .block_on(services.files_read(caller, &server, &path, range))
                    .map(ByteBuf::from),
            )
        }
        abi::HOST_FILES_WRITE => {
            let (server, path, contents): (String, String, ByteBuf) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_write(
                caller,
                &server,
                &path,
                contents.into_vec(),
            )))
        }
        abi::HOST_FILES_OPEN_WRITER => {
            let (server, path): (String, String) = abi::decode(input)?;
            let opened = if context.writers.lock().expect("writers lock").len() >= MAX_OPEN_WRITERS
            {
                Err(HostError::Unavailable(format!(
                    "a plugin may write at most {MAX_OPEN_WRITERS} files at once; finish one first"
                )))
            } else {
                runtime
                    .block_on(services.files_open_writer(caller, &server, &path))
                    .map(|writer| {
                        let handle = context.next_writer.fetch_add(1, Ordering::Relaxed);
                        let mut writers = context.writers.lock().expect("writers lock");
                        writers.insert(handle, writer);
                        handle
                    })
            };
            abi::encode(&opened)
        }
        abi::HOST_FILES_APPEND => {
            let (handle, chunk): (u64, ByteBuf) = abi::decode(input)?;
            // Taken out while it works, so other writers are not held up.
            let taken = context
                .writers
                .lock()
                .expect("writers lock")
                .remove(&handle);
            let appended = match taken {
                Some(mut writer) => {
                    let appended = runtime.block_on(writer.append(chunk.into_vec()));
                    if appended.is_ok() {
                        let mut writers = context.writers.lock().expect("writers lock");
                        writers.insert(handle, writer);
                    }
                    appended
                }
                None => Err(no_writer(handle)),
            };
            abi::encode(&appended)
        }
        abi::HOST_FILES_FINISH => {
            let handle: u64 = abi::decode(input)?;
            let taken = context
                .writers
                .lock()
                .expect("writers lock")
                .remove(&handle);
            abi::encode(&match taken {
                Some(mut writer) => runtime.block_on(writer.finish()),
                None => Err(no_writer(handle)),
            })
        }
        abi::HOST_FILES_ABORT => {
            let handle: u64 = abi::decode(input)?;
            // Dropping an unfinished writer discards its file.
            drop(
                context
                    .writers
                    .lock()
                    .expect("writers lock")
                    .remove(&handle),
            );
            abi::encode(&Ok::<(), HostError>(()))
        }
        abi::HOST_FILES_RENAME => {
            let (server, from, to): (String, String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_rename(caller, &server, &from, &to)))
        }
        abi::HOST_FILES_COPY => {
            let (server, path): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_copy(caller, &server, &path)))
        }
        abi::HOST_FILES_DELETE => {
            let (server, paths): (String, Vec<String>) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_delete(caller, &server, &paths)))
        }
        abi::HOST_FILES_MKDIR => {
            let (server, path): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_mkdir(caller, &server, &path)))
        }
        abi::HOST_FILES_CHMOD => {
            let (server, path, mode): (String, String, u32) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_chmod(caller, &server, &path, mode)))
        }
        abi::HOST_FILES_COMPRESS => {
            let (server, directory, files): (String, String, Vec<String>) = abi::decode(input)?;
            abi::encode(
                &runtime.block_on(services.files_compress(caller, &server, &directory, &files)),
            )
        }
        abi::HOST_FILES_DECOMPRESS => {
            let (server, directory, file): (String, String, String) = abi::decode(input)?;
            abi::encode(
                &runtime.block_on(services.files_decompress(caller, &server, &directory, &file)),
            )
        }
        abi::HOST_FILES_DOWNLOAD_URL => {
            let (server, path): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_download_url(caller, &server, &path)))
        }
        abi::HOST_FILES_UPLOAD_URL => {
            let (server, directory): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_upload_url(caller, &server, &directory)))
        }
        abi::HOST_FILES_ARCHIVE_LIST => {
            let (server, path): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_archive_list(caller, &server, &path)))
        }
        abi::HOST_FILES_ARCHIVE_READ => {
            let (server, path, entry): (String, String, String) = abi::decode(input)?;
            abi::encode(
                &runtime
                    .block_on(services.files_archive_read(caller, &server, &path, &entry))
                    .map(ByteBuf::from),
            )
        }
        abi::HOST_FILES_ARCHIVE_EXTRACT => {
            let (server, path, entries, directory): (String, String, Vec<String>, String) =
                abi::decode(input)?;
            abi::encode(&runtime.block_on(
                services.files_archive_extract(caller, &server, &path, &entries, &directory),
            ))
        }
        abi::HOST_FILES_CHECKSUM => {
            let (server, path, algorithm): (String, String, String) = abi::decode(input)?;
            abi::encode(
                &runtime.block_on(services.files_checksum(caller, &server, &path, &algorithm)),
            )
        }
        abi::HOST_FILES_SEARCH_URL => {
            let (server, directory): (String, String) = abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_search_url(caller, &server, &directory)))
        }
        abi::HOST_FILES_PULL => {
            let (server, url, directory, file_name): (String, String, String, Option<String>) =
                abi::decode(input)?;
            abi::encode(&runtime.block_on(services.files_pull(
                caller,
                &server,
                &url,
                &directory,
                file_name.as_deref(),
            )))
        }
        other => return Err(format!("unknown file operation {other}")),
    })
}

fn no_writer(handle: u64) -> HostError {
    HostError::Invalid(format!(
        "no open writer {handle}: it was finished, or failed and was discarded"
    ))
}

/// An activity entry as the SDK sends it: (event, actor, server, subject, JSON properties).
type ActivityWire = (
    String,
    Option<i64>,
    Option<String>,
    Option<(String, String)>,
    String,
);
