//! The sinks' positions in `forward_sinks`, and the audit entries and alerts after them.

use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

use super::message::{alert_severity, Source};
use super::{Cursor, ForwardStore, Message};
use crate::db::{Store, StoreResult};

/// Syslog severity of audit entries: notice.
const AUDIT_SEVERITY: u8 = 5;

impl ForwardStore for Store {
    fn forward_cursor(&self, sink: &str, from_start: bool) -> StoreResult<Cursor> {
        let conn = self.writer();
        let known: Option<(i64, i64)> = conn
            .query_row(
                "SELECT audit_after, alert_after FROM forward_sinks WHERE name = ?1",
                [sink],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some((audit_after, alert_after)) = known {
            return Ok(Cursor {
                audit_after,
                alert_after,
            });
        }
        let cursor = if from_start {
            Cursor::default()
        } else {
            conn.query_row(
                "SELECT IFNULL((SELECT MAX(id) FROM audit), 0),
                        IFNULL((SELECT MAX(id) FROM alerts), 0)",
                [],
                |r| {
                    Ok(Cursor {
                        audit_after: r.get(0)?,
                        alert_after: r.get(1)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?
        };
        conn.execute(
            "INSERT INTO forward_sinks (name, audit_after, alert_after, updated_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                sink,
                cursor.audit_after,
                cursor.alert_after,
                wardwatch_proto::now_millis()
            ],
        )
        .map_err(|e| self.err(e))?;
        Ok(cursor)
    }

    fn forward_pending(&self, cursor: &Cursor, limit: u32) -> StoreResult<Vec<Message>> {
        let conn = self.reader();
        let mut out = Vec::new();
        {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, time, actor, action, target, detail FROM audit
                     WHERE id > ?1 ORDER BY id LIMIT ?2",
                )
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![cursor.audit_after, limit], |r| {
                    let id: i64 = r.get(0)?;
                    Ok(Message {
                        id: format!("audit-{id}"),
                        source: Source::Audit,
                        row: id,
                        time: r.get(1)?,
                        severity: AUDIT_SEVERITY,
                        host: None,
                        body: json!({
                            "actor": r.get::<_, String>(2)?,
                            "action": r.get::<_, String>(3)?,
                            "target": r.get::<_, String>(4)?,
                            "detail": r.get::<_, String>(5)?,
                        }),
                    })
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                out.push(row.map_err(|e| self.err(e))?);
            }
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT a.id, a.received_at, a.severity, a.host_id, h.hostname, h.label,
                        h.department, e.body
                 FROM alerts a
                 JOIN hosts h ON h.id = a.host_id
                 LEFT JOIN events e ON e.host_id = a.host_id AND e.seq = a.seq
                 WHERE a.id > ?1 ORDER BY a.id LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![cursor.alert_after, limit], |r| {
                let id: i64 = r.get(0)?;
                let severity: Option<String> = r.get(2)?;
                let hostname: String = r.get(4)?;
                let body: Option<String> = r.get(7)?;
                // The terminal's own words, kept as they came if they are not JSON.
                let alert = body
                    .map(|b| {
                        serde_json::from_str::<Value>(&b)
                            .map(|v| v.get("data").cloned().unwrap_or(v))
                            .unwrap_or(Value::String(b))
                    })
                    .unwrap_or(Value::Null);
                Ok(Message {
                    id: format!("alert-{id}"),
                    source: Source::Alert,
                    row: id,
                    time: r.get(1)?,
                    severity: alert_severity(severity.as_deref()),
                    host: Some(hostname.clone()),
                    body: json!({
                        "host_id": r.get::<_, String>(3)?,
                        "hostname": hostname,
                        "label": r.get::<_, String>(5)?,
                        "department": r.get::<_, String>(6)?,
                        "severity": severity,
                        "alert": alert,
                    }),
                })
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            out.push(row.map_err(|e| self.err(e))?);
        }
        out.sort_by_key(|m| m.time);
        Ok(out)
    }

    fn forward_advance(&self, sink: &str, cursor: &Cursor) -> StoreResult<()> {
        let conn = self.writer();
        conn.execute(
            "UPDATE forward_sinks SET audit_after = ?2, alert_after = ?3, updated_at = ?4
             WHERE name = ?1",
            params![
                sink,
                cursor.audit_after,
                cursor.alert_after,
                wardwatch_proto::now_millis()
            ],
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn forward_backlog(&self, cursor: &Cursor) -> StoreResult<i64> {
        let conn = self.reader();
        conn.query_row(
            "SELECT (SELECT COUNT(*) FROM audit WHERE id > ?1)
                  + (SELECT COUNT(*) FROM alerts WHERE id > ?2)",
            params![cursor.audit_after, cursor.alert_after],
            |r| r.get(0),
        )
        .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditStore;

    #[test]
    fn a_new_sink_starts_at_the_end_and_advances_only_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("wardwatch.db")).unwrap();
        store.audit("cli", "before", "x", "{}").unwrap();
        let at_end = store.forward_cursor("syslog tcp://a", false).unwrap();
        let from_start = store.forward_cursor("webhook https://b", true).unwrap();
        assert!(at_end.audit_after >= 1);
        assert_eq!(from_start, Cursor::default());
        store.audit("cli", "after", "y", "{}").unwrap();
        let pending = store.forward_pending(&at_end, 100).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].body["action"], "after");
        assert_eq!(pending[0].id, format!("audit-{}", at_end.audit_after + 1));
        // Not advanced: the same messages again, after a restart too.
        assert_eq!(
            store.forward_cursor("syslog tcp://a", false).unwrap(),
            at_end
        );
        let mut next = at_end;
        pending[0].advance(&mut next);
        store.forward_advance("syslog tcp://a", &next).unwrap();
        assert_eq!(store.forward_cursor("syslog tcp://a", false).unwrap(), next);
        assert!(store.forward_pending(&next, 100).unwrap().is_empty());
        assert_eq!(store.forward_backlog(&from_start).unwrap(), 2);
    }
}
