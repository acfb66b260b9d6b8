//! The audit record: who did what, when, to what. Append-only (triggers refuse UPDATE and
//! DELETE) and chained: each entry carries the SHA-256 of the one before it, and its own
//! hash covers that and all its fields, so an entry edited, removed or moved in the
//! database afterwards is found by [`Store::audit_verify`]. An entry is written in the
//! same transaction as the change it records, so neither exists without the other.
//!
//! The chain does not stop someone with write access to the database from rewriting it
//! from some point on; it makes that take deliberate work and leaves the rest provable.

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::AuditStore;
use crate::db::{Store, StoreResult};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Makes the table append-only. Created after existing entries were given their hashes.
pub(crate) const APPEND_ONLY_TRIGGERS: &str = r#"
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit record is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit record is append-only'); END;
"#;

/// One entry of the audit record. `detail` is free text in older entries and a JSON
/// object in newer ones.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub time: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Part of the audit record, newest first.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next, older page; absent at the start of the record.
    pub next_before: Option<i64>,
}

/// The first entry at which the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditBreak {
    /// The id of the entry that fails (for a removed tail: the first missing id).
    pub id: i64,
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry {}: {}", self.id, self.reason)
    }
}

/// SHA-256 over the previous hash and the entry's fields, as one JSON array: a canonical
/// form in which no field can bleed into its neighbour.
fn entry_hash(
    prev_hash: &str,
    id: i64,
    time: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> String {
    let canonical = serde_json::json!([prev_hash, id, time, actor, action, target, detail]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Appends an entry to the audit record, in the caller's transaction if there is one.
pub(crate) fn audit_in(
    conn: &Connection,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    append(conn, actor, action, target, detail).map(|_| ())
}

/// Appends an entry and returns its id. Outside a transaction it opens one (IMMEDIATE,
/// so that reading the last hash and appending cannot interleave with another process).
pub(crate) fn append(
    conn: &Connection,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> rusqlite::Result<i64> {
    if conn.is_autocommit() {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let id = append_in_transaction(&tx, actor, action, target, detail)?;
        tx.commit()?;
        return Ok(id);
    }
    append_in_transaction(conn, actor, action, target, detail)
}

fn append_in_transaction(
    conn: &Connection,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> rusqlite::Result<i64> {
    let last: Option<(i64, Option<String>)> = conn
        .prepare_cached("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    // The sequence also counts entries removed from the end; never reuse their ids.
    let sequence: i64 = conn
        .query_row(
            "SELECT IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let (last_id, prev_hash) = match last {
        Some((id, hash)) => (id, hash.unwrap_or_default()),
        None => (0, GENESIS_HASH.to_string()),
    };
    let id = last_id.max(sequence) + 1;
    let time = wardwatch_proto::now_millis();
    let hash = entry_hash(&prev_hash, id, time, actor, action, target, detail);
    conn.prepare_cached(
        "INSERT INTO audit (id, time, actor, action, target, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id, time, actor, action, target, detail, prev_hash, hash
    ])?;
    Ok(id)
}

/// Gives entries written before the chain existed their hashes, in id order (migration).
pub(crate) fn backfill(conn: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(i64, i64, String, String, String, String)> = {
        let mut stmt =
            conn.prepare("SELECT id, time, actor, action, target, detail FROM audit ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut prev = GENESIS_HASH.to_string();
    for (id, time, actor, action, target, detail) in rows {
        let hash = entry_hash(&prev, id, time, &actor, &action, &target, &detail);
        conn.execute(
            "UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            params![id, prev, hash],
        )?;
        prev = hash;
    }
    Ok(())
}

/// Walks the chain from the first entry; the first entry that does not hold, if any.
fn verify(conn: &Connection) -> rusqlite::Result<Option<AuditBreak>> {
    type Row = (
        i64,
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let mut stmt = conn.prepare(
        "SELECT id, time, actor, action, target, detail, prev_hash, hash FROM audit ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut last_id = 0i64;
    while let Some(r) = rows.next()? {
        let (id, time, actor, action, target, detail, prev_hash, hash): Row = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        );
        let broken = |reason: &str| {
            Ok(Some(AuditBreak {
                id,
                reason: reason.to_string(),
            }))
        };
        let (Some(prev_hash), Some(hash)) = (prev_hash, hash) else {
            return broken("the entry has no hash");
        };
        if prev_hash != expected_prev {
            return broken(if last_id == 0 {
                "the first entry does not start the chain (entries before it were removed)"
            } else {
                "the entry does not follow the one before it (an entry was removed, moved or changed)"
            });
        }
        if entry_hash(&prev_hash, id, time, &actor, &action, &target, &detail) != hash {
            return broken("the entry was changed after it was written (its hash does not match)");
        }
        expected_prev = hash;
        last_id = id;
    }
    let sequence: i64 = conn.query_row(
        "SELECT IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)",
        [],
        |r| r.get(0),
    )?;
    if sequence > last_id {
        return Ok(Some(AuditBreak {
            id: last_id + 1,
            reason: format!(
                "entries {} to {sequence} were removed from the end",
                last_id + 1
            ),
        }));
    }
    Ok(None)
}

impl AuditStore for Store {
    fn audit(&self, actor: &str, action: &str, target: &str, detail: &str) -> StoreResult<()> {
        let conn = self.writer();
        append(&conn, actor, action, target, detail)
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    fn audit_entries(&self, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        self.audit_page(limit, None, usize::MAX)
            .map(|page| page.entries)
    }

    fn audit_page(
        &self,
        limit: u32,
        before: Option<i64>,
        max_bytes: usize,
    ) -> StoreResult<AuditPage> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, time, actor, action, target, detail FROM audit
                 WHERE id < ?2 ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![limit, before.unwrap_or(i64::MAX)])
            .map_err(|e| self.err(e))?;
        let mut page = AuditPage::default();
        let mut bytes = 0usize;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let entry = AuditEntry {
                id: r.get(0).map_err(|e| self.err(e))?,
                time: r.get(1).map_err(|e| self.err(e))?,
                actor: r.get(2).map_err(|e| self.err(e))?,
                action: r.get(3).map_err(|e| self.err(e))?,
                target: r.get(4).map_err(|e| self.err(e))?,
                detail: r.get(5).map_err(|e| self.err(e))?,
            };
            bytes +=
                entry.actor.len() + entry.action.len() + entry.target.len() + entry.detail.len();
            if bytes > max_bytes && !page.entries.is_empty() {
                break;
            }
            page.entries.push(entry);
        }
        if page.entries.len() as u64 == u64::from(limit) || bytes > max_bytes {
            page.next_before = page.entries.last().map(|e| e.id);
        }
        Ok(page)
    }
}

impl Store {
    /// Checks the whole chain: `None` when every entry holds, else the first that does not.
    pub fn audit_verify(&self) -> StoreResult<Option<AuditBreak>> {
        let conn = self.reader();
        verify(&conn).map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_entries(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("wardwatch.db")).unwrap();
        for i in 0..n {
            store
                .audit("cli", "test.action", &format!("object {i}"), "{\"n\":1}")
                .unwrap();
        }
        (dir, store)
    }

    /// A raw connection with the append-only triggers dropped, as an attacker with write
    /// access to the file would have.
    fn tamper(dir: &tempfile::TempDir) -> Connection {
        let conn = Connection::open(dir.path().join("wardwatch.db")).unwrap();
        conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
            .unwrap();
        conn
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (_dir, store) = store_with_entries(5);
        assert_eq!(store.audit_verify().unwrap(), None);
        let entries = store.audit_entries(10).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[0].target, "object 4");
    }

    #[test]
    fn a_page_stops_at_its_byte_cap_and_continues_from_next_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("wardwatch.db")).unwrap();
        let big = "x".repeat(400);
        for i in 0..10 {
            store
                .audit("cli", "test.big", &format!("object {i}"), &big)
                .unwrap();
        }
        // About 420 bytes an entry: a 1,000-byte cap holds two, whatever the row limit.
        let page = store.audit_page(100, None, 1000).unwrap();
        assert_eq!(page.entries.len(), 2);
        assert_eq!(page.entries[0].target, "object 9");
        let next = page.next_before.expect("more to read");
        let rest = store.audit_page(100, Some(next), 1000).unwrap();
        assert_eq!(rest.entries[0].target, "object 7");
        // One entry larger than the cap still comes, alone.
        let one = store.audit_page(100, None, 10).unwrap();
        assert_eq!(one.entries.len(), 1);
        // The start of the record has no next page.
        let all = store.audit_page(100, None, usize::MAX).unwrap();
        assert_eq!((all.entries.len(), all.next_before), (10, None));
    }

    #[test]
    fn the_table_refuses_updates_and_deletes() {
        let (dir, _store) = store_with_entries(2);
        let conn = Connection::open(dir.path().join("wardwatch.db")).unwrap();
        let e = conn
            .execute("UPDATE audit SET actor = 'x' WHERE id = 1", [])
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = conn.execute("DELETE FROM audit", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }

    #[test]
    fn an_edited_entry_is_found() {
        let (dir, store) = store_with_entries(5);
        tamper(&dir)
            .execute("UPDATE audit SET target = 'nothing' WHERE id = 3", [])
            .unwrap();
        let b = store.audit_verify().unwrap().expect("edit found");
        assert_eq!(b.id, 3);
        assert!(b.reason.contains("changed"), "{b}");
    }

    #[test]
    fn a_removed_entry_is_found() {
        let (dir, store) = store_with_entries(5);
        tamper(&dir)
            .execute("DELETE FROM audit WHERE id = 2", [])
            .unwrap();
        let b = store.audit_verify().unwrap().expect("removal found");
        assert_eq!(b.id, 3);
        assert!(b.reason.contains("removed"), "{b}");
    }

    #[test]
    fn removed_first_and_last_entries_are_found() {
        let (dir, store) = store_with_entries(4);
        let conn = tamper(&dir);
        conn.execute("DELETE FROM audit WHERE id = 4", []).unwrap();
        let b = store.audit_verify().unwrap().expect("tail removal found");
        assert_eq!(b.id, 4);
        conn.execute("DELETE FROM audit WHERE id = 1", []).unwrap();
        let b = store.audit_verify().unwrap().expect("head removal found");
        assert_eq!(b.id, 2);
    }

    #[test]
    fn reordered_entries_are_found() {
        let (dir, store) = store_with_entries(5);
        let conn = tamper(&dir);
        // Swap entries 2 and 4 whole, hashes included.
        conn.execute_batch(
            "UPDATE audit SET id = -2 WHERE id = 2;
             UPDATE audit SET id = 2 WHERE id = 4;
             UPDATE audit SET id = 4 WHERE id = -2;",
        )
        .unwrap();
        let b = store.audit_verify().unwrap().expect("reorder found");
        assert_eq!(b.id, 2);
    }

    #[test]
    fn entries_written_before_the_chain_get_hashes_in_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wardwatch.db");
        {
            let conn = Connection::open(&path).unwrap();
            let tx = conn.unchecked_transaction().unwrap();
            tx.execute_batch(crate::db::MIGRATIONS[0]).unwrap();
            tx.execute_batch(crate::db::MIGRATIONS[1]).unwrap();
            tx.pragma_update(None, "user_version", 2).unwrap();
            for i in 0..3 {
                tx.execute(
                    "INSERT INTO audit (time, actor, action, target, detail) VALUES (?1, 'cli', 'old', 'x', 'plain text')",
                    [i],
                )
                .unwrap();
            }
            tx.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.audit_verify().unwrap(), None);
        store.audit("cli", "new", "y", "{}").unwrap();
        assert_eq!(store.audit_verify().unwrap(), None);
        assert_eq!(store.audit_entries(1).unwrap()[0].id, 4);
    }
}
