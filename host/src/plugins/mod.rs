//! The plugin host: installed plugins, their lifecycle, and the running registry.
//!
//! The database says which plugins are installed, enabled and granted what; the
//! plugins directory holds their files. [`PluginHost::reconcile`] turns that desired
//! state into the running [`Registry`] as a diff — unchanged plugins keep their loaded
//! code, changed ones are reloaded — and swaps it in atomically, so requests in flight
//! finish on the registry they started with. Startup is the diff from empty. Every
//! change bumps a revision in the database that running panels poll, so a change made
//! by the CLI or another panel instance takes effect everywhere without a restart.

pub mod catalogue;
mod credentials;
mod nodes;
pub mod routes;
pub mod services;
pub mod settings;
pub mod timers;

pub use hatchery_runtime::{Login, PluginCode, manifest, native, package, wasm};

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use base64::Engine as _;
use chrono::Utc;
use hatchery_sdk::{CommandOutput, Principal};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::actions::Actor;
use crate::config::Config;
use crate::db::plugin_settings;
use crate::db::plugin_store::{self, PluginStore, StoreSettings};
use crate::db::plugins::PluginRecord;
use crate::db::{self, Database, Dialect, migrate, sql_guard};
use crate::domain::vocabulary::PluginSource;
use crate::error::{Error, Result};
use crate::events::{EventBus, Subscriber, host_event};
use manifest::{Capabilities, Manifest, Provider, RouteDecl, RouteScope, Runtime};
use package::{MANIFEST_FILE, PackageSigner, ReadLimits};
use routes::RoutePattern;
use serde_json::Value;
use services::HostServices;
use settings::SettingsSchema;

pub const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");
/// How often a running panel checks whether another process changed the plugins.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// An enabled plugin whose code is loaded.
pub struct LoadedPlugin {
    pub manifest: Arc<Manifest>,
    pub code: PluginCode,
    pub grants: Capabilities,
    /// The schema of its settings, when it has some.
    settings: Option<Arc<SettingsSchema>>,
    routes: Vec<(RouteDecl, RoutePattern)>,
    ui_assets: BTreeMap<String, UiAsset>,
}

/// A UI module as served to browsers.
#[derive(Clone)]
pub struct UiAsset {
    pub bytes: Arc<[u8]>,
    /// Subresource-integrity value: `sha256-<base64>`.
    pub integrity: String,
}

/// The result of matching a request against a plugin's declared routes.
pub enum RouteMatch<'a> {
    Found {
        route: &'a RouteDecl,
        params: Vec<(String, String)>,
    },
    WrongMethod,
    NotFound,
}

impl LoadedPlugin {
    /// The route of `scope` that serves `method` on `path`.
    pub fn match_route(&self, scope: RouteScope, method: &str, path: &str) -> RouteMatch<'_> {
        let mut path_matched = false;
        for (route, pattern) in self.routes.iter().filter(|(route, _)| route.scope == scope) {
            if let Some(params) = pattern.matches(path) {
                if route.method.eq_ignore_ascii_case(method) {
                    return RouteMatch::Found { route, params };
                }
                path_matched = true;
            }
        }
        if path_matched {
            RouteMatch::WrongMethod
        } else {
            RouteMatch::NotFound
        }
    }

    pub fn ui_asset(&self, path: &str) -> Option<&UiAsset> {
        self.ui_assets.get(path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginState {
    Enabled,
    Disabled,
    Failed,
}

impl PluginState {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginState::Enabled => "enabled",
            PluginState::Disabled => "disabled",
            PluginState::Failed => "failed",
        }
    }
}

/// What `/api/health` and `plugin list` report about one plugin.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    pub id: String,
    pub version: String,
    pub runtime: String,
    pub state: PluginState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone)]
struct Entry {
    status: PluginStatus,
    /// Changes whenever the record does; an unchanged key keeps the loaded code.
    key: String,
    record: PluginRecord,
    manifest: Option<Arc<Manifest>>,
    loaded: Option<Arc<LoadedPlugin>>,
    /// Refused because a server route overlaps another plugin's: loaded again at the
    /// next reconcile, when the other one may be gone.
    overlapping: bool,
}

/// What serves a path below a shared mount point (`/api/client/servers/{server}`,
/// `/api/admin`, `/api/auth`).
pub enum MountedRoute {
    Found {
        plugin: Arc<LoadedPlugin>,
        route: RouteDecl,
        params: Vec<(String, String)>,
    },
    /// A plugin serves the path, with other methods.
    WrongMethod,
    NotFound,
}

/// An immutable snapshot of every installed plugin.
#[derive(Default)]
pub struct Registry {
    entries: BTreeMap<String, Entry>,
}

impl Registry {
    pub fn statuses(&self) -> Vec<PluginStatus> {
        self.entries
            .values()
            .map(|entry| entry.status.clone())
            .collect()
    }

    pub fn status(&self, id: &str) -> Option<&PluginStatus> {
        self.entries.get(id).map(|entry| &entry.status)
    }

    /// The loaded code of an enabled plugin.
    pub fn enabled(&self, id: &str) -> Option<&Arc<LoadedPlugin>> {
        self.entries.get(id).and_then(|entry| entry.loaded.as_ref())
    }

    /// Enabled plugins that provide `provider`, by id.
    pub fn providers(&self, provider: Provider) -> Vec<Arc<LoadedPlugin>> {
        self.loaded_plugins()
            .filter(|plugin| plugin.manifest.provides.contains(&provider))
            .cloned()
            .collect()
    }

    /// The enabled plugin whose route in `scope` (mounted where [`routes::mount`]
    /// says) serves `method` on `path`.
    pub fn mounted_route(&self, scope: RouteScope, method: &str, path: &str) -> MountedRoute {
        let mut wrong_method = false;
        for plugin in self.loaded_plugins() {
            match plugin.match_route(scope, method, path) {
                RouteMatch::Found { route, params } => {
                    return MountedRoute::Found {
                        plugin: plugin.clone(),
                        route: route.clone(),
                        params,
                    };
                }
                RouteMatch::WrongMethod => wrong_method = true,
                RouteMatch::NotFound => {}
            }
        }
        match wrong_method {
            true => MountedRoute::WrongMethod,
            false => MountedRoute::NotFound,
        }
    }

    /// Plugins whose routes at a shared mount point overlap an earlier plugin's (by
    /// id) do not load: two plugins never compete for one path.
    fn refuse_overlapping_routes(&mut self) {
        let mut taken: Vec<(String, RouteScope, String, RoutePattern, String)> = Vec::new();
        for entry in self.entries.values_mut() {
            let Some(plugin) = entry.loaded.clone() else {
                continue;
            };
            let mine: Vec<_> = plugin
                .routes
                .iter()
                .filter(|(route, _)| route.scope != RouteScope::Plugin)
                .collect();
            let clash = mine.iter().find_map(|(route, pattern)| {
                taken.iter().find_map(|(other, scope, method, other_pattern, other_path)| {
                    let (mount, _) = routes::mount(*scope);
                    (*scope == route.scope
                        && method.eq_ignore_ascii_case(&route.method)
                        && pattern.overlaps(other_pattern))
                    .then(|| format!(
                        "its route {} {mount}{} overlaps {method} {mount}{other_path} of plugin {other}; disable one of them",
                        route.method.to_ascii_uppercase(),
                        route.path
                    ))
                })
            });
            match clash {
                Some(error) => {
                    tracing::warn!(plugin = %entry.status.id, "{error}");
                    entry.loaded = None;
                    entry.overlapping = true;
                    entry.status.state = PluginState::Failed;
                    entry.status.error = Some(error);
                }
                None => {
                    for (route, pattern) in mine {
                        taken.push((
                            entry.status.id.clone(),
                            route.scope,
                            route.method.to_ascii_uppercase(),
                            pattern.clone(),
                            route.path.clone(),
                        ));
                    }
                }
            }
        }
    }

    pub fn loaded_plugins(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.entries
            .values()
            .filter_map(|entry| entry.loaded.as_ref())
    }

    /// Full details of a plugin, for the admin API and CLI.
    pub fn details(&self, id: &str) -> Option<PluginDetails> {
        let entry = self.entries.get(id)?;
        let requested = entry.manifest.as_ref().map(|m| m.capabilities.clone());
        Some(PluginDetails {
            status: entry.status.clone(),
            name: entry.manifest.as_ref().map(|m| m.name.clone()),
            description: entry.manifest.as_ref().map(|m| m.description.clone()),
            source: entry.record.source,
            consent: requested
                .as_ref()
                .map(|asked| {
                    asked
                        .consent()
                        .into_iter()
                        .map(|(grant, allows)| Consent { grant, allows })
                        .collect()
                })
                .unwrap_or_default(),
            requested,
            granted: serde_json::from_str(&entry.record.grants).unwrap_or_default(),
            trusted_code: entry.status.runtime == "native",
            runs_on_nodes: entry.manifest.as_ref().is_some_and(|m| m.runs_on_nodes()),
            installed_at: entry.record.installed_at,
            updated_at: entry.record.updated_at,
        })
    }

    pub fn all_details(&self) -> Vec<PluginDetails> {
        self.entries
            .keys()
            .filter_map(|id| self.details(id))
            .collect()
    }
}

/// One capability a plugin asks for: how `hatchery plugin grant` spells it, and what
/// it allows.
#[derive(Debug, Clone, Serialize)]
pub struct Consent {
    pub grant: String,
    pub allows: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PluginDetails {
    #[serde(flatten)]
    pub status: PluginStatus,
    pub name: Option<String>,
    pub description: Option<String>,
    pub source: PluginSource,
    /// Capabilities the manifest asks for.
    pub requested: Option<Capabilities>,
    /// The same, one line each, as a consent screen lists them.
    pub consent: Vec<Consent>,
    /// Capabilities the admin granted.
    pub granted: Capabilities,
    /// Native plugins run unsandboxed inside the panel process.
    pub trusted_code: bool,
    /// It provides a node-side interface: every node's wings runs it too.
    pub runs_on_nodes: bool,
    pub installed_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// How an installation was asked for.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Accept a package that no trusted key signed.
    pub allow_unsigned: bool,
    /// Enable the plugin right away.
    pub enable: bool,
    /// What to grant; `None` grants what the manifest requests.
    pub grants: Option<Capabilities>,
}

pub struct PluginHost {
    /// Itself, for work it hands to background tasks.
    me: std::sync::Weak<PluginHost>,
    config: Config,
    db: Database,
    events: Arc<EventBus>,
    core: crate::actions::Core,
    wasm: wasm::WasmRuntime,
    registry: ArcSwap<Registry>,
    /// Serialises reconciliations and remembers the revision last applied.
    applied_revision: tokio::sync::Mutex<i64>,
    /// Live event subscriptions, kept while the plugin's code is unchanged.
    subscriptions: Mutex<HashMap<String, (Arc<LoadedPlugin>, Subscriber)>>,
    /// One install, enable, disable or uninstall at a time in this process.
    lifecycle: tokio::sync::Mutex<()>,
    /// Each plugin's own database, opened on first load and kept across reloads.
    stores: tokio::sync::Mutex<HashMap<String, Arc<PluginStore>>>,
    /// The mail server plugins granted `mail` send through, when configured.
    mailer: Option<Arc<crate::mail::Mailer>>,
}

impl PluginHost {
    /// Adopts plugins the operator placed in the plugins directory, then loads every
    /// enabled plugin. Plugins that fail are reported, never fatal.
    /// `events` is the process's bus: a panel's own, or a relay bus in the CLI;
    /// `observer` hears of every change plugins make (the serving panel's caches).
    pub async fn start(
        config: Config,
        db: Database,
        events: Arc<EventBus>,
        observer: Option<Arc<dyn crate::actions::ChangeObserver>>,
    ) -> Result<Arc<PluginHost>> {
        std::fs::create_dir_all(&config.plugins_dir).map_err(|err| {
            Error::io(
                format!(
                    "cannot create the plugins directory {}",
                    config.plugins_dir.display()
                ),
                err,
            )
        })?;
        let wasm = wasm::WasmRuntime::new(&config.cache_dir(), config.wasm)?;
        // What plugins' host calls act through: the panel's database, key and bus.
        let core = crate::actions::Core {
            db: db.clone(),
            secrets: Arc::new(crate::secrets::SecretBox::load_or_create(&config.data_dir)?),
            events: events.clone(),
            observer,
        };
        let mailer = match &config.smtp_url {
            Some(url) => Some(Arc::new(crate::mail::Mailer::new(url, &config.mail_from)?)),
            None => None,
        };
        let host = Arc::new_cyclic(|me| PluginHost {
            me: me.clone(),
            config,
            db,
            events,
            core,
            wasm,
            registry: ArcSwap::default(),
            applied_revision: tokio::sync::Mutex::new(-1),
            subscriptions: Mutex::default(),
            lifecycle: tokio::sync::Mutex::new(()),
            stores: tokio::sync::Mutex::default(),
            mailer,
        });
        host.adopt_directories().await?;
        host.reconcile().await?;
        Ok(host)
    }

    pub fn registry(&self) -> arc_swap::Guard<Arc<Registry>> {
        self.registry.load()
    }

    /// What plugins' host calls act through (the panel's database, key and bus).
    pub fn core(&self) -> &crate::actions::Core {
        &self.core
    }

    pub fn events(&self) -> &Arc<EventBus> {
        &self.events
    }

    pub fn wasm_runtime(&self) -> &wasm::WasmRuntime {
        &self.wasm
    }

    /// Polls the plugins revision and reconciles when another process changed it, and
    /// delivers the events other processes (the CLI) left in the outbox.
    pub fn spawn_watcher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let host = Arc::downgrade(self);
        let claimant = uuid::Uuid::new_v4().to_string();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(WATCH_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(host) = host.upgrade() else { return };
                host.relay_outbox(&claimant).await;
                let with_timers: Vec<_> = host
                    .registry()
                    .loaded_plugins()
                    .filter(|plugin| !plugin.manifest.timers.is_empty())
                    .cloned()
                    .collect();
                timers::fire_due(&host.db, with_timers).await;
                let applied = *host.applied_revision.lock().await;
                match db::plugins::revision(&host.db).await {
                    Ok(revision) if revision != applied => {
                        if let Err(err) = host.reconcile().await {
                            tracing::error!("could not apply plugin changes: {err}");
                        }
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!("could not check for plugin changes: {err}"),
                }
            }
        })
    }

    /// Publishes what other processes raised. A reconcile they caused runs first (it
    /// is checked after this), but events are about changes already made, so their
    /// order against the reconcile does not matter to subscribers.
    async fn relay_outbox(&self, claimant: &str) {
        match db::event_outbox::claim(&self.db, claimant).await {
            Ok(events) => {
                for event in events {
                    self.events.publish(event);
                }
            }
            Err(err) => tracing::warn!("could not read events from other processes: {err}"),
        }
    }

    /// Brings the running registry in line with the database.
    pub async fn reconcile(&self) -> Result<()> {
        let mut applied = self.applied_revision.lock().await;
        let revision = db::plugins::revision(&self.db).await?;
        let records = db::plugins::list(&self.db).await?;
        let current = self.registry.load_full();
        let mut entries = BTreeMap::new();
        for record in records {
            let key = record_key(&record);
            let entry = match current.entries.get(&record.id) {
                Some(existing) if existing.key == key && !existing.overlapping => existing.clone(),
                _ => self.build_entry(record, key).await,
            };
            entries.insert(entry.status.id.clone(), entry);
        }
        let mut next = Registry { entries };
        next.refuse_overlapping_routes();
        let next = Arc::new(next);
        self.resubscribe(&next);
        self.registry.store(next.clone());
        // A plugin uninstalled elsewhere (the CLI, another panel) may have had its store
        // purged: forget the pool, so a reinstall opens the new one.
        let gone: Vec<Arc<PluginStore>> = {
            let mut stores = self.stores.lock().await;
            let ids: Vec<String> = stores
                .keys()
                .filter(|id| !next.entries.contains_key(*id))
                .cloned()
                .collect();
            ids.iter().filter_map(|id| stores.remove(id)).collect()
        };
        for store in gone {
            store.close().await;
        }
        // Startup loads every plugin; only later changes are news for subscribers.
        let first = *applied < 0;
        *applied = revision;
        drop(applied);
        if first {
            for status in next
                .statuses()
                .iter()
                .filter(|s| s.state == PluginState::Failed)
            {
                self.announce_state(status);
            }
            return Ok(());
        }

        if current.node_plugin_keys() != next.node_plugin_keys() && !self.events.is_relay() {
            self.tell_nodes_later();
        }
        for (id, entry) in &next.entries {
            let before = current.entries.get(id).map(|e| e.status.state);
            if before != Some(entry.status.state) {
                self.announce_state(&entry.status);
            }
        }
        for (id, entry) in &current.entries {
            if !next.entries.contains_key(id) && entry.status.state == PluginState::Enabled {
                self.events.publish(host_event(
                    "plugin.disabled",
                    serde_json::json!({ "id": id }),
                ));
            }
        }
        Ok(())
    }

    fn announce_state(&self, status: &PluginStatus) {
        if self.events.is_relay() {
            // A CLI process's registry is its own; the running panel announces the
            // transitions it applies.
            return;
        }
        let payload = serde_json::json!({ "id": status.id, "version": status.version });
        match status.state {
            PluginState::Enabled => {
                tracing::info!(plugin = %status.id, version = %status.version, runtime = %status.runtime, "plugin enabled");
                self.events.publish(host_event("plugin.enabled", payload));
            }
            PluginState::Disabled => {
                tracing::info!(plugin = %status.id, "plugin disabled");
                self.events.publish(host_event("plugin.disabled", payload));
            }
            PluginState::Failed => {
                tracing::error!(plugin = %status.id, error = status.error.as_deref().unwrap_or(""), "plugin failed to load");
            }
        }
    }

    async fn build_entry(&self, record: PluginRecord, key: String) -> Entry {
        let mut status = PluginStatus {
            id: record.id.clone(),
            version: record.version.clone(),
            runtime: record.runtime.clone(),
            state: PluginState::Disabled,
            error: None,
        };
        let mut loaded = None;
        if record.enabled {
            match self.load(&record).await {
                Ok(plugin) => {
                    status.state = PluginState::Enabled;
                    loaded = Some(Arc::new(plugin));
                }
                Err(err) => {
                    status.state = PluginState::Failed;
                    status.error = Some(err.to_string());
                }
            }
        }
        // A loaded plugin already parsed its manifest; read it only for the others.
        let manifest = match &loaded {
            Some(plugin) => Some(plugin.manifest.clone()),
            None => read_manifest(&self.plugin_dir(&record.id))
                .ok()
                .map(Arc::new),
        };
        Entry {
            status,
            key,
            record,
            manifest,
            loaded,
            overlapping: false,
        }
    }

    async fn load(&self, record: &PluginRecord) -> Result<LoadedPlugin> {
        let dir = self.plugin_dir(&record.id);
        if !dir.is_dir() {
            return Err(Error::PluginLoad(format!(
                "its files are missing from {}; reinstall the plugin",
                dir.display()
            )));
        }
        let files = package::read_dir_files(&dir)?;
        let actual = package::content_hash(&files);
        if actual != record.content_sha256 {
            return Err(Error::PluginLoad(format!(
                "its files in {} changed since it was installed; reinstall the plugin",
                dir.display()
            )));
        }
        let manifest = parse_manifest_file(&files)?;
        if manifest.id != record.id {
            return Err(Error::PluginLoad(format!(
                "its manifest says id `{}` but it is installed as `{}`",
                manifest.id, record.id
            )));
        }
        manifest
            .check_host_version(&host_version())
            .map_err(Error::PluginLoad)?;
        let grants: Capabilities = serde_json::from_str(&record.grants)
            .map_err(|err| Error::PluginLoad(format!("its stored grants are unreadable: {err}")))?;
        grants
            .is_within(&manifest.capabilities)
            .map_err(Error::PluginLoad)?;

        let migrations = migrations_for(&files, self.db.dialect())?;
        if !migrations.is_empty() && !grants.database {
            return Err(Error::PluginLoad(
                "it has migrations but the database capability was not granted".into(),
            ));
        }
        let prefix = sql_guard::table_prefix(&manifest.id);
        for migration in &migrations {
            sql_guard::check(self.db.dialect(), &migration.sql, &prefix, false).map_err(|err| {
                Error::PluginLoad(format!(
                    "migration {:04}_{} refused: {err}",
                    migration.version, migration.name
                ))
            })?;
        }
        let store = if grants.database {
            let store = self.store(&manifest.id).await?;
            migrate::apply(store.database(), &manifest.id, &migrations).await?;
            Some(store)
        } else {
            None
        };

        let settings = match &manifest.settings {
            Some(file) => Some(Arc::new(settings_schema(&files, file)?)),
            None => None,
        };
        let services = Arc::new(
            HostServices::new(&manifest.id, grants.clone(), store, self.core.clone())
                .with_settings(settings.clone())
                .with_mailer(self.mailer.clone()),
        );
        let entry_bytes = files.get(&manifest.entry).ok_or_else(|| {
            Error::PluginLoad(format!("its entry `{}` is missing", manifest.entry))
        })?;
        let code = match manifest.runtime {
            Runtime::Wasm => {
                let storage = if grants.storage {
                    let dir = self.config.plugin_storage_dir(&manifest.id);
                    std::fs::create_dir_all(&dir).map_err(|err| {
                        Error::io(format!("cannot create {}", dir.display()), err)
                    })?;
                    Some(dir)
                } else {
                    None
                };
                PluginCode::Wasm(Box::new(self.wasm.load(
                    &manifest.id,
                    entry_bytes,
                    services,
                    storage,
                    &manifest.provides,
                )?))
            }
            Runtime::Native => PluginCode::Native(native::NativePlugin::load(
                &manifest.id,
                entry_bytes,
                services,
                &self.config.cache_dir(),
            )?),
        };

        let routes = manifest
            .routes
            .iter()
            .map(|route| {
                let pattern = RoutePattern::parse(&route.path).map_err(Error::Manifest)?;
                Ok((route.clone(), pattern))
            })
            .collect::<Result<Vec<_>>>()?;
        // Every module under ui/, not only the contributed ones: a contribution may
        // import the plugin's other modules.
        let ui_assets = files
            .iter()
            .filter(|(path, _)| {
                path.starts_with("ui/") && (path.ends_with(".js") || path.ends_with(".mjs"))
            })
            .map(|(path, bytes)| {
                let integrity = format!(
                    "sha256-{}",
                    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
                );
                (
                    path.clone(),
                    UiAsset {
                        bytes: Arc::from(bytes.as_slice()),
                        integrity,
                    },
                )
            })
            .collect();
        Ok(LoadedPlugin {
            manifest: Arc::new(manifest),
            code,
            grants,
            settings,
            routes,
            ui_assets,
        })
    }

    /// Points the event bus at the plugins of `registry`, keeping the delivery queue of
    /// every plugin whose code did not change.
    fn resubscribe(&self, registry: &Registry) {
        let mut subscriptions = self.subscriptions.lock().expect("subscriptions lock");
        let mut next = HashMap::new();
        for plugin in registry.loaded_plugins() {
            if plugin.grants.subscribe.is_empty() {
                continue;
            }
            let id = plugin.manifest.id.clone();
            let kept = subscriptions
                .remove(&id)
                .filter(|(previous, _)| Arc::ptr_eq(previous, plugin));
            let subscription = kept.unwrap_or_else(|| {
                let (subscriber, delivery) = self.events.subscriber(&id, plugin.grants.subscribe.clone());
                let receiver = plugin.clone();
                tokio::spawn(delivery.run(move |event| {
                    let receiver = receiver.clone();
                    async move {
                        let name = event.name.clone();
                        if let Err(err) = receiver.code.handle_event(event).await {
                            tracing::warn!(plugin = %receiver.manifest.id, event = %name, "event handler failed: {err}");
                        }
                    }
                }));
                (plugin.clone(), subscriber)
            });
            next.insert(id, subscription);
        }
        self.events.set_subscribers(
            next.values()
                .map(|(_, subscriber)| subscriber.clone())
                .collect(),
        );
        *subscriptions = next;
    }

    /// Registers plugin directories the operator placed by hand: they are trusted
    /// like the panel's own files, enabled, and granted what they request.
    async fn adopt_directories(&self) -> Result<()> {
        let entries = std::fs::read_dir(&self.config.plugins_dir).map_err(|err| {
            Error::io(
                format!("cannot list {}", self.config.plugins_dir.display()),
                err,
            )
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            if let Err(err) = self.adopt_directory(&name, &entry.path()).await {
                tracing::error!(directory = %entry.path().display(), "ignoring plugin directory: {err}");
            }
        }
        Ok(())
    }

    async fn adopt_directory(&self, name: &str, dir: &Path) -> Result<()> {
        let files = package::read_dir_files(dir)?;
        let manifest = parse_manifest_file(&files)?;
        if manifest.id != name {
            return Err(Error::Manifest(format!(
                "the directory is named `{name}` but the manifest's id is `{}`",
                manifest.id
            )));
        }
        let content = package::content_hash(&files);
        let now = Utc::now();
        let existing = db::plugins::get(&self.db, name).await?;
        let record = match existing {
            Some(record)
                if record.content_sha256 == content || record.source != PluginSource::Directory =>
            {
                return Ok(());
            }
            Some(record) => PluginRecord {
                version: manifest.version.to_string(),
                runtime: manifest.runtime.as_str().into(),
                content_sha256: content,
                updated_at: now,
                ..record
            },
            None => {
                tracing::info!(plugin = name, grants = ?manifest.capabilities.describe(), "adopting a plugin placed in the plugins directory");
                PluginRecord {
                    id: manifest.id.clone(),
                    version: manifest.version.to_string(),
                    runtime: manifest.runtime.as_str().into(),
                    enabled: true,
                    grants: serde_json::to_string(&manifest.capabilities).expect("plain data"),
                    source: PluginSource::Directory,
                    content_sha256: content,
                    installed_at: now,
                    updated_at: now,
                }
            }
        };
        db::plugins::save(&self.db, &record).await
    }

    /// Verifies and installs a package. Nothing changes unless every check passes.
    /// Installs a package; recorded in the activity log as `actor`'s.
    pub async fn install(
        &self,
        bytes: &[u8],
        options: InstallOptions,
        actor: &Actor,
    ) -> Result<PluginDetails> {
        let details = self.install_package(bytes, options).await?;
        let properties = serde_json::json!({
            "version": details.status.version,
            "runtime": details.status.runtime,
            "state": details.status.state,
            "granted": details.granted.describe(),
        });
        self.record_lifecycle(actor, "install", &details.status.id, properties)
            .await;
        Ok(details)
    }

    async fn install_package(
        &self,
        bytes: &[u8],
        options: InstallOptions,
    ) -> Result<PluginDetails> {
        let _one_at_a_time = self.lifecycle.lock().await;
        if bytes.len() as u64 > self.config.max_package_bytes {
            return Err(Error::PayloadTooLarge(format!(
                "the package is larger than the {} MiB limit (max_package_mb)",
                self.config.max_package_bytes / (1024 * 1024)
            )));
        }
        let package = catalogue::read_package(
            bytes,
            &self.config.plugins.trusted_keys,
            ReadLimits::for_package_limit(self.config.max_package_bytes),
        )?;
        let allow_unsigned = options.allow_unsigned || self.config.plugins.allow_unsigned;
        match &package.signer {
            PackageSigner::Trusted(_) => {}
            PackageSigner::Untrusted(key) if !allow_unsigned => {
                return Err(Error::Package(format!(
                    "it is signed by {key}, which is not a trusted key; add the key to plugins.trusted_keys, \
                     or install with --allow-unsigned if you trust this package"
                )));
            }
            PackageSigner::Unsigned if !allow_unsigned => {
                return Err(Error::Package(
                    "it is not signed; install with --allow-unsigned (API: ?allow_unsigned=true) if you trust it".into(),
                ));
            }
            _ => {}
        }
        let manifest = &package.manifest;
        manifest
            .check_host_version(&host_version())
            .map_err(Error::Package)?;
        let grants = options
            .grants
            .clone()
            .unwrap_or_else(|| manifest.capabilities.clone());
        grants
            .is_within(&manifest.capabilities)
            .map_err(Error::bad_request)?;

        // Check everything that could make it fail to load before touching anything.
        let prefix = sql_guard::table_prefix(&manifest.id);
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            for migration in migrations_for(&package.files, dialect)? {
                sql_guard::check(dialect, &migration.sql, &prefix, false).map_err(|err| {
                    Error::Package(format!(
                        "migrations/{}/{:04}_{}.sql is refused: {err}",
                        db::dialect_name(dialect),
                        migration.version,
                        migration.name
                    ))
                })?;
            }
        }
        if manifest.runtime == Runtime::Wasm {
            self.wasm
                .compile(&package.files[&manifest.entry])
                .map_err(|err| Error::Package(err.to_string()))?;
        }

        let existing = db::plugins::get(&self.db, &manifest.id).await?;
        self.write_plugin_files(&manifest.id, &package.files)?;
        let now = Utc::now();
        let record = PluginRecord {
            id: manifest.id.clone(),
            version: manifest.version.to_string(),
            runtime: manifest.runtime.as_str().into(),
            enabled: options.enable,
            grants: serde_json::to_string(&grants).expect("plain data"),
            source: PluginSource::Package,
            content_sha256: package.content_sha256(),
            installed_at: existing.as_ref().map_or(now, |r| r.installed_at),
            updated_at: now,
        };
        db::plugins::save(&self.db, &record).await?;
        self.reconcile().await?;
        self.events.publish(host_event(
            "plugin.installed",
            serde_json::json!({ "id": manifest.id, "version": manifest.version.to_string() }),
        ));
        self.details(&manifest.id)
    }

    /// Writes the files into a staging directory, then swaps it into place.
    fn write_plugin_files(&self, id: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
        let root = &self.config.plugins_dir;
        let staging = tempfile::Builder::new()
            .prefix(&format!(".staging-{id}-"))
            .tempdir_in(root)
            .map_err(|err| {
                Error::io(
                    format!("cannot create a staging directory in {}", root.display()),
                    err,
                )
            })?;
        for (path, bytes) in files {
            let target = staging.path().join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|err| Error::io(format!("cannot create {}", parent.display()), err))?;
            }
            std::fs::write(&target, bytes)
                .map_err(|err| Error::io(format!("cannot write {}", target.display()), err))?;
        }
        let final_dir = self.plugin_dir(id);
        let retired = root.join(format!(".retired-{id}-{}", uuid::Uuid::new_v4()));
        if final_dir.exists() {
            std::fs::rename(&final_dir, &retired).map_err(|err| {
                Error::io(format!("cannot move aside {}", final_dir.display()), err)
            })?;
        }
        let staged = staging.keep();
        if let Err(err) = std::fs::rename(&staged, &final_dir) {
            // Put the previous version back so nothing is lost.
            if retired.exists() {
                let _ = std::fs::rename(&retired, &final_dir);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(Error::io(
                format!("cannot move the plugin into {}", final_dir.display()),
                err,
            ));
        }
        if retired.exists() {
            let _ = std::fs::remove_dir_all(&retired);
        }
        Ok(())
    }

    /// Enables a plugin, optionally with narrower grants than before.
    pub async fn enable(
        &self,
        id: &str,
        grants: Option<Capabilities>,
        actor: &Actor,
    ) -> Result<PluginDetails> {
        let _one_at_a_time = self.lifecycle.lock().await;
        let record = self.record(id).await?;
        let grants_json = match grants {
            Some(grants) => {
                let manifest = read_manifest(&self.plugin_dir(&record.id))?;
                grants
                    .is_within(&manifest.capabilities)
                    .map_err(Error::bad_request)?;
                Some(serde_json::to_string(&grants).expect("plain data"))
            }
            None => None,
        };
        db::plugins::set_enabled(&self.db, id, true, grants_json.as_deref()).await?;
        self.reconcile().await?;
        let details = self.details(id)?;
        let properties = serde_json::json!({ "granted": details.granted.describe() });
        self.record_lifecycle(actor, "enable", id, properties).await;
        Ok(details)
    }

    /// Adds `grant` to a plugin's grants and takes `revoke` away, within what its
    /// manifest asks for; it takes effect on every panel process and node at once.
    pub async fn change_grants(
        &self,
        id: &str,
        grant: &Capabilities,
        revoke: &Capabilities,
        actor: &Actor,
    ) -> Result<PluginDetails> {
        let _one_at_a_time = self.lifecycle.lock().await;
        let record = self.record(id).await?;
        let manifest = read_manifest(&self.plugin_dir(&record.id))?;
        let current: Capabilities = serde_json::from_str(&record.grants).unwrap_or_default();
        let grants = current.with(grant).without(revoke);
        grants
            .is_within(&manifest.capabilities)
            .map_err(Error::bad_request)?;
        let grants_json = serde_json::to_string(&grants).expect("plain data");
        db::plugins::set_grants(&self.db, id, &grants_json).await?;
        self.reconcile().await?;
        let details = self.details(id)?;
        let properties = serde_json::json!({
            "granted": grant.describe(),
            "revoked": revoke.describe(),
        });
        self.record_lifecycle(actor, "grants", id, properties).await;
        Ok(details)
    }

    /// A plugin's settings schema and what the administrator set; sealed values are
    /// named, never shown.
    pub async fn settings(&self, id: &str) -> Result<PluginSettings> {
        self.record(id).await?;
        let schema = self.installed_settings_schema(id)?;
        let stored = plugin_settings::get(&self.db, &self.core.secrets, id).await?;
        Ok(PluginSettings::shown(&schema, &stored))
    }

    /// Replaces a plugin's settings after checking them against its schema; sealed
    /// values left out keep what they were. Nothing is stored unless all of it is valid.
    pub async fn set_settings(
        &self,
        id: &str,
        values: Value,
        actor: &Actor,
    ) -> Result<PluginSettings> {
        self.record(id).await?;
        let schema = self.installed_settings_schema(id)?;
        let Value::Object(mut values) = values else {
            return Err(Error::bad_request("settings are a JSON object"));
        };
        if Value::Object(values.clone()).to_string().len() > settings::MAX_SETTINGS_BYTES {
            return Err(Error::PayloadTooLarge(format!(
                "settings are at most {} KiB",
                settings::MAX_SETTINGS_BYTES / 1024
            )));
        }
        let previous = plugin_settings::get(&self.db, &self.core.secrets, id).await?;
        for (name, value) in &previous.sealed {
            values.entry(name.clone()).or_insert_with(|| value.clone());
        }
        if let Err(problems) = schema.check(&Value::Object(values.clone())) {
            let first = problems.first().map(|problem| problem.pointer.clone());
            let listed: Vec<String> = problems
                .iter()
                .map(|problem| match problem.pointer.is_empty() {
                    true => problem.message.clone(),
                    false => format!("{}: {}", problem.pointer, problem.message),
                })
                .collect();
            return Err(Error::BadRequest {
                message: format!(
                    "the settings do not fit the plugin's schema: {}",
                    listed.join("; ")
                ),
                field: first.filter(|pointer| !pointer.is_empty()),
            });
        }
        let stored = schema.split(values, &previous);
        plugin_settings::set(&self.db, &self.core.secrets, id, &stored).await?;
        let mut changed: Vec<&String> = stored.plain.keys().chain(stored.sealed.keys()).collect();
        changed.sort();
        // Names only: settings may hold things the log should not.
        let names = serde_json::json!({ "id": id, "settings": changed });
        self.core
            .record(
                actor,
                crate::actions::Activity::new("admin.plugin.settings")
                    .subject("plugin", id)
                    .with(names.clone()),
            )
            .await;
        self.events
            .publish(host_event("plugin.settings-changed", names));
        if self
            .registry()
            .enabled(id)
            .is_some_and(|plugin| plugin.manifest.runs_on_nodes())
        {
            // A CLI process is about to exit: it tells the nodes before it does.
            match self.events.is_relay() {
                true => self.tell_nodes().await,
                false => self.tell_nodes_later(),
            }
        }
        Ok(PluginSettings::shown(&schema, &stored))
    }

    /// The schema of an installed plugin, read from its directory (enabled or not).
    fn installed_settings_schema(&self, id: &str) -> Result<SettingsSchema> {
        let dir = self.plugin_dir(id);
        let manifest = read_manifest(&dir)?;
        let file = manifest
            .settings
            .ok_or_else(|| Error::NotFound(format!("plugin {id} has no settings")))?;
        // The manifest's check keeps `file` inside the directory.
        let bytes = std::fs::read(dir.join(&file))
            .map_err(|err| Error::io(format!("cannot read the settings schema `{file}`"), err))?;
        SettingsSchema::parse(&bytes).map_err(|err| Error::PluginLoad(format!("{file}: {err}")))
    }

    pub async fn disable(&self, id: &str, actor: &Actor) -> Result<PluginDetails> {
        let _one_at_a_time = self.lifecycle.lock().await;
        self.record(id).await?;
        db::plugins::set_enabled(&self.db, id, false, None).await?;
        self.reconcile().await?;
        self.record_lifecycle(actor, "disable", id, serde_json::json!({}))
            .await;
        self.details(id)
    }

    /// Records a lifecycle change (`admin.plugin.<what>`) in the activity log.
    async fn record_lifecycle(&self, actor: &Actor, what: &str, id: &str, properties: Value) {
        self.core
            .record(
                actor,
                crate::actions::Activity::new(format!("admin.plugin.{what}"))
                    .subject("plugin", id)
                    .with(properties),
            )
            .await;
    }

    /// Removes a plugin. With `purge`, its tables, migration history and private
    /// directory go too; otherwise they stay for a later reinstall.
    pub async fn uninstall(&self, id: &str, purge: bool, actor: &Actor) -> Result<()> {
        let _one_at_a_time = self.lifecycle.lock().await;
        self.record(id).await?;
        db::plugins::delete(&self.db, id).await?;
        self.record_lifecycle(
            actor,
            "uninstall",
            id,
            serde_json::json!({ "purge": purge }),
        )
        .await;
        self.reconcile().await?;
        let dir = self.plugin_dir(id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|err| Error::io(format!("cannot remove {}", dir.display()), err))?;
        }
        if purge {
            if let Some(store) = self.stores.lock().await.remove(id) {
                store.close().await;
            }
            plugin_store::purge(&self.db, id, &self.store_settings()).await?;
            // Tables and history from before plugins had their own stores.
            db::plugins::drop_legacy_tables(&self.db, &sql_guard::table_prefix(id)).await?;
            migrate::forget(&self.db, id).await?;
            let storage = self.config.plugin_storage_dir(id);
            if storage.exists() {
                std::fs::remove_dir_all(&storage).map_err(|err| {
                    Error::io(format!("cannot remove {}", storage.display()), err)
                })?;
            }
        }
        self.events.publish(host_event(
            "plugin.uninstalled",
            serde_json::json!({ "id": id, "purged": purge }),
        ));
        Ok(())
    }

    /// The plugin's own database, opened (and created) on first use.
    async fn store(&self, id: &str) -> Result<Arc<PluginStore>> {
        let mut stores = self.stores.lock().await;
        if let Some(store) = stores.get(id) {
            return Ok(store.clone());
        }
        let store = Arc::new(PluginStore::open(&self.db, id, &self.store_settings()).await?);
        stores.insert(id.to_string(), store.clone());
        Ok(store)
    }

    fn store_settings(&self) -> StoreSettings {
        StoreSettings {
            data_dir: self.config.data_dir.clone(),
            // A little under the call's own limit, so the plugin hears why.
            statement_timeout: Duration::from_millis(self.config.wasm.timeout_ms * 9 / 10),
        }
    }

    /// Runs `hatchery <id> <args>…` in this process.
    pub async fn run_command(&self, id: &str, args: Vec<String>) -> Result<CommandOutput> {
        let registry = self.registry();
        let Some(plugin) = registry.enabled(id) else {
            return Err(self.unavailable(id));
        };
        Ok(plugin.code.run_command(args).await?)
    }

    /// Why `id` cannot serve a call right now.
    pub fn unavailable(&self, id: &str) -> Error {
        match self.registry().status(id) {
            None => Error::NotFound(format!("no plugin `{id}` is installed")),
            Some(status) if status.state == PluginState::Failed => Error::PluginLoad(format!(
                "plugin {id} failed to load: {}",
                status.error.as_deref().unwrap_or("unknown error")
            )),
            Some(_) => Error::NotFound(format!(
                "plugin {id} is disabled; enable it with `hatchery plugin enable {id}`"
            )),
        }
    }

    pub fn details(&self, id: &str) -> Result<PluginDetails> {
        self.registry()
            .details(id)
            .ok_or_else(|| Error::NotFound(format!("no plugin `{id}` is installed")))
    }

    async fn record(&self, id: &str) -> Result<PluginRecord> {
        db::plugins::get(&self.db, id).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "no plugin `{id}` is installed; see `hatchery plugin list`"
            ))
        })
    }

    fn plugin_dir(&self, id: &str) -> PathBuf {
        self.config.plugins_dir.join(id)
    }

    /// The principal-visible UI contributions of every enabled plugin.
    /// Every enabled plugin's UI contributions, whoever may see them: for the page's
    /// import map (the modules are public code).
    pub fn all_ui_contributions(&self) -> Vec<UiContributionView> {
        self.ui_contributions_for(|_| true)
    }

    pub fn ui_contributions(&self, principal: Option<&Principal>) -> Vec<UiContributionView> {
        self.ui_contributions_for(|contribution| match &contribution.permission {
            None => true,
            // A server permission depends on the server: the page checks it there.
            Some(_) if contribution.slot.starts_with("server.") => principal.is_some(),
            Some(permission) => principal.is_some_and(|p| p.can(permission)),
        })
    }

    fn ui_contributions_for(
        &self,
        visible: impl Fn(&hatchery_runtime::manifest::UiContribution) -> bool,
    ) -> Vec<UiContributionView> {
        let registry = self.registry();
        let mut views = Vec::new();
        for plugin in registry.loaded_plugins() {
            for contribution in &plugin.manifest.ui {
                let Some(asset) = plugin.ui_asset(&contribution.module) else {
                    continue;
                };
                if visible(contribution) {
                    views.push(UiContributionView {
                        plugin: plugin.manifest.id.clone(),
                        slot: contribution.slot.clone(),
                        title: contribution.title.clone(),
                        export: contribution.export.clone(),
                        module: format!(
                            "/plugin-assets/{}/{}?v={}",
                            plugin.manifest.id,
                            contribution.module,
                            &asset.integrity[7..15].replace(['/', '+'], "_")
                        ),
                        integrity: asset.integrity.clone(),
                        path: contribution.path.clone(),
                        permission: contribution.permission.clone(),
                        order: contribution.order,
                        trusted: plugin.grants.ui_trusted,
                    });
                }
            }
        }
        views
    }
}

/// One UI contribution as the web panel consumes it.
#[derive(Debug, Clone, Serialize)]
pub struct UiContributionView {
    pub plugin: String,
    pub slot: String,
    pub title: String,
    pub export: String,
    /// Where the ES module is served.
    pub module: String,
    /// Subresource integrity for the module.
    pub integrity: String,
    /// The page's address segment (page slots).
    pub path: Option<String>,
    /// On server slots, the server permission the person needs on that server.
    pub permission: Option<String>,
    /// Rendered in the panel's page (granted `ui_trusted`) rather than a sandboxed frame.
    pub trusted: bool,
    /// Its place among the slot's items, lower first; none: after the panel's own.
    pub order: Option<u16>,
}

pub fn host_version() -> semver::Version {
    semver::Version::parse(HOST_VERSION).expect("the crate version is semver")
}

fn record_key(record: &PluginRecord) -> String {
    format!(
        "{}|{}|{}|{}",
        record.version, record.content_sha256, record.enabled, record.grants
    )
}

fn parse_manifest_file(files: &BTreeMap<String, Vec<u8>>) -> Result<Manifest> {
    let text = files
        .get(MANIFEST_FILE)
        .ok_or_else(|| Error::Manifest(format!("{MANIFEST_FILE} is missing")))?;
    catalogue::parse_manifest(&String::from_utf8_lossy(text))
}

/// Reads only the manifest of an installed plugin.
/// The settings schema `file` of a package's `files`.
fn settings_schema(files: &BTreeMap<String, Vec<u8>>, file: &str) -> Result<SettingsSchema> {
    let bytes = files
        .get(file)
        .ok_or_else(|| Error::PluginLoad(format!("its settings schema `{file}` is missing")))?;
    SettingsSchema::parse(bytes).map_err(|err| Error::PluginLoad(format!("{file}: {err}")))
}

/// A plugin's settings as administrators see them.
#[derive(Debug, Clone, Serialize)]
pub struct PluginSettings {
    /// The JSON Schema the settings follow (to build a form from).
    pub schema: Value,
    /// The plain values, with the schema's defaults filled in.
    pub values: Value,
    /// The sealed (`writeOnly`) settings that have a value.
    pub sealed_set: Vec<String>,
}

impl PluginSettings {
    fn shown(schema: &SettingsSchema, stored: &plugin_settings::StoredSettings) -> PluginSettings {
        let (values, sealed_set) = schema.shown(stored);
        PluginSettings {
            schema: schema.document().clone(),
            values: Value::Object(schema.with_defaults(&values)),
            sealed_set,
        }
    }
}

pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|err| Error::io(format!("cannot read {}", path.display()), err))?;
    Manifest::parse(&text, &catalogue::Panel)
        .map_err(|err| Error::Manifest(format!("{}: {err}", path.display())))
}

/// Manifests of every plugin directory below `plugins_dir` (for CLI help, which must
/// not need the database).
pub fn scan_manifests(plugins_dir: &Path) -> Vec<Manifest> {
    let Ok(entries) = std::fs::read_dir(plugins_dir) else {
        return Vec::new();
    };
    let mut manifests: Vec<Manifest> = entries
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|entry| read_manifest(&entry.path()).ok())
        .collect();
    manifests.sort_by(|a, b| a.id.cmp(&b.id));
    manifests
}

fn migrations_for(
    files: &BTreeMap<String, Vec<u8>>,
    dialect: Dialect,
) -> Result<Vec<migrate::Migration>> {
    let prefix = format!("migrations/{}/", db::dialect_name(dialect));
    files
        .iter()
        .filter_map(|(path, bytes)| path.strip_prefix(&prefix).map(|name| (path, name, bytes)))
        .map(|(path, name, bytes)| {
            let sql = String::from_utf8(bytes.clone())
                .map_err(|_| Error::Package(format!("{path} is not UTF-8")))?;
            migrate::Migration::from_file(name, sql)
                .map_err(|err| Error::Package(format!("{path}: {err}")))
        })
        .collect()
}
