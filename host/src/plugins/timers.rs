//! Plugin timers (contract 1.1): each `[[timers]]` entry of an enabled plugin is sent
//! to it as the event `timer.<name>` when due. Due times live in `plugin_timers`; a
//! panel fires a timer only after moving its due time on with a compare-and-set, so
//! panels sharing a database fire each due time once. A panel that was down fires a
//! missed timer once when it is back, not once per missed period.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hatchery_sdk::Event;
use serde_json::json;

use super::LoadedPlugin;
use super::manifest::Schedule;
use crate::db::{Database, plugin_timers};
use crate::error::Result;

/// The schedule as stored, so a changed manifest starts afresh.
fn schedule_key(schedule: Schedule) -> String {
    match schedule {
        Schedule::Every(every) => format!("every:{}", every.as_secs()),
        Schedule::DailyAt(seconds) => format!("at:{seconds}"),
    }
}

/// The first due time strictly after `now` (unix milliseconds).
pub fn next_after(schedule: Schedule, now: i64) -> i64 {
    match schedule {
        Schedule::Every(every) => now + i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 2),
        Schedule::DailyAt(seconds) => {
            const DAY: i64 = 86_400_000;
            let midnight = now - now.rem_euclid(DAY);
            let today = midnight + i64::from(seconds) * 1000;
            if today > now { today } else { today + DAY }
        }
    }
}

/// Fires every due timer of `plugins`; each firing runs in its own task.
pub async fn fire_due(db: &Database, plugins: Vec<Arc<LoadedPlugin>>) {
    let now = Utc::now().timestamp_millis();
    for plugin in plugins {
        for timer in &plugin.manifest.timers {
            let Ok(schedule) = timer.schedule() else {
                continue;
            };
            match claim(db, &plugin.manifest.id, &timer.name, schedule, now).await {
                Ok(Some(due)) => {
                    let plugin = plugin.clone();
                    let name = timer.name.clone();
                    tokio::spawn(async move { fire(&plugin, &name, due).await });
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(plugin = %plugin.manifest.id, timer = %timer.name, "cannot check the timer: {err}");
                }
            }
        }
    }
}

async fn fire(plugin: &LoadedPlugin, name: &str, due: i64) {
    let due = DateTime::<Utc>::from_timestamp_millis(due).unwrap_or_default();
    let event = Event {
        name: format!("timer.{name}"),
        payload: json!({ "timer": name, "due": due.to_rfc3339() }).to_string(),
        source: "host".into(),
    };
    if let Err(err) = plugin.code.handle_event(event).await {
        tracing::warn!(plugin = %plugin.manifest.id, timer = name, "the timer's handler failed: {err}");
    }
}

/// Takes timer `name`'s due time if it has come (see [`plugin_timers::claim_due`]).
async fn claim(
    db: &Database,
    plugin_id: &str,
    name: &str,
    schedule: Schedule,
    now: i64,
) -> Result<Option<i64>> {
    let key = schedule_key(schedule);
    let next = next_after(schedule, now);
    plugin_timers::claim_due(db, plugin_id, name, &key, next, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times() {
        let every = Schedule::Every(std::time::Duration::from_secs(60));
        assert_eq!(next_after(every, 1_000), 61_000);
        // 03:30 UTC: later today, or tomorrow once it has passed.
        let at = Schedule::DailyAt(3 * 3600 + 30 * 60);
        let day = 86_400_000;
        let three = 3 * 3_600_000;
        assert_eq!(
            next_after(at, 10 * day + three),
            10 * day + three + 1_800_000
        );
        assert_eq!(
            next_after(at, 10 * day + three + 1_800_000),
            11 * day + three + 1_800_000
        );
    }
}
