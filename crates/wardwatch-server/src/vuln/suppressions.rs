//! Accepted risks: a finding hidden from the open lists, for one host or every host, with a
//! reason and an expiry date, by a console account whose role allows it. Creating and
//! lifting one are written to the audit record; an expired one simply stops applying.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::SuppressionStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreError, StoreResult};

/// A suppression as asked for.
#[derive(Debug, Clone)]
pub struct NewSuppression {
    /// An advisory id or a CVE id.
    pub advisory: String,
    /// `None`: every host.
    pub host_id: Option<String>,
    pub reason: String,
    pub expires_at: i64,
}

/// A suppression as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    pub id: i64,
    pub advisory: String,
    pub host_id: Option<String>,
    pub host_label: Option<String>,
    pub hostname: Option<String>,
    pub reason: String,
    pub expires_at: i64,
    pub created_by: String,
    pub role: String,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<String>,
    /// Neither lifted nor expired.
    pub active: bool,
}

impl SuppressionStore for Store {
    fn create_suppression(
        &self,
        new: &NewSuppression,
        actor: &str,
        role: &str,
        now: i64,
    ) -> StoreResult<Suppression> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO suppressions (advisory, host_id, reason, expires_at, created_by, role,
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                new.advisory,
                new.host_id,
                new.reason,
                new.expires_at,
                actor,
                role,
                now
            ],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        let detail = serde_json::json!({
            "id": id,
            "host": new.host_id,
            "reason": new.reason,
            "expires_at": new.expires_at,
            "role": role,
        })
        .to_string();
        audit_in(&tx, actor, "finding.suppress", &new.advisory, &detail)
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        drop(conn);
        self.suppression(id, now)?
            .ok_or_else(|| StoreError::Corrupt(format!("suppression {id} vanished")))
    }

    fn lift_suppression(&self, id: i64, actor: &str, now: i64) -> StoreResult<bool> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let advisory: Option<String> = tx
            .query_row(
                "SELECT advisory FROM suppressions WHERE id = ?1 AND lifted_at IS NULL",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(advisory) = advisory else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE suppressions SET lifted_at = ?2, lifted_by = ?3 WHERE id = ?1",
            params![id, now, actor],
        )
        .map_err(|e| self.err(e))?;
        let detail = serde_json::json!({ "id": id }).to_string();
        audit_in(&tx, actor, "finding.unsuppress", &advisory, &detail).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    fn suppressions(&self, now: i64) -> StoreResult<Vec<Suppression>> {
        self.query_suppressions("1", params![now])
    }
}

impl Store {
    fn suppression(&self, id: i64, now: i64) -> StoreResult<Option<Suppression>> {
        Ok(self
            .query_suppressions("s.id = ?2", params![now, id])?
            .into_iter()
            .next())
    }

    fn query_suppressions(
        &self,
        filter: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> StoreResult<Vec<Suppression>> {
        let conn = self.reader();
        let sql = format!(
            "SELECT s.id, s.advisory, s.host_id, h.label, s.reason, s.expires_at, s.created_by,
                    s.role, s.created_at, s.lifted_at, s.lifted_by,
                    s.lifted_at IS NULL AND s.expires_at > ?1, h.hostname
             FROM suppressions s LEFT JOIN hosts h ON h.id = s.host_id
             WHERE {filter} ORDER BY s.id DESC"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(values, |r| {
                Ok(Suppression {
                    id: r.get(0)?,
                    advisory: r.get(1)?,
                    host_id: r.get(2)?,
                    host_label: r.get(3)?,
                    reason: r.get(4)?,
                    expires_at: r.get(5)?,
                    created_by: r.get(6)?,
                    role: r.get(7)?,
                    created_at: r.get(8)?,
                    lifted_at: r.get(9)?,
                    lifted_by: r.get(10)?,
                    active: r.get(11)?,
                    hostname: r.get(12)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}
