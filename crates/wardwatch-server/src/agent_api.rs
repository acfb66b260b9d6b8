//! The agent API, served on the mutual-TLS listener.
//!
//! - `GET  /api/v1/ca`        the CA certificate (public)
//! - `POST /api/v1/enroll`    a one-time token and a CSR in, a client certificate out
//! - `POST /api/v1/events`    a zstd-compressed batch of events; answers with the ack
//! - `POST /api/v1/heartbeat` the agent is alive
//! - `GET  /api/v1/bundles`   the installed offline bundles: each kind's version, its
//!   exact signed manifest (base64) and minisign signature, for the agent to verify with
//!   its own trusted keys before it fetches anything; not the `patches` bundle, which a
//!   terminal never installs whole
//! - `GET  /api/v1/patches`   the `patches` bundle's offer (404 when none is installed):
//!   the terminal verifies it the same way and fetches only the files its upgrades need
//! - `GET  /api/v1/bundles/{kind}/members/{sha256}` one member's bytes, addressed by
//!   their SHA-256, so an agent fetches only what changed
//! - `POST /api/v1/bundles/status` the bundle versions the agent runs now
//! - `GET  /api/v1/commands`  the commands queued in the console for this terminal
//! - `POST /api/v1/commands/{id}` the outcome of one of them: `{ok, result}`
//! - `/api/v1/backup/…` the terminal's own backup repository, append-only, in restic's
//!   REST protocol (the `backup` feature's `rest` routes, merged in by `start`)
//!
//! Every endpoint but the first two requires the client certificate of an enrolled,
//! not revoked, terminal.

use std::io::Read;
use std::sync::Arc;

use crate::db::StoreError;
use crate::incidents::signal::Signal;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use wardwatch_bundle::Kind;
use wardwatch_proto::{
    Batch, BatchAck, BundleListing, BundleOffer, BundleStatus, BundleStatusAnswer, CommandOutcome,
    CommandRecorded, EnrollRequest, EnrollResponse, Heartbeat, HeartbeatAnswer, PendingCommands,
    RunningBundle, MAX_BATCH_COMPRESSED_BYTES, MAX_BATCH_DECOMPRESSED_BYTES, MAX_BATCH_EVENTS,
    PROTOCOL_VERSION,
};

use crate::api_error::{blocking, parse_json, ApiError, ApiPath};
use crate::auth::NewHost;
use crate::bundles::InstalledBundles;
use crate::ca::{fingerprint, CertificateAuthority};
use crate::file_body::FileBody;
use crate::storage::Storage;
use crate::timefmt::rfc3339_millis;
use crate::tls::PeerCertificate;
use crate::vuln::VulnService;

/// Largest enrollment request, in bytes.
const MAX_ENROLL_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AgentApi {
    pub store: Arc<dyn Storage>,
    pub ca: Arc<CertificateAuthority>,
    pub bundles: Arc<InstalledBundles>,
    /// Told when a host's inventory changed, to match it again.
    pub vuln: Arc<VulnService>,
    /// The terminals' backup repositories.
    pub backup: Arc<crate::backup::BackupService>,
    /// The server's data directory (the evidence store is in it).
    pub data_dir: std::path::PathBuf,
}

pub fn router(state: AgentApi) -> Router {
    Router::new()
        .route("/api/v1/ca", get(ca_certificate))
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/events", post(events))
        .route("/api/v1/heartbeat", post(heartbeat))
        .route("/api/v1/bundles", get(list_bundles))
        .route("/api/v1/patches", get(patches_offer))
        .route("/api/v1/bundles/status", post(bundle_status))
        .route(
            "/api/v1/bundles/{kind}/members/{sha256}",
            get(bundle_member),
        )
        .route("/api/v1/commands", get(take_commands))
        .route("/api/v1/commands/{id}", post(finish_command))
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
    ConnectInfo(remote): ConnectInfo<std::net::SocketAddr>,
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
    let claimed = hostname.clone();
    blocking(move || {
        let checked = store.check_token(&token);
        // A refused token may be someone guessing: each refusal joins an incident per
        // address.
        if let Err(
            e @ (StoreError::TokenUnknown
            | StoreError::TokenUsedUp { .. }
            | StoreError::TokenExpired { .. }),
        ) = &checked
        {
            let signal = Signal::enrolment_refused(
                remote.ip().to_canonical(),
                &claimed,
                &e.to_string(),
                wardwatch_proto::now_millis(),
            );
            if let Err(failed) = store.record_signal(&signal) {
                tracing::error!(error = %failed, "cannot record a refused enrolment as an incident");
            }
        }
        checked
    })
    .await?;

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
    let (ack, inventory_changed) =
        blocking(move || store.ingest_batch(&host_id, &batch.events)).await?;
    if inventory_changed {
        state.vuln.host_changed(&host.host_id);
    }
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
) -> Result<Json<HeartbeatAnswer>, ApiError> {
    let bytes = read_body(body, MAX_ENROLL_BYTES, "heartbeat").await?;
    let beat: Heartbeat = parse_json(&bytes, "heartbeat")?;
    check_protocol(beat.protocol)?;
    let store = state.store.clone();
    blocking(move || store.heartbeat(&host.host_id, &beat)).await?;
    Ok(Json(HeartbeatAnswer {
        server_time: wardwatch_proto::now_millis(),
    }))
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

/// Most entries a status report may hold (there are three kinds).
const MAX_STATUS_ENTRIES: usize = 16;

fn storage_unavailable(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "cannot read the installed bundles");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the server cannot read its installed bundles right now: {e}"),
    )
}

async fn list_bundles(
    State(state): State<AgentApi>,
    _host: AuthenticatedHost,
) -> Result<Json<BundleListing>, ApiError> {
    let shelf = state.bundles.clone();
    let installed = tokio::task::spawn_blocking(move || shelf.all())
        .await?
        .map_err(storage_unavailable)?;
    Ok(Json(BundleListing {
        bundles: installed
            .iter()
            .filter(|b| b.kind != Kind::Patches)
            .map(|b| offer_of(b))
            .collect(),
    }))
}

fn offer_of(b: &crate::bundles::InstalledBundle) -> BundleOffer {
    let b64 = base64::engine::general_purpose::STANDARD;
    BundleOffer {
        kind: b.kind.as_str().to_string(),
        version: b.manifest.version,
        manifest_sha256: b.manifest_sha256.clone(),
        manifest: b64.encode(&b.manifest_bytes),
        signature: b.signature.clone(),
    }
}

async fn patches_offer(
    State(state): State<AgentApi>,
    _host: AuthenticatedHost,
) -> Result<Json<BundleOffer>, ApiError> {
    let shelf = state.bundles.clone();
    let installed = tokio::task::spawn_blocking(move || shelf.get(Kind::Patches))
        .await?
        .map_err(storage_unavailable)?;
    installed
        .map(|b| Json(offer_of(&b)))
        .ok_or_else(|| ApiError::not_found("no patches bundle is installed on the server"))
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

async fn bundle_member(
    State(state): State<AgentApi>,
    _host: AuthenticatedHost,
    ApiPath((kind, sha256)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let kind = Kind::parse(&kind).map_err(ApiError::not_found)?;
    let digest = parse_sha256(&sha256).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{sha256:?} is not a SHA-256: give 64 lowercase hex digits, as the manifest lists them"
        ))
    })?;
    let shelf = state.bundles.clone();
    let opened = tokio::task::spawn_blocking(move || shelf.open_member(kind, &digest))
        .await?
        .map_err(storage_unavailable)?;
    let Some((file, size)) = opened else {
        return Err(ApiError::not_found(format!(
            "the installed {kind} bundle has no member with SHA-256 {sha256}; it may have been replaced: fetch /api/v1/bundles again"
        )));
    };
    let body = Body::new(FileBody::new(file, size));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        headers.insert(ETAG, tag);
    }
    Ok(response)
}

async fn bundle_status(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    body: Body,
) -> Result<Json<BundleStatusAnswer>, ApiError> {
    let bytes = read_body(body, MAX_ENROLL_BYTES, "bundle status").await?;
    let status: BundleStatus = parse_json(&bytes, "bundle status")?;
    check_protocol(status.protocol)?;
    if status.bundles.len() > MAX_STATUS_ENTRIES {
        return Err(ApiError::bad_request(format!(
            "malformed bundle status: {} entries, at most {MAX_STATUS_ENTRIES}",
            status.bundles.len()
        )));
    }
    let mut reported: Vec<(String, i64)> = Vec::with_capacity(status.bundles.len());
    for (i, b) in status.bundles.iter().enumerate() {
        let kind = Kind::parse(&b.kind).map_err(|e| {
            ApiError::bad_request(format!(
                "malformed bundle status: at bundles[{i}].kind: {e}"
            ))
        })?;
        let version = i64::try_from(b.version).map_err(|_| {
            ApiError::bad_request(format!(
                "malformed bundle status: at bundles[{i}].version: too large"
            ))
        })?;
        if reported.iter().any(|(k, _)| k == kind.as_str()) {
            return Err(ApiError::bad_request(format!(
                "malformed bundle status: at bundles[{i}].kind: {kind} is listed twice"
            )));
        }
        reported.push((kind.as_str().to_string(), version));
    }
    let store = state.store.clone();
    let host_id = host.host_id.clone();
    blocking(move || store.report_host_bundles(&host_id, &reported)).await?;
    let shelf = state.bundles.clone();
    let installed = tokio::task::spawn_blocking(move || shelf.all())
        .await?
        .map_err(storage_unavailable)?;
    let installed: Vec<RunningBundle> = installed
        .iter()
        .map(|b| RunningBundle {
            kind: b.kind.as_str().to_string(),
            version: b.manifest.version,
        })
        .collect();
    Ok(Json(BundleStatusAnswer { installed }))
}

/// Largest command result, in bytes (a scan summary is far smaller).
const MAX_COMMAND_RESULT_BYTES: usize = 256 * 1024;

/// `GET /api/v1/commands`: the terminal's queued commands, marked as taken.
async fn take_commands(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
) -> Result<Json<PendingCommands>, ApiError> {
    let store = state.store.clone();
    let now = wardwatch_proto::now_millis();
    let commands = blocking(move || store.take_commands(&host.host_id, now)).await?;
    Ok(Json(PendingCommands { commands }))
}

/// `POST /api/v1/commands/{id}`: the outcome of one of the terminal's own commands.
async fn finish_command(
    State(state): State<AgentApi>,
    host: AuthenticatedHost,
    ApiPath(id): ApiPath<String>,
    body: Body,
) -> Result<Json<CommandRecorded>, ApiError> {
    let number: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("command ids are numbers, not {id:?}")))?;
    let bytes = read_body(body, MAX_COMMAND_RESULT_BYTES, "command result").await?;
    let outcome: CommandOutcome = parse_json(&bytes, "command result")?;
    let store = state.store.clone();
    let host_id = host.host_id.clone();
    let now = wardwatch_proto::now_millis();
    let recorded = blocking(move || store.finish_command(&host_id, number, &outcome, now)).await?;
    if !recorded {
        return Err(ApiError::not_found(format!(
            "terminal {} has no unfinished command {number}",
            host.host_id
        )));
    }
    Ok(Json(CommandRecorded { recorded: number }))
}
