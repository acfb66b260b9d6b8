//! The overview's queries. Open findings are read through the partial indexes on
//! priority and kind (`findings_open_by_*`), so the counts cost the open findings of
//! the kinds asked for, never every finding kept for history.

use std::collections::BTreeMap;

use rusqlite::params;

use super::{day_of, DepartmentOverview, OverviewCounts, OverviewStore, RiskDay};
use crate::db::{Store, StoreResult};
use crate::hosts::sqlite::{departments_param, in_departments, ONLINE_WINDOW_MILLIS};
use crate::vuln::findings::SUPPRESSION_OF_F;

const DAY_MILLIS: i64 = 86_400_000;

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

/// The open findings per department now, as the day `at` falls in.
fn risk_at(conn: &rusqlite::Connection, at: i64) -> rusqlite::Result<Vec<RiskDay>> {
    let sql = "SELECT h.department, COUNT(*),
                IFNULL(SUM(f.priority IN ('ransomware', 'exploited')), 0),
                IFNULL(SUM(f.priority = 'ransomware'), 0),
                COUNT(DISTINCT CASE WHEN f.ecosystem = 'os' THEN f.host_id END)
         FROM findings f JOIN hosts h ON h.id = f.host_id
         WHERE f.fixed_at IS NULL AND h.revoked_at IS NULL
         GROUP BY h.department";
    let day = day_of(at);
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| {
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

/// Findings counted by department, the day they were first seen and fixed, priority and
/// whether they are an end of life: what any past day's open findings follow from.
struct HistoryCount {
    department: String,
    first_day: i64,
    fixed_day: Option<i64>,
    priority: String,
    end_of_life: bool,
    count: i64,
}

/// One pass over the findings that were open at some point from `first_day` to
/// `last_day` (days since 1970, UTC), however many days are asked for.
fn history_counts(
    conn: &rusqlite::Connection,
    first_day: i64,
    last_day: i64,
) -> rusqlite::Result<Vec<HistoryCount>> {
    let mut stmt = conn.prepare(
        "SELECT h.department, f.first_seen / 86400000, f.fixed_at / 86400000, f.priority,
                f.ecosystem = 'os', COUNT(*)
         FROM findings f JOIN hosts h ON h.id = f.host_id
         WHERE h.revoked_at IS NULL AND f.first_seen < ?2
           AND (f.fixed_at IS NULL OR f.fixed_at >= ?1)
         GROUP BY 1, 2, 3, 4, 5",
    )?;
    let rows = stmt.query_map(
        params![(first_day + 1) * DAY_MILLIS, (last_day + 1) * DAY_MILLIS],
        |r| {
            Ok(HistoryCount {
                department: r.get(0)?,
                first_day: r.get(1)?,
                fixed_day: r.get(2)?,
                priority: r.get(3)?,
                end_of_life: r.get(4)?,
                count: r.get(5)?,
            })
        },
    )?;
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
        let scope = departments_param(departments);
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
            // Incidents may span departments: counted for the whole fleet only.
            let open_incidents = if departments.is_none() {
                conn.query_row(
                    "SELECT COUNT(*) FROM incidents WHERE state <> 'resolved' AND merged_into IS NULL",
                    [],
                    |r| r.get(0),
                )?
            } else {
                0
            };
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
        let rows = risk_at(&self.background_reader()?, now).map_err(|e| self.err(e))?;
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        store_day(&tx, &day_of(now), &rows).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn backfill_risk_days(&self, now: i64, days: u32) -> StoreResult<usize> {
        let today = now.div_euclid(DAY_MILLIS);
        let wanted: Vec<i64> = (1..=i64::from(days)).map(|back| today - back).collect();
        let conn = self.background_reader()?;
        let mut missing = Vec::new();
        for day in &wanted {
            let known: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM risk_daily WHERE day = ?1)",
                    [day_of(day * DAY_MILLIS)],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if !known {
                missing.push(*day);
            }
        }
        let (Some(first), Some(last)) = (missing.iter().min(), missing.iter().max()) else {
            return Ok(0);
        };
        let rows = history_counts(&conn, *first, *last).map_err(|e| self.err(e))?;
        drop(conn);
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        for day in &missing {
            let mut by_department: BTreeMap<&str, RiskDay> = BTreeMap::new();
            for r in rows
                .iter()
                .filter(|r| r.first_day <= *day && r.fixed_day.is_none_or(|f| f > *day))
            {
                let entry = by_department
                    .entry(&r.department)
                    .or_insert_with(|| RiskDay {
                        day: day_of(day * DAY_MILLIS),
                        department: r.department.clone(),
                        open: 0,
                        exploited: 0,
                        ransomware: 0,
                        eol_hosts: 0,
                    });
                entry.open += r.count;
                if r.priority == "ransomware" || r.priority == "exploited" {
                    entry.exploited += r.count;
                }
                if r.priority == "ransomware" {
                    entry.ransomware += r.count;
                }
                if r.end_of_life {
                    // A host has one end-of-life finding (its release).
                    entry.eol_hosts += r.count;
                }
            }
            let day_rows: Vec<RiskDay> = by_department.into_values().collect();
            store_day(&tx, &day_of(day * DAY_MILLIS), &day_rows).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(missing.len())
    }

    fn risk_days(
        &self,
        departments: Option<&[String]>,
        since_day: &str,
    ) -> StoreResult<Vec<RiskDay>> {
        let scope = departments_param(departments);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_with_hosts;

    /// A finding of `host` first seen and fixed at these days (since 1970).
    fn finding(
        store: &Store,
        host: &str,
        key: &str,
        priority: &str,
        first: i64,
        fixed: Option<i64>,
    ) {
        store
            .writer()
            .execute(
                "INSERT INTO findings (host_id, key, advisory, cves, ecosystem, package, version,
                     source, remedy, fixed_version, severity, known_exploited, ransomware, epss,
                     severity_rank, priority, why, detail, digest, first_seen, fixed_at)
                 VALUES (?1, ?2, ?2, '[]', 'debian', 'p', '1', 'p', 'r', NULL, NULL, 0, 0, NULL,
                         0, ?3, 'w', '{}', ?2, ?4, ?5)",
                params![
                    host,
                    key,
                    priority,
                    first * DAY_MILLIS + 1000,
                    fixed.map(|d| d * DAY_MILLIS + 1000)
                ],
            )
            .unwrap();
    }

    #[test]
    fn past_days_are_filled_in_from_when_findings_were_seen_and_fixed() {
        let (_dir, store) = store_with_hosts(&[("h-1", "a"), ("h-2", "b")]);
        let today = 20_000;
        let now = today * DAY_MILLIS + 3_600_000;
        // Open for days 19_996..19_998 (fixed on day 19_999), ransomware.
        finding(&store, "h-1", "k1", "ransomware", 19_996, Some(19_999));
        // Open since day 19_998, not fixed.
        finding(&store, "h-2", "k2", "other", 19_998, None);
        assert_eq!(store.backfill_risk_days(now, 5).unwrap(), 5);
        let days = store.risk_days(None, &day_of(19_995 * DAY_MILLIS)).unwrap();
        let open_on = |d: i64| -> (i64, i64) {
            days.iter()
                .filter(|r| r.day == day_of(d * DAY_MILLIS))
                .fold((0, 0), |(o, x), r| (o + r.open, x + r.ransomware))
        };
        assert_eq!(open_on(19_995), (0, 0));
        assert_eq!(open_on(19_996), (1, 1));
        assert_eq!(open_on(19_997), (1, 1));
        assert_eq!(open_on(19_998), (2, 1));
        assert_eq!(open_on(19_999), (1, 0), "fixed during that day");
        // Days already known are not done again; today is recorded apart.
        assert_eq!(store.backfill_risk_days(now, 5).unwrap(), 0);
        store.record_risk_day(now).unwrap();
        assert_eq!(open_on(today), (0, 0), "not read before it was recorded");
        let today_rows = store.risk_days(None, &day_of(today * DAY_MILLIS)).unwrap();
        assert_eq!(today_rows.iter().map(|r| r.open).sum::<i64>(), 1);
        // Scoped to a department that has none.
        let none = store
            .risk_days(
                Some(&["Laboratory".to_string()]),
                &day_of(19_995 * DAY_MILLIS),
            )
            .unwrap();
        assert!(none.is_empty());
    }
}
