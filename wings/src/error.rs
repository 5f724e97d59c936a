//! The daemon's one error type.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration problem; the message names the key.
    #[error("{0}")]
    Config(String),
    /// The container engine could not be reached or refused a request.
    #[error("container engine: {0}")]
    Engine(String),
    /// An image is neither present locally nor pullable.
    #[error("{0}")]
    ImageUnavailable(String),
    #[error("no container named {0}")]
    NoSuchContainer(String),
    /// A path that does not exist in a server's directory.
    #[error("{0}")]
    NotFound(String),
    /// The action does not fit what the server is doing (starting it twice, …).
    #[error("{0}")]
    InvalidState(String),
    /// The request itself is wrong (a bad path, a missing field, …).
    #[error("{0}")]
    BadRequest(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests of a kind at once; try again shortly.
    #[error("{0}")]
    TooManyRequests(String),
    /// A write would take the server over its disk quota.
    #[error("{0}")]
    QuotaExceeded(String),
    /// wings has only just started and is still loading its servers; try again shortly.
    #[error("{0}")]
    Loading(String),
    /// A plugin failed to load, or a call into it failed (trap, time limit, its own
    /// error).
    #[error("{0}")]
    Plugin(String),
    /// The panel could not be reached or answered with an error.
    #[error("panel: {0}")]
    Panel(String),
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

impl From<bollard::errors::Error> for Error {
    fn from(error: bollard::errors::Error) -> Self {
        Error::Engine(error.to_string())
    }
}
