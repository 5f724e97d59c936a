//! Handing node-side plugins (backup drivers) to wings. wings asks which plugins it
//! should run (`GET /api/remote/plugins`) and fetches each release it lacks; the panel
//! says when something changed (`POST /api/plugins/sync` on every node), and wings
//! also asks every minute, so a node that was away catches up.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hatchery_runtime::node::{NodePluginRelease, NodePluginSummary, release_digest};

use super::{LoadedPlugin, PluginHost, Registry, catalogue, package, settings};
use crate::error::{Error, Result};

/// How long the panel waits for one node to take the news.
const TELL_TIMEOUT: Duration = Duration::from_secs(10);

impl Registry {
    /// Each enabled node-side plugin with the key of its record: a change in the set
    /// is news for the nodes.
    pub(super) fn node_plugin_keys(&self) -> Vec<(&str, &str)> {
        self.entries
            .values()
            .filter(|entry| {
                entry
                    .loaded
                    .as_ref()
                    .is_some_and(|plugin| plugin.manifest.runs_on_nodes())
            })
            .map(|entry| (entry.status.id.as_str(), entry.key.as_str()))
            .collect()
    }

    /// Enabled node-side plugins, with the hash of their files.
    fn node_plugins(&self) -> Vec<(Arc<LoadedPlugin>, String)> {
        self.entries
            .values()
            .filter_map(|entry| {
                let plugin = entry.loaded.as_ref()?;
                plugin
                    .manifest
                    .runs_on_nodes()
                    .then(|| (plugin.clone(), entry.record.content_sha256.clone()))
            })
            .collect()
    }
}

impl PluginHost {
    /// The plugins every node should run, with digests that change with their code,
    /// grants or settings.
    pub async fn node_plugins(&self) -> Result<Vec<NodePluginSummary>> {
        let mut summaries = Vec::new();
        for (plugin, content) in self.registry().node_plugins() {
            let settings = self.node_settings(&plugin).await?;
            summaries.push(NodePluginSummary {
                id: plugin.manifest.id.clone(),
                version: plugin.manifest.version.to_string(),
                digest: release_digest(&content, &plugin.grants, &settings, &self.config.wasm),
            });
        }
        Ok(summaries)
    }

    /// Everything a node needs to run plugin `id`.
    pub async fn node_plugin_release(&self, id: &str) -> Result<NodePluginRelease> {
        let (plugin, content) = self
            .registry()
            .node_plugins()
            .into_iter()
            .find(|(plugin, _)| plugin.manifest.id == id)
            .ok_or_else(|| Error::NotFound(format!("no enabled plugin `{id}` runs on nodes")))?;
        let files = package::read_dir_files(&self.plugin_dir(id))?;
        if package::content_hash(&files) != content {
            return Err(Error::Conflict(format!(
                "plugin {id} is being replaced; ask again shortly"
            )));
        }
        let bytes = catalogue::pack(&files, None)?;
        Ok(NodePluginRelease {
            id: id.to_string(),
            version: plugin.manifest.version.to_string(),
            package: base64::engine::general_purpose::STANDARD.encode(bytes),
            grants: plugin.grants.clone(),
            settings: self.node_settings(&plugin).await?,
            limits: self.config.wasm,
        })
    }

    /// The settings a node-side plugin reads, as its panel side would.
    async fn node_settings(&self, plugin: &LoadedPlugin) -> Result<String> {
        settings::effective(
            &self.db,
            &self.core.secrets,
            &plugin.manifest.id,
            plugin.settings.as_deref(),
        )
        .await
    }

    /// Tells every node that its plugins changed; a node that cannot be reached
    /// catches up within a minute.
    pub(super) async fn tell_nodes(&self) {
        let nodes = match crate::db::nodes::list(&self.db).await {
            Ok(nodes) => nodes,
            Err(err) => {
                tracing::warn!("cannot list the nodes to hand them plugins: {err}");
                return;
            }
        };
        for node in nodes {
            let told = async {
                let wings = self.core.wings(node.id).await?;
                tokio::time::timeout(TELL_TIMEOUT, wings.sync_plugins())
                    .await
                    .map_err(|_| Error::Node(format!("node {} did not answer", node.name)))?
            };
            if let Err(err) = told.await {
                tracing::info!(node = %node.name, "node will pick up the plugin change later: {err}");
            }
        }
    }

    /// [`PluginHost::tell_nodes`], without holding up the caller.
    pub(super) fn tell_nodes_later(&self) {
        let host = self.me.upgrade();
        tokio::spawn(async move {
            if let Some(host) = host {
                host.tell_nodes().await;
            }
        });
    }
}
