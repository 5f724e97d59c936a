//! The services a plugin may call, with its grants enforced on every call. Both
//! runtimes forward their host calls here, so the rules are the same for Wasm and
//! native plugins.

use std::sync::Arc;

use futures_util::TryStreamExt;
use hatchery_sdk::{DbRows, DbValue, Dialect, Event, LogLevel};
use sqlx::{AssertSqlSafe, Column, Row, TypeInfo, ValueRef};

use super::manifest::Capabilities;
use crate::db::{Database, on_pool, sql_guard};
use crate::events::EventBus;

/// Rows a single query may return; more is almost always a missing `LIMIT`.
pub const MAX_QUERY_ROWS: usize = 10_000;
/// Largest event payload a plugin may publish.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
const MAX_LOG_LINE: usize = 8 * 1024;

pub struct HostServices {
    plugin_id: String,
    table_prefix: String,
    grants: Capabilities,
    db: Database,
    events: Arc<EventBus>,
}

impl HostServices {
    pub fn new(plugin_id: &str, grants: Capabilities, db: Database, events: Arc<EventBus>) -> Self {
        HostServices {
            plugin_id: plugin_id.to_string(),
            table_prefix: sql_guard::table_prefix(plugin_id),
            grants,
            db,
            events,
        }
    }

    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }

    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        let message = truncate(message, MAX_LOG_LINE);
        let plugin = self.plugin_id.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn check_sql(&self, sql: &str) -> Result<(), String> {
        if !self.grants.database {
            return Err("the database capability was not granted to this plugin".into());
        }
        sql_guard::check(self.db.dialect(), sql, &self.table_prefix, true)
    }

    pub async fn db_execute(&self, sql: &str, params: Vec<DbValue>) -> Result<u64, String> {
        self.check_sql(sql)?;
        let result = on_pool!(&self.db, pool => {
            bind_all(sqlx::query(AssertSqlSafe(sql)), params)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        });
        result.map_err(|err| format!("database error: {err}"))
    }

    pub async fn db_query(&self, sql: &str, params: Vec<DbValue>) -> Result<DbRows, String> {
        self.check_sql(sql)?;
        on_pool!(&self.db, pool => {
            let mut stream = bind_all(sqlx::query(AssertSqlSafe(sql)), params).fetch(pool);
            let mut rows = DbRows::default();
            while let Some(row) = stream
                .try_next()
                .await
                .map_err(|err| format!("database error: {err}"))?
            {
                if rows.rows.len() >= MAX_QUERY_ROWS {
                    return Err(format!(
                        "the query returns more than {MAX_QUERY_ROWS} rows; add a LIMIT and page through them"
                    ));
                }
                if rows.columns.is_empty() {
                    rows.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                }
                rows.rows.push(row.to_values()?);
            }
            Ok(rows)
        })
    }

    /// Publishes `<plugin-id>.<name>`.
    pub fn emit(&self, name: &str, payload: &str) -> Result<(), String> {
        if !self.grants.emit {
            return Err("the emit capability was not granted to this plugin".into());
        }
        let valid_name = !name.is_empty()
            && name.len() <= 128
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
            });
        if !valid_name {
            return Err(format!(
                "event name `{name}` must be lowercase letters, digits, '.', '-' or '_'"
            ));
        }
        if payload.len() > MAX_EVENT_BYTES {
            return Err(format!(
                "event payload is larger than {MAX_EVENT_BYTES} bytes"
            ));
        }
        serde_json::from_str::<serde_json::Value>(payload)
            .map_err(|err| format!("event payload is not JSON: {err}"))?;
        self.events.publish(Event {
            name: format!("{}.{name}", self.plugin_id),
            payload: payload.to_string(),
            source: self.plugin_id.clone(),
        });
        Ok(())
    }
}

/// Binds plugin values to a query of either dialect.
fn bind_all<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    params: Vec<DbValue>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for param in params {
        // Untyped NULLs bind as integers, which both dialects cast on assignment.
        query = match param {
            DbValue::Null => query.bind(None::<i64>),
            DbValue::Integer(v) => query.bind(v),
            DbValue::Real(v) => query.bind(v),
            DbValue::Text(v) => query.bind(v),
            DbValue::Blob(v) => query.bind(v),
        };
    }
    query
}

/// Converts a result row into plugin values, per dialect.
trait ToValues {
    fn to_values(&self) -> Result<Vec<DbValue>, String>;
}

impl ToValues for sqlx::sqlite::SqliteRow {
    fn to_values(&self) -> Result<Vec<DbValue>, String> {
        row_values(self, sqlite_value)
    }
}

impl ToValues for sqlx::postgres::PgRow {
    fn to_values(&self) -> Result<Vec<DbValue>, String> {
        row_values(self, postgres_value)
    }
}

/// Reads every column, giving NULLs directly and the rest to `decode` with the
/// column's type name.
fn row_values<R>(
    row: &R,
    decode: fn(&R, usize, &str) -> Result<DbValue, sqlx::Error>,
) -> Result<Vec<DbValue>, String>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
{
    (0..row.len())
        .map(|index| {
            let raw = row.try_get_raw(index).map_err(|err| err.to_string())?;
            if raw.is_null() {
                return Ok(DbValue::Null);
            }
            let kind = raw.type_info().name().to_string();
            match decode(row, index, &kind) {
                Ok(value) => Ok(value),
                Err(sqlx::Error::TypeNotFound { type_name }) => Err(format!(
                    "column {} has type {type_name}, which plugins cannot read; cast it to text in the query",
                    row.columns()[index].name()
                )),
                Err(err) => Err(err.to_string()),
            }
        })
        .collect()
}

fn sqlite_value(
    row: &sqlx::sqlite::SqliteRow,
    index: usize,
    kind: &str,
) -> Result<DbValue, sqlx::Error> {
    Ok(match kind {
        "INTEGER" | "BOOLEAN" | "INT8" | "BIGINT" => DbValue::Integer(row.try_get(index)?),
        "REAL" | "NUMERIC" => DbValue::Real(row.try_get(index)?),
        "BLOB" => DbValue::Blob(row.try_get(index)?),
        _ => DbValue::Text(row.try_get(index)?),
    })
}

fn postgres_value(
    row: &sqlx::postgres::PgRow,
    index: usize,
    kind: &str,
) -> Result<DbValue, sqlx::Error> {
    Ok(match kind {
        "INT2" => DbValue::Integer(row.try_get::<i16, _>(index)?.into()),
        "INT4" => DbValue::Integer(row.try_get::<i32, _>(index)?.into()),
        "INT8" => DbValue::Integer(row.try_get(index)?),
        "BOOL" => DbValue::Integer(row.try_get::<bool, _>(index)?.into()),
        "FLOAT4" => DbValue::Real(row.try_get::<f32, _>(index)?.into()),
        "FLOAT8" => DbValue::Real(row.try_get(index)?),
        "BYTEA" => DbValue::Blob(row.try_get(index)?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" => DbValue::Text(row.try_get(index)?),
        "TIMESTAMPTZ" => DbValue::Text(
            row.try_get::<chrono::DateTime<chrono::Utc>, _>(index)?
                .to_rfc3339(),
        ),
        "JSON" | "JSONB" => DbValue::Text(row.try_get::<serde_json::Value, _>(index)?.to_string()),
        other => {
            return Err(sqlx::Error::TypeNotFound {
                type_name: other.to_string(),
            });
        }
    })
}

fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
