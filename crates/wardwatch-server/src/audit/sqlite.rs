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

use super::chain::entry_hash;
pub use super::chain::GENESIS_HASH;
use super::checkpoint::{
    self, content_digest, Checkpoint, CheckpointInput, SignedCheckpoint, VerifiedCheckpoint,
    CHECKPOINT_ACTION, MAX_CHECKPOINT_ENTRIES,
};
use super::verify::{AuditBreak, ChainStart, ChainedEntry, Verifier, VerifyReport};
use super::AuditStore;
use crate::db::{Store, StoreError, StoreResult};
use wardwatch_bundle::keys::SigningKey;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
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
    let sequence = sequence(conn)?;
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

impl AuditStore for Store {
    fn audit_checkpoint(
        &self,
        key: &SigningKey,
        actor: &str,
    ) -> StoreResult<Option<SignedCheckpoint>> {
        let conn = self.writer();
        make_checkpoint(&conn, key, actor).map_err(|e| match e {
            CheckpointFailure::Sql(e) => self.err(e),
            broken => StoreError::Corrupt(broken.to_string()),
        })
    }

    fn audit_checkpoints(&self, after_seq: u64, limit: u32) -> StoreResult<Vec<(u64, String)>> {
        let conn = self.reader();
        let seq_of = |line: &str| {
            SignedCheckpoint::from_line(line)
                .and_then(|s| s.unverified())
                .map(|c| c.seq)
        };
        // Newest first, to the first one already known: usually none or one is read.
        let mut start_id = None;
        {
            let mut stmt = conn
                .prepare_cached("SELECT id, detail FROM audit WHERE action = ?1 ORDER BY id DESC")
                .map_err(|e| self.err(e))?;
            let mut rows = stmt.query([CHECKPOINT_ACTION]).map_err(|e| self.err(e))?;
            while let Some(r) = rows.next().map_err(|e| self.err(e))? {
                let line: String = r.get(1).map_err(|e| self.err(e))?;
                match seq_of(&line) {
                    Ok(seq) if seq <= after_seq => break,
                    // A line that cannot be read is passed over here; `audit verify` names it.
                    _ => start_id = Some(r.get::<_, i64>(0).map_err(|e| self.err(e))?),
                }
            }
        }
        let Some(start_id) = start_id else {
            return Ok(Vec::new());
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT detail FROM audit WHERE action = ?1 AND id >= ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![CHECKPOINT_ACTION, start_id, limit])
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let line: String = r.get(0).map_err(|e| self.err(e))?;
            if let Ok(seq) = seq_of(&line) {
                if seq > after_seq {
                    out.push((seq, line));
                }
            }
        }
        Ok(out)
    }

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
    /// Checks the whole chain alone: `None` when every entry holds, else the first that
    /// does not. Someone who can write to the database can recompute the chain; only
    /// [`Store::audit_verify_with`] and exported checkpoints find that.
    pub fn audit_verify(&self) -> StoreResult<Option<AuditBreak>> {
        Ok(self.audit_verify_with(Vec::new())?.problem)
    }

    /// Checks every entry against the chain and the given checkpoints (their signatures
    /// already checked).
    pub fn audit_verify_with(
        &self,
        checkpoints: Vec<VerifiedCheckpoint>,
    ) -> StoreResult<VerifyReport> {
        let mut verifier = Verifier::new(checkpoints, ChainStart::Genesis);
        self.audit_for_each(i64::MIN, i64::MAX, &mut |e| {
            verifier.push(e);
            Ok(())
        })?;
        let sequence = self.audit_sequence()?;
        Ok(verifier.finish(Some(sequence)))
    }

    /// Calls `f` with every entry whose id is in `from..=to`, in id order, with its hashes.
    pub fn audit_for_each(
        &self,
        from: i64,
        to: i64,
        f: &mut dyn FnMut(&ChainedEntry) -> std::io::Result<()>,
    ) -> StoreResult<()> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare(
                "SELECT id, time, actor, action, target, detail, prev_hash, hash FROM audit
                 WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![from, to]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let entry = chained_entry(r).map_err(|e| self.err(e))?;
            f(&entry)
                .map_err(|e| StoreError::Corrupt(format!("while reading the audit record: {e}")))?;
        }
        Ok(())
    }

    /// The first and last entry recorded within `from..=to` (milliseconds), if any.
    pub fn audit_ids_between(&self, from: i64, to: i64) -> StoreResult<Option<(i64, i64)>> {
        let conn = self.reader();
        let ids: (Option<i64>, Option<i64>) = conn
            .query_row(
                "SELECT (SELECT MIN(id) FROM audit WHERE time >= ?1),
                        (SELECT MAX(id) FROM audit WHERE time <= ?2)",
                params![from, to],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        Ok(match ids {
            (Some(a), Some(b)) if a <= b => Some((a, b)),
            _ => None,
        })
    }

    /// Appends many entries in one transaction (an import, the benchmark): one sync to
    /// disk instead of one per entry.
    pub fn audit_batch(&self, entries: &[(&str, &str, &str, &str)]) -> StoreResult<()> {
        let conn = self.writer();
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        for (actor, action, target, detail) in entries {
            append_in_transaction(&tx, actor, action, target, detail).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// The highest id the database ever gave an audit entry.
    pub fn audit_sequence(&self) -> StoreResult<i64> {
        let conn = self.reader();
        sequence(&conn).map_err(|e| self.err(e))
    }
}

fn chained_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChainedEntry> {
    Ok(ChainedEntry {
        id: r.get(0)?,
        time: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        detail: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// The highest id the database ever gave an audit entry (0 before the first).
fn sequence(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)")?
        .query_row([], |r| r.get(0))
}

/// The newest checkpoint recorded in the database, read without its signature checked
/// (it is the server's own, to chain the next one to).
fn last_checkpoint(conn: &Connection) -> rusqlite::Result<Option<(Checkpoint, String)>> {
    let detail: Option<String> = conn
        .prepare_cached("SELECT detail FROM audit WHERE action = ?1 ORDER BY id DESC LIMIT 1")?
        .query_row([CHECKPOINT_ACTION], |r| r.get(0))
        .optional()?;
    let Some(detail) = detail else {
        return Ok(None);
    };
    let signed = SignedCheckpoint::from_line(&detail).map_err(to_sql_error)?;
    let checkpoint = signed.unverified().map_err(to_sql_error)?;
    let payload_hash = hex::encode(Sha256::digest(signed.payload.as_bytes()));
    Ok(Some((checkpoint, payload_hash)))
}

fn to_sql_error(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        format!("the last checkpoint in the audit record cannot be read ({e}); run `wardwatch audit verify`").into(),
    )
}

/// Makes the next checkpoint, over at most [`MAX_CHECKPOINT_ENTRIES`] entries after the
/// last one, and records it as an entry; `None` when nothing but checkpoints was written
/// since. Refuses to sign over entries whose chain does not hold.
fn make_checkpoint(
    conn: &Connection,
    key: &SigningKey,
    actor: &str,
) -> Result<Option<SignedCheckpoint>, CheckpointFailure> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let last = last_checkpoint(&tx)?;
    let (seq, after, prev_hash, prev_checkpoint) = match &last {
        Some((c, payload_hash)) => (
            c.seq + 1,
            c.last_id,
            c.head_hash.clone(),
            payload_hash.clone(),
        ),
        None => (1, 0, GENESIS_HASH.to_string(), String::new()),
    };
    let pending: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM audit WHERE id > ?1 AND action != ?2)")?
        .query_row(params![after, CHECKPOINT_ACTION], |r| r.get(0))?;
    if !pending {
        return Ok(None);
    }
    let mut entries = Vec::new();
    // The same chain check as `audit verify`, from the last checkpoint's head.
    let mut chain = Verifier::new(
        Vec::new(),
        ChainStart::After {
            prev_hash: prev_hash.clone(),
        },
    );
    let mut head = String::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT id, time, actor, action, target, detail, prev_hash, hash FROM audit
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![after, MAX_CHECKPOINT_ENTRIES as i64])?;
        while let Some(r) = rows.next()? {
            let e = chained_entry(r)?;
            chain.push(&e);
            head = e.hash.clone().unwrap_or_default();
            entries.push((
                e.id,
                content_digest(e.time, &e.actor, &e.action, &e.target, &e.detail),
            ));
        }
    }
    if let Some(broken) = chain.finish(None).problem {
        return Err(CheckpointFailure::Broken(broken.id));
    }
    let signed = checkpoint::sign(
        key,
        &CheckpointInput {
            seq,
            time: wardwatch_proto::now_millis(),
            prev_hash: &prev_hash,
            head_hash: &head,
            prev_checkpoint: &prev_checkpoint,
            entries: &entries,
        },
    );
    let first = entries.first().map_or(0, |e| e.0);
    let last_id = entries.last().map_or(0, |e| e.0);
    append(
        &tx,
        actor,
        CHECKPOINT_ACTION,
        &format!("checkpoint {seq}: entries {first} to {last_id}"),
        &signed.to_line(),
    )?;
    tx.commit()?;
    Ok(Some(signed))
}

/// Why no checkpoint could be made.
#[derive(Debug, thiserror::Error)]
enum CheckpointFailure {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("audit entry {0} does not hold (its chain is broken); no checkpoint is signed over it: run `wardwatch audit verify`")]
    Broken(i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::BreakKind;

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

    fn checkpointed_store(n: usize) -> (tempfile::TempDir, Store, SigningKey, Vec<String>) {
        let (dir, store) = store_with_entries(n);
        let key = SigningKey::from_seed(wardwatch_bundle::keys::KeyId([1; 8]), &[2; 32]).unwrap();
        let mut lines = Vec::new();
        while let Some(c) = store.audit_checkpoint(&key, "server").unwrap() {
            lines.push(c.to_line());
        }
        (dir, store, key, lines)
    }

    fn verified(lines: &[String], key: &SigningKey) -> Vec<VerifiedCheckpoint> {
        lines
            .iter()
            .map(|l| {
                SignedCheckpoint::from_line(l)
                    .unwrap()
                    .verify(key.public_key())
                    .unwrap()
            })
            .collect()
    }

    /// What an attacker with the database does after a change: every hash again, in id
    /// order, so that the chain alone holds.
    fn recompute_chain(conn: &Connection) {
        let rows: Vec<(i64, i64, String, String, String, String)> = conn
            .prepare("SELECT id, time, actor, action, target, detail FROM audit ORDER BY id")
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut prev = GENESIS_HASH.to_string();
        for (id, time, actor, action, target, detail) in rows {
            let canonical = serde_json::json!([prev, id, time, actor, action, target, detail]);
            let hash = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
            conn.execute(
                "UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
                params![id, prev, hash],
            )
            .unwrap();
            prev = hash;
        }
    }

    fn tampered(sql: &str) -> (Option<AuditBreak>, AuditBreak) {
        let (dir, store, key, lines) = checkpointed_store(8);
        assert!(store
            .audit_verify_with(verified(&lines, &key))
            .unwrap()
            .holds());
        let conn = tamper(&dir);
        conn.execute_batch(sql).unwrap();
        recompute_chain(&conn);
        let chain_only = store.audit_verify().unwrap();
        let report = store.audit_verify_with(verified(&lines, &key)).unwrap();
        (chain_only, report.problem.expect("the checkpoints find it"))
    }

    #[test]
    fn checkpoints_name_an_edit_the_chain_alone_misses() {
        let (chain_only, b) = tampered("UPDATE audit SET target = 'nothing' WHERE id = 3");
        assert_eq!(chain_only, None, "a recomputed chain holds on its own");
        assert_eq!((b.id, b.kind), (3, BreakKind::Edited), "{b}");
    }

    #[test]
    fn checkpoints_name_a_removed_entry() {
        let (_, b) = tampered("DELETE FROM audit WHERE id = 4");
        assert_eq!((b.id, b.kind), (4, BreakKind::Removed), "{b}");
        // Removed and the later ones renumbered to close the gap.
        let (_, b) =
            tampered("DELETE FROM audit WHERE id = 4; UPDATE audit SET id = id - 1 WHERE id > 4;");
        assert_eq!((b.id, b.kind), (4, BreakKind::Removed), "{b}");
    }

    #[test]
    fn checkpoints_name_an_inserted_entry() {
        let (_, b) = tampered(
            "UPDATE audit SET id = id + 100 WHERE id >= 5;
             UPDATE audit SET id = id - 99 WHERE id >= 105;
             INSERT INTO audit (id, time, actor, action, target, detail)
               VALUES (5, 1, 'admin alice', 'test.action', 'made up', '{}');",
        );
        assert_eq!((b.id, b.kind), (5, BreakKind::Inserted), "{b}");
    }

    #[test]
    fn checkpoints_name_reordered_entries() {
        let (_, b) = tampered(
            "UPDATE audit SET id = -2 WHERE id = 2;
             UPDATE audit SET id = 2 WHERE id = 6;
             UPDATE audit SET id = 6 WHERE id = -2;",
        );
        assert_eq!((b.id, b.kind), (2, BreakKind::Reordered), "{b}");
    }

    #[test]
    fn a_removed_tail_is_found_even_with_the_sequence_rewound() {
        let (dir, store, key, lines) = checkpointed_store(5);
        let conn = tamper(&dir);
        // The checkpoint entry itself is the last; remove two before it as well.
        conn.execute_batch(
            "DELETE FROM audit WHERE id >= 4;
             UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit';",
        )
        .unwrap();
        assert_eq!(
            store.audit_verify().unwrap(),
            None,
            "the chain alone cannot tell"
        );
        let b = store
            .audit_verify_with(verified(&lines, &key))
            .unwrap()
            .problem
            .expect("found");
        assert_eq!((b.id, b.kind), (4, BreakKind::Removed), "{b}");
    }

    #[test]
    fn checkpoints_chain_to_each_other_and_skip_a_quiet_record() {
        let (_dir, store, key, lines) = checkpointed_store(3);
        assert_eq!(lines.len(), 1);
        // Only the checkpoint's own entry is new: no second checkpoint.
        assert!(store.audit_checkpoint(&key, "server").unwrap().is_none());
        store.audit("cli", "more", "x", "{}").unwrap();
        let second = store.audit_checkpoint(&key, "server").unwrap().unwrap();
        let all = verified(&[lines[0].clone(), second.to_line()], &key);
        assert_eq!(all[1].checkpoint.seq, 2);
        assert_eq!(
            all[1].checkpoint.first_id, 4,
            "it covers the first checkpoint's entry too"
        );
        assert_eq!(all[1].checkpoint.prev_checkpoint, all[0].payload_hash);
        let report = store.audit_verify_with(all).unwrap();
        assert!(report.holds(), "{report:?}");
        assert_eq!(report.uncovered, 1, "the second checkpoint's own entry");
        let listed = store.audit_checkpoints(1, 10).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, 2);
    }

    #[test]
    fn no_checkpoint_is_signed_over_a_broken_chain() {
        let (dir, store) = store_with_entries(3);
        tamper(&dir)
            .execute("UPDATE audit SET target = 'nothing' WHERE id = 2", [])
            .unwrap();
        let key = SigningKey::from_seed(wardwatch_bundle::keys::KeyId([1; 8]), &[2; 32]).unwrap();
        let e = store.audit_checkpoint(&key, "server").unwrap_err();
        assert!(e.to_string().contains("audit entry 2 does not hold"), "{e}");
    }
}
