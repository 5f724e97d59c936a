//! The edit history's routes (`/files/history…`) and the saves heard as events.
//!
//! Saves through this plugin's `write` are kept as they happen. Every other save —
//! over SFTP (wings reports it with its activity, within seconds), by an upload, by
//! another plugin — arrives as `file.written`, and the file is read then; a save that
//! changed nothing since the newest revision adds none.

use hatchery_sdk::{ActivityEntry, Error, Request, Response, host};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::history::{self, Save, diff};
use crate::manager::file_query;
use crate::{limits, paths, server};

/// What this plugin's own writes are published as; those are kept already.
const OWN_WRITES: &str = "plugin:core-files";

fn revision_number(request: &Request, name: &str) -> Result<Option<i64>, Error> {
    request
        .query_value(name)
        .filter(|value| !value.is_empty())
        .map(|value| {
            value
                .parse()
                .map_err(|_| Error::bad_request(format!("{name} is a revision number")))
        })
        .transpose()
}

/// A file's revisions, newest first.
pub fn list(request: &Request) -> Result<Response, Error> {
    let revisions = history::revisions(server(request)?, &file_query(request)?)?;
    Ok(Response::json(
        &json!({ "object": "list", "data": revisions }),
    ))
}

/// The bytes of one revision.
pub fn contents(request: &Request) -> Result<Response, Error> {
    let revision = revision_number(request, "revision")?
        .ok_or_else(|| Error::bad_request("name the revision: ?revision=<number>"))?;
    let bytes = history::contents(server(request)?, &file_query(request)?, revision)?;
    Ok(Response {
        status: 200,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: bytes,
    })
}

/// What changed from revision `from` to `to`. `to` defaults to the newest revision
/// and may be `current` (the file as it is now); `from` defaults to the revision
/// before `to`.
pub fn diff(request: &Request) -> Result<Response, Error> {
    let server = server(request)?;
    let path = file_query(request)?;
    let revisions = history::revisions(server, &path)?;
    let Some(newest) = revisions.first() else {
        return Err(Error::not_found(format!("{path} has no history")));
    };
    let current = request.query_value("to").as_deref() == Some("current");
    let to = match current {
        true => None,
        false => Some(revision_number(request, "to")?.unwrap_or(newest.revision)),
    };
    let from = match revision_number(request, "from")? {
        Some(from) => from,
        None => revisions
            .iter()
            .map(|revision| revision.revision)
            .find(|&revision| to.is_none_or(|to| revision < to))
            .ok_or_else(|| {
                Error::bad_request("the first revision has nothing before it: name `from`")
            })?,
    };
    let old = history::contents(server, &path, from)?;
    let (new, new_name) = match to {
        Some(to) => (
            history::contents(server, &path, to)?,
            format!("{path} (revision {to})"),
        ),
        None => (host::files::read(server, &path)?, format!("{path} (now)")),
    };
    let diff = diff::between(&old, &new, &format!("{path} (revision {from})"), &new_name);
    Ok(Response::json(&json!({
        "data": {
            "from": from,
            "to": to.map_or(json!("current"), Value::from),
            "added": diff.added,
            "removed": diff.removed,
            "hunks": diff.hunks,
            "unified": diff.unified,
        }
    })))
}

#[derive(Deserialize)]
struct RestoreBody {
    file: String,
    revision: i64,
}

/// Writes an old revision back, as the caller (who needs `file.update`, or
/// `file.create` for a file deleted since); the restore is itself a revision.
pub fn restore(request: &Request) -> Result<Response, Error> {
    let server = server(request)?;
    let body: RestoreBody = request.json()?;
    let path = paths::normal(&body.file)?;
    let content = history::contents(server, &path, body.revision)?;
    host::files::write(server, &path, &content)?;
    let caller = request.principal.as_ref();
    let kept = history::record(
        &Save {
            server,
            path: &path,
            content: &content,
            user_id: caller.map(|caller| caller.user_id),
            username: caller.map(|caller| caller.username.as_str()),
            via: "restore",
            restored_from: Some(body.revision),
        },
        &limits()?,
    )?;
    let mut entry = ActivityEntry::new("restore");
    entry.actor_id = caller.map(|caller| caller.user_id);
    entry.server = Some(server.to_string());
    entry.subject = Some(("file".into(), path.clone()));
    entry.properties = json!({ "file": path, "revision": body.revision });
    host::activity::record(&entry)?;
    // A restore of what the file already holds adds no revision.
    let newest = match kept {
        Some(kept) => kept,
        None => history::newest(server, &path)?
            .ok_or_else(|| Error::internal("the restored file has no history"))?,
    };
    Ok(Response::json(&json!({ "data": newest })))
}

/// What the server's history holds, and the limits it is kept within.
pub fn usage(request: &Request) -> Result<Response, Error> {
    let usage = history::usage(server(request)?)?;
    Ok(Response::json(&json!({
        "data": { "usage": usage, "limits": host::settings::json()? }
    })))
}

/// A save heard as `file.written`: the file is read as it is now and kept, unless
/// this plugin made it (kept already), or it is not text or too large.
pub fn capture(payload: &Value) -> Result<(), Error> {
    let via = payload["via"].as_str().unwrap_or("unknown");
    if via == OWN_WRITES {
        return Ok(());
    }
    let Some(server) = payload["server"].as_str() else {
        return Ok(());
    };
    let limits = limits()?;
    let files = payload["files"].as_array().cloned().unwrap_or_default();
    for path in files.iter().filter_map(Value::as_str) {
        let Ok(path) = paths::normal(path) else {
            continue;
        };
        let entry = match host::files::stat(server, &path) {
            Ok(entry) => entry,
            // Gone again, or the server is away: nothing to keep.
            Err(_) => continue,
        };
        if !entry.file || entry.size > limits.max_file_bytes {
            continue;
        }
        let content = match host::files::read(server, &path) {
            Ok(content) => content,
            Err(_) => continue,
        };
        history::record(
            &Save {
                server,
                path: &path,
                content: &content,
                user_id: payload["user_id"].as_i64(),
                username: payload["username"].as_str(),
                via,
                restored_from: None,
            },
            &limits,
        )?;
    }
    Ok(())
}

/// A rename over SFTP (wings reports it, with the paths the client sent) carries the
/// file's history to its new name, as a rename through the API does.
pub fn follow_renames(payload: &Value) -> Result<(), Error> {
    let Some(server) = payload["subject_id"].as_str() else {
        return Ok(());
    };
    let renames = payload["properties"]["files"].as_array();
    for rename in renames.into_iter().flatten() {
        let (Some(from), Some(to)) = (rename["from"].as_str(), rename["to"].as_str()) else {
            continue;
        };
        let (Ok(from), Ok(to)) = (paths::normal(from), paths::normal(to)) else {
            continue;
        };
        history::moved(server, &from, &to)?;
    }
    Ok(())
}
