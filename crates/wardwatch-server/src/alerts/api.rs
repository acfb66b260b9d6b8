//! The fleet's alerts: `GET /api/alerts` (newest first, `?before=` paging, `?host=`) and
//! `GET /api/alerts/{id}` with every file.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{AlertDetail, AlertPage, AlertQuery, DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE};
use crate::api_error::{blocking, ApiError, ApiPath};
use crate::auth::session::{ConsoleApi, Session};
use crate::auth::Permission;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/{id}", get(alert))
        .route("/api/alerts/{id}/restore", axum::routing::post(restore))
}

/// `POST /api/alerts/{id}/restore`: tell the alert's terminal to put back the files the
/// stopped process changed, from its backups (admins only; audited).
async fn restore(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<i64>,
    headers: axum::http::HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    use crate::backup::restore::{queue_restore, RestoreRefusal};
    session.require(Permission::Act, "restore files from backups")?;
    crate::auth::session::require_json(&headers)?;
    let store = state.store.clone();
    let actor = session.user.username.clone();
    let queued =
        tokio::task::spawn_blocking(move || queue_restore(store.as_ref(), id, &actor)).await?;
    match queued {
        Ok(command) => {
            tracing::info!(user = %session.user.username, alert = id, host = %command.host_id, "restore from backup queued");
            Ok(Json(serde_json::json!({ "command": command })))
        }
        Err(RestoreRefusal::Store(e)) => Err(e.into()),
        Err(e @ RestoreRefusal::NoAlert(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e) => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            e.to_string(),
        )),
    }
}

#[derive(Deserialize)]
struct AlertsQuery {
    limit: Option<u32>,
    before: Option<i64>,
    host: Option<String>,
}

/// `GET /api/alerts`: alerts of every host, newest first. A bad query parameter gets a
/// JSON sentence like every other error, not axum's plain-text rejection.
async fn alerts(
    session: Session,
    State(state): State<ConsoleApi>,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Json<AlertPage>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; use ?limit=1..{MAX_ALERT_PAGE}, ?before=<alert id> and ?host=<host id>",
            e.body_text()
        ))
    })?;
    let query = AlertQuery {
        limit: query
            .limit
            .unwrap_or(DEFAULT_ALERT_PAGE)
            .clamp(1, MAX_ALERT_PAGE),
        before: query.before,
        host_id: query.host.filter(|h| !h.is_empty()),
        departments: session.scope().departments(),
    };
    let store = state.store.clone();
    let page = blocking(move || store.alerts(&query, wardwatch_proto::now_millis())).await?;
    Ok(Json(page))
}

#[derive(serde::Serialize)]
struct AlertBody {
    alert: AlertDetail,
}

/// `GET /api/alerts/{id}`: one alert with every file.
async fn alert(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AlertBody>, ApiError> {
    let number: i64 = id.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "alert ids are whole numbers, e.g. /api/alerts/42, not {id:?}"
        ))
    })?;
    let store = state.store.clone();
    let alert = blocking(move || store.alert(number))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert with id {number}")))?;
    Ok(Json(AlertBody { alert }))
}
