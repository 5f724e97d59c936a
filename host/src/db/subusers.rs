//! Subusers: people other than the owner who may use a server, each with
//! Pterodactyl's permission strings (`control.console`, `file.sftp`, …).

use chrono::{DateTime, Utc};

use super::{Database, on_pool};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Subuser {
    pub user_id: i64,
    pub user_uuid: String,
    pub username: String,
    pub email: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SubuserRow {
    user_id: i64,
    user_uuid: String,
    username: String,
    email: String,
    permissions: String,
    created_at: DateTime<Utc>,
}

impl From<SubuserRow> for Subuser {
    fn from(row: SubuserRow) -> Subuser {
        Subuser {
            user_id: row.user_id,
            user_uuid: row.user_uuid,
            username: row.username,
            email: row.email,
            permissions: serde_json::from_str(&row.permissions).unwrap_or_default(),
            created_at: row.created_at,
        }
    }
}

const SUBUSER_SELECT: &str = "SELECT s.user_id, u.uuid AS user_uuid, u.username, u.email, s.permissions, s.created_at \
     FROM subusers s JOIN users u ON u.id = s.user_id";

pub async fn list(db: &Database, server_id: i64) -> Result<Vec<Subuser>> {
    let rows = on_pool!(db, pool => {
        sqlx::query_as::<_, SubuserRow>(sqlx::AssertSqlSafe(format!("{SUBUSER_SELECT} WHERE s.server_id = $1 ORDER BY s.id")))
            .bind(server_id)
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(Subuser::from).collect())
}

pub async fn find(db: &Database, server_id: i64, user_id: i64) -> Result<Option<Subuser>> {
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, SubuserRow>(sqlx::AssertSqlSafe(format!("{SUBUSER_SELECT} WHERE s.server_id = $1 AND s.user_id = $2")))
            .bind(server_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(Subuser::from))
}

/// The permissions `user_id` holds as a subuser of `server_id`, if they are one.
pub async fn permissions(
    db: &Database,
    server_id: i64,
    user_id: i64,
) -> Result<Option<Vec<String>>> {
    let stored: Option<String> = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT permissions FROM subusers WHERE server_id = $1 AND user_id = $2")
            .bind(server_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(stored.map(|json| serde_json::from_str(&json).unwrap_or_default()))
}

/// Adds a subuser, or replaces the permissions of an existing one. The permissions
/// are checked by the caller (see `policy::check_server_permissions`).
pub async fn upsert(
    db: &Database,
    server_id: i64,
    user_id: i64,
    permissions: &[String],
) -> Result<Subuser> {
    let mut sorted = permissions.to_vec();
    sorted.sort();
    sorted.dedup();
    let encoded = serde_json::to_string(&sorted).expect("strings encode");
    let now = Utc::now();
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO subusers (server_id, user_id, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (server_id, user_id) DO UPDATE SET permissions = excluded.permissions, updated_at = excluded.updated_at",
        )
        .bind(server_id)
        .bind(user_id)
        .bind(&encoded)
        .bind(now)
        .execute(pool)
        .await?;
    });
    find(db, server_id, user_id)
        .await?
        .ok_or_else(|| Error::NotFound("the subuser vanished while being saved".into()))
}

pub async fn delete(db: &Database, server_id: i64, user_id: i64) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        sqlx::query("DELETE FROM subusers WHERE server_id = $1 AND user_id = $2")
            .bind(server_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted > 0)
}
