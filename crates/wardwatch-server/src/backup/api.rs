//! The console's view of backups: `GET /api/backups`, a page of the terminals with a
//! repository (searched, filtered by department, sorted): each one's last good backup
//! and that backup's age, the last run, check and retention, and what is wrong, in
//! sentences; and the retention policies.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{BackupOverview, BackupQuery, BackupSort, RetentionPolicy};
use crate::api_error::{blocking, ApiError, ApiQuery};
use crate::auth::session::{ConsoleApi, Session};
use crate::list_query;

/// A backup older than this is a problem.
const STALE_MILLIS: i64 = 2 * 86_400_000;

pub fn routes() -> Router<ConsoleApi> {
    Router::new().route("/api/backups", get(backups))
}

#[derive(Serialize)]
struct HostBackups {
    #[serde(flatten)]
    overview: BackupOverview,
    /// What needs the team's attention; empty: all is well.
    problems: Vec<String>,
}

#[derive(Serialize)]
struct BackupsBody {
    hosts: Vec<HostBackups>,
    /// Terminals with a repository that match, on every page.
    total: u64,
    default_policy: RetentionPolicy,
    now: i64,
}

/// What is wrong with one host's backups, in sentences.
pub fn problems(o: &BackupOverview, now: i64) -> Vec<String> {
    let mut out = Vec::new();
    match o.last_snapshot_at {
        None => out.push("no backup has arrived yet".to_string()),
        Some(at) if now - at > STALE_MILLIS => out.push(format!(
            "the last backup arrived {} days ago",
            (now - at) / 86_400_000
        )),
        Some(_) => {}
    }
    if let Some(run) = o.last_run.as_ref().filter(|r| !r.ok) {
        let error = run.detail["error"].as_str().unwrap_or("no reason given");
        out.push(format!("the last backup run failed: {error}"));
    }
    for (what, check) in [
        ("check", &o.last_check),
        ("restore drill", &o.last_drill),
        ("retention", &o.last_retention),
    ] {
        if let Some(c) = check.as_ref().filter(|c| !c.ok) {
            let detail = c.detail["error"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    c.detail["problems"]
                        .as_array()
                        .map(|p| format!("{} problems", p.len()))
                })
                .unwrap_or_else(|| "see the server log".into());
            out.push(format!("the last {what} failed: {detail}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    department: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// Checks what the list was asked for, naming the first thing that is wrong.
fn backup_query(query: ListQuery) -> Result<BackupQuery, ApiError> {
    let sort = list_query::choice(
        query.sort.as_deref(),
        "sort",
        "department, name or last_backup",
        BackupSort::parse,
    )?;
    let (limit, offset) = list_query::page(query.limit, query.offset);
    Ok(BackupQuery {
        search: list_query::search(query.q)?,
        department: list_query::filter(query.department, "department")?,
        sort: sort.unwrap_or_default(),
        descending: list_query::descending(query.order.as_deref(), false)?,
        limit,
        offset,
    })
}

async fn backups(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<BackupsBody>, ApiError> {
    let wanted = backup_query(query)?;
    let store = state.store.clone();
    let ((overview, total), default_policy) = blocking(move || {
        Ok((
            store.backup_overview_page(&wanted)?,
            store.retention_policy("")?,
        ))
    })
    .await?;
    let now = wardwatch_proto::now_millis();
    Ok(Json(BackupsBody {
        hosts: overview
            .into_iter()
            .map(|o| HostBackups {
                problems: problems(&o, now),
                overview: o,
            })
            .collect(),
        total,
        default_policy,
        now,
    }))
}
