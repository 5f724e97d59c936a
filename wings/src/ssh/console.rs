//! The server's console over SSH: recent output, then live output; lines typed by the
//! user become console commands. With a terminal (`ssh` from a shell) wings echoes and
//! edits the line itself; without one (`ssh … < commands`) lines arrive whole.

use std::sync::Arc;
use std::time::Duration;

use russh::ChannelId;
use russh::server::{Handle, Session};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::Login;
use crate::executor::Executor;
use crate::manager::Manager;
use crate::server::ServerEvent;

/// How often an attached console checks that the login still stands.
const REVOCATION_CHECK: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Shell {
    /// The client asked for a terminal: echo and line editing are ours.
    pub pty: bool,
    line: Vec<u8>,
    /// Inside an escape sequence (arrow keys and the like), which is ignored.
    escape: Option<Escape>,
    output: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Clone, Copy)]
enum Escape {
    Started,
    Sequence,
}

impl Drop for Shell {
    fn drop(&mut self) {
        if let Some(task) = self.output.take() {
            task.abort();
        }
    }
}

impl Shell {
    /// Starts streaming the console to the channel.
    pub fn attach<E: Executor>(
        &mut self,
        manager: Arc<Manager<E>>,
        login: Login<E>,
        channel: ChannelId,
        handle: Handle,
    ) {
        let newline = if self.pty { "\r\n" } else { "\n" };
        self.output = Some(tokio::spawn(async move {
            let (history, mut events) = login.server.subscribe();
            let send = |text: String| {
                let handle = handle.clone();
                async move {
                    handle
                        .data(channel, format!("{text}{newline}").into_bytes())
                        .await
                        .is_ok()
                }
            };
            if !send(format!(
                "[wings] attached to the console; the server is {}",
                login.server.state().as_str()
            ))
            .await
            {
                return;
            }
            for line in history {
                if !send(line).await {
                    return;
                }
            }
            let mut checks = tokio::time::interval(REVOCATION_CHECK);
            let mut revocations = manager.revocations();
            loop {
                let text = tokio::select! {
                    event = events.recv() => match event {
                        Ok(ServerEvent::Console(line)) => line,
                        Ok(ServerEvent::State(state)) => format!("[wings] the server is {}", state.as_str()),
                        Ok(ServerEvent::DaemonMessage(message)) => format!("[wings] {message}"),
                        Ok(ServerEvent::Crashed { exit_code, .. }) => format!("[wings] the server crashed (exit code {exit_code})"),
                        Ok(_) => continue,
                        Err(RecvError::Lagged(missed)) => format!("[wings] {missed} lines skipped: this connection is too slow"),
                        Err(RecvError::Closed) => return,
                    },
                    _ = async {
                        tokio::select! {
                            _ = checks.tick() => {}
                            _ = revocations.changed() => {}
                        }
                    } => {
                        if login.revoked(&manager) {
                            let _ = send("[wings] your access to this server was revoked".into()).await;
                            let _ = handle.close(channel).await;
                            return;
                        }
                        continue;
                    }
                };
                if !send(text).await {
                    return;
                }
            }
        }));
    }

    /// Handles typed bytes: line editing with a terminal, whole lines without.
    pub async fn input<E: Executor>(
        &mut self,
        manager: &Manager<E>,
        login: &Login<E>,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) {
        let mut echo = Vec::new();
        let mut lines = Vec::new();
        for &byte in data {
            if !self.pty {
                match byte {
                    b'\n' => lines.push(std::mem::take(&mut self.line)),
                    b'\r' => {}
                    _ => self.line.push(byte),
                }
                continue;
            }
            match (self.escape, byte) {
                (Some(Escape::Started), b'[' | b'O') => self.escape = Some(Escape::Sequence),
                (Some(Escape::Started), _) => self.escape = None,
                (Some(Escape::Sequence), 0x40..=0x7e) => self.escape = None,
                (Some(Escape::Sequence), _) => {}
                (None, 0x1b) => self.escape = Some(Escape::Started),
                (None, b'\r' | b'\n') => {
                    echo.extend_from_slice(b"\r\n");
                    lines.push(std::mem::take(&mut self.line));
                }
                (None, 0x7f | 0x08) => {
                    // Remove one character, however many bytes it took.
                    while let Some(last) = self.line.pop() {
                        if last & 0b1100_0000 != 0b1000_0000 {
                            break;
                        }
                    }
                    echo.extend_from_slice(b"\x08 \x08");
                }
                (None, 0x03) => {
                    self.line.clear();
                    echo.extend_from_slice(b"^C\r\n");
                }
                (None, 0x04) if self.line.is_empty() => {
                    let _ = session.close(channel);
                    return;
                }
                (None, byte) if byte >= 0x20 => {
                    self.line.push(byte);
                    echo.push(byte);
                }
                _ => {}
            }
        }
        if !echo.is_empty() {
            let _ = session.data(channel, echo);
        }
        for line in lines {
            submit(manager, login, channel, &line, session, self.pty).await;
        }
    }

    /// The client closed its input: a last unterminated line is still a command.
    pub async fn finish_input<E: Executor>(
        &mut self,
        manager: &Manager<E>,
        login: &Login<E>,
        channel: ChannelId,
        session: &mut Session,
    ) {
        let line = std::mem::take(&mut self.line);
        submit(manager, login, channel, &line, session, self.pty).await;
    }
}

async fn submit<E: Executor>(
    manager: &Manager<E>,
    login: &Login<E>,
    channel: ChannelId,
    line: &[u8],
    session: &mut Session,
    pty: bool,
) {
    let command = String::from_utf8_lossy(line).trim().to_string();
    if command.is_empty() {
        return;
    }
    let newline = if pty { "\r\n" } else { "\n" };
    let problem = if !login.can("control.console") {
        Some("you do not have the control.console permission on this server".to_string())
    } else if login.revoked(manager) {
        Some("your access to this server was revoked".to_string())
    } else {
        match login.server.send_command(&command).await {
            Ok(()) => {
                manager.record_activity(
                    &login.server.uuid(),
                    Some(&login.user),
                    "server:console.command",
                    json!({ "command": command, "via": "ssh" }),
                    &login.ip,
                );
                None
            }
            Err(err) => Some(err.to_string()),
        }
    };
    if let Some(problem) = problem {
        let _ = session.data(channel, format!("[wings] {problem}{newline}").into_bytes());
    }
}
