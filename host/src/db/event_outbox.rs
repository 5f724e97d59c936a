//! Events a short-lived process (the CLI) raised, waiting for a running panel to
//! deliver them to its plugins. A panel claims each row before publishing it, so when
//! several panels share the database each event is delivered once.

use hatchery_sdk::Event;

use super::{Database, on_pool};
use crate::error::Result;

/// Events claimed per poll.
const BATCH: i64 = 500;
/// Events nobody claimed are dropped after this long (no panel ran to hear them).
const KEEP_HOURS: i64 = 24;

/// Stores `events` for a running panel.
pub async fn append(db: &Database, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().to_rfc3339();
    on_pool!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        for event in events {
            sqlx::query(
                "INSERT INTO event_outbox (name, payload, source, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&event.name)
            .bind(&event.payload)
            .bind(&event.source)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Claims the oldest unclaimed events for `claimant`, in order, and forgets old rows.
pub async fn claim(db: &Database, claimant: &str) -> Result<Vec<Event>> {
    let rows: Vec<(i64, String, String, String)> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, name, payload, source FROM event_outbox WHERE claimed_by IS NULL \
             ORDER BY id LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(pool)
        .await?
    });
    let mut claimed = Vec::with_capacity(rows.len());
    for (id, name, payload, source) in rows {
        let won = on_pool!(db, pool => {
            sqlx::query("UPDATE event_outbox SET claimed_by = $1 WHERE id = $2 AND claimed_by IS NULL")
                .bind(claimant)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if won == 1 {
            claimed.push(Event {
                name,
                payload,
                source,
            });
        }
    }
    if !claimed.is_empty() {
        let cutoff = (chrono::Utc::now() - chrono::Duration::hours(KEEP_HOURS)).to_rfc3339();
        on_pool!(db, pool => {
            sqlx::query("DELETE FROM event_outbox WHERE claimed_by IS NOT NULL OR created_at < $1")
                .bind(&cutoff)
                .execute(pool)
                .await
                .map(drop)?
        });
    }
    Ok(claimed)
}
