//! The node configuration: a YAML file in Pterodactyl's `config.yml` format, so an
//! existing wings configuration works unchanged. Keys wings does not use are ignored
//! (Pterodactyl's file carries many); missing or malformed required keys stop wings
//! with a message naming the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Where wings looks when `--config` is not given, in order.
pub const DEFAULT_PATHS: &[&str] = &["/etc/hatchery/wings.yml", "/etc/pterodactyl/config.yml"];

#[derive(Debug, Clone, Deserialize)]
pub struct WingsConfig {
    #[serde(default)]
    pub debug: bool,
    /// This node's id in the panel.
    pub uuid: String,
    /// The id half of the node token: wings authenticates to the panel as
    /// `token_id.token`.
    pub token_id: String,
    /// The node token: the panel authenticates to wings with it, and console tokens
    /// are signed with it.
    pub token: String,
    #[serde(default)]
    pub api: ApiConfig,
    #[serde(default)]
    pub system: SystemConfig,
    #[serde(default)]
    pub docker: DockerConfig,
    /// The panel's base URL.
    pub remote: String,
    #[serde(default)]
    pub allowed_mounts: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Top-level keys wings does not know, reported as warnings.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_yaml_ng::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ApiConfig {
    pub host: String,
    pub port: u16,
    pub ssl: SslConfig,
    /// Largest upload through the file API, in MiB.
    pub upload_limit: u64,
    /// Reverse proxies in front of wings: only requests from these addresses may name
    /// the client's address in `X-Real-IP` or `X-Forwarded-For`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Refuse every "pull a file from a URL" request (Pterodactyl's key).
    pub disable_remote_download: bool,
    /// Let pulls reach private, loopback and link-local addresses (Hatchery's key; off:
    /// a pull must not become a way into the node's own network).
    pub remote_download_private_networks: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            host: "0.0.0.0".into(),
            port: 8080,
            ssl: SslConfig::default(),
            upload_limit: 100,
            trusted_proxies: Vec::new(),
            disable_remote_download: false,
            remote_download_private_networks: false,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SslConfig {
    pub enabled: bool,
    pub cert: String,
    pub key: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SystemConfig {
    pub root_directory: PathBuf,
    pub log_directory: PathBuf,
    /// Where server volumes live, one directory per server.
    pub data: PathBuf,
    pub archive_directory: PathBuf,
    pub backup_directory: PathBuf,
    pub tmp_directory: PathBuf,
    pub username: String,
    pub timezone: String,
    pub user: SystemUser,
    pub sftp: SftpConfig,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            root_directory: "/var/lib/pterodactyl".into(),
            log_directory: "/var/log/pterodactyl".into(),
            data: "/var/lib/pterodactyl/volumes".into(),
            archive_directory: "/var/lib/pterodactyl/archives".into(),
            backup_directory: "/var/lib/pterodactyl/backups".into(),
            tmp_directory: "/tmp/pterodactyl".into(),
            username: "pterodactyl".into(),
            timezone: "UTC".into(),
            user: SystemUser::default(),
            sftp: SftpConfig::default(),
        }
    }
}

/// The user game-server processes run as inside their containers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SystemUser {
    pub uid: u32,
    pub gid: u32,
}

impl Default for SystemUser {
    fn default() -> Self {
        SystemUser { uid: 988, gid: 988 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SftpConfig {
    pub bind_address: String,
    pub bind_port: u16,
    pub read_only: bool,
}

impl Default for SftpConfig {
    fn default() -> Self {
        SftpConfig {
            bind_address: "0.0.0.0".into(),
            bind_port: 2022,
            read_only: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DockerConfig {
    /// The Docker API socket; `DOCKER_HOST` or the platform default when empty.
    pub socket: String,
    pub network: DockerNetwork,
    pub domainname: String,
    /// Processes allowed per server container (and installer).
    pub container_pid_limit: i64,
    /// Size in MiB of the `/tmp` tmpfs every container gets.
    pub tmpfs_size: u64,
    /// Resource limits of install containers.
    pub installer_limits: InstallerLimits,
    /// Limits applied to every container; some engines refuse to start without them.
    pub ulimits: Vec<Ulimit>,
}

impl Default for DockerConfig {
    fn default() -> Self {
        DockerConfig {
            socket: String::new(),
            network: DockerNetwork::default(),
            domainname: String::new(),
            container_pid_limit: 512,
            tmpfs_size: 100,
            installer_limits: InstallerLimits::default(),
            ulimits: vec![
                Ulimit {
                    name: "nofile".into(),
                    soft: 1024,
                    hard: 20_000,
                },
                Ulimit {
                    name: "nproc".into(),
                    soft: 1000,
                    hard: 1000,
                },
            ],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DockerNetwork {
    pub name: String,
    pub interface: String,
    pub dns: Vec<String>,
}

impl Default for DockerNetwork {
    fn default() -> Self {
        DockerNetwork {
            name: "pterodactyl_nw".into(),
            interface: "172.18.0.1".into(),
            dns: vec!["1.1.1.1".into(), "1.0.0.1".into()],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct InstallerLimits {
    /// MiB.
    pub memory: u64,
    /// Percent of one core.
    pub cpu: u64,
}

impl Default for InstallerLimits {
    fn default() -> Self {
        InstallerLimits {
            memory: 1024,
            cpu: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

impl WingsConfig {
    /// Reads `path`, or the first default path that exists.
    pub fn load(path: Option<&Path>) -> Result<(WingsConfig, PathBuf)> {
        let path = match path {
            Some(path) => path.to_path_buf(),
            None => DEFAULT_PATHS
                .iter()
                .map(PathBuf::from)
                .find(|candidate| candidate.exists())
                .ok_or_else(|| {
                    Error::Config(format!(
                        "no configuration file found at {}; pass --config <file> (the panel prints one with `hatchery node config <node>`)",
                        DEFAULT_PATHS.join(" or ")
                    ))
                })?,
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|err| Error::Config(format!("cannot read {}: {err}", path.display())))?;
        let config = WingsConfig::parse(&text)
            .map_err(|err| Error::Config(format!("{}: {err}", path.display())))?;
        Ok((config, path))
    }

    /// Parses and checks configuration text; errors name the key.
    pub fn parse(text: &str) -> Result<WingsConfig, String> {
        let config: WingsConfig = serde_yaml_ng::from_str(text).map_err(|err| err.to_string())?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        for (key, value) in [
            ("uuid", &self.uuid),
            ("token_id", &self.token_id),
            ("token", &self.token),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{key}: must not be empty"));
            }
        }
        if !(self.remote.starts_with("http://") || self.remote.starts_with("https://")) {
            return Err(format!(
                "remote: `{}` is not a URL; write the panel's address like https://panel.example.com",
                self.remote
            ));
        }
        if self.api.port == 0 {
            return Err("api.port: must be a port number from 1 to 65535".into());
        }
        if self.api.ssl.enabled && (self.api.ssl.cert.is_empty() || self.api.ssl.key.is_empty()) {
            return Err("api.ssl: enabled, but cert or key is empty".into());
        }
        if !self.system.data.is_absolute() {
            return Err(format!(
                "system.data: `{}` must be an absolute path",
                self.system.data.display()
            ));
        }
        for limit in &self.docker.ulimits {
            if limit.soft > limit.hard {
                return Err(format!(
                    "docker.ulimits: {} has soft limit {} above its hard limit {}",
                    limit.name, limit.soft, limit.hard
                ));
            }
        }
        Ok(())
    }

    /// Keys present in the file that wings does not use.
    pub fn unknown_keys(&self) -> Vec<&str> {
        self.unknown.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration as Pterodactyl's panel generates it (trimmed of comments).
    const PTERODACTYL: &str = r#"
debug: false
app_name: Pterodactyl
uuid: 5f4d6f0a-3a5e-4a07-9f48-0d1c2b3a4e5f
token_id: Ab12Cd34Ef56Gh78
token: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
api:
  host: 0.0.0.0
  port: 8080
  ssl:
    enabled: false
    cert: /etc/letsencrypt/live/node.example.com/fullchain.pem
    key: /etc/letsencrypt/live/node.example.com/privkey.pem
  disable_remote_download: false
  upload_limit: 100
  trusted_proxies: []
system:
  root_directory: /var/lib/pterodactyl
  log_directory: /var/log/pterodactyl
  data: /var/lib/pterodactyl/volumes
  archive_directory: /var/lib/pterodactyl/archives
  backup_directory: /var/lib/pterodactyl/backups
  tmp_directory: /tmp/pterodactyl
  username: pterodactyl
  timezone: Europe/Berlin
  user:
    rootless:
      enabled: false
    uid: 988
    gid: 988
  disk_check_interval: 150
  check_permissions_on_boot: true
  sftp:
    bind_address: 0.0.0.0
    bind_port: 2022
    read_only: false
  crash_detection:
    enabled: true
    detect_clean_exit_as_crash: true
    timeout: 60
docker:
  network:
    interface: 172.18.0.1
    dns: [1.1.1.1, 1.0.0.1]
    name: pterodactyl_nw
    ispn: false
    driver: bridge
    network_mode: pterodactyl_nw
  domainname: ""
  registries: {}
  tmpfs_size: 100
  container_pid_limit: 512
  installer_limits:
    memory: 1024
    cpu: 100
throttles:
  enabled: true
  lines: 2000
remote: https://panel.example.com
remote_query:
  timeout: 30
allowed_mounts: []
allowed_origins: []
"#;

    #[test]
    fn a_pterodactyl_config_is_accepted_as_it_is() {
        let config = WingsConfig::parse(PTERODACTYL).unwrap();
        assert_eq!(config.token_id, "Ab12Cd34Ef56Gh78");
        assert_eq!(config.api.port, 8080);
        assert_eq!(config.system.sftp.bind_port, 2022);
        assert_eq!(config.system.timezone, "Europe/Berlin");
        assert_eq!(config.docker.container_pid_limit, 512);
        assert_eq!(config.remote, "https://panel.example.com");
        assert_eq!(
            config.unknown_keys(),
            ["app_name", "remote_query", "throttles"]
        );
        // Keys it does not set keep wings' defaults.
        assert_eq!(config.docker.ulimits[0].name, "nofile");
    }

    #[test]
    fn defaults_fill_a_minimal_config() {
        let config =
            WingsConfig::parse("uuid: a\ntoken_id: b\ntoken: c\nremote: http://panel\n").unwrap();
        assert_eq!(config.api.host, "0.0.0.0");
        assert_eq!(config.api.port, 8080);
        assert_eq!(config.system.sftp.bind_port, 2022);
    }

    #[test]
    fn missing_and_malformed_keys_are_named() {
        let cases = [
            (
                "token_id: b\ntoken: c\nremote: http://p\n",
                "missing field `uuid`",
            ),
            (
                "uuid: a\ntoken_id: b\ntoken: ''\nremote: http://p\n",
                "token: must not be empty",
            ),
            (
                "uuid: a\ntoken_id: b\ntoken: c\nremote: panel\n",
                "remote: `panel` is not a URL",
            ),
            (
                "uuid: a\ntoken_id: b\ntoken: c\nremote: http://p\napi:\n  port: nope\n",
                "api.port",
            ),
            (
                "uuid: a\ntoken_id: b\ntoken: c\nremote: http://p\napi:\n  port: 0\n",
                "api.port: must be a port number",
            ),
            (
                "uuid: a\ntoken_id: b\ntoken: c\nremote: http://p\nsystem:\n  data: relative/dir\n",
                "system.data: `relative/dir` must be an absolute path",
            ),
            (
                "uuid: a\ntoken_id: b\ntoken: c\nremote: http://p\ndocker:\n  ulimits:\n    - {name: nofile, soft: 10, hard: 5}\n",
                "docker.ulimits: nofile has soft limit 10 above its hard limit 5",
            ),
            ("uuid: a\ntoken: 'unterminated\n", "line 2"),
        ];
        for (text, expected) in cases {
            let err = WingsConfig::parse(text).unwrap_err();
            assert!(
                err.contains(expected),
                "{text:?}: `{err}` lacks `{expected}`"
            );
        }
    }
}
