//! How the panel hands node-side plugins to wings. wings asks for the list of plugins
//! it should run ([`NodePluginSummary`], at start, when the panel says something
//! changed, and every minute), fetches each one whose digest it does not have
//! ([`NodePluginRelease`]), and unloads what is no longer listed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::WasmLimits;
use crate::manifest::Capabilities;

/// A plugin a node should run, as the panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePluginSummary {
    pub id: String,
    pub version: String,
    /// Changes whenever the code, the grants or the settings change.
    pub digest: String,
}

/// Everything a node needs to run a plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodePluginRelease {
    pub id: String,
    pub version: String,
    /// The plugin's files as a package (zip), base64.
    pub package: String,
    /// What the admin granted; the node enforces it as the panel does.
    pub grants: Capabilities,
    /// The plugin's settings, defaults filled in, sealed values opened (a JSON object).
    pub settings: String,
    /// The panel's limits on every call; the node applies the same.
    #[serde(default)]
    pub limits: WasmLimits,
}

/// The digest of a release: its files' content hash, grants, settings and limits.
pub fn release_digest(
    content_hash: &str,
    grants: &Capabilities,
    settings: &str,
    limits: &WasmLimits,
) -> String {
    let grants = serde_json::to_string(grants).unwrap_or_default();
    let limits = serde_json::to_string(limits).unwrap_or_default();
    let mut hasher = Sha256::new();
    for part in [content_hash, &grants, settings, &limits] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}
