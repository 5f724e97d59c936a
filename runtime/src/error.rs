//! The runtime's one error type: what went wrong reading, loading or calling a plugin.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `plugin.toml` that cannot be used; the message names the field.
    #[error("invalid plugin manifest: {0}")]
    Manifest(String),
    /// A plugin package that is refused (bad zip, hash, signature, contents).
    #[error("invalid plugin package: {0}")]
    Package(String),
    /// Plugin code that could not be loaded.
    #[error("{0}")]
    Load(String),
    /// A call into a plugin that failed: trap, panic, memory limit, or its own error.
    #[error("{0}")]
    Call(String),
    /// The plugin answered and said no, with a reason meant for the person (a
    /// password it will not keep).
    #[error("{0}")]
    Refused(String),
    /// A call that ran out of time.
    #[error("{0}")]
    Timeout(String),
    /// Every call slot of the plugin stayed taken.
    #[error("{0}")]
    Busy(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
