//! Console accounts from the console: the admin's account list (create, change a role
//! and an operator's departments, disable, give a new password) and every user's change
//! of their own password. Each change is audited by the store under the acting user.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::session::{require_json, session_token, ConsoleApi, Session};
use super::{check_username, Language, PasswordChange, Permission, Role, MAX_PASSWORD_LEN};
use crate::api_error::{blocking, parse_json, ApiError, ApiPath};

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{name}/role", post(set_role))
        .route("/api/users/{name}/disabled", post(set_disabled))
        .route("/api/users/{name}/password", post(new_password))
        .route("/api/me/password", post(change_own_password))
        .route("/api/me/language", put(set_language))
        .route("/api/me/second-factor", post(begin_second_factor))
        .route("/api/me/second-factor/confirm", post(confirm_second_factor))
        .route(
            "/api/users/{name}/second-factor",
            delete(remove_second_factor),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageBody {
    language: String,
}

/// `PUT /api/me/language`: the console's language for this account on every browser
/// (`en`, `zh`, or empty to follow the browser).
async fn set_language(
    session: Session,
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_json(&headers)?;
    let body: LanguageBody = parse_json(&body, "language")?;
    let language = Language::parse(&body.language).ok_or_else(|| {
        ApiError::bad_request(
            "the console speaks en (English) and zh (Simplified Chinese); empty follows the browser",
        )
    })?;
    let store = state.store.clone();
    let id = session.user.admin_id;
    blocking(move || store.set_language(id, language)).await?;
    Ok(Json(json!({ "language": language.code() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

/// `POST /api/me/second-factor`: a new secret for the user's authenticator app, with its
/// `otpauth://` address. It takes effect once a code made from it is confirmed.
async fn begin_second_factor(
    session: Session,
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    require_json(&headers)?;
    let store = state.store.clone();
    let id = session.user.admin_id;
    let secret = blocking(move || store.begin_second_factor(id)).await?;
    let url = super::totp::setup_url(&secret, &session.user.username).unwrap_or_default();
    Ok(Json(json!({ "secret": secret, "url": url })))
}

/// `POST /api/me/second-factor/confirm`: the first code of the new secret; from then on
/// the account logs in with a code.
async fn confirm_second_factor(
    session: Session,
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_json(&headers)?;
    let body: CodeBody = parse_json(&body, "code")?;
    let store = state.store.clone();
    let id = session.user.admin_id;
    let now = u64::try_from(wardwatch_proto::now_millis() / 1000).unwrap_or(0);
    let confirmed = blocking(move || store.confirm_second_factor(id, &body.code, now)).await?;
    if !confirmed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "that code is not right for the new secret; check the app's clock and try the next code",
        ));
    }
    Ok(Json(json!({ "ok": true })))
}

/// `DELETE /api/users/{name}/second-factor`: an account's second factor taken away (a
/// lost phone); it logs in with its password alone until it sets up a new one.
async fn remove_second_factor(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let actor = account_change(&session, &headers, &name, "remove a second factor")?;
    let store = state.store.clone();
    let changed = blocking(move || store.remove_second_factor(&name, &actor)).await?;
    Ok(Json(json!({ "changed": changed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
    #[serde(default)]
    departments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    username: String,
    role: String,
    #[serde(default)]
    departments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisabledBody {
    disabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current: String,
    new: String,
}

fn role_of(name: &str) -> Result<Role, ApiError> {
    Role::parse(name).ok_or_else(|| {
        ApiError::bad_request(format!("{name:?} is not a role; use {}", Role::names()))
    })
}

/// The checks of every change to a named account: the admin's permission, a JSON
/// request, the name checked like a new one's. Returns the acting user's name.
fn account_change(
    session: &Session,
    headers: &HeaderMap,
    name: &str,
    what: &str,
) -> Result<String, ApiError> {
    session.require(Permission::ManageAccounts, what)?;
    require_json(headers)?;
    check_username(name).map_err(ApiError::bad_request)?;
    Ok(session.user.username.clone())
}

/// `GET /api/users`: every account with its role, departments and state.
async fn list(session: Session, State(state): State<ConsoleApi>) -> Result<Json<Value>, ApiError> {
    session.require(Permission::ManageAccounts, "list accounts")?;
    let store = state.store.clone();
    let accounts = blocking(move || store.list_accounts()).await?;
    Ok(Json(json!({ "users": accounts })))
}

/// `POST /api/users`: a new account; its random password is in the answer, once.
async fn create(
    session: Session,
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    session.require(Permission::ManageAccounts, "create accounts")?;
    require_json(&headers)?;
    let body: CreateBody = parse_json(&body, "new account")?;
    let role = role_of(&body.role)?;
    let (store, actor) = (state.store.clone(), session.user.username.clone());
    let username = body.username.clone();
    let password =
        blocking(move || store.create_account(&username, role, &body.departments, &actor)).await?;
    Ok(Json(
        json!({ "username": body.username, "password": password }),
    ))
}

/// `POST /api/users/{name}/role`: another role (and an operator's departments).
async fn set_role(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = account_change(&session, &headers, &name, "change roles")?;
    let body: RoleBody = parse_json(&body, "role change")?;
    let role = role_of(&body.role)?;
    let store = state.store.clone();
    blocking(move || store.set_role(&name, role, &body.departments, &actor)).await?;
    Ok(Json(json!({ "ok": true })))
}

/// `POST /api/users/{name}/disabled`: disables an account (its sessions end) or enables
/// it again.
async fn set_disabled(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = account_change(&session, &headers, &name, "disable accounts")?;
    let body: DisabledBody = parse_json(&body, "account state")?;
    let store = state.store.clone();
    let changed = blocking(move || store.set_disabled(&name, body.disabled, &actor)).await?;
    Ok(Json(json!({ "changed": changed })))
}

/// `POST /api/users/{name}/password`: a new random password for an account (shown once);
/// its sessions end.
async fn new_password(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let actor = account_change(&session, &headers, &name, "give accounts new passwords")?;
    let store = state.store.clone();
    let password = blocking(move || store.reset_password(&name, &actor)).await?;
    Ok(Json(json!({ "password": password })))
}

/// `POST /api/me/password`: the user's own new password, given the current one. Every
/// other session of the account ends; this one stays.
async fn change_own_password(
    session: Session,
    State(state): State<ConsoleApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_json(&headers)?;
    let body: PasswordBody = parse_json(&body, "password change")?;
    if body.current.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the current password is not right",
        ));
    }
    // Argon2 twice (the check and the new hash): a turn like a login's.
    let gate = state.logins.clone();
    let _turn = gate.turn().await.ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many password checks at once; try again in a few seconds",
        )
    })?;
    let token = session_token(&headers).unwrap_or_default();
    let store = state.store.clone();
    let admin_id = session.user.admin_id;
    let address = super::login::client_key(remote.ip());
    let policy = gate.settings.policy.clone();
    blocking(move || {
        store.change_own_password(&PasswordChange {
            admin_id,
            current: &body.current,
            new: &body.new,
            keep_session: &token,
            address: &address,
            policy: &policy,
        })
    })
    .await?;
    Ok(Json(json!({ "ok": true })))
}
