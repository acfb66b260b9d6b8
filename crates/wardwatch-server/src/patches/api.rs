//! The console's Patches API.
//!
//! - `GET /api/patches` planned, available, installed and failed upgrades per terminal
//!   and department, with the risk each removes, and the installed `patches` bundle.
//!
//! "Patch now" is the `patch.install` command (`POST /api/hosts/{id}/commands`).

use super::view::{self, PatchesView};
use crate::api_error::{blocking, ApiError};
use crate::auth::session::{ConsoleApi, Session};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

pub fn routes() -> Router<ConsoleApi> {
    Router::new().route("/api/patches", get(patches))
}

async fn patches(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<PatchesView>, ApiError> {
    let now = wardwatch_proto::now_millis();
    let view =
        blocking(move || view::load(state.store.as_ref(), &state.bundles, &state.data_dir, now))
            .await?;
    Ok(Json(view))
}
