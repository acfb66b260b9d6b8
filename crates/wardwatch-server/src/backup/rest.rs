//! restic's REST protocol (API v1 and v2, as rest-server speaks it) on the agent
//! listener, append-only, for the terminal's own repository only:
//!
//! - `POST /api/v1/backup/repository`: create the terminal's repository if needed and
//!   issue a key for it (`wardwatch_proto::backup::RepositoryGrant`);
//! - under [`REPOSITORY_PATH`]: `GET|HEAD config`, `GET {type}/` (a listing),
//!   `GET|HEAD {type}/{name}` (with `Range`), `POST {type}/{name}` (new files only),
//!   `DELETE locks/{name}`.
//!
//! Refused: creating a repository over REST (the server creates it), writing the config,
//! overwriting any file, deleting anything but a lock, content that does not hash to its
//! name, a file above [`MAX_REPOSITORY_FILE`].

use std::io::{Seek, SeekFrom};
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use wardwatch_proto::backup::{RepositoryGrant, MAX_REPOSITORY_FILE, REPOSITORY_PATH};

use super::repo_files::{valid_name, FileKind, NewFile, RepoDir, StoreFileError};
use super::service::BackupServiceError;
use crate::agent_api::{AgentApi, AuthenticatedHost};
use crate::api_error::{ApiError, ApiPath};
use crate::file_body::FileBody;

/// Largest file other than a pack: keys, locks, snapshots and indexes are small.
const MAX_SMALL_FILE: u64 = 16 * 1024 * 1024;

/// Bytes gathered before they are handed to a blocking write.
const WRITE_BATCH: usize = 1024 * 1024;

const REST_V2: &str = "application/vnd.x.restic.rest.v2";

pub fn routes() -> Router<AgentApi> {
    let base = REPOSITORY_PATH.trim_end_matches('/');
    Router::new()
        .route("/api/v1/backup/repository", post(provision))
        .route(&format!("{base}/"), post(create_refused))
        .route(
            &format!("{base}/config"),
            get(get_config).post(write_config).delete(write_config),
        )
        .route(&format!("{base}/{{kind}}/"), get(list_files))
        .route(
            &format!("{base}/{{kind}}/{{name}}"),
            get(get_file).post(post_file).delete(delete_file),
        )
}

impl From<BackupServiceError> for ApiError {
    fn from(e: BackupServiceError) -> Self {
        match e {
            BackupServiceError::NotFound(m) => ApiError::not_found(m),
            BackupServiceError::Store(s) => s.into(),
            other => {
                tracing::error!(error = %other, "backup repository work failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string())
            }
        }
    }
}

fn io_error(what: &str, e: std::io::Error) -> ApiError {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        tracing::error!(error = %e, "backup storage full");
        return ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("{what}: the server's backup storage is full; nothing was stored"),
        );
    }
    tracing::error!(error = %e, "backup storage failed");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{what}: {e}"))
}

/// Holds the repository shared against other processes for one request. A retention
/// run from the command line holds it alone; the terminal retries later.
fn held(state: &AgentApi, host: &AuthenticatedHost) -> Result<std::fs::File, ApiError> {
    state.backup.try_hold_shared(&host.host_id)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "retention or a check started from the command line is running on this terminal's repository; retry later",
        )
    })
}

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, message)
}

async fn provision(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
) -> Result<Json<RepositoryGrant>, ApiError> {
    let service = state.backup.clone();
    let host_id = host.host_id;
    let grant = tokio::task::spawn_blocking(move || {
        let lock = service.lock(&host_id);
        let _alone = lock.blocking_write();
        service.provision(&host_id)
    })
    .await??;
    Ok(Json(RepositoryGrant {
        path: REPOSITORY_PATH.to_string(),
        password: grant.password,
        created: grant.created,
    }))
}

async fn create_refused(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
) -> Result<Response, ApiError> {
    let repo = state.backup.repo_dir(&host.host_id)?;
    if repo.exists() {
        return Err(forbidden(
            "this terminal's repository already exists; it is never created twice",
        ));
    }
    Err(forbidden(
        "repositories are created by the server: ask for one with POST /api/v1/backup/repository",
    ))
}

/// The terminal's repository, which must exist.
fn repository(state: &AgentApi, host_id: &str) -> Result<RepoDir, ApiError> {
    let repo = state.backup.repo_dir(host_id)?;
    if !repo.exists() {
        return Err(ApiError::not_found(
            "this terminal has no backup repository yet: ask for one with POST /api/v1/backup/repository",
        ));
    }
    Ok(repo)
}

async fn get_config(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let repo = repository(&state, &host.host_id)?;
    send_file(repo.config_path(), &headers, "config").await
}

async fn write_config(host: AuthenticatedHost) -> ApiError {
    tracing::warn!(host_id = %host.host_id, "terminal tried to change its repository config");
    forbidden(
        "the repository config is written once, by the server; it is never replaced or deleted",
    )
}

fn parse_kind(kind: &str) -> Result<FileKind, ApiError> {
    FileKind::parse(kind).ok_or_else(|| {
        ApiError::not_found(format!(
            "{kind:?} is not a repository file type (data, keys, locks, snapshots, index)"
        ))
    })
}

fn parse_name(name: &str) -> Result<(), ApiError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{name:?} is not a repository file name: 64 lowercase hex digits"
        )))
    }
}

async fn list_files(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    ApiPath(kind): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let kind = parse_kind(&kind)?;
    let repo = repository(&state, &host.host_id)?;
    let lock = state.backup.lock(&host.host_id);
    let _shared = lock.read().await;
    let _held = held(&state, &host)?;
    let files = tokio::task::spawn_blocking(move || repo.list(kind))
        .await?
        .map_err(|e| io_error("cannot list the repository", e))?;
    let v2 = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(REST_V2));
    let (body, content_type) = if v2 {
        let entries: Vec<serde_json::Value> = files
            .into_iter()
            .map(|(name, size)| serde_json::json!({ "name": name, "size": size }))
            .collect();
        (serde_json::Value::from(entries).to_string(), REST_V2)
    } else {
        let names: Vec<String> = files.into_iter().map(|(name, _)| name).collect();
        (
            serde_json::Value::from(names).to_string(),
            "application/vnd.x.restic.rest.v1",
        )
    };
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// The terminal's repository, the kind and the lock for a request about one file,
/// after the kind and name were checked.
fn one_file(
    state: &AgentApi,
    host: &AuthenticatedHost,
    kind: &str,
    name: &str,
) -> Result<(RepoDir, FileKind, Arc<tokio::sync::RwLock<()>>), ApiError> {
    let kind = parse_kind(kind)?;
    parse_name(name)?;
    let repo = repository(state, &host.host_id)?;
    Ok((repo, kind, state.backup.lock(&host.host_id)))
}

async fn get_file(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    ApiPath((kind, name)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (repo, kind, lock) = one_file(&state, &host, &kind, &name)?;
    let _shared = lock.read().await;
    let _held = held(&state, &host)?;
    send_file(repo.path(kind, &name), &headers, &name).await
}

/// A byte range `bytes=START-END` or `bytes=START-` of a file of `size` bytes, as
/// `(start, length)`.
pub fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = match end.trim() {
        "" => size.checked_sub(1)?,
        e => e.parse::<u64>().ok()?.min(size.checked_sub(1)?),
    };
    (start <= end && start < size).then(|| (start, end - start + 1))
}

async fn send_file(
    path: std::path::PathBuf,
    headers: &HeaderMap,
    name: &str,
) -> Result<Response, ApiError> {
    let opened = tokio::task::spawn_blocking(move || RepoDir::open(&path))
        .await?
        .map_err(|e| io_error("cannot read the repository", e))?;
    let Some((mut file, size)) = opened else {
        return Err(ApiError::not_found(format!(
            "no file {name} in this repository"
        )));
    };
    let range = match headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(text) => Some(parse_range(text, size).ok_or_else(|| {
            ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("range {text:?} is not a single byte range within the file's {size} bytes"),
            )
        })?),
    };
    let (status, start, length) = match range {
        Some((start, length)) => (StatusCode::PARTIAL_CONTENT, start, length),
        None => (StatusCode::OK, 0, size),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .map_err(|e| io_error("cannot read the repository", e))?;
    }
    let mut response = (status, Body::new(FileBody::new(file, length))).into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(CONTENT_LENGTH, HeaderValue::from(length));
    if range.is_some() {
        if let Ok(v) =
            HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + length - 1))
        {
            h.insert(CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

async fn post_file(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    ApiPath((kind, name)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (repo, kind, lock) = one_file(&state, &host, &kind, &name)?;
    let _shared = lock.read().await;
    let _held = held(&state, &host)?;
    let final_path = repo.path(kind, &name);
    if final_path.exists() {
        tracing::warn!(host_id = %host.host_id, kind = kind.dir(), %name, "terminal tried to overwrite a repository file");
        return Err(forbidden(StoreFileError::Exists(name).to_string()));
    }
    let most = if kind == FileKind::Data {
        MAX_REPOSITORY_FILE
    } else {
        MAX_SMALL_FILE
    };
    let room = {
        let (service, host_id, dir) = (state.backup.clone(), host.host_id.clone(), repo.clone());
        tokio::task::spawn_blocking(move || service.room_for(&host_id, &dir)).await??
    };
    let room = room.map_err(|refusal| {
        tracing::warn!(host_id = %host.host_id, reason = %refusal, "backup upload refused for space");
        ApiError::new(StatusCode::INSUFFICIENT_STORAGE, refusal.to_string())
    })?;
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > room && n <= most) {
        return Err(ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("{name} does not fit: the server can take {room} more bytes for this terminal's repository (quota or free-space reserve)"),
        ));
    }
    let limit = most.min(room);
    let new_file = repo
        .begin(final_path, Some(name.clone()))
        .map_err(|e| io_error("cannot store the file", e))?;
    let size = receive(body, new_file, limit, &name).await?;
    state.backup.note_stored(&host.host_id, size);
    if kind == FileKind::Snapshots {
        let store = state.store.clone();
        let host_id = host.host_id.clone();
        let id = name.clone();
        crate::api_error::blocking(move || {
            store.record_snapshot(&host_id, &id, size, wardwatch_proto::now_millis())
        })
        .await?;
        tracing::info!(host_id = %host.host_id, snapshot = %name, "backup snapshot received");
    }
    Ok(StatusCode::OK.into_response())
}

/// Streams a request body into a new file, in batches written off the runtime, and
/// commits it.
async fn receive(
    mut body: Body,
    new_file: NewFile,
    limit: u64,
    name: &str,
) -> Result<u64, ApiError> {
    let mut file = Some(new_file);
    let mut batch: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
    let mut total: u64 = 0;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let chunk: Option<Bytes> = match frame {
            None => None,
            Some(Err(e)) => {
                return Err(ApiError::bad_request(
                    StoreFileError::Upload(e.to_string()).to_string(),
                ))
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => Some(data),
                Err(_) => continue,
            },
        };
        let done = chunk.is_none();
        if let Some(data) = chunk {
            total += data.len() as u64;
            if total > limit {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    StoreFileError::TooLarge {
                        what: name.to_string(),
                        limit,
                    }
                    .to_string(),
                ));
            }
            batch.extend_from_slice(&data);
        }
        if batch.len() >= WRITE_BATCH || done {
            let mut writing = file.take().ok_or_else(|| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "upload state lost")
            })?;
            let bytes = std::mem::take(&mut batch);
            let result = tokio::task::spawn_blocking(move || {
                writing.write(&bytes)?;
                if done {
                    return writing.commit().map(|n| (None, n));
                }
                Ok((Some(writing), 0))
            })
            .await?;
            match result {
                Ok((Some(next), _)) => file = Some(next),
                Ok((None, written)) => return Ok(written),
                Err(StoreFileError::Exists(n)) => {
                    return Err(forbidden(StoreFileError::Exists(n).to_string()))
                }
                Err(e @ StoreFileError::WrongHash { .. }) => {
                    return Err(ApiError::bad_request(e.to_string()))
                }
                Err(StoreFileError::Io(e)) => return Err(io_error("cannot store the file", e)),
                Err(e) => return Err(ApiError::bad_request(e.to_string())),
            }
        }
    }
}

async fn delete_file(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    ApiPath((kind, name)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let kind = parse_kind(&kind)?;
    parse_name(&name)?;
    if kind != FileKind::Locks {
        tracing::warn!(host_id = %host.host_id, kind = kind.dir(), %name, "terminal tried to delete a repository file");
        return Err(forbidden(format!(
            "this repository is append-only: a terminal cannot delete {} files (only the server's retention removes data)",
            kind.dir()
        )));
    }
    let repo = repository(&state, &host.host_id)?;
    let lock = state.backup.lock(&host.host_id);
    let _shared = lock.read().await;
    let _held = held(&state, &host)?;
    let removed = tokio::task::spawn_blocking(move || repo.remove_lock(&name))
        .await?
        .map_err(|e| io_error("cannot remove the lock", e))?;
    if removed {
        Ok(StatusCode::OK.into_response())
    } else {
        Err(ApiError::not_found("no such lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_single_and_inside_the_file() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=90-500", 100), Some((90, 10)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-4", 100), None);
        assert_eq!(parse_range("bytes=0-1,4-5", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=0-0", 0), None);
    }
}
