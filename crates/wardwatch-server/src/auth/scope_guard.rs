//! Keeps a department operator inside its departments, on every API route.
//!
//! Deny by default: a route is open to an operator only if it is listed here, and then
//! in one of three ways. A route about one terminal (`/api/hosts/{id}/…`) or one alert
//! (`/api/alerts/{id}…`) is let through only when that terminal's department is one of
//! the account's; a list (`/api/hosts`, `/api/alerts`, `/api/vuln/findings`, the
//! overview and its charts) is let through and its handler filters on [`Session::scope`](super::session::Session::scope);
//! the account's own routes (`/api/me`, log out) are open. Everything else (fleet-wide
//! counts, settings, the audit record, bundles, incidents spanning departments) answers
//! 403 with a sentence, so a route added later stays closed to operators until someone
//! decides how it is scoped.
//!
//! The account found here is handed on in the request's extensions, so the handler's
//! `Session` does not look it up a second time.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, MatchedPath, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::session::{session_token, ConsoleApi};
use super::{Scope, SessionUser};
use crate::api_error::{blocking, ApiError};

/// How an operator may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The account's own routes.
    Own,
    /// A list whose handler filters on the account's departments.
    Filtered,
    /// One terminal, named by the route's `{id}`.
    Host,
    /// One alert, named by the route's `{id}`: its terminal's department decides.
    Alert,
    /// Not for operators.
    Closed,
}

/// The reach of a matched route pattern for an operator.
pub(crate) fn reach(pattern: &str) -> Reach {
    match pattern {
        "/api/me"
        | "/api/me/password"
        | "/api/me/language"
        | "/api/me/second-factor"
        | "/api/me/second-factor/confirm"
        | "/api/logout"
        | "/api/openapi.json" => Reach::Own,
        "/api/hosts"
        | "/api/alerts"
        | "/api/vuln/findings"
        | "/api/overview"
        | "/api/overview/risk.svg"
        | "/api/overview/departments.svg" => Reach::Filtered,
        "/api/alerts/{id}" | "/api/alerts/{id}/restore" => Reach::Alert,
        p if p == "/api/hosts/{id}" || p.starts_with("/api/hosts/{id}/") => Reach::Host,
        _ => Reach::Closed,
    }
}

/// The middleware (a route layer of the console API).
pub async fn operators_stay_in_scope(
    State(state): State<ConsoleApi>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = session_token(request.headers()) else {
        return next.run(request).await;
    };
    let store = state.store.clone();
    let user = match blocking(move || store.session_user(&token)).await {
        Ok(Some(user)) => user,
        // No session: the handler answers 401 (or the route needs none).
        Ok(None) => return next.run(request).await,
        Err(e) => return e.into_response(),
    };
    let scope = user.scope();
    let Scope::Departments(_) = &scope else {
        return pass(request, next, user).await;
    };
    let (mut parts, body) = request.into_parts();
    let pattern = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let outside = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{} is a department operator and sees only the terminals of {}",
                user.username,
                user.departments.join(", ")
            ),
        )
    };
    let department = match reach(&pattern) {
        Reach::Own | Reach::Filtered => None,
        Reach::Closed => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "{} is a department operator; this part of the console covers the whole fleet or its settings, which only other roles see",
                    user.username
                ),
            )
            .into_response()
        }
        Reach::Host | Reach::Alert => {
            let params = Path::<HashMap<String, String>>::from_request_parts(&mut parts, &state)
                .await
                .map(|Path(p)| p)
                .unwrap_or_default();
            let id = params.get("id").cloned().unwrap_or_default();
            let store = state.store.clone();
            let found = if reach(&pattern) == Reach::Host {
                blocking(move || store.host_department(&id)).await
            } else {
                match id.parse::<i64>() {
                    Ok(n) => blocking(move || store.alert_department(n)).await,
                    Err(_) => Ok(None),
                }
            };
            match found {
                // Unknown and out of scope answer alike: an operator learns nothing
                // about the other departments' terminals, not even that one exists.
                Ok(d) => Some(d.unwrap_or_default()),
                Err(e) => return e.into_response(),
            }
        }
    };
    if let Some(d) = department {
        if d.is_empty() || !scope.covers(&d) {
            return outside().into_response();
        }
    }
    pass(Request::from_parts(parts, body), next, user).await
}

async fn pass(mut request: Request, next: Next, user: SessionUser) -> Response {
    request.extensions_mut().insert(user);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_closed_to_operators_unless_listed() {
        assert_eq!(reach("/api/hosts"), Reach::Filtered);
        assert_eq!(reach("/api/hosts/{id}"), Reach::Host);
        assert_eq!(reach("/api/hosts/{id}/backup/restore"), Reach::Host);
        assert_eq!(reach("/api/alerts/{id}/restore"), Reach::Alert);
        for own in [
            "/api/me",
            "/api/me/password",
            "/api/me/language",
            "/api/me/second-factor",
            "/api/me/second-factor/confirm",
        ] {
            assert_eq!(reach(own), Reach::Own, "{own}");
        }
        for closed in [
            "/api/audit",
            "/api/vuln/summary",
            "/api/incidents",
            "/api/bundles",
            "/api/backups",
            "/api/users",
            "/api/evidence/{sha256}",
            "/api/hostsx",
            "",
        ] {
            assert_eq!(reach(closed), Reach::Closed, "{closed}");
        }
    }
}
