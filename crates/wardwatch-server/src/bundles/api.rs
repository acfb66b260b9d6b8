//! The console's bundle pages: what is installed per kind, which terminals run which
//! version, recent imports, the upload of a new bundle and the stale setting.
//!
//! - `GET /api/bundles`          the overview
//! - `POST /api/bundles`         upload and import a bundle (admins only; audited)
//! - `PUT /api/bundles/settings` after how many days installed data is stale (admins only)

use std::collections::BTreeMap;
use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::freshness::{is_stale, millis, stale_days, MAX_STALE_DAYS, STALE_DAYS_SETTING};
use super::{ImportError, ImportedBundle, KINDS};
use crate::api_error::{blocking, parse_json, ApiError};
use crate::auth::session::{require_json, ConsoleApi, Session};
use crate::auth::Permission;
use crate::list_query;
use wardwatch_bundle::Kind;

/// Largest bundle the console accepts as an upload (2 GiB); larger ones are imported on
/// the server with `wardwatch bundle import`.
pub const MAX_BUNDLE_UPLOAD: u64 = 2 << 30;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/bundles", get(bundles_overview).post(upload_bundle))
        .route("/api/bundles/settings", put(bundle_settings))
}

/// An installed bundle as the console shows it: what the directory holds, and who
/// imported it when (absent if the import was never recorded).
#[derive(Debug, Serialize)]
struct InstalledView {
    version: u64,
    created: i64,
    expires: i64,
    key_id: Option<String>,
    manifest_sha256: String,
    members: usize,
    total_size: u64,
    imported_at: Option<i64>,
    imported_by: Option<String>,
}

#[derive(Debug, Serialize)]
struct KindView {
    kind: &'static str,
    installed: Option<InstalledView>,
    /// Older than the stale setting (by its creation time).
    stale: bool,
    expired: bool,
    hosts_current: usize,
    hosts_behind: usize,
    hosts_not_reported: usize,
}

#[derive(Debug, Serialize)]
struct HostVersionView {
    version: i64,
    reported_at: i64,
    behind: bool,
}

#[derive(Debug, Serialize)]
struct HostView {
    id: String,
    hostname: String,
    label: String,
    department: String,
    online: bool,
    last_seen: Option<i64>,
    bundles: BTreeMap<String, HostVersionView>,
    /// Kinds installed on the server of which the host runs an older version.
    behind: Vec<&'static str>,
    /// Kinds installed on the server the host has not reported.
    not_reported: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct BundlesOverview {
    now: i64,
    stale_after_days: u32,
    max_upload_bytes: u64,
    trusted_keys: Vec<String>,
    trusted_keys_error: Option<String>,
    kinds: Vec<KindView>,
    /// One page of the terminals that match (see [`HostsQuery`]).
    hosts: Vec<HostView>,
    /// Terminals that match, on every page.
    hosts_total: usize,
    history: Vec<ImportedBundle>,
}

/// Which terminals `GET /api/bundles` lists: `q` (words in the name, label or
/// department), `department`, `behind=true` (only those behind or not reporting),
/// `limit` and `offset`. The counts per kind always cover the fleet.
#[derive(Deserialize)]
struct HostsQuery {
    q: Option<String>,
    department: Option<String>,
    behind: Option<bool>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `GET /api/bundles`: installed bundles per kind with the fleet's counts, a page of the
/// terminals' versions, recent imports.
async fn bundles_overview(
    _session: Session,
    State(state): State<ConsoleApi>,
    query: Result<Query<HostsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BundlesOverview>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; use q, department, behind (true, false), limit and offset",
            e.body_text()
        ))
    })?;
    let words = list_query::words(&list_query::search(query.q)?);
    let department = list_query::filter(query.department, "department")?;
    let only_behind = query.behind.unwrap_or(false);
    let (limit, offset) = list_query::page(query.limit, query.offset);
    let mut overview = tokio::task::spawn_blocking(move || overview(&state)).await??;
    overview.hosts.retain(|h| {
        department.as_ref().is_none_or(|d| &h.department == d)
            && (!only_behind || !h.behind.is_empty() || !h.not_reported.is_empty())
            && list_query::all_words_in(&words, &[&h.hostname, &h.label, &h.department])
    });
    (overview.hosts, overview.hosts_total) =
        list_query::page_of(std::mem::take(&mut overview.hosts), limit, offset);
    Ok(Json(overview))
}

fn overview(state: &ConsoleApi) -> Result<BundlesOverview, ApiError> {
    let now = wardwatch_proto::now_millis();
    let store = state.store.as_ref();
    let stale_after_days = stale_days(store)?;
    let (trusted_keys, trusted_keys_error) = match super::list_trusted_keys(&state.data_dir) {
        Ok(keys) => (keys.into_iter().map(|k| k.key_id).collect(), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let hosts = store.host_bundle_versions()?;
    let mut kinds = Vec::new();
    let mut current: BTreeMap<&'static str, u64> = BTreeMap::new();
    for kind in KINDS {
        // Terminals take single files of a patches bundle and report no version of it.
        let hosts_report_it = kind != Kind::Patches;
        let installed = state.bundles.get(kind).map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot read the installed {kind} bundle: {e}"),
            )
        })?;
        let view = match &installed {
            None => None,
            Some(b) => {
                let m = &b.manifest;
                if hosts_report_it {
                    current.insert(kind.as_str(), m.version);
                }
                let record = i64::try_from(m.version)
                    .ok()
                    .map(|v| store.bundle_record(kind.as_str(), v))
                    .transpose()?
                    .flatten();
                Some(InstalledView {
                    version: m.version,
                    created: millis(m.created),
                    expires: millis(m.expires),
                    key_id: b.key_id.clone(),
                    manifest_sha256: b.manifest_sha256.clone(),
                    members: m.members.len(),
                    total_size: m.total_size(),
                    imported_at: record.as_ref().map(|r| r.imported_at),
                    imported_by: record.map(|r| r.imported_by),
                })
            }
        };
        let (mut hosts_current, mut hosts_behind, mut hosts_not_reported) = (0, 0, 0);
        if let Some(installed) = view.as_ref().filter(|_| hosts_report_it) {
            for h in &hosts {
                match h.bundles.get(kind.as_str()) {
                    None => hosts_not_reported += 1,
                    Some(r) if (r.version as i128) < installed.version as i128 => hosts_behind += 1,
                    Some(_) => hosts_current += 1,
                }
            }
        }
        kinds.push(KindView {
            kind: kind.as_str(),
            stale: view
                .as_ref()
                .is_some_and(|v| is_stale(v.created, now, stale_after_days)),
            expired: view.as_ref().is_some_and(|v| now >= v.expires),
            installed: view,
            hosts_current,
            hosts_behind,
            hosts_not_reported,
        });
    }
    let hosts: Vec<HostView> = hosts
        .into_iter()
        .map(|h| {
            let mut behind = Vec::new();
            let mut not_reported = Vec::new();
            for (kind, version) in &current {
                match h.bundles.get(*kind) {
                    None => not_reported.push(*kind),
                    Some(r) if (r.version as i128) < *version as i128 => behind.push(*kind),
                    Some(_) => {}
                }
            }
            let bundles = h
                .bundles
                .into_values()
                .map(|r| {
                    let is_behind = current
                        .get(r.kind.as_str())
                        .is_some_and(|v| (r.version as i128) < *v as i128);
                    (
                        r.kind,
                        HostVersionView {
                            version: r.version,
                            reported_at: r.reported_at,
                            behind: is_behind,
                        },
                    )
                })
                .collect();
            HostView {
                id: h.host_id,
                hostname: h.hostname,
                label: h.label,
                department: h.department,
                online: h.online,
                last_seen: h.last_seen,
                bundles,
                behind,
                not_reported,
            }
        })
        .collect();
    Ok(BundlesOverview {
        now,
        stale_after_days,
        max_upload_bytes: state.max_bundle_upload,
        trusted_keys,
        trusted_keys_error,
        kinds,
        hosts_total: hosts.len(),
        hosts,
        history: store.bundle_history(50)?,
    })
}

/// The HTTP answer to a failed import: the bundle's fault is 422 with the reason.
fn import_error(e: ImportError) -> ApiError {
    let status = if e.is_refusal() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if matches!(e, ImportError::Busy) {
        StatusCode::CONFLICT
    } else {
        tracing::error!(error = %e, "bundle import failed");
        StatusCode::INTERNAL_SERVER_ERROR
    };
    ApiError::new(status, e.to_string())
}

/// The file name the browser sent (`X-Bundle-Filename`, percent-encoded), for the audit
/// record only: decoded, control characters dropped, at most 200 characters.
fn upload_label(headers: &HeaderMap) -> String {
    let Some(raw) = headers
        .get("x-bundle-filename")
        .and_then(|v| v.to_str().ok())
    else {
        return "console upload".to_string();
    };
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                decoded.push(b);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let name: String = String::from_utf8_lossy(&decoded)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if name.trim().is_empty() {
        "console upload".to_string()
    } else {
        format!("console upload of {}", name.trim())
    }
}

/// `POST /api/bundles`: the body is the bundle file (`application/octet-stream`, which a
/// cross-site form cannot send). It is streamed to a file beside the installed bundles,
/// never held in memory, refused as soon as it passes the size cap, then imported.
async fn upload_bundle(
    session: Session,
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.require(Permission::ChangeSettings, "import bundles")?;
    let is_binary = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/octet-stream"));
    if !is_binary {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the bundle file itself as the body, with Content-Type: application/octet-stream",
        ));
    }
    let cap = state.max_bundle_upload;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the bundle is larger than the upload limit of {cap} bytes; import it on the server with `wardwatch bundle import FILE` instead"),
        )
    };
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let label = upload_label(&headers);
    let unavailable = |e: std::io::Error| {
        tracing::error!(error = %e, "cannot store an uploaded bundle");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the server cannot store the upload: {e}"),
        )
    };
    let dir = super::uploads_dir(&state.data_dir);
    let upload = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)?;
        tempfile::Builder::new().prefix("upload-").tempfile_in(&dir)
    })
    .await?
    .map_err(unavailable)?;
    let mut file = tokio::fs::File::from_std(upload.reopen().map_err(unavailable)?);
    let mut received: u64 = 0;
    let mut body = body;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(format!("the upload broke off ({e}); send the bundle again"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received = received.saturating_add(data.len() as u64);
        if received > cap {
            return Err(too_large());
        }
        file.write_all(&data).await.map_err(unavailable)?;
    }
    file.flush().await.map_err(unavailable)?;
    drop(file);
    if received == 0 {
        return Err(ApiError::bad_request(
            "the upload is empty: choose a bundle file (.wwb) to import",
        ));
    }
    let store = state.store.clone();
    let data_dir = state.data_dir.clone();
    let actor = session.user.username.clone();
    let result = tokio::task::spawn_blocking(move || {
        let result = super::import_file(store.as_ref(), &data_dir, upload.path(), &label, &actor);
        drop(upload);
        result
    })
    .await?;
    let outcome = result.map_err(import_error)?;
    state.vuln.feed_may_have_changed();
    Ok(Json(json!({
        "bundle": outcome.bundle,
        "replaced_version": outcome.replaced_version,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleSettings {
    stale_after_days: u32,
}

/// `PUT /api/bundles/settings`: after how many days installed data is called stale.
async fn bundle_settings(
    session: Session,
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.require(Permission::ChangeSettings, "change settings")?;
    require_json(&headers)?;
    let settings: BundleSettings = parse_json(&body, "bundle settings")?;
    let days = settings.stale_after_days;
    if !(1..=MAX_STALE_DAYS).contains(&days) {
        return Err(ApiError::bad_request(format!(
            "stale_after_days must be 1 to {MAX_STALE_DAYS}, not {days}"
        )));
    }
    let store = state.store.clone();
    let actor = session.user.username.clone();
    blocking(move || store.set_setting(STALE_DAYS_SETTING, &days.to_string(), &actor)).await?;
    Ok(Json(json!({ "stale_after_days": days })))
}
