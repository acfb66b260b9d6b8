//! The overview's queries. Open findings are read through the partial indexes on
//! priority and kind (`findings_open_by_*`), so the counts cost the open findings of
//! the kinds asked for, never every finding kept for history.

use std::collections::BTreeMap;

use rusqlite::params;

use super::{day_of, DepartmentOverview, OverviewCounts, OverviewStore, RiskDay};
use crate::alerts::sqlite::in_departments;
use crate::db::{Store, StoreResult};
use crate::hosts::sqlite::ONLINE_WINDOW_MILLIS;
use crate::vuln::findings::SUPPRESSION_OF_F;

const DAY_MILLIS: i64 = 86_400_000;

/// The departments as the JSON array `in_departments` binds (NULL: the whole fleet).
fn scope_param(departments: Option<&[String]>) -> Option<String> {
    departments.map(|d| serde_json::Value::from(d.to_vec()).to_string())
}

/// Per department: hosts with an open, not accepted finding matching `condition`.
fn hosts_with(
    conn: &rusqlite::Connection,
    condition: &str,
    scope: &Option<String>,
    now: i64,
) -> rusqlite::Result<BTreeMap<String, i64>> {
    let sql = format!(
        "SELECT h.department, COUNT(DISTINCT f.host_id)
         FROM findings f JOIN hosts h ON h.id = f.host_id
         WHERE f.fixed_at IS NULL AND {condition} AND h.revoked_at IS NULL
           AND {SUPPRESSION_OF_F} IS NULL AND {}
         GROUP BY h.department",
        in_departments("f.host_id", "?2")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now, scope], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The open findings per department as they were at the end of `at` (Unix ms): those
/// first seen by then and not fixed by then.
fn risk_at(conn: &rusqlite::Connection, at: i64, open_now: bool) -> rusqlite::Result<Vec<RiskDay>> {
    let open = if open_now {
        "f.fixed_at IS NULL"
    } else {
        "f.first_seen <= ?1 AND (f.fixed_at IS NULL OR f.fixed_at > ?1)"
    };
    let sql = format!(
        "SELECT h.department, COUNT(*),
                IFNULL(SUM(f.priority IN ('ransomware', 'exploited')), 0),
                IFNULL(SUM(f.priority = 'ransomware'), 0),
                COUNT(DISTINCT CASE WHEN f.ecosystem = 'os' THEN f.host_id END)
         FROM findings f JOIN hosts h ON h.id = f.host_id
         WHERE {open} AND h.revoked_at IS NULL AND ?1 = ?1
         GROUP BY h.department"
    );
    let day = day_of(at);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([at], |r| {
        Ok(RiskDay {
            day: day.clone(),
            department: r.get(0)?,
            open: r.get(1)?,
            exploited: r.get(2)?,
            ransomware: r.get(3)?,
            eol_hosts: r.get(4)?,
        })
    })?;
    rows.collect()
}

fn store_day(conn: &rusqlite::Connection, day: &str, rows: &[RiskDay]) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM risk_daily WHERE day = ?1", [day])?;
    // A day without findings is recorded too (as the fleet's empty row), so that it is
    // not filled in again.
    if rows.is_empty() {
        conn.execute(
            "INSERT INTO risk_daily (day, department, open, exploited, ransomware, eol_hosts)
             VALUES (?1, '', 0, 0, 0, 0)",
            [day],
        )?;
    }
    for r in rows {
        conn.execute(
            "INSERT INTO risk_daily (day, department, open, exploited, ransomware, eol_hosts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                day,
                r.department,
                r.open,
                r.exploited,
                r.ransomware,
                r.eol_hosts
            ],
        )?;
    }
    Ok(())
}

impl OverviewStore for Store {
    fn overview_counts(
        &self,
        departments: Option<&[String]>,
        now: i64,
    ) -> StoreResult<OverviewCounts> {
        let scope = scope_param(departments);
        let conn = self.reader();
        let run = || -> rusqlite::Result<OverviewCounts> {
            let mut by_department: BTreeMap<String, DepartmentOverview> = BTreeMap::new();
            {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT department, COUNT(*), IFNULL(SUM(last_seen > ?1), 0),
                            IFNULL(SUM(guard_folders > 0), 0)
                     FROM hosts WHERE revoked_at IS NULL AND {}
                     GROUP BY department",
                    in_departments("id", "?2")
                ))?;
                let rows = stmt.query_map(params![now - ONLINE_WINDOW_MILLIS, scope], |r| {
                    Ok(DepartmentOverview {
                        department: r.get(0)?,
                        hosts: r.get(1)?,
                        online: r.get(2)?,
                        guarded: r.get(3)?,
                        ..DepartmentOverview::default()
                    })
                })?;
                for row in rows {
                    let row = row?;
                    by_department.insert(row.department.clone(), row);
                }
            }
            for (department, n) in hosts_with(&conn, "f.priority = 'ransomware'", &scope, now)? {
                if let Some(d) = by_department.get_mut(&department) {
                    d.ransomware_hosts = n;
                }
            }
            for (department, n) in hosts_with(&conn, "f.ecosystem = 'os'", &scope, now)? {
                if let Some(d) = by_department.get_mut(&department) {
                    d.eol_hosts = n;
                }
            }
            let (alerts_24h, urgent_alerts_24h) = conn.query_row(
                &format!(
                    "SELECT COUNT(*), IFNULL(SUM(severity IN ('high', 'critical')), 0)
                     FROM alerts WHERE received_at >= ?1 AND {}",
                    in_departments("host_id", "?2")
                ),
                params![now - DAY_MILLIS, scope],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let open_incidents = conn.query_row(
                "SELECT COUNT(*) FROM incidents WHERE state <> 'resolved' AND merged_into IS NULL",
                [],
                |r| r.get(0),
            )?;
            Ok(OverviewCounts {
                departments: by_department.into_values().collect(),
                alerts_24h,
                urgent_alerts_24h,
                open_incidents,
            })
        };
        run().map_err(|e| self.err(e))
    }

    fn record_risk_day(&self, now: i64) -> StoreResult<()> {
        let rows = risk_at(&self.reader(), now, true).map_err(|e| self.err(e))?;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        store_day(&tx, &day_of(now), &rows).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn backfill_risk_days(&self, now: i64, days: u32) -> StoreResult<usize> {
        let mut filled = 0;
        for back in 1..=i64::from(days) {
            // The last millisecond of that day.
            let end = (now.div_euclid(DAY_MILLIS) - back + 1) * DAY_MILLIS - 1;
            let day = day_of(end);
            let known: bool = self
                .reader()
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM risk_daily WHERE day = ?1)",
                    [&day],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if known {
                continue;
            }
            let rows = risk_at(&self.reader(), end, false).map_err(|e| self.err(e))?;
            let conn = self.writer();
            let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
            store_day(&tx, &day, &rows).map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
            filled += 1;
        }
        Ok(filled)
    }

    fn risk_days(
        &self,
        departments: Option<&[String]>,
        since_day: &str,
    ) -> StoreResult<Vec<RiskDay>> {
        let scope = scope_param(departments);
        let conn = self.reader();
        let run = || -> rusqlite::Result<Vec<RiskDay>> {
            let mut stmt = conn.prepare_cached(
                "SELECT day, department, open, exploited, ransomware, eol_hosts FROM risk_daily
                 WHERE day >= ?1 AND (?2 IS NULL OR department IN (SELECT value FROM json_each(?2)))
                 ORDER BY day, department",
            )?;
            let rows = stmt.query_map(params![since_day, scope], |r| {
                Ok(RiskDay {
                    day: r.get(0)?,
                    department: r.get(1)?,
                    open: r.get(2)?,
                    exploited: r.get(3)?,
                    ransomware: r.get(4)?,
                    eol_hosts: r.get(5)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.err(e))
    }

    fn enrolled_hosts(&self) -> StoreResult<i64> {
        self.reader()
            .query_row(
                "SELECT COUNT(*) FROM hosts WHERE revoked_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    fn guarded_hosts(&self) -> StoreResult<i64> {
        self.reader()
            .query_row(
                "SELECT COUNT(*) FROM hosts WHERE revoked_at IS NULL AND guard_folders > 0",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }
}
