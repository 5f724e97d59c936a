//! Nodes (the machines wings runs on) and their allocations (IP and port pairs that
//! servers listen on). A node's token is generated here and kept encrypted with the
//! panel's key; wings authenticates as `token_id.token`.

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use super::{Database, on_pool};
use crate::domain::vocabulary::Scheme;
use crate::error::{Error, Result};
use crate::secrets::SecretBox;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Node {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub fqdn: String,
    #[sqlx(try_from = "String")]
    pub scheme: Scheme,
    pub behind_proxy: bool,
    pub daemon_port: i32,
    pub sftp_port: i32,
    pub data_dir: String,
    pub memory_mb: i64,
    pub memory_overallocate: i32,
    pub disk_mb: i64,
    pub disk_overallocate: i32,
    pub upload_size_mb: i32,
    pub maintenance: bool,
    pub public: bool,
    pub token_id: String,
    #[serde(skip)]
    pub token_sealed: String,
    pub created_at: DateTime<Utc>,
}

impl Node {
    /// Where browsers and the panel reach this node's wings: `https://fqdn:port`.
    pub fn public_url(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.fqdn, self.daemon_port)
    }
}

const NODE_COLUMNS: &str = "id, uuid, name, description, fqdn, scheme, behind_proxy, daemon_port, sftp_port, \
     data_dir, memory_mb, memory_overallocate, disk_mb, disk_overallocate, upload_size_mb, maintenance, public, \
     token_id, token_sealed, created_at";

/// What an admin chooses for a new node.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub name: String,
    pub description: String,
    pub fqdn: String,
    pub scheme: Scheme,
    pub behind_proxy: bool,
    pub daemon_port: u16,
    pub sftp_port: u16,
    pub data_dir: String,
    pub memory_mb: u64,
    pub memory_overallocate: i32,
    pub disk_mb: u64,
    pub disk_overallocate: i32,
    pub upload_size_mb: u32,
}

impl NewNode {
    fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(Error::bad_field(
                "name",
                "a node name is 1 to 100 characters",
            ));
        }
        let fqdn = self.fqdn.trim();
        if fqdn.is_empty()
            || fqdn.len() > 253
            || !fqdn
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        {
            return Err(Error::bad_field(
                "fqdn",
                format!("`{fqdn}` is not a host name or IP address"),
            ));
        }
        if self.daemon_port == 0 || self.sftp_port == 0 || self.daemon_port == self.sftp_port {
            return Err(Error::bad_field(
                "daemon_port",
                "the wings API port and the SFTP port are two different ports from 1 to 65535",
            ));
        }
        if !self.data_dir.starts_with('/') {
            return Err(Error::bad_field(
                "data_dir",
                "the server data directory is an absolute path",
            ));
        }
        if self.memory_mb == 0 || self.disk_mb == 0 {
            return Err(Error::bad_field(
                "memory_mb",
                "memory and disk are at least 1 MiB",
            ));
        }
        for (field, value) in [
            ("memory_overallocate", self.memory_overallocate),
            ("disk_overallocate", self.disk_overallocate),
        ] {
            if value < -1 {
                return Err(Error::bad_field(
                    field,
                    "over-allocation is a percentage, or -1 for no limit",
                ));
            }
        }
        if self.upload_size_mb == 0 || self.upload_size_mb > 10_240 {
            return Err(Error::bad_field(
                "upload_size_mb",
                "the upload limit is 1 to 10240 MiB",
            ));
        }
        Ok(())
    }
}

/// Changes a node's settings (the token stays; see [`reset_token`]). wings reads the
/// new values once its configuration is copied again.
pub async fn update(
    db: &Database,
    node: &Node,
    changed: &NewNode,
    maintenance: bool,
) -> Result<Node> {
    changed.validate()?;
    let updated = on_pool!(db, pool => {
        sqlx::query_as::<_, Node>(sqlx::AssertSqlSafe(format!(
            "UPDATE nodes SET name = $2, description = $3, fqdn = $4, scheme = $5, behind_proxy = $6, daemon_port = $7, \
             sftp_port = $8, data_dir = $9, memory_mb = $10, memory_overallocate = $11, disk_mb = $12, \
             disk_overallocate = $13, upload_size_mb = $14, maintenance = $15, updated_at = $16 WHERE id = $1 \
             RETURNING {NODE_COLUMNS}"
        )))
        .bind(node.id)
        .bind(changed.name.trim())
        .bind(&changed.description)
        .bind(changed.fqdn.trim())
        .bind(changed.scheme.as_str())
        .bind(changed.behind_proxy)
        .bind(i32::from(changed.daemon_port))
        .bind(i32::from(changed.sftp_port))
        .bind(&changed.data_dir)
        .bind(changed.memory_mb as i64)
        .bind(changed.memory_overallocate)
        .bind(changed.disk_mb as i64)
        .bind(changed.disk_overallocate)
        .bind(changed.upload_size_mb as i32)
        .bind(maintenance)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    updated.map_err(|err| match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => Error::Conflict(format!(
            "a node called {} already exists",
            changed.name.trim()
        )),
        _ => Error::Database(err),
    })
}

/// Deletes a node without servers, and its allocations.
pub async fn delete(db: &Database, node: &Node) -> Result<()> {
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        let servers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM servers WHERE node_id = $1")
            .bind(node.id)
            .fetch_one(&mut *transaction)
            .await?;
        if servers > 0 {
            return Err(Error::Conflict(format!(
                "node {} still has {servers} server(s); delete or move them first",
                node.name
            )));
        }
        sqlx::query("DELETE FROM allocations WHERE node_id = $1").bind(node.id).execute(&mut *transaction).await?;
        sqlx::query("DELETE FROM nodes WHERE id = $1").bind(node.id).execute(&mut *transaction).await?;
        transaction.commit().await?;
    });
    Ok(())
}

/// A random string of letters and digits.
fn random_token(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; length];
    getrandom::fill(&mut bytes).expect("the OS provides randomness");
    // 62 symbols: the modulo bias is under 2% per character, irrelevant at 64 characters.
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

pub async fn create(db: &Database, secrets: &SecretBox, new: &NewNode) -> Result<Node> {
    new.validate()?;
    let now = Utc::now();
    let uuid = uuid::Uuid::new_v4().to_string();
    let token_id = random_token(16);
    let token_sealed = secrets.seal(&random_token(64));
    let created = on_pool!(db, pool => {
        sqlx::query_as::<_, Node>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO nodes (uuid, name, description, fqdn, scheme, behind_proxy, daemon_port, sftp_port, data_dir, \
             memory_mb, memory_overallocate, disk_mb, disk_overallocate, upload_size_mb, token_id, token_sealed, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
             RETURNING {NODE_COLUMNS}"
        )))
        .bind(&uuid)
        .bind(new.name.trim())
        .bind(&new.description)
        .bind(new.fqdn.trim())
        .bind(new.scheme.as_str())
        .bind(new.behind_proxy)
        .bind(i32::from(new.daemon_port))
        .bind(i32::from(new.sftp_port))
        .bind(&new.data_dir)
        .bind(new.memory_mb as i64)
        .bind(new.memory_overallocate)
        .bind(new.disk_mb as i64)
        .bind(new.disk_overallocate)
        .bind(new.upload_size_mb as i32)
        .bind(&token_id)
        .bind(&token_sealed)
        .bind(now)
        .fetch_one(pool)
        .await
    });
    created.map_err(|err| match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => Error::Conflict(format!(
            "a node called `{}` already exists",
            new.name.trim()
        )),
        _ => Error::Database(err),
    })
}

pub async fn list(db: &Database) -> Result<Vec<Node>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Node>(sqlx::AssertSqlSafe(format!(
            "SELECT {NODE_COLUMNS} FROM nodes ORDER BY name"
        )))
        .fetch_all(pool)
        .await?
    }))
}

/// A node by id, uuid or name.
pub async fn find(db: &Database, key: &str) -> Result<Option<Node>> {
    let id: i64 = key.parse().unwrap_or(-1);
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Node>(sqlx::AssertSqlSafe(format!(
            "SELECT {NODE_COLUMNS} FROM nodes WHERE id = $1 OR uuid = $2 OR name = $2 LIMIT 1"
        )))
        .bind(id)
        .bind(key)
        .fetch_optional(pool)
        .await?
    }))
}

/// The node's token in clear, for its wings configuration.
pub fn token(secrets: &SecretBox, node: &Node) -> Result<String> {
    secrets.open(&node.token_sealed)
}

/// Issues a new token; the old one stops working at once.
pub async fn reset_token(db: &Database, secrets: &SecretBox, node: &Node) -> Result<Node> {
    let token_id = random_token(16);
    let token_sealed = secrets.seal(&random_token(64));
    on_pool!(db, pool => {
        sqlx::query("UPDATE nodes SET token_id = $1, token_sealed = $2, updated_at = $3 WHERE id = $4")
            .bind(&token_id)
            .bind(&token_sealed)
            .bind(Utc::now())
            .bind(node.id)
            .execute(pool)
            .await?;
    });
    find(db, &node.uuid)
        .await?
        .ok_or_else(|| Error::NotFound("the node was deleted meanwhile".into()))
}

/// The node a wings presents `token_id.token` for, checked in constant time.
pub async fn authenticate_wings(
    db: &Database,
    secrets: &SecretBox,
    bearer: &str,
) -> Result<Option<Node>> {
    let Some((token_id, token)) = bearer.split_once('.') else {
        return Ok(None);
    };
    let found = on_pool!(db, pool => {
        sqlx::query_as::<_, Node>(sqlx::AssertSqlSafe(format!(
            "SELECT {NODE_COLUMNS} FROM nodes WHERE token_id = $1"
        )))
        .bind(token_id)
        .fetch_optional(pool)
        .await?
    });
    let Some(node) = found else {
        return Ok(None);
    };
    let expected = secrets.open(&node.token_sealed)?;
    Ok(bool::from(expected.as_bytes().ct_eq(token.as_bytes())).then_some(node))
}

/// The wings configuration file for `node`, in Pterodactyl's `config.yml` format.
pub fn wings_config(node: &Node, token: &str, panel_url: &str) -> String {
    let ssl = node.scheme == Scheme::Https && !node.behind_proxy;
    let config = serde_json::json!({
        "debug": false,
        "uuid": node.uuid,
        "token_id": node.token_id,
        "token": token,
        "api": {
            "host": "0.0.0.0",
            "port": node.daemon_port,
            "ssl": {
                "enabled": ssl,
                "cert": format!("/etc/letsencrypt/live/{}/fullchain.pem", node.fqdn),
                "key": format!("/etc/letsencrypt/live/{}/privkey.pem", node.fqdn),
            },
            "upload_limit": node.upload_size_mb,
        },
        "system": {
            "data": node.data_dir,
            "sftp": { "bind_port": node.sftp_port },
        },
        "allowed_mounts": [],
        "remote": panel_url,
    });
    format!(
        "# wings configuration for node `{}`, written by `hatchery node config`.\n# Keep it secret: it holds the node's token.\n{}",
        node.name,
        serde_yaml_ng::to_string(&config).expect("YAML encodes")
    )
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Allocation {
    pub id: i64,
    pub node_id: i64,
    pub ip: String,
    pub alias: Option<String>,
    pub port: i32,
    pub server_id: Option<i64>,
    pub notes: Option<String>,
}

/// Ports from `25565`, `25565-25570` and comma-separated lists of them. Ports are from
/// 1024 to 65535 and one range holds at most 1000.
pub fn parse_ports(text: &str) -> Result<Vec<u16>> {
    let bad = |message: String| Error::bad_field("ports", message);
    let mut ports = std::collections::BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (low, high) = match part.split_once('-') {
            Some((low, high)) => (low.trim(), high.trim()),
            None => (part, part),
        };
        let parse = |port: &str| {
            port.parse::<u16>()
                .ok()
                .filter(|port| *port >= 1024)
                .ok_or_else(|| bad(format!("`{port}` is not a port from 1024 to 65535")))
        };
        let (low, high) = (parse(low)?, parse(high)?);
        if high < low {
            return Err(bad(format!("`{part}` goes backwards")));
        }
        if high - low >= 1000 {
            return Err(bad(format!(
                "`{part}` holds more than 1000 ports; split it"
            )));
        }
        ports.extend(low..=high);
    }
    if ports.is_empty() {
        return Err(bad(
            "name at least one port, like 25565 or 25565-25570".into()
        ));
    }
    Ok(ports.into_iter().collect())
}

/// Adds `ports` on `ip`; ports that already exist are skipped. Returns how many were
/// added.
pub async fn add_allocations(
    db: &Database,
    node: &Node,
    ip: &str,
    ports: &[u16],
    alias: Option<&str>,
) -> Result<usize> {
    let ip: std::net::IpAddr = ip
        .trim()
        .parse()
        .map_err(|_| Error::bad_field("ip", format!("`{ip}` is not an IP address")))?;
    let ip = ip.to_string();
    let mut added = 0;
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        for port in ports {
            let result = sqlx::query(
                "INSERT INTO allocations (node_id, ip, alias, port) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (node_id, ip, port) DO NOTHING",
            )
            .bind(node.id)
            .bind(&ip)
            .bind(alias)
            .bind(i32::from(*port))
            .execute(&mut *transaction)
            .await?;
            added += result.rows_affected() as usize;
        }
        transaction.commit().await?;
    });
    Ok(added)
}

pub async fn allocations(db: &Database, node: &Node, free_only: bool) -> Result<Vec<Allocation>> {
    let sql = if free_only {
        "SELECT id, node_id, ip, alias, port, server_id, notes FROM allocations \
         WHERE node_id = $1 AND server_id IS NULL ORDER BY ip, port"
    } else {
        "SELECT id, node_id, ip, alias, port, server_id, notes FROM allocations \
         WHERE node_id = $1 ORDER BY ip, port"
    };
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Allocation>(sql)
            .bind(node.id)
            .fetch_all(pool)
            .await?
    }))
}

/// The allocation `ip:port` on `node`.
pub async fn find_allocation(db: &Database, node: &Node, address: &str) -> Result<Allocation> {
    let (ip, port) = address
        .rsplit_once(':')
        .and_then(|(ip, port)| Some((ip.trim_matches(['[', ']']), port.parse::<i32>().ok()?)))
        .ok_or_else(|| Error::bad_field("allocation", format!("`{address}` is not IP:PORT")))?;
    let found = on_pool!(db, pool => {
        sqlx::query_as::<_, Allocation>(
            "SELECT id, node_id, ip, alias, port, server_id, notes FROM allocations WHERE node_id = $1 AND ip = $2 AND port = $3",
        )
        .bind(node.id)
        .bind(ip)
        .bind(port)
        .fetch_optional(pool)
        .await?
    });
    found.ok_or_else(|| {
        Error::NotFound(format!(
            "node {} has no allocation {address}; add it with `hatchery node allocate`",
            node.name
        ))
    })
}

/// Removes free allocations; refuses (removing nothing) if any is assigned to a server.
pub async fn remove_allocations(
    db: &Database,
    node: &Node,
    ip: &str,
    ports: &[u16],
) -> Result<usize> {
    let existing = allocations(db, node, false).await?;
    let chosen: Vec<&Allocation> = existing
        .iter()
        .filter(|a| a.ip == ip && ports.contains(&(a.port as u16)))
        .collect();
    if let Some(assigned) = chosen.iter().find(|a| a.server_id.is_some()) {
        return Err(Error::Conflict(format!(
            "{}:{} belongs to a server; move the server off it first",
            assigned.ip, assigned.port
        )));
    }
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        for allocation in &chosen {
            sqlx::query("DELETE FROM allocations WHERE id = $1 AND server_id IS NULL")
                .bind(allocation.id)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
    });
    Ok(chosen.len())
}

#[cfg(test)]
mod tests {
    use super::parse_ports;

    #[test]
    fn port_ranges_parse_and_bad_ones_say_why() {
        assert_eq!(parse_ports("25565").unwrap(), vec![25565]);
        assert_eq!(
            parse_ports("25565-25567, 27015").unwrap(),
            vec![25565, 25566, 25567, 27015]
        );
        assert!(
            parse_ports("80")
                .unwrap_err()
                .to_string()
                .contains("1024 to 65535")
        );
        assert!(
            parse_ports("30000-20000")
                .unwrap_err()
                .to_string()
                .contains("backwards")
        );
        assert!(
            parse_ports("20000-40000")
                .unwrap_err()
                .to_string()
                .contains("1000")
        );
        assert!(parse_ports("").is_err());
    }
}
