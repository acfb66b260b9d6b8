//! `GET /api/audit`: the audit record, newest first, in pages of bounded size.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::AuditPage;
use crate::api_error::{blocking, ApiError};
use crate::auth::session::{ConsoleApi, Session};

/// Most bytes of audit entries one page of `GET /api/audit` carries (beyond its first
/// entry), whatever the number asked for.
const MAX_AUDIT_PAGE_BYTES: usize = 1 << 20;

pub fn routes() -> Router<ConsoleApi> {
    Router::new().route("/api/audit", get(audit))
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<u32>,
    before: Option<i64>,
}

async fn audit(
    _session: Session,
    State(state): State<ConsoleApi>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let page =
        blocking(move || store.audit_page(limit, query.before, MAX_AUDIT_PAGE_BYTES)).await?;
    Ok(Json(page))
}
