//! Configuration: `hatchery.toml` (optional) overridden by `HATCHERY_*` environment
//! variables. Anything unknown or invalid stops startup with a message naming the key.

pub use hatchery_runtime::WasmLimits;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The file read when `--config` and `HATCHERY_CONFIG` are both absent (if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "hatchery.toml";

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// How browsers and wings reach the panel, e.g. `https://panel.example.com`.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub plugins_dir: PathBuf,
    /// Where the panel's log filter comes from (`info`, `hatchery=debug`, …).
    pub log: String,
    pub plugins: PluginPolicy,
    pub wasm: WasmLimits,
    /// Largest plugin package accepted for installation.
    pub max_package_bytes: u64,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A browser session unused for this long ends (it also ends 14 days after
    /// sign-in, used or not).
    pub session_idle: std::time::Duration,
    /// The mail server plugins send through (`smtp://…`, `smtps://user:pass@…`); none:
    /// no e-mail.
    pub smtp_url: Option<String>,
    /// The sender of the panel's e-mail, e.g. `Hatchery <panel@example.com>`.
    pub mail_from: String,
}

#[derive(Debug, Clone, Default)]
pub struct PluginPolicy {
    /// Accept packages without a signature by a trusted key.
    pub allow_unsigned: bool,
    /// Base64 ed25519 public keys whose signatures are trusted.
    pub trusted_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    plugins_dir: Option<PathBuf>,
    log: Option<String>,
    max_package_mb: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    session_idle_minutes: Option<u64>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    #[serde(default)]
    plugins: FilePlugins,
    #[serde(default)]
    wasm: FileWasm,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlugins {
    allow_unsigned: Option<bool>,
    trusted_keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWasm {
    memory_mb: Option<u64>,
    timeout_ms: Option<u64>,
    concurrency: Option<u32>,
}

/// Every environment variable Hatchery reads, with the file key it overrides.
const ENV_KEYS: &[(&str, &str)] = &[
    ("HATCHERY_CONFIG", "--config"),
    ("HATCHERY_LISTEN", "listen"),
    ("HATCHERY_PUBLIC_URL", "public_url"),
    ("HATCHERY_DATA_DIR", "data_dir"),
    ("HATCHERY_DATABASE_URL", "database_url"),
    ("HATCHERY_PLUGINS_DIR", "plugins_dir"),
    ("HATCHERY_LOG", "log"),
    ("HATCHERY_MAX_PACKAGE_MB", "max_package_mb"),
    ("HATCHERY_TRUSTED_PROXIES", "trusted_proxies"),
    ("HATCHERY_SESSION_IDLE_MINUTES", "session_idle_minutes"),
    ("HATCHERY_SMTP_URL", "smtp_url"),
    ("HATCHERY_MAIL_FROM", "mail_from"),
    ("HATCHERY_ALLOW_UNSIGNED_PLUGINS", "plugins.allow_unsigned"),
    ("HATCHERY_TRUSTED_KEYS", "plugins.trusted_keys"),
    ("HATCHERY_WASM_MEMORY_MB", "wasm.memory_mb"),
    ("HATCHERY_WASM_TIMEOUT_MS", "wasm.timeout_ms"),
    ("HATCHERY_WASM_CONCURRENCY", "wasm.concurrency"),
    // Read by crate::faults, only in tests.
    ("HATCHERY_FAULT_POINT", "(a test's fault point)"),
];

impl Config {
    /// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> &str {
        let after_scheme = self.public_url.find("://").map_or(0, |index| index + 3);
        let end = self.public_url[after_scheme..]
            .find('/')
            .map_or(self.public_url.len(), |index| after_scheme + index);
        &self.public_url[..end]
    }

    /// Loads the configuration from the process environment and `explicit_file`
    /// (`--config`), `HATCHERY_CONFIG`, or `./hatchery.toml` when it exists.
    pub fn load(explicit_file: Option<&Path>) -> Result<Config> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(key, _)| key.starts_with("HATCHERY_"))
            .collect();
        Config::from_sources(explicit_file, &env)
    }

    /// The same as [`Config::load`] with the environment given explicitly (for tests).
    pub fn from_sources(
        explicit_file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Config> {
        for key in env.keys() {
            if key.starts_with("HATCHERY_") && !ENV_KEYS.iter().any(|(known, _)| known == key) {
                let known: Vec<&str> = ENV_KEYS.iter().map(|(name, _)| *name).collect();
                return Err(Error::Config(format!(
                    "unknown environment variable {key}; Hatchery reads {}",
                    known.join(", ")
                )));
            }
        }

        let file_path = explicit_file
            .map(Path::to_path_buf)
            .or_else(|| env.get("HATCHERY_CONFIG").map(PathBuf::from));
        let file = match &file_path {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileConfig::default(),
        };

        let listen_text = env
            .get("HATCHERY_LISTEN")
            .cloned()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8000".into());
        let listen = listen_text.parse::<SocketAddr>().map_err(|_| {
            Error::Config(format!(
                "listen: `{listen_text}` is not a socket address; write it like 127.0.0.1:8000"
            ))
        })?;

        let public_url = env
            .get("HATCHERY_PUBLIC_URL")
            .cloned()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "public_url: `{public_url}` is not a URL; write it like https://panel.example.com"
            )));
        }

        let data_dir = env
            .get("HATCHERY_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        if data_dir.as_os_str().is_empty() {
            return Err(Error::Config("data_dir: must not be empty".into()));
        }

        let database_url = env
            .get("HATCHERY_DATABASE_URL")
            .cloned()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("hatchery.db").display()));
        check_database_url(&database_url)?;

        let plugins_dir = env
            .get("HATCHERY_PLUGINS_DIR")
            .map(PathBuf::from)
            .or(file.plugins_dir)
            .unwrap_or_else(|| data_dir.join("plugins"));

        let log = env
            .get("HATCHERY_LOG")
            .cloned()
            .or(file.log)
            .unwrap_or_else(|| "info".into());

        let max_package_mb = number(env, "HATCHERY_MAX_PACKAGE_MB", "max_package_mb")?
            .or(file.max_package_mb)
            .unwrap_or(64);
        positive("max_package_mb", max_package_mb)?;
        let session_idle_minutes =
            number(env, "HATCHERY_SESSION_IDLE_MINUTES", "session_idle_minutes")?
                .or(file.session_idle_minutes)
                .unwrap_or(24 * 60);
        positive("session_idle_minutes", session_idle_minutes)?;
        let smtp_url = env
            .get("HATCHERY_SMTP_URL")
            .cloned()
            .or(file.smtp_url)
            .filter(|url| !url.trim().is_empty());
        // By default the panel's mail comes from its own host name.
        let mail_from = env
            .get("HATCHERY_MAIL_FROM")
            .cloned()
            .or(file.mail_from)
            .unwrap_or_else(|| {
                let host = public_url
                    .split("://")
                    .nth(1)
                    .unwrap_or_default()
                    .split(['/', ':'])
                    .next()
                    .filter(|host| host.parse::<std::net::IpAddr>().is_err() && !host.is_empty())
                    .unwrap_or("localhost");
                format!("Hatchery <hatchery@{host}>")
            });

        let allow_unsigned = match env.get("HATCHERY_ALLOW_UNSIGNED_PLUGINS") {
            Some(text) => boolean("plugins.allow_unsigned", text)?,
            None => file.plugins.allow_unsigned.unwrap_or(false),
        };
        let trusted_keys = match env.get("HATCHERY_TRUSTED_KEYS") {
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(str::to_owned)
                .collect(),
            None => file.plugins.trusted_keys.unwrap_or_default(),
        };
        for key in &trusted_keys {
            crate::plugins::package::parse_public_key(key).map_err(|err| {
                Error::Config(format!(
                    "plugins.trusted_keys: `{key}` is not usable: {err}"
                ))
            })?;
        }

        let proxies = match env.get("HATCHERY_TRUSTED_PROXIES") {
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|ip| !ip.is_empty())
                .map(str::to_owned)
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies = proxies
            .iter()
            .map(|ip| {
                ip.parse().map_err(|_| {
                    Error::Config(format!("trusted_proxies: `{ip}` is not an IP address"))
                })
            })
            .collect::<Result<Vec<std::net::IpAddr>>>()?;

        let defaults = WasmLimits::default();
        let wasm = WasmLimits {
            memory_mb: number(env, "HATCHERY_WASM_MEMORY_MB", "wasm.memory_mb")?
                .or(file.wasm.memory_mb)
                .unwrap_or(defaults.memory_mb),
            timeout_ms: number(env, "HATCHERY_WASM_TIMEOUT_MS", "wasm.timeout_ms")?
                .or(file.wasm.timeout_ms)
                .unwrap_or(defaults.timeout_ms),
            concurrency: number(env, "HATCHERY_WASM_CONCURRENCY", "wasm.concurrency")?
                .or(file.wasm.concurrency)
                .unwrap_or(defaults.concurrency),
        };
        positive("wasm.memory_mb", wasm.memory_mb)?;
        positive("wasm.timeout_ms", wasm.timeout_ms)?;
        positive("wasm.concurrency", u64::from(wasm.concurrency))?;

        Ok(Config {
            listen,
            public_url,
            data_dir,
            database_url,
            plugins_dir,
            log,
            plugins: PluginPolicy {
                allow_unsigned,
                trusted_keys,
            },
            wasm,
            max_package_bytes: max_package_mb * 1024 * 1024,
            session_idle: std::time::Duration::from_secs(session_idle_minutes * 60),
            smtp_url,
            mail_from,
            trusted_proxies,
        })
    }

    /// Where compiled Wasm components and copies of native libraries are kept.
    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache")
    }

    /// A plugin's private directory, preopened as `/data` when `storage` is granted.
    pub fn plugin_storage_dir(&self, plugin_id: &str) -> PathBuf {
        self.data_dir.join("plugin-data").join(plugin_id)
    }
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| Error::Config(format!("cannot read {}: {err}", path.display())))?;
    toml::from_str(&text).map_err(|err| Error::Config(format!("{}: {err}", path.display())))
}

fn check_database_url(url: &str) -> Result<()> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" | "postgres" | "postgresql" => Ok(()),
        _ => Err(Error::Config(format!(
            "database_url: scheme `{scheme}` is not supported; use sqlite://<file> or postgres://user@host/db"
        ))),
    }
}

fn number<T: std::str::FromStr>(
    env: &BTreeMap<String, String>,
    var: &str,
    key: &str,
) -> Result<Option<T>> {
    env.get(var)
        .map(|text| {
            text.trim().parse::<T>().map_err(|_| {
                Error::Config(format!(
                    "{key} (from {var}): `{text}` is not a whole number"
                ))
            })
        })
        .transpose()
}

fn boolean(key: &str, text: &str) -> Result<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::Config(format!(
            "{key}: `{text}` is not a boolean; use true or false"
        ))),
    }
}

fn positive(key: &str, value: u64) -> Result<()> {
    if value == 0 {
        return Err(Error::Config(format!("{key}: must be greater than zero")));
    }
    Ok(())
}
