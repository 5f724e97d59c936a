//! When each plugin timer is next due (`plugin_timers`), shared by every panel on the
//! database: a due time is taken by compare-and-set, so it fires once between them.

use super::{Database, on_pool};
use crate::error::Result;

/// Takes the due time of a timer that is due, moving it on; `None` when it is not due
/// or another panel took it.
pub async fn claim_due(
    db: &Database,
    plugin_id: &str,
    name: &str,
    key: &str,
    next: i64,
    now: i64,
) -> Result<Option<i64>> {
    Ok(on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO plugin_timers (plugin_id, name, schedule, next_due) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plugin_id, name) DO NOTHING",
        )
        .bind(plugin_id)
        .bind(name)
        .bind(key)
        .bind(next)
        .execute(pool)
        .await?;
        let (stored, due): (String, i64) = sqlx::query_as(
            "SELECT schedule, next_due FROM plugin_timers WHERE plugin_id = $1 AND name = $2",
        )
        .bind(plugin_id)
        .bind(name)
        .fetch_one(pool)
        .await?;
        if stored != key {
            // A new schedule counts from now.
            sqlx::query(
                "UPDATE plugin_timers SET schedule = $3, next_due = $4 \
                 WHERE plugin_id = $1 AND name = $2 AND schedule = $5",
            )
            .bind(plugin_id)
            .bind(name)
            .bind(key)
            .bind(next)
            .bind(&stored)
            .execute(pool)
            .await?;
            None
        } else if due > now {
            None
        } else {
            let taken = sqlx::query(
                "UPDATE plugin_timers SET next_due = $3 WHERE plugin_id = $1 AND name = $2 AND next_due = $4",
            )
            .bind(plugin_id)
            .bind(name)
            .bind(next)
            .bind(due)
            .execute(pool)
            .await?
            .rows_affected();
            (taken == 1).then_some(due)
        }
    }))
}
