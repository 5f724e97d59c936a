//! [`Executor`] over the Docker Engine API with bollard. Works against Docker and
//! against podman's Docker-compatible service; the API version is negotiated.

use std::collections::HashMap;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, HostConfig, PortBinding as DockerPortBinding, ResourcesUlimits,
};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    KillContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StatsOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::executor::{
    Attachment, ContainerSpec, ContainerState, EngineInfo, Executor, ExitStatus, ImageSource,
    OutputChunk, ResourceUsage,
};

/// How long a request to the engine may take (pulls stream for longer).
const REQUEST_TIMEOUT_SECS: u64 = 120;

#[derive(Clone)]
pub struct DockerExecutor {
    docker: Docker,
}

impl DockerExecutor {
    /// Connects to `socket` (a path or `unix://` URL), or to `DOCKER_HOST` / the
    /// platform default when empty, and negotiates the API version.
    pub async fn connect(socket: &str) -> Result<DockerExecutor> {
        let docker = if socket.is_empty() {
            Docker::connect_with_local_defaults()
        } else {
            Docker::connect_with_socket(socket, REQUEST_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
        }
        .map_err(|err| Error::Engine(format!("cannot connect: {err}")))?;
        let docker = docker.negotiate_version().await.map_err(|err| {
            Error::Engine(format!(
                "cannot reach the container engine{}: {err}; is Docker or `podman system service` running?",
                if socket.is_empty() { String::new() } else { format!(" at {socket}") }
            ))
        })?;
        Ok(DockerExecutor { docker })
    }
}

fn not_found(error: &DockerError) -> bool {
    matches!(
        error,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The container exists but is not running (Docker answers 409, podman 500 "can only
/// kill running containers").
fn not_running(error: &DockerError) -> bool {
    match error {
        DockerError::DockerResponseServerError {
            status_code,
            message,
        } => {
            *status_code == 409
                || message.contains("can only kill running containers")
                || message.contains("is not running")
        }
        _ => false,
    }
}

impl Executor for DockerExecutor {
    async fn engine_info(&self) -> Result<EngineInfo> {
        let version = self.docker.version().await?;
        let name = version
            .components
            .as_ref()
            .and_then(|components| components.first())
            .map(|component| component.name.clone())
            .unwrap_or_else(|| "Docker Engine".into());
        Ok(EngineInfo {
            name,
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
        })
    }

    async fn ensure_image(&self, image: &str) -> Result<ImageSource> {
        let options = CreateImageOptionsBuilder::new().from_image(image).build();
        let pulled: std::result::Result<Vec<_>, _> = self
            .docker
            .create_image(Some(options), None, None)
            .try_collect()
            .await;
        match pulled {
            Ok(_) => Ok(ImageSource::Pulled),
            Err(pull_error) => match self.docker.inspect_image(image).await {
                Ok(_) => {
                    tracing::info!(
                        image,
                        "using the local image: pulling failed ({pull_error})"
                    );
                    Ok(ImageSource::Local)
                }
                Err(_) => Err(Error::ImageUnavailable(format!(
                    "image {image} could not be pulled ({pull_error}) and is not present on this node; \
                     check the image name and the node's registry access"
                ))),
            },
        }
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<()> {
        /// Dropped from every container (the same set Pterodactyl's wings drops).
        const DROPPED_CAPABILITIES: &[&str] = &[
            "setpcap",
            "mknod",
            "audit_write",
            "net_raw",
            "dac_override",
            "fowner",
            "fsetid",
            "net_bind_service",
            "sys_chroot",
            "setfcap",
        ];
        let mut exposed_ports = Vec::new();
        let mut port_bindings: HashMap<String, Option<Vec<DockerPortBinding>>> = HashMap::new();
        for binding in &spec.ports {
            for protocol in ["tcp", "udp"] {
                let key = format!("{}/{protocol}", binding.port);
                exposed_ports.push(key.clone());
                port_bindings
                    .entry(key)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(DockerPortBinding {
                        host_ip: Some(binding.ip.clone()),
                        host_port: Some(binding.port.to_string()),
                    });
            }
        }
        let limits = spec.limits;
        let memory = (limits.memory_mb > 0).then(|| (limits.memory_mb * 1024 * 1024) as i64);
        let memory_swap = memory.map(|memory| {
            if limits.swap_mb < 0 {
                -1
            } else {
                memory + limits.swap_mb * 1024 * 1024
            }
        });
        let host_config = HostConfig {
            memory,
            memory_swap,
            cpu_period: (limits.cpu_percent > 0).then_some(100_000),
            cpu_quota: (limits.cpu_percent > 0).then(|| (limits.cpu_percent * 1_000) as i64),
            pids_limit: (limits.pids > 0).then_some(limits.pids),
            blkio_weight: (limits.io_weight > 0).then_some(limits.io_weight),
            ulimits: Some(
                spec.ulimits
                    .iter()
                    .map(|limit| ResourcesUlimits {
                        name: Some(limit.name.clone()),
                        soft: Some(limit.soft),
                        hard: Some(limit.hard),
                    })
                    .collect(),
            ),
            binds: Some(
                spec.mounts
                    .iter()
                    .map(|mount| {
                        format!(
                            "{}:{}{}",
                            mount.source.display(),
                            mount.target,
                            if mount.read_only { ":ro" } else { "" }
                        )
                    })
                    .collect(),
            ),
            port_bindings: Some(port_bindings),
            // Hardened as Pterodactyl's wings does it: capabilities a game server never
            // needs are dropped, nothing may gain privileges (setuid binaries), the
            // image is read-only for game servers, and /tmp is a bounded tmpfs.
            cap_drop: Some(DROPPED_CAPABILITIES.iter().map(|c| c.to_string()).collect()),
            security_opt: Some(vec!["no-new-privileges".into()]),
            readonly_rootfs: Some(spec.read_only_root),
            tmpfs: (spec.tmpfs_mb > 0).then(|| {
                HashMap::from([(
                    "/tmp".to_string(),
                    format!("rw,exec,nosuid,size={}m", spec.tmpfs_mb),
                )])
            }),
            ..HostConfig::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            entrypoint: spec.entrypoint.clone(),
            cmd: spec.cmd.clone(),
            env: Some(
                spec.env
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect(),
            ),
            working_dir: spec.working_dir.clone(),
            user: spec.user.clone(),
            labels: Some(spec.labels.clone().into_iter().collect()),
            exposed_ports: Some(exposed_ports),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(false),
            tty: Some(false),
            host_config: Some(host_config),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        self.docker.create_container(Some(options), body).await?;
        Ok(())
    }

    async fn recent_output(&self, name: &str, lines: usize) -> Result<Vec<u8>> {
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut logs = self.docker.logs(name, Some(options));
        let mut output = Vec::new();
        while let Some(item) = logs.next().await {
            match item? {
                LogOutput::StdOut { message }
                | LogOutput::StdErr { message }
                | LogOutput::Console { message } => output.extend_from_slice(&message),
                LogOutput::StdIn { .. } => {}
            }
        }
        Ok(output)
    }

    async fn attach(&self, name: &str) -> Result<Attachment> {
        let options = AttachContainerOptionsBuilder::new()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let attached = self
            .docker
            .attach_container(name, Some(options))
            .await
            .map_err(|err| {
                if not_found(&err) {
                    Error::NoSuchContainer(name.to_string())
                } else {
                    err.into()
                }
            })?;
        let output = attached
            .output
            .filter_map(|item| async move {
                match item {
                    Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                        Some(Ok(OutputChunk::Stdout(message)))
                    }
                    Ok(LogOutput::StdErr { message }) => Some(Ok(OutputChunk::Stderr(message))),
                    Ok(LogOutput::StdIn { .. }) => None,
                    Err(err) => Some(Err(Error::from(err))),
                }
            })
            .boxed();
        Ok(Attachment {
            output,
            input: attached.input,
        })
    }

    async fn start(&self, name: &str) -> Result<()> {
        self.docker
            .start_container(
                name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await?;
        Ok(())
    }

    async fn signal(&self, name: &str, signal: &str) -> Result<()> {
        let options = KillContainerOptionsBuilder::new().signal(signal).build();
        match self.docker.kill_container(name, Some(options)).await {
            // It has exited already: what the signal was for has happened.
            Err(err) if not_running(&err) => Ok(()),
            other => other.map_err(Into::into),
        }
    }

    async fn wait(&self, name: &str) -> Result<ExitStatus> {
        let mut waiting = self.docker.wait_container(
            name,
            None::<bollard::query_parameters::WaitContainerOptions>,
        );
        let code = match waiting.next().await {
            Some(Ok(response)) => response.status_code,
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(DockerError::DockerContainerWaitError { code, .. })) => code,
            Some(Err(err)) if not_found(&err) => {
                return Err(Error::NoSuchContainer(name.to_string()));
            }
            Some(Err(err)) => return Err(err.into()),
            None => {
                return Err(Error::Engine(format!(
                    "waiting for {name} ended without a status"
                )));
            }
        };
        let oom_killed = self
            .state(name)
            .await?
            .and_then(|state| state.exit)
            .is_some_and(|exit| exit.oom_killed);
        Ok(ExitStatus { code, oom_killed })
    }

    async fn state(&self, name: &str) -> Result<Option<ContainerState>> {
        let inspected = match self
            .docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
        {
            Ok(inspected) => inspected,
            Err(err) if not_found(&err) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let state = inspected.state.unwrap_or_default();
        let running = state.running.unwrap_or(false);
        Ok(Some(ContainerState {
            running,
            exit: (!running).then(|| ExitStatus {
                code: state.exit_code.unwrap_or(0),
                oom_killed: state.oom_killed.unwrap_or(false),
            }),
            image: inspected
                .config
                .and_then(|config| config.image)
                .unwrap_or_default(),
        }))
    }

    async fn usage(&self, name: &str) -> Result<ResourceUsage> {
        let options = StatsOptionsBuilder::new()
            .stream(false)
            .one_shot(false)
            .build();
        let stats = self
            .docker
            .stats(name, Some(options))
            .next()
            .await
            .ok_or_else(|| Error::Engine(format!("no statistics for {name}")))??;
        let cpu = stats.cpu_stats.unwrap_or_default();
        let previous = stats.precpu_stats.unwrap_or_default();
        let total = |stats: &bollard::models::ContainerCpuStats| {
            stats
                .cpu_usage
                .as_ref()
                .and_then(|usage| usage.total_usage)
                .unwrap_or(0)
        };
        let cpu_delta = total(&cpu).saturating_sub(total(&previous)) as f64;
        let system_delta =
            cpu.system_cpu_usage
                .unwrap_or(0)
                .saturating_sub(previous.system_cpu_usage.unwrap_or(0)) as f64;
        let cpus = f64::from(cpu.online_cpus.unwrap_or(1).max(1));
        let cpu_percent = if system_delta > 0.0 {
            cpu_delta / system_delta * cpus * 100.0
        } else {
            0.0
        };
        let memory = stats.memory_stats.unwrap_or_default();
        let (rx, tx) =
            stats
                .networks
                .unwrap_or_default()
                .values()
                .fold((0, 0), |(rx, tx), network| {
                    (
                        rx + network.rx_bytes.unwrap_or(0),
                        tx + network.tx_bytes.unwrap_or(0),
                    )
                });
        Ok(ResourceUsage {
            memory_bytes: memory.usage.unwrap_or(0),
            memory_limit_bytes: memory.limit.unwrap_or(0),
            cpu_percent,
            network_rx_bytes: rx,
            network_tx_bytes: tx,
        })
    }

    async fn remove(&self, name: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::new().force(true).build();
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(err) if not_found(&err) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
