//! The incidents in the console: `GET /api/incidents` (newest activity first, by
//! state), `GET /api/incidents/{id}` (timeline, keys, notes), and, for admins,
//! `POST /api/incidents/{id}/state`, `/assign` and `/notes`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{IncidentPage, IncidentQuery, IncidentSort, Refused, STATES};
use crate::api_error::{blocking, parse_json, ApiError, ApiPath, ApiQuery};
use crate::auth::session::{require_json, ConsoleApi, Session};
use crate::auth::Permission;
use crate::list_query;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/incidents", get(list))
        .route("/api/incidents/{id}", get(detail))
        .route("/api/incidents/{id}/state", post(set_state))
        .route("/api/incidents/{id}/assign", post(assign))
        .route("/api/incidents/{id}/notes", post(note))
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

fn incident_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("incident ids are numbers, not {id:?}")))
}

/// `GET /api/incidents`: a page of incidents (`state`, `q` words in the title or the
/// assignee, `sort` = `last_at` | `first_at` | `title`, `order` = `asc` | `desc`,
/// `limit` up to 500, `offset`), with how many match in all.
async fn list(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<IncidentPage>, ApiError> {
    let wanted = incident_query(query)?;
    let store = state.store.clone();
    let page = blocking(move || store.incident_page(&wanted)).await?;
    Ok(Json(page))
}

/// Checks what the list was asked for, naming the first thing that is wrong.
fn incident_query(query: ListQuery) -> Result<IncidentQuery, ApiError> {
    let state = list_query::choice(query.state.as_deref(), "state", &STATES.join(", "), |s| {
        STATES.contains(&s).then(|| s.to_string())
    })?;
    let sort = list_query::choice(
        query.sort.as_deref(),
        "sort",
        "last_at, first_at or title",
        IncidentSort::parse,
    )?;
    let (limit, offset) = list_query::page(query.limit, query.offset);
    Ok(IncidentQuery {
        state,
        search: list_query::search(query.q)?,
        sort: sort.unwrap_or_default(),
        ascending: !list_query::descending(query.order.as_deref(), true)?,
        limit,
        offset,
    })
}

async fn detail(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let store = state.store.clone();
    let found = blocking(move || store.incident(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no incident {id}")))?;
    Ok(Json(json!(found)))
}

/// Checks who may change an incident and reads the body's one field.
fn change_request(
    session: &Session,
    headers: &HeaderMap,
    body: &Bytes,
    field: &str,
) -> Result<Value, ApiError> {
    session.require(Permission::Act, "change incidents")?;
    require_json(headers)?;
    let body: Value = parse_json(body, "incident change")?;
    Ok(body.get(field).cloned().unwrap_or(Value::Null))
}

fn answer(outcome: Result<(), Refused>) -> Result<Json<Value>, ApiError> {
    outcome
        .map(|()| Json(json!({ "ok": true })))
        .map_err(|Refused(why)| ApiError::new(axum::http::StatusCode::CONFLICT, why))
}

async fn set_state(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let to = change_request(&session, &headers, &body, "state")?;
    let to = to
        .as_str()
        .filter(|s| STATES.contains(s))
        .ok_or_else(|| ApiError::bad_request(format!("state is one of {}", STATES.join(", "))))?
        .to_string();
    let (store, actor) = (
        state.store.clone(),
        format!("admin {}", session.user.username),
    );
    answer(blocking(move || store.set_incident_state(id, &to, &actor)).await?)
}

async fn assign(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let who = change_request(&session, &headers, &body, "assignee")?;
    let who = match who {
        Value::Null => None,
        Value::String(s) => Some(s),
        _ => return Err(ApiError::bad_request("assignee is an account name or null")),
    };
    let (store, actor) = (
        state.store.clone(),
        format!("admin {}", session.user.username),
    );
    answer(blocking(move || store.assign_incident(id, who.as_deref(), &actor)).await?)
}

async fn note(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let text = change_request(&session, &headers, &body, "text")?;
    let text = text
        .as_str()
        .ok_or_else(|| ApiError::bad_request("a note is {\"text\": \"...\"}"))?
        .to_string();
    let (store, actor) = (
        state.store.clone(),
        format!("admin {}", session.user.username),
    );
    answer(blocking(move || store.add_incident_note(id, &text, &actor)).await?)
}
