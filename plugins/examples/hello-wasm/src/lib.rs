//! A Wasm example plugin that uses every extension point: routes, a migration, events
//! (it publishes `hello-wasm.greeted` and records what it receives), a CLI command and
//! a UI slot, and contract 1.1's servers, activity and secrets. A Wasm plugin starts
//! fresh on every call, so all state is in its tables (or its secrets).

use hatchery_sdk::{
    ActivityEntry, CommandOutput, DbValue, Error, Event, OutgoingRequest, Plugin, Request,
    Response, SessionOrigin, host, json,
};
use serde::Deserialize;

#[derive(Default)]
struct HelloWasm;

#[derive(Deserialize)]
struct NewGreeting {
    name: String,
}

impl Plugin for HelloWasm {
    fn handle_request(&self, request: Request) -> Result<Response, Error> {
        if request.is("GET", "/hello") {
            let greetings = count_greetings()?;
            let events = host::query(
                "SELECT name, source FROM hello_wasm__events_seen ORDER BY id DESC LIMIT 20",
                &[],
            )?;
            let events_seen: Vec<String> = events.iter().map(|row| text(row.get("name"))).collect();
            let ticks = host::query("SELECT count(*) AS total FROM hello_wasm__ticks", &[])?;
            let ticks = ticks
                .iter()
                .next()
                .and_then(|row| row.get("total").and_then(DbValue::as_i64))
                .unwrap_or(0);
            let settings = host::settings::get::<Settings>()?;
            return Ok(Response::json(&json!({
                "hello": "world",
                "greeting": settings.greeting,
                "max_greetings": settings.max_greetings,
                "has_webhook_token": settings.webhook_token.is_some(),
                "plugin": host::plugin_id(),
                "runtime": "wasm",
                "greetings": greetings,
                "events_seen": events_seen,
                "ticks": ticks,
            })));
        }
        if request.is("GET", "/greetings") {
            let rows = host::query(
                "SELECT name, greeted_by FROM hello_wasm__greetings ORDER BY id LIMIT 100",
                &[],
            )?;
            let greetings: Vec<_> = rows
                .iter()
                .map(|row| json!({ "name": text(row.get("name")), "greeted_by": text(row.get("greeted_by")) }))
                .collect();
            return Ok(Response::json(&json!({ "greetings": greetings })));
        }
        if request.is("POST", "/hello-wasm/wave") {
            return wave(&request);
        }
        if request.is("POST", "/hello-wasm/notes") {
            return write_note(&request);
        }
        if request.is("POST", "/hello-wasm/session") {
            return sign_in_here(&request);
        }
        if request.is("GET", "/hello-wasm/greetings") {
            return Ok(Response::json(&json!({ "greetings": count_greetings()? })));
        }
        if request.is("POST", "/fetch") {
            let wanted: serde_json::Value = request.json()?;
            let url = wanted["url"].as_str().unwrap_or_default();
            let answer = host::http::fetch(&OutgoingRequest::get(url))?;
            return Ok(Response::json(&json!({
                "status": answer.status,
                "body": String::from_utf8_lossy(&answer.body),
            })));
        }
        if request.is("GET", "/my-servers") {
            return my_servers(&request);
        }
        if request.is("POST", "/greetings") {
            let body: NewGreeting = request.json()?;
            let by = request
                .principal
                .as_ref()
                .map(|user| user.username.clone())
                .unwrap_or_default();
            let message = greet(&body.name, &by)?;
            return Ok(Response::json(&json!({ "greeting": message })).with_status(201));
        }
        Ok(Response::not_found())
    }

    fn handle_event(&self, event: Event) -> Result<(), Error> {
        // Timers (contract 1.1) arrive as events too.
        if event.name == "timer.heartbeat" {
            let payload: serde_json::Value = serde_json::from_str(&event.payload)?;
            let due = payload["due"].as_str().unwrap_or_default().to_string();
            host::execute(
                "INSERT INTO hello_wasm__ticks (due) VALUES ($1)",
                &[due.into()],
            )?;
            return Ok(());
        }
        host::execute(
            "INSERT INTO hello_wasm__events_seen (name, source, payload) VALUES ($1, $2, $3)",
            &[event.name.into(), event.source.into(), event.payload.into()],
        )?;
        Ok(())
    }

    fn run_command(&self, args: Vec<String>) -> CommandOutput {
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["greet", name] => match greet(name, "cli") {
                Ok(message) => CommandOutput::ok(format!("{message}\n")),
                Err(err) => CommandOutput::failure(format!("{}\n", err.message)),
            },
            ["list"] => {
                match host::query("SELECT name FROM hello_wasm__greetings ORDER BY id", &[]) {
                    Ok(rows) if rows.rows.is_empty() => CommandOutput::ok("nobody greeted yet\n"),
                    Ok(rows) => CommandOutput::ok(
                        rows.iter()
                            .map(|row| format!("{}\n", text(row.get("name"))))
                            .collect::<String>(),
                    ),
                    Err(err) => CommandOutput::failure(format!("{err}\n")),
                }
            }
            _ => CommandOutput::usage("usage: hatchery hello-wasm greet NAME | list\n"),
        }
    }
}

/// What the administrator set (contract 1.1 settings; see settings.schema.json).
#[derive(Deserialize)]
struct Settings {
    greeting: String,
    max_greetings: i64,
    webhook_token: Option<String>,
}

/// Stores a greeting and tells subscribers about it.
fn greet(name: &str, by: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Error::bad_request("a name is 1 to 64 characters"));
    }
    let settings = host::settings::get::<Settings>()?;
    if count_greetings()? >= settings.max_greetings {
        return Err(Error::conflict(format!(
            "this panel keeps at most {} greetings",
            settings.max_greetings
        )));
    }
    host::execute(
        "INSERT INTO hello_wasm__greetings (name, greeted_by) VALUES ($1, $2)",
        &[name.into(), by.into()],
    )?;
    host::emit("greeted", &json!({ "name": name, "by": by }))?;
    Ok(format!("{}, {name}!", settings.greeting))
}

fn count_greetings() -> Result<i64, Error> {
    let rows = host::query("SELECT count(*) AS total FROM hello_wasm__greetings", &[])?;
    Ok(rows
        .iter()
        .next()
        .and_then(|row| row.get("total").and_then(DbValue::as_i64))
        .unwrap_or(0))
}

fn text(value: Option<&DbValue>) -> String {
    value
        .and_then(DbValue::as_str)
        .unwrap_or_default()
        .to_string()
}

hatchery_sdk::export_plugin!(HelloWasm);

/// The caller's servers with what they may do on each (contract 1.1: `servers`), noted
/// in the activity log (`activity`), with a visit counter kept as a secret (`secrets`).
fn my_servers(request: &Request) -> Result<Response, Error> {
    let user = request
        .principal
        .as_ref()
        .ok_or_else(|| Error::forbidden("sign in first"))?;
    let servers = host::servers::visible_to(user.user_id)?;
    let mut listed = Vec::new();
    for server in &servers {
        let permissions = host::servers::permissions(user.user_id, &server.uuid)?;
        listed.push(json!({
            "uuid": server.uuid,
            "name": server.name,
            "status": server.status,
            "permissions": permissions,
        }));
    }
    host::activity::record(&ActivityEntry {
        actor_id: Some(user.user_id),
        properties: json!({ "count": servers.len() }),
        ..ActivityEntry::new("servers.listed")
    })?;
    let visits = host::secrets::get("visits")?
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    host::secrets::set("visits", &visits.to_string())?;
    Ok(Response::json(
        &json!({ "servers": listed, "visits": visits }),
    ))
}

/// A server route: the host has resolved the server and checked `hello-wasm.wave`.
fn wave(request: &Request) -> Result<Response, Error> {
    let server = request
        .server()
        .ok_or_else(|| Error::bad_request("not a server route"))?;
    let user = request
        .principal
        .as_ref()
        .ok_or_else(|| Error::forbidden("sign in first"))?;
    host::activity::record(&ActivityEntry {
        actor_id: Some(user.user_id),
        server: Some(server.to_string()),
        properties: json!({}),
        ..ActivityEntry::new("waved")
    })?;
    Ok(Response::json(&json!({
        "server": host::servers::get(server)?.name,
        "permissions": request.server_permissions(),
    })))
}

#[derive(Deserialize)]
struct Note {
    text: String,
    /// Stop before finishing, to show that an unfinished file changes nothing.
    #[serde(default)]
    abandon: bool,
}

/// Contract 1.1 `node_files`, acting for the caller: writes the note to
/// `/notes/hello.txt` in three streamed parts, then reads it back. The host checks the
/// caller's own file permissions on every call, whatever this route's permission says.
fn write_note(request: &Request) -> Result<Response, Error> {
    let server = request
        .server()
        .ok_or_else(|| Error::bad_request("not a server route"))?;
    let note: Note = request.json()?;
    let bytes = note.text.as_bytes();
    let mut writer = host::files::open_writer(server, "/notes/hello.txt")?;
    let third = bytes.len().div_ceil(3).max(1);
    for part in bytes.chunks(third) {
        writer.append(part)?;
    }
    if note.abandon {
        drop(writer);
        return Ok(Response::json(&json!({ "abandoned": true })));
    }
    let size = writer.finish()?;
    let entry = host::files::stat(server, "/notes/hello.txt")?;
    let start = host::files::read_range(server, "/notes/hello.txt", 0, 5)?;
    let listed: Vec<String> = host::files::list(server, "/notes")?
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    Ok(Response::json(&json!({
        "size": size,
        "stat_size": entry.size,
        "mode": format!("{:o}", entry.mode),
        "start": String::from_utf8_lossy(&start),
        "listed": listed,
    })))
}

/// An auth route (contract 1.1 `identity`): signs the caller in with a new session and
/// has the host set its cookie on this browser.
fn sign_in_here(request: &Request) -> Result<Response, Error> {
    let user = request
        .principal
        .as_ref()
        .ok_or_else(|| Error::forbidden("sign in first"))?;
    let origin = SessionOrigin {
        user_agent: request.header("user-agent").map(str::to_string),
        ..SessionOrigin::default()
    };
    let session = host::identity::create_session(user.user_id, &origin)?;
    let sessions = host::identity::sessions(user.user_id)?;
    Ok(Response::json(&json!({
        "username": host::identity::find_user(&user.user_id.to_string())?.map(|found| found.username),
        "sessions": sessions.len(),
        "expires_at": session.expires_at,
    }))
    .with_session(&session))
}
