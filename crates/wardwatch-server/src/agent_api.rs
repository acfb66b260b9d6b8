//! The agent API, served on the mutual-TLS listener.
//!
//! - `GET  /api/v1/ca`        the CA certificate (public)
//! - `POST /api/v1/enroll`    a one-time token and a CSR in, a client certificate out
//! - `POST /api/v1/events`    a zstd-compressed batch of events; answers with the ack
//! - `POST /api/v1/heartbeat` the agent is alive
//!
//! Every endpoint but the first two requires the client certificate of an enrolled,
//! not revoked, terminal.

use std::io::Read;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use wardwatch_proto::{
    Batch, BatchAck, EnrollRequest, EnrollResponse, Heartbeat, MAX_BATCH_COMPRESSED_BYTES,
    MAX_BATCH_DECOMPRESSED_BYTES, MAX_BATCH_EVENTS, PROTOCOL_VERSION,
};

use crate::api_error::{blocking, parse_json, ApiError};
use crate::ca::{fingerprint, CertificateAuthority};
use crate::store::NewHost;
use crate::store::Store;
use crate::timefmt::rfc3339_millis;
use crate::tls::PeerCertificate;

/// Largest enrollment request, in bytes.
const MAX_ENROLL_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AgentApi {
    pub store: Arc<Store>,
    pub ca: Arc<CertificateAuthority>,
}

pub fn router(state: AgentApi) -> Router {
    Router::new()
        .route("/api/v1/ca", get(ca_certificate))
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/events", post(events))
        .route("/api/v1/heartbeat", post(heartbeat))
        .fallback(|| async { ApiError::not_found("no such endpoint on the agent API") })
        .with_state(state)
}

/// The enrolled terminal behind a request, identified by its client certificate.
pub struct AuthenticatedHost {
    pub host_id: String,
}

impl FromRequestParts<AgentApi> for AuthenticatedHost {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AgentApi) -> Result<Self, ApiError> {
        let cert = parts
            .extensions
            .get::<PeerCertificate>()
            .and_then(|p| p.0.clone())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "client certificate required: this endpoint is for enrolled terminals; enroll with `wardwatch agent enroll` first",
                )
            })?;
        let print = fingerprint(&cert);
        let store = state.store.clone();
        let lookup = print.clone();
        let host = blocking(move || store.host_for_certificate(&lookup)).await?;
        match host {
            None => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("client certificate {print} belongs to no enrolled terminal on this server"),
            )),
            Some(h) => match h.revoked_at {
                Some(at) => Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "terminal {} was revoked at {}; its certificate is no longer accepted (enroll it again with a new token if this was a mistake)",
                        h.host_id,
                        rfc3339_millis(at)
                    ),
                )),
                None => Ok(AuthenticatedHost { host_id: h.host_id }),
            },
        }
    }
}

async fn ca_certificate(State(state): State<AgentApi>) -> String {
    state.ca.cert_pem().to_string()
}

async fn enroll(
    State(state): State<AgentApi>,
    body: Body,
) -> Result<Json<EnrollResponse>, ApiError> {
    let bytes = read_body(body, MAX_ENROLL_BYTES, "enrollment request").await?;
    let request: EnrollRequest = parse_json(&bytes, "enrollment request")?;
    check_protocol(request.protocol)?;
    let hostname = request.hostname.trim().to_string();
    if hostname.is_empty() || hostname.len() > 253 {
        return Err(ApiError::bad_request(
            "malformed enrollment request: hostname must be 1 to 253 characters",
        ));
    }
    let store = state.store.clone();
    let token = request.token.clone();
    blocking(move || store.check_token(&token)).await?;

    let host_id = format!("h-{}", crate::ca::random_hex(6));
    let certificate_pem = state
        .ca
        .sign_client_csr(&request.csr_pem, &host_id)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let der = {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    };
    let cert_fingerprint = fingerprint(&der);
    let store = state.store.clone();
    let id = host_id.clone();
    let (label, department) = blocking(move || {
        store.enroll_host(
            &request.token,
            &NewHost {
                host_id: &id,
                hostname: &hostname,
                cert_fingerprint: &cert_fingerprint,
            },
        )
    })
    .await?;
    tracing::info!(%host_id, %label, %department, "terminal enrolled");
    Ok(Json(EnrollResponse {
        host_id,
        certificate_pem,
        ca_pem: state.ca.cert_pem().to_string(),
    }))
}

/// Just the version, read before the rest so that a newer agent's batch is refused
/// with the version mismatch rather than with whatever field it added.
#[derive(Deserialize)]
struct VersionProbe {
    protocol: Option<serde_json::Value>,
}

async fn events(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BatchAck>, ApiError> {
    let compressed = read_body(body, MAX_BATCH_COMPRESSED_BYTES, "batch").await?;
    let encoding = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let batch = decode_batch(encoding, &compressed)?;
    let store = state.store.clone();
    let host_id = host.host_id.clone();
    let ack = blocking(move || store.ingest(&host_id, &batch.events)).await?;
    tracing::debug!(host = %host.host_id, stored = ack.stored, duplicates = ack.duplicates, "batch stored");
    Ok(Json(ack))
}

/// Decodes and checks a batch body exactly as the events endpoint does: decompression
/// within limits, protocol version first, then the events with the path of the first
/// wrong field. Public so that it can be fuzzed on its own.
pub fn decode_batch(encoding: Option<&str>, body: &[u8]) -> Result<Batch, ApiError> {
    let json = match encoding {
        Some("zstd") => decompress(body)?,
        None | Some("identity") => body.to_vec(),
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported Content-Encoding {other:?}: send zstd or nothing"),
            ))
        }
    };
    let probe: VersionProbe = parse_json(&json, "batch")?;
    match probe.protocol {
        None => {
            return Err(ApiError::bad_request(
                "malformed batch: the field `protocol` is missing",
            ))
        }
        Some(v) => match v.as_u64() {
            Some(n) => check_protocol(n.min(u32::MAX as u64) as u32)?,
            None => {
                return Err(ApiError::bad_request(format!(
                    "malformed batch: at protocol: expected a version number, found {v}"
                )))
            }
        },
    }
    let batch: Batch = parse_json(&json, "batch")?;
    if batch.events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "batch holds {} events; the limit is {MAX_BATCH_EVENTS}",
                batch.events.len()
            ),
        ));
    }
    if let Some(bad) = batch.events.iter().position(|e| e.seq == 0) {
        return Err(ApiError::bad_request(format!(
            "malformed batch: at events[{bad}].seq: sequence numbers start at 1"
        )));
    }
    Ok(batch)
}

async fn heartbeat(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bytes = read_body(body, MAX_ENROLL_BYTES, "heartbeat").await?;
    let beat: Heartbeat = parse_json(&bytes, "heartbeat")?;
    check_protocol(beat.protocol)?;
    let store = state.store.clone();
    blocking(move || store.heartbeat(&host.host_id, &beat)).await?;
    Ok(Json(
        serde_json::json!({ "server_time": wardwatch_proto::now_millis() }),
    ))
}

fn check_protocol(version: u32) -> Result<(), ApiError> {
    if version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "unsupported protocol version {version}: this server speaks version {PROTOCOL_VERSION}; run the same wardwatch version on the server and its agents"
        )))
    }
}

/// Reads a request body of at most `limit` bytes.
async fn read_body(body: Body, limit: usize, what: &str) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{what} is larger than the limit of {limit} bytes (or the upload broke off)"),
        )
    })
}

/// Decompresses a zstd body, refusing to inflate beyond the batch limit.
fn decompress(compressed: &[u8]) -> Result<Vec<u8>, ApiError> {
    let decoder = zstd::stream::read::Decoder::new(compressed)
        .map_err(|e| ApiError::bad_request(format!("malformed batch: not zstd data: {e}")))?;
    let mut out = Vec::new();
    decoder
        .take(MAX_BATCH_DECOMPRESSED_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::bad_request(format!("malformed batch: broken zstd data: {e}")))?;
    if out.len() > MAX_BATCH_DECOMPRESSED_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "batch decompresses to more than the limit of {MAX_BATCH_DECOMPRESSED_BYTES} bytes"
            ),
        ));
    }
    Ok(out)
}
