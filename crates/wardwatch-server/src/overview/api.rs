//! `GET /api/overview`: the first page's figures, and `GET /api/overview/risk.svg` and
//! `/api/overview/departments.svg`, its charts. A department operator gets its
//! departments only (the scope guard lets these routes through as filtered); the parts
//! that are fleet-wide by nature (incidents, backups, bundles) are left out for it.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::chart::{self, ChartText, Point};
use super::schedule::HISTORY_DAYS;
use super::{day_of, OverviewCounts, RiskDay};
use crate::api_error::{blocking, ApiError, ApiQuery};
use crate::auth::session::{ConsoleApi, Session};
use crate::storage::Storage;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/overview", get(overview))
        .route("/api/overview/risk.svg", get(risk_chart))
        .route("/api/overview/departments.svg", get(departments_chart))
}

/// The state of the fleet's backups.
#[derive(Debug, Serialize)]
struct BackupHealth {
    /// Terminals with a backup repository.
    hosts: usize,
    /// Of those, with something wrong (no recent backup, a failed run or check).
    with_problems: usize,
}

/// How current the data the fleet works with is.
#[derive(Debug, Serialize)]
struct Freshness {
    feed_version: Option<i64>,
    feed_created: Option<i64>,
    signatures_version: Option<i64>,
    signatures_created: Option<i64>,
    /// Days after which installed data is called stale.
    stale_after_days: u32,
    /// Terminals that reported a signatures version older than the server's, or none.
    hosts_behind_on_signatures: usize,
}

/// One first step of a fresh installation.
#[derive(Debug, Serialize)]
struct Step {
    id: &'static str,
    done: bool,
    /// Where in the console (or the README) it is done.
    link: &'static str,
}

#[derive(Debug, Serialize)]
struct OverviewBody {
    #[serde(flatten)]
    counts: OverviewCounts,
    /// Left out for a department operator.
    backups: Option<BackupHealth>,
    freshness: Option<Freshness>,
    first_steps: Option<Vec<Step>>,
    now: i64,
}

fn backup_health(store: &dyn Storage, now: i64) -> Result<BackupHealth, crate::db::StoreError> {
    let overview = store.backup_overview()?;
    Ok(BackupHealth {
        hosts: overview.len(),
        with_problems: overview
            .iter()
            .filter(|o| !crate::backup::api::problems(o, now).is_empty())
            .count(),
    })
}

fn freshness(store: &dyn Storage) -> Result<Freshness, crate::db::StoreError> {
    let record = |kind: &str| -> Result<(Option<i64>, Option<i64>), crate::db::StoreError> {
        let Some(version) = store.bundle_max_version(kind)? else {
            return Ok((None, None));
        };
        let created = store.bundle_record(kind, version)?.map(|r| r.created);
        Ok((Some(version), created))
    };
    let (feed_version, feed_created) = record("vuln-feed")?;
    let (signatures_version, signatures_created) = record("signatures")?;
    let behind = match signatures_version {
        None => 0,
        Some(v) => store
            .host_bundle_versions()?
            .iter()
            .filter(|h| h.bundles.get("signatures").is_none_or(|b| b.version < v))
            .count(),
    };
    Ok(Freshness {
        feed_version,
        feed_created,
        signatures_version,
        signatures_created,
        stale_after_days: crate::bundles::freshness::stale_days(store)?,
        hosts_behind_on_signatures: behind,
    })
}

/// The first steps of an installation, each ticked from what the server holds.
fn first_steps(
    store: &dyn Storage,
    fresh: &Freshness,
    backups: &BackupHealth,
) -> Result<Vec<Step>, crate::db::StoreError> {
    Ok(vec![
        Step {
            id: "import_feed",
            done: fresh.feed_version.is_some(),
            link: "#/bundles",
        },
        Step {
            id: "import_signatures",
            done: fresh.signatures_version.is_some(),
            link: "#/bundles",
        },
        Step {
            id: "enrol_terminals",
            done: store.enrolled_hosts()? > 0,
            link: "#/hosts",
        },
        Step {
            id: "protect_folders",
            done: store.guarded_hosts()? > 0,
            link: "#/hosts",
        },
        Step {
            id: "set_up_backups",
            done: backups.hosts > 0,
            link: "#/backups",
        },
    ])
}

/// `GET /api/overview`.
async fn overview(
    session: Session,
    State(state): State<ConsoleApi>,
) -> Result<Json<OverviewBody>, ApiError> {
    let departments = session.scope().departments();
    let fleet = departments.is_none();
    let store = state.store.clone();
    let body = blocking(move || {
        let now = wardwatch_proto::now_millis();
        let counts = store.overview_counts(departments.as_deref(), now)?;
        let (backups, fresh, steps) = if fleet {
            let backups = backup_health(store.as_ref(), now)?;
            let fresh = freshness(store.as_ref())?;
            let steps = first_steps(store.as_ref(), &fresh, &backups)?;
            (Some(backups), Some(fresh), Some(steps))
        } else {
            (None, None, None)
        };
        Ok(OverviewBody {
            counts,
            backups,
            freshness: fresh,
            first_steps: steps,
            now,
        })
    })
    .await?;
    Ok(Json(body))
}

const SERIES_EN: [&str; 3] = ["open", "known exploited", "used by ransomware"];
const SERIES_ZH: [&str; 3] = ["未修复", "已知被利用", "被勒索软件利用"];

/// Chart words: English unless `lang=zh`.
fn chart_text(chinese: bool, risk: bool) -> ChartText<'static> {
    let (title, empty) = match (chinese, risk) {
        (false, true) => (
            "Open findings, last 30 days",
            "No findings recorded yet: import a vulnerability feed.",
        ),
        (false, false) => ("Open findings by department", "No open findings."),
        (true, true) => ("近 30 天未修复的漏洞", "尚无记录：请先导入漏洞库。"),
        (true, false) => ("各科室未修复的漏洞", "没有未修复的漏洞。"),
    };
    ChartText {
        title,
        series: if chinese { SERIES_ZH } else { SERIES_EN },
        empty,
    }
}

#[derive(serde::Deserialize)]
struct ChartQuery {
    lang: Option<String>,
}

fn svg(body: String) -> Response {
    ([(CONTENT_TYPE, "image/svg+xml; charset=utf-8")], body).into_response()
}

/// The days' rows summed over departments, oldest first.
fn by_day(rows: &[RiskDay]) -> Vec<Point> {
    let mut days: std::collections::BTreeMap<&str, [i64; 3]> = Default::default();
    for r in rows {
        let v = days.entry(&r.day).or_default();
        v[0] += r.open;
        v[1] += r.exploited;
        v[2] += r.ransomware;
    }
    days.into_iter()
        .map(|(day, values)| Point {
            label: day.to_string(),
            values,
        })
        .collect()
}

/// `GET /api/overview/risk.svg?lang=en|zh`.
async fn risk_chart(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiQuery(query): ApiQuery<ChartQuery>,
) -> Result<Response, ApiError> {
    let departments = session.scope().departments();
    let store = state.store.clone();
    let since = day_of(wardwatch_proto::now_millis() - i64::from(HISTORY_DAYS) * 86_400_000);
    let rows = blocking(move || store.risk_days(departments.as_deref(), &since)).await?;
    let text = chart_text(query.lang.as_deref() == Some("zh"), true);
    Ok(svg(chart::risk_over_time(&by_day(&rows), &text)))
}

/// `GET /api/overview/departments.svg?lang=en|zh`: today's record per department.
async fn departments_chart(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiQuery(query): ApiQuery<ChartQuery>,
) -> Result<Response, ApiError> {
    let departments = session.scope().departments();
    let store = state.store.clone();
    let today = day_of(wardwatch_proto::now_millis());
    let since = today.clone();
    let rows = blocking(move || store.risk_days(departments.as_deref(), &since)).await?;
    let mut points: Vec<Point> = rows
        .iter()
        .filter(|r| r.day == today && !(r.department.is_empty() && r.open == 0))
        .map(|r| Point {
            label: r.department.clone(),
            values: [r.open, r.exploited, r.ransomware],
        })
        .collect();
    points.sort_by(|a, b| b.values[0].cmp(&a.values[0]).then(a.label.cmp(&b.label)));
    let text = chart_text(query.lang.as_deref() == Some("zh"), false);
    Ok(svg(chart::by_department(&points, &text)))
}
