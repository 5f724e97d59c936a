//! The activity log: who did what, to what, from where. Rows copy the actor's name so
//! the log still reads after a user is deleted.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Database, Page, on_pool};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ActivityEntry {
    pub id: i64,
    /// What happened, e.g. `server.power.start`, `admin.node.create`, `server.sftp.write`.
    pub event: String,
    pub actor_id: Option<i64>,
    /// The actor's username at the time (or `cli`, `wings`, `system`).
    pub actor: Option<String>,
    /// The administrator who acted as `actor`, when impersonating.
    pub impersonator_id: Option<i64>,
    pub ip: Option<String>,
    pub server_id: Option<i64>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    #[schema(value_type = Object)]
    pub properties: Value,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: i64,
    event: String,
    actor_id: Option<i64>,
    actor: Option<String>,
    impersonator_id: Option<i64>,
    ip: Option<String>,
    server_id: Option<i64>,
    subject_type: Option<String>,
    subject_id: Option<String>,
    properties: String,
    created_at: DateTime<Utc>,
}

impl From<ActivityRow> for ActivityEntry {
    fn from(row: ActivityRow) -> ActivityEntry {
        ActivityEntry {
            id: row.id,
            event: row.event,
            actor_id: row.actor_id,
            actor: row.actor,
            impersonator_id: row.impersonator_id,
            ip: row.ip,
            server_id: row.server_id,
            subject_type: row.subject_type,
            subject_id: row.subject_id,
            properties: serde_json::from_str(&row.properties).unwrap_or(Value::Null),
            created_at: row.created_at,
        }
    }
}

/// An entry to record; `created_at` defaults to now.
#[derive(Debug, Clone, Default)]
pub struct NewActivity {
    pub event: String,
    pub actor_id: Option<i64>,
    pub actor: Option<String>,
    pub impersonator_id: Option<i64>,
    pub ip: Option<String>,
    pub server_id: Option<i64>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub properties: Value,
    pub created_at: Option<DateTime<Utc>>,
}

const ACTIVITY_COLUMNS: &str = "id, event, actor_id, actor, impersonator_id, ip, server_id, subject_type, subject_id, properties, created_at";

pub async fn record(db: &Database, new: &NewActivity) -> Result<ActivityEntry> {
    let properties = if new.properties.is_null() {
        "{}".to_string()
    } else {
        new.properties.to_string()
    };
    let row = on_pool!(db, pool => {
        sqlx::query_as::<_, ActivityRow>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO activity_logs (event, actor_id, actor, impersonator_id, ip, server_id, subject_type, subject_id, properties, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {ACTIVITY_COLUMNS}"
        )))
        .bind(&new.event)
        .bind(new.actor_id)
        .bind(&new.actor)
        .bind(new.impersonator_id)
        .bind(&new.ip)
        .bind(new.server_id)
        .bind(&new.subject_type)
        .bind(&new.subject_id)
        .bind(&properties)
        .bind(new.created_at.unwrap_or_else(Utc::now))
        .fetch_one(pool)
        .await?
    });
    Ok(row.into())
}

/// What to show: everything, or narrowed by server, actor and event prefix.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub server_id: Option<i64>,
    pub actor_id: Option<i64>,
    /// `server.power` matches `server.power.start` and `server.power.stop`.
    pub event: Option<String>,
}

/// Newest first.
pub async fn page(
    db: &Database,
    filter: &ActivityFilter,
    page: &Page,
) -> Result<(Vec<ActivityEntry>, i64)> {
    let event_prefix = filter.event.as_deref().unwrap_or("");
    let exact = event_prefix.to_string();
    let nested = format!("{}.%", event_prefix.replace('%', "").replace('_', "\\_"));
    let condition = "($1 IS NULL OR server_id = $1) AND ($2 IS NULL OR actor_id = $2) \
                     AND ($3 = '' OR event = $3 OR event LIKE $4 ESCAPE '\\')";
    let (rows, total) = on_pool!(db, pool => {
        let rows = sqlx::query_as::<_, ActivityRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {ACTIVITY_COLUMNS} FROM activity_logs WHERE {condition} ORDER BY id DESC LIMIT $5 OFFSET $6"
        )))
        .bind(filter.server_id)
        .bind(filter.actor_id)
        .bind(&exact)
        .bind(&nested)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM activity_logs WHERE {condition}"
        )))
        .bind(filter.server_id)
        .bind(filter.actor_id)
        .bind(&exact)
        .bind(&nested)
        .fetch_one(pool)
        .await?;
        (rows, total)
    });
    Ok((rows.into_iter().map(ActivityEntry::from).collect(), total))
}
