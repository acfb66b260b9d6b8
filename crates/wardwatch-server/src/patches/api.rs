//! The console's Patches API.
//!
//! - `GET /api/patches` planned, available, installed and failed upgrades per terminal
//!   and department, with the risk each removes, and the installed `patches` bundle.
//!
//! "Patch now" is the `patch.install` command (`POST /api/hosts/{id}/commands`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use wardwatch_bundle::Kind;

use super::view::{self, BundleSummary, PatchesView};
use crate::api_error::{blocking, ApiError};
use crate::auth::session::{ConsoleApi, Session};
use crate::bundles::freshness::millis;
use crate::db::StoreError;

pub fn routes() -> Router<ConsoleApi> {
    Router::new().route("/api/patches", get(patches))
}

async fn patches(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<PatchesView>, ApiError> {
    let now = wardwatch_proto::now_millis();
    let store = state.store.clone();
    let (candidates, last) =
        blocking(move || Ok((store.patch_candidates(now)?, store.last_patch_installs()?))).await?;
    let (bundles, data_dir) = (state.bundles.clone(), state.data_dir.clone());
    let installed = blocking(move || {
        let Some(b) = bundles
            .get(Kind::Patches)
            .map_err(|e| StoreError::Corrupt(format!("the installed patches bundle: {e}")))?
        else {
            return Ok(None);
        };
        let dir = crate::bundles::kind_dir(&data_dir, Kind::Patches);
        let fetched = super::bundle::read_manifest(&dir)
            .map_err(|e| StoreError::Corrupt(format!("the installed patches bundle: {e}")))?;
        Ok(Some((b, fetched)))
    })
    .await?;
    let weights = crate::vuln::upgrades::weights();
    let bundle = installed.as_ref().map(|(b, fetched)| {
        (
            BundleSummary {
                version: b.manifest.version,
                created: millis(b.manifest.created),
                expires: millis(b.manifest.expires),
                systems: fetched
                    .systems
                    .iter()
                    .map(|s| (format!("{} {}", s.os_id, s.codename), s.packages.len()))
                    .collect(),
            },
            fetched,
        )
    });
    Ok(Json(view::build(&candidates, bundle, &last, &weights, now)))
}
