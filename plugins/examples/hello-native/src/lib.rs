//! A native example plugin: the same SDK as Wasm plugins, loaded through the C ABI.
//! Native code is trusted and stays loaded, so it may keep state in memory (a request
//! counter here) as well as in its tables.

use std::sync::atomic::{AtomicU64, Ordering};

use hatchery_sdk::{CommandOutput, DbValue, Error, Event, Plugin, Request, Response, host, json};
use serde::Deserialize;

#[derive(Default)]
struct HelloNative {
    requests_served: AtomicU64,
}

#[derive(Deserialize)]
struct NewNote {
    body: String,
}

#[derive(Deserialize)]
struct Greeted {
    name: String,
}

impl Plugin for HelloNative {
    fn handle_request(&self, request: Request) -> Result<Response, Error> {
        let served = self.requests_served.fetch_add(1, Ordering::Relaxed) + 1;
        if request.is("GET", "/hello") {
            let heard = host::query(
                "SELECT name FROM hello_native__greetings_heard ORDER BY id",
                &[],
            )?;
            let names: Vec<&str> = heard
                .rows
                .iter()
                .filter_map(|row| row.first().and_then(DbValue::as_str))
                .collect();
            return Ok(Response::json(&json!({
                "hello": "from native code",
                "plugin": host::plugin_id(),
                "runtime": "native",
                "requests_served": served,
                "greetings_heard": names,
            })));
        }
        if request.is("POST", "/notes") {
            let note: NewNote = request.json()?;
            if note.body.trim().is_empty() {
                return Err(Error::bad_request("a note needs a body"));
            }
            let author = request
                .principal
                .as_ref()
                .map(|p| p.username.as_str())
                .unwrap_or("");
            host::execute(
                "INSERT INTO hello_native__notes (author, body) VALUES ($1, $2)",
                &[author.into(), note.body.as_str().into()],
            )?;
            let rows = host::query("SELECT max(id) AS id FROM hello_native__notes", &[])?;
            let id = rows
                .rows
                .first()
                .and_then(|row| row.first())
                .and_then(DbValue::as_i64);
            host::emit("note-added", &json!({ "id": id, "author": author }))?;
            return Ok(Response::json(&json!({ "id": id })).with_status(201));
        }
        if request.is("GET", "/notes/{id}") {
            let id: i64 = request
                .param("id")
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| Error::bad_request("the note id is a number"))?;
            let rows = host::query(
                "SELECT author, body FROM hello_native__notes WHERE id = $1",
                &[id.into()],
            )?;
            let row = rows
                .iter()
                .next()
                .ok_or_else(|| Error::not_found("no such note"))?;
            return Ok(Response::json(&json!({
                "id": id,
                "author": row.get("author").and_then(DbValue::as_str),
                "body": row.get("body").and_then(DbValue::as_str),
            })));
        }
        Ok(Response::not_found())
    }

    fn handle_event(&self, event: Event) -> Result<(), Error> {
        let greeted: Greeted = event.json()?;
        host::execute(
            "INSERT INTO hello_native__greetings_heard (name) VALUES ($1)",
            &[greeted.name.into()],
        )?;
        Ok(())
    }

    fn run_command(&self, args: Vec<String>) -> CommandOutput {
        match args.as_slice() {
            [command, name] if command == "greet" => {
                if let Err(err) = host::emit("greeted", &json!({ "name": name })) {
                    return CommandOutput::failure(format!("{err}\n"));
                }
                CommandOutput::ok(format!("Hello, {name}! (from native code)\n"))
            }
            _ => CommandOutput::usage("usage: hatchery hello-native greet NAME\n"),
        }
    }
}

hatchery_sdk::export_plugin!(HelloNative);
