//! The host's one error type: each variant is a kind of failure every layer speaks
//! of (not found, refused, a node away, …), with a stable `code`. How a kind becomes an
//! HTTP status and body is decided in `http::errors`.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration; the message names the key.
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A `plugin.toml` that cannot be used; the message names the field.
    #[error("invalid plugin manifest: {0}")]
    Manifest(String),
    /// A plugin package that is refused (bad zip, hash, signature, contents).
    #[error("invalid plugin package: {0}")]
    Package(String),
    /// Plugin code that could not be loaded.
    #[error("{0}")]
    PluginLoad(String),
    /// A call into a plugin that failed: trap, panic, memory or time limit.
    #[error("{0}")]
    PluginCall(String),
    #[error("{0}")]
    PluginTimeout(String),
    #[error("{0}")]
    PluginBusy(String),
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A node's wings could not be reached or refused the request.
    #[error("{0}")]
    Node(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<hatchery_runtime::Error> for Error {
    fn from(error: hatchery_runtime::Error) -> Self {
        use hatchery_runtime::Error as Runtime;
        match error {
            Runtime::Manifest(message) => Error::Manifest(message),
            Runtime::Package(message) => Error::Package(message),
            Runtime::Load(message) => Error::PluginLoad(message),
            Runtime::Call(message) => Error::PluginCall(message),
            Runtime::Refused(message) => Error::bad_request(message),
            Runtime::Timeout(message) => Error::PluginTimeout(message),
            Runtime::Busy(message) => Error::PluginBusy(message),
            Runtime::Io { context, source } => Error::Io { context, source },
        }
    }
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadRequest {
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadRequest {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::Database(_) => "database",
            Error::Migration(_) => "migration",
            Error::Io { .. } => "io",
            Error::Manifest(_) => "invalid_manifest",
            Error::Package(_) => "invalid_package",
            Error::PluginLoad(_) => "plugin_load_failed",
            Error::PluginCall(_) => "plugin_failed",
            Error::PluginTimeout(_) => "plugin_timeout",
            Error::PluginBusy(_) => "plugin_busy",
            Error::BadRequest { .. } => "bad_request",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed(_) => "method_not_allowed",
            Error::Conflict(_) => "conflict",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::PayloadTooLarge(_) => "payload_too_large",
            Error::TooManyRequests(_) => "too_many_requests",
            Error::Node(_) => "node_unavailable",
        }
    }
}
