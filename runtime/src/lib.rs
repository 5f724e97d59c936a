//! Hatchery's plugin runtime, linked by the panel and by wings: plugin packages and
//! their manifests and grants, and the two runtimes that run plugin code — Wasm
//! components under wasmtime, and native libraries through the SDK's C ABI.
//!
//! The process that loads a plugin gives it a [`services::Services`]: the panel's
//! serves every capability, wings' serves the ones that make sense on a node. Nothing
//! here knows HTTP servers or databases.

pub mod manifest;
pub mod native;
pub mod node;
pub mod outbound;
pub mod package;
pub mod routes;
pub mod services;
pub mod wasm;

mod error;

pub use error::{Error, Result};

use hatchery_sdk::{CommandOutput, Event, PasswordInput, Request, Response, SignInMethod};

/// Caps applied to every call into a Wasm plugin. The panel hands its own to wings
/// with each node-side plugin, so a plugin meets the same limits on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct WasmLimits {
    pub memory_mb: u64,
    pub timeout_ms: u64,
    pub concurrency: u32,
}

impl Default for WasmLimits {
    fn default() -> Self {
        WasmLimits {
            memory_mb: 64,
            timeout_ms: 5_000,
            concurrency: 32,
        }
    }
}

/// A plugin's code, in whichever runtime it runs.
pub enum PluginCode {
    Wasm(Box<wasm::WasmPlugin>),
    Native(native::NativePlugin),
}

impl PluginCode {
    pub async fn handle_request(&self, request: Request) -> Result<Response> {
        match self {
            PluginCode::Wasm(plugin) => plugin.handle_request(request).await,
            PluginCode::Native(plugin) => plugin.handle_request(request).await,
        }
    }

    pub async fn handle_event(&self, event: Event) -> Result<()> {
        match self {
            PluginCode::Wasm(plugin) => plugin.handle_event(event).await,
            PluginCode::Native(plugin) => plugin.handle_event(event).await,
        }
    }

    pub async fn run_command(&self, args: Vec<String>) -> Result<CommandOutput> {
        match self {
            PluginCode::Wasm(plugin) => plugin.run_command(args).await,
            PluginCode::Native(plugin) => plugin.run_command(args).await,
        }
    }

    /// Provider `auth-method`: the sign-in methods offered now.
    pub async fn auth_methods(&self) -> Result<Vec<SignInMethod>> {
        match self {
            PluginCode::Wasm(plugin) => plugin.auth_methods().await,
            PluginCode::Native(plugin) => plugin.auth_methods().await,
        }
    }

    /// Provider `auth-method`: a login outside the browser, by password or SSH key.
    pub async fn check_login(&self, login: &Login) -> Result<Option<i64>> {
        match self {
            PluginCode::Wasm(plugin) => plugin.check_login(login).await,
            PluginCode::Native(plugin) => plugin.check_login(login).await,
        }
    }
}

impl PluginCode {
    /// Provider `auth-method`: hands the plugin a password to keep for a user; false
    /// when it does not keep passwords.
    pub async fn set_password(&self, user_id: i64, password: PasswordInput) -> Result<bool> {
        match self {
            PluginCode::Wasm(plugin) => plugin.set_password(user_id, password).await,
            PluginCode::Native(plugin) => plugin.set_password(user_id, password).await,
        }
    }
}

/// Credentials offered outside the browser (SFTP), for `auth-method` providers.
#[derive(Debug, Clone)]
pub enum Login {
    Password { username: String, password: String },
    PublicKey { username: String, key: String },
}
