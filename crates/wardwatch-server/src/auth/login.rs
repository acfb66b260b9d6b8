//! `POST /api/login`, `POST /api/logout` and `GET /api/me`. The login is the one console endpoint that
//! anyone on the intranet can reach, so it refuses what is malformed before any work (a
//! small body, a short plain user name, a bounded password), runs only a few password
//! checks at once (`login_gate`; the rest wait briefly, then get 429), and leaves
//! back-off and lock-out to the store's counters.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::session::{require_json, session_token, ConsoleApi, Session, SESSION_COOKIE};
use super::{check_username, LoginOutcome, MAX_PASSWORD_LEN};
use crate::api_error::{blocking, parse_json, ApiError};
use crate::timefmt::rfc3339_millis;

/// Largest login request body: a user name, a password and JSON around them.
pub const MAX_LOGIN_BODY: usize = 4096;

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
    /// The six-digit code of an account with a second factor.
    #[serde(default)]
    code: Option<String>,
}

/// The key failed logins are counted under: the one the connection caps count by
/// (`admission::address_key`: the IPv4 address, or the /64 of an IPv6 address), written
/// with its prefix length for IPv6.
pub(crate) fn client_key(addr: IpAddr) -> String {
    match crate::admission::address_key(addr) {
        IpAddr::V6(prefix) => format!("{prefix}/64"),
        v4 => v4.to_string(),
    }
}

fn too_many(message: String, retry_after_secs: i64) -> Response {
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response();
    if let Ok(value) = retry_after_secs.max(1).to_string().parse() {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// `POST /api/login` (its body capped at [`MAX_LOGIN_BODY`]), `POST /api/logout` and
/// `GET /api/me`.
pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route(
            "/api/login",
            post(login).layer(axum::extract::DefaultBodyLimit::max(MAX_LOGIN_BODY)),
        )
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
}

/// `GET /api/me`: who is logged in, with which role, which departments (operators) and
/// what the role may do, so that the console shows only the actions that will work.
async fn me(session: Session) -> Json<serde_json::Value> {
    let may: serde_json::Map<String, serde_json::Value> = super::Permission::ALL
        .iter()
        .filter_map(|p| {
            let name = serde_json::to_value(p).ok()?.as_str()?.to_string();
            Some((name, session.user.role.may(*p).into()))
        })
        .collect();
    Json(json!({
        "username": session.user.username,
        "role": session.user.role,
        "departments": session.user.departments,
        "second_factor": session.user.second_factor,
        "language": session.user.language,
        "may": may,
    }))
}

pub async fn login(
    State(state): State<ConsoleApi>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    // The route's body limit (MAX_LOGIN_BODY) is what makes reading the body fail.
    let body = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a login request has at most {MAX_LOGIN_BODY} bytes"),
        )
    })?;
    let request: LoginRequest = parse_json(&body, "login request")?;
    check_username(&request.username).map_err(ApiError::bad_request)?;
    if request.password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "a password has at most {MAX_PASSWORD_LEN} bytes"
        )));
    }

    let gate = state.logins.clone();
    let Some(permit) = gate.turn().await else {
        return Ok(too_many(
            "too many logins are being checked at once; try again in a few seconds".into(),
            5,
        ));
    };
    let store = state.store.clone();
    let address = client_key(remote.ip());
    let policy = gate.settings.policy.clone();
    let username = request.username.clone();
    let had_code = request
        .code
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty());
    let outcome = blocking(move || {
        let outcome = store.login_with_code(
            &request.username,
            &request.password,
            request.code.as_deref().filter(|c| !c.trim().is_empty()),
            &address,
            &policy,
        );
        drop(permit);
        outcome
    })
    .await?;
    let now = wardwatch_proto::now_millis();
    match outcome {
        LoginOutcome::Success { token, user } => {
            tracing::info!(user = %username, %remote, "console login");
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200"
            );
            Ok((
                [(SET_COOKIE, cookie)],
                Json(json!({ "username": username, "role": user.role })),
            )
                .into_response())
        }
        LoginOutcome::Failed => {
            tracing::info!(user = %username, %remote, "console login failed");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                if had_code {
                    "wrong user name, password or code"
                } else {
                    "wrong user name or password"
                },
            ))
        }
        LoginOutcome::CodeNeeded => Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "error": "enter the six-digit code of your authenticator app",
                "code_needed": true,
            })),
        )
            .into_response()),
        LoginOutcome::Locked { until } => Ok(too_many(
            format!(
                "{username} is locked after too many failed logins, until {}; an admin can \
                 unlock it sooner with `wardwatch user unlock {username}`",
                rfc3339_millis(until)
            ),
            (until - now) / 1000,
        )),
        LoginOutcome::BackOff { retry_at } => {
            let secs = ((retry_at - now) / 1000).max(1);
            Ok(too_many(
                format!("too many failed logins from your address; try again in {secs} seconds"),
                secs,
            ))
        }
    }
}

pub async fn logout(
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        let store = state.store.clone();
        blocking(move || store.logout(&token)).await?;
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    Ok(([(SET_COOKIE, cookie)], Json(json!({ "ok": true }))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(client_key("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(client_key("10.1.2.3".parse().unwrap()), "10.1.2.3");
    }
}
