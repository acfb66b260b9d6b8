//! The agent's one HTTPS client for an enrolled terminal (mutual TLS): every call of
//! the agent API after enrollment goes through [`ServerClient`] (events, heartbeat,
//! commands, bundles), with one connection pool and one set of time limits. Enrollment
//! itself has no identity yet and pins the server's CA instead (`enroll`).

use std::time::Duration;

use wardwatch_proto::{
    Batch, BatchAck, CommandOutcome, CommandRecorded, ErrorBody, Event, Heartbeat, HeartbeatAnswer,
    PendingCommand, PendingCommands, PROTOCOL_VERSION,
};

use crate::state::StateDir;
use crate::tls::mutual_tls_config;
use crate::AgentError;

/// Why a request to the server did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server could not be reached or failed; try again later.
    #[error("server unreachable or failing: {0}")]
    Transient(String),
    /// The server refused the terminal itself (revoked, unknown certificate).
    #[error("the server refused this terminal ({status}): {message}")]
    Refused { status: u16, message: String },
    /// The server refused this request's content; resending it unchanged will not help.
    #[error("the server rejected the batch ({status}): {message}")]
    Rejected { status: u16, message: String },
}

/// How long one API call may take; bundle member downloads have no overall limit (a
/// large member on a slow link may take long) but must keep moving ([`READ_TIMEOUT`]).
const API_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest pause between two reads of a response.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The terminal's client of the agent API. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct ServerClient {
    http: reqwest::Client,
    base: String,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("base", &self.base)
            .finish()
    }
}

impl ServerClient {
    /// A client with the terminal's stored identity.
    pub fn from_state(state: &StateDir, server_url: &str) -> Result<Self, AgentError> {
        let ca = state.read(&state.ca_file())?;
        let cert = state.read(&state.cert_file())?;
        let key = state.read(&state.key_file())?;
        let tls = mutual_tls_config(&ca, &cert, &key).map_err(AgentError::Tls)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| AgentError::Http(e.to_string()))?;
        Ok(Self {
            http,
            base: server_url.trim_end_matches('/').to_string(),
        })
    }

    /// A call of the agent API at `path` (e.g. `/api/v1/heartbeat`), limited to
    /// [`API_TIMEOUT`].
    pub(crate) fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .timeout(API_TIMEOUT)
    }

    /// A download from `path` that may take as long as it keeps moving.
    pub(crate) fn download(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base))
    }

    /// Sends a batch, zstd-compressed; on success every event in it is stored.
    pub async fn send_batch(&self, events: Vec<Event>) -> Result<BatchAck, SendError> {
        let batch = Batch {
            protocol: PROTOCOL_VERSION,
            events,
        };
        let json = serde_json::to_vec(&batch)
            .map_err(|e| SendError::Transient(format!("cannot encode batch: {e}")))?;
        let body = zstd::bulk::compress(&json, 3)
            .map_err(|e| SendError::Transient(format!("cannot compress batch: {e}")))?;
        let response = self
            .call(reqwest::Method::POST, "/api/v1/events")
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Transient(crate::error_chain(&e)))?;
        answer(response).await
    }

    /// Tells the server the agent is alive, how its spool is doing and how many folders
    /// its guard protects.
    pub async fn heartbeat(
        &self,
        spool_pending: u64,
        spool_dropped: u64,
        guard_folders: u32,
    ) -> Result<(), SendError> {
        let beat = Heartbeat {
            protocol: PROTOCOL_VERSION,
            agent_version: env!("CARGO_PKG_VERSION").to_string(),
            spool_pending,
            spool_dropped,
            guard_folders,
            agent_time: Some(wardwatch_proto::now_millis()),
        };
        let response = self
            .call(reqwest::Method::POST, "/api/v1/heartbeat")
            .json(&beat)
            .send()
            .await
            .map_err(|e| SendError::Transient(crate::error_chain(&e)))?;
        // The server's clock is not used yet; reading the answer still checks its shape.
        answer::<HeartbeatAnswer>(response).await.map(|_| ())
    }
}

impl ServerClient {
    /// Sends a file fetched for command `id` to the server's evidence store; the
    /// server's record of it (its own hash and size).
    pub async fn upload_evidence(
        &self,
        id: i64,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<serde_json::Value, SendError> {
        let response = self
            .call(reqwest::Method::PUT, &format!("/api/v1/evidence/{id}"))
            .header("x-wardwatch-sha256", sha256)
            .body(bytes)
            .send()
            .await
            .map_err(|e| SendError::Transient(crate::error_chain(&e)))?;
        answer::<serde_json::Value>(response).await
    }

    /// The commands waiting for this terminal; the server marks them as taken.
    pub async fn take_commands(&self) -> Result<Vec<PendingCommand>, SendError> {
        let response = self
            .call(reqwest::Method::GET, "/api/v1/commands")
            .send()
            .await
            .map_err(|e| SendError::Transient(crate::error_chain(&e)))?;
        answer::<PendingCommands>(response)
            .await
            .map(|c| c.commands)
    }

    /// Reports the outcome of a command.
    pub async fn finish_command(
        &self,
        id: i64,
        ok: bool,
        result: &serde_json::Value,
    ) -> Result<(), SendError> {
        let response = self
            .call(reqwest::Method::POST, &format!("/api/v1/commands/{id}"))
            .json(&CommandOutcome {
                ok,
                result: result.clone(),
            })
            .send()
            .await
            .map_err(|e| SendError::Transient(crate::error_chain(&e)))?;
        // Not found: finished already, or never this terminal's; sending again won't help.
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            let message = response
                .json::<ErrorBody>()
                .await
                .map(|b| b.error)
                .unwrap_or_else(|_| "no such command".into());
            return Err(SendError::Rejected {
                status: 404,
                message,
            });
        }
        answer::<CommandRecorded>(response).await.map(|_| ())
    }
}

pub(crate) async fn answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, SendError> {
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| SendError::Transient(format!("unreadable answer: {e}")));
    }
    let message = response
        .json::<ErrorBody>()
        .await
        .map(|b| b.error)
        .unwrap_or_else(|_| status.to_string());
    let status = status.as_u16();
    Err(match status {
        401 | 403 => SendError::Refused { status, message },
        400 | 413 | 415 | 422 => SendError::Rejected { status, message },
        _ => SendError::Transient(format!("{status}: {message}")),
    })
}
