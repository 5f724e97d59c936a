//! Server actions: create, power, console commands, rename, startup and build changes,
//! suspension, reinstall, files, delete. Database first or wings first, whichever
//! leaves nothing half-done when the other fails.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Activity, Actor, Core};
use crate::db::nodes::Allocation;
use crate::db::servers::{self, NewServer, Server, ServerChanges};
use crate::db::{eggs, server_intents};
use crate::domain::vocabulary::{PowerSignal, ServerStatus};
use crate::error::{Error, Result};
use crate::faults;

/// Creates the server and has its node's wings install it. The record and a pending
/// creation are stored together; the creation is complete when wings accepts it. If
/// wings refuses or cannot be reached, the record is removed again (a server wings
/// never heard of would never install); if the panel dies in between, the next panel
/// process completes the creation ([`super::intents`]).
pub async fn create(
    core: &Core,
    actor: &Actor,
    new: &NewServer,
    start_after_install: bool,
) -> Result<Server> {
    let server = servers::create(&core.db, new, start_after_install).await?;
    faults::point("server.create.recorded");
    let told = match core.wings(server.node_id).await {
        Ok(wings) => wings.create_server(&server.uuid, start_after_install).await,
        Err(err) => Err(err),
    };
    if let Err(err) = told {
        // wings may have taken it before failing (a timeout): it is asked to forget it.
        if let Ok(wings) = core.wings(server.node_id).await
            && let Err(cleanup) = wings.delete_server(&server.uuid).await
        {
            tracing::warn!(server = %server.uuid, error = %cleanup, "wings could not be told to forget a server whose creation failed; `hatchery doctor` lists it if it kept it");
        }
        servers::delete(&core.db, &server).await?;
        return Err(err);
    }
    faults::point("server.create.told_wings");
    server_intents::finish(&core.db, &server.uuid).await?;
    core.record(
        actor,
        Activity::new("admin.server.create")
            .on_server(server.id)
            .subject("server", &server.uuid)
            .with(json!({ "name": server.name, "node_id": server.node_id, "egg_id": server.egg_id, "owner_id": server.owner_id })),
    )
    .await;
    Ok(server)
}

pub async fn power(core: &Core, actor: &Actor, server: &Server, signal: PowerSignal) -> Result<()> {
    refuse_unless_ready(server)?;
    core.wings_for_users(server.node_id)
        .await?
        .power(&server.uuid, signal)
        .await?;
    core.record(
        actor,
        Activity::new(format!("server.power.{signal}"))
            .on_server(server.id)
            .subject("server", &server.uuid),
    )
    .await;
    Ok(())
}

pub async fn send_command(
    core: &Core,
    actor: &Actor,
    server: &Server,
    command: &str,
) -> Result<()> {
    if command.trim().is_empty() || command.len() > 4096 || command.contains(['\n', '\r', '\0']) {
        return Err(Error::bad_field(
            "command",
            "a command is one line of up to 4096 bytes",
        ));
    }
    refuse_unless_ready(server)?;
    core.wings_for_users(server.node_id)
        .await?
        .send_command(&server.uuid, command)
        .await?;
    core.record(
        actor,
        Activity::new("server.console.command")
            .on_server(server.id)
            .with(json!({ "command": command })),
    )
    .await;
    Ok(())
}

/// Name and description (a user's own label; wings learns it on the next sync).
pub async fn rename(
    core: &Core,
    actor: &Actor,
    server: &Server,
    name: &str,
    description: Option<&str>,
) -> Result<Server> {
    let changes = ServerChanges {
        name: Some(name.to_string()),
        description: description.map(str::to_string),
        ..ServerChanges::default()
    };
    let updated = servers::update(&core.db, server, &changes).await?;
    core.record(
        actor,
        Activity::new("server.settings.rename")
            .on_server(server.id)
            .with(json!({ "old": server.name, "new": updated.name })),
    )
    .await;
    Ok(updated)
}

/// What the activity log shows instead of a value the server's users may not see.
pub const HIDDEN_VALUE: &str = "[hidden]";

/// Changes variables (as a user: only the ones the egg lets users edit), and for
/// admins also the startup command, image and limits; wings applies them on sync
/// and the running server picks them up on its next start.
pub async fn update(
    core: &Core,
    actor: &Actor,
    server: &Server,
    mut changes: ServerChanges,
    variable_changes: &BTreeMap<String, String>,
    as_user: bool,
    event: &'static str,
) -> Result<Server> {
    refuse_if_deleting(server)?;
    let needs_egg = !variable_changes.is_empty() || (as_user && changes.image.is_some());
    let egg = match needs_egg {
        true => Some(
            eggs::find(&core.db, &server.egg_id.to_string())
                .await?
                .ok_or_else(|| Error::NotFound("the server's egg no longer exists".into()))?
                .egg()?,
        ),
        false => None,
    };
    let mut recorded_variables = BTreeMap::new();
    if let Some(egg) = egg.as_ref().filter(|_| !variable_changes.is_empty()) {
        let current = servers::variables(&core.db, server).await?;
        changes.variables = Some(servers::merge_variables(
            egg,
            &current,
            variable_changes,
            as_user,
        )?);
        // The activity log is read by the server's users: values they may not see
        // are recorded as changed, never with the value.
        for (name, value) in variable_changes {
            let viewable = egg
                .variables
                .iter()
                .any(|variable| &variable.env_variable == name && variable.user_viewable);
            let shown = if viewable {
                value.as_str()
            } else {
                HIDDEN_VALUE
            };
            recorded_variables.insert(name.clone(), shown.to_string());
        }
    }
    if let (true, Some(image), Some(egg)) = (as_user, &changes.image, &egg) {
        // Users pick from the egg's images; any image is an admin's call.
        if image != &server.image
            && !egg
                .docker_images
                .iter()
                .any(|(_, offered)| offered == image)
        {
            return Err(Error::bad_field(
                "image",
                "choose one of the egg's docker images",
            ));
        }
    }
    let updated = servers::update(&core.db, server, &changes).await?;
    faults::point("server.update.recorded");
    sync(core, &updated).await;
    core.record(
        actor,
        Activity::new(event)
            .on_server(server.id)
            .subject("server", &server.uuid)
            .with(json!({
                "variables": recorded_variables,
                "image": changes.image,
                "startup": changes.startup,
            })),
    )
    .await;
    Ok(updated)
}

/// Tells wings the stored configuration changed. A node that is down gets it when
/// wings next starts, so this only warns.
async fn sync(core: &Core, server: &Server) {
    let result = match core.wings(server.node_id).await {
        Ok(wings) => wings.sync(&server.uuid).await,
        Err(err) => Err(err),
    };
    if let Err(err) = result {
        tracing::warn!(server = %server.uuid, error = %err, "wings was not told of the change; it applies on wings' next start");
    }
}

pub async fn set_suspended(
    core: &Core,
    actor: &Actor,
    server: &Server,
    suspended: bool,
) -> Result<Server> {
    refuse_if_deleting(server)?;
    let currently = server.status == Some(ServerStatus::Suspended);
    if currently == suspended {
        return Ok(server.clone());
    }
    let updated = servers::set_status(
        &core.db,
        server,
        suspended.then_some(ServerStatus::Suspended),
    )
    .await?;
    // wings stops a suspended server when it syncs.
    sync(core, &updated).await;
    let event = if suspended {
        "admin.server.suspend"
    } else {
        "admin.server.unsuspend"
    };
    core.record(
        actor,
        Activity::new(event)
            .on_server(server.id)
            .subject("server", &server.uuid),
    )
    .await;
    Ok(updated)
}

pub async fn reinstall(core: &Core, actor: &Actor, server: &Server) -> Result<Server> {
    refuse_unless_ready(server)?;
    let wings = core.wings(server.node_id).await?;
    let updated = servers::set_status(&core.db, server, Some(ServerStatus::Installing)).await?;
    faults::point("server.reinstall.recorded");
    if let Err(err) = wings.reinstall(&server.uuid).await {
        servers::set_status(&core.db, server, server.status).await?;
        return Err(err);
    }
    core.record(
        actor,
        Activity::new("server.settings.reinstall")
            .on_server(server.id)
            .subject("server", &server.uuid),
    )
    .await;
    Ok(updated)
}

/// Deletes the server on its node, then its record. The server shows `deleting` from
/// the start, and a pending deletion is recorded with it, so a panel that dies
/// half-way has the deletion completed by the next panel process. With `force` the
/// record goes even when wings cannot be reached (the node was lost).
pub async fn delete(core: &Core, actor: &Actor, server: &Server, force: bool) -> Result<()> {
    let deleting = server_intents::begin_delete(&core.db, server, force).await?;
    faults::point("server.delete.recorded");
    let on_node = match core.wings(server.node_id).await {
        Ok(wings) => wings.delete_server(&server.uuid).await,
        Err(err) => Err(err),
    };
    match on_node {
        Ok(()) => {}
        Err(err) if force => {
            tracing::warn!(server = %server.uuid, error = %err, "deleting the record although wings was not reached")
        }
        Err(err) => {
            server_intents::cancel_delete(&core.db, &deleting).await?;
            return Err(Error::Node(format!(
                "{err}; the server was not deleted (force the deletion if the node is gone for good)"
            )));
        }
    }
    faults::point("server.delete.told_wings");
    servers::delete(&core.db, server).await?;
    core.record(
        actor,
        Activity::new("admin.server.delete")
            .subject("server", &server.uuid)
            .with(json!({ "name": server.name })),
    )
    .await;
    Ok(())
}

/// A server being deleted takes no more changes.
fn refuse_if_deleting(server: &Server) -> Result<()> {
    match server.status {
        Some(ServerStatus::Deleting) => Err(Error::Conflict(
            "the server is being deleted from its node".into(),
        )),
        _ => Ok(()),
    }
}

/// Suspended, installing and deleted servers refuse power, console and file actions.
pub(super) fn refuse_unless_ready(server: &Server) -> Result<()> {
    refuse_if_deleting(server)?;
    match server.status {
        Some(ServerStatus::Suspended) => Err(Error::Conflict(
            "the server is suspended; an administrator can lift that".into(),
        )),
        Some(ServerStatus::Installing) => Err(Error::Conflict(
            "the server is still installing; try again when it is done".into(),
        )),
        _ => Ok(()),
    }
}

/// Takes a free allocation of the node for the server (within its allocation limit);
/// the game binds it on its next start.
pub async fn claim_allocation(core: &Core, actor: &Actor, server: &Server) -> Result<Allocation> {
    refuse_if_deleting(server)?;
    let allocation = servers::claim_free_allocation(&core.db, server).await?;
    faults::point("allocation.claim.recorded");
    sync(core, server).await;
    core.record(
        actor,
        Activity::new("server.allocation.create")
            .on_server(server.id)
            .with(json!({ "ip": allocation.ip, "port": allocation.port })),
    )
    .await;
    Ok(allocation)
}

pub async fn set_allocation_notes(
    core: &Core,
    actor: &Actor,
    server: &Server,
    allocation_id: i64,
    notes: Option<&str>,
) -> Result<Allocation> {
    let allocation = servers::allocation(&core.db, server, allocation_id).await?;
    servers::set_allocation_notes(&core.db, &allocation, notes).await?;
    core.record(
        actor,
        Activity::new("server.allocation.notes")
            .on_server(server.id)
            .with(json!({ "ip": allocation.ip, "port": allocation.port, "notes": notes })),
    )
    .await;
    servers::allocation(&core.db, server, allocation_id).await
}

pub async fn set_primary_allocation(
    core: &Core,
    actor: &Actor,
    server: &Server,
    allocation_id: i64,
) -> Result<Server> {
    let allocation = servers::allocation(&core.db, server, allocation_id).await?;
    refuse_if_deleting(server)?;
    let updated = servers::set_primary_allocation(&core.db, server, &allocation).await?;
    faults::point("allocation.primary.recorded");
    sync(core, &updated).await;
    core.record(
        actor,
        Activity::new("server.allocation.primary")
            .on_server(server.id)
            .with(json!({ "ip": allocation.ip, "port": allocation.port })),
    )
    .await;
    Ok(updated)
}

pub async fn release_allocation(
    core: &Core,
    actor: &Actor,
    server: &Server,
    allocation_id: i64,
) -> Result<()> {
    let allocation = servers::allocation(&core.db, server, allocation_id).await?;
    refuse_if_deleting(server)?;
    servers::release_allocation(&core.db, server, &allocation).await?;
    faults::point("allocation.release.recorded");
    sync(core, server).await;
    core.record(
        actor,
        Activity::new("server.allocation.delete")
            .on_server(server.id)
            .with(json!({ "ip": allocation.ip, "port": allocation.port })),
    )
    .await;
    Ok(())
}
