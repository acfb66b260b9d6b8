//! Incidents in SQLite: an alert is grouped in the transaction that stores it.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};
use wardwatch_proto::Alert;

use super::grouping::{facts, GroupKey};
use super::signal::Signal;
use super::{
    transition_allowed, IncidentAlert, IncidentDetail, IncidentFile, IncidentNote, IncidentPage,
    IncidentProcess, IncidentQuery, IncidentSignal, IncidentSort, IncidentStore, IncidentSummary,
    Refused,
};
use crate::audit::sqlite::audit_in;
use crate::db::{escape_like, Store, StoreResult};

/// Longest note.
pub const MAX_NOTE_CHARS: usize = 4000;

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Most signals an incident lists; the rest are counted.
pub const MAX_SIGNALS_LISTED: i64 = 1000;

/// What joins an incident: its keys, when, how bad, and what opened it if it is new.
struct Joining<'a> {
    keys: &'a [GroupKey],
    at: i64,
    severity: &'a str,
    title: String,
    /// For the audit record when the incident is new or merges others.
    origin: serde_json::Value,
}

/// The incident `j` belongs to: one that shares a key with it within the key's window,
/// else a new one; incidents it links are merged into the oldest. Its keys, severity
/// and times are updated.
fn join_incident(tx: &Connection, j: &Joining<'_>) -> rusqlite::Result<i64> {
    let mut found = BTreeSet::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT k.incident_id FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
             WHERE k.key = ?1 AND k.until >= ?2 AND i.state != 'resolved' AND i.merged_into IS NULL",
        )?;
        for key in j.keys {
            let ids = stmt.query_map(params![key.key, j.at], |r| r.get::<_, i64>(0))?;
            for id in ids {
                found.insert(id?);
            }
        }
    }
    let incident = match found.iter().next() {
        Some(&oldest) => oldest,
        None => {
            let title: String = j.title.chars().take(300).collect();
            tx.execute(
                "INSERT INTO incidents (title, severity, first_at, last_at) VALUES (?1, ?2, ?3, ?3)",
                params![title, j.severity, j.at],
            )?;
            let id = tx.last_insert_rowid();
            audit_in(
                tx,
                "server",
                "incident.open",
                &format!("incident {id}"),
                &j.origin.to_string(),
            )?;
            id
        }
    };
    let mut worst = j.severity.to_string();
    for other in found.iter().skip(1) {
        for moved in [
            "UPDATE incident_alerts SET incident_id = ?1 WHERE incident_id = ?2",
            "UPDATE incident_signals SET incident_id = ?1 WHERE incident_id = ?2",
            "INSERT INTO incident_keys (key, incident_id, until)
             SELECT key, ?1, until FROM incident_keys WHERE incident_id = ?2
             ON CONFLICT (key, incident_id) DO UPDATE SET until = max(until, excluded.until)",
            "UPDATE incidents SET
                 first_at = min(first_at, (SELECT first_at FROM incidents WHERE id = ?2)),
                 signals_not_listed = signals_not_listed
                     + (SELECT signals_not_listed FROM incidents WHERE id = ?2)
             WHERE id = ?1",
            "UPDATE incidents SET merged_into = ?1, state = 'resolved' WHERE id = ?2",
        ] {
            tx.execute(moved, params![incident, other])?;
        }
        let theirs: String = tx.query_row(
            "SELECT severity FROM incidents WHERE id = ?1",
            [other],
            |r| r.get(0),
        )?;
        worst = worse(worst, theirs);
        let detail = serde_json::json!({ "merged": other, "by": j.origin }).to_string();
        audit_in(
            tx,
            "server",
            "incident.merge",
            &format!("incident {incident}"),
            &detail,
        )?;
    }
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO incident_keys (key, incident_id, until) VALUES (?1, ?2, ?3)
             ON CONFLICT (key, incident_id) DO UPDATE SET until = max(until, excluded.until)",
        )?;
        for key in j.keys {
            stmt.execute(params![
                key.key,
                incident,
                j.at.saturating_add(key.window_ms)
            ])?;
        }
    }
    let current: String = tx.query_row(
        "SELECT severity FROM incidents WHERE id = ?1",
        [incident],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE incidents SET severity = ?2, last_at = max(last_at, ?3), first_at = min(first_at, ?3)
         WHERE id = ?1",
        params![incident, worse(current, worst), j.at],
    )?;
    Ok(incident)
}

fn worse(a: String, b: String) -> String {
    if severity_rank(&b) > severity_rank(&a) {
        b
    } else {
        a
    }
}

/// Puts a newly stored alert into its incident (see [`join_incident`]).
pub(crate) fn group_alert(
    tx: &Connection,
    alert_id: i64,
    host_id: &str,
    received_at: i64,
    severity: &str,
    alert: &Alert,
) -> rusqlite::Result<i64> {
    let f = facts(host_id, alert);
    let title = match (&f.exe, &f.user) {
        (Some(exe), Some(user)) => format!("{} ({exe}, {user})", alert.title),
        (Some(exe), None) => format!("{} ({exe})", alert.title),
        _ => alert.title.clone(),
    };
    let incident = join_incident(
        tx,
        &Joining {
            keys: &f.keys,
            at: received_at,
            severity,
            title,
            origin: serde_json::json!({ "alert": alert_id, "host": host_id }),
        },
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO incident_alerts (alert_id, incident_id) VALUES (?1, ?2)",
        params![alert_id, incident],
    )?;
    Ok(incident)
}

/// Puts a signal into its incident, unless one of the same kind and subject was
/// stored before (then `None`). Past [`MAX_SIGNALS_LISTED`] an incident only counts
/// its signals.
pub(crate) fn group_signal(tx: &Connection, signal: &Signal) -> rusqlite::Result<Option<i64>> {
    if let Some(subject) = &signal.subject {
        let seen: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM incident_signals WHERE kind = ?1 AND subject = ?2)",
            )?
            .query_row(params![signal.kind, subject], |r| r.get(0))?;
        if seen {
            return Ok(None);
        }
    }
    let incident = join_incident(
        tx,
        &Joining {
            keys: &signal.keys,
            at: signal.at,
            severity: signal.severity,
            title: signal.title.clone(),
            origin: serde_json::json!({ "signal": signal.kind, "host": signal.host_id }),
        },
    )?;
    let listed: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM incident_signals WHERE incident_id = ?1")?
        .query_row([incident], |r| r.get(0))?;
    if listed >= MAX_SIGNALS_LISTED {
        tx.execute(
            "UPDATE incidents SET signals_not_listed = signals_not_listed + 1 WHERE id = ?1",
            [incident],
        )?;
    } else {
        tx.prepare_cached(
            "INSERT INTO incident_signals (incident_id, kind, subject, host_id, at, severity, title, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            incident,
            signal.kind,
            signal.subject,
            signal.host_id,
            signal.at,
            signal.severity,
            signal.title,
            signal.detail.to_string()
        ])?;
    }
    Ok(Some(incident))
}

/// An alert in no incident: id, terminal, received at, severity, event body.
type UngroupedAlert = (i64, String, i64, Option<String>, Option<String>);

/// Groups every stored alert that is in no incident yet, oldest first, as if each had
/// just arrived: the alerts of a server that ran before incidents existed.
pub(crate) fn group_ungrouped_alerts(conn: &Connection) -> rusqlite::Result<usize> {
    let pending: Vec<UngroupedAlert> = conn
        .prepare(
            "SELECT a.id, a.host_id, a.received_at, a.severity, e.body FROM alerts a
             LEFT JOIN events e ON e.host_id = a.host_id AND e.seq = a.seq
             WHERE NOT EXISTS (SELECT 1 FROM incident_alerts ia WHERE ia.alert_id = a.id)
             ORDER BY a.id",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut grouped = 0;
    for (id, host, at, severity, body) in pending {
        // What cannot be read still belongs to its terminal's incident.
        let alert = body
            .and_then(|b| serde_json::from_str::<wardwatch_proto::EventBody>(&b).ok())
            .and_then(|e| match e {
                wardwatch_proto::EventBody::Alert(a) => Some(a),
                _ => None,
            })
            .unwrap_or_else(|| Alert {
                source: "unknown".into(),
                severity: wardwatch_proto::Severity::Medium,
                title: format!("alert {id}"),
                details: serde_json::Value::Null,
            });
        let severity = severity.unwrap_or_else(|| "medium".into());
        group_alert(conn, id, &host, at, &severity, &alert)?;
        grouped += 1;
    }
    Ok(grouped)
}

fn summary(conn: &Connection, r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentSummary> {
    let id: i64 = r.get(0)?;
    let hosts = conn
        .prepare_cached(
            "SELECT h.label, h.hostname FROM hosts h WHERE h.id IN (
                 SELECT a.host_id FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id
                 WHERE ia.incident_id = ?1
                 UNION SELECT host_id FROM incident_signals WHERE incident_id = ?1)
             ORDER BY h.label, h.hostname LIMIT 100",
        )?
        .query_map([id], |r| {
            Ok(format!(
                "{} ({})",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        })?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(IncidentSummary {
        id,
        title: r.get(1)?,
        severity: r.get(2)?,
        state: r.get(3)?,
        assignee: r.get(4)?,
        first_at: r.get(5)?,
        last_at: r.get(6)?,
        alerts: r.get(7)?,
        signals: r.get(8)?,
        hosts,
    })
}

/// The processes and files the incident's alerts name, each once, read leniently from
/// the terminals' payloads.
fn processes_and_files(
    conn: &Connection,
    id: i64,
) -> rusqlite::Result<(Vec<IncidentProcess>, Vec<IncidentFile>)> {
    use wardwatch_proto::alert_details::{AlertData, Problems};
    let mut stmt = conn.prepare_cached(
        "SELECT h.hostname, e.body FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id
         JOIN hosts h ON h.id = a.host_id
         JOIN events e ON e.host_id = a.host_id AND e.seq = a.seq
         WHERE ia.incident_id = ?1 ORDER BY a.id LIMIT 1000",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let (mut processes, mut files) = (Vec::new(), Vec::new());
    for row in rows {
        let (hostname, body) = row?;
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&body) else {
            continue;
        };
        let data = AlertData::read(&event["data"], &mut Problems::default());
        let Some(details) = data.details else {
            continue;
        };
        if let Some(p) = details.process {
            let process = IncidentProcess {
                hostname: hostname.clone(),
                pid: p.pid,
                exe: p.exe,
                exe_sha256: p.exe_sha256,
                user: p.user,
                parents: p.parents.into_iter().filter_map(|a| a.exe).collect(),
            };
            if processes.len() < 100 && !processes.contains(&process) {
                processes.push(process);
            }
        }
        for f in details.files {
            let Some(path) = f.path else { continue };
            let file = IncidentFile {
                hostname: hostname.clone(),
                path,
                sha256_before: f.before.map(|h| h.sha256),
            };
            if files.len() < 500 && !files.contains(&file) {
                files.push(file);
            }
        }
    }
    Ok((processes, files))
}

const SUMMARY: &str =
    "SELECT i.id, i.title, i.severity, i.state, i.assignee, i.first_at, i.last_at,
        (SELECT COUNT(*) FROM incident_alerts ia WHERE ia.incident_id = i.id),
        (SELECT COUNT(*) FROM incident_signals s WHERE s.incident_id = i.id) + i.signals_not_listed
     FROM incidents i";

/// Runs a change on an incident that exists and was not merged away.
fn change(
    store: &Store,
    id: i64,
    f: impl FnOnce(&Connection, &str) -> rusqlite::Result<Result<(), Refused>>,
) -> StoreResult<Result<(), Refused>> {
    let conn = store.writer();
    let tx = conn.unchecked_transaction().map_err(|e| store.err(e))?;
    let state: Option<(String, Option<i64>)> = tx
        .query_row(
            "SELECT state, merged_into FROM incidents WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| store.err(e))?;
    let outcome = match state {
        None => Err(Refused(format!("there is no incident {id}"))),
        Some((_, Some(into))) => Err(Refused(format!(
            "incident {id} was merged into incident {into}; change that one"
        ))),
        Some((state, None)) => f(&tx, &state).map_err(|e| store.err(e))?,
    };
    if outcome.is_ok() {
        tx.commit().map_err(|e| store.err(e))?;
    }
    Ok(outcome)
}

impl IncidentStore for Store {
    fn incident_page(&self, query: &IncidentQuery) -> StoreResult<IncidentPage> {
        let mut clauses = vec!["i.merged_into IS NULL".to_string()];
        let mut values: Vec<String> = Vec::new();
        if let Some(state) = &query.state {
            values.push(state.clone());
            clauses.push(format!("i.state = ?{}", values.len()));
        }
        for word in query
            .search
            .split_whitespace()
            .take(crate::list_query::MAX_WORDS)
        {
            values.push(format!("%{}%", escape_like(word)));
            let p = values.len();
            clauses.push(format!(
                "(i.title LIKE ?{p} ESCAPE '\\' OR IFNULL(i.assignee, '') LIKE ?{p} ESCAPE '\\')"
            ));
        }
        let matching = clauses.join(" AND ");
        let dir = if query.ascending { "ASC" } else { "DESC" };
        let order = match query.sort {
            IncidentSort::LastActivity => format!("i.last_at {dir}, i.id {dir}"),
            IncidentSort::FirstSeen => format!("i.first_at {dir}, i.id {dir}"),
            IncidentSort::Title => format!("i.title COLLATE NOCASE {dir}, i.id {dir}"),
        };
        let conn = self.reader();
        let run = || -> rusqlite::Result<IncidentPage> {
            let params = rusqlite::params_from_iter(values.iter());
            let total: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM incidents i WHERE {matching}"),
                params,
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare(&format!(
                "{SUMMARY} WHERE {matching} ORDER BY {order} LIMIT {} OFFSET {}",
                query.limit, query.offset
            ))?;
            let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
            let mut incidents = Vec::new();
            while let Some(r) = rows.next()? {
                incidents.push(summary(&conn, r)?);
            }
            Ok(IncidentPage {
                incidents,
                total: total.max(0) as u64,
            })
        };
        run().map_err(|e| self.err(e))
    }

    fn incident(&self, id: i64) -> StoreResult<Option<IncidentDetail>> {
        let conn = self.reader();
        let found = conn
            .query_row(&format!("{SUMMARY} WHERE i.id = ?1"), [id], |r| {
                summary(&conn, r)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(summary) = found else {
            return Ok(None);
        };
        let timeline = conn
            .prepare_cached(
                "SELECT a.id, a.host_id, h.hostname, a.received_at, a.severity,
                        CASE WHEN json_valid(e.body) THEN json_extract(e.body, '$.data.title') END
                 FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id
                 JOIN hosts h ON h.id = a.host_id
                 LEFT JOIN events e ON e.host_id = a.host_id AND e.seq = a.seq
                 WHERE ia.incident_id = ?1 ORDER BY a.received_at, a.id LIMIT 1000",
            )
            .and_then(|mut s| {
                s.query_map([id], |r| {
                    Ok(IncidentAlert {
                        id: r.get(0)?,
                        host_id: r.get(1)?,
                        hostname: r.get(2)?,
                        received_at: r.get(3)?,
                        severity: r.get(4)?,
                        title: r.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| self.err(e))?;
        let signal_list = conn
            .prepare_cached(
                "SELECT s.id, s.kind, s.host_id, h.hostname, s.at, s.severity, s.title, s.detail
                 FROM incident_signals s LEFT JOIN hosts h ON h.id = s.host_id
                 WHERE s.incident_id = ?1 ORDER BY s.at, s.id LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![id, MAX_SIGNALS_LISTED], |r| {
                    let detail: String = r.get(7)?;
                    Ok(IncidentSignal {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        host_id: r.get(2)?,
                        hostname: r.get(3)?,
                        at: r.get(4)?,
                        severity: r.get(5)?,
                        title: r.get(6)?,
                        detail: serde_json::from_str(&detail).unwrap_or_default(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| self.err(e))?;
        let keys = conn
            .prepare_cached(
                "SELECT key FROM incident_keys WHERE incident_id = ?1 ORDER BY key LIMIT 500",
            )
            .and_then(|mut s| {
                s.query_map([id], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()
            })
            .map_err(|e| self.err(e))?;
        let notes = conn
            .prepare_cached(
                "SELECT at, author, text FROM incident_notes WHERE incident_id = ?1 ORDER BY id LIMIT 1000",
            )
            .and_then(|mut s| {
                s.query_map([id], |r| {
                    Ok(IncidentNote {
                        at: r.get(0)?,
                        author: r.get(1)?,
                        text: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| self.err(e))?;
        let (processes, files) = processes_and_files(&conn, id).map_err(|e| self.err(e))?;
        Ok(Some(IncidentDetail {
            summary,
            timeline,
            signal_list,
            keys,
            notes,
            processes,
            files,
        }))
    }

    fn record_signal(&self, signal: &Signal) -> StoreResult<Option<i64>> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let incident = group_signal(&tx, signal).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(incident)
    }

    fn set_incident_state(
        &self,
        id: i64,
        state: &str,
        actor: &str,
    ) -> StoreResult<Result<(), Refused>> {
        change(self, id, |tx, from| {
            if !transition_allowed(from, state) {
                return Ok(Err(Refused(format!(
                    "incident {id} is {from}; it can go on to a later state (new, acknowledged, contained, resolved) or, once resolved, be reopened as acknowledged, not become {state}"
                ))));
            }
            tx.execute(
                "UPDATE incidents SET state = ?2 WHERE id = ?1",
                params![id, state],
            )?;
            let detail = serde_json::json!({ "from": from, "to": state }).to_string();
            audit_in(
                tx,
                actor,
                "incident.state",
                &format!("incident {id}"),
                &detail,
            )?;
            Ok(Ok(()))
        })
    }

    fn assign_incident(
        &self,
        id: i64,
        assignee: Option<&str>,
        actor: &str,
    ) -> StoreResult<Result<(), Refused>> {
        change(self, id, |tx, _| {
            if let Some(name) = assignee {
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM admins WHERE username = ?1)",
                    [name],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Ok(Err(Refused(format!(
                        "there is no console account {name:?}"
                    ))));
                }
            }
            tx.execute(
                "UPDATE incidents SET assignee = ?2 WHERE id = ?1",
                params![id, assignee],
            )?;
            let detail = serde_json::json!({ "assignee": assignee }).to_string();
            audit_in(
                tx,
                actor,
                "incident.assign",
                &format!("incident {id}"),
                &detail,
            )?;
            Ok(Ok(()))
        })
    }

    fn add_incident_note(
        &self,
        id: i64,
        text: &str,
        actor: &str,
    ) -> StoreResult<Result<(), Refused>> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
            return Ok(Err(Refused(format!(
                "a note has 1 to {MAX_NOTE_CHARS} characters"
            ))));
        }
        change(self, id, |tx, _| {
            tx.execute(
                "INSERT INTO incident_notes (incident_id, at, author, text) VALUES (?1, ?2, ?3, ?4)",
                params![id, wardwatch_proto::now_millis(), actor, text],
            )?;
            audit_in(
                tx,
                actor,
                "incident.note",
                &format!("incident {id}"),
                &serde_json::json!({ "text": text }).to_string(),
            )?;
            Ok(Ok(()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditStore;
    use crate::auth::AccountStore;
    use crate::hosts::IngestStore;
    use crate::testing::store_with_hosts;
    use serde_json::json;
    use wardwatch_proto::{Event, EventBody, Severity};

    fn alert(exe: &str, exe_sha: char, user: &str, file_sha: char) -> EventBody {
        EventBody::Alert(Alert {
            source: "guard.ransomware".into(),
            severity: Severity::Critical,
            title: "Ransomware behaviour".into(),
            details: json!({
                "process": {"exe": exe, "exe_sha256": exe_sha.to_string().repeat(64), "user": user, "uid": 1001},
                "files": [{"path": "/srv/a.docx", "before": {"sha256": file_sha.to_string().repeat(64)}}],
            }),
        })
    }

    fn send(store: &Store, host: &str, seq: u64, body: EventBody) {
        store.ingest(host, &[Event { seq, time: 1, body }]).unwrap();
    }

    #[test]
    fn alerts_group_by_host_and_across_hosts_by_what_they_share() {
        let (_dir, store) =
            store_with_hosts(&[("h-a", "ward-a"), ("h-b", "ward-b"), ("h-c", "lab-c")]);
        send(&store, "h-a", 1, alert("/tmp/enc", 'a', "nurse1", '1'));
        send(&store, "h-a", 2, alert("/tmp/other", 'b', "nurse9", '2'));
        // Another terminal, the same encryptor binary.
        send(&store, "h-b", 1, alert("/home/x/enc", 'a', "nurse2", '3'));
        // A third terminal with nothing in common.
        send(&store, "h-c", 1, alert("/opt/tool", 'c', "labtech", '4'));
        let list = store.incidents(None, 10).unwrap();
        assert_eq!(list.len(), 2, "{list:#?}");
        let shared = list
            .iter()
            .find(|i| i.alerts == 3)
            .expect("one incident of three alerts");
        assert_eq!(
            shared.hosts,
            ["ward-a desk (ward-a)", "ward-b desk (ward-b)"]
        );
        assert_eq!(shared.severity, "critical");
        let detail = store.incident(shared.id).unwrap().unwrap();
        assert_eq!(detail.timeline.len(), 3);
        assert!(detail
            .keys
            .iter()
            .any(|k| k == &format!("exe-sha256:{}", "a".repeat(64))));
        assert_eq!(detail.processes.len(), 3, "{:?}", detail.processes);
        assert_eq!(detail.processes[0].user.as_deref(), Some("nurse1"));
        assert_eq!(detail.files.len(), 3);
        assert_eq!(
            detail.files[0].sha256_before.as_deref(),
            Some("1".repeat(64).as_str())
        );
        let other = list.iter().find(|i| i.alerts == 1).unwrap();
        assert_eq!(other.hosts, ["lab-c desk (lab-c)"]);
    }

    #[test]
    fn the_incident_list_is_searched_sorted_and_paged_with_its_total() {
        let (_dir, store) = store_with_hosts(&[("h-a", "a"), ("h-b", "b"), ("h-c", "c")]);
        send(&store, "h-a", 1, alert("/x/one", 'a', "u1", '1'));
        send(&store, "h-b", 1, alert("/x/two", 'b', "u2", '2'));
        send(&store, "h-c", 1, alert("/x/three", 'c', "u3", '3'));
        let all = store.incidents(None, 10).unwrap();
        assert_eq!(all.len(), 3);
        let query = |q: IncidentQuery| store.incident_page(&q).unwrap();
        let by_title = IncidentQuery {
            sort: IncidentSort::Title,
            ascending: true,
            limit: 2,
            ..IncidentQuery::default()
        };
        let mut titles: Vec<String> = all.iter().map(|i| i.title.to_lowercase()).collect();
        titles.sort();
        let first = query(by_title.clone());
        assert_eq!(first.total, 3);
        let second = query(IncidentQuery {
            offset: 2,
            ..by_title.clone()
        });
        let paged: Vec<String> = first
            .incidents
            .iter()
            .chain(&second.incidents)
            .map(|i| i.title.to_lowercase())
            .collect();
        assert_eq!(
            paged, titles,
            "two pages hold every incident once, in order"
        );
        // A search for one terminal's binary finds its incident only; LIKE's wildcards
        // are searched for as they are.
        let target = all.iter().find(|i| i.title.contains("/x/two")).unwrap();
        let found = query(IncidentQuery {
            search: "/X/TWO".into(),
            limit: 10,
            ..IncidentQuery::default()
        });
        assert_eq!(found.total, 1);
        assert_eq!(found.incidents[0].id, target.id);
        let wildcard = query(IncidentQuery {
            search: "%".into(),
            limit: 10,
            ..IncidentQuery::default()
        });
        assert_eq!(wildcard.total, 0);
        store
            .set_incident_state(target.id, "acknowledged", "admin")
            .unwrap()
            .unwrap();
        let acknowledged = query(IncidentQuery {
            state: Some("acknowledged".into()),
            limit: 10,
            ..IncidentQuery::default()
        });
        assert_eq!(acknowledged.total, 1);
        assert_eq!(acknowledged.incidents[0].id, target.id);
    }

    #[test]
    fn an_alert_linking_two_incidents_merges_them_into_the_older() {
        let (_dir, store) = store_with_hosts(&[("h-a", "a"), ("h-b", "b"), ("h-c", "c")]);
        send(&store, "h-a", 1, alert("/x/one", 'a', "u1", '1'));
        send(&store, "h-b", 1, alert("/x/two", 'b', "u2", '2'));
        assert_eq!(store.incidents(None, 10).unwrap().len(), 2);
        // Terminal c runs the first binary on the second incident's file.
        send(&store, "h-c", 1, alert("/x/three", 'a', "u3", '2'));
        let list = store.incidents(None, 10).unwrap();
        assert_eq!(list.len(), 1, "{list:#?}");
        assert_eq!(list[0].alerts, 3);
        assert_eq!(list[0].hosts, ["a desk (a)", "b desk (b)", "c desk (c)"]);
        let merged = store.audit_entries(50).unwrap();
        assert!(merged.iter().any(|e| e.action == "incident.merge"));
        // The merged one refuses changes and points to the survivor.
        let gone = if list[0].id == 1 { 2 } else { 1 };
        let refused = store
            .set_incident_state(gone, "acknowledged", "admin x")
            .unwrap();
        assert!(refused.unwrap_err().0.contains("merged into"));
    }

    #[test]
    fn states_move_forward_or_reopen_and_every_change_is_audited() {
        let (_dir, store) = store_with_hosts(&[("h-a", "a")]);
        store.ensure_first_admin().unwrap();
        send(&store, "h-a", 1, alert("/x/one", 'a', "u1", '1'));
        let id = store.incidents(None, 1).unwrap()[0].id;
        assert_eq!(store.incidents(Some("new"), 5).unwrap().len(), 1);
        store
            .set_incident_state(id, "acknowledged", "admin alice")
            .unwrap()
            .unwrap();
        let back = store.set_incident_state(id, "new", "admin alice").unwrap();
        assert!(back.unwrap_err().0.contains("is acknowledged"));
        store
            .set_incident_state(id, "contained", "admin alice")
            .unwrap()
            .unwrap();
        store
            .set_incident_state(id, "resolved", "admin alice")
            .unwrap()
            .unwrap();
        store
            .set_incident_state(id, "acknowledged", "admin bob")
            .unwrap()
            .unwrap();
        assert!(store
            .assign_incident(id, Some("nobody"), "admin bob")
            .unwrap()
            .is_err());
        store
            .assign_incident(id, Some("admin"), "admin bob")
            .unwrap()
            .unwrap();
        assert!(store
            .add_incident_note(id, "  ", "admin bob")
            .unwrap()
            .is_err());
        store
            .add_incident_note(id, "Terminal isolated, user's password reset.", "admin bob")
            .unwrap()
            .unwrap();
        let detail = store.incident(id).unwrap().unwrap();
        assert_eq!(detail.summary.state, "acknowledged");
        assert_eq!(detail.summary.assignee.as_deref(), Some("admin"));
        assert_eq!(detail.notes[0].author, "admin bob");
        let actions: Vec<String> = store
            .audit_entries(50)
            .unwrap()
            .into_iter()
            .filter(|e| e.action.starts_with("incident."))
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions.iter().filter(|a| *a == "incident.state").count(),
            4,
            "{actions:?}"
        );
        assert!(actions.contains(&"incident.assign".to_string()));
        assert!(actions.contains(&"incident.note".to_string()));
        assert!(actions.contains(&"incident.open".to_string()));
        assert_eq!(store.audit_verify().unwrap(), None);
    }

    const HOUR: i64 = 60 * 60 * 1000;

    fn cve(id: &str) -> Vec<(String, bool)> {
        vec![(id.to_string(), false)]
    }

    #[test]
    fn a_signal_joins_the_terminals_incident_within_the_hour_and_opens_a_new_one_after() {
        let (_dir, store) = store_with_hosts(&[("h-a", "a")]);
        send(&store, "h-a", 1, alert("/x/one", 'a', "u1", '1'));
        let incident = store.incidents(None, 1).unwrap()[0].clone();
        let joined = store
            .record_signal(&Signal::spool_overflow(
                "h-a",
                40,
                40,
                incident.last_at + HOUR / 2,
            ))
            .unwrap();
        assert_eq!(joined, Some(incident.id));
        // An hour after the last thing that joined it, the terminal's key has run out.
        let later = store
            .record_signal(&Signal::spool_overflow(
                "h-a",
                3,
                43,
                incident.last_at + 2 * HOUR,
            ))
            .unwrap()
            .unwrap();
        assert_ne!(later, incident.id);
        let detail = store.incident(incident.id).unwrap().unwrap();
        assert_eq!(detail.summary.alerts, 1);
        assert_eq!(detail.summary.signals, 1);
        assert_eq!(
            detail.summary.severity, "critical",
            "a high signal does not lower it"
        );
        assert_eq!(detail.signal_list[0].kind, "spool.overflow");
        assert_eq!(detail.signal_list[0].hostname.as_deref(), Some("a"));
        assert_eq!(detail.signal_list[0].detail["lost"], 40);
    }

    #[test]
    fn exploited_vulnerabilities_join_across_terminals_by_cve_within_a_day_only() {
        let (_dir, store) = store_with_hosts(&[("h-a", "a"), ("h-b", "b"), ("h-c", "c")]);
        let t0 = 1_700_000_000_000;
        let first = store
            .record_signal(&Signal::exploited_found("h-a", &cve("CVE-2024-1"), t0).unwrap())
            .unwrap()
            .unwrap();
        let second = store
            .record_signal(
                &Signal::exploited_found("h-b", &cve("CVE-2024-1"), t0 + 20 * HOUR).unwrap(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(first, second);
        let summary = &store.incident(first).unwrap().unwrap().summary;
        assert_eq!(summary.hosts, ["a desk (a)", "b desk (b)"]);
        // More than a day after the last terminal: a new wave, a new incident.
        let third = store
            .record_signal(
                &Signal::exploited_found("h-c", &cve("CVE-2024-1"), t0 + 45 * HOUR).unwrap(),
            )
            .unwrap()
            .unwrap();
        assert_ne!(third, first);
    }

    #[test]
    fn a_signal_with_a_subject_is_stored_once_and_a_flood_is_counted_not_listed() {
        let (_dir, store) = store_with_hosts(&[]);
        let stale = Signal::signatures_stale(7, 40, 14, 1_000);
        assert!(store.record_signal(&stale).unwrap().is_some());
        assert_eq!(store.record_signal(&stale).unwrap(), None);
        let from: std::net::IpAddr = "127.0.0.7".parse().unwrap();
        let mut incident = 0;
        for i in 0..(MAX_SIGNALS_LISTED + 5) {
            incident = store
                .record_signal(&Signal::enrolment_refused(
                    from,
                    "pc",
                    "no such token",
                    5_000 + i,
                ))
                .unwrap()
                .unwrap();
        }
        let detail = store.incident(incident).unwrap().unwrap();
        assert_eq!(detail.signal_list.len() as i64, MAX_SIGNALS_LISTED);
        assert_eq!(detail.summary.signals, MAX_SIGNALS_LISTED + 5);
        assert_eq!(store.incidents(None, 10).unwrap().len(), 2);
    }

    #[test]
    fn alerts_stored_before_incidents_existed_are_grouped_when_the_schema_is_upgraded() {
        let (dir, store) = store_with_hosts(&[("h-a", "a"), ("h-b", "b")]);
        send(&store, "h-a", 1, alert("/x/enc", 'a', "u1", '1'));
        send(&store, "h-b", 1, alert("/y/enc", 'a', "u2", '2'));
        drop(store);
        // The database as the version before signals left it, without incidents (nor
        // anything added later).
        let path = dir.path().join("db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "DELETE FROM incident_alerts; DELETE FROM incident_keys; DELETE FROM incidents;",
        )
        .unwrap();
        crate::db::downgrade_for_test(&conn, 10);
        drop(conn);
        let store = Store::open(&path).unwrap();
        let list = store.incidents(None, 10).unwrap();
        assert_eq!(list.len(), 1, "{list:#?}");
        assert_eq!(list[0].alerts, 2);
        assert_eq!(list[0].hosts, ["a desk (a)", "b desk (b)"]);
    }

    #[test]
    fn a_failed_backup_and_a_refused_bundle_on_a_terminal_are_one_incident() {
        let (_dir, store) = store_with_hosts(&[("h-a", "a")]);
        let backup = EventBody::Alert(Alert {
            source: "backup".into(),
            severity: Severity::High,
            title: "Backup failed".into(),
            details: json!({"paths": ["/srv"], "error": "repository unreachable"}),
        });
        let refused = EventBody::Alert(Alert {
            source: "agent.bundles".into(),
            severity: Severity::High,
            title: "signatures bundle version 9 from the server refused: bad signature".into(),
            details: json!({"kind": "signatures", "version": 9, "reason": "bad signature"}),
        });
        send(&store, "h-a", 1, backup);
        send(&store, "h-a", 2, refused);
        let list = store.incidents(None, 10).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].alerts, 2);
        assert_eq!(list[0].title, "Backup failed");
    }
}
