//! Completes server creations and deletions that a panel process started and did not
//! finish (it died, its request was cut off, or wings could not be reached). Runs at
//! start, when a node's wings reconnects, every [`SWEEP_EVERY`], and from
//! `hatchery doctor --fix`. Both steps are safe to repeat: wings answers "already
//! exists" to a second creation and "not found" to a second deletion.

use std::time::Duration;

use super::Core;
use crate::db::server_intents::{self, ServerIntent};
use crate::db::servers;
use crate::domain::vocabulary::ServerStatus;
use crate::error::{Error, Result};

/// How often a serving panel looks for changes nobody is completing.
pub const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Completes what is pending (on `node_id`, or everywhere); `now` retries changes that
/// wait for a retry without waiting. Returns how many were completed.
pub async fn resume(core: &Core, node_id: Option<i64>, now: bool) -> Result<usize> {
    let mut completed = 0;
    for intent in server_intents::claim(&core.db, node_id, None, now).await? {
        if attempt(core, &intent).await? {
            completed += 1;
        }
    }
    Ok(completed)
}

/// Completes the pending change of one server now (`hatchery doctor --fix`).
pub async fn resume_server(core: &Core, server_uuid: &str) -> Result<()> {
    let claimed = server_intents::claim(&core.db, None, Some(server_uuid), true).await?;
    let Some(intent) = claimed.first() else {
        return Err(Error::Conflict(
            "another panel process is completing it right now".into(),
        ));
    };
    complete_or_postpone(core, intent).await
}

/// One try at a claimed change; `Ok(false)` when it has to wait for another.
async fn attempt(core: &Core, intent: &ServerIntent) -> Result<bool> {
    match complete_or_postpone(core, intent).await {
        Ok(()) => Ok(true),
        Err(Error::Database(err)) => Err(Error::Database(err)),
        Err(_) => Ok(false),
    }
}

async fn complete_or_postpone(core: &Core, intent: &ServerIntent) -> Result<()> {
    let outcome = complete(core, intent).await;
    if let Err(err) = &outcome {
        tracing::warn!(server = %intent.server_uuid, action = %intent.action, attempt = intent.attempts, "a pending server change waits for another try: {err}");
        server_intents::postpone(&core.db, intent, &err.to_string()).await?;
    }
    outcome
}

async fn complete(core: &Core, intent: &ServerIntent) -> Result<()> {
    let Some(server) = servers::find(&core.db, &intent.server_uuid).await? else {
        // The record went another way meanwhile; nothing is left to finish.
        return server_intents::finish(&core.db, &intent.server_uuid).await;
    };
    match intent.action.as_str() {
        "create" => {
            let told = match core.wings(server.node_id).await {
                Ok(wings) => wings.create_server(&server.uuid, intent.start_after).await,
                Err(err) => Err(err),
            };
            match told {
                // A second creation finds the first one done.
                Ok(()) | Err(Error::Conflict(_)) => {}
                // wings' final word: the server stays, shown as failed, for an
                // administrator to reinstall or delete.
                Err(err @ Error::BadRequest { .. }) => {
                    tracing::warn!(server = %server.uuid, "wings refused a pending creation: {err}");
                    servers::set_status(&core.db, &server, Some(ServerStatus::InstallFailed))
                        .await?;
                }
                Err(err) => return Err(err),
            }
            server_intents::finish(&core.db, &server.uuid).await?;
            tracing::info!(server = %server.uuid, "completed a server creation left pending");
        }
        "delete" => {
            let on_node = match core.wings(server.node_id).await {
                Ok(wings) => wings.delete_server(&server.uuid).await,
                Err(err) => Err(err),
            };
            match on_node {
                Ok(()) => {}
                Err(err) if intent.force => {
                    tracing::warn!(server = %server.uuid, "deleting the record although wings was not reached: {err}")
                }
                Err(err) => return Err(err),
            }
            servers::delete(&core.db, &server).await?;
            tracing::info!(server = %server.uuid, "completed a server deletion left pending");
        }
        other => {
            return Err(Error::Conflict(format!(
                "a newer panel recorded a server change this one does not know (`{other}`); upgrade this panel"
            )));
        }
    }
    core.changed("server.intent.completed");
    Ok(())
}

/// Runs [`resume`] every [`SWEEP_EVERY`], for as long as the panel serves.
pub async fn sweep_forever(core: Core) {
    loop {
        tokio::time::sleep(SWEEP_EVERY).await;
        if let Err(err) = resume(&core, None, false).await {
            tracing::warn!("cannot look for pending server changes: {err}");
        }
    }
}
