//! Routes for the plugin benchmarks: `/ok` makes no host call, so it measures the
//! route's own overhead; `/server/{server}` makes exactly one `servers.get`, so the
//! difference is that host call's round trip; `/server/{server}/files/{name}` reads a
//! file through `node-files` (`benches/node_files.rs`). Built as both `bench-wasm` and
//! `bench-native`; packaged for benchmarks only, never installed.

use hatchery_sdk::{Error, Plugin, Request, Response, host, json};

#[derive(Default)]
struct Bench;

impl Plugin for Bench {
    fn handle_request(&self, request: Request) -> Result<Response, Error> {
        match request.route.as_str() {
            "/ok" => Ok(Response::json(&json!({ "ok": true }))),
            "/server/{server}" => {
                let server = request.param("server").unwrap_or_default();
                let found = host::servers::get(server)?;
                Ok(Response::json(&json!({ "ok": !found.uuid.is_empty() })))
            }
            "/server/{server}/files/{name}" => {
                let server = request.param("server").unwrap_or_default();
                let name = request.param("name").unwrap_or_default();
                let bytes = host::files::read(server, name)?;
                Ok(Response {
                    status: 200,
                    headers: vec![("content-type".into(), "application/octet-stream".into())],
                    body: bytes,
                })
            }
            _ => Ok(Response::not_found()),
        }
    }
}

hatchery_sdk::export_plugin!(Bench);
