//! How the host's errors become HTTP answers: a status per kind of failure, and the
//! body `{"error": {"code", "message", "field"?}}`. Internal details stay in the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;

/// The HTTP status each kind of failure becomes.
pub fn status(error: &Error) -> StatusCode {
    match error {
        Error::Config(_)
        | Error::Database(_)
        | Error::Migration(_)
        | Error::Io { .. }
        | Error::PluginLoad(_)
        | Error::PluginCall(_) => StatusCode::INTERNAL_SERVER_ERROR,
        Error::PluginTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
        Error::PluginBusy(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Manifest(_) | Error::Package(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::Node(_) => StatusCode::BAD_GATEWAY,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = status(&self);
        // Internal details stay in the log; the client learns what kind of failure it was.
        let message = match &self {
            Error::Database(_) | Error::Io { .. } => {
                tracing::error!(error = %self, "request failed");
                "internal error; see the panel's log".to_string()
            }
            other => other.to_string(),
        };
        let mut error = json!({ "code": self.code(), "message": message });
        if let Error::BadRequest {
            field: Some(field), ..
        } = &self
        {
            error["field"] = json!(field);
        }
        (status, axum::Json(json!({ "error": error }))).into_response()
    }
}
