//! The panel and its nodes agree on which servers exist and whether they are
//! installed. `check` compares them (for `hatchery doctor`), `fix` repairs what it
//! found, and `settle_installs` corrects servers the panel still shows as installing
//! whenever a node's wings (re)connects.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Core;
use crate::db::{nodes, server_intents, servers};
use crate::domain::vocabulary::ServerStatus;
use crate::error::Result;

/// One disagreement between the panel and a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The node's wings cannot be asked.
    NodeUnreachable { node: String, error: String },
    /// The panel has the server; the node's wings never heard of it.
    UnknownToWings { node: String, server: String },
    /// wings keeps a server the panel does not have (a creation that was undone).
    UnknownToPanel { node: String, server: String },
    /// A creation or deletion a panel process started and nobody has completed yet.
    Pending {
        node: String,
        server: String,
        action: String,
        attempts: i32,
        last_error: Option<String>,
    },
    /// The panel shows an installation state that is not what wings knows.
    InstallState {
        node: String,
        server: String,
        panel: String,
        wings: String,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::NodeUnreachable { node, error } => {
                write!(f, "node {node}: wings cannot be reached ({error})")
            }
            Finding::UnknownToWings { node, server } => write!(
                f,
                "node {node}: server {server} exists in the panel but not on the node; \
                 --fix asks wings to create and install it"
            ),
            Finding::UnknownToPanel { node, server } => write!(
                f,
                "node {node}: wings keeps server {server}, which the panel does not have; \
                 --fix deletes it from the node"
            ),
            Finding::Pending {
                node,
                server,
                action,
                attempts,
                last_error,
            } => {
                write!(
                    f,
                    "node {node}: the {} of server {server} is not complete ({attempts} attempts",
                    if action == "create" {
                        "creation"
                    } else {
                        "deletion"
                    }
                )?;
                if let Some(error) = last_error {
                    write!(f, "; last: {error}")?;
                }
                write!(f, "); --fix completes it now")
            }
            Finding::InstallState {
                node,
                server,
                panel,
                wings,
            } => write!(
                f,
                "node {node}: server {server} shows `{panel}` in the panel but wings says `{wings}`; \
                 --fix records what wings says"
            ),
        }
    }
}

/// What wings says of a server's installation, as the panel's status.
fn status_from_wings(described: &Value) -> Option<Option<ServerStatus>> {
    match described
        .pointer("/install/install")
        .and_then(Value::as_str)
    {
        Some("installed") => Some(None),
        Some("failed") => Some(Some(ServerStatus::InstallFailed)),
        Some("installing" | "waiting") => Some(Some(ServerStatus::Installing)),
        _ => None,
    }
}

fn shown(status: Option<ServerStatus>) -> String {
    status.map_or("installed", ServerStatus::as_str).to_string()
}

/// Compares every node's servers with the panel's.
pub async fn check(core: &Core) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let all = servers::list(&core.db).await?;
    let pending = server_intents::pending(&core.db, None).await?;
    for node in nodes::list(&core.db).await? {
        for intent in pending.iter().filter(|intent| intent.node_id == node.id) {
            findings.push(Finding::Pending {
                node: node.name.clone(),
                server: intent.server_uuid.clone(),
                action: intent.action.clone(),
                attempts: intent.attempts,
                last_error: intent.last_error.clone(),
            });
        }
        let wings = match core.wings(node.id).await {
            Ok(wings) => wings,
            Err(err) => {
                findings.push(Finding::NodeUnreachable {
                    node: node.name.clone(),
                    error: err.to_string(),
                });
                continue;
            }
        };
        let on_node: BTreeMap<String, Value> = match wings.servers().await {
            Ok(described) => described
                .into_iter()
                .filter_map(|server| Some((server["uuid"].as_str()?.to_string(), server)))
                .collect(),
            Err(err) => {
                findings.push(Finding::NodeUnreachable {
                    node: node.name.clone(),
                    error: err.to_string(),
                });
                continue;
            }
        };
        let in_panel: Vec<_> = all.iter().filter(|s| s.node_id == node.id).collect();
        let is_pending = |uuid: &str| pending.iter().any(|intent| intent.server_uuid == uuid);
        for server in in_panel.iter().filter(|server| !is_pending(&server.uuid)) {
            match on_node.get(&server.uuid) {
                None => findings.push(Finding::UnknownToWings {
                    node: node.name.clone(),
                    server: server.uuid.clone(),
                }),
                Some(described) => {
                    let panel_status = server
                        .status
                        .filter(|status| *status != ServerStatus::Suspended);
                    if let Some(wings_status) = status_from_wings(described)
                        && wings_status != panel_status
                        && !(panel_status == Some(ServerStatus::ReinstallFailed)
                            && wings_status == Some(ServerStatus::InstallFailed))
                    {
                        findings.push(Finding::InstallState {
                            node: node.name.clone(),
                            server: server.uuid.clone(),
                            panel: shown(panel_status),
                            wings: shown(wings_status),
                        });
                    }
                }
            }
        }
        for uuid in on_node.keys() {
            if !is_pending(uuid) && !in_panel.iter().any(|server| &server.uuid == uuid) {
                findings.push(Finding::UnknownToPanel {
                    node: node.name.clone(),
                    server: uuid.clone(),
                });
            }
        }
    }
    Ok(findings)
}

/// Repairs what `check` found; returns each finding with the outcome of its repair.
pub async fn fix(core: &Core, findings: Vec<Finding>) -> Vec<(Finding, Result<()>)> {
    let mut outcomes = Vec::new();
    for finding in findings {
        let outcome = repair(core, &finding).await;
        outcomes.push((finding, outcome));
    }
    outcomes
}

async fn repair(core: &Core, finding: &Finding) -> Result<()> {
    let node_of = |name: &str| {
        let name = name.to_string();
        async move {
            nodes::find(&core.db, &name)
                .await?
                .ok_or_else(|| crate::error::Error::NotFound(format!("no node {name}")))
        }
    };
    match finding {
        Finding::NodeUnreachable { .. } => Ok(()),
        Finding::Pending { server, .. } => super::intents::resume_server(core, server).await,
        Finding::UnknownToWings { node, server } => {
            let node = node_of(node).await?;
            core.wings(node.id)
                .await?
                .create_server(server, false)
                .await
        }
        Finding::UnknownToPanel { node, server } => {
            let node = node_of(node).await?;
            core.wings(node.id).await?.delete_server(server).await
        }
        Finding::InstallState { server, wings, .. } => {
            let record = servers::find(&core.db, server)
                .await?
                .ok_or_else(|| crate::error::Error::NotFound(format!("server {server} is gone")))?;
            let status = (wings != "installed").then_some(if wings == "installing" {
                ServerStatus::Installing
            } else {
                ServerStatus::InstallFailed
            });
            servers::set_status(&core.db, &record, status)
                .await
                .map(drop)
        }
    }
}

/// When the panel starts: every node is treated as just connected.
pub async fn on_panel_start(core: &Core) {
    match nodes::list(&core.db).await {
        Ok(nodes) => {
            for node in nodes {
                on_wings_connect(core, node.id).await;
            }
        }
        Err(err) => tracing::warn!("cannot list nodes to settle with: {err}"),
    }
}

/// When a node's wings (re)connects: creations and deletions left pending on it are
/// completed, then servers the panel shows as installing take the state wings knows.
/// Runs in the background; a failure is logged.
pub async fn on_wings_connect(core: &Core, node_id: i64) {
    if let Err(err) = super::intents::resume(core, Some(node_id), false).await {
        tracing::warn!(
            node = node_id,
            "cannot complete pending server changes: {err}"
        );
    }
    settle_installs(core, node_id).await;
}

async fn settle_installs(core: &Core, node_id: i64) {
    let outcome: Result<()> = async {
        let installing = servers::installing_on_node(&core.db, node_id).await?;
        if installing.is_empty() {
            return Ok(());
        }
        let wings = core.wings(node_id).await?;
        for server in installing {
            let described = match wings.server(&server.uuid).await {
                Ok(described) => described,
                // Unknown to wings: the installation never reached it.
                Err(crate::error::Error::NotFound(_)) => {
                    servers::set_status(&core.db, &server, Some(ServerStatus::InstallFailed))
                        .await?;
                    continue;
                }
                Err(err) => return Err(err),
            };
            if let Some(status) = status_from_wings(&described)
                && status != Some(ServerStatus::Installing)
            {
                servers::set_status(&core.db, &server, status).await?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(err) = outcome {
        tracing::warn!(
            node = node_id,
            "could not settle installations with wings: {err}"
        );
    }
}
