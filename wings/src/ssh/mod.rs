//! SFTP and SSH on one port (2022 by default). Users log in as `<user>.<short id>`
//! with their panel password or a public key the panel knows; the panel answers who
//! they are and what they may do. The `sftp` subsystem serves the server's files with
//! those permissions; a shell attaches to the server's console.

mod console;
mod sftp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::ssh_key::{LineEnding, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Server as _, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};

use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::manager::{Manager, now};
use crate::remote::SftpAuthRequest;
use crate::server::Server;

/// Serves SFTP and SSH on `listener` until the process ends.
pub async fn serve<E: Executor>(
    manager: Arc<Manager<E>>,
    listener: tokio::net::TcpListener,
) -> Result<()> {
    let key_path = manager
        .config
        .system
        .root_directory
        .join(".sftp")
        .join("id_ed25519");
    let key = host_key(&key_path)?;
    let config = Arc::new(russh::server::Config {
        keys: vec![key],
        methods: MethodSet::from(&[MethodKind::Password, MethodKind::PublicKey][..]),
        // Failed logins cost the client a second each; a first attempt does not.
        auth_rejection_time: Duration::from_secs(1),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        inactivity_timeout: Some(Duration::from_secs(3600)),
        keepalive_interval: Some(Duration::from_secs(60)),
        nodelay: true,
        ..Default::default()
    });
    let mut server = SshServer { manager };
    server
        .run_on_socket(config, &listener)
        .await
        .map_err(|source| Error::Io {
            context: "the SFTP server stopped".into(),
            source,
        })
}

/// The node's host key, created on first start and kept, so clients can trust it.
fn host_key(path: &Path) -> Result<PrivateKey> {
    let io = |context: String| move |source| Error::Io { context, source };
    if let Ok(text) = std::fs::read_to_string(path) {
        return PrivateKey::from_openssh(text.as_bytes()).map_err(|err| {
            Error::Config(format!(
                "{} is not an OpenSSH private key ({err}); delete it and wings makes a new one",
                path.display()
            ))
        });
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|err| Error::Config(format!("no randomness for the host key: {err}")))?;
    let key = PrivateKey::from(russh::keys::ssh_key::private::Ed25519Keypair::from_seed(
        &seed,
    ));
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|err| Error::Config(format!("cannot encode the host key: {err}")))?;
    let parent = path.parent().expect("the key has a directory");
    std::fs::create_dir_all(parent).map_err(io(format!("cannot create {}", parent.display())))?;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(io(format!("cannot write {}", path.display())))?;
    tracing::info!(path = %path.display(), "created the SFTP host key");
    Ok(key)
}

struct SshServer<E: Executor> {
    manager: Arc<Manager<E>>,
}

impl<E: Executor> russh::server::Server for SshServer<E> {
    type Handler = Connection<E>;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection<E> {
        Connection {
            manager: self.manager.clone(),
            ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            login: None,
            channels: HashMap::new(),
            shells: HashMap::new(),
            revocation_watch: None,
        }
    }
}

/// Who logged in, to which server, with which permissions.
pub(crate) struct Login<E: Executor> {
    pub server: Arc<Server<E>>,
    pub user: String,
    pub permissions: Vec<String>,
    pub ip: String,
    /// When the login happened; a later revocation by the panel ends the session.
    pub at: i64,
}

impl<E: Executor> Clone for Login<E> {
    fn clone(&self) -> Self {
        Login {
            server: self.server.clone(),
            user: self.user.clone(),
            permissions: self.permissions.clone(),
            ip: self.ip.clone(),
            at: self.at,
        }
    }
}

impl<E: Executor> Login<E> {
    pub fn can(&self, permission: &str) -> bool {
        crate::token::grants(&self.permissions, permission)
    }

    pub fn revoked(&self, manager: &Manager<E>) -> bool {
        manager.is_revoked(&self.server.uuid(), &self.user, "", self.at)
    }
}

pub struct Connection<E: Executor> {
    manager: Arc<Manager<E>>,
    ip: String,
    login: Option<Login<E>>,
    channels: HashMap<ChannelId, Channel<Msg>>,
    shells: HashMap<ChannelId, console::Shell>,
    /// Ends the connection the moment the panel revokes the login; stopped when the
    /// connection goes away.
    revocation_watch: Option<tokio::task::AbortHandle>,
}

impl<E: Executor> Drop for Connection<E> {
    fn drop(&mut self) {
        if let Some(watch) = self.revocation_watch.take() {
            watch.abort();
        }
    }
}

impl<E: Executor> Connection<E> {
    /// Disconnects as soon as the panel revokes `login` (a changed password, a removed
    /// subuser, a suspended server…), not at the next operation.
    fn watch_revocation(&mut self, login: &Login<E>, handle: russh::server::Handle) {
        if self.revocation_watch.is_some() {
            return;
        }
        let (manager, login) = (self.manager.clone(), login.clone());
        let mut revocations = manager.revocations();
        let task = tokio::spawn(async move {
            // Checked before waiting too: a revocation that arrived while the session
            // was being set up counts.
            loop {
                if login.revoked(&manager) {
                    let _ = handle
                        .disconnect(
                            russh::Disconnect::ByApplication,
                            "your access to this server was revoked".into(),
                            "en".into(),
                        )
                        .await;
                    return;
                }
                if revocations.changed().await.is_err() {
                    return;
                }
            }
        });
        self.revocation_watch = Some(task.abort_handle());
    }

    /// Asks the panel whether these credentials open this server.
    async fn log_in(&mut self, username: &str, kind: &'static str, secret: String) -> Auth {
        let Some(server) = username
            .rsplit_once('.')
            .and_then(|(_, short_id)| self.manager.server_by_short_id(short_id))
        else {
            return Auth::reject();
        };
        let request = SftpAuthRequest {
            kind: kind.to_string(),
            username: username.to_string(),
            password: secret,
            ip: self.ip.clone(),
        };
        let answer = match self.manager.panel.sftp_auth(&request).await {
            Ok(answer) => answer,
            Err(Error::Forbidden(_) | Error::NotFound(_)) => return Auth::reject(),
            Err(err) => {
                tracing::warn!("cannot check an SFTP login with the panel: {err}");
                return Auth::reject();
            }
        };
        if answer.server != server.uuid() || server.is_suspended() {
            return Auth::reject();
        }
        tracing::info!(server = %answer.server, user = %answer.user, ip = %self.ip, "SFTP/SSH login");
        self.login = Some(Login {
            server,
            user: answer.user,
            permissions: answer.permissions,
            ip: self.ip.clone(),
            at: now(),
        });
        Auth::Accept
    }
}

impl<E: Executor> russh::server::Handler for Connection<E> {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(self.log_in(user, "password", password.to_string()).await)
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let Ok(openssh) = key.public_key.to_openssh() else {
            return Ok(Auth::reject());
        };
        Ok(self.log_in(user, "public_key", openssh).await)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let login = match &self.login {
            Some(login) if name == "sftp" && login.can("file.sftp") => login.clone(),
            _ => {
                session.channel_failure(channel_id)?;
                return Ok(());
            }
        };
        let Some(channel) = self.channels.remove(&channel_id) else {
            session.channel_failure(channel_id)?;
            return Ok(());
        };
        let files = match login.server.files() {
            Ok(files) => files,
            Err(err) => {
                tracing::warn!("cannot open the server's files for SFTP: {err}");
                session.channel_failure(channel_id)?;
                return Ok(());
            }
        };
        session.channel_success(channel_id)?;
        self.watch_revocation(&login, session.handle());
        let handler = sftp::SftpSession::new(self.manager.clone(), login, files);
        russh_sftp::server::run(channel.into_stream(), handler).await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _columns: u32,
        _rows: u32,
        _pixel_width: u32,
        _pixel_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.shells.entry(channel).or_default().pty = true;
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(login) = self
            .login
            .clone()
            .filter(|l| l.can("control.console") || l.can("websocket.connect"))
        else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        let shell = self.shells.entry(channel).or_default();
        shell.attach(self.manager.clone(), login, channel, session.handle());
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // There is no shell to run commands in: the console is the shell.
        session.channel_success(channel)?;
        let message = "this node runs no commands over SSH; `ssh -p <port> <user>.<server>@<node>` opens the server's console, and SFTP serves its files\r\n";
        let _ = session.extended_data(channel, 1, message.as_bytes().to_vec());
        let _ = session.exit_status_request(channel, 1);
        let _ = session.close(channel);
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let (Some(shell), Some(login)) = (self.shells.get_mut(&channel), &self.login) {
            shell
                .input(&self.manager, login, channel, data, session)
                .await;
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let (Some(shell), Some(login)) = (self.shells.get_mut(&channel), &self.login) {
            shell
                .finish_input(&self.manager, login, channel, session)
                .await;
            // Let the answers to the last commands arrive before closing.
            let handle = session.handle();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = handle.close(channel).await;
            });
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        self.shells.remove(&channel);
        Ok(())
    }
}
