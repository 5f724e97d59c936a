use serde::Serialize;

use crate::Response;

/// An error a plugin returns from a route; the host sends it as
/// `{"error": {"code", "message"}}` with `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    #[serde(skip)]
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Error {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::new(400, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Error::new(401, "unauthorized", message)
    }

    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Error::new(429, "too_many_requests", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::new(403, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(404, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::new(409, "conflict", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(500, "internal", message)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for Response {
    fn from(error: Error) -> Self {
        let body = serde_json::to_vec(&serde_json::json!({ "error": error }))
            .unwrap_or_else(|_| b"{}".to_vec());
        Response {
            status: error.status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::bad_request(format!("invalid JSON: {error}"))
    }
}

/// Host calls fail with a message; inside a route they become a 500.
impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::internal(message)
    }
}

/// A failed host call inside a route answers with the matching status.
impl From<crate::HostError> for Error {
    fn from(error: crate::HostError) -> Self {
        use crate::HostError;
        match error {
            HostError::Denied(message) => Error::forbidden(message),
            HostError::NotFound(message) => Error::not_found(message),
            HostError::Invalid(message) => Error::bad_request(message),
            HostError::Unavailable(message) => Error::new(503, "unavailable", message),
            HostError::Internal(message) => Error::internal(message),
        }
    }
}
