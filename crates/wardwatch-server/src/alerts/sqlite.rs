//! Alerts across all hosts, for the console: newest first, paged, each read from its
//! stored payload.
//!
//! The payload comes from a terminal, so it is read through the contract's lenient reader
//! (`wardwatch_proto::alert_details`) and never trusted to have the shape the agent of
//! this version sends: a field of the wrong type is left out and named in `problems`, and
//! an alert whose payload cannot be read at all is still listed with what the server
//! itself knows (host, times, number).

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::hosts::sqlite::{departments_param, in_departments};
use serde::Serialize;
use serde_json::Value;
use wardwatch_proto::alert_details::{AlertData, FileTouched, Problems};
pub use wardwatch_proto::alert_details::{
    Ancestor as AlertAncestor, DetectorTimes as AlertTimes, FileChange, FileHash, RefusedPid,
    SmbClientInfo,
};
use wardwatch_proto::{Alert, Severity};

use super::AlertStore;
use crate::db::{Store, StoreResult};

/// Most alerts in one page of the listing.
pub const MAX_ALERT_PAGE: u32 = 500;
/// Alerts in a page when the caller does not say.
pub const DEFAULT_ALERT_PAGE: u32 = 100;
/// File paths shown with each alert of the listing; the full list is in the detail.
pub const LISTED_FILE_PATHS: usize = 5;
/// The window of the "recent alerts" count.
pub const RECENT_WINDOW_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// Page size, clamped to 1..=[`MAX_ALERT_PAGE`].
    pub limit: u32,
    /// Only alerts with a smaller id (older ones): the `next_before` of the last page.
    pub before: Option<i64>,
    /// Only this host's alerts.
    pub host_id: Option<String>,
    /// Only alerts of these departments' hosts (a department operator's scope), in the
    /// page and in the counts.
    pub departments: Option<Vec<String>>,
}

/// One page of alerts with the counts the console shows beside them.
#[derive(Debug, Clone, Serialize)]
pub struct AlertPage {
    pub alerts: Vec<AlertSummary>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
    /// All alerts matching the query's host filter.
    pub total: i64,
    /// Of those, received in the last 24 hours.
    pub last_24h: i64,
    /// Of those, of high or critical severity (the guard suspended or killed).
    pub last_24h_urgent: i64,
}

/// An alert as listed: who, what was done, to which process, how many files.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AlertSummary {
    /// Server-wide number, in order of arrival.
    pub id: i64,
    pub host_id: String,
    pub hostname: String,
    pub host_label: String,
    pub department: String,
    /// The terminal's sequence number of the event.
    pub seq: i64,
    /// When the server stored it (server clock).
    pub received_at: i64,
    /// When the terminal spooled it (terminal clock).
    pub time: Option<i64>,
    /// When the detector raised it (terminal clock), if the payload says.
    pub alert_time: Option<i64>,
    pub source: Option<String>,
    pub severity: Option<String>,
    pub title: Option<String>,
    /// The detector's own verdict, e.g. `suspicious`, `suspend`, `kill`.
    pub level: Option<String>,
    pub score: Option<f64>,
    /// What was done: `reported`, `suspended`, `killed`, `refused`, `gone`.
    pub action: Option<String>,
    /// Processes signalled, the verdict's process first.
    pub action_pids: Vec<u64>,
    /// Processes the detector would not signal, and why.
    pub refused: Vec<RefusedPid>,
    pub process: Option<AlertProcess>,
    /// The file-server client behind the process, when the guard on a Samba server
    /// caught one client's connection.
    pub smb_client: Option<SmbClientInfo>,
    /// Parent, grandparent, … of the process.
    pub parents: Vec<AlertAncestor>,
    /// Files touched, including those left out of the payload.
    pub files_total: u64,
    /// The first few of them.
    pub file_paths: Vec<String>,
    /// Names of the signals behind the verdict, each once.
    pub signals: Vec<String>,
    /// What could not be read from the payload.
    pub problems: Vec<String>,
}

/// The process an alert is about.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AlertProcess {
    pub pid: Option<u64>,
    pub exe: Option<String>,
    pub exe_sha256: Option<String>,
    pub cmdline: Vec<String>,
    pub uid: Option<u64>,
    pub user: Option<String>,
    pub ppid: Option<u64>,
    pub start_time_ms: Option<i64>,
    pub cwd: Option<String>,
}

/// One alert in full.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub summary: AlertSummary,
    pub times: AlertTimes,
    /// Every file listed in the payload, with its hashes before and after.
    pub files: Vec<AlertFile>,
    /// Files the terminal left out of the payload (it lists at most 1000).
    pub files_omitted: u64,
    /// The signals as the detector describes them.
    pub signal_details: Vec<Value>,
    /// The detector's payload as stored, for integrations.
    pub details: Value,
}

/// One file an alert's process tree touched.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AlertFile {
    pub path: Option<String>,
    pub changes: Vec<FileChange>,
    pub pids: Vec<u64>,
    pub before: Option<FileHash>,
    pub after: Option<FileHash>,
}

/// Gives a newly stored alert its number and its incident; part of the ingest
/// transaction, so an alert is numbered and grouped exactly when its event is stored.
pub(crate) fn number_alert(
    tx: &Connection,
    host_id: &str,
    seq: i64,
    received_at: i64,
    alert: &Alert,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO alerts (host_id, seq, received_at, severity) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        host_id,
        seq,
        received_at,
        severity_name(alert.severity)
    ])?;
    let alert_id = tx.last_insert_rowid();
    crate::incidents::sqlite::group_alert(
        tx,
        alert_id,
        host_id,
        received_at,
        severity_name(alert.severity),
        alert,
    )?;
    Ok(())
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

const ALERT_COLUMNS: &str = "a.id, a.host_id, a.seq, a.received_at, e.time, e.body,
     h.hostname, h.label, h.department";
const ALERT_JOINS: &str = "FROM alerts a
     LEFT JOIN events e ON e.host_id = a.host_id AND e.seq = a.seq
     LEFT JOIN hosts h ON h.id = a.host_id";

/// What the database holds for an alert, before its payload is read.
struct StoredAlert {
    id: i64,
    host_id: String,
    seq: i64,
    received_at: i64,
    time: Option<i64>,
    body: Option<String>,
    hostname: Option<String>,
    label: Option<String>,
    department: Option<String>,
}

fn stored_alert(r: &Row<'_>) -> rusqlite::Result<StoredAlert> {
    Ok(StoredAlert {
        id: r.get(0)?,
        host_id: r.get(1)?,
        seq: r.get(2)?,
        received_at: r.get(3)?,
        time: r.get(4)?,
        body: r.get(5)?,
        hostname: r.get(6)?,
        label: r.get(7)?,
        department: r.get(8)?,
    })
}

impl AlertStore for Store {
    fn alerts(&self, query: &AlertQuery, now: i64) -> StoreResult<AlertPage> {
        let limit = query.limit.clamp(1, MAX_ALERT_PAGE);
        let before = query.before.unwrap_or(i64::MAX);
        let since = now.saturating_sub(RECENT_WINDOW_MILLIS);
        let conn = self.reader();
        let host_filter = if query.host_id.is_some() {
            "a.host_id = ?2"
        } else {
            "?2 IS NULL"
        };
        let scope = departments_param(query.departments.as_deref());
        let in_scope = in_departments("a.host_id", "?4");
        // One more than asked for tells whether there is a next page.
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ALERT_COLUMNS} {ALERT_JOINS}
                 WHERE a.id < ?1 AND {host_filter} AND {in_scope} ORDER BY a.id DESC LIMIT ?3"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows: Vec<StoredAlert> = stmt
            .query_map(
                params![before, query.host_id, i64::from(limit) + 1, scope],
                stored_alert,
            )
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let next_before = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id)
        } else {
            None
        };
        let host_filter = if query.host_id.is_some() {
            "host_id = ?2"
        } else {
            "?2 IS NULL"
        };
        let (total, last_24h, last_24h_urgent) = conn
            .query_row(
                &format!(
                    "SELECT COUNT(*),
                            IFNULL(SUM(received_at >= ?1), 0),
                            IFNULL(SUM(received_at >= ?1 AND severity IN ('high', 'critical')), 0)
                     FROM alerts WHERE {host_filter} AND {}",
                    in_departments("host_id", "?3")
                ),
                params![since, query.host_id, scope],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.err(e))?;
        Ok(AlertPage {
            alerts: rows.iter().map(|row| read_alert(row).summary).collect(),
            next_before,
            total,
            last_24h,
            last_24h_urgent,
        })
    }

    fn alert(&self, id: i64) -> StoreResult<Option<AlertDetail>> {
        let conn = self.reader();
        let row = conn
            .prepare_cached(&format!(
                "SELECT {ALERT_COLUMNS} {ALERT_JOINS} WHERE a.id = ?1"
            ))
            .and_then(|mut s| s.query_row([id], stored_alert).optional())
            .map_err(|e| self.err(e))?;
        Ok(row.as_ref().map(read_alert))
    }

    fn alert_department(&self, id: i64) -> StoreResult<Option<String>> {
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT h.department FROM alerts a JOIN hosts h ON h.id = a.host_id WHERE a.id = ?1",
        )
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(|e| self.err(e))
    }
}

/// Reads what can be read of a stored alert: the payload through the contract's lenient
/// reader, then the console's view of it.
fn read_alert(row: &StoredAlert) -> AlertDetail {
    let mut problems = Problems::default();
    let body = match row.body.as_deref() {
        None => {
            problems.note("the alert's event is missing from the store".into());
            Value::Null
        }
        Some(text) => serde_json::from_str::<Value>(text).unwrap_or_else(|e| {
            problems.note(format!("the stored payload is not readable JSON ({e})"));
            Value::Null
        }),
    };
    let data = match body.get("data") {
        Some(v) if v.is_object() => v,
        _ => {
            if !body.is_null() {
                problems.note("the stored payload has no alert data".into());
            }
            &Value::Null
        }
    };
    let alert = AlertData::read(data, &mut problems);
    let details = alert.details.unwrap_or_default();
    let action = details.action.unwrap_or_default();

    let mut signals: Vec<String> = Vec::new();
    for name in details.signals.iter().filter_map(|s| s.name.clone()) {
        if !signals.contains(&name) {
            signals.push(name);
        }
    }
    let times = details.times;
    let (process, parents) = match details.process {
        Some(p) => (
            Some(AlertProcess {
                pid: p.pid,
                exe: p.exe,
                exe_sha256: p.exe_sha256,
                cmdline: p.cmdline,
                uid: p.uid,
                user: p.user,
                ppid: p.ppid,
                start_time_ms: p.start_time_ms,
                cwd: p.cwd,
            }),
            p.parents,
        ),
        None => (None, Vec::new()),
    };
    let files_total = (details.files.len() as u64).saturating_add(details.files_omitted);
    let file_paths = details
        .files
        .iter()
        .take(LISTED_FILE_PATHS)
        .filter_map(|f| f.path.clone())
        .collect();

    AlertDetail {
        summary: AlertSummary {
            id: row.id,
            host_id: row.host_id.clone(),
            hostname: row.hostname.clone().unwrap_or_default(),
            host_label: row.label.clone().unwrap_or_default(),
            department: row.department.clone().unwrap_or_default(),
            seq: row.seq,
            received_at: row.received_at,
            time: row.time,
            alert_time: times.alert,
            source: alert.source,
            severity: alert.severity,
            title: alert.title,
            level: details.level,
            score: details.score,
            action: action.kind,
            action_pids: action.pids,
            refused: action.refused,
            process,
            smb_client: details.smb_client,
            parents,
            files_total,
            file_paths,
            signals,
            problems: problems.into_vec(),
        },
        times,
        files: details.files.into_iter().map(console_file).collect(),
        files_omitted: details.files_omitted,
        signal_details: details.signals.into_iter().map(|s| s.raw).collect(),
        details: data
            .get("details")
            .filter(|d| d.is_object())
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// A file as the console shows it.
fn console_file(f: FileTouched) -> AlertFile {
    AlertFile {
        path: f.path,
        changes: f.changes,
        pids: f.pids,
        before: f.before,
        after: f.after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::IngestStore;
    use serde_json::json;
    use wardwatch_proto::{Event, EventBody};

    use crate::testing::store_with_hosts;

    const HOUR: i64 = 60 * 60 * 1000;

    /// A payload in the shape the agent's guard sends (`alert_event` of a `GuardAlert`).
    fn guard_alert(pid: u64, exe: &str, level: &str, action: &str, files: usize) -> EventBody {
        let files: Vec<Value> = (0..files)
            .map(|i| {
                json!({
                    "path": format!("/srv/share/letter-{i}.docx"),
                    "changes": [{"change": "written"}, {"change": "renamed_to", "path": format!("/srv/share/letter-{i}.docx.locked")}],
                    "pids": [pid],
                    "before": {"sha256": format!("{i:064x}")},
                    "after": {"sha256": "ff".repeat(32), "sampled": true}
                })
            })
            .collect();
        let severity = match level {
            "kill" => Severity::Critical,
            "suspend" => Severity::High,
            _ => Severity::Medium,
        };
        EventBody::Alert(Alert {
            source: "guard.ransomware".into(),
            severity,
            title: format!("ransomware behaviour by {exe} (pid {pid}): {action}"),
            details: json!({
                "level": level,
                "score": 10.0,
                "signals": [
                    {"signal": "canary_touched", "path": "/srv/share/.0000-wardwatch-canary.docx"},
                    {"signal": "encrypted_rewrite", "path": "/srv/share/letter-0.docx", "detail": "entropy 7.99"},
                    {"signal": "canary_touched", "path": "/srv/share/.zzzz-wardwatch-canary.pdf"}
                ],
                "action": {"kind": action, "pids": [pid, pid + 1], "refused": [{"pid": 1, "reason": "init"}]},
                "process": {
                    "pid": pid,
                    "exe": exe,
                    "exe_sha256": "ab".repeat(32),
                    "cmdline": [exe, "--encrypt", "/srv/share"],
                    "uid": 1000,
                    "user": "nurse",
                    "ppid": 4000,
                    "start_time_ms": 1_700_000_000_000u64,
                    "cwd": "/home/nurse",
                    "parents": [
                        {"pid": 4000, "exe": "/usr/bin/bash", "cmdline": ["bash"]},
                        {"pid": 3000, "exe": "/usr/sbin/sshd", "cmdline": ["sshd: nurse"]}
                    ]
                },
                "files": files,
                "files_omitted": 3,
                "times": {"first_event": 1_700_000_001_000u64, "alert": 1_700_000_002_000u64, "action": 1_700_000_002_001u64, "last_signal": null}
            }),
        })
    }

    fn send(store: &Store, host: &str, seq: u64, body: EventBody) {
        store
            .ingest(
                host,
                &[Event {
                    seq,
                    time: 1_700_000_003_000,
                    body,
                }],
            )
            .unwrap();
    }

    fn page(store: &Store, limit: u32, before: Option<i64>, host: Option<&str>) -> AlertPage {
        let query = AlertQuery {
            limit,
            before,
            host_id: host.map(str::to_string),
            departments: None,
        };
        store.alerts(&query, wardwatch_proto::now_millis()).unwrap()
    }

    fn pids(page: &AlertPage) -> Vec<u64> {
        page.alerts
            .iter()
            .map(|a| a.process.as_ref().and_then(|p| p.pid).unwrap_or(0))
            .collect()
    }

    #[test]
    fn alerts_of_all_hosts_are_listed_newest_first_in_pages() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3-desk"), ("h-2", "lab-7")]);
        // Interleaved arrival; other events between them are not alerts.
        send(
            &store,
            "h-1",
            1,
            guard_alert(101, "/tmp/x", "kill", "killed", 2),
        );
        send(
            &store,
            "h-2",
            1,
            guard_alert(201, "/tmp/y", "suspend", "suspended", 1),
        );
        send(
            &store,
            "h-2",
            2,
            EventBody::Test {
                note: "not an alert".into(),
            },
        );
        send(
            &store,
            "h-1",
            2,
            guard_alert(102, "/tmp/x", "suspicious", "reported", 0),
        );
        send(
            &store,
            "h-2",
            3,
            guard_alert(202, "/tmp/y", "kill", "killed", 1),
        );
        // A resend is stored once, so it is listed once.
        send(
            &store,
            "h-2",
            3,
            guard_alert(202, "/tmp/y", "kill", "killed", 1),
        );

        let first = page(&store, 3, None, None);
        assert_eq!(pids(&first), vec![202, 102, 201]);
        assert_eq!(
            (first.total, first.last_24h, first.last_24h_urgent),
            (4, 4, 3)
        );
        assert!(first.alerts.windows(2).all(|w| w[0].id > w[1].id));
        let hosts: Vec<&str> = first.alerts.iter().map(|a| a.hostname.as_str()).collect();
        assert_eq!(hosts, vec!["lab-7", "ward3-desk", "lab-7"]);
        let before = first.next_before.expect("a second page");
        assert_eq!(before, first.alerts[2].id);

        let second = page(&store, 3, Some(before), None);
        assert_eq!(pids(&second), vec![101]);
        assert_eq!(second.next_before, None);
        // Exactly a page left: no promise of a page that would be empty.
        assert_eq!(page(&store, 4, None, None).next_before, None);
        assert!(page(&store, 3, Some(1), None).alerts.is_empty());
        // The limit is kept within bounds.
        assert_eq!(page(&store, 0, None, None).alerts.len(), 1);
    }

    #[test]
    fn a_hosts_alerts_and_the_last_day() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3-desk"), ("h-2", "lab-7")]);
        send(
            &store,
            "h-1",
            1,
            guard_alert(101, "/tmp/x", "kill", "killed", 1),
        );
        send(
            &store,
            "h-2",
            1,
            guard_alert(201, "/tmp/y", "suspicious", "reported", 1),
        );
        send(
            &store,
            "h-1",
            2,
            guard_alert(102, "/tmp/x", "suspicious", "reported", 1),
        );

        let h1 = page(&store, 100, None, Some("h-1"));
        assert_eq!(pids(&h1), vec![102, 101]);
        assert!(h1.alerts.iter().all(|a| a.host_id == "h-1"));
        assert_eq!((h1.total, h1.last_24h, h1.last_24h_urgent), (2, 2, 1));
        let h2 = page(&store, 1, None, Some("h-2"));
        assert_eq!((pids(&h2), h2.next_before), (vec![201], None));
        assert_eq!(page(&store, 100, None, Some("h-unknown")).total, 0);

        // A day later they are no longer recent, but still listed.
        let later = store
            .alerts(
                &AlertQuery {
                    limit: 100,
                    ..AlertQuery::default()
                },
                wardwatch_proto::now_millis() + 25 * HOUR,
            )
            .unwrap();
        assert_eq!(
            (later.total, later.last_24h, later.last_24h_urgent),
            (3, 0, 0)
        );
        assert_eq!(later.alerts.len(), 3);
    }

    #[test]
    fn a_guard_alert_is_read_field_by_field() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3-desk")]);
        send(
            &store,
            "h-1",
            7,
            guard_alert(4242, "/tmp/.x/locker", "kill", "killed", 8),
        );
        let listed = page(&store, 10, None, None);
        let a = &listed.alerts[0];
        assert_eq!(a.problems, Vec::<String>::new());
        assert_eq!((a.host_id.as_str(), a.seq), ("h-1", 7));
        assert_eq!(
            (a.host_label.as_str(), a.department.as_str()),
            ("ward3-desk desk", "Ward 3")
        );
        assert_eq!(a.time, Some(1_700_000_003_000));
        assert_eq!(a.alert_time, Some(1_700_000_002_000));
        assert!(a.received_at >= a.time.unwrap_or(0));
        assert_eq!(a.source.as_deref(), Some("guard.ransomware"));
        assert_eq!(a.severity.as_deref(), Some("critical"));
        assert_eq!(a.level.as_deref(), Some("kill"));
        assert_eq!(a.score, Some(10.0));
        assert_eq!(a.action.as_deref(), Some("killed"));
        assert_eq!(a.action_pids, vec![4242, 4243]);
        assert_eq!(
            a.refused,
            vec![RefusedPid {
                pid: Some(1),
                reason: Some("init".into())
            }]
        );
        let p = a.process.as_ref().expect("process");
        assert_eq!(p.exe.as_deref(), Some("/tmp/.x/locker"));
        assert_eq!(p.exe_sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(p.cmdline, vec!["/tmp/.x/locker", "--encrypt", "/srv/share"]);
        assert_eq!((p.uid, p.user.as_deref()), (Some(1000), Some("nurse")));
        let chain: Vec<Option<u64>> = a.parents.iter().map(|p| p.pid).collect();
        assert_eq!(chain, vec![Some(4000), Some(3000)]);
        assert_eq!(a.files_total, 11, "8 listed + 3 omitted");
        assert_eq!(a.file_paths.len(), LISTED_FILE_PATHS);
        assert_eq!(a.file_paths[0], "/srv/share/letter-0.docx");
        assert_eq!(a.signals, vec!["canary_touched", "encrypted_rewrite"]);

        let full = store.alert(a.id).unwrap().expect("detail");
        assert_eq!(&full.summary, a);
        assert_eq!(full.files.len(), 8);
        assert_eq!(full.files_omitted, 3);
        let f = &full.files[1];
        assert_eq!(f.path.as_deref(), Some("/srv/share/letter-1.docx"));
        assert_eq!(
            f.before.as_ref().map(|h| (h.sha256.as_str(), h.sampled)),
            Some((format!("{:064x}", 1).as_str(), false))
        );
        assert_eq!(f.after.as_ref().map(|h| h.sampled), Some(true));
        assert_eq!(f.changes[1].change, "renamed_to");
        assert_eq!(
            f.changes[1].path.as_deref(),
            Some("/srv/share/letter-1.docx.locked")
        );
        assert_eq!(full.times.action, Some(1_700_000_002_001));
        assert_eq!(full.times.last_signal, None);
        assert_eq!(full.signal_details.len(), 3);
        assert_eq!(full.details["process"]["pid"], 4242);
        assert!(store.alert(a.id + 1).unwrap().is_none());
    }

    /// Stores an alert event with a raw body, as an older or broken writer might have.
    fn store_raw(store: &Store, host: &str, seq: i64, body: &str) {
        let conn = store.writer();
        conn.execute(
            "INSERT INTO events (host_id, seq, kind, time, received_at, body) VALUES (?1, ?2, 'alert', 5, 6, ?3)",
            params![host, seq, body],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO alerts (host_id, seq, received_at, severity) VALUES (?1, ?2, 6, NULL)",
            params![host, seq],
        )
        .unwrap();
    }

    #[test]
    fn a_malformed_payload_shows_what_can_be_shown() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3-desk")]);
        send(
            &store,
            "h-1",
            1,
            guard_alert(101, "/tmp/x", "kill", "killed", 2),
        );
        store_raw(&store, "h-1", 2, "{not json");
        let wrong_types = json!({
            "kind": "alert",
            "data": {
                "source": "guard.ransomware",
                "severity": "high",
                "title": 12,
                "details": {
                    "level": "suspend",
                    "action": {"kind": "suspended", "pids": [5, "six", -7]},
                    "process": {"pid": "abc", "exe": "/usr/bin/evil", "cmdline": ["evil", 3], "parents": "none"},
                    "files": [{"path": "/a", "before": {"sha256": 1}}, {"path": 2}, "x"],
                    "files_omitted": -1,
                    "signals": {"signal": "x"},
                    "times": []
                }
            }
        });
        store_raw(&store, "h-1", 3, &wrong_types.to_string());
        store_raw(
            &store,
            "h-1",
            4,
            r#"{"kind": "alert", "data": {"title": "scan hit"}}"#,
        );
        store_raw(&store, "h-1", 5, "[]");

        let listed = page(&store, 100, None, None);
        assert_eq!(listed.alerts.len(), 5, "every alert is listed");
        let by_seq = |seq| listed.alerts.iter().find(|a| a.seq == seq).expect("listed");

        let broken = by_seq(2);
        assert_eq!(broken.hostname, "ward3-desk");
        assert_eq!((broken.time, broken.received_at), (Some(5), 6));
        assert_eq!(broken.title, None);
        assert!(
            broken.problems[0].contains("not readable JSON"),
            "{:?}",
            broken.problems
        );

        let odd = by_seq(3);
        assert_eq!(odd.severity.as_deref(), Some("high"));
        assert_eq!(odd.level.as_deref(), Some("suspend"));
        assert_eq!(odd.action.as_deref(), Some("suspended"));
        assert_eq!(odd.action_pids, vec![5]);
        let p = odd.process.as_ref().expect("process");
        assert_eq!((p.pid, p.exe.as_deref()), (None, Some("/usr/bin/evil")));
        assert_eq!(p.cmdline, vec!["evil"]);
        assert!(odd.parents.is_empty());
        assert_eq!(odd.files_total, 3);
        assert_eq!(odd.file_paths, vec!["/a"]);
        for expected in [
            "alert.title is a number, not text",
            "details.process.pid is text, not a whole number",
            "details.action.pids[1] is text, not a whole number",
            "details.process.parents is text, not a list",
            "details.signals is an object, not a list",
            "details.times is a list, not an object",
            "details.files[1].path is a number, not text",
        ] {
            assert!(
                odd.problems.iter().any(|p| p == expected),
                "{expected} in {:?}",
                odd.problems
            );
        }
        let full = store.alert(odd.id).unwrap().expect("detail");
        assert_eq!(full.files.len(), 3);
        assert_eq!(
            full.files[0].before, None,
            "a hash that is not text is left out"
        );

        // Another detector's alert without details is not a problem.
        let plain = by_seq(4);
        assert_eq!(plain.title.as_deref(), Some("scan hit"));
        assert!(plain.problems.is_empty(), "{:?}", plain.problems);
        assert!(plain.process.is_none());

        assert_eq!(
            by_seq(5).problems,
            vec!["the stored payload has no alert data"]
        );
        // The well-formed alert is untouched by its neighbours.
        assert!(by_seq(1).problems.is_empty());
        assert_eq!(by_seq(1).files_total, 5);
    }

    #[test]
    fn alerts_stored_before_the_alerts_table_are_numbered_by_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(crate::db::MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO hosts (id, label, department, hostname, cert_fingerprint, enrolled_at)
                 VALUES ('h-1', 'l', 'd', 'ward3-desk', 'SHA256:1', 0)",
                [],
            )
            .unwrap();
            let good =
                serde_json::to_string(&guard_alert(7, "/tmp/x", "kill", "killed", 1)).unwrap();
            for (seq, kind, received, body) in [
                (1, "alert", 10, good.as_str()),
                (2, "test", 11, r#"{"kind":"test","data":{"note":"n"}}"#),
                (3, "alert", 12, "{broken"),
            ] {
                conn.execute(
                    "INSERT INTO events (host_id, seq, kind, time, received_at, body) VALUES ('h-1', ?1, ?2, 1, ?3, ?4)",
                    params![seq, kind, received, body],
                )
                .unwrap();
            }
        }
        let store = Store::open(&path).unwrap();
        let listed = page(&store, 100, None, None);
        let seqs: Vec<i64> = listed.alerts.iter().map(|a| a.seq).collect();
        assert_eq!(seqs, vec![3, 1]);
        assert_eq!(listed.alerts[1].severity.as_deref(), Some("critical"));
        assert!(!listed.alerts[0].problems.is_empty());
        // New alerts are numbered after the old ones.
        send(
            &store,
            "h-1",
            4,
            guard_alert(8, "/tmp/x", "kill", "killed", 1),
        );
        assert_eq!(page(&store, 1, None, None).alerts[0].seq, 4);
        let urgent = store
            .alerts(
                &AlertQuery {
                    limit: 1,
                    ..AlertQuery::default()
                },
                20,
            )
            .unwrap()
            .last_24h_urgent;
        assert_eq!(urgent, 2, "the backfilled severity counts");
    }
}
