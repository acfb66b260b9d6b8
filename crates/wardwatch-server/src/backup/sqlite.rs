//! Backups in SQLite: repositories, received snapshots, policies and checks.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{BackupStore, RetentionPolicy};
use crate::audit::sqlite::audit_in;
use crate::db::{escape_like, Store, StoreResult};

/// A snapshot as the server received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedSnapshot {
    pub snapshot_id: String,
    pub received_at: i64,
    pub size: u64,
}

/// A check, drill or retention run.
#[derive(Debug, Clone, Serialize)]
pub struct BackupCheck {
    pub kind: String,
    pub at: i64,
    pub ok: bool,
    pub detail: serde_json::Value,
}

/// One host's backups at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct BackupOverview {
    pub host_id: String,
    pub hostname: String,
    pub department: String,
    pub repository_created_at: i64,
    pub snapshots: u64,
    pub last_snapshot_at: Option<i64>,
    pub last_check: Option<BackupCheck>,
    pub last_drill: Option<BackupCheck>,
    pub last_retention: Option<BackupCheck>,
    pub last_run: Option<BackupCheck>,
}

/// What the console's backup list asks for.
#[derive(Debug, Clone, Default)]
pub struct BackupQuery {
    /// Words that must each appear in the terminal's name, label or department.
    pub search: String,
    pub department: Option<String>,
    pub sort: BackupSort,
    pub descending: bool,
    pub limit: u32,
    pub offset: u32,
}

/// The orders the backup list offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackupSort {
    /// Department, then name (the default).
    #[default]
    Department,
    Name,
    /// When the last backup arrived; terminals without one count as oldest.
    LastBackup,
}

impl BackupSort {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "department" => Some(Self::Department),
            "name" => Some(Self::Name),
            "last_backup" => Some(Self::LastBackup),
            _ => None,
        }
    }
}

/// Records a terminal's report of a backup run, inside the ingest transaction.
pub(crate) fn record_run(
    tx: &rusqlite::Connection,
    host_id: &str,
    ok: bool,
    detail: &serde_json::Value,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO backup_checks (host_id, kind, at, ok, detail) VALUES (?1, 'run', ?2, ?3, ?4)",
    )?
    .execute(params![
        host_id,
        wardwatch_proto::now_millis(),
        ok,
        detail.to_string()
    ])
    .map(|_| ())
}

impl Store {
    fn last_check(&self, host_id: &str, kind: &str) -> StoreResult<Option<BackupCheck>> {
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT kind, at, ok, detail FROM backup_checks
             WHERE host_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(params![host_id, kind], |r| {
                Ok(BackupCheck {
                    kind: r.get(0)?,
                    at: r.get(1)?,
                    ok: r.get(2)?,
                    detail: serde_json::from_str(&r.get::<_, String>(3)?)
                        .unwrap_or(serde_json::Value::Null),
                })
            })
            .optional()
        })
        .map_err(|e| self.err(e))
    }
}

impl BackupStore for Store {
    fn note_repository(&self, host_id: &str, now: i64) -> StoreResult<()> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO backup_repos (host_id, created_at, terminal_keys) VALUES (?1, ?2, 1)
             ON CONFLICT(host_id) DO UPDATE SET terminal_keys = terminal_keys + 1",
            params![host_id, now],
        )
        .map_err(|e| self.err(e))?;
        audit_in(&tx, host_id, "backup.key_issued", host_id, "{}").map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn record_snapshot(
        &self,
        host_id: &str,
        snapshot_id: &str,
        size: u64,
        now: i64,
    ) -> StoreResult<()> {
        let conn = self.writer();
        conn.execute(
            "INSERT OR IGNORE INTO backup_snapshots (host_id, snapshot_id, received_at, size)
             VALUES (?1, ?2, ?3, ?4)",
            params![host_id, snapshot_id, now, size as i64],
        )
        .map(|_| ())
        .map_err(|e| self.err(e))
    }

    fn received_snapshots(&self, host_id: &str) -> StoreResult<Vec<ReceivedSnapshot>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT snapshot_id, received_at, size FROM backup_snapshots
                 WHERE host_id = ?1 AND forgotten_at IS NULL
                 ORDER BY received_at, snapshot_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([host_id], |r| {
                Ok(ReceivedSnapshot {
                    snapshot_id: r.get(0)?,
                    received_at: r.get(1)?,
                    size: r.get::<_, i64>(2)?.max(0) as u64,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn mark_forgotten(&self, host_id: &str, snapshot_ids: &[String], now: i64) -> StoreResult<()> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        for id in snapshot_ids {
            tx.execute(
                "UPDATE backup_snapshots SET forgotten_at = ?3
                 WHERE host_id = ?1 AND snapshot_id = ?2",
                params![host_id, id, now],
            )
            .map_err(|e| self.err(e))?;
        }
        let detail = serde_json::json!({ "snapshots": snapshot_ids }).to_string();
        audit_in(&tx, "server", "backup.forget", host_id, &detail).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn retention_policy(&self, department: &str) -> StoreResult<RetentionPolicy> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT keep_last, keep_daily, keep_weekly, keep_monthly, min_age_days
                 FROM backup_policies WHERE department IN (?1, '')
                 ORDER BY department DESC LIMIT 1",
            )
            .map_err(|e| self.err(e))?;
        let found = stmt
            .query_row([department], |r| {
                Ok(RetentionPolicy {
                    keep_last: r.get(0)?,
                    keep_daily: r.get(1)?,
                    keep_weekly: r.get(2)?,
                    keep_monthly: r.get(3)?,
                    min_age_days: r.get(4)?,
                })
            })
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(found.unwrap_or_default())
    }

    fn set_retention_policy(
        &self,
        department: &str,
        policy: &RetentionPolicy,
        actor: &str,
    ) -> StoreResult<()> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO backup_policies
                 (department, keep_last, keep_daily, keep_weekly, keep_monthly, min_age_days)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(department) DO UPDATE SET keep_last = ?2, keep_daily = ?3,
                 keep_weekly = ?4, keep_monthly = ?5, min_age_days = ?6",
            params![
                department,
                policy.keep_last,
                policy.keep_daily,
                policy.keep_weekly,
                policy.keep_monthly,
                policy.min_age_days
            ],
        )
        .map_err(|e| self.err(e))?;
        let detail = serde_json::json!({ "department": department, "policy": policy }).to_string();
        audit_in(&tx, actor, "backup.policy", department, &detail).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn record_check(
        &self,
        host_id: &str,
        kind: &str,
        ok: bool,
        detail: &serde_json::Value,
        now: i64,
    ) -> StoreResult<()> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO backup_checks (host_id, kind, at, ok, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![host_id, kind, now, ok, detail.to_string()],
        )
        .map(|_| ())
        .map_err(|e| self.err(e))
    }

    fn backup_overview(&self) -> StoreResult<Vec<BackupOverview>> {
        let all = BackupQuery {
            limit: u32::MAX,
            ..BackupQuery::default()
        };
        Ok(self.backup_overview_page(&all)?.0)
    }

    fn backup_overview_page(&self, query: &BackupQuery) -> StoreResult<(Vec<BackupOverview>, u64)> {
        let mut clauses = vec!["1".to_string()];
        let mut values: Vec<String> = Vec::new();
        for word in query
            .search
            .split_whitespace()
            .take(crate::list_query::MAX_WORDS)
        {
            values.push(format!("%{}%", escape_like(word)));
            let p = values.len();
            clauses.push(format!(
                "(h.hostname LIKE ?{p} ESCAPE '\\' OR IFNULL(h.label, '') LIKE ?{p} ESCAPE '\\' \
                  OR h.department LIKE ?{p} ESCAPE '\\')"
            ));
        }
        if let Some(d) = &query.department {
            values.push(d.clone());
            clauses.push(format!("h.department = ?{}", values.len()));
        }
        let matching = clauses.join(" AND ");
        let dir = if query.descending { "DESC" } else { "ASC" };
        let order = match query.sort {
            BackupSort::Department => format!("h.department {dir}, h.hostname {dir}"),
            BackupSort::Name => format!("h.hostname {dir}"),
            BackupSort::LastBackup => format!("IFNULL(last_at, 0) {dir}, h.hostname"),
        };
        let (rows, total) = {
            let conn = self.reader();
            let total: i64 = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*) FROM backup_repos r JOIN hosts h ON h.id = r.host_id
                         WHERE {matching}"
                    ),
                    rusqlite::params_from_iter(values.iter()),
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT r.host_id, h.hostname, h.department, r.created_at,
                        (SELECT COUNT(*) FROM backup_snapshots s
                          WHERE s.host_id = r.host_id AND s.forgotten_at IS NULL),
                        (SELECT MAX(received_at) FROM backup_snapshots s
                          WHERE s.host_id = r.host_id AND s.forgotten_at IS NULL) AS last_at
                     FROM backup_repos r JOIN hosts h ON h.id = r.host_id
                     WHERE {matching}
                     ORDER BY {order} LIMIT {} OFFSET {}",
                    query.limit, query.offset
                ))
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values.iter()), |r| {
                    Ok(BackupOverview {
                        host_id: r.get(0)?,
                        hostname: r.get(1)?,
                        department: r.get(2)?,
                        repository_created_at: r.get(3)?,
                        snapshots: r.get::<_, i64>(4)?.max(0) as u64,
                        last_snapshot_at: r.get(5)?,
                        last_check: None,
                        last_drill: None,
                        last_retention: None,
                        last_run: None,
                    })
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| self.err(e))?;
            (rows, total.max(0) as u64)
        };
        let rows = rows
            .into_iter()
            .map(|mut o| {
                o.last_check = self.last_check(&o.host_id, "check")?;
                o.last_drill = self.last_check(&o.host_id, "drill")?;
                o.last_retention = self.last_check(&o.host_id, "retention")?;
                o.last_run = self.last_check(&o.host_id, "run")?;
                Ok(o)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((rows, total))
    }

    fn repository_hosts(&self) -> StoreResult<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT host_id FROM backup_repos ORDER BY host_id")
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))
    }

    fn backup_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let conn = self.reader();
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    fn set_backup_setting_once(&self, key: &str, value: &str, actor: &str) -> StoreResult<bool> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(|e| self.err(e))?;
        if inserted == 1 {
            audit_in(&tx, actor, "setting.set_once", key, "{}").map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(inserted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_with_hosts;

    #[test]
    fn the_backup_list_is_searched_sorted_and_paged_with_its_total() {
        let (_dir, store) = store_with_hosts(&[
            ("h-a", "ward-a"),
            ("h-b", "ward-b"),
            ("h-c", "lab-c"),
            ("h-d", "no-repo"),
        ]);
        for (host, snapshot_at) in [("h-a", Some(3_000)), ("h-b", None), ("h-c", Some(1_000))] {
            store.note_repository(host, 100).unwrap();
            if let Some(at) = snapshot_at {
                let id = format!("{host:0>64}");
                store.record_snapshot(host, &id, 10, at).unwrap();
            }
        }
        store
            .record_check(
                "h-c",
                "check",
                false,
                &serde_json::json!({"error": "pack missing"}),
                2_000,
            )
            .unwrap();
        let page = |q: BackupQuery| store.backup_overview_page(&q).unwrap();
        let names = |rows: &[BackupOverview]| -> Vec<String> {
            rows.iter().map(|o| o.hostname.clone()).collect()
        };
        // Oldest backup first: the terminal without one, then the older one.
        let oldest = page(BackupQuery {
            sort: BackupSort::LastBackup,
            limit: 2,
            ..BackupQuery::default()
        });
        assert_eq!(oldest.1, 3, "only terminals with a repository");
        assert_eq!(names(&oldest.0), ["ward-b", "lab-c"]);
        assert!(
            oldest.0[1].last_check.as_ref().is_some_and(|c| !c.ok),
            "checks come with the page"
        );
        let rest = page(BackupQuery {
            sort: BackupSort::LastBackup,
            limit: 2,
            offset: 2,
            ..BackupQuery::default()
        });
        assert_eq!(names(&rest.0), ["ward-a"]);
        let found = page(BackupQuery {
            search: "WARD-".into(),
            sort: BackupSort::Name,
            descending: true,
            limit: 10,
            ..BackupQuery::default()
        });
        assert_eq!(
            (names(&found.0), found.1),
            (vec!["ward-b".to_string(), "ward-a".to_string()], 2)
        );
        let wildcard = page(BackupQuery {
            search: "_".into(),
            limit: 10,
            ..BackupQuery::default()
        });
        assert_eq!(
            wildcard.1, 0,
            "LIKE's wildcards are searched for as they are"
        );
        assert_eq!(store.backup_overview().unwrap().len(), 3);
    }
}
