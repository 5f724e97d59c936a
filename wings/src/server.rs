//! One game server on this node: its power state machine, console, egg configuration
//! files, installation, and crash handling, on top of an [`Executor`].
//!
//! States: `offline → starting → running → stopping → offline`. A server is `running`
//! once a console line matches one of the egg's "done" patterns (or at once, when the
//! egg has none). An exit that nobody asked for is a crash. The state is written to
//! disk on every change, so a restarted wings knows what it left behind.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use regex::Regex;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex as AsyncMutex, broadcast, watch};

use crate::config::Ulimit;
use crate::console::Console;
use crate::egg_files::{self, ConfigFile, Placeholders, ServerFacts};
use crate::error::{Error, Result};
use crate::executor::{
    BindMount, ContainerSpec, Executor, OutputChunk, PortBinding, ResourceLimits,
};
use crate::files::{DiskUsage, ServerFiles};
use crate::remote::ToServerConfig;

/// A crash within this long of the previous one is not restarted automatically.
pub const CRASH_LOOP_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    Offline,
    Starting,
    Running,
    Stopping,
}

impl PowerState {
    /// The name consoles and the panel use.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::Offline => "offline",
            PowerState::Starting => "starting",
            PowerState::Running => "running",
            PowerState::Stopping => "stopping",
        }
    }
}

/// How an egg stops its server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopAction {
    /// Type this into the console.
    Command(String),
    /// Send this signal.
    Signal(String),
}

impl StopAction {
    /// From an egg's `stop` value. `^C` is SIGINT (what Ctrl-C sends — Pterodactyl sends
    /// SIGKILL by mistake), `^^C` is SIGTERM and `^X` is SIGKILL; any other value is a
    /// console command.
    pub fn from_egg(value: &str) -> StopAction {
        match value.trim() {
            "^C" => StopAction::Signal("SIGINT".into()),
            "^^C" => StopAction::Signal("SIGTERM".into()),
            "^X" => StopAction::Signal("SIGKILL".into()),
            command => StopAction::Command(command.to_string()),
        }
    }
}

/// Everything wings needs to run one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub uuid: String,
    pub image: String,
    /// The startup command; the image's entrypoint runs it from `STARTUP`.
    pub startup: String,
    pub environment: BTreeMap<String, String>,
    pub limits: ResourceLimits,
    pub disk_mb: u64,
    pub default_allocation: PortBinding,
    pub extra_allocations: Vec<PortBinding>,
    /// Console lines that mean "started": substrings, or `regex:<pattern>`.
    pub done: Vec<String>,
    pub stop: StopAction,
    pub config_files: BTreeMap<String, ConfigFile>,
    pub stop_timeout: Duration,
    pub auto_restart: bool,
    /// A suspended server cannot be started and its console is closed.
    pub suspended: bool,
}

/// What an egg's installation runs.
#[derive(Debug, Clone)]
pub struct InstallScript {
    pub image: String,
    /// The shell that runs the script, e.g. `bash` or `ash`.
    pub entrypoint: String,
    pub script: String,
}

/// Things that happen to a server, for consoles and the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    State(PowerState),
    Console(String),
    InstallStarted,
    InstallOutput(String),
    InstallCompleted { successful: bool },
    Stats(Utilization),
    Crashed { exit_code: i64, oom_killed: bool },
    DaemonMessage(String),
}

/// Node-wide facts every server shares.
pub struct Node<E> {
    pub executor: Arc<E>,
    /// Server volumes live in `<data>/<uuid>`.
    pub data: PathBuf,
    /// Where wings keeps state files and install logs.
    pub root: PathBuf,
    pub ulimits: Vec<Ulimit>,
    pub pid_limit: i64,
    /// Size of every container's `/tmp` in MiB.
    pub tmpfs_mb: u64,
    pub docker_interface: String,
    /// The user processes run as inside containers (`uid:gid`); the image's when `None`.
    pub container_user: Option<String>,
    pub installer_limits: ResourceLimits,
    /// Asked for each server's configuration before it starts; `None` runs what is
    /// known (tests without a panel).
    pub panel: Option<crate::remote::PanelClient>,
}

/// How long a start waits for the panel's latest configuration before going on with
/// the last one known.
const REFRESH_WAIT: Duration = Duration::from_secs(5);

pub struct Server<E: Executor> {
    node: Arc<Node<E>>,
    config: std::sync::RwLock<ServerConfig>,
    state: watch::Sender<PowerState>,
    events: broadcast::Sender<ServerEvent>,
    console: Console,
    stdin: AsyncMutex<Option<Pin<Box<dyn AsyncWrite + Send>>>>,
    /// One power action or installation at a time.
    operation: AsyncMutex<()>,
    /// Set when the server is being deleted: it never starts again.
    retired: std::sync::atomic::AtomicBool,
    last_crash: std::sync::Mutex<Option<Instant>>,
    /// When the current container started, for uptime.
    started_at: std::sync::Mutex<Option<Instant>>,
    disk_usage: Arc<DiskUsage>,
    installing: std::sync::atomic::AtomicBool,
    /// Whether the server's files are ready to run; kept on disk, so a wings restart
    /// remembers an installation that failed or never ran.
    install_state: std::sync::Mutex<InstallState>,
}

/// Where a server's installation stands. Only an installed server starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "install", content = "reason", rename_all = "snake_case")]
pub enum InstallState {
    Installed,
    Installing,
    /// The install script could not be fetched (the panel is away); retried until it is.
    Waiting(String),
    Failed(String),
}

impl InstallState {
    /// Why a server in this state may not start, if it may not.
    pub fn refusal(&self) -> Option<String> {
        match self {
            InstallState::Installed => None,
            InstallState::Installing => Some("the server is still being installed".into()),
            InstallState::Waiting(reason) => Some(format!(
                "the installation has not run yet ({reason}); it starts as soon as the panel answers"
            )),
            InstallState::Failed(reason) => Some(format!(
                "install failed: {reason}; reinstall the server before starting it"
            )),
        }
    }
}

/// A server's live resource use, in the shape Pterodactyl's consoles and panel read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Utilization {
    pub state: PowerState,
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    /// Percent of one core.
    pub cpu_absolute: f64,
    pub network: NetworkUsage,
    pub disk_bytes: u64,
    /// Milliseconds since the container started.
    pub uptime: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct NetworkUsage {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// How often running servers publish their statistics while someone listens.
pub const STATS_INTERVAL: Duration = Duration::from_secs(2);

impl<E: Executor> Server<E> {
    pub fn new(node: Arc<Node<E>>, config: ServerConfig) -> Arc<Server<E>> {
        let (events, _) = broadcast::channel(4096);
        let server = Arc::new(Server {
            node,
            config: std::sync::RwLock::new(config),
            state: watch::Sender::new(PowerState::Offline),
            events,
            console: Console::default(),
            stdin: AsyncMutex::new(None),
            operation: AsyncMutex::new(()),
            retired: std::sync::atomic::AtomicBool::new(false),
            last_crash: std::sync::Mutex::new(None),
            started_at: std::sync::Mutex::new(None),
            disk_usage: Arc::default(),
            installing: Default::default(),
            install_state: std::sync::Mutex::new(InstallState::Installed),
        });
        // Servers from before install states were kept count as installed.
        if let Some(recorded) = server.recorded_install_state() {
            *server.install_state.lock().expect("install state lock") = recorded;
        }
        server
    }

    fn install_state_file(&self) -> PathBuf {
        self.node
            .root
            .join("states")
            .join(format!("{}.install.json", self.uuid()))
    }

    fn recorded_install_state(&self) -> Option<InstallState> {
        let text = std::fs::read_to_string(self.install_state_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn install_state(&self) -> InstallState {
        self.install_state
            .lock()
            .expect("install state lock")
            .clone()
    }

    /// Records the installation's state, on disk first.
    pub fn set_install_state(&self, state: InstallState) {
        let file = self.install_state_file();
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::write(&file, serde_json::to_string(&state).expect("plain data"))
            });
        if let Err(err) = written {
            tracing::warn!(server = %self.uuid(), "cannot record the install state: {err}");
        }
        *self.install_state.lock().expect("install state lock") = state;
    }

    pub fn uuid(&self) -> String {
        self.config.read().expect("config lock").uuid.clone()
    }

    /// Replaces the configuration; it takes effect at the next start.
    pub fn update_config(&self, config: ServerConfig) {
        *self.config.write().expect("config lock") = config;
    }

    pub fn state(&self) -> PowerState {
        *self.state.borrow()
    }

    pub fn config(&self) -> ServerConfig {
        self.config.read().expect("config lock").clone()
    }

    pub fn is_suspended(&self) -> bool {
        self.config.read().expect("config lock").suspended
    }

    pub fn is_installing(&self) -> bool {
        self.installing.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The last `lines` lines of console output.
    pub fn recent_output(&self, lines: usize) -> Vec<String> {
        let history = self.console.history();
        history[history.len().saturating_sub(lines)..].to_vec()
    }

    /// Tells everyone watching the console something from wings itself.
    pub fn daemon_message(&self, message: impl Into<String>) {
        let _ = self.events.send(ServerEvent::DaemonMessage(message.into()));
    }

    pub fn watch_state(&self) -> watch::Receiver<PowerState> {
        self.state.subscribe()
    }

    /// Recent console lines and a live feed of everything that happens from now on.
    pub fn subscribe(&self) -> (Vec<String>, broadcast::Receiver<ServerEvent>) {
        let receiver = self.events.subscribe();
        (self.console.history(), receiver)
    }

    pub fn volume(&self) -> PathBuf {
        self.node.data.join(self.uuid())
    }

    pub fn install_log(&self) -> PathBuf {
        self.node
            .root
            .join("install-logs")
            .join(format!("{}.log", self.uuid()))
    }

    fn state_file(&self) -> PathBuf {
        self.node
            .root
            .join("states")
            .join(format!("{}.json", self.uuid()))
    }

    fn set_state(&self, state: PowerState) {
        if *self.state.borrow() == state {
            return;
        }
        // Recorded before anyone hears of it, so a crash right after never loses it.
        let file = self.state_file();
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::write(&file, serde_json::json!({ "state": state }).to_string())
            });
        if let Err(err) = written {
            tracing::warn!(server = %self.uuid(), "could not record the server's state: {err}");
        }
        self.state.send_replace(state);
        let _ = self.events.send(ServerEvent::State(state));
    }

    /// Deletes the recorded state (the server was deleted).
    pub fn forget_state(&self) {
        let _ = std::fs::remove_file(self.state_file());
        let _ = std::fs::remove_file(self.install_state_file());
    }

    /// The state recorded before wings last stopped.
    pub fn recorded_state(&self) -> Option<PowerState> {
        let text = std::fs::read_to_string(self.state_file()).ok()?;
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        serde_json::from_value(value.get("state")?.clone()).ok()
    }

    /// Starts the server: applies the egg's configuration files, creates a fresh
    /// container and attaches to it before starting it, so no output is lost.
    pub async fn start(self: &Arc<Self>) -> Result<()> {
        if self.is_suspended() {
            return Err(Error::InvalidState(
                "the server is suspended; it cannot be started".into(),
            ));
        }
        if self.is_installing() {
            return Err(Error::InvalidState(
                "the server is being installed; start it when the installation has finished".into(),
            ));
        }
        if let Some(refusal) = self.install_state().refusal() {
            return Err(Error::InvalidState(refusal));
        }
        self.refresh_config().await;
        if self.is_suspended() {
            return Err(Error::InvalidState(
                "the server is suspended; it cannot be started".into(),
            ));
        }
        let _operation = self.operation.lock().await;
        if self.retired.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::InvalidState("the server is being deleted".into()));
        }
        if self.state() != PowerState::Offline {
            return Err(Error::InvalidState(format!(
                "the server is already {}",
                self.state().as_str()
            )));
        }
        self.set_state(PowerState::Starting);
        let started = self.launch().await;
        if let Err(err) = &started {
            let _ = self.events.send(ServerEvent::DaemonMessage(format!(
                "could not start: {err}"
            )));
            self.set_state(PowerState::Offline);
        }
        started
    }

    /// Takes the panel's current configuration: a change the panel saved but could not
    /// tell wings about (it was down, or died right after) applies at this start. A
    /// panel that cannot be asked does not stop the start.
    async fn refresh_config(&self) {
        let Some(panel) = &self.node.panel else {
            return;
        };
        let uuid = self.uuid();
        let fetched = tokio::time::timeout(REFRESH_WAIT, panel.server(&uuid)).await;
        let refreshed = match fetched {
            Ok(Ok(description)) => description
                .server_config(crate::manager::STOP_TIMEOUT)
                .map(|config| self.update_config(config)),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(Error::Panel(format!(
                "no answer within {} seconds",
                REFRESH_WAIT.as_secs()
            ))),
        };
        if let Err(err) = refreshed {
            tracing::warn!(server = %uuid, "starting with the last configuration known: {err}");
            self.daemon_message(format!(
                "the panel could not be asked for the latest configuration ({err}); starting with the last one known"
            ));
        }
    }

    async fn launch(self: &Arc<Self>) -> Result<()> {
        let config = self.config.read().expect("config lock").clone();
        let volume = self.volume();
        std::fs::create_dir_all(&volume).map_err(|source| Error::Io {
            context: format!("cannot create {}", volume.display()),
            source,
        })?;
        let placeholders = Placeholders::new(&self.facts(&config), &self.node.docker_interface);
        let files = self.files()?;
        for (path, file) in &config.config_files {
            egg_files::apply_to_file(&files, path, file, &placeholders)?;
        }
        let executor = &self.node.executor;
        executor.ensure_image(&config.image).await?;
        executor.remove(&config.uuid).await?;
        executor.create(&self.container_spec(&config)).await?;
        let attachment = executor.attach(&config.uuid).await?;
        *self.stdin.lock().await = Some(attachment.input);
        self.console.clear();

        let done = DonePatterns::new(&config.done)?;
        let running_at_once = done.is_empty();
        let server = self.clone();
        tokio::spawn(async move {
            let mut output = attachment.output;
            while let Some(chunk) = output.next().await {
                let Ok(OutputChunk::Stdout(bytes) | OutputChunk::Stderr(bytes)) = chunk else {
                    break;
                };
                for line in server.console.push(&bytes) {
                    if server.state() == PowerState::Starting && done.matches(&line) {
                        server.set_state(PowerState::Running);
                    }
                    let _ = server.events.send(ServerEvent::Console(line));
                }
            }
        });

        executor.start(&config.uuid).await?;
        *self.started_at.lock().expect("uptime lock") = Some(Instant::now());
        if running_at_once {
            self.set_state(PowerState::Running);
        }
        self.watch_exit();
        self.publish_stats();
        Ok(())
    }

    /// While the container runs, publishes its statistics every [`STATS_INTERVAL`] to
    /// whoever listens (nobody listening costs nothing but a timer).
    fn publish_stats(self: &Arc<Self>) {
        let server = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(
                tokio::time::Instant::now() + STATS_INTERVAL,
                STATS_INTERVAL,
            );
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(server) = server.upgrade() else {
                    return;
                };
                if server.state() == PowerState::Offline {
                    return;
                }
                if server.events.receiver_count() == 0 {
                    continue;
                }
                if let Ok(stats) = server.utilization().await {
                    let _ = server.events.send(ServerEvent::Stats(stats));
                }
            }
        });
    }

    /// Follows the container until it exits, then settles the state and handles a crash.
    fn watch_exit(self: &Arc<Self>) {
        let server = self.clone();
        tokio::spawn(async move {
            let uuid = server.uuid();
            let exit = server.node.executor.wait(&uuid).await;
            *server.stdin.lock().await = None;
            *server.started_at.lock().expect("uptime lock") = None;
            let expected = server.state() == PowerState::Stopping;
            server.set_state(PowerState::Offline);
            let Ok(exit) = exit else { return };
            if expected {
                return;
            }
            tracing::warn!(server = %uuid, code = exit.code, oom = exit.oom_killed, "server crashed");
            let _ = server.events.send(ServerEvent::Crashed {
                exit_code: exit.code,
                oom_killed: exit.oom_killed,
            });
            let now = Instant::now();
            let previous = server.last_crash.lock().expect("crash lock").replace(now);
            let auto_restart = server.config.read().expect("config lock").auto_restart;
            if !auto_restart {
                return;
            }
            if previous.is_some_and(|previous| now.duration_since(previous) < CRASH_LOOP_WINDOW) {
                let _ = server.events.send(ServerEvent::DaemonMessage(
                    "the server crashed twice within a minute; not restarting it automatically"
                        .into(),
                ));
                return;
            }
            let _ = server.events.send(ServerEvent::DaemonMessage(
                "restarting after a crash".into(),
            ));
            if let Err(err) = server.start().await {
                tracing::warn!(server = %uuid, "restart after a crash failed: {err}");
            }
        });
    }

    /// Stops the server the egg's way, then kills it if it has not stopped in time.
    pub async fn stop(self: &Arc<Self>) -> Result<()> {
        let _operation = self.operation.lock().await;
        if self.state() == PowerState::Offline {
            return Ok(());
        }
        let (stop, timeout) = {
            let config = self.config.read().expect("config lock");
            (config.stop.clone(), config.stop_timeout)
        };
        self.set_state(PowerState::Stopping);
        match stop {
            StopAction::Command(command) => self.write_stdin(&command).await?,
            StopAction::Signal(signal) => self.node.executor.signal(&self.uuid(), &signal).await?,
        }
        if !self.wait_offline(timeout).await {
            let _ = self.events.send(ServerEvent::DaemonMessage(format!(
                "the server did not stop within {} seconds; killing it",
                timeout.as_secs()
            )));
            self.node.executor.signal(&self.uuid(), "SIGKILL").await?;
            self.wait_offline(Duration::from_secs(30)).await;
        }
        Ok(())
    }

    /// For a deletion: nothing starts the server from now on (a restart after a crash
    /// included), a start under way finishes first, and then the game is killed.
    pub async fn retire(self: &Arc<Self>) -> Result<()> {
        self.retired
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _operation = self.operation.lock().await;
        self.kill().await
    }

    /// Kills the server at once.
    pub async fn kill(self: &Arc<Self>) -> Result<()> {
        if self.state() == PowerState::Offline {
            return Ok(());
        }
        self.set_state(PowerState::Stopping);
        self.node.executor.signal(&self.uuid(), "SIGKILL").await?;
        self.wait_offline(Duration::from_secs(30)).await;
        Ok(())
    }

    pub async fn restart(self: &Arc<Self>) -> Result<()> {
        self.stop().await?;
        self.start().await
    }

    /// Types a line into the server's console.
    pub async fn send_command(&self, command: &str) -> Result<()> {
        if !matches!(self.state(), PowerState::Starting | PowerState::Running) {
            return Err(Error::InvalidState("the server is not running".into()));
        }
        self.write_stdin(command).await
    }

    async fn write_stdin(&self, line: &str) -> Result<()> {
        let mut stdin = self.stdin.lock().await;
        let input = stdin
            .as_mut()
            .ok_or_else(|| Error::InvalidState("the server's console is not attached".into()))?;
        let write = async {
            input.write_all(line.as_bytes()).await?;
            input.write_all(b"\n").await?;
            input.flush().await
        };
        write.await.map_err(|source| Error::Io {
            context: "cannot write to the server's console".into(),
            source,
        })
    }

    async fn wait_offline(&self, limit: Duration) -> bool {
        let mut state = self.state.subscribe();
        tokio::time::timeout(limit, state.wait_for(|state| *state == PowerState::Offline))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }

    /// Runs the egg's install script in its own container, with the server's volume at
    /// `/mnt/server`. Output goes live to subscribers and into the install log.
    pub async fn install(self: &Arc<Self>, install: &InstallScript) -> Result<bool> {
        let _operation = self.operation.lock().await;
        if self.state() != PowerState::Offline {
            return Err(Error::InvalidState(
                "stop the server before installing it".into(),
            ));
        }
        use std::sync::atomic::Ordering;
        if self.installing.swap(true, Ordering::SeqCst) {
            return Err(Error::InvalidState(
                "the server is already being installed".into(),
            ));
        }
        let _ = self.events.send(ServerEvent::InstallStarted);
        self.set_install_state(InstallState::Installing);
        let result = self.run_installer(install).await;
        self.installing.store(false, Ordering::SeqCst);
        let successful = matches!(result, Ok(true));
        self.set_install_state(match &result {
            Ok(true) => InstallState::Installed,
            Ok(false) => InstallState::Failed(
                "the install script exited with an error; its log shows why".into(),
            ),
            Err(err) => InstallState::Failed(err.to_string()),
        });
        if let Err(err) = &result {
            let _ = self.events.send(ServerEvent::InstallOutput(format!(
                "[wings] the installation could not run: {err}"
            )));
        }
        let _ = self
            .events
            .send(ServerEvent::InstallCompleted { successful });
        result
    }

    async fn run_installer(self: &Arc<Self>, install: &InstallScript) -> Result<bool> {
        let config = self.config.read().expect("config lock").clone();
        let volume = self.volume();
        let scratch = self.node.root.join("install").join(&config.uuid);
        let log_path = self.install_log();
        for dir in [
            &volume,
            &scratch,
            &log_path.parent().expect("has a parent").to_path_buf(),
        ] {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                context: format!("cannot create {}", dir.display()),
                source,
            })?;
        }
        // Eggs are written on Windows as often as not.
        std::fs::write(
            scratch.join("install.sh"),
            install.script.replace("\r\n", "\n"),
        )
        .map_err(|source| Error::Io {
            context: "cannot write the install script".into(),
            source,
        })?;
        let mut log = std::fs::File::create(&log_path).map_err(|source| Error::Io {
            context: format!("cannot create {}", log_path.display()),
            source,
        })?;

        let name = format!("{}_installer", config.uuid);
        let mut spec = self.container_spec(&config);
        spec.name = name.clone();
        spec.image = install.image.clone();
        spec.entrypoint = Some(vec![
            install.entrypoint.clone(),
            "/mnt/install/install.sh".into(),
        ]);
        spec.cmd = None;
        spec.user = None;
        spec.working_dir = Some("/mnt/server".into());
        spec.ports = Vec::new();
        spec.limits = self.node.installer_limits;
        spec.limits.pids = self.node.pid_limit;
        spec.read_only_root = false;
        spec.mounts = vec![
            BindMount {
                source: volume,
                target: "/mnt/server".into(),
                read_only: false,
            },
            BindMount {
                source: scratch.clone(),
                target: "/mnt/install".into(),
                read_only: true,
            },
        ];
        let executor = &self.node.executor;
        executor.ensure_image(&install.image).await?;
        executor.remove(&name).await?;
        executor.create(&spec).await?;
        let mut attachment = executor.attach(&name).await?;
        executor.start(&name).await?;
        let console = Console::default();
        while let Some(chunk) = attachment.output.next().await {
            let Ok(OutputChunk::Stdout(bytes) | OutputChunk::Stderr(bytes)) = chunk else {
                break;
            };
            use std::io::Write;
            let _ = log.write_all(&bytes);
            for line in console.push(&bytes) {
                let _ = self.events.send(ServerEvent::InstallOutput(line));
            }
        }
        let exit = executor.wait(&name).await?;
        executor.remove(&name).await?;
        let _ = std::fs::remove_dir_all(&scratch);
        self.disk_usage.invalidate();
        Ok(exit.code == 0)
    }

    /// After a wings restart: re-attaches to a container that kept running.
    pub async fn reattach(self: &Arc<Self>) -> Result<()> {
        let uuid = self.uuid();
        let running = self
            .node
            .executor
            .state(&uuid)
            .await?
            .is_some_and(|state| state.running);
        if !running {
            self.set_state(PowerState::Offline);
            return Ok(());
        }
        // What the server printed while wings was away is still the console's history.
        let recent = self
            .node
            .executor
            .recent_output(&uuid, crate::console::HISTORY_LINES)
            .await
            .unwrap_or_default();
        self.console.clear();
        self.console.push(&recent);
        let attachment = self.node.executor.attach(&uuid).await?;
        *self.stdin.lock().await = Some(attachment.input);
        // The exact start is the engine's to know; counting from now is close enough.
        *self.started_at.lock().expect("uptime lock") = Some(Instant::now());
        self.set_state(PowerState::Running);
        self.publish_stats();
        let server = self.clone();
        tokio::spawn(async move {
            let mut output = attachment.output;
            while let Some(Ok(OutputChunk::Stdout(bytes) | OutputChunk::Stderr(bytes))) =
                output.next().await
            {
                for line in server.console.push(&bytes) {
                    let _ = server.events.send(ServerEvent::Console(line));
                }
            }
        });
        self.watch_exit();
        Ok(())
    }

    /// The server's files, with its disk quota and shared disk-usage figure.
    pub fn files(&self) -> Result<ServerFiles> {
        let quota_mb = self.config.read().expect("config lock").disk_mb;
        ServerFiles::open_shared(&self.volume(), quota_mb, self.disk_usage.clone())
    }

    /// CPU, memory and network from the engine (zero while offline), disk from the
    /// server's directory, and uptime.
    pub async fn utilization(&self) -> Result<Utilization> {
        let usage = if self.state() == PowerState::Offline {
            Default::default()
        } else {
            self.node
                .executor
                .usage(&self.uuid())
                .await
                .unwrap_or_default()
        };
        let disk_bytes = self.files()?.disk_usage()?;
        let uptime_ms = self
            .started_at
            .lock()
            .expect("uptime lock")
            .map_or(0, |started| started.elapsed().as_millis() as u64);
        Ok(Utilization {
            // Read last: the engine takes a moment to measure, and the state may move on.
            state: self.state(),
            memory_bytes: usage.memory_bytes,
            memory_limit_bytes: usage.memory_limit_bytes,
            cpu_absolute: usage.cpu_percent,
            network: NetworkUsage {
                rx_bytes: usage.network_rx_bytes,
                tx_bytes: usage.network_tx_bytes,
            },
            disk_bytes,
            uptime: uptime_ms,
        })
    }

    fn facts(&self, config: &ServerConfig) -> ServerFacts {
        ServerFacts {
            default_ip: config.default_allocation.ip.clone(),
            default_port: config.default_allocation.port,
            memory_mb: config.limits.memory_mb,
            swap_mb: config.limits.swap_mb,
            disk_mb: config.disk_mb,
            cpu_percent: config.limits.cpu_percent,
            io_weight: config.limits.io_weight,
            env: config.environment.clone(),
        }
    }

    fn container_spec(&self, config: &ServerConfig) -> ContainerSpec {
        let mut env: Vec<(String, String)> = config.environment.clone().into_iter().collect();
        env.extend([
            ("STARTUP".into(), config.startup.clone()),
            ("SERVER_MEMORY".into(), config.limits.memory_mb.to_string()),
            ("SERVER_IP".into(), config.default_allocation.ip.clone()),
            (
                "SERVER_PORT".into(),
                config.default_allocation.port.to_string(),
            ),
            ("P_SERVER_UUID".into(), config.uuid.clone()),
            ("TZ".into(), "UTC".into()),
        ]);
        let mut ports = vec![config.default_allocation.clone()];
        ports.extend(config.extra_allocations.iter().cloned());
        let mut limits = config.limits;
        if limits.pids == 0 {
            limits.pids = self.node.pid_limit;
        }
        ContainerSpec {
            name: config.uuid.clone(),
            image: config.image.clone(),
            env,
            working_dir: Some("/home/container".into()),
            user: self.node.container_user.clone(),
            mounts: vec![BindMount {
                source: self.volume(),
                target: "/home/container".into(),
                read_only: false,
            }],
            limits,
            ports,
            ulimits: self.node.ulimits.clone(),
            labels: BTreeMap::from([("hatchery.server".to_string(), config.uuid.clone())]),
            read_only_root: true,
            tmpfs_mb: self.node.tmpfs_mb,
            ..ContainerSpec::default()
        }
    }
}

/// The egg's "done" patterns, with ANSI colours ignored.
struct DonePatterns {
    substrings: Vec<String>,
    regexes: Vec<Regex>,
}

impl DonePatterns {
    fn new(patterns: &[String]) -> Result<DonePatterns> {
        let mut done = DonePatterns {
            substrings: Vec::new(),
            regexes: Vec::new(),
        };
        for pattern in patterns.iter().filter(|p| !p.is_empty()) {
            match pattern.strip_prefix("regex:") {
                Some(expression) => done.regexes.push(Regex::new(expression).map_err(|err| {
                    Error::Config(format!(
                        "the egg's startup pattern `{pattern}` is not a valid regex: {err}"
                    ))
                })?),
                None => done.substrings.push(pattern.clone()),
            }
        }
        Ok(done)
    }

    fn is_empty(&self) -> bool {
        self.substrings.is_empty() && self.regexes.is_empty()
    }

    fn matches(&self, line: &str) -> bool {
        let plain = strip_ansi(line);
        self.substrings.iter().any(|s| plain.contains(s.as_str()))
            || self.regexes.iter().any(|r| r.is_match(&plain))
    }
}

fn strip_ansi(line: &str) -> String {
    static ANSI: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    ANSI.get_or_init(|| Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]").expect("valid pattern"))
        .replace_all(line, "")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_values_follow_the_documented_meanings() {
        assert_eq!(
            StopAction::from_egg("^C"),
            StopAction::Signal("SIGINT".into())
        );
        assert_eq!(
            StopAction::from_egg("^^C"),
            StopAction::Signal("SIGTERM".into())
        );
        assert_eq!(
            StopAction::from_egg("^X"),
            StopAction::Signal("SIGKILL".into())
        );
        assert_eq!(
            StopAction::from_egg("stop"),
            StopAction::Command("stop".into())
        );
    }

    #[test]
    fn done_patterns_match_substrings_and_regexes_through_colours() {
        let done = DonePatterns::new(&[
            ")! For help, type ".into(),
            "regex:^Server listening on \\d+$".into(),
        ])
        .unwrap();
        assert!(
            done.matches("\x1b[32m[12:00:00 INFO]: Done (3.2s)! For help, type \"help\"\x1b[0m")
        );
        assert!(done.matches("Server listening on 27015"));
        assert!(!done.matches("Server listening on port"));
        assert!(DonePatterns::new(&["regex:(".into()]).is_err());
        assert!(DonePatterns::new(&[]).unwrap().is_empty());
    }
}
