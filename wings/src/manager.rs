//! The daemon's state: every server on this node, the panel client, revoked tokens and
//! the activity waiting to be reported. The HTTP API, the websocket console and the
//! SFTP/SSH server all work through one [`Manager`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;

use crate::config::WingsConfig;
use crate::error::{Error, Result};
use crate::executor::{Executor, ResourceLimits};
use crate::plugins::NodePlugins;
use crate::remote::{ActivityEvent, PanelClient, RemoteServer, ToServerConfig, until_answered};
use crate::server::{InstallState, Node, PowerState, Server, ServerEvent};

/// How long a stop may take before the server is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Activity is sent to the panel in batches this often.
const ACTIVITY_FLUSH: Duration = Duration::from_secs(5);
/// Activity kept while the panel cannot be reached; the oldest goes first.
const ACTIVITY_BACKLOG: usize = 10_000;

pub struct Manager<E: Executor> {
    pub config: WingsConfig,
    pub node: Arc<Node<E>>,
    pub panel: PanelClient,
    servers: RwLock<HashMap<String, Arc<Server<E>>>>,
    /// Until the panel's list of servers is loaded, "no such server" would be a lie
    /// (the panel would take a deletion as done): lookups answer "loading" instead.
    loaded: std::sync::atomic::AtomicBool,
    revoked: Mutex<Revocations>,
    /// Bumped on every revocation, so open consoles and SFTP sessions check at once.
    revocations: tokio::sync::watch::Sender<u64>,
    /// Console sockets that have not authenticated yet (capped in `api::websocket`).
    pub pending_console_auths: Arc<std::sync::atomic::AtomicUsize>,
    used_transfer_tokens: Mutex<HashMap<String, i64>>,
    activity: Mutex<Vec<ActivityEvent>>,
    /// The node-side parts of plugins (backup drivers).
    pub plugins: NodePlugins,
}

/// Console and SFTP access taken back by the panel before the tokens run out.
#[derive(Default)]
struct Revocations {
    /// Token ids, with their expiry so the list can be pruned.
    token_ids: HashMap<String, i64>,
    /// (server, user) → when: tokens issued before then are dead.
    users: HashMap<(String, String), i64>,
    /// server → when: everyone's sessions from before then are dead (suspension,
    /// deletion).
    servers: HashMap<String, i64>,
}

impl<E: Executor> Manager<E> {
    pub fn new(config: WingsConfig, executor: E) -> Arc<Manager<E>> {
        let user = &config.system.user;
        let panel = PanelClient::new(&config.remote, &config.token_id, &config.token);
        let node = Arc::new(Node {
            executor: Arc::new(executor),
            data: config.system.data.clone(),
            root: config.system.root_directory.clone(),
            ulimits: config.docker.ulimits.clone(),
            pid_limit: config.docker.container_pid_limit,
            tmpfs_mb: config.docker.tmpfs_size,
            docker_interface: config.docker.network.interface.clone(),
            container_user: Some(format!("{}:{}", user.uid, user.gid)),
            installer_limits: ResourceLimits {
                memory_mb: config.docker.installer_limits.memory,
                cpu_percent: config.docker.installer_limits.cpu,
                ..ResourceLimits::default()
            },
            panel: Some(panel.clone()),
        });
        let plugins = NodePlugins::new(&config.system.root_directory);
        Arc::new(Manager {
            config,
            node,
            panel,
            servers: RwLock::default(),
            loaded: std::sync::atomic::AtomicBool::new(false),
            revoked: Mutex::default(),
            revocations: tokio::sync::watch::Sender::new(0),
            pending_console_auths: Arc::default(),
            used_transfer_tokens: Mutex::default(),
            activity: Mutex::default(),
            plugins,
        })
    }

    /// Loads every server the panel placed here and re-attaches to the containers that
    /// kept running while wings was down. One bad server does not stop the others.
    pub async fn boot(self: &Arc<Self>) -> Result<()> {
        let remote = self.panel.servers().await?;
        tracing::info!(count = remote.len(), "loaded the servers on this node");
        for description in remote {
            let uuid = description.settings.uuid.clone();
            let server = match self.add(&description) {
                Ok(server) => server,
                Err(err) => {
                    tracing::warn!(server = %uuid, "cannot load this server: {err}");
                    continue;
                }
            };
            if let Err(err) = server.reattach().await {
                tracing::warn!(server = %uuid, "cannot re-attach to this server: {err}");
            }
        }
        self.loaded
            .store(true, std::sync::atomic::Ordering::Release);
        // An installation that wings died during, or that waited for the panel, runs
        // again rather than being forgotten; the panel is told which.
        let resuming: Vec<_> = self
            .servers()
            .into_iter()
            .filter(|server| {
                matches!(
                    server.install_state(),
                    InstallState::Installing | InstallState::Waiting(_)
                )
            })
            .collect();
        let uuids: Vec<String> = resuming.iter().map(|server| server.uuid()).collect();
        if let Err(err) = self.panel.reset_states(&uuids).await {
            tracing::warn!("could not tell the panel that wings restarted: {err}");
        }
        for server in resuming {
            tracing::info!(server = %server.uuid(), "resuming an installation that did not finish");
            self.spawn_install(server, false, false);
        }
        self.deliver_pending_results();
        self.spawn_activity_flusher();
        Ok(())
    }

    /// Where results the panel must receive wait until it has them.
    fn outbox(&self) -> std::path::PathBuf {
        self.node.root.join("outbox")
    }

    /// Records an installation's outcome for the panel (on disk first, so a wings
    /// restart does not lose it) and delivers it, retrying while the panel is away.
    fn report_install(self: &Arc<Self>, uuid: &str, successful: bool, reinstall: bool) {
        let file = self.outbox().join(format!("install-{uuid}.json"));
        let record =
            serde_json::json!({ "server": uuid, "successful": successful, "reinstall": reinstall });
        let written = std::fs::create_dir_all(self.outbox())
            .and_then(|()| std::fs::write(&file, record.to_string()));
        if let Err(err) = written {
            tracing::warn!(server = %uuid, "cannot keep the install result on disk: {err}");
        }
        self.spawn_delivery(file, record);
    }

    /// Delivers what an earlier wings could not.
    fn deliver_pending_results(self: &Arc<Self>) {
        let Ok(entries) = std::fs::read_dir(self.outbox()) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.path();
            match std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            {
                Some(record) => self.spawn_delivery(file, record),
                None => {
                    tracing::warn!(file = %file.display(), "dropping an unreadable pending result");
                    let _ = std::fs::remove_file(&file);
                }
            }
        }
    }

    fn spawn_delivery(self: &Arc<Self>, file: std::path::PathBuf, record: serde_json::Value) {
        let manager = self.clone();
        tokio::spawn(async move {
            let uuid = record["server"].as_str().unwrap_or_default().to_string();
            let successful = record["successful"].as_bool().unwrap_or(false);
            let reinstall = record["reinstall"].as_bool().unwrap_or(false);
            let delivered = until_answered(
                || manager.panel.report_install(&uuid, successful, reinstall),
                |err| tracing::warn!(server = %uuid, "the install result waits for the panel: {err}"),
            )
            .await;
            if let Err(err) = delivered {
                // A 4xx is final (the server was deleted meanwhile): nothing to retry.
                tracing::warn!(server = %uuid, "the panel refused the install result: {err}");
            }
            let _ = std::fs::remove_file(&file);
        });
    }

    fn add(&self, description: &RemoteServer) -> Result<Arc<Server<E>>> {
        let config = description.server_config(STOP_TIMEOUT)?;
        let mut servers = self.servers.write().expect("servers lock");
        let server = match servers.get(&config.uuid) {
            Some(existing) => {
                existing.update_config(config);
                existing.clone()
            }
            None => {
                let server = Server::new(self.node.clone(), config);
                servers.insert(server.uuid(), server.clone());
                self.spawn_state_reports(&server);
                server
            }
        };
        Ok(server)
    }

    /// Tells the panel of the server's state changes and crashes, for its plugins. One
    /// try each: the next change supersedes a lost one. Ends with the server.
    fn spawn_state_reports(&self, server: &Arc<Server<E>>) {
        let (_, mut events) = server.subscribe();
        let panel = self.panel.clone();
        let uuid = server.uuid();
        tokio::spawn(async move {
            loop {
                let report = match events.recv().await {
                    Ok(ServerEvent::State(state)) => {
                        serde_json::json!({ "event": "state-changed", "state": state })
                    }
                    Ok(ServerEvent::Crashed {
                        exit_code,
                        oom_killed,
                    }) => serde_json::json!({
                        "event": "crashed",
                        "exit_code": exit_code,
                        "oom_killed": oom_killed,
                    }),
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                if let Err(err) = panel.report_server_event(&uuid, report).await {
                    tracing::debug!(server = %uuid, "the panel did not take a state report: {err}");
                }
            }
        });
    }

    /// Fails while wings is still loading its servers (see `loaded`).
    pub fn ensure_loaded(&self) -> Result<()> {
        match self.loaded.load(std::sync::atomic::Ordering::Acquire) {
            true => Ok(()),
            false => Err(Error::Loading(
                "wings has just started and is still loading its servers from the panel; try again shortly".into(),
            )),
        }
    }

    pub fn server(&self, uuid: &str) -> Result<Arc<Server<E>>> {
        self.ensure_loaded()?;
        self.servers
            .read()
            .expect("servers lock")
            .get(uuid)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("server {uuid} is not on this node")))
    }

    /// Every server, ordered by uuid.
    pub fn servers(&self) -> Vec<Arc<Server<E>>> {
        let mut servers: Vec<_> = self
            .servers
            .read()
            .expect("servers lock")
            .values()
            .cloned()
            .collect();
        servers.sort_by_key(|server| server.uuid());
        servers
    }

    /// The server whose uuid starts with `short_id` (SFTP usernames carry 8 hex digits).
    pub fn server_by_short_id(&self, short_id: &str) -> Option<Arc<Server<E>>> {
        if short_id.len() < 8 {
            return None;
        }
        let servers = self.servers.read().expect("servers lock");
        let mut matches = servers
            .iter()
            .filter(|(uuid, _)| uuid.starts_with(short_id));
        match (matches.next(), matches.next()) {
            (Some((_, server)), None) => Some(server.clone()),
            _ => None,
        }
    }

    /// A new server from the panel: fetches its configuration, then installs it in the
    /// background (and starts it afterwards when asked).
    pub async fn create_server(self: &Arc<Self>, uuid: &str, start_after: bool) -> Result<()> {
        if self.server(uuid).is_ok() {
            return Err(Error::InvalidState(format!(
                "server {uuid} already exists on this node"
            )));
        }
        let description = self.panel.server(uuid).await?;
        let skip_scripts = description.settings.skip_egg_scripts;
        let server = self.add(&description)?;
        std::fs::create_dir_all(server.volume()).map_err(|source| Error::Io {
            context: format!("cannot create {}", server.volume().display()),
            source,
        })?;
        if skip_scripts {
            server.set_install_state(InstallState::Installed);
            self.report_install(uuid, true, false);
            if start_after {
                server.start().await?;
            }
            return Ok(());
        }
        // Not startable until the installer has run.
        server.set_install_state(InstallState::Installing);
        self.spawn_install(server, false, start_after);
        Ok(())
    }

    /// Fetches the server's configuration again; it applies at the next start. A server
    /// that became suspended is stopped.
    pub async fn sync_server(&self, uuid: &str) -> Result<()> {
        let server = self.server(uuid)?;
        let description = self.panel.server(uuid).await?;
        self.add(&description)?;
        if server.is_suspended() {
            // Nobody keeps a console or SFTP session on a suspended server.
            self.revoke_server(uuid);
            if server.state() != PowerState::Offline {
                server.daemon_message("the server was suspended; stopping it");
                server.stop().await?;
            }
        }
        Ok(())
    }

    /// Runs the egg's install script in the background and reports the result.
    pub fn spawn_install(
        self: &Arc<Self>,
        server: Arc<Server<E>>,
        reinstall: bool,
        start_after: bool,
    ) {
        let manager = self.clone();
        tokio::spawn(async move {
            let uuid = server.uuid();
            let result = async {
                let waiting = |err: &Error| {
                    server.set_install_state(InstallState::Waiting(format!(
                        "the panel cannot be reached: {err}"
                    )))
                };
                if reinstall {
                    // Not startable from here on; a wings restart resumes it.
                    server.set_install_state(InstallState::Installing);
                    server.stop().await?;
                    // The latest variables and image, as the panel has them now.
                    let description =
                        until_answered(|| manager.panel.server(&uuid), &waiting).await?;
                    manager.add(&description)?;
                }
                // A panel that is away (restarting, crashed) is waited for: the
                // installation runs when it answers, it is not failed.
                let script =
                    until_answered(|| manager.panel.install_script(&uuid), &waiting).await?;
                server.install(&script).await
            }
            .await;
            let successful = match result {
                Ok(successful) => successful,
                Err(err) => {
                    tracing::warn!(server = %uuid, "installation failed: {err}");
                    server.daemon_message(format!("the installation failed: {err}"));
                    // (Unless another installation of it is running right now.)
                    if !server.is_installing()
                        && !matches!(server.install_state(), InstallState::Failed(_))
                    {
                        server.set_install_state(InstallState::Failed(err.to_string()));
                    }
                    false
                }
            };
            manager.report_install(&uuid, successful, reinstall);
            if successful
                && start_after
                && let Err(err) = server.start().await
            {
                tracing::warn!(server = %uuid, "could not start after installing: {err}");
            }
        });
    }

    /// Kills the server, removes its container and deletes its files.
    pub async fn delete_server(&self, uuid: &str) -> Result<()> {
        let server = self.server(uuid)?;
        self.revoke_server(uuid);
        server.retire().await?;
        self.node.executor.remove(uuid).await?;
        self.servers.write().expect("servers lock").remove(uuid);
        let volume = server.volume();
        if volume.exists() {
            std::fs::remove_dir_all(&volume).map_err(|source| Error::Io {
                context: format!("cannot delete {}", volume.display()),
                source,
            })?;
        }
        let _ = std::fs::remove_file(server.install_log());
        server.forget_state();
        Ok(())
    }

    /// Takes console tokens back before they expire.
    pub fn revoke_tokens(&self, token_ids: &[String]) {
        let mut revoked = self.revoked.lock().expect("revocations lock");
        let now = now();
        revoked.token_ids.retain(|_, expires| *expires > now);
        for id in token_ids {
            // Console tokens live for minutes; a day covers any the panel issued.
            revoked.token_ids.insert(id.clone(), now + 86_400);
        }
        drop(revoked);
        self.revocations.send_modify(|n| *n += 1);
    }

    /// Ends everyone's consoles and SFTP sessions on `server` opened until now.
    pub fn revoke_server(&self, server: &str) {
        self.revoked
            .lock()
            .expect("revocations lock")
            .servers
            .insert(server.to_string(), now());
        self.revocations.send_modify(|n| *n += 1);
    }

    /// Changes whenever something is revoked; sessions wait on it to check at once.
    pub fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revocations.subscribe()
    }

    /// Ends a user's access to servers (all of this node's when `servers` is empty):
    /// tokens issued until now stop working and open sessions close.
    pub fn revoke_user(&self, user: &str, servers: &[String]) {
        let servers = if servers.is_empty() {
            self.servers().iter().map(|s| s.uuid()).collect()
        } else {
            servers.to_vec()
        };
        let mut revoked = self.revoked.lock().expect("revocations lock");
        let now = now();
        for server in servers {
            revoked.users.insert((server, user.to_string()), now);
        }
        drop(revoked);
        self.revocations.send_modify(|n| *n += 1);
    }

    /// Whether a session opened by `user` at `issued_at` on `server` (with token `jti`)
    /// has been taken back.
    pub fn is_revoked(&self, server: &str, user: &str, jti: &str, issued_at: i64) -> bool {
        let revoked = self.revoked.lock().expect("revocations lock");
        (!jti.is_empty() && revoked.token_ids.contains_key(jti))
            || revoked
                .users
                .get(&(server.to_string(), user.to_string()))
                .is_some_and(|at| issued_at <= *at)
            || revoked
                .servers
                .get(server)
                .is_some_and(|at| issued_at <= *at)
    }

    /// Marks a signed URL's token as used; false when it already was.
    pub fn use_transfer_token(&self, unique_id: &str, expires_at: i64) -> bool {
        let mut used = self.used_transfer_tokens.lock().expect("tokens lock");
        let now = now();
        used.retain(|_, expires| *expires > now);
        used.insert(unique_id.to_string(), expires_at).is_none()
    }

    /// Queues something a user did for the panel's activity log.
    pub fn record_activity(
        &self,
        server: &str,
        user: Option<&str>,
        event: &str,
        metadata: Value,
        ip: &str,
    ) {
        let mut activity = self.activity.lock().expect("activity lock");
        if activity.len() >= ACTIVITY_BACKLOG {
            activity.remove(0);
        }
        activity.push(ActivityEvent {
            server: server.to_string(),
            user: user.map(str::to_string),
            event: event.to_string(),
            metadata,
            ip: ip.to_string(),
            timestamp: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        });
    }

    fn spawn_activity_flusher(self: &Arc<Self>) {
        let manager = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(ACTIVITY_FLUSH).await;
                let Some(manager) = manager.upgrade() else {
                    return;
                };
                manager.flush_activity().await;
            }
        });
    }

    /// Sends queued activity to the panel; on failure it stays queued for next time.
    pub async fn flush_activity(&self) {
        let batch = std::mem::take(&mut *self.activity.lock().expect("activity lock"));
        if batch.is_empty() {
            return;
        }
        if let Err(err) = self.panel.send_activity(batch.clone()).await {
            tracing::debug!("activity not sent yet: {err}");
            let mut activity = self.activity.lock().expect("activity lock");
            let newer = std::mem::replace(&mut *activity, batch);
            activity.extend(newer);
            let excess = activity.len().saturating_sub(ACTIVITY_BACKLOG);
            activity.drain(..excess);
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
