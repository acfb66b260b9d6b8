//! The console's view of terminals: the fleet list, one host, its packages, listeners,
//! accounts and event history.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::PackagePage;
use crate::api_error::{blocking, ApiError};
use crate::auth::session::{ConsoleApi, Session};

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/hosts", get(hosts))
        .route("/api/hosts/{id}", get(host))
        .route("/api/hosts/{id}/packages", get(packages))
        .route("/api/hosts/{id}/listeners", get(listeners))
        .route("/api/hosts/{id}/accounts", get(accounts))
        .route("/api/hosts/{id}/history", get(history))
}

async fn hosts(
    session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let scope = session.scope();
    let mut hosts = blocking(move || store.list_hosts()).await?;
    hosts.retain(|h| scope.covers(&h.department));
    Ok(Json(json!({ "hosts": hosts })))
}

async fn host(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let lookup = id.clone();
    let host = blocking(move || store.host(&lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no host with id {id}")))?;
    Ok(Json(json!({ "host": host })))
}

#[derive(Deserialize)]
struct PackageQuery {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn packages(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
    Query(query): Query<PackageQuery>,
) -> Result<Json<PackagePage>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(200).clamp(1, 5000);
    let offset = query.offset.unwrap_or(0);
    let page = blocking(move || store.packages(&id, &query.q, limit, offset)).await?;
    Ok(Json(page))
}

async fn listeners(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let listeners = blocking(move || store.listeners(&id)).await?;
    Ok(Json(json!({ "listeners": listeners })))
}

async fn accounts(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let accounts = blocking(move || store.accounts(&id)).await?;
    Ok(Json(json!({ "accounts": accounts })))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<u32>,
}

async fn history(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
    Query(query): Query<LimitQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let events = blocking(move || store.history(&id, limit)).await?;
    Ok(Json(json!({ "events": events })))
}
