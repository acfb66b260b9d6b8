//! The audit record in the console: `GET /api/audit` (newest first, in pages of bounded
//! size), `POST /api/audit/checkpoint` (a signed checkpoint now, admins only) and
//! `GET /api/audit/key` (the public key an auditor checks checkpoints with).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::AuditPage;
use crate::api_error::{blocking, ApiError, ApiQuery};
use crate::auth::session::{ConsoleApi, Session};
use crate::auth::Permission;

/// Most bytes of audit entries one page of `GET /api/audit` carries (beyond its first
/// entry), whatever the number asked for.
const MAX_AUDIT_PAGE_BYTES: usize = 1 << 20;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/audit", get(audit))
        .route("/api/audit/checkpoint", post(checkpoint))
        .route("/api/audit/key", get(key))
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<u32>,
    before: Option<i64>,
}

async fn audit(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    session.require(Permission::ReadAudit, "read the audit record")?;
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let page =
        blocking(move || store.audit_page(limit, query.before, MAX_AUDIT_PAGE_BYTES)).await?;
    Ok(Json(page))
}

/// `POST /api/audit/checkpoint`: signs a checkpoint over what was recorded since the last
/// one and exports it; answers with the newest checkpoint (`null` if nothing was
/// recorded since the last).
async fn checkpoint(
    session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.require(Permission::ChangeSettings, "make an audit checkpoint")?;
    let actor = format!("admin {}", session.user.username);
    let made = tokio::task::spawn_blocking(move || {
        crate::audit::export::checkpoint_now(&state.audit, &actor)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))?;
    let checkpoint = made
        .map(|s| s.unverified().map(|c| (s, c)))
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(match checkpoint {
        Some((signed, c)) => serde_json::json!({
            "seq": c.seq,
            "first_id": c.first_id,
            "last_id": c.last_id,
            "head_hash": c.head_hash,
            "line": signed.to_line(),
        }),
        None => serde_json::Value::Null,
    }))
}

/// `GET /api/audit/key`: the server's audit public key, in minisign's format.
async fn key(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let audit = state.audit.clone();
    let (id, text) = tokio::task::spawn_blocking(move || {
        let checkpointer = audit
            .lock()
            .map_err(|_| "the audit checkpointer failed earlier")?;
        let public = checkpointer.key().public_key();
        Ok::<_, &str>((public.key_id().to_string(), public.to_file_text()))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(Json(
        serde_json::json!({ "key_id": id, "public_key": text }),
    ))
}
