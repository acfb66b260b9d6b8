//! Commands for terminals: the server cannot reach a terminal, so the console queues a
//! command here and the terminal takes it when it next polls, runs it and reports the
//! result. Queuing and finishing a command are written to the audit record.
//!
//! A terminal's quarantine is read from the audit record too: every vault action of a
//! terminal arrives there (`quarantine.add`, `.restore`, `.delete`), so the files still
//! held are those added and not restored or deleted since.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use wardwatch_proto::{Command, CommandOutcome};

use super::CommandStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreError, StoreResult};

/// A command taken but not finished after this long is offered again (the terminal may
/// have restarted while running it).
pub const COMMAND_RETRY_MILLIS: i64 = 10 * 60 * 1000;

/// A command as stored.
#[derive(Debug, Clone, Serialize)]
pub struct HostCommand {
    pub id: i64,
    pub host_id: String,
    pub kind: String,
    pub args: serde_json::Value,
    pub created_by: String,
    pub created_at: i64,
    pub picked_at: Option<i64>,
    pub done_at: Option<i64>,
    pub ok: Option<bool>,
    pub result: Option<serde_json::Value>,
}

/// What a terminal is told to do: no more than it needs.
pub use wardwatch_proto::PendingCommand;

/// A file a terminal holds in its quarantine vault, as its audit entries describe it.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedFile {
    pub id: String,
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub detections: Vec<String>,
    pub quarantined_at: i64,
}

/// Stored JSON text back to a value; text that is not JSON is kept as a string.
fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

impl CommandStore for Store {
    fn create_command(
        &self,
        host_id: &str,
        command: &Command,
        actor: &str,
        now: i64,
    ) -> StoreResult<HostCommand> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let kind = command.kind().as_str();
        let args = command.args();
        let args_text = args.to_string();
        tx.execute(
            "INSERT INTO host_commands (host_id, kind, args, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![host_id, kind, args_text, actor, now],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        let detail = serde_json::json!({ "id": id, "kind": kind, "args": args }).to_string();
        audit_in(&tx, actor, "command.create", host_id, &detail).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        drop(conn);
        self.query_commands("c.id = ?1", params![id], 1)?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt(format!("command {id} vanished")))
    }

    fn host_commands(&self, host_id: &str, limit: u32) -> StoreResult<Vec<HostCommand>> {
        self.query_commands("c.host_id = ?1", params![host_id], limit)
    }

    fn take_commands(&self, host_id: &str, now: i64) -> StoreResult<Vec<PendingCommand>> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let pending = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, kind, args FROM host_commands
                     WHERE host_id = ?1 AND done_at IS NULL
                       AND (picked_at IS NULL OR picked_at <= ?2)
                     ORDER BY id",
                )
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![host_id, now - COMMAND_RETRY_MILLIS], |r| {
                    Ok(PendingCommand {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        args: json_value(&r.get::<_, String>(2)?),
                    })
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| self.err(e))?;
            rows
        };
        for command in &pending {
            tx.execute(
                "UPDATE host_commands SET picked_at = ?2 WHERE id = ?1",
                params![command.id, now],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(pending)
    }

    fn finish_command(
        &self,
        host_id: &str,
        id: i64,
        outcome: &CommandOutcome,
        now: i64,
    ) -> StoreResult<bool> {
        let CommandOutcome { ok, result } = outcome;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let kind: Option<String> = tx
            .query_row(
                "SELECT kind FROM host_commands
                 WHERE id = ?1 AND host_id = ?2 AND done_at IS NULL",
                params![id, host_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(kind) = kind else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE host_commands SET done_at = ?2, ok = ?3, result = ?4,
                 picked_at = IFNULL(picked_at, ?2)
             WHERE id = ?1",
            params![id, now, ok, result.to_string()],
        )
        .map_err(|e| self.err(e))?;
        let detail =
            serde_json::json!({ "id": id, "kind": kind, "ok": ok, "result": result }).to_string();
        audit_in(
            &tx,
            &format!("host {host_id}"),
            "command.done",
            host_id,
            &detail,
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    fn host_quarantine(&self, host_id: &str) -> StoreResult<Vec<QuarantinedFile>> {
        let conn = self.reader();
        let actor_prefix = format!("host {host_id}: ");
        let mut stmt = conn
            .prepare_cached(
                "SELECT time, action, target, detail FROM audit
                 WHERE action IN ('quarantine.add', 'quarantine.restore', 'quarantine.delete')
                   AND substr(actor, 1, length(?1)) = ?1
                 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([&actor_prefix], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let mut held: BTreeMap<String, QuarantinedFile> = BTreeMap::new();
        for (time, action, target, detail) in rows {
            // Entries from the terminal are its own word; one without an id is skipped.
            let detail = json_value(&detail);
            let Some(id) = detail.get("id").and_then(|v| v.as_str()) else {
                continue;
            };
            if action != "quarantine.add" {
                held.remove(id);
                continue;
            }
            let text = |key: &str| {
                detail
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let detections = detail
                .get("detections")
                .and_then(|v| v.as_array())
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            held.insert(
                id.to_owned(),
                QuarantinedFile {
                    id: id.to_owned(),
                    path: target,
                    sha256: text("sha256"),
                    size: detail.get("size").and_then(|v| v.as_u64()).unwrap_or(0),
                    detections,
                    quarantined_at: time,
                },
            );
        }
        let mut files: Vec<_> = held.into_values().collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.quarantined_at));
        Ok(files)
    }
}

impl Store {
    pub(crate) fn query_commands(
        &self,
        filter: &str,
        values: &[&dyn rusqlite::ToSql],
        limit: u32,
    ) -> StoreResult<Vec<HostCommand>> {
        let conn = self.reader();
        let sql = format!(
            "SELECT c.id, c.host_id, c.kind, c.args, c.created_by, c.created_at, c.picked_at,
                    c.done_at, c.ok, c.result
             FROM host_commands c WHERE {filter} ORDER BY c.id DESC LIMIT {limit}"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(values, |r| {
                Ok(HostCommand {
                    id: r.get(0)?,
                    host_id: r.get(1)?,
                    kind: r.get(2)?,
                    args: json_value(&r.get::<_, String>(3)?),
                    created_by: r.get(4)?,
                    created_at: r.get(5)?,
                    picked_at: r.get(6)?,
                    done_at: r.get(7)?,
                    ok: r.get(8)?,
                    result: r.get::<_, Option<String>>(9)?.as_deref().map(json_value),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use crate::audit::AuditStore;
    use crate::commands::CommandStore;
    use serde_json::json;
    use wardwatch_proto::{Command, CommandOutcome, ScanArgs};

    use crate::testing::store_with_hosts;

    fn outcome(ok: bool, result: serde_json::Value) -> CommandOutcome {
        CommandOutcome { ok, result }
    }

    #[test]
    fn a_command_is_taken_once_finished_by_its_host_only_and_audited() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward-a"), ("h-2", "ward-b")]);
        let created = store
            .create_command("h-1", &Command::Scan(ScanArgs::default()), "alice", 1_000)
            .unwrap();
        assert_eq!(created.kind, "scan");
        assert!(store.take_commands("h-2", 1_000).unwrap().is_empty());
        let taken = store.take_commands("h-1", 2_000).unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].id, created.id);
        assert!(store.take_commands("h-1", 3_000).unwrap().is_empty());
        // Not finished after ten minutes: offered again.
        let again = store
            .take_commands("h-1", 2_000 + super::COMMAND_RETRY_MILLIS)
            .unwrap();
        assert_eq!(again.len(), 1);

        assert!(!store
            .finish_command("h-2", created.id, &outcome(true, json!({})), 4_000)
            .unwrap());
        assert!(store
            .finish_command(
                "h-1",
                created.id,
                &outcome(true, json!({ "infected": 1 })),
                4_000
            )
            .unwrap());
        assert!(!store
            .finish_command("h-1", created.id, &outcome(false, json!("again")), 5_000)
            .unwrap());
        let listed = store.host_commands("h-1", 10).unwrap();
        assert_eq!(listed[0].ok, Some(true));
        assert_eq!(listed[0].result, Some(json!({ "infected": 1 })));
        assert!(store.take_commands("h-1", 10_000_000).unwrap().is_empty());

        let actions: Vec<_> = store
            .audit_entries(10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"command.create".to_owned()));
        assert!(actions.contains(&"command.done".to_owned()));
        assert_eq!(store.audit_verify().unwrap(), None);
    }

    #[test]
    fn the_quarantine_holds_files_added_and_not_restored_or_deleted() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward-a"), ("h-2", "ward-b")]);
        let add = |host: &str, id: &str, path: &str| {
            let detail = json!({ "id": id, "sha256": "ab", "size": 68, "detections": ["EICAR"] });
            store
                .audit(
                    &format!("host {host}: agent"),
                    "quarantine.add",
                    path,
                    &detail.to_string(),
                )
                .unwrap();
        };
        add("h-1", "a-1", "/tmp/one");
        add("h-1", "a-2", "/tmp/two");
        add("h-2", "b-1", "/tmp/other");
        store
            .audit(
                "host h-1: console",
                "quarantine.restore",
                "/tmp/one",
                &json!({ "id": "a-1" }).to_string(),
            )
            .unwrap();
        let files = store.host_quarantine("h-1").unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].id, "a-2");
        assert_eq!(files[0].path, "/tmp/two");
        assert_eq!(files[0].size, 68);
        assert_eq!(files[0].detections, vec!["EICAR".to_owned()]);
        // A host whose id is a prefix of another's sees only its own files.
        assert!(store.host_quarantine("h-").unwrap().is_empty());
    }
}
