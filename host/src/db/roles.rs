//! Roles: named sets of admin permissions, assignable to users.

use chrono::{DateTime, Utc};

use super::{Database, on_pool};
use crate::error::{Error, Result};
use crate::policy;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    id: i64,
    name: String,
    description: String,
    permissions: String,
    created_at: DateTime<Utc>,
}

impl From<RoleRow> for Role {
    fn from(row: RoleRow) -> Role {
        Role {
            id: row.id,
            name: row.name,
            description: row.description,
            permissions: serde_json::from_str(&row.permissions).unwrap_or_default(),
            created_at: row.created_at,
        }
    }
}

const ROLE_COLUMNS: &str = "id, name, description, permissions, created_at";

fn validate(name: &str, permissions: &[String]) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(Error::bad_field(
            "name",
            "a role name is 1 to 64 characters",
        ));
    }
    policy::check_admin_permissions(permissions)?;
    let mut sorted = permissions.to_vec();
    sorted.sort();
    sorted.dedup();
    Ok(serde_json::to_string(&sorted).expect("strings encode"))
}

pub async fn create(
    db: &Database,
    name: &str,
    description: &str,
    permissions: &[String],
) -> Result<Role> {
    let encoded = validate(name, permissions)?;
    let now = Utc::now();
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO roles (name, description, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             RETURNING {ROLE_COLUMNS}"
        )))
        .bind(name.trim())
        .bind(description)
        .bind(&encoded)
        .bind(now)
        .fetch_one(pool)
        .await
    });
    row.map(Role::from).map_err(name_taken)
}

pub async fn update(
    db: &Database,
    role: &Role,
    name: Option<&str>,
    description: Option<&str>,
    permissions: Option<&[String]>,
) -> Result<Role> {
    let name = name.unwrap_or(&role.name);
    let encoded = validate(name, permissions.unwrap_or(&role.permissions))?;
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(format!(
            "UPDATE roles SET name = $2, description = $3, permissions = $4, updated_at = $5 WHERE id = $1 \
             RETURNING {ROLE_COLUMNS}"
        )))
        .bind(role.id)
        .bind(name.trim())
        .bind(description.unwrap_or(&role.description))
        .bind(&encoded)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    row.map(Role::from).map_err(name_taken)
}

fn name_taken(err: sqlx::Error) -> Error {
    match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
            Error::Conflict("a role with that name already exists".into())
        }
        _ => Error::Database(err),
    }
}

/// Deletes a role; its users keep their accounts and lose its permissions.
pub async fn delete(db: &Database, role: &Role) -> Result<()> {
    on_pool!(db, pool => {
        let mut transaction = pool.begin_with(db.begin_write()).await?;
        sqlx::query("UPDATE users SET role_id = NULL WHERE role_id = $1")
            .bind(role.id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM roles WHERE id = $1").bind(role.id).execute(&mut *transaction).await?;
        transaction.commit().await?;
    });
    Ok(())
}

pub async fn list(db: &Database) -> Result<Vec<Role>> {
    let rows = on_pool!(db, pool => {
        sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(format!("SELECT {ROLE_COLUMNS} FROM roles ORDER BY name")))
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(Role::from).collect())
}

/// A role by id or name.
pub async fn find(db: &Database, key: &str) -> Result<Option<Role>> {
    let id = key.parse::<i64>().unwrap_or(-1);
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE id = $1 OR name = $2 LIMIT 1"
        )))
        .bind(id)
        .bind(key)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(Role::from))
}
