//! The console websocket, in Pterodactyl's protocol: JSON frames `{"event", "args"}`.
//!
//! A client authenticates with `auth` and a console token (an HS256 JWT the panel signs
//! with the node token); what it may then do comes from the token's permissions. It
//! asks for recent output with `send logs`, sends `send command` and `set state`, and
//! receives `console output`, `status`, `stats`, `install …` and `daemon message`
//! events, plus `token expiring`/`token expired` so it can re-authenticate on the same
//! socket. A slow client only ever misses output; it never slows the server down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::servers::PowerAction;
use super::{ApiError, ApiResult, App, client_ip, origin_allowed};
use crate::error::Error;
use crate::executor::Executor;
use crate::manager::now;
use crate::server::{PowerState, Server, ServerEvent};
use crate::token::{self, ConsoleClaims};

/// How often token expiry and revocation are checked.
const TOKEN_CHECK: Duration = Duration::from_secs(5);
/// `token expiring` is sent this long before the token runs out.
const EXPIRY_WARNING_SECONDS: i64 = 60;
/// Messages a client may send per second; more are dropped.
const MESSAGES_PER_SECOND: u32 = 20;
/// A socket without a valid token (never sent one, or it expired or was revoked)
/// closes after this long.
const AUTH_DEADLINE: Duration = Duration::from_secs(15);
/// Sockets per node that have not authenticated yet.
const MAX_PENDING_AUTH: usize = 256;

pub fn routes<E: Executor>() -> Router<App<E>> {
    Router::new().route("/api/servers/{uuid}/ws", get(upgrade::<E>))
}

async fn upgrade<E: Executor>(
    State(manager): State<App<E>>,
    Path(uuid): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    socket: WebSocketUpgrade,
) -> ApiResult<Response> {
    let server = manager.server(&uuid)?;
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && !origin_allowed(&manager, origin)
    {
        return Err(ApiError(Error::Forbidden(format!(
            "`{origin}` may not open consoles on this node; add it to allowed_origins"
        ))));
    }
    let ip = client_ip(&headers, Some(peer), &manager.config.api.trusted_proxies);
    // Sockets that have not authenticated yet are capped per node, so a flood of
    // idle connections cannot hold the daemon's memory.
    let Some(pending) = PendingAuth::enter(&manager) else {
        return Err(ApiError(Error::TooManyRequests(
            "too many consoles are waiting to authenticate on this node; try again shortly".into(),
        )));
    };
    Ok(socket
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| {
            Session {
                manager,
                server,
                ip,
                claims: None,
                pending: Some(pending),
                unauthenticated_since: Instant::now(),
                warned_expiring: false,
                window: (Instant::now(), 0),
            }
            .run(socket)
        }))
}

#[derive(Deserialize)]
struct Frame {
    event: String,
    #[serde(default)]
    args: Vec<Value>,
}

struct Session<E: Executor> {
    manager: App<E>,
    server: Arc<Server<E>>,
    ip: String,
    claims: Option<ConsoleClaims>,
    /// Held until the first successful `auth`: counts against the node's cap.
    pending: Option<PendingAuth>,
    /// When the socket last had no valid token; it closes after [`AUTH_DEADLINE`].
    unauthenticated_since: Instant,
    warned_expiring: bool,
    /// Start of the current second and messages received in it.
    window: (Instant, u32),
}

/// The socket went away; the session ends.
struct Gone;

/// A socket that has not authenticated yet, counted against [`MAX_PENDING_AUTH`].
struct PendingAuth(Arc<std::sync::atomic::AtomicUsize>);

impl PendingAuth {
    fn enter<E: Executor>(manager: &App<E>) -> Option<PendingAuth> {
        use std::sync::atomic::Ordering;
        let count = manager.pending_console_auths.clone();
        let previous = count.fetch_add(1, Ordering::AcqRel);
        if previous >= MAX_PENDING_AUTH {
            count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(PendingAuth(count))
    }
}

impl Drop for PendingAuth {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl<E: Executor> Session<E> {
    async fn run(mut self, mut socket: WebSocket) {
        let (_, mut events) = self.server.subscribe();
        let mut checks = tokio::time::interval(TOKEN_CHECK);
        let mut auth_deadline = tokio::time::interval(Duration::from_secs(1));
        let mut revocations = self.manager.revocations();
        loop {
            let outcome = tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => self.handle(&mut socket, &text).await,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => Err(Gone),
                    Some(Ok(_)) => Ok(()),
                },
                event = events.recv() => match event {
                    Ok(event) => self.forward(&mut socket, event).await,
                    Err(RecvError::Lagged(missed)) if self.claims.is_some() => {
                        let message = format!("{missed} console events were skipped because this connection is too slow");
                        send(&mut socket, "daemon message", &[message]).await
                    }
                    Err(RecvError::Lagged(_)) => Ok(()),
                    Err(RecvError::Closed) => Err(Gone),
                },
                _ = checks.tick() => self.check_token(&mut socket).await,
                _ = revocations.changed() => self.check_token(&mut socket).await,
                _ = auth_deadline.tick() => self.check_auth_deadline(&mut socket).await,
            };
            if outcome.is_err() {
                return;
            }
        }
    }

    async fn handle(&mut self, socket: &mut WebSocket, text: &str) -> Result<(), Gone> {
        if !self.within_rate() {
            return Ok(());
        }
        let Ok(frame) = serde_json::from_str::<Frame>(text) else {
            return send(
                socket,
                "daemon error",
                &["messages are JSON objects like {\"event\":\"send logs\",\"args\":[]}"],
            )
            .await;
        };
        let first = frame
            .args
            .first()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if frame.event == "auth" {
            return self.authenticate(socket, &first).await;
        }
        let Some(claims) = self.claims.clone() else {
            return send(
                socket,
                "jwt error",
                &["authenticate first: send {\"event\":\"auth\",\"args\":[token]}"],
            )
            .await;
        };
        match frame.event.as_str() {
            "send logs" => {
                for line in self.server.recent_output(usize::MAX) {
                    send(socket, "console output", &[line]).await?;
                }
                Ok(())
            }
            "send stats" => match self.server.utilization().await {
                Ok(stats) => send(socket, "stats", &[json!(stats).to_string()]).await,
                Err(err) => self.error(socket, &claims, &err).await,
            },
            "send command" => {
                if !claims.can("control.console") {
                    return self.denied(socket, "control.console").await;
                }
                if self.server.state() == PowerState::Offline {
                    return Ok(());
                }
                match self.server.send_command(&first).await {
                    Ok(()) => {
                        self.activity(
                            &claims,
                            "server:console.command",
                            json!({ "command": first }),
                        );
                        Ok(())
                    }
                    Err(err) => self.error(socket, &claims, &err).await,
                }
            }
            "set state" => {
                let action = match PowerAction::parse(&first) {
                    Ok(action) => action,
                    Err(ApiError(err)) => return self.error(socket, &claims, &err).await,
                };
                if !claims.can(action.permission()) {
                    return self.denied(socket, action.permission()).await;
                }
                self.activity(&claims, &format!("server:power.{first}"), json!({}));
                action.spawn(self.server.clone());
                Ok(())
            }
            other => {
                let message = format!("`{other}` is not an event wings knows");
                send(socket, "daemon error", &[message]).await
            }
        }
    }

    async fn authenticate(&mut self, socket: &mut WebSocket, token: &str) -> Result<(), Gone> {
        let uuid = self.server.uuid();
        let claims: ConsoleClaims =
            match token::verify(token, &self.manager.config.token, &uuid, now()) {
                Ok(claims) => claims,
                Err(err) => {
                    if self.claims.take().is_some() {
                        self.unauthenticated_since = Instant::now();
                    }
                    return send(socket, "jwt error", &[err.to_string()]).await;
                }
            };
        if !claims.can("websocket.connect") {
            return send(
                socket,
                "jwt error",
                &["the token does not allow connecting to this server"],
            )
            .await;
        }
        if self
            .manager
            .is_revoked(&uuid, &claims.user_uuid, &claims.jti, claims.iat)
        {
            return send(
                socket,
                "jwt error",
                &["this token was revoked; ask the panel for a new one"],
            )
            .await;
        }
        self.claims = Some(claims);
        self.pending = None;
        self.warned_expiring = false;
        send(socket, "auth success", &[] as &[&str]).await?;
        send(socket, "status", &[self.server.state().as_str()]).await?;
        if self.server.is_installing() {
            send(socket, "install started", &[] as &[&str]).await?;
        }
        Ok(())
    }

    async fn forward(&mut self, socket: &mut WebSocket, event: ServerEvent) -> Result<(), Gone> {
        let Some(claims) = &self.claims else {
            return Ok(());
        };
        let may_see_install = claims.can("admin.websocket.install");
        match event {
            ServerEvent::State(state) => send(socket, "status", &[state.as_str()]).await,
            ServerEvent::Console(line) => send(socket, "console output", &[line]).await,
            ServerEvent::InstallStarted => send(socket, "install started", &[] as &[&str]).await,
            ServerEvent::InstallOutput(line) if may_see_install => {
                send(socket, "install output", &[line]).await
            }
            ServerEvent::InstallOutput(_) => Ok(()),
            ServerEvent::InstallCompleted { successful } => {
                send(socket, "install completed", &[successful.to_string()]).await
            }
            ServerEvent::Stats(stats) => send(socket, "stats", &[json!(stats).to_string()]).await,
            ServerEvent::Crashed {
                exit_code,
                oom_killed,
            } => {
                let message = if oom_killed {
                    format!("the server ran out of memory and was killed (exit code {exit_code})")
                } else {
                    format!("the server crashed (exit code {exit_code})")
                };
                send(socket, "daemon message", &[message]).await
            }
            ServerEvent::DaemonMessage(message) => send(socket, "daemon message", &[message]).await,
        }
    }

    /// Closes a socket that has gone [`AUTH_DEADLINE`] without a valid token.
    async fn check_auth_deadline(&mut self, socket: &mut WebSocket) -> Result<(), Gone> {
        if self.claims.is_some() {
            return Ok(());
        }
        if self.unauthenticated_since.elapsed() < AUTH_DEADLINE {
            return Ok(());
        }
        let message = format!(
            "no valid token within {} seconds; reconnect with a new one",
            AUTH_DEADLINE.as_secs()
        );
        send(socket, "jwt error", &[message]).await?;
        Err(Gone)
    }

    /// Expiry warnings, expiry, and revocation by the panel.
    async fn check_token(&mut self, socket: &mut WebSocket) -> Result<(), Gone> {
        let Some(claims) = &self.claims else {
            return Ok(());
        };
        let now = now();
        if self.manager.is_revoked(
            &self.server.uuid(),
            &claims.user_uuid,
            &claims.jti,
            claims.iat,
        ) {
            self.claims = None;
            // The socket ends: a revoked user keeps nothing open.
            send(socket, "jwt error", &["access to this server was revoked"]).await?;
            return Err(Gone);
        }
        if claims.exp <= now {
            self.claims = None;
            self.unauthenticated_since = Instant::now();
            return send(socket, "token expired", &[] as &[&str]).await;
        }
        if claims.exp - now <= EXPIRY_WARNING_SECONDS && !self.warned_expiring {
            self.warned_expiring = true;
            return send(socket, "token expiring", &[] as &[&str]).await;
        }
        Ok(())
    }

    fn within_rate(&mut self) -> bool {
        let (start, count) = &mut self.window;
        if start.elapsed() >= Duration::from_secs(1) {
            *start = Instant::now();
            *count = 0;
        }
        *count += 1;
        *count <= MESSAGES_PER_SECOND
    }

    async fn denied(&self, socket: &mut WebSocket, permission: &str) -> Result<(), Gone> {
        let message = format!("you do not have the `{permission}` permission on this server");
        send(socket, "daemon error", &[message]).await
    }

    /// Problems the user can act on are shown to everyone; internal details only to
    /// admins (`admin.websocket.errors`).
    async fn error(
        &self,
        socket: &mut WebSocket,
        claims: &ConsoleClaims,
        err: &Error,
    ) -> Result<(), Gone> {
        let user_facing = matches!(
            err,
            Error::InvalidState(_)
                | Error::BadRequest(_)
                | Error::Forbidden(_)
                | Error::NotFound(_)
                | Error::QuotaExceeded(_)
        );
        let message = if user_facing || claims.can("admin.websocket.errors") {
            err.to_string()
        } else {
            "wings could not do that; the node's log has the details".to_string()
        };
        send(socket, "daemon error", &[message]).await
    }

    fn activity(&self, claims: &ConsoleClaims, event: &str, metadata: Value) {
        let user = Some(claims.user_uuid.as_str()).filter(|u| !u.is_empty());
        self.manager
            .record_activity(&self.server.uuid(), user, event, metadata, &self.ip);
    }
}

async fn send<S: AsRef<str>>(socket: &mut WebSocket, event: &str, args: &[S]) -> Result<(), Gone> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let frame = json!({ "event": event, "args": args }).to_string();
    socket
        .send(Message::Text(frame.into()))
        .await
        .map_err(|_| Gone)
}
