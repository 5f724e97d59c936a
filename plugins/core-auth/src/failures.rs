//! Limits on failed sign-ins, per address and per account, kept in the database so
//! every panel process counts the same attempts.

use hatchery_sdk::{DbValue, Error, host};

/// Counts failures under one key (`account:<login>`, `address:<ip>`) in a window that
/// starts with the first failure.
pub struct Limit<'a> {
    pub key: &'a str,
    pub allowed: i64,
}

/// Seconds until `limit`'s window ends, when it has used up its failures.
pub fn wait_for(limit: &Limit<'_>, window: i64, now: i64) -> Result<Option<i64>, Error> {
    let rows = host::query(
        "SELECT failures, window_started_at FROM core_auth__failures WHERE key = $1",
        &[limit.key.into()],
    )?;
    let Some(row) = rows.iter().next() else {
        return Ok(None);
    };
    let failures = row.get("failures").and_then(DbValue::as_i64).unwrap_or(0);
    let started = row
        .get("window_started_at")
        .and_then(DbValue::as_i64)
        .unwrap_or(0);
    let ends = started + window;
    Ok((ends > now && failures >= limit.allowed).then_some(ends - now))
}

/// The longest window anything is counted over.
const LONGEST_WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// Counts one failure under `key`; a window that has ended starts again.
pub fn record(key: &str, window: i64, now: i64) -> Result<(), Error> {
    host::execute(
        "INSERT INTO core_auth__failures (key, failures, window_started_at) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN core_auth__failures.window_started_at <= $3 THEN 1 \
                      ELSE core_auth__failures.failures + 1 END, \
           window_started_at = CASE WHEN core_auth__failures.window_started_at <= $3 THEN $2 \
                      ELSE core_auth__failures.window_started_at END",
        &[key.into(), now.into(), (now - window).into()],
    )?;
    // Windows that ended long ago are forgotten, so the table stays small. Keys count
    // over different windows; none is longer than a day (the settings' limit).
    host::execute(
        "DELETE FROM core_auth__failures WHERE window_started_at < $1",
        &[(now - LONGEST_WINDOW_SECONDS).into()],
    )?;
    Ok(())
}

/// Sign-ins anyone may begin from one address in a window (passkey ceremonies, trips to
/// an identity provider): each leaves state behind for minutes, so a flood must not.
const STARTS_PER_ADDRESS: i64 = 60;
const STARTS_WINDOW_SECONDS: i64 = 300;

/// Counts a sign-in begun from the caller's address; too many is a 429.
pub fn count_start(address: Option<&str>, now: i64) -> Result<(), Error> {
    let key = format!("starts:{}", address.unwrap_or("unknown"));
    let limit = Limit {
        key: &key,
        allowed: STARTS_PER_ADDRESS,
    };
    if wait_for(&limit, STARTS_WINDOW_SECONDS, now)?.is_some() {
        return Err(Error::too_many_requests(
            "too many sign-ins begun from this address; try again in a few minutes",
        ));
    }
    record(&key, STARTS_WINDOW_SECONDS, now)
}

/// Forgets the failures under `key` (after its owner signed in).
pub fn clear(key: &str) -> Result<(), Error> {
    host::execute(
        "DELETE FROM core_auth__failures WHERE key = $1",
        &[key.into()],
    )?;
    Ok(())
}
