//! Plugins that run on this node: the node-side parts the panel hands over (backup
//! drivers, which must run where the data is), loaded with the same runtime, grants
//! and limits as on the panel.
//!
//! The panel is the source of truth. [`NodePlugins::sync`] asks it which plugins this
//! node should run, fetches each one whose digest changed, and unloads what is no
//! longer listed — at start, when the panel says something changed
//! (`POST /api/plugins/sync`), and every minute. What was fetched is kept on disk, so
//! wings restarts with its plugins even while the panel is away.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use base64::Engine as _;
use hatchery_runtime::manifest::{Capabilities, CheckedByPanel, Provider, Runtime};
use hatchery_runtime::node::{NodePluginRelease, release_digest};
use hatchery_runtime::package::{Package, ReadLimits};
use hatchery_runtime::services::{self, Services};
use hatchery_runtime::wasm::{WasmPlugin, WasmRuntime};
use hatchery_runtime::{WasmLimits, outbound};
use hatchery_sdk::{HostError, OutgoingRequest, Response};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::remote::PanelClient;

/// Largest plugin package a node accepts.
const MAX_PACKAGE_BYTES: u64 = 64 * 1024 * 1024;

/// A plugin loaded on this node.
pub struct NodePlugin {
    pub id: String,
    pub version: String,
    pub digest: String,
    pub provides: Vec<Provider>,
    code: WasmPlugin,
}

impl NodePlugin {
    pub fn code(&self) -> &WasmPlugin {
        &self.code
    }
}

/// What a sync did: the plugins running now, and those the panel listed that could
/// not be fetched or loaded (none of them runs).
#[derive(Debug, Serialize)]
pub struct SyncReport {
    pub loaded: Vec<LoadedSummary>,
    pub failed: Vec<SyncFailure>,
}

#[derive(Debug, Serialize)]
pub struct SyncFailure {
    pub id: String,
    pub error: String,
}

/// A loaded plugin as `GET /api/plugins` shows it.
#[derive(Debug, Serialize)]
pub struct LoadedSummary {
    pub id: String,
    pub version: String,
    pub digest: String,
    pub provides: Vec<Provider>,
}

pub struct NodePlugins {
    /// One runtime per set of limits the panel asked for (in practice one), made when
    /// the first plugin needs it: a node without plugins pays nothing.
    runtimes: std::sync::Mutex<HashMap<WasmLimits, Arc<WasmRuntime>>>,
    /// `<root>/plugins/<id>.json`: the releases this node runs.
    releases_dir: PathBuf,
    /// `<root>/plugin-data/<id>`: each plugin's storage, kept when it is unloaded (a
    /// disabled backup driver's archives are still backups).
    data_dir: PathBuf,
    loaded: RwLock<HashMap<String, Arc<NodePlugin>>>,
    /// One sync at a time.
    syncing: tokio::sync::Mutex<()>,
}

impl NodePlugins {
    pub fn new(root: &Path) -> NodePlugins {
        NodePlugins {
            runtimes: std::sync::Mutex::default(),
            releases_dir: root.join("plugins"),
            data_dir: root.join("plugin-data"),
            loaded: RwLock::default(),
            syncing: tokio::sync::Mutex::new(()),
        }
    }

    fn runtime(&self, limits: WasmLimits) -> Result<Arc<WasmRuntime>> {
        let mut runtimes = self.runtimes.lock().expect("runtimes lock");
        if let Some(runtime) = runtimes.get(&limits) {
            return Ok(runtime.clone());
        }
        let runtime = Arc::new(
            WasmRuntime::new(&self.releases_dir.join(".cache"), limits).map_err(plugin_error)?,
        );
        runtimes.insert(limits, runtime.clone());
        Ok(runtime)
    }

    /// Loads the releases kept on disk; one that fails is reported and skipped.
    pub fn load_kept(&self) {
        let Ok(entries) = std::fs::read_dir(&self.releases_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let loaded = std::fs::read(&path)
                .map_err(|err| Error::io(format!("cannot read {}", path.display()), err))
                .and_then(|bytes| {
                    serde_json::from_slice::<NodePluginRelease>(&bytes).map_err(|err| {
                        Error::BadRequest(format!("{} is damaged: {err}", path.display()))
                    })
                })
                .and_then(|release| self.load(release));
            if let Err(err) = loaded {
                tracing::warn!("cannot load a kept plugin: {err}");
            }
        }
    }

    /// Brings this node's plugins in line with the panel's list.
    pub async fn sync(&self, panel: &PanelClient) -> Result<SyncReport> {
        let _one = self.syncing.lock().await;
        let wanted = panel.node_plugins().await?;
        let mut failed = Vec::new();
        for summary in &wanted {
            let current = self.get(&summary.id).map(|plugin| plugin.digest.clone());
            if current.as_deref() == Some(summary.digest.as_str()) {
                continue;
            }
            // One plugin that cannot be fetched or loaded does not hold up the others.
            if let Err(err) = self.fetch_and_load(panel, &summary.id).await {
                tracing::warn!(plugin = %summary.id, "cannot load the plugin the panel handed over: {err}");
                // The panel changed it (perhaps took a grant away): the old release
                // does not go on running in its place.
                if current.is_some() {
                    self.unload(&summary.id)?;
                }
                failed.push(SyncFailure {
                    id: summary.id.clone(),
                    error: err.to_string(),
                });
            }
        }
        let gone: Vec<String> = self
            .loaded
            .read()
            .expect("plugins lock")
            .keys()
            .filter(|id| !wanted.iter().any(|summary| &summary.id == *id))
            .cloned()
            .collect();
        for id in gone {
            self.unload(&id)?;
        }
        Ok(SyncReport {
            loaded: self.list(),
            failed,
        })
    }

    async fn fetch_and_load(&self, panel: &PanelClient, id: &str) -> Result<()> {
        // The id goes into a URL and names files here: a plain plugin id only.
        hatchery_runtime::manifest::validate_id(id).map_err(Error::BadRequest)?;
        let release = panel.node_plugin(id).await?;
        if release.id != id {
            return Err(Error::BadRequest(format!(
                "the panel answered plugin {id} with a release of {}",
                release.id
            )));
        }
        self.load_and_keep(release)
    }

    pub fn list(&self) -> Vec<LoadedSummary> {
        let mut list: Vec<LoadedSummary> = self
            .loaded
            .read()
            .expect("plugins lock")
            .values()
            .map(|plugin| LoadedSummary {
                id: plugin.id.clone(),
                version: plugin.version.clone(),
                digest: plugin.digest.clone(),
                provides: plugin.provides.clone(),
            })
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    pub fn get(&self, id: &str) -> Option<Arc<NodePlugin>> {
        self.loaded.read().expect("plugins lock").get(id).cloned()
    }

    /// The loaded plugin `id`, which must provide `provider`.
    pub fn provider(&self, id: &str, provider: Provider) -> Result<Arc<NodePlugin>> {
        self.get(id)
            .filter(|plugin| plugin.provides.contains(&provider))
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no plugin `{id}` providing {} runs on this node; enable it on the panel",
                    provider.as_str()
                ))
            })
    }

    fn load_and_keep(&self, release: NodePluginRelease) -> Result<()> {
        let id = release.id.clone();
        let bytes = serde_json::to_vec(&release)
            .map_err(|err| Error::BadRequest(format!("cannot keep plugin {id}: {err}")))?;
        self.load(release)?;
        std::fs::create_dir_all(&self.releases_dir).map_err(|err| {
            Error::io(
                format!("cannot create {}", self.releases_dir.display()),
                err,
            )
        })?;
        let path = self.releases_dir.join(format!("{id}.json"));
        let partial = path.with_extension("json.partial");
        // It holds the plugin's sealed settings: readable by wings alone.
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&partial)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)
        };
        write().map_err(|err| Error::io(format!("cannot write {}", path.display()), err))
    }

    /// Checks a release and swaps it in; calls already running finish on the old code.
    fn load(&self, release: NodePluginRelease) -> Result<()> {
        // The id names files on this node: it must be a plain plugin id.
        hatchery_runtime::manifest::validate_id(&release.id).map_err(Error::BadRequest)?;
        let refuse =
            |message: String| Error::BadRequest(format!("plugin {}: {message}", release.id));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&release.package)
            .map_err(|err| refuse(format!("the package is not base64: {err}")))?;
        // The panel checked the signature and its catalogue; the node checks what it
        // runs: the package's own consistency, the id, and grants within the request.
        let package = Package::read(
            &bytes,
            &[],
            ReadLimits::for_package_limit(MAX_PACKAGE_BYTES),
            &CheckedByPanel,
        )
        .map_err(|err| refuse(err.to_string()))?;
        let manifest = &package.manifest;
        if manifest.id != release.id {
            return Err(refuse(format!("the package is plugin {}", manifest.id)));
        }
        if !manifest.runs_on_nodes() || manifest.runtime != Runtime::Wasm {
            return Err(refuse("it provides nothing that runs on a node".into()));
        }
        release
            .grants
            .is_within(&manifest.capabilities)
            .map_err(|err| refuse(format!("grants beyond the manifest: {err}")))?;
        let wasm = package
            .files
            .get(&manifest.entry)
            .ok_or_else(|| refuse(format!("its entry `{}` is missing", manifest.entry)))?;
        let storage = match release.grants.storage {
            true => {
                let dir = self.data_dir.join(&release.id);
                std::fs::create_dir_all(&dir)
                    .map_err(|err| Error::io(format!("cannot create {}", dir.display()), err))?;
                Some(dir)
            }
            false => None,
        };
        let services = Arc::new(NodeServices {
            plugin_id: release.id.clone(),
            grants: release.grants.clone(),
            settings: release.settings.clone(),
        });
        let code = self
            .runtime(release.limits)?
            .load(&release.id, wasm, services, storage, &manifest.provides)
            .map_err(plugin_error)?;
        let digest = release_digest(
            &package.content_sha256(),
            &release.grants,
            &release.settings,
            &release.limits,
        );
        let plugin = Arc::new(NodePlugin {
            id: release.id.clone(),
            version: manifest.version.to_string(),
            digest,
            provides: manifest.provides.clone(),
            code,
        });
        tracing::info!(plugin = %plugin.id, version = %plugin.version, "plugin loaded");
        self.loaded
            .write()
            .expect("plugins lock")
            .insert(release.id, plugin);
        Ok(())
    }

    fn unload(&self, id: &str) -> Result<()> {
        self.loaded.write().expect("plugins lock").remove(id);
        let path = self.releases_dir.join(format!("{id}.json"));
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("cannot remove {}", path.display()), err))
            }
            _ => {
                tracing::info!(plugin = %id, "plugin unloaded");
                Ok(())
            }
        }
    }
}

/// A runtime failure as wings reports it.
pub fn plugin_error(error: hatchery_runtime::Error) -> Error {
    match error {
        hatchery_runtime::Error::Busy(message) => Error::TooManyRequests(message),
        other => Error::Plugin(other.to_string()),
    }
}

/// What a plugin can call on a node: its log, its settings and the hosts it may reach.
/// Everything about the panel's records (servers, users, the activity log) is the
/// panel's and answers `unavailable` here.
struct NodeServices {
    plugin_id: String,
    grants: Capabilities,
    settings: String,
}

impl Services for NodeServices {
    fn plugin_id(&self) -> &str {
        &self.plugin_id
    }
}

#[async_trait]
impl services::Settings for NodeServices {
    async fn settings_get(&self) -> Result<String, HostError> {
        Ok(self.settings.clone())
    }
}

#[async_trait]
impl services::Http for NodeServices {
    async fn http_fetch(&self, request: OutgoingRequest) -> Result<Response, HostError> {
        outbound::fetch(&self.plugin_id, &self.grants.http, request).await
    }
}

impl services::Database for NodeServices {}
impl services::Events for NodeServices {}
impl services::Servers for NodeServices {}
impl services::Activity for NodeServices {}
impl services::Secrets for NodeServices {}
impl services::Mail for NodeServices {}
impl services::NodeFiles for NodeServices {}
impl services::Identity for NodeServices {}
