//! The state every console handler shares, and who is asking: the session cookie, the
//! `Session` extractor that turns it into an account, and the checks every state-changing
//! handler makes (JSON bodies only, the role's permission). Kept apart from the handlers so that each
//! feature's API (hosts, bundles, vulnerabilities, commands, logins) depends on it and
//! none on another.
//!
//! Sessions are a random token in an `HttpOnly; Secure; SameSite=Strict` cookie.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::{Permission, Role, Scope, SessionUser};
use crate::api_error::{blocking, ApiError};
use crate::bundles::InstalledBundles;
use crate::storage::Storage;

/// The name of the session cookie.
pub(crate) const SESSION_COOKIE: &str = "ww_session";

#[derive(Clone)]
pub struct ConsoleApi {
    pub store: Arc<dyn Storage>,
    /// The server's data directory: trusted keys, installed bundles, upload staging.
    pub data_dir: PathBuf,
    pub bundles: Arc<InstalledBundles>,
    /// Bytes; an upload beyond this is refused while it streams.
    pub max_bundle_upload: u64,
    pub vuln: Arc<crate::vuln::VulnService>,
    /// Turn-taking for password checks, and the back-off and lock-out policy.
    pub logins: Arc<super::login_gate::LoginGate>,
    /// Audit checkpoints on demand (the same checkpointer as the schedule's).
    pub audit: crate::audit::export::SharedCheckpointer,
    /// The syslog and webhook receivers' states.
    pub forwarding: crate::forward::worker::ForwardStatus,
}

/// The logged-in console user behind a request.
pub struct Session {
    pub user: SessionUser,
}

pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
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
        // Looked up already by the scope guard in front of every console route.
        if let Some(user) = parts.extensions.get::<SessionUser>() {
            return Ok(Session { user: user.clone() });
        }
        let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "please log in");
        let token = session_token(&parts.headers).ok_or_else(unauthorized)?;
        let store = state.store.clone();
        let user = blocking(move || store.session_user(&token))
            .await?
            .ok_or_else(unauthorized)?;
        Ok(Session { user })
    }
}

pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
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

impl Session {
    /// Refuses the request unless the account's role may take `permission`; `what` says
    /// what was asked, for the answer ("only an admin may import bundles; …").
    pub fn require(&self, permission: Permission, what: &str) -> Result<(), ApiError> {
        if self.user.role.may(permission) {
            return Ok(());
        }
        // Every role's name starts with a vowel: "an admin or an analyst".
        let allowed: Vec<String> = Role::ALL
            .iter()
            .filter(|r| r.may(permission))
            .map(|r| format!("an {}", r.as_str()))
            .collect();
        let who = match allowed.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => "nobody".to_string(),
        };
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "only {who} may {what}; {} is an {} account",
                self.user.username,
                self.user.role.as_str()
            ),
        ))
    }

    /// The terminals this account sees.
    pub fn scope(&self) -> Scope {
        self.user.scope()
    }
}
