use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;

/// `GET /api/health`: the panel is up; which database; every plugin's state.
pub async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": crate::plugins::HOST_VERSION,
        "database": state.db.dialect_name(),
        "plugins": state.plugins.registry().statuses(),
    }))
}
