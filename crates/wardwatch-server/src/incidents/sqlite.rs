//! Incidents in SQLite: an alert is grouped in the transaction that stores it.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};
use wardwatch_proto::Alert;

use super::grouping::facts;
use super::{
    transition_allowed, IncidentAlert, IncidentDetail, IncidentFile, IncidentNote, IncidentProcess,
    IncidentStore, IncidentSummary, Refused,
};
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreResult};

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

/// Puts a newly stored alert into its incident: one that shares a key with it within
/// the key's window, else a new one; incidents it links are merged into the oldest.
pub(crate) fn group_alert(
    tx: &Connection,
    alert_id: i64,
    host_id: &str,
    received_at: i64,
    severity: &str,
    alert: &Alert,
) -> rusqlite::Result<i64> {
    let f = facts(host_id, alert);
    let mut found = BTreeSet::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT k.incident_id FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
             WHERE k.key = ?1 AND k.until >= ?2 AND i.state != 'resolved' AND i.merged_into IS NULL",
        )?;
        for key in &f.keys {
            let ids = stmt.query_map(params![key.key, received_at], |r| r.get::<_, i64>(0))?;
            for id in ids {
                found.insert(id?);
            }
        }
    }
    let incident = match found.iter().next() {
        Some(&oldest) => oldest,
        None => {
            let title = match (&f.exe, &f.user) {
                (Some(exe), Some(user)) => format!("{} ({exe}, {user})", alert.title),
                (Some(exe), None) => format!("{} ({exe})", alert.title),
                _ => alert.title.clone(),
            };
            let title: String = title.chars().take(300).collect();
            tx.execute(
                "INSERT INTO incidents (title, severity, first_at, last_at) VALUES (?1, ?2, ?3, ?3)",
                params![title, severity, received_at],
            )?;
            let id = tx.last_insert_rowid();
            let detail = serde_json::json!({ "alert": alert_id, "host": host_id }).to_string();
            audit_in(
                tx,
                "server",
                "incident.open",
                &format!("incident {id}"),
                &detail,
            )?;
            id
        }
    };
    for other in found.iter().skip(1) {
        tx.execute(
            "UPDATE incident_alerts SET incident_id = ?1 WHERE incident_id = ?2",
            params![incident, other],
        )?;
        tx.execute(
            "INSERT INTO incident_keys (key, incident_id, until)
             SELECT key, ?1, until FROM incident_keys WHERE incident_id = ?2
             ON CONFLICT (key, incident_id) DO UPDATE SET until = max(until, excluded.until)",
            params![incident, other],
        )?;
        tx.execute(
            "UPDATE incidents SET merged_into = ?1, state = 'resolved' WHERE id = ?2",
            params![incident, other],
        )?;
        tx.execute(
            "UPDATE incidents SET first_at = min(first_at, (SELECT first_at FROM incidents WHERE id = ?2))
             WHERE id = ?1",
            params![incident, other],
        )?;
        let detail = serde_json::json!({ "merged": other, "by_alert": alert_id }).to_string();
        audit_in(
            tx,
            "server",
            "incident.merge",
            &format!("incident {incident}"),
            &detail,
        )?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO incident_alerts (alert_id, incident_id) VALUES (?1, ?2)",
        params![alert_id, incident],
    )?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO incident_keys (key, incident_id, until) VALUES (?1, ?2, ?3)
             ON CONFLICT (key, incident_id) DO UPDATE SET until = max(until, excluded.until)",
        )?;
        for key in &f.keys {
            stmt.execute(params![
                key.key,
                incident,
                received_at.saturating_add(key.window_ms)
            ])?;
        }
    }
    // The highest severity of its alerts, and the time of the newest.
    let current: String = tx.query_row(
        "SELECT severity FROM incidents WHERE id = ?1",
        [incident],
        |r| r.get(0),
    )?;
    let worst = tx
        .prepare_cached(
            "SELECT a.severity FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id
             WHERE ia.incident_id = ?1",
        )?
        .query_map([incident], |r| r.get::<_, Option<String>>(0))?
        .filter_map(|s| s.ok().flatten())
        .chain([current])
        .max_by_key(|s| severity_rank(s))
        .unwrap_or_default();
    tx.execute(
        "UPDATE incidents SET severity = ?2, last_at = max(last_at, ?3), first_at = min(first_at, ?3)
         WHERE id = ?1",
        params![incident, worst, received_at],
    )?;
    Ok(incident)
}

fn summary(conn: &Connection, r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentSummary> {
    let id: i64 = r.get(0)?;
    let hosts = conn
        .prepare_cached(
            "SELECT h.label, h.hostname FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id
             JOIN hosts h ON h.id = a.host_id WHERE ia.incident_id = ?1
             GROUP BY h.id ORDER BY h.label, h.hostname LIMIT 100",
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
        (SELECT COUNT(*) FROM incident_alerts ia WHERE ia.incident_id = i.id)
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
    fn incidents(&self, state: Option<&str>, limit: u32) -> StoreResult<Vec<IncidentSummary>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare(&format!(
                "{SUMMARY} WHERE i.merged_into IS NULL AND (?1 IS NULL OR i.state = ?1)
                 ORDER BY i.last_at DESC, i.id DESC LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![state, limit]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            out.push(summary(&conn, r).map_err(|e| self.err(e))?);
        }
        Ok(out)
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
            keys,
            notes,
            processes,
            files,
        }))
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
}
