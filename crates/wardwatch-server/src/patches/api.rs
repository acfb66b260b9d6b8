//! The console's Patches API.
//!
//! - `GET /api/patches` planned, available, installed and failed upgrades per terminal
//!   and department, with the risk each removes, and the installed `patches` bundle.
//!   The department totals cover the fleet; the terminals come a page at a time (`q`,
//!   `department`, `limit`, `offset`; the riskiest first), with `hosts_total`.
//!
//! "Patch now" is the `patch.install` command (`POST /api/hosts/{id}/commands`).

use super::view::{self, PatchesView};
use crate::api_error::{blocking, ApiError, ApiQuery};
use crate::auth::session::{ConsoleApi, Session};
use crate::list_query;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

pub fn routes() -> Router<ConsoleApi> {
    Router::new().route("/api/patches", get(patches))
}

#[derive(serde::Deserialize)]
struct ListQuery {
    q: Option<String>,
    department: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// The view with its terminals cut to one page, and how many matched.
#[derive(serde::Serialize)]
struct PatchesPage {
    #[serde(flatten)]
    view: PatchesView,
    hosts_total: usize,
}

async fn patches(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<PatchesPage>, ApiError> {
    let search = list_query::search(query.q)?;
    let department = list_query::filter(query.department, "department")?;
    let (limit, offset) = list_query::page(query.limit, query.offset);
    let now = wardwatch_proto::now_millis();
    let mut view =
        blocking(move || view::load(state.store.as_ref(), &state.bundles, &state.data_dir, now))
            .await?;
    let words = list_query::words(&search);
    view.hosts.retain(|h| {
        department.as_ref().is_none_or(|d| &h.department == d)
            && list_query::all_words_in(&words, &[&h.hostname, &h.department])
    });
    let (hosts, hosts_total) = list_query::page_of(std::mem::take(&mut view.hosts), limit, offset);
    view.hosts = hosts;
    Ok(Json(PatchesPage { view, hosts_total }))
}
