//! The one error type every HTTP handler returns: a status and a sentence for a person,
//! sent as `{"error": "…"}`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use wardwatch_proto::ErrorBody;

use crate::db::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TokenUnknown
            | StoreError::TokenUsedUp { .. }
            | StoreError::TokenExpired { .. } => Self::new(StatusCode::FORBIDDEN, e.to_string()),
            StoreError::NoSuchAdmin(_) => Self::not_found(e.to_string()),
            StoreError::AccountExists(_) => Self::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::BadUsername(_) => Self::bad_request(e.to_string()),
            StoreError::AccountRefused(_) => Self::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::WrongPassword => Self::new(StatusCode::FORBIDDEN, e.to_string()),
            full if full.is_disk_full() => {
                tracing::error!(error = %full, "the server's disk is full: nothing more can be stored until space is freed");
                Self::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    format!("the server's disk is full, so nothing was stored ({full}); free space on the server: terminals keep their events and send them again"),
                )
            }
            other => {
                tracing::error!(error = %other, "storage failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the server could not store or read data: {other}"),
                )
            }
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        tracing::error!(error = %e, "a storage task failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

/// Runs blocking storage work off the async runtime.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// Parses JSON with the path of the first wrong field in the message, e.g.
/// `events[3].seq: invalid type: string "x", expected u64`.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                ApiError::bad_request(format!("malformed {what}: {inner}"))
            } else {
                ApiError::bad_request(format!("malformed {what}: at {path}: {inner}"))
            }
        })
        .and_then(|value| {
            de.end()
                .map_err(|e| ApiError::bad_request(format!("malformed {what}: {e}")))?;
            Ok(value)
        })
}

/// Query parameters whose rejection is an [`ApiError`] (JSON, with the parameter named),
/// not axum's plain-text answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::bad_request(format!("bad query parameter: {}", e.body_text())))
    }
}

/// Path parameters whose rejection is an [`ApiError`] (JSON, naming what could not be
/// read), not axum's plain-text answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(p)| ApiPath(p))
            .map_err(|e| ApiError::bad_request(format!("bad path: {}", e.body_text())))
    }
}
