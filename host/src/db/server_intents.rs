//! Server changes that need the node's wings and are not confirmed yet (creations and
//! deletions). The row is written in the transaction that makes the database side of
//! the change and removed once wings has done its part; a panel that dies in between
//! leaves it for whichever panel process claims it next
//! ([`crate::actions::intents`]).
//!
//! A row names its holder: the process working on it. Another process takes it up
//! when the holder's lease has run out, or at once when the holder was a process on
//! this same machine that is gone.

use std::sync::OnceLock;

use chrono::Utc;

use super::servers::{SERVER_COLUMNS, Server};
use super::{Database, on_pool};
use crate::domain::vocabulary::ServerStatus;
use crate::error::{Error, Result};

/// How long a holder keeps a change: longer than any call to wings takes.
pub const LEASE_MS: i64 = 60_000;

/// Creations and deletions the panel has started and wings has not confirmed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServerIntent {
    pub id: i64,
    pub server_uuid: String,
    pub node_id: i64,
    /// `create` or `delete`.
    pub action: String,
    pub start_after: bool,
    pub force: bool,
    pub previous_status: Option<ServerStatus>,
    pub holder: Option<String>,
    pub due_at: i64,
    pub attempts: i32,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, server_uuid, node_id, action, start_after, force, previous_status, holder, due_at, attempts, last_error";

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// This process, as `host:boot:pid:start`: enough for another process on the same
/// machine to tell whether it still runs.
pub fn this_process() -> &'static str {
    static ME: OnceLock<String> = OnceLock::new();
    ME.get_or_init(|| {
        let pid = std::process::id();
        format!(
            "{}:{}:{pid}:{}",
            machine().0,
            machine().1,
            process_start(pid).unwrap_or_default()
        )
    })
}

/// (host name, boot id) of this machine, empty where the system does not say.
fn machine() -> &'static (String, String) {
    static MACHINE: OnceLock<(String, String)> = OnceLock::new();
    MACHINE.get_or_init(|| {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|text| text.trim().replace(':', "_"))
                .unwrap_or_default()
        };
        (
            read("/proc/sys/kernel/hostname"),
            read("/proc/sys/kernel/random/boot_id"),
        )
    })
}

/// When process `pid` started, in clock ticks since boot (field 22 of its stat).
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it do not.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_string)
}

/// Whether `holder` was a process on this machine that no longer runs.
fn holder_is_gone(holder: &str) -> bool {
    let parts: Vec<&str> = holder.split(':').collect();
    let [host, boot, pid, start] = parts.as_slice() else {
        return false;
    };
    let (my_host, my_boot) = machine();
    if my_boot.is_empty() || host != my_host || boot != my_boot {
        return false;
    }
    match pid.parse::<u32>() {
        Ok(pid) => process_start(pid).as_deref() != Some(*start),
        Err(_) => false,
    }
}

impl ServerIntent {
    /// Whether this process may work on it now.
    fn is_free(&self, now: i64) -> bool {
        self.due_at <= now
            || self
                .holder
                .as_deref()
                .is_some_and(|holder| holder != this_process() && holder_is_gone(holder))
    }
}

/// The statement that records a creation, bound as (uuid, node, start_after, holder,
/// due_at, now); run in the transaction that inserts the server.
pub(crate) const INSERT_CREATE: &str = "INSERT INTO server_intents \
     (server_uuid, node_id, action, start_after, holder, due_at, created_at) \
     VALUES ($1, $2, 'create', $3, $4, $5, $6)";

/// (holder, due_at, now) for a change this process starts now.
pub(crate) fn held_by_me() -> (&'static str, i64, i64) {
    let now = now_ms();
    (this_process(), now + LEASE_MS, now)
}

/// Marks the server as being deleted and records the deletion. A deletion or creation
/// already pending for it is replaced, unless a live process is working on it.
pub async fn begin_delete(db: &Database, server: &Server, force: bool) -> Result<Server> {
    let (holder, due_at, now) = held_by_me();
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        let pending = sqlx::query_as::<_, ServerIntent>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM server_intents WHERE server_uuid = $1"
        )))
        .bind(&server.uuid)
        .fetch_optional(&mut *transaction)
        .await?;
        let mut previous_status = server.status;
        if let Some(pending) = &pending {
            if !pending.is_free(now) {
                return Err(Error::Conflict(format!(
                    "the server's {} on its node is under way; try again in a minute",
                    if pending.action == "create" { "creation" } else { "deletion" }
                )));
            }
            if pending.action == "delete" {
                previous_status = pending.previous_status;
            }
            sqlx::query("DELETE FROM server_intents WHERE id = $1")
                .bind(pending.id)
                .execute(&mut *transaction)
                .await?;
        }
        sqlx::query(
            "INSERT INTO server_intents (server_uuid, node_id, action, force, previous_status, holder, due_at, created_at) \
             VALUES ($1, $2, 'delete', $3, $4, $5, $6, $7)",
        )
        .bind(&server.uuid)
        .bind(server.node_id)
        .bind(force)
        .bind(previous_status)
        .bind(holder)
        .bind(due_at)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let updated = sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "UPDATE servers SET status = 'deleting', updated_at = $2 WHERE id = $1 RETURNING {SERVER_COLUMNS}"
        )))
        .bind(server.id)
        .bind(Utc::now())
        .fetch_one(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok::<Server, Error>(updated)
    })
}

/// wings refused a deletion: the server gets back the status it had.
pub async fn cancel_delete(db: &Database, server: &Server) -> Result<()> {
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        let previous: Option<Option<ServerStatus>> = sqlx::query_scalar(
            "DELETE FROM server_intents WHERE server_uuid = $1 AND action = 'delete' RETURNING previous_status",
        )
        .bind(&server.uuid)
        .fetch_optional(&mut *transaction)
        .await?;
        if let Some(previous) = previous {
            sqlx::query("UPDATE servers SET status = $2 WHERE id = $1 AND status = 'deleting'")
                .bind(server.id)
                .bind(previous)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
    });
    Ok(())
}

/// wings did its part: the change is complete.
pub async fn finish(db: &Database, server_uuid: &str) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM server_intents WHERE server_uuid = $1")
            .bind(server_uuid)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Every pending change (on `node_id`, or everywhere), oldest first.
pub async fn pending(db: &Database, node_id: Option<i64>) -> Result<Vec<ServerIntent>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, ServerIntent>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM server_intents WHERE $1 IS NULL OR node_id = $1 ORDER BY id"
        )))
        .bind(node_id)
        .fetch_all(pool)
        .await?
    }))
}

/// The pending change of a server, if any.
pub async fn of_server(db: &Database, server_uuid: &str) -> Result<Option<ServerIntent>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, ServerIntent>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM server_intents WHERE server_uuid = $1"
        )))
        .bind(server_uuid)
        .fetch_optional(pool)
        .await?
    }))
}

/// Takes up the pending changes (on `node_id`, or everywhere; of server `only`, or of
/// all) that nobody is working on; `now` makes due the ones that wait for a retry
/// (`hatchery doctor --fix`). Each is claimed with a compare-and-set, so two panels
/// never both take one.
pub async fn claim(
    db: &Database,
    node_id: Option<i64>,
    only: Option<&str>,
    now: bool,
) -> Result<Vec<ServerIntent>> {
    let (holder, due_at, time) = held_by_me();
    let mut claimed = Vec::new();
    for intent in pending(db, node_id).await? {
        if only.is_some_and(|uuid| uuid != intent.server_uuid) {
            continue;
        }
        let waiting_for_retry = intent.holder.is_none() && intent.due_at > time;
        if !(intent.is_free(time) || (now && waiting_for_retry)) {
            continue;
        }
        let taken = on_pool!(db, pool => {
            sqlx::query(
                "UPDATE server_intents SET holder = $1, due_at = $2, attempts = attempts + 1 \
                 WHERE id = $3 AND due_at = $4 AND (holder = $5 OR (holder IS NULL AND $5 IS NULL))",
            )
            .bind(holder)
            .bind(due_at)
            .bind(intent.id)
            .bind(intent.due_at)
            .bind(&intent.holder)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if taken == 1 {
            claimed.push(ServerIntent {
                holder: Some(holder.to_string()),
                due_at,
                attempts: intent.attempts + 1,
                ..intent
            });
        }
    }
    Ok(claimed)
}

/// wings could not be asked: the change waits (5 s, doubling up to 5 minutes) and
/// whoever is free then tries again.
pub async fn postpone(db: &Database, intent: &ServerIntent, error: &str) -> Result<()> {
    let exponent = u32::try_from(intent.attempts.clamp(1, 7) - 1).unwrap_or(0);
    let delay = (5_000_i64 << exponent).min(300_000);
    on_pool!(db, pool => {
        sqlx::query(
            "UPDATE server_intents SET holder = NULL, due_at = $2, last_error = $3 WHERE id = $1",
        )
        .bind(intent.id)
        .bind(now_ms() + delay)
        .bind(error)
        .execute(pool)
        .await?;
    });
    Ok(())
}
