//! The Wasm runtime: one shared engine, a fresh store per call with memory, time and
//! concurrency limits, and compiled components cached on disk.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hatchery_sdk::{CommandOutput, Event, Request, Response};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::manifest::Provider;
use crate::services::Services;
use crate::{Error, Login, Result, WasmLimits};
use auth_bindings::exports::hatchery::plugin::auth_method as auth_wit;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/v1",
        world: "plugin",
        imports: { default: async },
        exports: { default: async },
        with: {
            "hatchery:plugin/node-files.file-writer": crate::services::FileWriter,
        },
    });
}

/// The exports of a component that provides sign-in methods.
mod auth_bindings {
    wasmtime::component::bindgen!({
        path: "../wit/v1",
        world: "auth-provider",
        exports: { default: async },
    });
}

/// The exports of a component that provides a backup driver, and the archive streams
/// it is handed.
mod backup_bindings {
    wasmtime::component::bindgen!({
        path: "../wit/v1",
        world: "backup-provider",
        imports: { default: async },
        exports: { default: async },
        with: {
            "hatchery:plugin/types": super::bindings::hatchery::plugin::types,
            "hatchery:plugin/backup-streams.archive-reader": crate::services::ArchiveReader,
            "hatchery:plugin/backup-streams.archive-writer": crate::services::ArchiveWriter,
        },
    });
}

use backup_bindings::exports::hatchery::plugin::backup_driver as backup_wit;
use bindings::hatchery::plugin::types;

mod imports;

/// How often the engine's epoch advances; call deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// How long a call waits for a free slot before the plugin counts as busy.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How much of each pooled linear memory stays mapped between calls.
const KEEP_RESIDENT_BYTES: usize = 2 * 1024 * 1024;
/// The WIT contract major version this host implements.
const CONTRACT_MAJOR: &str = "1";

pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    cache_dir: PathBuf,
    limits: WasmLimits,
}

/// A loaded component, ready to be instantiated per call.
pub struct WasmPlugin {
    id: String,
    pre: bindings::PluginPre<CallState>,
    /// Present when the manifest says the plugin provides `auth-method`.
    auth: Option<auth_bindings::AuthProviderPre<CallState>>,
    /// Present when the manifest says the plugin provides `backup-driver`.
    backup: Option<backup_bindings::BackupProviderPre<CallState>>,
    services: Arc<dyn Services>,
    storage_dir: Option<PathBuf>,
    slots: Arc<Semaphore>,
    limits: WasmLimits,
}

/// Everything one call's store holds.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    services: Arc<dyn Services>,
    /// The user whose request this call handles; host calls act for them.
    caller: Option<hatchery_sdk::Principal>,
    /// When this call's time is up.
    deadline: Arc<Deadline>,
}

/// When a call's time is up: its time limit after it began, or after the last part of
/// an archive it read or wrote (a backup may run for hours, but never stalls).
pub(crate) struct Deadline {
    start: Instant,
    limit: Duration,
    until_ms: AtomicU64,
}

impl Deadline {
    fn new(limit: Duration) -> Arc<Deadline> {
        Arc::new(Deadline {
            start: Instant::now(),
            limit,
            until_ms: AtomicU64::new(limit.as_millis() as u64),
        })
    }

    /// Gives the call its whole time limit again, from now.
    pub(crate) fn extend(&self) {
        let until = self.start.elapsed() + self.limit;
        self.until_ms
            .store(until.as_millis() as u64, Ordering::Relaxed);
    }

    fn remaining(&self) -> Duration {
        Duration::from_millis(self.until_ms.load(Ordering::Relaxed))
            .saturating_sub(self.start.elapsed())
    }

    fn passed(&self) -> bool {
        self.remaining().is_zero()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasmRuntime {
    pub fn new(cache_dir: &Path, limits: WasmLimits) -> Result<WasmRuntime> {
        let engine = build_engine(limits)?;
        let mut linker = Linker::new(&engine);
        // Rust's std imports WASI; linking it grants nothing the context does not allow.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|err| Error::Load(format!("cannot link WASI: {err}")))?;
        bindings::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| {
            state
        })
        .map_err(|err| Error::Load(format!("cannot link the host interface: {err}")))?;
        backup_bindings::hatchery::plugin::backup_streams::add_to_linker::<
            CallState,
            HasSelf<CallState>,
        >(&mut linker, |state| state)
        .map_err(|err| Error::Load(format!("cannot link the backup streams: {err}")))?;

        let weak = engine.weak();
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(|err| Error::io("cannot start the Wasm timer thread", err))?;

        Ok(WasmRuntime {
            engine,
            linker,
            cache_dir: cache_dir.join("wasm"),
            limits,
        })
    }

    /// Compiles (or loads from the cache) and links a component.
    pub fn load(
        &self,
        id: &str,
        wasm: &[u8],
        services: Arc<dyn Services>,
        storage_dir: Option<PathBuf>,
        provides: &[Provider],
    ) -> Result<WasmPlugin> {
        let component = self.compile(wasm)?;
        check_contract_version(&self.engine, &component)?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|err| {
            Error::Load(format!(
                "{id}: the component needs imports this host does not provide: {err:#}"
            ))
        })?;
        let auth = match provides.contains(&Provider::AuthMethod) {
            true => Some(
                auth_bindings::AuthProviderPre::new(instance_pre.clone()).map_err(|err| {
                    Error::Load(format!(
                        "{id}: the manifest says it provides auth-method, but the component does not export it: {err:#}"
                    ))
                })?,
            ),
            false => None,
        };
        let backup = match provides.contains(&Provider::BackupDriver) {
            true => Some(
                backup_bindings::BackupProviderPre::new(instance_pre.clone()).map_err(|err| {
                    Error::Load(format!(
                        "{id}: the manifest says it provides backup-driver, but the component does not export it: {err:#}"
                    ))
                })?,
            ),
            false => None,
        };
        let pre = bindings::PluginPre::new(instance_pre).map_err(|err| {
            Error::Load(format!(
                "{id}: the component does not export the plugin interface: {err:#}"
            ))
        })?;
        Ok(WasmPlugin {
            id: id.to_string(),
            pre,
            auth,
            backup,
            services,
            storage_dir,
            slots: Arc::new(Semaphore::new(self.limits.concurrency as usize)),
            limits: self.limits,
        })
    }

    /// Compiles `wasm`, reusing a cached compilation made by this same engine build.
    pub fn compile(&self, wasm: &[u8]) -> Result<Component> {
        let cache_file = self.cache_file(wasm);
        if cache_file.exists() {
            // SAFETY: the cache directory is written only by this host, and the file
            // name pins the exact engine configuration that produced it.
            match unsafe { Component::deserialize_file(&self.engine, &cache_file) } {
                Ok(component) => return Ok(component),
                Err(err) => {
                    tracing::warn!(file = %cache_file.display(), "recompiling: cached component unusable: {err}")
                }
            }
        }
        let component = cpu_heavy(|| Component::new(&self.engine, wasm))
            .map_err(|err| Error::Load(format!("not a valid Wasm component: {err:#}")))?;
        if let Err(err) = self.store_in_cache(&component, &cache_file) {
            tracing::warn!("could not cache a compiled component: {err}");
        }
        Ok(component)
    }

    /// Compiles without touching the cache (to measure cold loads).
    pub fn compile_uncached(&self, wasm: &[u8]) -> Result<Component> {
        cpu_heavy(|| Component::new(&self.engine, wasm))
            .map_err(|err| Error::Load(format!("not a valid Wasm component: {err:#}")))
    }

    fn cache_file(&self, wasm: &[u8]) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        let digest = hex::encode(Sha256::digest(wasm));
        self.cache_dir
            .join(format!("{digest}-{:016x}.cwasm", hasher.finish()))
    }

    fn store_in_cache(&self, component: &Component, file: &Path) -> Result<()> {
        std::fs::create_dir_all(&self.cache_dir)
            .map_err(|err| Error::io(format!("cannot create {}", self.cache_dir.display()), err))?;
        let bytes = component
            .serialize()
            .map_err(|err| Error::Load(format!("cannot serialize component: {err}")))?;
        let partial = file.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&partial, bytes)
            .and_then(|()| std::fs::rename(&partial, file))
            .map_err(|err| Error::io(format!("cannot write {}", file.display()), err))
    }
}

/// Runs CPU-heavy work (compiling a component) without stalling the other tasks of
/// this async worker.
fn cpu_heavy<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

fn build_engine(limits: WasmLimits) -> Result<Engine> {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    let mut pooled = config.clone();
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.max_memory_size(usize::try_from(limits.memory_mb * 1024 * 1024).unwrap_or(usize::MAX));
    // Returning memory to the OS in batches cuts the TLB flushes a fresh instance per
    // call would otherwise cost every core.
    pool.decommit_batch_size(32);
    // A fresh instance per call would otherwise fault in every page it touches: keep
    // the low pages of a slot resident, and reset only the ones a call dirtied
    // (PAGEMAP_SCAN, Linux 6.7+) instead of unmapping them.
    pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
    pool.table_keep_resident(64 * 1024);
    pool.pagemap_scan(wasmtime::Enabled::Auto);

    pooled.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&pooled) {
        Ok(engine) => Ok(engine),
        Err(err) => {
            tracing::warn!("pooling allocator unavailable ({err}); allocating instances on demand");
            Engine::new(&config)
                .map_err(|err| Error::Load(format!("cannot start the Wasm engine: {err}")))
        }
    }
}

/// Refuses components built against another major version of the contract.
fn check_contract_version(engine: &Engine, component: &Component) -> Result<()> {
    for (name, _) in component.component_type().imports(engine) {
        let version = name
            .strip_prefix("hatchery:plugin/")
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, version)| version);
        if let Some(version) = version
            && version.split('.').next() != Some(CONTRACT_MAJOR)
        {
            return Err(Error::Load(format!(
                "the plugin was built against contract hatchery:plugin@{version}; this host speaks \
                 {CONTRACT_MAJOR}.x — rebuild it with a matching hatchery-sdk"
            )));
        }
    }
    Ok(())
}

impl WasmPlugin {
    pub async fn handle_request(&self, request: Request) -> Result<Response> {
        let caller = request.principal.clone();
        let request = to_wit_request(request);
        let (_slot, mut store, instance) = self.instantiate(caller).await?;
        let outcome = self
            .bounded(
                store.data().deadline.clone(),
                instance
                    .hatchery_plugin_guest()
                    .call_handle_request(&mut store, &request),
            )
            .await?;
        let response =
            outcome.map_err(|err| Error::Call(format!("plugin {} failed: {err}", self.id)))?;
        Ok(Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }

    pub async fn handle_event(&self, event: Event) -> Result<()> {
        let event = types::Event {
            name: event.name,
            payload: event.payload,
            source: event.source,
        };
        let (_slot, mut store, instance) = self.instantiate(None).await?;
        let outcome = self
            .bounded(
                store.data().deadline.clone(),
                instance
                    .hatchery_plugin_guest()
                    .call_handle_event(&mut store, &event),
            )
            .await?;
        outcome.map_err(|err| {
            Error::Call(format!(
                "plugin {} failed to handle an event: {err}",
                self.id
            ))
        })
    }

    pub async fn run_command(&self, args: Vec<String>) -> Result<CommandOutput> {
        let (_slot, mut store, instance) = self.instantiate(None).await?;
        let output = self
            .bounded(
                store.data().deadline.clone(),
                instance
                    .hatchery_plugin_guest()
                    .call_run_command(&mut store, &args),
            )
            .await?;
        Ok(CommandOutput {
            exit_code: output.exit_code,
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    /// Creates a store and an instance and drops them: the fixed cost of every call.
    /// Used to measure that cost.
    pub async fn instantiate_only(&self) -> Result<()> {
        self.instantiate(None).await.map(drop)
    }

    /// A store with this call's limits and a fresh instance in it.
    async fn instantiate(
        &self,
        caller: Option<hatchery_sdk::Principal>,
    ) -> Result<(OwnedSemaphorePermit, Store<CallState>, bindings::Plugin)> {
        let (slot, mut store) = self.new_store(caller).await?;
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|err| self.call_error(err))?;
        Ok((slot, store, instance))
    }

    /// A store with this call's limits, once a call slot is free.
    async fn new_store(
        &self,
        caller: Option<hatchery_sdk::Principal>,
    ) -> Result<(OwnedSemaphorePermit, Store<CallState>)> {
        // A free slot is taken at once; only a full plugin waits (on a timer).
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
                .await
                .map_err(|_| {
                    Error::Busy(format!(
                        "plugin {} is busy: {} calls are already running; try again shortly",
                        self.id, self.limits.concurrency
                    ))
                })?
                .expect("the semaphore is never closed"),
        };
        let deadline = Deadline::new(Duration::from_millis(self.limits.timeout_ms));
        let mut wasi = WasiCtxBuilder::new();
        if let Some(dir) = &self.storage_dir {
            wasi.preopened_dir(dir, "/data", FsPerms::ReadWrite)
                .map_err(|err| Error::Load(format!("cannot open {}: {err}", dir.display())))?;
        }
        let state = CallState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(
                    usize::try_from(self.limits.memory_mb * 1024 * 1024).unwrap_or(usize::MAX),
                )
                .trap_on_grow_failure(true)
                .build(),
            services: self.services.clone(),
            caller,
            deadline: deadline.clone(),
        };
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        // Every tick, a running guest yields to the async runtime (so a busy plugin
        // cannot starve other requests) until its time is up, then it is interrupted.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if deadline.passed() {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        Ok((slot, store))
    }

    /// Provider `auth-method`: the sign-in methods the plugin offers.
    pub async fn auth_methods(&self) -> Result<Vec<hatchery_sdk::SignInMethod>> {
        let (_slot, mut store, provider) = self.auth_instance().await?;
        let methods = self
            .bounded(
                store.data().deadline.clone(),
                provider
                    .hatchery_plugin_auth_method()
                    .call_methods(&mut store),
            )
            .await?;
        Ok(methods
            .into_iter()
            .map(|method| hatchery_sdk::SignInMethod {
                id: method.id,
                label: method.label,
                kind: match method.kind {
                    auth_wit::MethodKind::Form => hatchery_sdk::MethodKind::Form,
                    auth_wit::MethodKind::Redirect => hatchery_sdk::MethodKind::Redirect,
                    auth_wit::MethodKind::Passkey => hatchery_sdk::MethodKind::Passkey,
                },
                start: method.start,
            })
            .collect())
    }

    /// Provider `auth-method`: a login by password or SSH key.
    pub async fn check_login(&self, login: &Login) -> Result<Option<i64>> {
        let (_slot, mut store, provider) = self.auth_instance().await?;
        let auth = provider.hatchery_plugin_auth_method();
        let checked = match login {
            Login::Password { username, password } => {
                self.bounded(
                    store.data().deadline.clone(),
                    auth.call_check_password(&mut store, username, password),
                )
                .await?
            }
            Login::PublicKey { username, key } => {
                self.bounded(
                    store.data().deadline.clone(),
                    auth.call_check_ssh_key(&mut store, username, key),
                )
                .await?
            }
        };
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
        let (_slot, mut store, provider) = self.auth_instance().await?;
        let password = match password {
            hatchery_sdk::PasswordInput::Plain(text) => auth_wit::PasswordInput::Plain(text),
            hatchery_sdk::PasswordInput::Hash(hash) => auth_wit::PasswordInput::Hash(hash),
        };
        let kept = self
            .bounded(
                store.data().deadline.clone(),
                provider
                    .hatchery_plugin_auth_method()
                    .call_set_password(&mut store, user_id, &password),
            )
            .await?;
        kept.map_err(Error::Refused)
    }

    /// Provider `backup-driver`: keeps the archive read from `archive`; the driver's
    /// note of where it went.
    pub async fn backup_save(
        &self,
        backup: &hatchery_sdk::BackupRef,
        archive: Box<dyn crate::services::ArchiveSource>,
    ) -> Result<String> {
        let (_slot, mut store, driver) = self.backup_instance().await?;
        let archive = store
            .data_mut()
            .table
            .push(crate::services::ArchiveReader(archive))
            .map_err(|err| Error::Call(format!("cannot hand over the archive: {err}")))?;
        let borrowed = wasmtime::component::Resource::new_borrow(archive.rep());
        let stored = self
            .bounded(
                store.data().deadline.clone(),
                driver.hatchery_plugin_backup_driver().call_save(
                    &mut store,
                    &to_wit_backup(backup),
                    borrowed,
                ),
            )
            .await?;
        stored.map_err(|err| self.driver_error("save", err))
    }

    /// Provider `backup-driver`: writes the archive kept for `backup` into `into`.
    pub async fn backup_fetch(
        &self,
        backup: &hatchery_sdk::BackupRef,
        into: Box<dyn crate::services::ArchiveSink>,
    ) -> Result<()> {
        let (_slot, mut store, driver) = self.backup_instance().await?;
        let into = store
            .data_mut()
            .table
            .push(crate::services::ArchiveWriter(into))
            .map_err(|err| Error::Call(format!("cannot hand over the archive: {err}")))?;
        let borrowed = wasmtime::component::Resource::new_borrow(into.rep());
        let fetched = self
            .bounded(
                store.data().deadline.clone(),
                driver.hatchery_plugin_backup_driver().call_fetch(
                    &mut store,
                    &to_wit_backup(backup),
                    borrowed,
                ),
            )
            .await?;
        fetched.map_err(|err| self.driver_error("fetch", err))
    }

    /// Provider `backup-driver`: forgets the archive kept for `backup`.
    pub async fn backup_delete(&self, backup: &hatchery_sdk::BackupRef) -> Result<()> {
        let (_slot, mut store, driver) = self.backup_instance().await?;
        let deleted = self
            .bounded(
                store.data().deadline.clone(),
                driver
                    .hatchery_plugin_backup_driver()
                    .call_delete(&mut store, &to_wit_backup(backup)),
            )
            .await?;
        deleted.map_err(|err| self.driver_error("delete", err))
    }

    fn driver_error(&self, call: &str, message: String) -> Error {
        Error::Call(format!(
            "backup driver {} could not {call} the archive: {message}",
            self.id
        ))
    }

    async fn backup_instance(
        &self,
    ) -> Result<(
        OwnedSemaphorePermit,
        Store<CallState>,
        backup_bindings::BackupProvider,
    )> {
        let pre = self.backup.as_ref().ok_or_else(|| {
            Error::Call(format!("plugin {} does not provide backup-driver", self.id))
        })?;
        let (slot, mut store) = self.new_store(None).await?;
        let driver = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|err| self.call_error(err))?;
        Ok((slot, store, driver))
    }

    async fn auth_instance(
        &self,
    ) -> Result<(
        OwnedSemaphorePermit,
        Store<CallState>,
        auth_bindings::AuthProvider,
    )> {
        let pre = self.auth.as_ref().ok_or_else(|| {
            Error::Call(format!("plugin {} does not provide auth-method", self.id))
        })?;
        let (slot, mut store) = self.new_store(None).await?;
        let provider = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|err| self.call_error(err))?;
        Ok((slot, store, provider))
    }

    /// Runs a call in `store` under its deadline (which the epoch callback enforces
    /// inside Wasm; this also covers time spent in host calls).
    async fn bounded<T>(
        &self,
        deadline: Arc<Deadline>,
        call: impl std::future::Future<Output = wasmtime::Result<T>>,
    ) -> Result<T> {
        const GRACE: Duration = Duration::from_millis(250);
        let mut call = std::pin::pin!(call);
        loop {
            match tokio::time::timeout(deadline.remaining() + GRACE, &mut call).await {
                Ok(result) => return result.map_err(|err| self.call_error(err)),
                Err(_) if deadline.passed() => return Err(self.timeout_error()),
                Err(_) => continue,
            }
        }
    }

    fn timeout_error(&self) -> Error {
        Error::Timeout(format!(
            "plugin {} did not finish within its time limit of {} ms",
            self.id, self.limits.timeout_ms
        ))
    }

    fn call_error(&self, err: wasmtime::Error) -> Error {
        if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            return self.timeout_error();
        }
        let text = format!("{err:#}");
        if text.contains("forcing trap when growing memory") || text.contains("memory minimum size")
        {
            return Error::Call(format!(
                "plugin {} exceeded its memory limit of {} MiB",
                self.id, self.limits.memory_mb
            ));
        }
        Error::Call(format!("plugin {} crashed: {text}", self.id))
    }
}

fn to_wit_backup(backup: &hatchery_sdk::BackupRef) -> backup_wit::Backup {
    backup_wit::Backup {
        uuid: backup.uuid.clone(),
        server: backup.server.clone(),
        config: backup.config.clone(),
    }
}

fn to_wit_request(request: Request) -> types::HttpRequest {
    types::HttpRequest {
        method: request.method,
        route: request.route,
        path: request.path,
        query: request.query,
        params: request.params,
        headers: request.headers,
        body: request.body,
        principal: request.principal.map(|p| types::Principal {
            user_id: p.user_id,
            username: p.username,
            admin: p.admin,
            permissions: p.permissions,
        }),
    }
}
