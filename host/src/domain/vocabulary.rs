//! Words the panel, its plugins and wings share, as types instead of strings: what a
//! power button sends, how a node's wings is reached, where a plugin came from.

use serde::{Deserialize, Serialize};

/// What a power button sends a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PowerSignal {
    Start,
    Stop,
    Restart,
    /// Stops the process at once, without the egg's stop command.
    Kill,
}

impl PowerSignal {
    pub const ALL: [PowerSignal; 4] = [
        PowerSignal::Start,
        PowerSignal::Stop,
        PowerSignal::Restart,
        PowerSignal::Kill,
    ];

    /// The word wings and Pterodactyl's API use.
    pub fn as_str(self) -> &'static str {
        match self {
            PowerSignal::Start => "start",
            PowerSignal::Stop => "stop",
            PowerSignal::Restart => "restart",
            PowerSignal::Kill => "kill",
        }
    }
}

impl std::str::FromStr for PowerSignal {
    type Err = String;

    fn from_str(text: &str) -> Result<PowerSignal, String> {
        PowerSignal::ALL
            .into_iter()
            .find(|signal| signal.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not one of start, stop, restart, kill"))
    }
}

impl std::fmt::Display for PowerSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the panel and browsers reach a node's wings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The console websocket's scheme over this one.
    pub fn websocket(self) -> &'static str {
        match self {
            Scheme::Http => "ws",
            Scheme::Https => "wss",
        }
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;

    fn from_str(text: &str) -> Result<Scheme, String> {
        match text {
            "http" => Ok(Scheme::Http),
            "https" => Ok(Scheme::Https),
            other => Err(format!("`{other}` is not a scheme: http or https")),
        }
    }
}

impl TryFrom<String> for Scheme {
    type Error = String;

    fn try_from(text: String) -> Result<Scheme, String> {
        text.parse()
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a plugin came to be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginSource {
    /// Installed from a package (signed, or allowed unsigned by the admin).
    Package,
    /// Placed in the plugins directory by the operator, and adopted at start.
    Directory,
}

impl PluginSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginSource::Package => "package",
            PluginSource::Directory => "directory",
        }
    }
}

impl TryFrom<String> for PluginSource {
    type Error = String;

    fn try_from(text: String) -> Result<PluginSource, String> {
        match text.as_str() {
            "package" => Ok(PluginSource::Package),
            "directory" => Ok(PluginSource::Directory),
            other => Err(format!("`{other}` is not a plugin source")),
        }
    }
}

/// What stands between a server and being ready; a ready server has none (Pterodactyl's
/// `status: null`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    Installing,
    InstallFailed,
    ReinstallFailed,
    Suspended,
    /// Its node is removing it.
    Deleting,
}

impl ServerStatus {
    pub const ALL: [ServerStatus; 5] = [
        ServerStatus::Installing,
        ServerStatus::InstallFailed,
        ServerStatus::ReinstallFailed,
        ServerStatus::Suspended,
        ServerStatus::Deleting,
    ];

    /// The word stored and shown (Pterodactyl's).
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Installing => "installing",
            ServerStatus::InstallFailed => "install_failed",
            ServerStatus::ReinstallFailed => "reinstall_failed",
            ServerStatus::Suspended => "suspended",
            ServerStatus::Deleting => "deleting",
        }
    }
}

impl std::str::FromStr for ServerStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<ServerStatus, String> {
        ServerStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not a server status"))
    }
}

impl std::fmt::Display for ServerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_strangers_are_refused() {
        for signal in PowerSignal::ALL {
            assert_eq!(signal.as_str().parse::<PowerSignal>(), Ok(signal));
        }
        assert!("reboot".parse::<PowerSignal>().is_err());
        assert_eq!("https".parse::<Scheme>(), Ok(Scheme::Https));
        assert_eq!(Scheme::Https.websocket(), "wss");
        assert!("ftp".parse::<Scheme>().is_err());
        for status in ServerStatus::ALL {
            assert_eq!(status.as_str().parse::<ServerStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert!("ready".parse::<ServerStatus>().is_err());
        assert_eq!(
            serde_json::to_string(&PowerSignal::Kill).unwrap(),
            "\"kill\""
        );
    }
}
