//! The console: its static page and the JSON API behind it, on the console listener.
//!
//! Sessions are a random token in an `HttpOnly; Secure; SameSite=Strict` cookie; state
//! changing requests must be JSON, which a cross-site form cannot send.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::api_error::{blocking, parse_json, ApiError};
use crate::console;
use crate::store::{
    AlertDetail, AlertPage, AlertQuery, SessionUser, Store, DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE,
};

const SESSION_COOKIE: &str = "ww_session";
/// Pause after a failed login, to slow down password guessing.
const FAILED_LOGIN_DELAY: Duration = Duration::from_millis(700);

#[derive(Clone)]
pub struct ConsoleApi {
    pub store: Arc<Store>,
}

pub fn router(state: ConsoleApi) -> Router {
    let api = Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/hosts", get(hosts))
        .route("/api/hosts/{id}", get(host))
        .route("/api/hosts/{id}/packages", get(packages))
        .route("/api/hosts/{id}/listeners", get(listeners))
        .route("/api/hosts/{id}/accounts", get(accounts))
        .route("/api/hosts/{id}/history", get(history))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/{id}", get(alert))
        .route("/api/audit", get(audit))
        .route("/api/openapi.json", get(console::openapi))
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .layer(axum::middleware::map_response(no_store));
    Router::new()
        .merge(console::router())
        .merge(api)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// The logged-in console user behind a request.
pub struct Session {
    pub user: SessionUser,
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<ConsoleApi> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleApi) -> Result<Self, ApiError> {
        let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "please log in");
        let token = session_token(&parts.headers).ok_or_else(unauthorized)?;
        let store = state.store.clone();
        let user = blocking(move || store.session_user(&token))
            .await?
            .ok_or_else(unauthorized)?;
        Ok(Session { user })
    }
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        ))
    }
}

async fn login(
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let request: LoginRequest = parse_json(&body, "login request")?;
    let store = state.store.clone();
    let username = request.username.clone();
    let token = blocking(move || store.login(&request.username, &request.password)).await?;
    let Some(token) = token else {
        tokio::time::sleep(FAILED_LOGIN_DELAY).await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong user name or password",
        ));
    };
    tracing::info!(user = %username, "console login");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200"
    );
    Ok((
        [(SET_COOKIE, cookie)],
        Json(json!({ "username": username })),
    )
        .into_response())
}

async fn logout(State(state): State<ConsoleApi>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        let store = state.store.clone();
        blocking(move || store.logout(&token)).await?;
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    Ok(([(SET_COOKIE, cookie)], Json(json!({ "ok": true }))).into_response())
}

async fn me(session: Session) -> Json<serde_json::Value> {
    Json(json!({ "username": session.user.username }))
}

async fn hosts(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let hosts = blocking(move || store.list_hosts()).await?;
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
) -> Result<Json<crate::store::PackagePage>, ApiError> {
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

async fn audit(
    _session: Session,
    State(state): State<ConsoleApi>,
    Query(query): Query<LimitQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let entries = blocking(move || store.audit_entries(limit)).await?;
    Ok(Json(json!({ "entries": entries })))
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
    _session: Session,
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
    Path(id): Path<String>,
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
