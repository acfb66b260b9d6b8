//! Vulnerability findings per host. A match replaces the host's open findings as a whole;
//! what appeared and what went away is written to `finding_history`, and a finding that
//! went away keeps its row (with `fixed_at`), so the history of a host survives.

use std::collections::HashMap;

use rusqlite::types::ToSql;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use wardwatch_proto::{Inventory, OsInfo, Package};

use super::FindingStore;
use crate::db::{Store, StoreError, StoreResult};
use crate::incidents::signal::Signal;

/// One finding as stored: flat and owned, built from the matcher's finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingRecord {
    /// What identifies the finding on its host across matches: advisory and package.
    pub key: String,
    pub advisory: String,
    pub cves: Vec<String>,
    /// "Debian:12", "npm"; `os` for an end-of-life operating system.
    pub ecosystem: String,
    /// The installed package, or the OS's name.
    pub package: String,
    pub version: String,
    /// The source package an upgrade is about.
    pub source: String,
    /// The remedy in words ("fixed in 3.0.11-1~deb12u2", "no fix yet").
    pub remedy: String,
    /// The version that fixes it, when there is one.
    pub fixed_version: Option<String>,
    pub severity: Option<String>,
    pub known_exploited: bool,
    pub ransomware: bool,
    pub epss: Option<f64>,
    /// Severity's place in the priority order (higher is worse).
    pub severity_rank: i64,
    /// The urgency class ("ransomware", "exploited", "likely", "severe", "other").
    pub priority: String,
    /// Why it matched, in one line.
    pub why: String,
    /// The matcher's whole finding as JSON.
    pub detail: String,
}

/// Why a host was matched again: its inventory changed, or the feed did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchCause {
    Inventory,
    Feed,
}

impl MatchCause {
    fn as_str(self) -> &'static str {
        match self {
            MatchCause::Inventory => "inventory",
            MatchCause::Feed => "feed",
        }
    }
}

/// What one match changed on a host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FindingChanges {
    pub appeared: usize,
    pub fixed: usize,
    pub open: usize,
}

/// Which findings a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindingState {
    /// Open and not accepted as a risk.
    #[default]
    Open,
    /// Open, accepted as a risk until the suppression expires.
    Suppressed,
    /// No longer present.
    Fixed,
    All,
}

impl FindingState {
    pub fn parse(text: &str) -> Option<FindingState> {
        match text {
            "open" => Some(FindingState::Open),
            "suppressed" => Some(FindingState::Suppressed),
            "fixed" => Some(FindingState::Fixed),
            "all" => Some(FindingState::All),
            _ => None,
        }
    }
}

/// A filter over the fleet's findings.
#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    pub host: Option<String>,
    /// An advisory id or a CVE id.
    pub advisory: Option<String>,
    pub priority: Option<String>,
    pub department: Option<String>,
    /// Only findings of these departments' hosts (a department operator's scope).
    pub departments: Option<Vec<String>>,
    pub state: FindingState,
    pub limit: u32,
    pub offset: u32,
}

/// One finding in a list, with its host.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub host_id: String,
    pub host_label: String,
    pub hostname: String,
    pub department: String,
    pub advisory: String,
    pub cves: Vec<String>,
    pub ecosystem: String,
    pub package: String,
    pub version: String,
    pub source: String,
    pub remedy: String,
    pub fixed_version: Option<String>,
    pub severity: Option<String>,
    pub known_exploited: bool,
    pub ransomware: bool,
    pub epss: Option<f64>,
    pub priority: String,
    pub why: String,
    pub first_seen: i64,
    pub fixed_at: Option<i64>,
    /// The accepted risk that hides it, if any.
    pub suppression_id: Option<i64>,
}

/// A page of findings and how many match in all.
#[derive(Debug, Clone, Serialize)]
pub struct FindingPage {
    pub total: i64,
    pub findings: Vec<FindingRow>,
}

/// One change in a host's findings.
#[derive(Debug, Clone, Serialize)]
pub struct FindingChange {
    pub advisory: String,
    pub package: String,
    /// "appeared" or "fixed".
    pub change: String,
    pub version: String,
    /// "inventory" or "feed": what made the server match again.
    pub cause: String,
    pub time: i64,
}

/// Most urgent first: ransomware, known exploited, EPSS, severity (over a subquery
/// aliased `f` with the host's `label`).
const PRIORITY_ORDER: &str = "f.ransomware DESC, f.known_exploited DESC, \
     COALESCE(f.epss, 0) DESC, f.severity_rank DESC, f.advisory, f.label, f.package";

/// Whether the finding `f` is hidden by an active suppression (for the host, or for every
/// host), by advisory or by one of its CVE ids. `?1` is the current time.
pub(crate) const SUPPRESSION_OF_F: &str = "(SELECT s.id FROM suppressions s
      WHERE s.lifted_at IS NULL AND s.expires_at > ?1
        AND (s.host_id IS NULL OR s.host_id = f.host_id)
        AND (s.advisory = f.advisory
             OR s.advisory IN (SELECT c.cve FROM finding_cves c
                               WHERE c.host_id = f.host_id AND c.key = f.key))
      ORDER BY s.id LIMIT 1)";

const ROW_COLUMNS: &str = "f.host_id, h.label, h.hostname, h.department, f.advisory, f.cves, \
     f.ecosystem, f.package, f.version, f.source, f.remedy, f.fixed_version, f.severity, \
     f.known_exploited, f.ransomware, f.epss, f.priority, f.why, f.first_seen, f.fixed_at";

fn row_from(r: &Row<'_>) -> rusqlite::Result<FindingRow> {
    let cves: String = r.get(5)?;
    Ok(FindingRow {
        host_id: r.get(0)?,
        host_label: r.get(1)?,
        hostname: r.get(2)?,
        department: r.get(3)?,
        advisory: r.get(4)?,
        cves: split_cves(&cves),
        ecosystem: r.get(6)?,
        package: r.get(7)?,
        version: r.get(8)?,
        source: r.get(9)?,
        remedy: r.get(10)?,
        fixed_version: r.get(11)?,
        severity: r.get(12)?,
        known_exploited: r.get(13)?,
        ransomware: r.get(14)?,
        epss: r.get(15)?,
        priority: r.get(16)?,
        why: r.get(17)?,
        first_seen: r.get(18)?,
        fixed_at: r.get(19)?,
        suppression_id: r.get(20)?,
    })
}

pub(crate) fn split_cves(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// The state a finding is in, as SQL over `fixed_at` and the suppression column `sid`.
fn state_clause(state: FindingState) -> &'static str {
    match state {
        FindingState::Open => "f.fixed_at IS NULL AND sid IS NULL",
        FindingState::Suppressed => "f.fixed_at IS NULL AND sid IS NOT NULL",
        FindingState::Fixed => "f.fixed_at IS NOT NULL",
        FindingState::All => "1",
    }
}

/// The digest that tells whether a stored finding changed.
fn digest(record: &FindingRecord) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        record.detail.as_str(),
        record.priority.as_str(),
        record.remedy.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

impl FindingStore for Store {
    fn host_inventory(&self, host_id: &str) -> StoreResult<Option<Inventory>> {
        let conn = self.reader();
        let os_json: Option<Option<String>> = conn
            .query_row(
                "SELECT os_json FROM hosts WHERE id = ?1 AND revoked_at IS NULL",
                [host_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(Some(os_json)) = os_json else {
            return Ok(None);
        };
        let os: OsInfo = serde_json::from_str(&os_json)
            .map_err(|e| StoreError::Corrupt(format!("host {host_id}: OS data: {e}")))?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT ecosystem, name, arch, version, source, source_version
                 FROM packages WHERE host_id = ?1",
            )
            .map_err(|e| self.err(e))?;
        let packages = stmt
            .query_map([host_id], |r| {
                Ok(Package {
                    ecosystem: r.get(0)?,
                    name: r.get(1)?,
                    arch: r.get(2)?,
                    version: r.get(3)?,
                    source: r.get(4)?,
                    source_version: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(Some(Inventory {
            os,
            packages,
            ..Inventory::default()
        }))
    }

    fn matchable_hosts(&self) -> StoreResult<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM hosts WHERE revoked_at IS NULL AND os_json IS NOT NULL ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let ids = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(ids)
    }

    fn replace_host_findings(
        &self,
        host_id: &str,
        records: &[FindingRecord],
        cause: MatchCause,
        now: i64,
    ) -> StoreResult<FindingChanges> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let changes = (|| -> rusqlite::Result<FindingChanges> {
            // key → (digest, fixed_at, version, advisory, package)
            let mut existing: HashMap<String, (String, Option<i64>, String, String, String)> =
                HashMap::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT key, digest, fixed_at, version, advisory, package
                     FROM findings WHERE host_id = ?1",
                )?;
                let rows = stmt.query_map([host_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                    ))
                })?;
                for row in rows {
                    let (key, value) = row?;
                    existing.insert(key, value);
                }
            }
            let mut changes = FindingChanges {
                open: records.len(),
                ..FindingChanges::default()
            };
            let mut upsert = tx.prepare_cached(
                "INSERT INTO findings (host_id, key, advisory, cves, ecosystem, package, version,
                     source, remedy, fixed_version, severity, known_exploited, ransomware, epss,
                     severity_rank, priority, why, detail, digest, first_seen, fixed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17, ?18, ?19, ?20, NULL)
                 ON CONFLICT (host_id, key) DO UPDATE SET
                     advisory = excluded.advisory, cves = excluded.cves,
                     ecosystem = excluded.ecosystem, package = excluded.package,
                     version = excluded.version, source = excluded.source,
                     remedy = excluded.remedy, fixed_version = excluded.fixed_version,
                     severity = excluded.severity, known_exploited = excluded.known_exploited,
                     ransomware = excluded.ransomware, epss = excluded.epss,
                     severity_rank = excluded.severity_rank, priority = excluded.priority,
                     why = excluded.why, detail = excluded.detail, digest = excluded.digest,
                     fixed_at = NULL",
            )?;
            let mut clear_cves =
                tx.prepare_cached("DELETE FROM finding_cves WHERE host_id = ?1 AND key = ?2")?;
            let mut add_cve = tx.prepare_cached(
                "INSERT OR IGNORE INTO finding_cves (cve, host_id, key) VALUES (?1, ?2, ?3)",
            )?;
            let mut history = tx.prepare_cached(
                "INSERT INTO finding_history (host_id, key, advisory, package, change, version,
                     cause, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            // CVEs under active exploitation that appeared here: an incident to act on.
            let mut exploited: Vec<(String, bool)> = Vec::new();
            for record in records {
                let digest = digest(record);
                let previous = existing.remove(&record.key);
                let reopened = match &previous {
                    Some((old_digest, None, ..)) if *old_digest == digest => continue,
                    Some((_, fixed_at, ..)) => fixed_at.is_some(),
                    None => true,
                };
                upsert.execute(params![
                    host_id,
                    record.key,
                    record.advisory,
                    record.cves.join(" "),
                    record.ecosystem,
                    record.package,
                    record.version,
                    record.source,
                    record.remedy,
                    record.fixed_version,
                    record.severity,
                    record.known_exploited,
                    record.ransomware,
                    record.epss,
                    record.severity_rank,
                    record.priority,
                    record.why,
                    record.detail,
                    digest,
                    now,
                ])?;
                clear_cves.execute(params![host_id, record.key])?;
                for cve in &record.cves {
                    add_cve.execute(params![cve, host_id, record.key])?;
                }
                if reopened {
                    changes.appeared += 1;
                    if record.known_exploited {
                        for cve in &record.cves {
                            if !exploited.iter().any(|(c, _)| c == cve) {
                                exploited.push((cve.clone(), record.ransomware));
                            }
                        }
                    }
                    history.execute(params![
                        host_id,
                        record.key,
                        record.advisory,
                        record.package,
                        "appeared",
                        record.version,
                        cause.as_str(),
                        now
                    ])?;
                }
            }
            let mut mark_fixed = tx.prepare_cached(
                "UPDATE findings SET fixed_at = ?3 WHERE host_id = ?1 AND key = ?2",
            )?;
            for (key, (_, fixed_at, version, advisory, package)) in existing {
                if fixed_at.is_some() {
                    continue;
                }
                mark_fixed.execute(params![host_id, key, now])?;
                changes.fixed += 1;
                history.execute(params![
                    host_id,
                    key,
                    advisory,
                    package,
                    "fixed",
                    version,
                    cause.as_str(),
                    now
                ])?;
            }
            tx.execute(
                "UPDATE hosts SET findings_matched_at = ?2 WHERE id = ?1",
                params![host_id, now],
            )?;
            exploited.sort();
            if let Some(signal) = Signal::exploited_found(host_id, &exploited, now) {
                crate::incidents::sqlite::group_signal(&tx, &signal)?;
            }
            Ok(changes)
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(changes)
    }

    fn findings(&self, query: &FindingQuery, now: i64) -> StoreResult<FindingPage> {
        let mut clauses = vec!["h.revoked_at IS NULL".to_string()];
        let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(now)];
        let bind = |value: String, values: &mut Vec<Box<dyn ToSql>>| {
            values.push(Box::new(value));
            format!("?{}", values.len())
        };
        if let Some(host) = &query.host {
            let p = bind(host.clone(), &mut values);
            clauses.push(format!("f.host_id = {p}"));
        }
        if let Some(id) = &query.advisory {
            let p = bind(id.clone(), &mut values);
            clauses.push(format!(
                "(f.advisory = {p} OR (f.host_id, f.key) IN \
                 (SELECT host_id, key FROM finding_cves WHERE cve = {p}))"
            ));
        }
        if let Some(priority) = &query.priority {
            let p = bind(priority.clone(), &mut values);
            clauses.push(format!("f.priority = {p}"));
        }
        if let Some(department) = &query.department {
            let p = bind(department.clone(), &mut values);
            clauses.push(format!("h.department = {p}"));
        }
        if let Some(scope) = crate::hosts::sqlite::departments_param(query.departments.as_deref()) {
            let p = bind(scope, &mut values);
            clauses.push(format!(
                "h.department IN (SELECT value FROM json_each({p}))"
            ));
        }
        let inner = format!(
            "SELECT {ROW_COLUMNS}, {SUPPRESSION_OF_F} AS sid, f.severity_rank
             FROM findings f JOIN hosts h ON h.id = f.host_id
             WHERE {}",
            clauses.join(" AND ")
        );
        // The outer query filters on the computed suppression; the subquery is aliased `f`
        // so that the state clause and the order read like the inner ones.
        let state = state_clause(query.state);
        let conn = self.reader();
        let params: Vec<&dyn ToSql> = values.iter().map(|v| v.as_ref()).collect();
        let total: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM ({inner}) AS f WHERE {state}"),
                params.as_slice(),
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let mut paged = params.clone();
        let limit = i64::from(query.limit);
        let offset = i64::from(query.offset);
        paged.push(&limit);
        paged.push(&offset);
        let sql = format!(
            "SELECT * FROM ({inner}) AS f WHERE {state}
             ORDER BY {PRIORITY_ORDER}
             LIMIT ?{} OFFSET ?{}",
            params.len() + 1,
            params.len() + 2
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| self.err(e))?;
        let findings = stmt
            .query_map(paged.as_slice(), row_from)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(FindingPage { total, findings })
    }

    fn finding_history(&self, host_id: &str, limit: u32) -> StoreResult<Vec<FindingChange>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT advisory, package, change, version, cause, time FROM finding_history
                 WHERE host_id = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![host_id, limit], |r| {
                Ok(FindingChange {
                    advisory: r.get(0)?,
                    package: r.get(1)?,
                    change: r.get(2)?,
                    version: r.get(3)?,
                    cause: r.get(4)?,
                    time: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn finding_detail(&self, host_id: &str, advisory: &str) -> StoreResult<Vec<serde_json::Value>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT detail FROM findings WHERE host_id = ?1 AND advisory = ?2 ORDER BY key",
            )
            .map_err(|e| self.err(e))?;
        let texts = stmt
            .query_map(params![host_id, advisory], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(texts
            .iter()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditStore;
    use crate::testing::store_with_hosts;
    use crate::vuln::{NewSuppression, SuppressionStore};

    fn finding(advisory: &str, package: &str, version: &str) -> FindingRecord {
        FindingRecord {
            key: format!("{advisory}|{package}"),
            advisory: advisory.into(),
            cves: vec![format!("CVE-2025-{}", advisory.len())],
            ecosystem: "Debian:bookworm".into(),
            package: package.into(),
            version: version.into(),
            source: package.into(),
            remedy: "fixed in 2.0".into(),
            fixed_version: Some("2.0".into()),
            severity: Some("high".into()),
            known_exploited: false,
            ransomware: false,
            epss: None,
            severity_rank: 4,
            priority: "severe".into(),
            why: "installed < fixed 2.0".into(),
            detail: format!("{{\"version\":\"{version}\"}}"),
        }
    }

    fn history(store: &Store) -> Vec<(String, String, String)> {
        store
            .finding_history("h-1", 100)
            .unwrap()
            .into_iter()
            .rev()
            .map(|c| (c.advisory, c.change, c.cause))
            .collect()
    }

    #[test]
    fn a_match_writes_only_what_changed_and_keeps_the_history() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3")]);
        let a = finding("WW-A", "openssl", "1.0");
        let b = finding("WW-B", "git", "1.0");
        let first = store
            .replace_host_findings("h-1", &[a.clone(), b.clone()], MatchCause::Inventory, 10)
            .unwrap();
        assert_eq!((first.appeared, first.fixed, first.open), (2, 0, 2));

        // The same result again changes nothing and writes no history.
        let same = store
            .replace_host_findings("h-1", &[a.clone(), b.clone()], MatchCause::Feed, 20)
            .unwrap();
        assert_eq!((same.appeared, same.fixed), (0, 0));
        assert_eq!(history(&store).len(), 2);

        // B fixed by an upgrade; then it comes back with a downgrade.
        let fixed = store
            .replace_host_findings("h-1", std::slice::from_ref(&a), MatchCause::Inventory, 30)
            .unwrap();
        assert_eq!((fixed.appeared, fixed.fixed), (0, 1));
        let query = FindingQuery {
            state: FindingState::Fixed,
            limit: 10,
            ..FindingQuery::default()
        };
        let page = store.findings(&query, 40).unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.findings[0].advisory, "WW-B");
        assert_eq!(page.findings[0].fixed_at, Some(30));
        assert_eq!(page.findings[0].first_seen, 10);

        let back = store
            .replace_host_findings("h-1", &[a, b], MatchCause::Inventory, 50)
            .unwrap();
        assert_eq!((back.appeared, back.fixed), (1, 0));
        let h = history(&store);
        let expected = [
            ("WW-A", "appeared", "inventory"),
            ("WW-B", "appeared", "inventory"),
            ("WW-B", "fixed", "inventory"),
            ("WW-B", "appeared", "inventory"),
        ];
        let got: Vec<(&str, &str, &str)> = h
            .iter()
            .map(|(a, c, k)| (a.as_str(), c.as_str(), k.as_str()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn exploited_vulnerabilities_that_appear_are_an_incident_once() {
        use crate::incidents::IncidentStore;
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3"), ("h-2", "lab")]);
        let quiet = finding("WW-A", "git", "1.0");
        let mut kev = finding("WW-KEV", "openssl", "1.0");
        kev.cves = vec!["CVE-2024-3094".into()];
        kev.known_exploited = true;
        kev.ransomware = true;
        store
            .replace_host_findings(
                "h-1",
                std::slice::from_ref(&quiet),
                MatchCause::Inventory,
                10,
            )
            .unwrap();
        assert!(
            store.incidents(None, 5).unwrap().is_empty(),
            "nothing exploited"
        );
        for (host, at) in [("h-1", 20), ("h-2", 30)] {
            store
                .replace_host_findings(host, &[quiet.clone(), kev.clone()], MatchCause::Feed, at)
                .unwrap();
        }
        // Matched again: still open, not new, nothing more.
        store
            .replace_host_findings("h-1", &[quiet, kev], MatchCause::Feed, 40)
            .unwrap();
        let list = store.incidents(None, 5).unwrap();
        assert_eq!(list.len(), 1, "{list:#?}");
        assert_eq!(list[0].signals, 2);
        assert_eq!(list[0].severity, "critical");
        assert_eq!(list[0].hosts, ["lab desk (lab)", "ward3 desk (ward3)"]);
        assert!(list[0].title.contains("CVE-2024-3094"), "{}", list[0].title);
    }

    #[test]
    fn a_suppression_by_cve_hides_the_finding_until_it_expires() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3")]);
        let a = finding("WW-A", "openssl", "1.0");
        let cve = a.cves[0].clone();
        store
            .replace_host_findings("h-1", &[a], MatchCause::Inventory, 10)
            .unwrap();
        store
            .create_suppression(
                &NewSuppression {
                    advisory: cve,
                    host_id: Some("h-1".into()),
                    reason: "isolated network".into(),
                    expires_at: 1_000,
                },
                "admin",
                "admin",
                20,
            )
            .unwrap();
        let open = |now| {
            let q = FindingQuery {
                limit: 10,
                ..FindingQuery::default()
            };
            store.findings(&q, now).unwrap().total
        };
        assert_eq!(open(500), 0, "hidden while the suppression holds");
        assert_eq!(open(1_000), 1, "open again once it expired");
        let entries = store.audit_entries(10).unwrap();
        assert!(entries.iter().any(|e| e.action == "finding.suppress"));
    }
}
