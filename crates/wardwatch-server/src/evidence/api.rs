//! The evidence store's routes. For the agent (mutual TLS): `PUT /api/v1/evidence/{id}`,
//! the file a `file.fetch` command asked for, taken once, within the command's byte
//! limit. For the console: `GET /api/hosts/{id}/evidence` (the fetched files) and
//! `GET /api/evidence/{sha256}` (the file itself, admins only).

use std::path::{Path as FsPath, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use sha2::{Digest, Sha256};

use super::EvidenceRecord;
use crate::agent_api::{AgentApi, AuthenticatedHost};
use crate::api_error::{blocking, ApiError, ApiPath};
use crate::auth::session::{ConsoleApi, Session};
use crate::auth::Permission;

/// Where the files are: `DATA/evidence/<sha256>`.
pub fn evidence_dir(data_dir: &FsPath) -> PathBuf {
    data_dir.join("evidence")
}

pub fn agent_routes() -> Router<AgentApi> {
    Router::new().route("/api/v1/evidence/{id}", put(store_file))
}

pub fn console_routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/hosts/{id}/evidence", get(list))
        .route("/api/evidence/{sha256}", get(download))
}

async fn store_file(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EvidenceRecord>, ApiError> {
    let command_id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("command ids are numbers, not {id:?}")))?;
    let (store, host_id) = (state.store.clone(), host.host_id.clone());
    let request = blocking(move || store.evidence_request(&host_id, command_id))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "terminal {} has no file.fetch command {command_id} waiting for its file",
                host.host_id
            ))
        })?;
    let limit = request.max_bytes.min(wardwatch_proto::MAX_FETCH_BYTES);
    let bytes = axum::body::to_bytes(body, limit as usize)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the file is larger than the {limit} bytes the command allowed, or was cut off"
                ),
            )
        })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if let Some(claimed) = headers
        .get("x-wardwatch-sha256")
        .and_then(|v| v.to_str().ok())
    {
        if claimed != sha256 {
            return Err(ApiError::bad_request(format!(
                "the file's SHA-256 is {sha256}, not {claimed} as the terminal said: it changed on the way"
            )));
        }
    }
    let dir = evidence_dir(&state.data_dir);
    let (store, host_id, name) = (state.store.clone(), host.host_id.clone(), sha256.clone());
    let size = bytes.len() as i64;
    let stored = tokio::task::spawn_blocking(move || -> Result<EvidenceRecord, ApiError> {
        let io = |e: std::io::Error| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot store the evidence file: {e}"),
            )
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        match wardwatch_os::write_new(&dir.join(&name), &bytes, 0o600) {
            Ok(()) => {}
            // The same content was fetched before: its name is its hash.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        Ok(store.record_evidence(&host_id, command_id, &request.path, size, &name)?)
    })
    .await??;
    tracing::info!(host_id = %host.host_id, path = %stored.path, size, "file stored in the evidence store");
    Ok(Json(stored))
}

async fn list(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(host_id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let files = blocking(move || store.host_evidence(&host_id, 200)).await?;
    Ok(Json(serde_json::json!({ "files": files })))
}

async fn download(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(sha256): ApiPath<String>,
) -> Result<Response, ApiError> {
    session.require(Permission::Act, "download evidence")?;
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(ApiError::bad_request(
            "evidence is named by its SHA-256 in lower-case hex",
        ));
    }
    let store = state.store.clone();
    let name = sha256.clone();
    if !blocking(move || store.evidence_known(&name)).await? {
        return Err(ApiError::not_found(format!(
            "no evidence with SHA-256 {sha256}"
        )));
    }
    let path = evidence_dir(&state.data_dir).join(&sha256);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read the evidence file: {e}"),
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{sha256}.bin\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
