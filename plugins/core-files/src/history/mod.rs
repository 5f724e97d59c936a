//! The edit history: every save of a text file becomes a revision — who, when, how,
//! size and SHA-256 — numbered from 1 per file. Revisions are stored as deltas from
//! the previous one with a whole snapshot at least every [`SNAPSHOT_EVERY`], deflated;
//! reading one rebuilds it from the snapshot before it and checks its hash, so damage
//! is reported, never handed out. Limits per file (count, age) and per server (bytes)
//! drop the oldest revisions first, and a file's newest revision is always kept.

pub mod delta;
pub mod diff;

use hatchery_sdk::{DbValue, Error, host};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The longest run of deltas before another snapshot: bounds the work of a read.
const SNAPSHOT_EVERY: i64 = 20;
/// The largest revision ever rebuilt, whatever the settings say today.
const REBUILD_LIMIT: usize = 64 * 1024 * 1024;

/// What the administrator allows (settings `history_*`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Limits {
    #[serde(rename = "history_max_file_bytes")]
    pub max_file_bytes: u64,
    #[serde(rename = "history_revisions_per_file")]
    pub revisions_per_file: i64,
    #[serde(rename = "history_days")]
    pub days: i64,
    #[serde(rename = "history_bytes_per_server")]
    pub bytes_per_server: i64,
}

/// One save to keep.
pub struct Save<'a> {
    pub server: &'a str,
    pub path: &'a str,
    pub content: &'a [u8],
    pub user_id: Option<i64>,
    pub username: Option<&'a str>,
    /// `web`, `api`, `sftp`, `upload`, `restore`, `original` (the file as it was
    /// before its first save here), `plugin:<id>`.
    pub via: &'a str,
    pub restored_from: Option<i64>,
}

/// A revision as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub revision: i64,
    pub created_at: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub via: String,
    pub size: i64,
    pub sha256: String,
    /// Bytes it takes in the store (a delta is much smaller than the file).
    pub stored_bytes: i64,
    pub snapshot: bool,
    pub restored_from: Option<i64>,
}

/// Whether a save of `content` is kept: text (no NUL byte) within the size limit.
pub fn keeps(content: &[u8], limits: &Limits) -> bool {
    content.len() as u64 <= limits.max_file_bytes && !content.contains(&0)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default()
}

const COLUMNS: &str =
    "seq, created_at, user_id, username, via, size, sha256, stored_bytes, snapshot, restored_from";

fn revision(row: &hatchery_sdk::Row<'_>) -> Revision {
    let int = |name: &str| row.get(name).and_then(DbValue::as_i64);
    let text = |name: &str| row.get(name).and_then(DbValue::as_str).map(str::to_string);
    Revision {
        revision: int("seq").unwrap_or_default(),
        created_at: chrono::DateTime::from_timestamp(int("created_at").unwrap_or_default(), 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        user_id: int("user_id"),
        username: text("username"),
        via: text("via").unwrap_or_default(),
        size: int("size").unwrap_or_default(),
        sha256: text("sha256").unwrap_or_default(),
        stored_bytes: int("stored_bytes").unwrap_or_default(),
        snapshot: int("snapshot") == Some(1),
        restored_from: int("restored_from"),
    }
}

/// Keeps `save` as the file's next revision, unless it is not kept at all or equals
/// the newest (a save that changed nothing, or one heard of twice). Then applies the
/// limits.
pub fn record(save: &Save<'_>, limits: &Limits) -> Result<Option<Revision>, Error> {
    if !keeps(save.content, limits) {
        return Ok(None);
    }
    let hash = sha256_hex(save.content);
    let mut attempts = 0;
    let kept = loop {
        attempts += 1;
        let newest = newest(save.server, save.path)?;
        if newest.as_ref().is_some_and(|newest| newest.sha256 == hash) {
            return Ok(None);
        }
        let seq = newest.as_ref().map_or(1, |newest| newest.revision + 1);
        let (snapshot, data) = stored_form(save, newest.as_ref())?;
        let inserted = host::execute(
            "INSERT INTO core_files__revisions \
             (server, path, seq, created_at, user_id, username, via, size, sha256, snapshot, data, stored_bytes, restored_from) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                save.server.into(),
                save.path.into(),
                seq.into(),
                now().into(),
                save.user_id.into(),
                save.username.into(),
                save.via.into(),
                (save.content.len() as i64).into(),
                hash.as_str().into(),
                i64::from(snapshot).into(),
                DbValue::Blob(data.clone()),
                (data.len() as i64).into(),
                save.restored_from.into(),
            ],
        );
        match inserted {
            Ok(_) => break seq,
            // Another save of this file took the number first: look again.
            Err(_) if attempts < 3 => continue,
            Err(err) => return Err(err.into()),
        }
    };
    apply_limits(save.server, save.path, limits)?;
    one(save.server, save.path, kept)
}

fn one(server: &str, path: &str, seq: i64) -> Result<Option<Revision>, Error> {
    let rows = host::query(
        &format!(
            "SELECT {COLUMNS} FROM core_files__revisions \
             WHERE server = $1 AND path = $2 AND seq = $3"
        ),
        &[server.into(), path.into(), seq.into()],
    )?;
    Ok(rows.iter().next().map(|row| revision(&row)))
}

/// How a new revision is stored: a delta from `newest` when that is clearly smaller
/// and the run of deltas is short, else a snapshot.
fn stored_form(save: &Save<'_>, newest: Option<&Revision>) -> Result<(bool, Vec<u8>), Error> {
    let whole = || (true, delta::pack(save.content));
    let Some(newest) = newest else {
        return Ok(whole());
    };
    if newest.revision - last_snapshot(save.server, save.path, newest.revision)? + 1
        >= SNAPSHOT_EVERY
    {
        return Ok(whole());
    }
    // A damaged chain starts again from a snapshot rather than building on it.
    let Ok(previous) = contents(save.server, save.path, newest.revision) else {
        return Ok(whole());
    };
    let packed = delta::pack(&delta::encode(&previous, save.content));
    if packed.len() * 4 <= save.content.len().max(64) {
        Ok((false, packed))
    } else {
        let (snapshot, whole) = whole();
        Ok(if packed.len() < whole.len() {
            (false, packed)
        } else {
            (snapshot, whole)
        })
    }
}

pub fn newest(server: &str, path: &str) -> Result<Option<Revision>, Error> {
    let rows = host::query(
        &format!(
            "SELECT {COLUMNS} FROM core_files__revisions WHERE server = $1 AND path = $2 \
             ORDER BY seq DESC LIMIT 1"
        ),
        &[server.into(), path.into()],
    )?;
    Ok(rows.iter().next().map(|row| revision(&row)))
}

fn last_snapshot(server: &str, path: &str, at_or_before: i64) -> Result<i64, Error> {
    let rows = host::query(
        "SELECT MAX(seq) AS seq FROM core_files__revisions \
         WHERE server = $1 AND path = $2 AND seq <= $3 AND snapshot = 1",
        &[server.into(), path.into(), at_or_before.into()],
    )?;
    Ok(rows
        .iter()
        .next()
        .and_then(|row| row.get("seq").and_then(DbValue::as_i64))
        .unwrap_or(0))
}

/// A file's revisions, newest first.
pub fn revisions(server: &str, path: &str) -> Result<Vec<Revision>, Error> {
    let rows = host::query(
        &format!(
            "SELECT {COLUMNS} FROM core_files__revisions WHERE server = $1 AND path = $2 \
             ORDER BY seq DESC"
        ),
        &[server.into(), path.into()],
    )?;
    Ok(rows.iter().map(|row| revision(&row)).collect())
}

/// The bytes of one revision, rebuilt from the snapshot before it and checked against
/// the hash recorded when it was saved.
pub fn contents(server: &str, path: &str, seq: i64) -> Result<Vec<u8>, Error> {
    let rows = host::query(
        "SELECT seq, snapshot, data, sha256 FROM core_files__revisions \
         WHERE server = $1 AND path = $2 AND seq <= $3 AND seq >= $4 ORDER BY seq",
        &[
            server.into(),
            path.into(),
            seq.into(),
            last_snapshot(server, path, seq)?.into(),
        ],
    )?;
    let damaged = |why: &str| {
        Error::new(
            500,
            "history_damaged",
            format!("revision {seq} of {path} cannot be rebuilt: {why}"),
        )
    };
    let mut chain = rows.iter();
    let Some(first) = chain.next() else {
        return Err(Error::not_found(format!("{path} has no revision {seq}")));
    };
    if first.get("snapshot").and_then(DbValue::as_i64) != Some(1) {
        return Err(damaged("the snapshot it builds on is missing"));
    }
    let data = |row: &hatchery_sdk::Row<'_>| {
        row.get("data")
            .and_then(DbValue::as_bytes)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    };
    let mut content =
        delta::unpack(&data(&first), REBUILD_LIMIT).map_err(|err| damaged(&format!("{err:?}")))?;
    let mut last = first;
    for row in chain {
        let ops = delta::unpack(&data(&row), REBUILD_LIMIT)
            .map_err(|err| damaged(&format!("{err:?}")))?;
        content = delta::apply(&content, &ops, REBUILD_LIMIT)
            .map_err(|err| damaged(&format!("{err:?}")))?;
        last = row;
    }
    if last.get("seq").and_then(DbValue::as_i64) != Some(seq) {
        return Err(Error::not_found(format!("{path} has no revision {seq}")));
    }
    if last.get("sha256").and_then(DbValue::as_str) != Some(sha256_hex(&content).as_str()) {
        return Err(damaged(
            "its bytes do not match the hash recorded when it was saved",
        ));
    }
    Ok(content)
}

/// Drops a file's revisions beyond the count or older than the age limit (never the
/// newest), then the server's oldest while it is over its byte limit.
fn apply_limits(server: &str, path: &str, limits: &Limits) -> Result<(), Error> {
    let rows = host::query(
        "SELECT seq, created_at FROM core_files__revisions \
         WHERE server = $1 AND path = $2 ORDER BY seq DESC",
        &[server.into(), path.into()],
    )?;
    let cutoff = (limits.days > 0).then(|| now() - limits.days * 86_400);
    let kept: Vec<i64> = rows
        .iter()
        .enumerate()
        .take(limits.revisions_per_file.max(1) as usize)
        .take_while(|(index, row)| {
            *index == 0
                || cutoff.is_none_or(|cutoff| {
                    row.get("created_at").and_then(DbValue::as_i64).unwrap_or(0) >= cutoff
                })
        })
        .filter_map(|(_, row)| row.get("seq").and_then(DbValue::as_i64))
        .collect();
    if let Some(&oldest_kept) = kept.last()
        && kept.len() < rows.rows.len()
    {
        drop_before(server, path, oldest_kept)?;
    }
    // Bounded: each pass drops one revision.
    for _ in 0..10_000 {
        let total = host::query(
            "SELECT CAST(COALESCE(SUM(stored_bytes), 0) AS BIGINT) AS total FROM core_files__revisions WHERE server = $1",
            &[server.into()],
        )?
        .iter()
        .next()
        .and_then(|row| row.get("total").and_then(DbValue::as_i64))
        .unwrap_or(0);
        if total <= limits.bytes_per_server {
            break;
        }
        let oldest = host::query(
            "SELECT r.path AS path, r.seq AS seq FROM core_files__revisions r \
             WHERE r.server = $1 AND r.seq < (SELECT MAX(n.seq) FROM core_files__revisions n \
               WHERE n.server = r.server AND n.path = r.path) \
             ORDER BY r.created_at, r.id LIMIT 1",
            &[server.into()],
        )?;
        let Some(row) = oldest.iter().next() else {
            break;
        };
        let (Some(path), Some(seq)) = (
            row.get("path").and_then(DbValue::as_str),
            row.get("seq").and_then(DbValue::as_i64),
        ) else {
            break;
        };
        let next = host::query(
            "SELECT MIN(seq) AS seq FROM core_files__revisions WHERE server = $1 AND path = $2 AND seq > $3",
            &[server.into(), path.into(), seq.into()],
        )?
        .iter()
        .next()
        .and_then(|row| row.get("seq").and_then(DbValue::as_i64));
        match next {
            Some(next) => drop_before(server, path, next)?,
            None => break,
        }
    }
    Ok(())
}

/// Drops a file's revisions before `first_kept`, which becomes a snapshot first so
/// the ones after it still rebuild.
fn drop_before(server: &str, path: &str, first_kept: i64) -> Result<(), Error> {
    if last_snapshot(server, path, first_kept)? != first_kept {
        let content = contents(server, path, first_kept)?;
        let packed = delta::pack(&content);
        host::execute(
            "UPDATE core_files__revisions SET snapshot = 1, data = $1, stored_bytes = $2 \
             WHERE server = $3 AND path = $4 AND seq = $5",
            &[
                DbValue::Blob(packed.clone()),
                (packed.len() as i64).into(),
                server.into(),
                path.into(),
                first_kept.into(),
            ],
        )?;
    }
    host::execute(
        "DELETE FROM core_files__revisions WHERE server = $1 AND path = $2 AND seq < $3",
        &[server.into(), path.into(), first_kept.into()],
    )?;
    Ok(())
}

/// The history of `from` (a file, or everything below a folder) follows it to `to`.
pub fn moved(server: &str, from: &str, to: &str) -> Result<(), Error> {
    let rows = host::query(
        "SELECT DISTINCT path FROM core_files__revisions WHERE server = $1",
        &[server.into()],
    )?;
    let inside = format!("{from}/");
    for row in rows.iter() {
        let Some(path) = row.get("path").and_then(DbValue::as_str) else {
            continue;
        };
        let new_path = if path == from {
            to.to_string()
        } else if let Some(rest) = path.strip_prefix(&inside) {
            format!("{to}/{rest}")
        } else {
            continue;
        };
        // What the moved file replaces keeps no history of its own.
        host::execute(
            "DELETE FROM core_files__revisions WHERE server = $1 AND path = $2",
            &[server.into(), new_path.as_str().into()],
        )?;
        host::execute(
            "UPDATE core_files__revisions SET path = $1 WHERE server = $2 AND path = $3",
            &[new_path.into(), server.into(), path.into()],
        )?;
    }
    Ok(())
}

/// Forgets a deleted server's history.
pub fn forget_server(server: &str) -> Result<(), Error> {
    host::execute(
        "DELETE FROM core_files__revisions WHERE server = $1",
        &[server.into()],
    )?;
    Ok(())
}

/// What a server's history holds.
#[derive(Debug, Serialize)]
pub struct Usage {
    pub files: i64,
    pub revisions: i64,
    pub stored_bytes: i64,
}

pub fn usage(server: &str) -> Result<Usage, Error> {
    let rows = host::query(
        "SELECT COUNT(DISTINCT path) AS files, COUNT(*) AS revisions, \
         CAST(COALESCE(SUM(stored_bytes), 0) AS BIGINT) AS stored_bytes \
         FROM core_files__revisions WHERE server = $1",
        &[server.into()],
    )?;
    let row = rows.iter().next();
    let int = |name: &str| {
        row.as_ref()
            .and_then(|row| row.get(name).and_then(DbValue::as_i64))
            .unwrap_or(0)
    };
    Ok(Usage {
        files: int("files"),
        revisions: int("revisions"),
        stored_bytes: int("stored_bytes"),
    })
}
