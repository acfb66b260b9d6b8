//! The console: its static page and the JSON API behind it, on the console listener.
//!
//! Sessions are a random token in an `HttpOnly; Secure; SameSite=Strict` cookie; state
//! changing requests must be JSON, which a cross-site form cannot send.

use std::collections::BTreeMap;
use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::api_error::{blocking, parse_json, ApiError};
use crate::bundles::{self, ImportError, KINDS};
use crate::console;
use crate::console_session::{require_json, ConsoleApi, Session};
use crate::store::{
    AlertDetail, AlertPage, AlertQuery, ImportedBundle, Store, DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE,
};

/// Most bytes of audit entries one page of `GET /api/audit` carries (beyond its first
/// entry), whatever the number asked for.
const MAX_AUDIT_PAGE_BYTES: usize = 1 << 20;

/// Largest bundle the console accepts as an upload (2 GiB); larger ones are imported on
/// the server with `wardwatch bundle import`.
pub const MAX_BUNDLE_UPLOAD: u64 = 2 << 30;
/// Setting: after how many days the newest installed data of a kind is called stale.
const STALE_DAYS_SETTING: &str = "bundle_stale_after_days";
const DEFAULT_STALE_DAYS: u32 = 7;
const MAX_STALE_DAYS: u32 = 3650;
const DAY_MILLIS: i64 = 86_400_000;

pub fn router(state: ConsoleApi) -> Router {
    let api = Router::new()
        .route(
            "/api/login",
            post(crate::console_login::login).layer(axum::extract::DefaultBodyLimit::max(
                crate::console_login::MAX_LOGIN_BODY,
            )),
        )
        .route("/api/logout", post(crate::console_login::logout))
        .route("/api/me", get(me))
        .route("/api/hosts", get(hosts))
        .route("/api/hosts/{id}", get(host))
        .route("/api/hosts/{id}/packages", get(packages))
        .route("/api/hosts/{id}/listeners", get(listeners))
        .route("/api/hosts/{id}/accounts", get(accounts))
        .route("/api/hosts/{id}/history", get(history))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/{id}", get(alert))
        .route("/api/audit", get(audit))
        .route("/api/bundles", get(bundles_overview).post(upload_bundle))
        .route("/api/bundles/settings", put(bundle_settings))
        .route("/api/openapi.json", get(console::openapi))
        .merge(crate::vuln_api::routes())
        .merge(crate::commands_api::routes())
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .layer(axum::middleware::map_response(no_store));
    Router::new()
        .merge(console::router())
        .merge(api)
        .layer(axum::middleware::from_fn(crate::csrf::same_origin_only))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

async fn me(session: Session) -> Json<serde_json::Value> {
    Json(json!({ "username": session.user.username, "role": session.user.role }))
}

async fn hosts(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let hosts = blocking(move || store.list_hosts()).await?;
    Ok(Json(json!({ "hosts": hosts })))
}

async fn host(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let lookup = id.clone();
    let host = blocking(move || store.host(&lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no host with id {id}")))?;
    Ok(Json(json!({ "host": host })))
}

#[derive(Deserialize)]
struct PackageQuery {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn packages(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
    Query(query): Query<PackageQuery>,
) -> Result<Json<crate::store::PackagePage>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(200).clamp(1, 5000);
    let offset = query.offset.unwrap_or(0);
    let page = blocking(move || store.packages(&id, &query.q, limit, offset)).await?;
    Ok(Json(page))
}

async fn listeners(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let listeners = blocking(move || store.listeners(&id)).await?;
    Ok(Json(json!({ "listeners": listeners })))
}

async fn accounts(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let accounts = blocking(move || store.accounts(&id)).await?;
    Ok(Json(json!({ "accounts": accounts })))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<u32>,
}

async fn history(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
    Query(query): Query<LimitQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let events = blocking(move || store.history(&id, limit)).await?;
    Ok(Json(json!({ "events": events })))
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<u32>,
    before: Option<i64>,
}

async fn audit(
    _session: Session,
    State(state): State<ConsoleApi>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<crate::store::AuditPage>, ApiError> {
    let store = state.store.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let page =
        blocking(move || store.audit_page(limit, query.before, MAX_AUDIT_PAGE_BYTES)).await?;
    Ok(Json(page))
}

#[derive(Deserialize)]
struct AlertsQuery {
    limit: Option<u32>,
    before: Option<i64>,
    host: Option<String>,
}

/// `GET /api/alerts`: alerts of every host, newest first. A bad query parameter gets a
/// JSON sentence like every other error, not axum's plain-text rejection.
async fn alerts(
    _session: Session,
    State(state): State<ConsoleApi>,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Json<AlertPage>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; use ?limit=1..{MAX_ALERT_PAGE}, ?before=<alert id> and ?host=<host id>",
            e.body_text()
        ))
    })?;
    let query = AlertQuery {
        limit: query
            .limit
            .unwrap_or(DEFAULT_ALERT_PAGE)
            .clamp(1, MAX_ALERT_PAGE),
        before: query.before,
        host_id: query.host.filter(|h| !h.is_empty()),
    };
    let store = state.store.clone();
    let page = blocking(move || store.alerts(&query, wardwatch_proto::now_millis())).await?;
    Ok(Json(page))
}

#[derive(serde::Serialize)]
struct AlertBody {
    alert: AlertDetail,
}

/// `GET /api/alerts/{id}`: one alert with every file.
async fn alert(
    _session: Session,
    State(state): State<ConsoleApi>,
    Path(id): Path<String>,
) -> Result<Json<AlertBody>, ApiError> {
    let number: i64 = id.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "alert ids are whole numbers, e.g. /api/alerts/42, not {id:?}"
        ))
    })?;
    let store = state.store.clone();
    let alert = blocking(move || store.alert(number))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert with id {number}")))?;
    Ok(Json(AlertBody { alert }))
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
    hosts: Vec<HostView>,
    history: Vec<ImportedBundle>,
}

fn stale_days(store: &Store) -> Result<u32, crate::store::StoreError> {
    Ok(store
        .setting(STALE_DAYS_SETTING)?
        .and_then(|v| v.parse().ok())
        .filter(|d| (1..=MAX_STALE_DAYS).contains(d))
        .unwrap_or(DEFAULT_STALE_DAYS))
}

fn millis(t: wardwatch_bundle::time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `GET /api/bundles`: installed bundles per kind, the hosts' versions, recent imports.
async fn bundles_overview(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<BundlesOverview>, ApiError> {
    let overview = tokio::task::spawn_blocking(move || overview(&state)).await??;
    Ok(Json(overview))
}

fn overview(state: &ConsoleApi) -> Result<BundlesOverview, ApiError> {
    let now = wardwatch_proto::now_millis();
    let store = &state.store;
    let stale_after_days = stale_days(store)?;
    let (trusted_keys, trusted_keys_error) = match bundles::list_trusted_keys(&state.data_dir) {
        Ok(keys) => (keys.into_iter().map(|k| k.key_id).collect(), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let hosts = store.host_bundle_versions()?;
    let mut kinds = Vec::new();
    let mut current: BTreeMap<&'static str, u64> = BTreeMap::new();
    for kind in KINDS {
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
                current.insert(kind.as_str(), m.version);
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
        if let Some(installed) = &view {
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
            stale: view.as_ref().is_some_and(|v| {
                now.saturating_sub(v.created) > i64::from(stale_after_days) * DAY_MILLIS
            }),
            expired: view.as_ref().is_some_and(|v| now >= v.expires),
            installed: view,
            hosts_current,
            hosts_behind,
            hosts_not_reported,
        });
    }
    let hosts = hosts
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
    session.require_admin("import bundles")?;
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
    let dir = bundles::uploads_dir(&state.data_dir);
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
        let result = bundles::import_file(&store, &data_dir, upload.path(), &label, &actor);
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
    session.require_admin("change settings")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundles::InstalledBundles;
    use crate::console_session::SESSION_COOKIE;
    use axum::http::header::COOKIE;
    use axum::http::Request;
    use std::path::PathBuf;
    use std::sync::Arc;
    use tower::ServiceExt;

    struct Fx {
        _dir: tempfile::TempDir,
        data: PathBuf,
        app: Router,
        cookie: String,
    }

    fn fixture(cap: u64) -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let store = Store::open(&data.join("wardwatch.db")).unwrap();
        let password = store.ensure_first_admin().unwrap().unwrap();
        let policy = crate::store::LoginPolicy::default();
        let crate::store::LoginOutcome::Success { token, .. } = store
            .login_attempt("admin", &password, "127.0.0.1", &policy)
            .unwrap()
        else {
            panic!("the first admin logs in")
        };
        bundles::prepare(&store, &data).unwrap();
        let store = Arc::new(store);
        let app = router(ConsoleApi {
            store: store.clone(),
            data_dir: data.clone(),
            bundles: Arc::new(InstalledBundles::new(&data)),
            max_bundle_upload: cap,
            vuln: crate::vuln::VulnService::new(store, &data),
            logins: crate::login_gate::LoginGate::new(Default::default()),
        });
        Fx {
            _dir: dir,
            data,
            app,
            cookie: format!("{SESSION_COOKIE}={token}"),
        }
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn upload(cookie: Option<&str>, content_type: &str, body: Vec<u8>) -> Request<Body> {
        let mut request = Request::post("/api/bundles")
            .header(CONTENT_TYPE, content_type)
            .header(crate::csrf::CONSOLE_HEADER, "1");
        if let Some(c) = cookie {
            request = request.header(COOKIE, c);
        }
        request.body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn uploads_need_a_session_the_binary_type_and_stay_under_the_cap() {
        let fx = fixture(1000);
        let octets = "application/octet-stream";
        let (status, _) = send(&fx.app, upload(None, octets, vec![0; 10])).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) =
            send(&fx.app, upload(Some(&fx.cookie), "text/plain", vec![0; 10])).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        // Refused while streaming: no Content-Length was announced.
        let (status, body) = send(&fx.app, upload(Some(&fx.cookie), octets, vec![0; 5000])).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(body.contains("upload limit of 1000 bytes"), "{body}");
        let left = std::fs::read_dir(bundles::uploads_dir(&fx.data))
            .unwrap()
            .count();
        assert_eq!(left, 0, "the partial upload was removed");
        // Refused up front when announced.
        let request = Request::post("/api/bundles")
            .header(crate::csrf::CONSOLE_HEADER, "1")
            .header(CONTENT_TYPE, octets)
            .header(COOKIE, &fx.cookie)
            .header(CONTENT_LENGTH, "5000")
            .body(Body::from(vec![0u8; 5000]))
            .unwrap();
        assert_eq!(
            send(&fx.app, request).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        // Not a bundle: the library's sentence, 422, and nothing left behind.
        let (status, body) =
            send(&fx.app, upload(Some(&fx.cookie), octets, b"hello".to_vec())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("no publisher key is trusted"), "{body}");
        let left = std::fs::read_dir(bundles::uploads_dir(&fx.data))
            .unwrap()
            .count();
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn uploads_larger_than_axums_default_body_limit_get_through() {
        let fx = fixture(8 << 20);
        let body = vec![0x28u8; 3 << 20];
        let (status, body) = send(
            &fx.app,
            upload(Some(&fx.cookie), "application/octet-stream", body),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    #[tokio::test]
    async fn the_stale_setting_is_checked_and_shown() {
        let fx = fixture(1000);
        let put = |body: &str| {
            Request::put("/api/bundles/settings")
                .header(crate::csrf::CONSOLE_HEADER, "1")
                .header(CONTENT_TYPE, "application/json")
                .header(COOKIE, &fx.cookie)
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        let (status, body) = send(&fx.app, put("{\"stale_after_days\": 0}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = send(&fx.app, put("{\"stale_after_days\": 30}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let get = Request::get("/api/bundles")
            .header(COOKIE, &fx.cookie)
            .body(Body::empty())
            .unwrap();
        let (status, body) = send(&fx.app, get).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let overview: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(overview["stale_after_days"], 30);
        assert_eq!(overview["kinds"].as_array().map(Vec::len), Some(3));
        assert!(overview["kinds"][0]["installed"].is_null());
    }

    #[tokio::test]
    async fn the_console_scripts_get_the_security_headers() {
        let fx = fixture(1000);
        for path in ["/", "/console.css", "/js/lib.js", "/js/app.js"] {
            let request = Request::get(path).body(Body::empty()).unwrap();
            let response = fx.app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers();
            assert_eq!(
                headers["content-security-policy"],
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                "{path}"
            );
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        }
    }
}
