//! The console's view of terminals: the fleet list, one host, its packages, listeners,
//! accounts and event history.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::sqlite::{HostQuery, HostSort, HostStatus};
use super::PackagePage;
use crate::api_error::{blocking, ApiError, ApiPath, ApiQuery};
use crate::auth::session::{ConsoleApi, Session};
use crate::list_query;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/hosts", get(hosts))
        .route("/api/hosts/{id}", get(host))
        .route("/api/hosts/{id}/packages", get(packages))
        .route("/api/hosts/{id}/listeners", get(listeners))
        .route("/api/hosts/{id}/accounts", get(accounts))
        .route("/api/hosts/{id}/history", get(history))
}

/// Most hosts on one page of the list.
const MAX_HOST_PAGE: u32 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostListQuery {
    q: Option<String>,
    department: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `GET /api/hosts`: every host; with `limit`, one page searched (`q`), filtered
/// (`department`, `status`) and sorted (`sort`, `order`) in the database, with the
/// total and the counts per status. A department operator's hold its departments only.
async fn hosts(
    session: Session,
    State(state): State<ConsoleApi>,
    query: Result<Query<HostListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; use q, department, status (online, offline, revoked), sort (department, name, os, last_seen, packages), order (asc, desc), limit (1..{MAX_HOST_PAGE}) and offset",
            e.body_text()
        ))
    })?;
    let store = state.store.clone();
    let scope = session.scope();
    let Some(limit) = query.limit else {
        let mut hosts = blocking(move || store.list_hosts()).await?;
        hosts.retain(|h| scope.covers(&h.department));
        return Ok(Json(json!({ "hosts": hosts })));
    };
    let status = list_query::choice(
        query.status.as_deref(),
        "status",
        "online, offline or revoked",
        HostStatus::parse,
    )?;
    let sort = list_query::choice(
        query.sort.as_deref(),
        "sort",
        "department, name, os, last_seen or packages",
        HostSort::parse,
    )?;
    let page_query = HostQuery {
        search: list_query::search(query.q)?,
        department: list_query::filter(query.department, "department")?,
        status,
        sort: sort.unwrap_or_default(),
        descending: list_query::descending(query.order.as_deref(), false)?,
        limit: limit.clamp(1, MAX_HOST_PAGE),
        offset: query.offset.unwrap_or(0),
        departments: scope.departments(),
    };
    let page =
        blocking(move || store.host_page(&page_query, wardwatch_proto::now_millis())).await?;
    Ok(Json(json!(page)))
}

async fn host(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
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
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<PackageQuery>,
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
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let listeners = blocking(move || store.listeners(&id)).await?;
    Ok(Json(json!({ "listeners": listeners })))
}

async fn accounts(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
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
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let events = blocking(move || store.history(&id, limit)).await?;
    Ok(Json(json!({ "events": events })))
}
