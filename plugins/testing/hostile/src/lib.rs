//! A plugin that misbehaves on purpose. Tests call each route and check that the host
//! turns the misbehaviour into a clear error and keeps serving. The same source is
//! built as a Wasm component (`hostile-wasm`) and a native library (`hostile-native`);
//! only the Wasm build is ever asked to loop or exhaust memory, since native code is
//! trusted and cannot be interrupted.

use hatchery_sdk::{CommandOutput, Error, Event, HostError, Plugin, Request, Response, host, json};

#[derive(Default)]
struct Hostile;

impl Plugin for Hostile {
    fn handle_request(&self, request: Request) -> Result<Response, Error> {
        match request.route.as_str() {
            "/ok" => Ok(Response::json(&json!({ "ok": true }))),
            "/loop" => spin_forever(),
            "/alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1024 * 1024]);
                    std::hint::black_box(&hoard);
                }
            }
            "/trap" => trap(),
            "/panic" => panic!("the hostile plugin panicked on purpose"),
            "/sql" => {
                let sql = String::from_utf8_lossy(&request.body).into_owned();
                Ok(match host::query(&sql, &[]) {
                    Ok(rows) => Response::json(&json!({ "rows": rows.rows.len() })),
                    Err(err) => Response::json(&json!({
                        "refused": err.to_string(),
                        "invalid": matches!(err, HostError::Invalid(_)),
                    }))
                    .with_status(403),
                })
            }
            "/escape" => Ok(Response::json(&json!({
                "read_etc_passwd": std::fs::read_to_string("/etc/passwd").map_or_else(|e| e.to_string(), |_| "read".into()),
                "list_root": std::fs::read_dir("/").map_or_else(|e| e.to_string(), |_| "listed".into()),
                "environment": std::env::vars().count(),
                "servers_without_grant": host::servers::get("anything").err().map(|err| json!({
                    "denied": matches!(err, HostError::Denied(_)),
                    "message": err.to_string(),
                })),
                "emit_without_grant": host::emit("anything", &json!({})).err().map(|err| json!({
                    "denied": matches!(err, HostError::Denied(_)),
                    "message": err.to_string(),
                })),
                "files_without_grant": host::files::read("anything", "/etc/passwd").err().map(|err| json!({
                    "denied": matches!(err, HostError::Denied(_)),
                    "message": err.to_string(),
                })),
                "identity_without_grant": host::identity::create_session(1, &Default::default()).err().map(|err| json!({
                    "denied": matches!(err, HostError::Denied(_)),
                    "message": err.to_string(),
                })),
            }))),
            _ => Ok(Response::not_found()),
        }
    }

    fn handle_event(&self, event: Event) -> Result<(), Error> {
        panic!("the hostile plugin refuses event {}", event.name)
    }

    fn run_command(&self, _args: Vec<String>) -> CommandOutput {
        panic!("the hostile plugin crashed its command on purpose")
    }
}

fn spin_forever() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

#[cfg(target_arch = "wasm32")]
fn trap() -> Result<Response, Error> {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn trap() -> Result<Response, Error> {
    panic!("native code cannot trap; it panics instead")
}

hatchery_sdk::export_plugin!(Hostile);
