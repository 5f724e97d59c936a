//! # Hatchery plugin SDK
//!
//! Implement [`Plugin`] (every method has a default) and call [`export_plugin!`] once.
//! The same source builds as a Wasm component (`--target wasm32-wasip2`, sandboxed,
//! installable at runtime) or as a native `cdylib` (trusted, loaded through a C ABI).
//!
//! ```ignore
//! use hatchery_sdk::{export_plugin, Plugin, Request, Response, Error};
//!
//! #[derive(Default)]
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn handle_request(&self, request: Request) -> Result<Response, Error> {
//!         Ok(Response::json(&serde_json::json!({ "hello": "world" })))
//!     }
//! }
//!
//! export_plugin!(Hello);
//! ```
//!
//! What the plugin may do (its own tables, emitting events, …) is declared in its
//! `plugin.toml` and granted by the admin; [`host`] calls outside the grant return errors.
//!
//! A Wasm plugin is instantiated afresh for every call, so keep state in the database,
//! not in `self`. This crate knows nothing about HTTP servers, databases or wasmtime:
//! it only describes values and forwards calls to whichever host loaded it.

mod error;
pub mod host;
mod types;

#[doc(hidden)]
pub mod abi;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::Error;
pub use serde_json::json;
pub use types::*;

/// A Hatchery plugin. Override only what the manifest declares.
pub trait Plugin: Send + Sync + 'static {
    /// Answers a request to one of the manifest's `[[routes]]`. The host has already
    /// authenticated the user and checked the route's permission.
    fn handle_request(&self, request: Request) -> Result<Response, Error> {
        let _ = request;
        Ok(Response::not_found())
    }

    /// Receives an event listed under `subscribe` in the manifest. Events reach each
    /// plugin in the order they were published; an error is logged by the host.
    fn handle_event(&self, event: Event) -> Result<(), Error> {
        let _ = event;
        Ok(())
    }

    /// Runs `hatchery <plugin-id> <args>…` for the manifest's `[[commands]]`.
    fn run_command(&self, args: Vec<String>) -> CommandOutput {
        let _ = args;
        CommandOutput::usage("this plugin has no commands")
    }

    /// Provider `auth-method` (manifest `provides = ["auth-method"]`): the ways to
    /// sign in this plugin offers on the sign-in page.
    fn auth_methods(&self) -> Vec<SignInMethod> {
        Vec::new()
    }

    /// Provider `auth-method`: checks a password typed outside the browser (SFTP);
    /// the user's id when it is right.
    fn check_password(&self, username: &str, password: &str) -> Result<Option<i64>, Error> {
        let _ = (username, password);
        Ok(None)
    }

    /// Provider `auth-method`: whether an SSH public key (`ssh-ed25519 AAAA…`) offered
    /// for SFTP belongs to `username`; their id when it does.
    fn check_ssh_key(&self, username: &str, public_key: &str) -> Result<Option<i64>, Error> {
        let _ = (username, public_key);
        Ok(None)
    }

    /// Provider `auth-method`: keeps `password` as the user's, replacing theirs. Return
    /// false when this plugin does not keep passwords; an error is shown to the person
    /// (a password that is too short, a hash it cannot read).
    fn set_password(&self, user_id: i64, password: PasswordInput) -> Result<bool, Error> {
        let _ = (user_id, password);
        Ok(false)
    }

    /// Provider `backup-driver` (manifest `provides = ["backup-driver"]`; Wasm only,
    /// run by wings where the data is): reads `archive` to its end and keeps it.
    /// Returns the driver's note of where it went (an object key, a file name).
    fn backup_save(
        &self,
        backup: &BackupRef,
        archive: &mut dyn std::io::Read,
    ) -> Result<String, Error> {
        let _ = (backup, archive);
        Err(Error::internal("this plugin is not a backup driver"))
    }

    /// Provider `backup-driver`: writes the archive kept for `backup` into `into`.
    fn backup_fetch(&self, backup: &BackupRef, into: &mut dyn std::io::Write) -> Result<(), Error> {
        let _ = (backup, into);
        Err(Error::internal("this plugin is not a backup driver"))
    }

    /// Provider `backup-driver`: forgets the archive kept for `backup`; succeeds when
    /// there is none.
    fn backup_delete(&self, backup: &BackupRef) -> Result<(), Error> {
        let _ = backup;
        Err(Error::internal("this plugin is not a backup driver"))
    }
}

/// Exports a [`Plugin`] type (which must implement `Default`) for the host to load.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub fn __hatchery_plugin_instance() -> &'static dyn $crate::Plugin {
            static INSTANCE: ::std::sync::OnceLock<$plugin> = ::std::sync::OnceLock::new();
            INSTANCE.get_or_init(<$plugin as ::core::default::Default>::default)
        }

        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            #[unsafe(no_mangle)]
            pub static HATCHERY_PLUGIN_MAGIC: [u8; 8] = $crate::abi::MAGIC;

            #[unsafe(no_mangle)]
            pub static HATCHERY_PLUGIN_ABI_VERSION: u32 = $crate::abi::ABI_VERSION;

            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn hatchery_plugin_init(
                host: *const $crate::abi::HostApi,
            ) -> i32 {
                unsafe { $crate::abi::guest::init(host) }
            }

            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn hatchery_plugin_call(
                op: u32,
                input: *const u8,
                input_len: usize,
                output: *mut $crate::abi::Buffer,
            ) -> i32 {
                unsafe {
                    $crate::abi::guest::call(
                        __hatchery_plugin_instance(),
                        op,
                        input,
                        input_len,
                        output,
                    )
                }
            }

            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn hatchery_plugin_free(buffer: $crate::abi::Buffer) {
                unsafe { buffer.free() }
            }
        };
    };
}
