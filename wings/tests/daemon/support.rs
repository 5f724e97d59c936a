#![allow(dead_code)] // shared by the daemon tests and the benchmark, which use different parts
//! The harness: a real `wings` process, and `PanelStandIn` — a small HTTP server inside
//! the test that answers wings' calls to the panel (`/api/remote/…`) until the panel
//! itself drives wings (the panel-core issue's end-to-end test replaces it).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use hatchery_wings::token::{self, ConsoleClaims, TransferClaims};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{INSTALL_SCRIPT, TEST_IMAGE};

pub const TOKEN_ID: &str = "standin1";

/// What the stand-in panel knows and what wings told it.
#[derive(Default)]
pub struct StandInState {
    pub servers: BTreeMap<String, Value>,
    pub installs: Vec<(String, bool)>,
    pub activity: Vec<Value>,
    pub resets: usize,
    /// username → (password, authorized public key, permissions, user uuid)
    pub sftp_users: BTreeMap<String, SftpUser>,
    pub sftp_attempts: Vec<Value>,
    /// Calls answered 503, as a panel that is restarting would: `install_script`,
    /// `install_result`.
    pub away: std::collections::BTreeSet<&'static str>,
    /// Hand out an install script that fails.
    pub failing_install: bool,
    /// Node-side plugins: what `/api/remote/plugins` lists, and the release (any
    /// JSON, well-formed or not) handed out for each id.
    pub plugin_summaries: Vec<Value>,
    pub plugin_releases: BTreeMap<String, Value>,
}

#[derive(Clone)]
pub struct SftpUser {
    pub password: String,
    pub public_key: Option<String>,
    pub permissions: Vec<String>,
    pub user_uuid: String,
}

pub struct PanelStandIn {
    pub url: String,
    pub state: Arc<Mutex<StandInState>>,
    pub node_token: String,
}

#[derive(Clone)]
struct StandIn {
    state: Arc<Mutex<StandInState>>,
    expected_auth: String,
}

impl StandIn {
    fn check(&self, headers: &HeaderMap) -> Result<(), StatusCode> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if auth == self.expected_auth {
            Ok(())
        } else {
            Err(StatusCode::FORBIDDEN)
        }
    }
}

impl PanelStandIn {
    pub async fn start() -> PanelStandIn {
        let node_token = format!("node-token-{}", std::process::id());
        let state = Arc::new(Mutex::new(StandInState::default()));
        let stand_in = StandIn {
            state: state.clone(),
            expected_auth: format!("Bearer {TOKEN_ID}.{node_token}"),
        };
        let app = Router::new()
            .route("/api/remote/servers", get(servers))
            .route("/api/remote/servers/reset", post(reset))
            .route("/api/remote/servers/{uuid}", get(server))
            .route(
                "/api/remote/servers/{uuid}/install",
                get(install_script).post(install_result),
            )
            .route("/api/remote/sftp/auth", post(sftp_auth))
            .route("/api/remote/activity", post(activity))
            .route("/api/remote/plugins", get(plugin_list))
            .route("/api/remote/plugins/{id}", get(plugin_release))
            .with_state(stand_in);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        PanelStandIn {
            url,
            state,
            node_token,
        }
    }

    /// Places a server of the fixture egg on the node.
    pub fn add_server(&self, uuid: &str, port: u16, disk_mb: u64) {
        self.state
            .lock()
            .unwrap()
            .servers
            .insert(uuid.to_string(), server_description(uuid, port, disk_mb));
    }

    /// Makes `call` answer 503 (true) or normally again (false).
    pub fn set_away(&self, call: &'static str, away: bool) {
        let mut state = self.state.lock().unwrap();
        if away {
            state.away.insert(call);
        } else {
            state.away.remove(call);
        }
    }

    pub fn installs(&self) -> Vec<(String, bool)> {
        self.state.lock().unwrap().installs.clone()
    }

    pub fn activity(&self) -> Vec<Value> {
        self.state.lock().unwrap().activity.clone()
    }

    pub fn add_sftp_user(&self, username: &str, user: SftpUser) {
        self.state
            .lock()
            .unwrap()
            .sftp_users
            .insert(username.to_string(), user);
    }

    /// A console token for `server` with `permissions`, valid for `seconds`.
    pub fn console_token(&self, server: &str, permissions: &[&str], seconds: i64) -> String {
        let now = now();
        token::sign(
            &ConsoleClaims {
                server_uuid: server.into(),
                user_uuid: "user-1".into(),
                permissions: permissions.iter().map(|p| p.to_string()).collect(),
                exp: now + seconds,
                iat: now,
                nbf: now - 5,
                jti: format!("jti-{now}-{}", permissions.len()),
            },
            &self.node_token,
        )
    }

    /// A signed download (`file` given) or upload token.
    pub fn transfer_token(&self, server: &str, file: Option<&str>) -> String {
        let now = now();
        token::sign(
            &TransferClaims {
                server_uuid: server.into(),
                user_uuid: "user-1".into(),
                unique_id: format!("{now}-{}", rand_suffix()),
                file_path: file.map(str::to_string),
                exp: now + 300,
                iat: now,
                nbf: now - 5,
            },
            &self.node_token,
        )
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// A server of the fixture game-server egg, as Pterodactyl's panel describes it.
pub fn server_description(uuid: &str, port: u16, disk_mb: u64) -> Value {
    json!({
        "settings": {
            "uuid": uuid,
            "meta": { "name": "Fixture", "description": "" },
            "suspended": false,
            "invocation": "sh ./server.sh",
            "skip_egg_scripts": false,
            "build": { "memory_limit": 64, "swap": 0, "io_weight": 500, "cpu_limit": 100,
                       "threads": null, "disk_space": disk_mb, "oom_disabled": false },
            "container": { "image": TEST_IMAGE },
            "allocations": { "force_outgoing_ip": false, "default": { "ip": "127.0.0.1", "port": port },
                             "mappings": { "127.0.0.1": [port] } },
            "egg": { "id": "fixture-egg", "file_denylist": [] },
            "environment": { "GREETING": "hello there" }
        },
        "process_configuration": {
            "startup": { "done": ["regex:^Done \\(.*\\)!"], "user_interaction": [], "strip_ansi": false },
            "stop": { "type": "command", "value": "stop" },
            "configs": [{ "file": "server.properties", "parser": "properties",
                          "replace": [{ "match": "server-port", "replace_with": "{{server.build.default.port}}" }] }]
        }
    })
}

async fn servers(State(s): State<StandIn>, headers: HeaderMap) -> Result<Json<Value>, StatusCode> {
    s.check(&headers)?;
    let servers: Vec<Value> = s.state.lock().unwrap().servers.values().cloned().collect();
    Ok(Json(
        json!({ "data": servers, "meta": { "current_page": 1, "last_page": 1 } }),
    ))
}

async fn reset(State(s): State<StandIn>, headers: HeaderMap) -> Result<StatusCode, StatusCode> {
    s.check(&headers)?;
    s.state.lock().unwrap().resets += 1;
    Ok(StatusCode::NO_CONTENT)
}

async fn server(
    State(s): State<StandIn>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    s.check(&headers)?;
    s.state
        .lock()
        .unwrap()
        .servers
        .get(&uuid)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

async fn install_script(
    State(s): State<StandIn>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    s.check(&headers)?;
    let state = s.state.lock().unwrap();
    if state.away.contains("install_script") {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let script = if state.failing_install {
        "echo 'download failed' >&2; exit 3"
    } else {
        INSTALL_SCRIPT
    };
    Ok(Json(
        json!({ "container_image": TEST_IMAGE, "entrypoint": "sh", "script": script }),
    ))
}

async fn install_result(
    State(s): State<StandIn>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    Json(body): Json<Value>,
) -> Result<StatusCode, StatusCode> {
    s.check(&headers)?;
    let successful = body["successful"].as_bool().unwrap_or(false);
    let mut state = s.state.lock().unwrap();
    if state.away.contains("install_result") {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    state.installs.push((uuid, successful));
    Ok(StatusCode::NO_CONTENT)
}

async fn sftp_auth(
    State(s): State<StandIn>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    s.check(&headers).map_err(|code| (code, Json(json!({}))))?;
    let mut state = s.state.lock().unwrap();
    state.sftp_attempts.push(body.clone());
    let username = body["username"].as_str().unwrap_or_default();
    let secret = body["password"].as_str().unwrap_or_default();
    let refused = || {
        (
            StatusCode::FORBIDDEN,
            Json(
                json!({ "error": { "code": "forbidden", "message": "the credentials are wrong" } }),
            ),
        )
    };
    let user = state
        .sftp_users
        .get(username)
        .cloned()
        .ok_or_else(refused)?;
    let matches = match body["type"].as_str() {
        Some("password") => secret == user.password,
        Some("public_key") => user.public_key.as_deref().is_some_and(|key| {
            key.split_whitespace()
                .take(2)
                .eq(secret.split_whitespace().take(2))
        }),
        _ => false,
    };
    if !matches {
        return Err(refused());
    }
    let short_id = username.rsplit('.').next().unwrap_or_default();
    let server = state
        .servers
        .keys()
        .find(|uuid| uuid.starts_with(short_id))
        .cloned()
        .ok_or_else(refused)?;
    Ok(Json(
        json!({ "server": server, "user": user.user_uuid, "permissions": user.permissions }),
    ))
}

async fn activity(
    State(s): State<StandIn>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<StatusCode, StatusCode> {
    s.check(&headers)?;
    let events = body["data"].as_array().cloned().unwrap_or_default();
    s.state.lock().unwrap().activity.extend(events);
    Ok(StatusCode::NO_CONTENT)
}

async fn plugin_list(
    State(s): State<StandIn>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    s.check(&headers)?;
    let summaries = s.state.lock().unwrap().plugin_summaries.clone();
    Ok(Json(json!({ "data": summaries })))
}

async fn plugin_release(
    State(s): State<StandIn>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    s.check(&headers)?;
    let release = s.state.lock().unwrap().plugin_releases.get(&id).cloned();
    release
        .map(|release| Json(json!({ "data": release })))
        .ok_or(StatusCode::NOT_FOUND)
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `wings` process configured for the stand-in panel.
pub struct Wings {
    child: Option<Child>,
    pub url: String,
    pub api_port: u16,
    pub sftp_port: u16,
    pub token: String,
    pub dir: Arc<tempfile::TempDir>,
    log: PathBuf,
    agent: ureq::Agent,
}

pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.text())
    }
}

impl Wings {
    pub async fn start(panel: &PanelStandIn) -> Wings {
        Wings::start_in(
            panel,
            Arc::new(tempfile::tempdir().unwrap()),
            free_port(),
            free_port(),
        )
        .await
    }

    /// Starts wings on an existing directory and ports (a restart).
    pub async fn start_in(
        panel: &PanelStandIn,
        dir: Arc<tempfile::TempDir>,
        api_port: u16,
        sftp_port: u16,
    ) -> Wings {
        Wings::launch(panel, dir, api_port, sftp_port, None).await
    }

    /// Starts wings serving its API over TLS with this certificate and key (PEM files).
    pub async fn start_tls(
        panel: &PanelStandIn,
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Wings {
        let tls = (cert.to_path_buf(), key.to_path_buf());
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Wings::launch(panel, dir, free_port(), free_port(), Some(tls)).await
    }

    async fn launch(
        panel: &PanelStandIn,
        dir: Arc<tempfile::TempDir>,
        api_port: u16,
        sftp_port: u16,
        tls: Option<(PathBuf, PathBuf)>,
    ) -> Wings {
        let root = dir.path();
        let ssl = match &tls {
            Some((cert, key)) => format!(
                "  ssl:\n    enabled: true\n    cert: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ),
            None => String::new(),
        };
        let socket = std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| "unix:///run/podman/podman.sock".into());
        let config = format!(
            r#"debug: false
uuid: test-node
token_id: {TOKEN_ID}
token: {token}
api:
  host: 127.0.0.1
  port: {api_port}
  upload_limit: 1
{ssl}system:
  root_directory: {root}/lib
  log_directory: {root}/log
  data: {root}/volumes
  tmp_directory: {root}/tmp
  user:
    uid: 0
    gid: 0
  sftp:
    bind_address: 127.0.0.1
    bind_port: {sftp_port}
docker:
  socket: {socket}
  container_pid_limit: 64
remote: {remote}
allowed_origins: ["http://browser.example"]
"#,
            token = panel.node_token,
            root = root.display(),
            remote = panel.url,
        );
        let config_path = root.join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = root.join(format!("wings-{}.log", now()));
        let child = Command::new(env!("CARGO_BIN_EXE_wings"))
            .arg("--config")
            .arg(&config_path)
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let wings = Wings {
            child: Some(child),
            url: format!("http://127.0.0.1:{api_port}"),
            api_port,
            sftp_port,
            token: panel.node_token.clone(),
            dir,
            log,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = if tls.is_some() {
                std::net::TcpStream::connect(("127.0.0.1", api_port)).is_ok()
            } else {
                wings
                    .try_request("GET", "/api/system", true, None)
                    .await
                    .is_ok()
            };
            if up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "wings did not start:\n{}",
                wings.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wings
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process's resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.as_ref().expect("wings runs").id();
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Stops the process the hard way, as a crash or `kill -9` would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn try_request(
        &self,
        method: &str,
        path: &str,
        with_token: bool,
        body: Option<(Vec<u8>, String)>,
    ) -> Result<Answer, String> {
        let agent = self.agent.clone();
        let url = format!("{}{path}", self.url);
        let token = with_token.then(|| self.token.clone());
        let method = method.to_string();
        tokio::task::spawn_blocking(move || {
            let mut request = ureq::http::Request::builder()
                .method(method.as_str())
                .uri(&url);
            if let Some(token) = token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            let result = match body {
                Some((bytes, content_type)) => agent.run(
                    request
                        .header("Content-Type", content_type)
                        .body(bytes)
                        .unwrap(),
                ),
                None => agent.run(request.body(()).unwrap()),
            };
            let mut response = result.map_err(|err| err.to_string())?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            response
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .reader()
                .read_to_end(&mut body)
                .map_err(|err| err.to_string())?;
            Ok(Answer { status, body })
        })
        .await
        .unwrap()
    }

    /// A request with the node token, as the panel makes it.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| {
            (
                serde_json::to_vec(&b).unwrap(),
                "application/json".to_string(),
            )
        });
        self.try_request(method, path, true, body)
            .await
            .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{}", self.log()))
    }

    /// A request with a raw body.
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        with_token: bool,
        body: Vec<u8>,
        content_type: &str,
    ) -> Answer {
        self.try_request(
            method,
            path,
            with_token,
            Some((body, content_type.to_string())),
        )
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{}", self.log()))
    }

    pub async fn call_without_token(&self, method: &str, path: &str) -> Answer {
        self.try_request(method, path, false, None)
            .await
            .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{}", self.log()))
    }

    /// Creates a server through the API and waits until its installation is reported.
    pub async fn create_installed_server(&self, panel: &PanelStandIn, uuid: &str, disk_mb: u64) {
        panel.add_server(uuid, free_port(), disk_mb);
        let created = self
            .call(
                "POST",
                "/api/servers",
                Some(json!({ "uuid": uuid, "start_on_completion": false })),
            )
            .await;
        assert_eq!(created.status, 202, "{created:?}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !panel.installs().iter().any(|(id, _)| id == uuid) {
            assert!(
                Instant::now() < deadline,
                "no install report:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            panel.installs().contains(&(uuid.to_string(), true)),
            "the install failed: {:?}\n{}",
            panel.installs(),
            self.log()
        );
    }

    pub async fn console(&self, server: &str) -> Console {
        let url = format!("ws://127.0.0.1:{}/api/servers/{server}/ws", self.api_port);
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Console {
            socket,
            seen: Vec::new(),
        }
    }
}

impl Drop for Wings {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A console websocket client speaking Pterodactyl's protocol.
pub struct Console {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// Every frame received, for failure messages.
    pub seen: Vec<(String, Vec<String>)>,
}

impl Console {
    pub async fn send(&mut self, event: &str, args: &[&str]) {
        let frame = json!({ "event": event, "args": args }).to_string();
        self.socket.send(Message::text(frame)).await.unwrap();
    }

    /// The next frame, or `None` when none comes within `limit`.
    pub async fn next(&mut self, limit: Duration) -> Option<(String, Vec<String>)> {
        loop {
            let message = tokio::time::timeout(limit, self.socket.next())
                .await
                .ok()??
                .ok()?;
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            let event = value["event"].as_str().unwrap().to_string();
            let args: Vec<String> = value["args"]
                .as_array()
                .map(|args| {
                    args.iter()
                        .map(|a| a.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            self.seen.push((event.clone(), args.clone()));
            return Some((event, args));
        }
    }

    /// Waits for a frame matching `want`; panics with everything seen otherwise.
    pub async fn expect(
        &mut self,
        what: &str,
        limit: Duration,
        want: impl Fn(&str, &[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + limit;
        while let Some(remaining) = deadline.checked_duration_since(Instant::now()) {
            match self.next(remaining).await {
                Some((event, args)) if want(&event, &args) => return args,
                Some(_) => {}
                None => break,
            }
        }
        panic!("no {what} within {limit:?}; frames seen: {:#?}", self.seen);
    }

    /// Whether the server closes the socket within `limit` (frames before the close
    /// are recorded in `seen`).
    pub async fn closes_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while let Some(remaining) = deadline.checked_duration_since(Instant::now()) {
            match tokio::time::timeout(remaining, self.socket.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    self.seen.push((
                        value["event"].as_str().unwrap_or_default().into(),
                        Vec::new(),
                    ));
                }
                Ok(Some(Ok(_))) => {}
            }
        }
        false
    }

    pub async fn expect_event(&mut self, event: &str, limit: Duration) -> Vec<String> {
        self.expect(event, limit, |e, _| e == event).await
    }

    pub async fn expect_output(&mut self, needle: &str, limit: Duration) {
        self.expect(&format!("console output `{needle}`"), limit, |e, args| {
            e == "console output" && args.iter().any(|a| a.contains(needle))
        })
        .await;
    }

    pub async fn expect_status(&mut self, state: &str, limit: Duration) {
        self.expect(&format!("status {state}"), limit, |e, args| {
            e == "status" && args.first().map(String::as_str) == Some(state)
        })
        .await;
    }
}

/// `multipart/form-data` with one file field.
pub fn multipart(name: &str, contents: &[u8]) -> (Vec<u8>, String) {
    let boundary = "hatchery-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(contents);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// A fresh server uuid whose first 8 hex digits (the short id) are unique.
pub fn server_uuid() -> String {
    let nanos = rand_suffix();
    let pid = std::process::id();
    format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        nanos ^ (pid << 8),
        pid & 0xffff,
        now()
    )
}

/// Runs OpenSSH's clients against wings' SFTP/SSH port.
pub struct OpenSsh {
    pub port: u16,
    dir: tempfile::TempDir,
    cipher: Option<String>,
}

impl OpenSsh {
    pub fn new(port: u16) -> OpenSsh {
        OpenSsh {
            port,
            dir: tempfile::tempdir().unwrap(),
            cipher: None,
        }
    }

    /// Insists on one cipher (for fair comparisons).
    pub fn with_cipher(mut self, cipher: &str) -> OpenSsh {
        self.cipher = Some(cipher.to_string());
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new ed25519 key pair; returns the private key's path and the public key line.
    pub fn keygen(&self, name: &str) -> (PathBuf, String) {
        let key = self.path(name);
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(status.success());
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        (key, public.trim().to_string())
    }

    /// Options every client run shares: no host-key prompts, no agent, no config.
    fn common(&self, command: &mut Command) {
        command
            .args(["-F", "/dev/null"])
            .args(["-o", "StrictHostKeyChecking=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null"])
            .args(["-o", "LogLevel=ERROR"])
            .args(["-o", "IdentitiesOnly=yes"])
            .args(["-o", "ConnectTimeout=10"])
            .env_remove("SSH_AUTH_SOCK");
        if let Some(cipher) = &self.cipher {
            command.args(["-o", &format!("Ciphers={cipher}")]);
        }
    }

    /// How a client authenticates: a password through SSH_ASKPASS, or a key file.
    fn credentials(&self, command: &mut Command, secret: &Secret) {
        match secret {
            Secret::Password(password) => {
                let askpass = self.path(&format!("askpass-{}", password.len()));
                std::fs::write(&askpass, format!("#!/bin/sh\necho '{password}'\n")).unwrap();
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o755)).unwrap();
                command
                    .env("SSH_ASKPASS", &askpass)
                    .env("SSH_ASKPASS_REQUIRE", "force")
                    .env("DISPLAY", ":0")
                    .args(["-o", "PreferredAuthentications=password"])
                    .args(["-o", "PubkeyAuthentication=no"])
                    .args(["-o", "NumberOfPasswordPrompts=1"]);
            }
            Secret::Key(path) => {
                command
                    .arg("-i")
                    .arg(path)
                    .args(["-o", "PreferredAuthentications=publickey"])
                    .args(["-o", "PasswordAuthentication=no"]);
            }
        }
    }

    /// Runs `sftp` with `commands` on stdin; returns (success, stdout + stderr).
    pub fn sftp(&self, user: &str, secret: &Secret, commands: &str) -> (bool, String) {
        let mut child = self.sftp_session(user, secret);
        use std::io::Write;
        // `-b -` stops at the first failing command; stdin without it runs them all.
        child
            .stdin
            .take()
            .unwrap()
            .write_all(commands.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    /// Starts an interactive `sftp` session: commands go to its stdin as the test
    /// writes them, output comes from stdout.
    pub fn sftp_session(&self, user: &str, secret: &Secret) -> Child {
        let mut command = Command::new("sftp");
        self.common(&mut command);
        self.credentials(&mut command, secret);
        command
            .args(["-P", &self.port.to_string()])
            .arg(format!("{user}@127.0.0.1"))
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().unwrap()
    }

    /// Opens `ssh` to the console without a terminal; stdin and stdout are piped.
    pub fn ssh(&self, user: &str, secret: &Secret) -> Child {
        let mut command = Command::new("ssh");
        self.common(&mut command);
        self.credentials(&mut command, secret);
        command
            .arg("-T")
            .args(["-p", &self.port.to_string()])
            .arg(format!("{user}@127.0.0.1"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().unwrap()
    }
}

pub enum Secret {
    Password(String),
    Key(PathBuf),
}

/// Reads lines from a child's stdout on a thread, so a test can wait with a deadline.
pub fn line_reader(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// Waits for a line containing `needle`; returns every line seen on failure.
pub fn wait_for_line(
    lines: &std::sync::mpsc::Receiver<String>,
    needle: &str,
    limit: Duration,
) -> Result<(), Vec<String>> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(remaining) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(remaining) {
            Ok(line) if line.contains(needle) => return Ok(()),
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    Err(seen)
}

/// An SFTP session through russh's client (another implementation than OpenSSH), for
/// requests OpenSSH's `sftp` never makes.
pub async fn russh_sftp_session(
    port: u16,
    user: &str,
    password: &str,
) -> russh_sftp::client::SftpSession {
    struct AcceptAnyHostKey;
    impl russh::client::Handler for AcceptAnyHostKey {
        type Error = russh::Error;
        async fn check_server_key(
            &mut self,
            _key: &russh::keys::PublicKeyOrCertificate,
        ) -> Result<bool, Self::Error> {
            Ok(true)
        }
    }
    let config = std::sync::Arc::new(russh::client::Config::default());
    let mut session = russh::client::connect(config, ("127.0.0.1", port), AcceptAnyHostKey)
        .await
        .unwrap();
    let auth = session.authenticate_password(user, password).await.unwrap();
    assert!(auth.success(), "the password was refused");
    let channel = session.channel_open_session().await.unwrap();
    channel.request_subsystem(true, "sftp").await.unwrap();
    // The connection lives as long as the test: keep its handle alive.
    std::mem::forget(session);
    russh_sftp::client::SftpSession::new(channel.into_stream())
        .await
        .unwrap()
}
