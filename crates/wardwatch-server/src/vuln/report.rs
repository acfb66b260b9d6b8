//! The fleet's vulnerability picture, aggregated in SQL: open findings by priority and by
//! department, the upgrades that remove the most weighted risk, and the hosts on an
//! end-of-life operating system. Suppressed (accepted) findings are left out of the counts.

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use super::findings::SUPPRESSION_OF_F;
use super::FleetReportStore;
use crate::db::{Store, StoreResult};

/// Open findings of one priority class.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PriorityCount {
    /// Distinct (host, advisory) pairs: an advisory on two packages of one source counts
    /// once.
    pub findings: i64,
    pub hosts: i64,
}

/// One department's hosts and their open findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DepartmentCounts {
    pub department: String,
    pub hosts: i64,
    pub hosts_with_findings: i64,
    pub by_priority: BTreeMap<String, i64>,
}

/// An upgrade of one source package in one ecosystem, and what it removes.
#[derive(Debug, Clone, Serialize)]
pub struct UpgradeGroup {
    pub ecosystem: String,
    pub source: String,
    pub hosts: i64,
    pub advisories: i64,
    /// Distinct (host, advisory) pairs it removes.
    pub findings: i64,
    /// Sum of the priority weights of those findings.
    pub risk: f64,
    pub ransomware: i64,
    pub exploited: i64,
    /// Every version the findings name as fixed.
    #[serde(skip)]
    pub fixed_versions: Vec<String>,
    /// Upgrade to this version or later to remove them all: the highest of
    /// `fixed_versions` in the package manager's order, chosen by the caller (SQL does not
    /// know that order).
    pub target_version: String,
}

/// A host on an operating system past its end of support.
#[derive(Debug, Clone, Serialize)]
pub struct EolHost {
    pub host_id: String,
    pub host_label: String,
    pub hostname: String,
    pub department: String,
    pub os: String,
    pub advisory: String,
    pub remedy: String,
    pub suppressed: bool,
}

/// Totals over the fleet.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetTotals {
    /// Hosts not revoked.
    pub hosts: i64,
    /// Hosts whose inventory has been matched.
    pub matched: i64,
    pub with_findings: i64,
    /// Accepted (host, advisory) pairs, counted like [`PriorityCount::findings`].
    pub suppressed_findings: i64,
}

/// The whole fleet view.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetReport {
    pub totals: FleetTotals,
    pub by_priority: BTreeMap<String, PriorityCount>,
    pub by_department: Vec<DepartmentCounts>,
    pub upgrades: Vec<UpgradeGroup>,
    pub eol_hosts: Vec<EolHost>,
}

/// Open, unsuppressed findings of hosts that are not revoked, as a subquery `o` with the
/// host's department. `?1` is the current time.
fn open_findings() -> String {
    format!(
        "(SELECT f.host_id, f.advisory, f.priority, f.ecosystem, f.source, f.fixed_version,
                 f.ransomware, f.known_exploited, h.department
          FROM findings f JOIN hosts h ON h.id = f.host_id
          WHERE h.revoked_at IS NULL AND f.fixed_at IS NULL AND {SUPPRESSION_OF_F} IS NULL)"
    )
}

/// SQL for the weight of a priority class column.
fn weight_sql(column: &str, weights: &[(&str, f64)]) -> String {
    let mut sql = format!("CASE {column}");
    for (name, weight) in weights {
        sql.push_str(&format!(" WHEN '{name}' THEN {weight:.1}"));
    }
    sql.push_str(" ELSE 1.0 END");
    sql
}

impl FleetReportStore for Store {
    fn fleet_report(
        &self,
        now: i64,
        weights: &[(&str, f64)],
        upgrade_limit: u32,
    ) -> StoreResult<FleetReport> {
        let conn = self.reader();
        let open = open_findings();
        let run = || -> rusqlite::Result<FleetReport> {
            let totals = conn.query_row(
                "SELECT COUNT(*), COUNT(findings_matched_at) FROM hosts WHERE revoked_at IS NULL",
                [],
                |r| {
                    Ok(FleetTotals {
                        hosts: r.get(0)?,
                        matched: r.get(1)?,
                        ..FleetTotals::default()
                    })
                },
            )?;
            let mut report = FleetReport {
                totals,
                ..FleetReport::default()
            };
            report.totals.with_findings = conn.query_row(
                &format!("SELECT COUNT(DISTINCT host_id) FROM {open} AS o"),
                [now],
                |r| r.get(0),
            )?;
            report.totals.suppressed_findings = conn.query_row(
                &format!(
                    "SELECT COUNT(DISTINCT f.host_id || ' ' || f.advisory)
                     FROM findings f JOIN hosts h ON h.id = f.host_id
                     WHERE h.revoked_at IS NULL AND f.fixed_at IS NULL
                       AND {SUPPRESSION_OF_F} IS NOT NULL"
                ),
                [now],
                |r| r.get(0),
            )?;

            let mut stmt = conn.prepare(&format!(
                "SELECT priority, COUNT(DISTINCT host_id || ' ' || advisory),
                        COUNT(DISTINCT host_id)
                 FROM {open} AS o GROUP BY priority"
            ))?;
            let rows = stmt.query_map([now], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    PriorityCount {
                        findings: r.get(1)?,
                        hosts: r.get(2)?,
                    },
                ))
            })?;
            for row in rows {
                let (priority, count) = row?;
                report.by_priority.insert(priority, count);
            }

            let mut departments: BTreeMap<String, DepartmentCounts> = BTreeMap::new();
            let mut stmt = conn.prepare(
                "SELECT department, COUNT(*) FROM hosts WHERE revoked_at IS NULL GROUP BY department",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
                let (department, hosts) = row?;
                departments.insert(
                    department.clone(),
                    DepartmentCounts {
                        department,
                        hosts,
                        ..DepartmentCounts::default()
                    },
                );
            }
            let mut stmt = conn.prepare(&format!(
                "SELECT department, COUNT(DISTINCT host_id) FROM {open} AS o GROUP BY department"
            ))?;
            for row in stmt.query_map([now], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
                let (department, hosts) = row?;
                if let Some(d) = departments.get_mut(&department) {
                    d.hosts_with_findings = hosts;
                }
            }
            let mut stmt = conn.prepare(&format!(
                "SELECT department, priority, COUNT(DISTINCT host_id || ' ' || advisory)
                 FROM {open} AS o GROUP BY department, priority"
            ))?;
            for row in stmt.query_map([now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })? {
                let (department, priority, n) = row?;
                if let Some(d) = departments.get_mut(&department) {
                    d.by_priority.insert(priority, n);
                }
            }
            report.by_department = departments.into_values().collect();

            let weight = weight_sql("priority", weights);
            let mut stmt = conn.prepare(&format!(
                "SELECT ecosystem, source, COUNT(DISTINCT host_id), COUNT(DISTINCT advisory),
                        COUNT(*), SUM({weight}), SUM(ransomware), SUM(known_exploited)
                 FROM (SELECT DISTINCT host_id, advisory, ecosystem, source, priority,
                              ransomware, known_exploited
                       FROM {open} AS o WHERE fixed_version IS NOT NULL AND ecosystem != 'os')
                 GROUP BY ecosystem, source
                 ORDER BY 6 DESC, 3 DESC, source LIMIT ?2"
            ))?;
            let groups = stmt.query_map(params![now, upgrade_limit], |r| {
                Ok(UpgradeGroup {
                    ecosystem: r.get(0)?,
                    source: r.get(1)?,
                    hosts: r.get(2)?,
                    advisories: r.get(3)?,
                    findings: r.get(4)?,
                    risk: r.get(5)?,
                    ransomware: r.get(6)?,
                    exploited: r.get(7)?,
                    fixed_versions: Vec::new(),
                    target_version: String::new(),
                })
            })?;
            report.upgrades = groups.collect::<Result<_, _>>()?;
            let mut versions = conn.prepare(&format!(
                "SELECT DISTINCT fixed_version FROM {open} AS o
                 WHERE ecosystem = ?2 AND source = ?3 AND fixed_version IS NOT NULL"
            ))?;
            for upgrade in &mut report.upgrades {
                upgrade.fixed_versions = versions
                    .query_map(params![now, upgrade.ecosystem, upgrade.source], |r| {
                        r.get(0)
                    })?
                    .collect::<Result<_, _>>()?;
            }

            let mut stmt = conn.prepare(&format!(
                "SELECT f.host_id, h.label, h.hostname, h.department, f.package, f.advisory,
                        f.remedy, {SUPPRESSION_OF_F} IS NOT NULL
                 FROM findings f JOIN hosts h ON h.id = f.host_id
                 WHERE h.revoked_at IS NULL AND f.fixed_at IS NULL AND f.ecosystem = 'os'
                 ORDER BY h.department, h.label, h.hostname"
            ))?;
            report.eol_hosts = stmt
                .query_map([now], |r| {
                    Ok(EolHost {
                        host_id: r.get(0)?,
                        host_label: r.get(1)?,
                        hostname: r.get(2)?,
                        department: r.get(3)?,
                        os: r.get(4)?,
                        advisory: r.get(5)?,
                        remedy: r.get(6)?,
                        suppressed: r.get(7)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(report)
        };
        run().map_err(|e| self.err(e))
    }
}
