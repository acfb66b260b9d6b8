//! The state every console handler shares, and who is asking: the session cookie, the
//! `Session` extractor that turns it into an account, and the checks every state-changing
//! handler makes (JSON bodies only, admin role). Kept apart from the handlers so that each
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

use super::{Role, SessionUser};
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
    /// Refuses the request unless the account is an admin.
    pub fn require_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "only an admin may {what}; {} is a {} account",
                    self.user.username,
                    self.user.role.as_str()
                ),
            ))
        }
    }
}
