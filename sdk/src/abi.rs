//! The native plugin ABI: a C boundary that only byte buffers cross.
//!
//! Rust has no stable ABI, so a native plugin exports plain `extern "C"` symbols:
//! `HATCHERY_PLUGIN_MAGIC` and `HATCHERY_PLUGIN_ABI_VERSION` (checked by the host before
//! anything else), `hatchery_plugin_init`, `hatchery_plugin_call` and
//! `hatchery_plugin_free`. Arguments and results are the [`crate::types`] values encoded
//! with postcard. Whoever allocates a [`Buffer`] also frees it: the host hands plugin
//! buffers back through `hatchery_plugin_free`, the plugin hands host buffers back
//! through [`HostApi::free`]. Host services are callbacks in [`HostApi`], so a plugin
//! never assumes it shares the host's allocator, runtime or `std`.

use std::ffi::c_void;

use serde::{Serialize, de::DeserializeOwned};

pub const MAGIC: [u8; 8] = *b"HATCHERY";
/// Bumped on any incompatible change of this module.
pub const ABI_VERSION: u32 = 1;

/// Calls into the plugin.
pub const OP_HANDLE_REQUEST: u32 = 1;
pub const OP_HANDLE_EVENT: u32 = 2;
pub const OP_RUN_COMMAND: u32 = 3;
/// Provider `auth-method` (contract 1.1).
pub const OP_AUTH_METHODS: u32 = 10;
pub const OP_CHECK_PASSWORD: u32 = 11;
pub const OP_CHECK_SSH_KEY: u32 = 12;
pub const OP_SET_PASSWORD: u32 = 13;

/// Calls into the host.
pub const HOST_LOG: u32 = 1;
pub const HOST_PLUGIN_ID: u32 = 2;
pub const HOST_DB_DIALECT: u32 = 3;
pub const HOST_DB_EXECUTE: u32 = 4;
pub const HOST_DB_QUERY: u32 = 5;
pub const HOST_EMIT: u32 = 6;
/// Contract 1.1 calls: the output buffer holds an encoded `Result<T, HostError>`, so a
/// failure keeps its kind (denied, not found, …).
pub const HOST_DB_EXECUTE_TYPED: u32 = 10;
pub const HOST_DB_QUERY_TYPED: u32 = 11;
pub const HOST_EMIT_TYPED: u32 = 12;
pub const HOST_SERVERS_GET: u32 = 20;
pub const HOST_SERVERS_VISIBLE_TO: u32 = 21;
pub const HOST_SERVERS_PERMISSIONS: u32 = 22;
pub const HOST_SERVERS_POWER: u32 = 23;
pub const HOST_SERVERS_COMMAND: u32 = 24;
pub const HOST_ACTIVITY_RECORD: u32 = 30;
pub const HOST_SECRETS_GET: u32 = 40;
pub const HOST_SECRETS_SET: u32 = 41;
pub const HOST_SECRETS_DELETE: u32 = 42;
pub const HOST_MAIL_SEND: u32 = 43;
pub const HOST_HTTP_FETCH: u32 = 50;
pub const HOST_FILES_LIST: u32 = 60;
pub const HOST_FILES_STAT: u32 = 61;
pub const HOST_FILES_READ: u32 = 62;
pub const HOST_FILES_READ_RANGE: u32 = 63;
pub const HOST_FILES_WRITE: u32 = 64;
/// Opens a writer: answers a handle (`u64`) that `APPEND`, `FINISH` and `ABORT` take.
pub const HOST_FILES_OPEN_WRITER: u32 = 65;
pub const HOST_FILES_APPEND: u32 = 66;
pub const HOST_FILES_FINISH: u32 = 67;
pub const HOST_FILES_ABORT: u32 = 68;
pub const HOST_FILES_RENAME: u32 = 69;
pub const HOST_FILES_COPY: u32 = 70;
pub const HOST_FILES_DELETE: u32 = 71;
pub const HOST_FILES_MKDIR: u32 = 72;
pub const HOST_FILES_CHMOD: u32 = 73;
pub const HOST_FILES_COMPRESS: u32 = 74;
pub const HOST_FILES_DECOMPRESS: u32 = 75;
pub const HOST_FILES_DOWNLOAD_URL: u32 = 76;
pub const HOST_FILES_UPLOAD_URL: u32 = 77;
pub const HOST_FILES_ARCHIVE_LIST: u32 = 100;
pub const HOST_FILES_ARCHIVE_READ: u32 = 101;
pub const HOST_FILES_ARCHIVE_EXTRACT: u32 = 102;
pub const HOST_FILES_CHECKSUM: u32 = 103;
pub const HOST_FILES_SEARCH_URL: u32 = 104;
pub const HOST_FILES_PULL: u32 = 105;
pub const HOST_IDENTITY_FIND_USER: u32 = 80;
pub const HOST_IDENTITY_CREATE_SESSION: u32 = 81;
pub const HOST_IDENTITY_SESSIONS: u32 = 82;
pub const HOST_IDENTITY_REVOKE_SESSIONS: u32 = 83;
pub const HOST_IDENTITY_ISSUE_API_KEY: u32 = 84;
pub const HOST_IDENTITY_REVOKE_API_KEY: u32 = 85;
pub const HOST_IDENTITY_API_KEYS: u32 = 86;
pub const HOST_IDENTITY_CREATE_USER: u32 = 87;
pub const HOST_SETTINGS_GET: u32 = 90;

/// Result codes of both directions. With `STATUS_OK` the buffer holds the encoded
/// result; otherwise it holds a UTF-8 message.
pub const STATUS_OK: i32 = 0;
pub const STATUS_ERROR: i32 = 1;
pub const STATUS_PANIC: i32 = 2;

/// Bytes owned by the side that allocated them.
#[repr(C)]
#[derive(Debug)]
pub struct Buffer {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl Buffer {
    pub const EMPTY: Buffer = Buffer {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    pub fn from_vec(bytes: Vec<u8>) -> Buffer {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        Buffer {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
        }
    }

    /// # Safety
    /// The buffer must be valid: produced by [`Buffer::from_vec`] (in any allocator) and
    /// not yet freed.
    pub unsafe fn as_slice(&self) -> &[u8] {
        if self.ptr.is_null() {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }

    /// # Safety
    /// Must be called in the allocator that made the buffer, exactly once.
    pub unsafe fn free(self) {
        if !self.ptr.is_null() {
            drop(unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) });
        }
    }
}

/// The host's services, handed to the plugin once at load time.
#[repr(C)]
pub struct HostApi {
    pub abi_version: u32,
    /// Opaque to the plugin; passed back on every call.
    pub context: *const c_void,
    pub call: unsafe extern "C" fn(
        context: *const c_void,
        op: u32,
        input: *const u8,
        input_len: usize,
        output: *mut Buffer,
    ) -> i32,
    pub free: unsafe extern "C" fn(buffer: Buffer),
}

pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Encoding plain data into a Vec cannot fail.
    postcard::to_stdvec(value).expect("postcard encoding of plain data")
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes)
        .map_err(|err| format!("malformed message across the plugin ABI: {err}"))
}

/// The plugin side of the ABI; `export_plugin!` wires these into the exported symbols.
#[cfg(not(target_arch = "wasm32"))]
pub mod guest {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::OnceLock;

    use super::*;
    use crate::{Event, Plugin, Request};

    struct Host(&'static HostApi);
    // The host promises its callbacks may be called from any thread.
    unsafe impl Send for Host {}
    unsafe impl Sync for Host {}

    static HOST: OnceLock<Host> = OnceLock::new();

    /// # Safety
    /// `host` must point to a `HostApi` that outlives the process.
    pub unsafe fn init(host: *const HostApi) -> i32 {
        let Some(host) = (unsafe { host.as_ref() }) else {
            return STATUS_ERROR;
        };
        if host.abi_version != ABI_VERSION {
            return STATUS_ERROR;
        }
        match HOST.set(Host(host)) {
            Ok(()) => STATUS_OK,
            Err(_) => STATUS_ERROR,
        }
    }

    /// # Safety
    /// `input` must point to `input_len` readable bytes and `output` to a writable buffer.
    pub unsafe fn call(
        plugin: &'static dyn Plugin,
        op: u32,
        input: *const u8,
        input_len: usize,
        output: *mut Buffer,
    ) -> i32 {
        let input = if input.is_null() {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(input, input_len) }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| dispatch(plugin, op, input)));
        let (status, bytes) = match outcome {
            Ok(Ok(bytes)) => (STATUS_OK, bytes),
            Ok(Err(message)) => (STATUS_ERROR, message.into_bytes()),
            Err(panic) => (STATUS_PANIC, panic_message(&*panic).into_bytes()),
        };
        unsafe { output.write(Buffer::from_vec(bytes)) };
        status
    }

    fn dispatch(plugin: &dyn Plugin, op: u32, input: &[u8]) -> Result<Vec<u8>, String> {
        match op {
            OP_HANDLE_REQUEST => {
                let request: Request = decode(input)?;
                let response = plugin.handle_request(request).unwrap_or_else(Into::into);
                Ok(encode(&response))
            }
            OP_HANDLE_EVENT => {
                let event: Event = decode(input)?;
                plugin.handle_event(event).map_err(|err| err.to_string())?;
                Ok(Vec::new())
            }
            OP_RUN_COMMAND => {
                let args: Vec<String> = decode(input)?;
                Ok(encode(&plugin.run_command(args)))
            }
            OP_AUTH_METHODS => Ok(encode(&plugin.auth_methods())),
            OP_CHECK_PASSWORD => {
                let (username, password): (String, String) = decode(input)?;
                let checked = plugin.check_password(&username, &password);
                Ok(encode(&checked.map_err(|err| err.to_string())))
            }
            OP_CHECK_SSH_KEY => {
                let (username, key): (String, String) = decode(input)?;
                let checked = plugin.check_ssh_key(&username, &key);
                Ok(encode(&checked.map_err(|err| err.to_string())))
            }
            OP_SET_PASSWORD => {
                let (user_id, password): (i64, crate::PasswordInput) = decode(input)?;
                let kept = plugin.set_password(user_id, password);
                Ok(encode(&kept.map_err(|err| err.to_string())))
            }
            other => Err(format!("unknown plugin operation {other}")),
        }
    }

    fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into());
        format!("plugin panicked: {detail}")
    }

    /// Calls a host service and decodes its answer.
    pub(crate) fn host_call<T: DeserializeOwned>(op: u32, input: &[u8]) -> Result<T, String> {
        let Some(Host(host)) = HOST.get() else {
            return Err("the plugin was not initialised by a Hatchery host".into());
        };
        let mut output = Buffer::EMPTY;
        let status =
            unsafe { (host.call)(host.context, op, input.as_ptr(), input.len(), &mut output) };
        let bytes = unsafe { output.as_slice() }.to_vec();
        unsafe { (host.free)(output) };
        if status == STATUS_OK {
            decode(&bytes)
        } else {
            Err(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::{CommandOutput, Error, Plugin, Request, Response};

    struct Echo;

    impl Plugin for Echo {
        fn handle_request(&self, request: Request) -> Result<Response, Error> {
            if request.path == "/boom" {
                panic!("boom");
            }
            if request.path == "/refuse" {
                return Err(Error::forbidden("no"));
            }
            Ok(Response::text(request.path))
        }

        fn run_command(&self, args: Vec<String>) -> CommandOutput {
            CommandOutput::ok(args.join(" "))
        }
    }

    static ECHO: Echo = Echo;

    fn call(op: u32, input: &[u8]) -> (i32, Vec<u8>) {
        let mut output = Buffer::EMPTY;
        let status = unsafe { guest::call(&ECHO, op, input.as_ptr(), input.len(), &mut output) };
        let bytes = unsafe { output.as_slice() }.to_vec();
        unsafe { output.free() };
        (status, bytes)
    }

    fn request(path: &str) -> Vec<u8> {
        encode(&Request {
            method: "GET".into(),
            route: path.into(),
            path: path.into(),
            query: String::new(),
            params: vec![],
            headers: vec![],
            body: vec![],
            principal: None,
        })
    }

    #[test]
    fn requests_and_commands_round_trip() {
        let (status, bytes) = call(OP_HANDLE_REQUEST, &request("/hi"));
        assert_eq!(status, STATUS_OK);
        let response: Response = decode(&bytes).unwrap();
        assert_eq!(response.body, b"/hi");

        let (status, bytes) = call(
            OP_RUN_COMMAND,
            &encode(&vec!["a".to_string(), "b".to_string()]),
        );
        assert_eq!(status, STATUS_OK);
        assert_eq!(decode::<CommandOutput>(&bytes).unwrap().stdout, "a b");
    }

    #[test]
    fn plugin_errors_become_responses_and_panics_are_contained() {
        let (status, bytes) = call(OP_HANDLE_REQUEST, &request("/refuse"));
        assert_eq!(status, STATUS_OK);
        assert_eq!(decode::<Response>(&bytes).unwrap().status, 403);

        let (status, bytes) = call(OP_HANDLE_REQUEST, &request("/boom"));
        assert_eq!(status, STATUS_PANIC);
        assert_eq!(String::from_utf8(bytes).unwrap(), "plugin panicked: boom");
    }

    #[test]
    fn malformed_input_and_unknown_operations_are_errors() {
        let (status, bytes) = call(OP_HANDLE_REQUEST, b"\xff\xff");
        assert_eq!(status, STATUS_ERROR);
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .contains("malformed message")
        );
        let (status, _) = call(99, &[]);
        assert_eq!(status, STATUS_ERROR);
    }
}
