//! The `evidence` table, and the `file.fetch` commands it answers.

use rusqlite::{params, OptionalExtension};

use super::{EvidenceRecord, EvidenceStore};
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreResult};

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<EvidenceRecord> {
    Ok(EvidenceRecord {
        id: r.get(0)?,
        host_id: r.get(1)?,
        command_id: r.get(2)?,
        path: r.get(3)?,
        size: r.get(4)?,
        sha256: r.get(5)?,
        stored_at: r.get(6)?,
        requested_by: r.get(7)?,
    })
}

const SELECT: &str = "SELECT e.id, e.host_id, e.command_id, e.path, e.size, e.sha256, e.stored_at,
        c.created_by FROM evidence e JOIN host_commands c ON c.id = e.command_id";

impl EvidenceStore for Store {
    fn evidence_request(
        &self,
        host_id: &str,
        command_id: i64,
    ) -> StoreResult<Option<wardwatch_proto::FetchFileArgs>> {
        let conn = self.reader();
        let args: Option<String> = conn
            .query_row(
                "SELECT c.args FROM host_commands c
                 WHERE c.id = ?1 AND c.host_id = ?2 AND c.kind = 'file.fetch' AND c.done_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.command_id = c.id)",
                params![command_id, host_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(args.and_then(|a| serde_json::from_str(&a).ok()))
    }

    fn record_evidence(
        &self,
        host_id: &str,
        command_id: i64,
        path: &str,
        size: i64,
        sha256: &str,
    ) -> StoreResult<EvidenceRecord> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let now = wardwatch_proto::now_millis();
        tx.execute(
            "INSERT INTO evidence (host_id, command_id, path, size, sha256, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![host_id, command_id, path, size, sha256, now],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        let detail = serde_json::json!({
            "command": command_id, "path": path, "size": size, "sha256": sha256,
        })
        .to_string();
        audit_in(
            &tx,
            &format!("host {host_id}"),
            "evidence.store",
            path,
            &detail,
        )
        .map_err(|e| self.err(e))?;
        let stored = tx
            .query_row(&format!("{SELECT} WHERE e.id = ?1"), [id], record)
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(stored)
    }

    fn host_evidence(&self, host_id: &str, limit: u32) -> StoreResult<Vec<EvidenceRecord>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "{SELECT} WHERE e.host_id = ?1 ORDER BY e.id DESC LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![host_id, limit], record)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn evidence_known(&self, sha256: &str) -> StoreResult<bool> {
        let conn = self.reader();
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM evidence WHERE sha256 = ?1)",
            [sha256],
            |r| r.get(0),
        )
        .map_err(|e| self.err(e))
    }
}
