//! What wings needs from a container engine. [`crate::docker::DockerExecutor`] is the
//! implementation over the Docker Engine API (Docker and podman); other engines can
//! implement the same trait.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::AsyncWrite;

use crate::config::Ulimit;
use crate::error::Result;

/// Everything needed to create a server's (or an installer's) container.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    /// Unique per node; wings uses the server's uuid (or `<uuid>_installer`).
    pub name: String,
    pub image: String,
    /// Overrides the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// Overrides the image's command.
    pub cmd: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub mounts: Vec<BindMount>,
    pub limits: ResourceLimits,
    /// Host addresses published with the same port inside, TCP and UDP.
    pub ports: Vec<PortBinding>,
    pub ulimits: Vec<Ulimit>,
    pub labels: BTreeMap<String, String>,
    /// The image's filesystem is read-only (game servers write only their volume and
    /// `/tmp`); installers, which install packages, keep it writable.
    pub read_only_root: bool,
    /// Size of the `/tmp` tmpfs in MiB; 0 mounts none.
    pub tmpfs_mb: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

/// A server's build limits, as the panel defines them (0 means unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    pub memory_mb: u64,
    /// Extra swap in MiB; -1 is unlimited swap, 0 none.
    pub swap_mb: i64,
    /// Percent of one core: 150 is one and a half cores.
    pub cpu_percent: u64,
    pub pids: i64,
    /// Block-IO weight, 10 to 1000.
    pub io_weight: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortBinding {
    pub ip: String,
    pub port: u16,
}

/// Where an image came from when it was needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource {
    Pulled,
    /// Present locally; pulling failed or was not needed.
    Local,
}

/// Output of a container, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputChunk {
    Stdout(Bytes),
    Stderr(Bytes),
}

pub type OutputStream = Pin<Box<dyn Stream<Item = Result<OutputChunk>> + Send>>;

/// A live connection to a container's standard streams.
pub struct Attachment {
    pub output: OutputStream,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    pub code: i64,
    /// The kernel killed the process for exceeding its memory limit.
    pub oom_killed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub running: bool,
    pub exit: Option<ExitStatus>,
    pub image: String,
}

/// A snapshot of a running container's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceUsage {
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    /// Percent of one core, like the build limit.
    pub cpu_percent: f64,
    pub network_rx_bytes: u64,
    pub network_tx_bytes: u64,
}

/// Facts about the engine, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    pub name: String,
    pub version: String,
    pub api_version: String,
}

/// A container engine.
pub trait Executor: Send + Sync + 'static {
    fn engine_info(&self) -> impl Future<Output = Result<EngineInfo>> + Send;

    /// Makes `image` available: pulls it, or falls back to a local copy when the pull
    /// fails. Errors when neither works, saying both.
    fn ensure_image(&self, image: &str) -> impl Future<Output = Result<ImageSource>> + Send;

    fn create(&self, spec: &ContainerSpec) -> impl Future<Output = Result<()>> + Send;

    /// Connects to stdin/stdout/stderr. Attach before `start`, or early output is lost.
    fn attach(&self, name: &str) -> impl Future<Output = Result<Attachment>> + Send;

    fn start(&self, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// The last `lines` lines the container printed (stdout and stderr, in order).
    fn recent_output(
        &self,
        name: &str,
        lines: usize,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// Sends a signal by name (`SIGINT`, `SIGTERM`, `SIGKILL`, …).
    fn signal(&self, name: &str, signal: &str) -> impl Future<Output = Result<()>> + Send;

    /// Waits until the container stops.
    fn wait(&self, name: &str) -> impl Future<Output = Result<ExitStatus>> + Send;

    /// `None` when no such container exists.
    fn state(&self, name: &str) -> impl Future<Output = Result<Option<ContainerState>>> + Send;

    fn usage(&self, name: &str) -> impl Future<Output = Result<ResourceUsage>> + Send;

    /// Removes the container (not its volume), stopping it first if needed.
    fn remove(&self, name: &str) -> impl Future<Output = Result<()>> + Send;
}
