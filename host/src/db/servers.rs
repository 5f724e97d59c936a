//! Servers: who owns them, where they run (node and allocations), what they run (egg,
//! image, startup, variables) and with which limits; and what wings is told of them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Database, on_pool, server_intents};
use crate::db::eggs::EggRecord;
use crate::db::nodes::{Allocation, Node};
use crate::domain::vocabulary::ServerStatus;
use crate::domain::wings_wire::{self, ServerWire};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Server {
    pub id: i64,
    pub uuid: String,
    pub short_id: String,
    pub name: String,
    pub description: String,
    pub owner_id: i64,
    pub node_id: i64,
    pub egg_id: i64,
    pub allocation_id: i64,
    pub image: String,
    pub startup: String,
    pub memory_mb: i64,
    pub swap_mb: i64,
    pub disk_mb: i64,
    pub io_weight: i32,
    pub cpu_percent: i64,
    pub threads: Option<String>,
    pub oom_disabled: bool,
    pub skip_scripts: bool,
    /// How many allocations (the primary included) the server's users may hold.
    pub allocation_limit: i32,
    /// `installing`, `install_failed`, `reinstall_failed`, `suspended`, `deleting` (its
    /// node is removing it); `None` when ready.
    pub status: Option<ServerStatus>,
    pub installed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub(crate) const SERVER_COLUMNS: &str = "id, uuid, short_id, name, description, owner_id, node_id, egg_id, allocation_id, \
     image, startup, memory_mb, swap_mb, disk_mb, io_weight, cpu_percent, threads, oom_disabled, skip_scripts, \
     allocation_limit, status, installed_at, created_at";

/// What an admin chooses for a new server.
#[derive(Debug, Clone)]
pub struct NewServer {
    pub name: String,
    pub description: String,
    pub owner_id: i64,
    pub node: Node,
    pub egg: EggRecord,
    /// The default allocation first, then any extra ones.
    pub allocations: Vec<Allocation>,
    /// One of the egg's images unless the admin overrides it.
    pub image: Option<String>,
    pub startup: Option<String>,
    pub memory_mb: i64,
    pub swap_mb: i64,
    pub disk_mb: i64,
    pub io_weight: i32,
    pub cpu_percent: i64,
    pub threads: Option<String>,
    pub oom_disabled: bool,
    pub skip_scripts: bool,
    /// How many allocations (the primary included) the server's users may hold.
    pub allocation_limit: i32,
    /// Values for the egg's variables; missing ones take the egg's default.
    pub variables: BTreeMap<String, String>,
}

impl NewServer {
    /// Checks the request against the egg and the node; returns the variables to store.
    fn validate(&self) -> Result<BTreeMap<String, String>> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > 191 {
            return Err(Error::bad_field(
                "name",
                "a server name is 1 to 191 characters",
            ));
        }
        if self.memory_mb < 0 || self.disk_mb < 0 || self.cpu_percent < 0 || self.swap_mb < -1 {
            return Err(Error::bad_field(
                "memory_mb",
                "limits are 0 (unlimited) or more; swap may be -1 (unlimited)",
            ));
        }
        if !(10..=1000).contains(&self.io_weight) {
            return Err(Error::bad_field("io_weight", "the IO weight is 10 to 1000"));
        }
        if self.allocation_limit < 0 {
            return Err(Error::bad_field(
                "allocation_limit",
                "the allocation limit is 0 or more",
            ));
        }
        let Some(default) = self.allocations.first() else {
            return Err(Error::bad_field(
                "allocation",
                "a server needs an allocation to listen on",
            ));
        };
        for allocation in &self.allocations {
            if allocation.node_id != self.node.id {
                return Err(Error::bad_field(
                    "allocation",
                    format!(
                        "{}:{} is not on node {}",
                        allocation.ip, allocation.port, self.node.name
                    ),
                ));
            }
            if allocation.server_id.is_some() {
                return Err(Error::Conflict(format!(
                    "{}:{} is already used by another server",
                    allocation.ip, allocation.port
                )));
            }
        }
        let _ = default;
        let egg = self.egg.egg()?;
        if let Some(image) = &self.image
            && image.trim().is_empty()
        {
            return Err(Error::bad_field("image", "the docker image is empty"));
        }
        let defaults = egg
            .variables
            .iter()
            .map(|v| (v.env_variable.clone(), v.default_value.clone()))
            .collect();
        merge_variables(&egg, &defaults, &self.variables, false)
    }
}

/// `current` with `changes` applied, every value checked against the egg's rules.
/// With `user_edit`, only variables the egg lets users edit may change.
pub fn merge_variables(
    egg: &crate::domain::eggs::Egg,
    current: &BTreeMap<String, String>,
    changes: &BTreeMap<String, String>,
    user_edit: bool,
) -> Result<BTreeMap<String, String>> {
    for key in changes.keys() {
        let variable = egg.variables.iter().find(|v| &v.env_variable == key);
        match variable {
            None => {
                return Err(Error::bad_field(
                    format!("variables.{key}"),
                    format!("the egg `{}` has no variable {key}", egg.name),
                ));
            }
            Some(variable) if user_edit && !(variable.user_editable && variable.user_viewable) => {
                return Err(Error::Forbidden(format!(
                    "{key} can only be changed by an administrator"
                )));
            }
            Some(_) => {}
        }
    }
    let mut values = BTreeMap::new();
    for variable in &egg.variables {
        let value = changes
            .get(&variable.env_variable)
            .or_else(|| current.get(&variable.env_variable))
            .cloned()
            .unwrap_or_else(|| variable.default_value.clone());
        variable
            .rules()
            .check(&variable.env_variable, &value)
            .map_err(|message| {
                Error::bad_field(format!("variables.{}", variable.env_variable), message)
            })?;
        values.insert(variable.env_variable.clone(), value);
    }
    Ok(values)
}

/// Stores a new server, claiming its allocations, in one transaction that also
/// records the creation as pending until its node's wings confirms it. The server
/// starts in `installing` (or ready, when the egg's scripts are skipped).
pub async fn create(db: &Database, new: &NewServer, start_after_install: bool) -> Result<Server> {
    let variables = new.validate()?;
    check_node_capacity(db, &new.node, new.memory_mb, new.disk_mb).await?;
    let egg = new.egg.egg()?;
    let image = new
        .image
        .clone()
        .or_else(|| egg.docker_images.first().map(|(_, image)| image.clone()))
        .ok_or_else(|| Error::bad_field("image", "the egg lists no image"))?;
    let startup = new.startup.clone().unwrap_or_else(|| egg.startup.clone());
    let uuid = uuid::Uuid::new_v4().to_string();
    let short_id = uuid[..8].to_string();
    let now = Utc::now();
    let status = (!new.skip_scripts).then_some(ServerStatus::Installing);
    let default_allocation = new.allocations[0].id;
    let server = on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        let server = sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO servers (uuid, short_id, name, description, owner_id, node_id, egg_id, allocation_id, image, \
             startup, memory_mb, swap_mb, disk_mb, io_weight, cpu_percent, threads, oom_disabled, skip_scripts, status, \
             created_at, updated_at, allocation_limit) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21) \
             RETURNING {SERVER_COLUMNS}"
        )))
        .bind(&uuid)
        .bind(&short_id)
        .bind(new.name.trim())
        .bind(&new.description)
        .bind(new.owner_id)
        .bind(new.node.id)
        .bind(new.egg.id)
        .bind(default_allocation)
        .bind(&image)
        .bind(&startup)
        .bind(new.memory_mb)
        .bind(new.swap_mb)
        .bind(new.disk_mb)
        .bind(new.io_weight)
        .bind(new.cpu_percent)
        .bind(&new.threads)
        .bind(new.oom_disabled)
        .bind(new.skip_scripts)
        .bind(status)
        .bind(now)
        .bind(new.allocation_limit)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|err| match &err {
            sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
                Error::Conflict("that allocation is already some server's default".into())
            }
            _ => Error::Database(err),
        })?;
        for allocation in &new.allocations {
            let claimed = sqlx::query("UPDATE allocations SET server_id = $1 WHERE id = $2 AND server_id IS NULL")
                .bind(server.id)
                .bind(allocation.id)
                .execute(&mut *transaction)
                .await?;
            if claimed.rows_affected() != 1 {
                return Err(Error::Conflict(format!(
                    "{}:{} was taken by another server meanwhile",
                    allocation.ip, allocation.port
                )));
            }
        }
        for (key, value) in &variables {
            sqlx::query("INSERT INTO server_variables (server_id, env_variable, value) VALUES ($1, $2, $3)")
                .bind(server.id)
                .bind(key)
                .bind(value)
                .execute(&mut *transaction)
                .await?;
        }
        let (holder, due_at, now) = server_intents::held_by_me();
        sqlx::query(server_intents::INSERT_CREATE)
            .bind(&server.uuid)
            .bind(server.node_id)
            .bind(start_after_install)
            .bind(holder)
            .bind(due_at)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok::<Server, Error>(server)
    })?;
    Ok(server)
}

pub async fn find(db: &Database, key: &str) -> Result<Option<Server>> {
    let id: i64 = key.parse().unwrap_or(-1);
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "SELECT {SERVER_COLUMNS} FROM servers WHERE id = $1 OR uuid = $2 OR short_id = $2 LIMIT 1"
        )))
        .bind(id)
        .bind(key)
        .fetch_optional(pool)
        .await?
    }))
}

pub async fn list(db: &Database) -> Result<Vec<Server>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "SELECT {SERVER_COLUMNS} FROM servers ORDER BY id"
        )))
        .fetch_all(pool)
        .await?
    }))
}

/// A page of the servers on `node` (1-based), and how many there are.
pub async fn page_on_node(
    db: &Database,
    node_id: i64,
    page: i64,
    per_page: i64,
) -> Result<(Vec<Server>, i64)> {
    let offset = (page.max(1) - 1) * per_page;
    Ok(on_pool!(db, pool => {
        let servers = sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "SELECT {SERVER_COLUMNS} FROM servers WHERE node_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
        )))
        .bind(node_id)
        .bind(per_page)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM servers WHERE node_id = $1")
            .bind(node_id)
            .fetch_one(pool)
            .await?;
        (servers, total)
    }))
}

/// Records wings' report of an installation.
pub async fn finish_install(
    db: &Database,
    server: &Server,
    successful: bool,
    reinstall: bool,
) -> Result<()> {
    let status = match (successful, reinstall) {
        (true, _) => None,
        (false, false) => Some(ServerStatus::InstallFailed),
        (false, true) => Some(ServerStatus::ReinstallFailed),
    };
    let now = Utc::now();
    on_pool!(db, pool => {
        sqlx::query(
            "UPDATE servers SET status = $1, installed_at = CASE WHEN $2 THEN $3 ELSE installed_at END, updated_at = $3 \
             WHERE id = $4 AND (status IS NULL OR status NOT IN ('suspended', 'deleting'))",
        )
        .bind(status)
        .bind(successful)
        .bind(now)
        .bind(server.id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The servers on `node` shown as installing.
pub async fn installing_on_node(db: &Database, node_id: i64) -> Result<Vec<Server>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "SELECT {SERVER_COLUMNS} FROM servers WHERE node_id = $1 AND status = 'installing' \
             AND uuid NOT IN (SELECT server_uuid FROM server_intents)"
        )))
        .bind(node_id)
        .fetch_all(pool)
        .await?
    }))
}

/// wings restarted: installations on `node` it did not resume (`resuming`, server
/// uuids) were cut short and failed.
pub async fn reset_installing(db: &Database, node_id: i64, resuming: &[String]) -> Result<()> {
    let resuming = serde_json::to_string(resuming).expect("strings encode");
    on_pool!(db, pool => {
        let statement = match db.dialect() {
            super::Dialect::Sqlite => "UPDATE servers SET status = 'install_failed' WHERE node_id = $1 \
                 AND status = 'installing' AND uuid NOT IN (SELECT value FROM json_each($2)) \
                 AND uuid NOT IN (SELECT server_uuid FROM server_intents)",
            super::Dialect::Postgres => "UPDATE servers SET status = 'install_failed' WHERE node_id = $1 \
                 AND status = 'installing' AND uuid NOT IN (SELECT jsonb_array_elements_text($2::jsonb)) \
                 AND uuid NOT IN (SELECT server_uuid FROM server_intents)",
        };
        sqlx::query(statement)
            .bind(node_id)
            .bind(&resuming)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The server as wings must see it: settings and the egg's process configuration.
pub async fn wings_description(
    db: &Database,
    server: &Server,
) -> Result<hatchery_protocol::remote::RemoteServer> {
    let egg_record = crate::db::eggs::find(db, &server.egg_id.to_string())
        .await?
        .ok_or_else(|| Error::NotFound(format!("the egg of server {} is gone", server.uuid)))?;
    let egg = egg_record.egg()?;
    let (variables, allocations): (Vec<(String, String)>, Vec<Allocation>) = on_pool!(db, pool => {
        let variables = sqlx::query_as(
            "SELECT env_variable, value FROM server_variables WHERE server_id = $1 ORDER BY env_variable",
        )
        .bind(server.id)
        .fetch_all(pool)
        .await?;
        let allocations = sqlx::query_as::<_, Allocation>(
            "SELECT id, node_id, ip, alias, port, server_id, notes FROM allocations WHERE server_id = $1 ORDER BY ip, port",
        )
        .bind(server.id)
        .fetch_all(pool)
        .await?;
        (variables, allocations)
    });
    let mut environment: BTreeMap<String, String> = egg
        .variables
        .iter()
        .map(|v| (v.env_variable.clone(), v.default_value.clone()))
        .collect();
    environment.extend(variables);
    let default = allocations
        .iter()
        .find(|a| a.id == server.allocation_id)
        .ok_or_else(|| {
            Error::NotFound(format!("the allocation of server {} is gone", server.uuid))
        })?;
    let wire = ServerWire {
        uuid: &server.uuid,
        name: &server.name,
        description: &server.description,
        suspended: server.status == Some(ServerStatus::Suspended),
        startup: &server.startup,
        skip_egg_scripts: server.skip_scripts,
        environment,
        memory_mb: server.memory_mb,
        swap_mb: server.swap_mb,
        io_weight: server.io_weight,
        cpu_percent: server.cpu_percent,
        threads: server.threads.as_deref(),
        disk_mb: server.disk_mb,
        oom_disabled: server.oom_disabled,
        image: &server.image,
        default_ip: &default.ip,
        default_port: default.port,
        allocations: allocations.iter().map(|a| (a.ip.clone(), a.port)).collect(),
        egg_uuid: &egg_record.uuid,
        egg: &egg,
    };
    Ok(wire.describe())
}

/// The egg's install script for `server`.
pub async fn install_script(
    db: &Database,
    server: &Server,
) -> Result<hatchery_protocol::remote::InstallScript> {
    let egg_record = crate::db::eggs::find(db, &server.egg_id.to_string())
        .await?
        .ok_or_else(|| Error::NotFound(format!("the egg of server {} is gone", server.uuid)))?;
    Ok(wings_wire::install_script(&egg_record.egg()?))
}

/// Refuses a server that would take the node beyond its memory or disk, counting the
/// node's over-allocation percentage (-1: no limit).
async fn check_node_capacity(
    db: &Database,
    node: &Node,
    memory_mb: i64,
    disk_mb: i64,
) -> Result<()> {
    let (used_memory, used_disk): (Option<i64>, Option<i64>) = on_pool!(db, pool => {
        sqlx::query_as("SELECT CAST(SUM(memory_mb) AS BIGINT), CAST(SUM(disk_mb) AS BIGINT) FROM servers WHERE node_id = $1")
            .bind(node.id)
            .fetch_one(pool)
            .await?
    });
    for (field, what, used, wanted, total, over) in [
        (
            "memory_mb",
            "memory",
            used_memory.unwrap_or(0),
            memory_mb,
            node.memory_mb,
            node.memory_overallocate,
        ),
        (
            "disk_mb",
            "disk",
            used_disk.unwrap_or(0),
            disk_mb,
            node.disk_mb,
            node.disk_overallocate,
        ),
    ] {
        if over < 0 {
            continue;
        }
        let limit = total + total * i64::from(over) / 100;
        if used + wanted > limit {
            return Err(Error::bad_field(
                field,
                format!(
                    "node {} has {} MiB of {what} left (of {limit} MiB with over-allocation); choose less or another node",
                    node.name,
                    (limit - used).max(0)
                ),
            ));
        }
    }
    Ok(())
}

/// A server as lists show it: the record with its node, egg and address.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ServerSummary {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub server: Server,
    pub node_name: String,
    pub egg_name: String,
    pub ip: String,
    pub ip_alias: Option<String>,
    pub port: i32,
}

/// Whose servers a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every server (administrators).
    All,
    /// Servers the user owns or is a subuser of.
    AccessibleTo(i64),
}

/// One page of servers, optionally only those whose name contains `search`.
/// Every server `visibility` allows, oldest first (plugins' `servers.visible-to`).
pub async fn accessible(db: &Database, visibility: Visibility) -> Result<Vec<Server>> {
    let user_id = match visibility {
        Visibility::All => None,
        Visibility::AccessibleTo(user_id) => Some(user_id),
    };
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "SELECT {SERVER_COLUMNS} FROM servers WHERE $1 IS NULL OR owner_id = $1 \
             OR id IN (SELECT server_id FROM subusers WHERE user_id = $1) ORDER BY id"
        )))
        .bind(user_id)
        .fetch_all(pool)
        .await?
    }))
}

pub async fn page(
    db: &Database,
    visibility: Visibility,
    search: Option<&str>,
    page: &super::Page,
    only: Option<&[String]>,
) -> Result<(Vec<ServerSummary>, i64)> {
    let user_id = match visibility {
        Visibility::All => None,
        Visibility::AccessibleTo(user_id) => Some(user_id),
    };
    let pattern = format!("%{}%", search.unwrap_or("").to_lowercase());
    // An API key limited to some servers: their uuids (fixed-form, nothing LIKE reads
    // as a wildcard), joined; NULL for no limit.
    let only = only.map(|uuids| format!(",{},", uuids.join(",")));
    let condition = |only: &str| {
        format!(
            "($1 IS NULL OR s.owner_id = $1 OR s.id IN (SELECT server_id FROM subusers WHERE user_id = $1)) \
             AND ($2 = '%%' OR LOWER(s.name) LIKE $2) \
             AND ({only} IS NULL OR {only} LIKE '%,' || s.uuid || ',%')"
        )
    };
    // `s.`-qualified once, not per request.
    static COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        SERVER_COLUMNS
            .split(", ")
            .map(|column| format!("s.{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let columns = COLUMNS.as_str();
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        summary: ServerSummary,
        total: i64,
    }
    // The total rides along on every row (a window count), so a page is one query.
    let (rows, total) = on_pool!(db, pool => {
        let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {columns}, n.name AS node_name, e.name AS egg_name, a.ip, a.alias AS ip_alias, a.port, \
             COUNT(*) OVER () AS total \
             FROM servers s JOIN nodes n ON n.id = s.node_id JOIN eggs e ON e.id = s.egg_id \
             JOIN allocations a ON a.id = s.allocation_id WHERE {} ORDER BY s.id LIMIT $3 OFFSET $4",
            condition("$5")
        )))
        .bind(user_id)
        .bind(&pattern)
        .bind(page.limit())
        .bind(page.offset())
        .bind(&only)
        .fetch_all(pool)
        .await?;
        let total = match rows.first() {
            Some(row) => row.total,
            // Past the last page (or nothing at all): count on its own.
            None => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM servers s WHERE {}",
                condition("$3")
            )))
            .bind(user_id)
            .bind(&pattern)
            .bind(&only)
            .fetch_one(pool)
            .await?,
        };
        (rows, total)
    });
    Ok((rows.into_iter().map(|row| row.summary).collect(), total))
}

/// The values of a server's variables as stored.
pub async fn variables(db: &Database, server: &Server) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = on_pool!(db, pool => {
        sqlx::query_as("SELECT env_variable, value FROM server_variables WHERE server_id = $1")
            .bind(server.id)
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().collect())
}

/// The allocations a server listens on, its default first.
pub async fn allocations(db: &Database, server: &Server) -> Result<Vec<Allocation>> {
    let mut allocations: Vec<Allocation> = on_pool!(db, pool => {
        sqlx::query_as::<_, Allocation>(
            "SELECT id, node_id, ip, alias, port, server_id, notes FROM allocations WHERE server_id = $1 ORDER BY ip, port",
        )
        .bind(server.id)
        .fetch_all(pool)
        .await?
    });
    allocations.sort_by_key(|allocation| allocation.id != server.allocation_id);
    Ok(allocations)
}

/// What can change about a server after it was created; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ServerChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner_id: Option<i64>,
    pub image: Option<String>,
    pub startup: Option<String>,
    pub memory_mb: Option<i64>,
    pub swap_mb: Option<i64>,
    pub disk_mb: Option<i64>,
    pub io_weight: Option<i32>,
    pub cpu_percent: Option<i64>,
    pub allocation_limit: Option<i32>,
    /// Already merged and checked with [`merge_variables`].
    pub variables: Option<BTreeMap<String, String>>,
}

pub async fn update(db: &Database, server: &Server, changes: &ServerChanges) -> Result<Server> {
    let name = changes
        .name
        .as_deref()
        .unwrap_or(&server.name)
        .trim()
        .to_string();
    if name.is_empty() || name.len() > 191 {
        return Err(Error::bad_field(
            "name",
            "a server name is 1 to 191 characters",
        ));
    }
    let memory_mb = changes.memory_mb.unwrap_or(server.memory_mb);
    let disk_mb = changes.disk_mb.unwrap_or(server.disk_mb);
    let swap_mb = changes.swap_mb.unwrap_or(server.swap_mb);
    let cpu_percent = changes.cpu_percent.unwrap_or(server.cpu_percent);
    let io_weight = changes.io_weight.unwrap_or(server.io_weight);
    if memory_mb < 0 || disk_mb < 0 || cpu_percent < 0 || swap_mb < -1 {
        return Err(Error::bad_field(
            "memory_mb",
            "limits are 0 (unlimited) or more; swap may be -1 (unlimited)",
        ));
    }
    if !(10..=1000).contains(&io_weight) {
        return Err(Error::bad_field("io_weight", "the IO weight is 10 to 1000"));
    }
    let allocation_limit = changes.allocation_limit.unwrap_or(server.allocation_limit);
    if allocation_limit < 0 {
        return Err(Error::bad_field(
            "allocation_limit",
            "the allocation limit is 0 or more",
        ));
    }
    let image = changes
        .image
        .as_deref()
        .unwrap_or(&server.image)
        .trim()
        .to_string();
    if image.is_empty() {
        return Err(Error::bad_field("image", "the docker image is empty"));
    }
    let startup = changes
        .startup
        .as_deref()
        .unwrap_or(&server.startup)
        .to_string();
    if startup.trim().is_empty() {
        return Err(Error::bad_field("startup", "the startup command is empty"));
    }
    let updated = on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        let updated = sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "UPDATE servers SET name = $2, description = $3, owner_id = $4, image = $5, startup = $6, memory_mb = $7, \
             swap_mb = $8, disk_mb = $9, io_weight = $10, cpu_percent = $11, updated_at = $12, allocation_limit = $13 WHERE id = $1 \
             RETURNING {SERVER_COLUMNS}"
        )))
        .bind(server.id)
        .bind(&name)
        .bind(changes.description.as_ref().unwrap_or(&server.description))
        .bind(changes.owner_id.unwrap_or(server.owner_id))
        .bind(&image)
        .bind(&startup)
        .bind(memory_mb)
        .bind(swap_mb)
        .bind(disk_mb)
        .bind(io_weight)
        .bind(cpu_percent)
        .bind(Utc::now())
        .bind(allocation_limit)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|err| match &err {
            sqlx::Error::Database(db_err) if db_err.is_foreign_key_violation() => {
                Error::bad_field("owner", "no such user")
            }
            _ => Error::Database(err),
        })?;
        if let Some(variables) = &changes.variables {
            for (key, value) in variables {
                sqlx::query(
                    "INSERT INTO server_variables (server_id, env_variable, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (server_id, env_variable) DO UPDATE SET value = excluded.value",
                )
                .bind(server.id)
                .bind(key)
                .bind(value)
                .execute(&mut *transaction)
                .await?;
            }
        }
        transaction.commit().await?;
        Ok::<Server, Error>(updated)
    })?;
    Ok(updated)
}

/// Gives the server a free allocation of its node (on its primary address when one is
/// free), within its allocation limit.
pub async fn claim_free_allocation(db: &Database, server: &Server) -> Result<Allocation> {
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM allocations WHERE server_id = $1")
            .bind(server.id)
            .fetch_one(&mut *transaction)
            .await?;
        if held >= i64::from(server.allocation_limit) {
            return Err(Error::Conflict(format!(
                "the server holds {held} of its {} allocations; ask an administrator for more",
                server.allocation_limit
            )));
        }
        let free = sqlx::query_as::<_, Allocation>(
            "SELECT id, node_id, ip, alias, port, server_id, notes FROM allocations \
             WHERE node_id = $1 AND server_id IS NULL \
             ORDER BY CASE WHEN ip = (SELECT ip FROM allocations WHERE id = $2) THEN 0 ELSE 1 END, ip, port LIMIT 1",
        )
        .bind(server.node_id)
        .bind(server.allocation_id)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or_else(|| Error::Conflict("the node has no free allocation left; ask an administrator".into()))?;
        sqlx::query("UPDATE allocations SET server_id = $1 WHERE id = $2 AND server_id IS NULL")
            .bind(server.id)
            .bind(free.id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(Allocation { server_id: Some(server.id), ..free })
    })
}

/// One of the server's allocations.
pub async fn allocation(db: &Database, server: &Server, allocation_id: i64) -> Result<Allocation> {
    let found = on_pool!(db, pool => {
        sqlx::query_as::<_, Allocation>(
            "SELECT id, node_id, ip, alias, port, server_id, notes FROM allocations WHERE id = $1 AND server_id = $2",
        )
        .bind(allocation_id)
        .bind(server.id)
        .fetch_optional(pool)
        .await?
    });
    found.ok_or_else(|| Error::NotFound(format!("the server has no allocation {allocation_id}")))
}

pub async fn set_allocation_notes(
    db: &Database,
    allocation: &Allocation,
    notes: Option<&str>,
) -> Result<()> {
    if notes.is_some_and(|notes| notes.len() > 255) {
        return Err(Error::bad_field(
            "notes",
            "notes are at most 255 characters",
        ));
    }
    on_pool!(db, pool => {
        sqlx::query("UPDATE allocations SET notes = $1 WHERE id = $2")
            .bind(notes.filter(|notes| !notes.is_empty()))
            .bind(allocation.id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn set_primary_allocation(
    db: &Database,
    server: &Server,
    allocation: &Allocation,
) -> Result<Server> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "UPDATE servers SET allocation_id = $2, updated_at = $3 WHERE id = $1 RETURNING {SERVER_COLUMNS}"
        )))
        .bind(server.id)
        .bind(allocation.id)
        .bind(Utc::now())
        .fetch_one(pool)
        .await?
    }))
}

/// Gives an allocation back to the node; the primary one stays.
pub async fn release_allocation(
    db: &Database,
    server: &Server,
    allocation: &Allocation,
) -> Result<()> {
    if allocation.id == server.allocation_id {
        return Err(Error::Conflict(
            "the primary allocation stays; make another one primary first".into(),
        ));
    }
    on_pool!(db, pool => {
        sqlx::query("UPDATE allocations SET server_id = NULL, notes = NULL WHERE id = $1 AND server_id = $2")
            .bind(allocation.id)
            .bind(server.id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Sets the server's status (`None` is ready).
pub async fn set_status(
    db: &Database,
    server: &Server,
    status: Option<ServerStatus>,
) -> Result<Server> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Server>(sqlx::AssertSqlSafe(format!(
            "UPDATE servers SET status = $2, updated_at = $3 WHERE id = $1 RETURNING {SERVER_COLUMNS}"
        )))
        .bind(server.id)
        .bind(status)
        .bind(Utc::now())
        .fetch_one(pool)
        .await?
    }))
}

/// Removes the server's record and any change pending for it, and frees its
/// allocations (wings is told first).
pub async fn delete(db: &Database, server: &Server) -> Result<()> {
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        sqlx::query("DELETE FROM server_intents WHERE server_uuid = $1")
            .bind(&server.uuid)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("UPDATE allocations SET server_id = NULL WHERE server_id = $1")
            .bind(server.id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM servers WHERE id = $1")
            .bind(server.id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
    });
    Ok(())
}
