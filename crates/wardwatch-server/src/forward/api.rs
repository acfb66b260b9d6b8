//! `GET /api/forwarding`: each syslog and webhook receiver, up or down, its last error
//! and how many messages wait for it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::worker::SinkStatus;
use crate::api_error::ApiError;
use crate::auth::session::{ConsoleApi, Session};

pub fn routes() -> Router<ConsoleApi> {
    Router::new().route("/api/forwarding", get(forwarding))
}

async fn forwarding(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<Vec<SinkStatus>>, ApiError> {
    let sinks = state
        .forwarding
        .lock()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    Ok(Json(sinks))
}
