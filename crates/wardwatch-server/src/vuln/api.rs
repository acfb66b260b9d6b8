//! The console's vulnerability API: the fleet view, findings lists with CSV and JSON
//! export, a host's findings and their history, the page of one CVE or advisory, and
//! accepted risks (suppressions).
//!
//! - `GET    /api/vuln/summary`              feed status, counts, top upgrades, EOL hosts
//! - `GET    /api/vuln/findings`             filtered findings (`format=csv` downloads)
//! - `GET    /api/hosts/{id}/findings`       one host's findings and their history
//! - `GET    /api/vuln/advisories/{id}`      a CVE or advisory and the hosts it affects
//! - `GET    /api/vuln/suppressions`         accepted risks
//! - `POST   /api/vuln/suppressions`         accept a risk (admins only; audited)
//! - `DELETE /api/vuln/suppressions/{id}`    lift one (admins only; audited)

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use wardwatch_vuln::matcher::Priority;

use super::upgrades;
use super::{FindingPage, FindingQuery, FindingRow, FindingState, NewSuppression};
use crate::api_error::{blocking, parse_json, ApiError, ApiPath, ApiQuery};
use crate::auth::session::{require_json, ConsoleApi, Session};
use crate::auth::Permission;
use crate::timefmt::rfc3339_millis;

/// How many findings one page of the console shows at most.
const MAX_PAGE: u32 = 1000;
/// How many findings one export holds at most.
const MAX_EXPORT: u32 = 200_000;
/// How many upgrades the fleet view ranks.
const TOP_UPGRADES: u32 = 10;
/// The longest a risk may be accepted before someone must look at it again.
const MAX_SUPPRESSION_DAYS: i64 = 366;
const DAY_MILLIS: i64 = 86_400_000;
const MAX_REASON_CHARS: usize = 2000;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/vuln/summary", get(summary))
        .route("/api/vuln/findings", get(findings))
        .route("/api/hosts/{id}/findings", get(host_findings))
        .route("/api/vuln/advisories/{id}", get(advisory))
        .route(
            "/api/vuln/suppressions",
            get(suppressions).post(create_suppression),
        )
        .route("/api/vuln/suppressions/{id}", delete(lift_suppression))
}

fn now() -> i64 {
    wardwatch_proto::now_millis()
}

/// CVE ids are stored upper-case (`CVE-2024-3094`); people type them any way. Other
/// advisory ids (`GHSA-xxxx-…`) are case-sensitive and kept as given.
fn normalize_id(id: &str) -> String {
    let id = id.trim();
    // `get`, not `[..4]`: the id is outside data, and byte 4 may fall inside a character.
    let cve = id.len() > 4 && id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("cve-"));
    if cve {
        id.to_ascii_uppercase()
    } else {
        id.to_owned()
    }
}

/// `GET /api/vuln/summary`.
async fn summary(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let mut report = blocking(move || {
        let weights = upgrades::weights();
        store.fleet_report(now(), &weights, TOP_UPGRADES)
    })
    .await?;
    upgrades::choose_targets(&mut report.upgrades);
    let by_priority: Vec<_> = Priority::ALL
        .into_iter()
        .map(|p| {
            let count = report
                .by_priority
                .get(p.as_str())
                .cloned()
                .unwrap_or_default();
            json!({ "priority": p.as_str(), "findings": count.findings, "hosts": count.hosts })
        })
        .collect();
    Ok(Json(json!({
        "feed": state.vuln.status(),
        "totals": report.totals,
        "by_priority": by_priority,
        "by_department": report.by_department,
        "upgrades": report.upgrades,
        "eol_hosts": report.eol_hosts,
    })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FindingsParams {
    host: Option<String>,
    advisory: Option<String>,
    priority: Option<String>,
    department: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
    format: Option<String>,
}

fn finding_query(p: FindingsParams, default_state: FindingState) -> Result<FindingQuery, ApiError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let priority = nonempty(p.priority);
    if let Some(name) = &priority {
        if Priority::parse(name).is_none() {
            return Err(ApiError::bad_request(format!(
                "priority {name:?} is not one of ransomware, exploited, likely, severe, other"
            )));
        }
    }
    let state = match nonempty(p.state) {
        None => default_state,
        Some(s) => FindingState::parse(&s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "state {s:?} is not one of open, suppressed, fixed, all"
            ))
        })?,
    };
    let export = p.format.is_some();
    Ok(FindingQuery {
        host: nonempty(p.host),
        advisory: nonempty(p.advisory).map(|a| normalize_id(&a)),
        priority,
        department: nonempty(p.department),
        departments: None,
        state,
        limit: if export {
            p.limit.unwrap_or(MAX_EXPORT).clamp(1, MAX_EXPORT)
        } else {
            p.limit.unwrap_or(200).clamp(1, MAX_PAGE)
        },
        offset: p.offset.unwrap_or(0),
    })
}

/// `GET /api/vuln/findings`: the fleet's findings, most urgent first. `format=csv` or
/// `format=json` downloads every match (up to 200,000) as a file.
async fn findings(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiQuery(params): ApiQuery<FindingsParams>,
) -> Result<Response, ApiError> {
    let format = params.format.clone();
    let mut query = finding_query(params, FindingState::Open)?;
    // A department operator's list, counts and exports hold its departments only.
    query.departments = session.scope().departments();
    let store = state.store.clone();
    let page = blocking(move || store.findings(&query, now())).await?;
    match format.as_deref() {
        None => Ok(Json(page).into_response()),
        Some("json") => Ok(download(
            "application/json",
            "wardwatch-findings.json",
            serde_json::to_string_pretty(&page).unwrap_or_default(),
        )),
        Some("csv") => Ok(download(
            "text/csv; charset=utf-8",
            "wardwatch-findings.csv",
            to_csv(&page.findings),
        )),
        Some(other) => Err(ApiError::bad_request(format!(
            "format {other:?} is not csv or json"
        ))),
    }
}

fn download(content_type: &str, name: &str, body: String) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = content_type.parse() {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Ok(v) = format!("attachment; filename=\"{name}\"").parse() {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    (headers, body).into_response()
}

const CSV_HEADER: &[&str] = &[
    "host",
    "hostname",
    "department",
    "priority",
    "advisory",
    "cves",
    "package",
    "installed_version",
    "ecosystem",
    "source_package",
    "remedy",
    "fixed_version",
    "severity",
    "known_exploited",
    "ransomware",
    "epss",
    "first_seen",
    "fixed_at",
    "suppressed",
    "why",
];

/// The findings as CSV (RFC 4180). A cell that a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@` first) gets a leading apostrophe: package names and feed text come
/// from outside.
pub fn to_csv(rows: &[FindingRow]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_HEADER.iter().map(|s| s.to_string()));
    for r in rows {
        push_row(
            &mut out,
            [
                r.host_label.clone(),
                r.hostname.clone(),
                r.department.clone(),
                r.priority.clone(),
                r.advisory.clone(),
                r.cves.join(" "),
                r.package.clone(),
                r.version.clone(),
                r.ecosystem.clone(),
                r.source.clone(),
                r.remedy.clone(),
                r.fixed_version.clone().unwrap_or_default(),
                r.severity.clone().unwrap_or_default(),
                yes_no(r.known_exploited),
                yes_no(r.ransomware),
                r.epss.map(|e| format!("{e:.5}")).unwrap_or_default(),
                rfc3339_millis(r.first_seen),
                r.fixed_at.map(rfc3339_millis).unwrap_or_default(),
                yes_no(r.suppression_id.is_some()),
                r.why.clone(),
            ],
        );
    }
    out
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn push_row(out: &mut String, cells: impl IntoIterator<Item = String>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let cell = if cell.starts_with(['=', '+', '-', '@']) {
            format!("'{cell}")
        } else {
            cell
        };
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push_str("\r\n");
}

/// `GET /api/hosts/{id}/findings`: every finding of the host (open, accepted, fixed) and
/// the latest changes.
async fn host_findings(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(mut params): ApiQuery<FindingsParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    params.host = Some(id.clone());
    params.format = None;
    let query = finding_query(params, FindingState::All)?;
    let store = state.store.clone();
    let (host, page, history) = blocking(move || {
        let host = store.host(&id)?;
        let page = store.findings(&query, now())?;
        let history = store.finding_history(&id, 200)?;
        Ok((host, page, history))
    })
    .await?;
    let host = host.ok_or_else(|| ApiError::not_found("no such host"))?;
    Ok(Json(json!({
        "host": host,
        "total": page.total,
        "findings": page.findings,
        "history": history,
    })))
}

/// `GET /api/vuln/advisories/{id}`: a CVE id or an advisory id, what the feed says about
/// it (from its findings) and every host it affects or affected.
async fn advisory(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = normalize_id(&id);
    if id.is_empty() || id.len() > 200 {
        return Err(ApiError::bad_request("give a CVE or advisory id"));
    }
    let store = state.store.clone();
    let lookup = id.clone();
    let (page, suppressions, details): (FindingPage, _, _) = blocking(move || {
        let query = FindingQuery {
            advisory: Some(lookup.clone()),
            state: FindingState::All,
            limit: MAX_PAGE,
            ..FindingQuery::default()
        };
        let page = store.findings(&query, now())?;
        // A risk accepted under the advisory id or any CVE id of its findings applies here.
        let mut ids: std::collections::BTreeSet<&str> = [lookup.as_str()].into();
        for row in &page.findings {
            ids.insert(&row.advisory);
            ids.extend(row.cves.iter().map(String::as_str));
        }
        let suppressions: Vec<_> = store
            .suppressions(now())?
            .into_iter()
            .filter(|s| ids.contains(s.advisory.as_str()))
            .collect();
        // The matcher's evidence, once per advisory that carries the id.
        let mut details = BTreeMap::new();
        for row in &page.findings {
            if !details.contains_key(&row.advisory) {
                let detail = store.finding_detail(&row.host_id, &row.advisory)?;
                details.insert(row.advisory.clone(), detail.into_iter().next());
            }
        }
        Ok((page, suppressions, details))
    })
    .await?;
    let count = |f: &dyn Fn(&FindingRow) -> bool| page.findings.iter().filter(|r| f(r)).count();
    let open = count(&|r| r.fixed_at.is_none() && r.suppression_id.is_none());
    let accepted = count(&|r| r.fixed_at.is_none() && r.suppression_id.is_some());
    let fixed = count(&|r| r.fixed_at.is_some());
    Ok(Json(json!({
        "id": id,
        "advisories": details,
        "counts": { "open": open, "suppressed": accepted, "fixed": fixed },
        "total": page.total,
        "findings": page.findings,
        "suppressions": suppressions,
    })))
}

/// `GET /api/vuln/suppressions`.
async fn suppressions(
    _session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let list = blocking(move || store.suppressions(now())).await?;
    Ok(Json(json!({ "suppressions": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionRequest {
    /// An advisory id or a CVE id.
    advisory: String,
    /// Leave out for every host.
    #[serde(default)]
    host_id: Option<String>,
    reason: String,
    /// The last day it applies, `YYYY-MM-DD` (it ends at the following UTC midnight).
    expires: String,
}

/// Reads `YYYY-MM-DD` as Unix milliseconds at 00:00 UTC.
fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// `POST /api/vuln/suppressions`: accept a risk until a date, with a reason. Admins only.
async fn create_suppression(
    session: Session,
    State(state): State<ConsoleApi>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.require(Permission::AcceptRisk, "accept a risk")?;
    require_json(&headers)?;
    let request: SuppressionRequest = parse_json(&body, "suppression")?;
    let advisory = normalize_id(&request.advisory);
    if advisory.is_empty() || advisory.len() > 200 || advisory.contains(char::is_whitespace) {
        return Err(ApiError::bad_request(
            "advisory must be one CVE or advisory id, e.g. CVE-2024-3094",
        ));
    }
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "say why the risk is accepted (reason): it goes into the audit record",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::bad_request(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    // Through the whole of the day chosen: it ends at the next UTC midnight.
    let expires_at = parse_day(&request.expires)
        .map(|day| day + DAY_MILLIS)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "expires {:?} is not a date like 2027-03-31",
                request.expires
            ))
        })?;
    let now = now();
    if expires_at <= now {
        return Err(ApiError::bad_request(
            "expires must be today or a later day",
        ));
    }
    if expires_at > now + MAX_SUPPRESSION_DAYS * DAY_MILLIS {
        return Err(ApiError::bad_request(format!(
            "an accepted risk must be reviewed within {MAX_SUPPRESSION_DAYS} days; choose an earlier expiry"
        )));
    }
    let host_id = request.host_id.filter(|h| !h.trim().is_empty());
    let store = state.store.clone();
    let actor = session.user.username.clone();
    let role = session.user.role.as_str();
    let created = blocking(move || {
        if let Some(host) = &host_id {
            if store.host(host)?.is_none() {
                return Ok(None);
            }
        }
        let new = NewSuppression {
            advisory,
            host_id,
            reason,
            expires_at,
        };
        store.create_suppression(&new, &actor, role, now).map(Some)
    })
    .await?
    .ok_or_else(|| ApiError::not_found("no such host"))?;
    tracing::info!(user = %session.user.username, advisory = %created.advisory, "risk accepted");
    Ok(Json(json!({ "suppression": created })))
}

/// `DELETE /api/vuln/suppressions/{id}`: the finding counts as open again. Admins only.
async fn lift_suppression(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.require(Permission::AcceptRisk, "lift an accepted risk")?;
    let number: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("suppression ids are numbers, not {id:?}")))?;
    let store = state.store.clone();
    let actor = session.user.username.clone();
    let lifted = blocking(move || store.lift_suppression(number, &actor, now())).await?;
    if !lifted {
        return Err(ApiError::not_found(format!(
            "no active suppression {number}"
        )));
    }
    Ok(Json(json!({ "lifted": number })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut out = String::new();
        push_row(
            &mut out,
            [
                "a,b".to_string(),
                "=cmd()".into(),
                "say \"hi\"".into(),
                "plain".into(),
            ],
        );
        assert_eq!(out, "\"a,b\",'=cmd(),\"say \"\"hi\"\"\",plain\r\n");
    }

    #[test]
    fn days_are_utc_midnight() {
        assert_eq!(parse_day("1970-01-02"), Some(DAY_MILLIS));
        assert_eq!(parse_day("2027-02-30"), None);
        assert_eq!(parse_day("tomorrow"), None);
    }
}

#[cfg(test)]
mod normalize_tests {
    use super::normalize_id;

    #[test]
    fn advisory_ids_are_normalised_without_splitting_a_character() {
        assert_eq!(normalize_id(" cve-2024-3094 "), "CVE-2024-3094");
        assert_eq!(normalize_id("GHSA-abcd-efgh"), "GHSA-abcd-efgh");
        // Byte 4 inside a two-byte character: kept as given, no panic.
        assert_eq!(normalize_id("\u{80}\u{800}"), "\u{80}\u{800}");
        assert_eq!(normalize_id("cve\u{80}x"), "cve\u{80}x");
    }
}
