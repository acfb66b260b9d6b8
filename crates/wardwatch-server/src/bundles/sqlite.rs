//! What the database knows of offline bundles: each import (who, when, what it held), the
//! versions each host says it runs, and the settings the console changes. The bundle
//! files themselves live in the data directory (`crate::bundles`); an import is recorded
//! here, with its audit entry, in one transaction.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::BundleStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreResult};
use crate::hosts::ONLINE_WINDOW_MILLIS;

/// A bundle that was just installed, to be recorded.
#[derive(Debug, Clone)]
pub struct BundleRecord {
    pub kind: String,
    pub version: i64,
    /// Unix milliseconds, from the manifest.
    pub created: i64,
    pub expires: i64,
    /// The publisher key that signed it, as minisign prints it.
    pub key_id: String,
    /// SHA-256 of the exact signed `manifest.json`.
    pub manifest_sha256: String,
    /// SHA-256 of the bundle file, when it was read whole.
    pub file_sha256: Option<String>,
    /// (name, size, SHA-256 hex) of each member.
    pub members: Vec<(String, u64, String)>,
}

/// A recorded import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedBundle {
    pub id: i64,
    pub kind: String,
    pub version: i64,
    pub created: i64,
    pub expires: i64,
    pub imported_at: i64,
    pub imported_by: String,
    pub key_id: String,
    pub manifest_sha256: String,
    pub file_sha256: Option<String>,
    pub member_count: i64,
    pub total_size: i64,
}

/// A version a host runs, as it last reported it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportedBundle {
    pub kind: String,
    pub version: i64,
    pub reported_at: i64,
}

/// A host and the bundle versions it reported.
#[derive(Debug, Clone, Serialize)]
pub struct HostBundleVersions {
    pub host_id: String,
    pub hostname: String,
    pub label: String,
    pub department: String,
    pub online: bool,
    pub last_seen: Option<i64>,
    /// By kind.
    pub bundles: BTreeMap<String, ReportedBundle>,
}

const IMPORTED_COLUMNS: &str = "id, kind, version, created, expires, imported_at, imported_by, key_id, manifest_sha256, file_sha256, member_count, total_size";

fn imported_from_row(r: &Row<'_>) -> rusqlite::Result<ImportedBundle> {
    Ok(ImportedBundle {
        id: r.get(0)?,
        kind: r.get(1)?,
        version: r.get(2)?,
        created: r.get(3)?,
        expires: r.get(4)?,
        imported_at: r.get(5)?,
        imported_by: r.get(6)?,
        key_id: r.get(7)?,
        manifest_sha256: r.get(8)?,
        file_sha256: r.get(9)?,
        member_count: r.get(10)?,
        total_size: r.get(11)?,
    })
}

impl BundleStore for Store {
    fn record_bundle(
        &self,
        record: &BundleRecord,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> StoreResult<ImportedBundle> {
        let now = wardwatch_proto::now_millis();
        let total: u64 = record
            .members
            .iter()
            .fold(0u64, |acc, m| acc.saturating_add(m.1));
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO bundles (kind, version, created, expires, imported_at, imported_by, key_id,
                                  manifest_sha256, file_sha256, member_count, total_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                record.kind,
                record.version,
                record.created,
                record.expires,
                now,
                actor,
                record.key_id,
                record.manifest_sha256,
                record.file_sha256,
                record.members.len() as i64,
                i64::try_from(total).unwrap_or(i64::MAX),
            ],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO bundle_members (bundle_id, name, size, sha256) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| self.err(e))?;
            for (name, size, sha256) in &record.members {
                insert
                    .execute(params![
                        id,
                        name,
                        i64::try_from(*size).unwrap_or(i64::MAX),
                        sha256
                    ])
                    .map_err(|e| self.err(e))?;
            }
        }
        audit_in(
            &tx,
            actor,
            action,
            &format!("{} version {}", record.kind, record.version),
            detail,
        )
        .map_err(|e| self.err(e))?;
        let imported = tx
            .query_row(
                &format!("SELECT {IMPORTED_COLUMNS} FROM bundles WHERE id = ?1"),
                [id],
                imported_from_row,
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(imported)
    }

    fn bundle_max_version(&self, kind: &str) -> StoreResult<Option<i64>> {
        let conn = self.reader();
        conn.query_row(
            "SELECT MAX(version) FROM bundles WHERE kind = ?1",
            [kind],
            |r| r.get(0),
        )
        .map_err(|e| self.err(e))
    }

    fn bundle_record(&self, kind: &str, version: i64) -> StoreResult<Option<ImportedBundle>> {
        let conn = self.reader();
        conn.query_row(
            &format!("SELECT {IMPORTED_COLUMNS} FROM bundles WHERE kind = ?1 AND version = ?2"),
            params![kind, version],
            imported_from_row,
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    fn bundle_history(&self, limit: u32) -> StoreResult<Vec<ImportedBundle>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {IMPORTED_COLUMNS} FROM bundles ORDER BY id DESC LIMIT ?1"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit], imported_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn report_host_bundles(&self, host_id: &str, bundles: &[(String, i64)]) -> StoreResult<()> {
        let now = wardwatch_proto::now_millis();
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM host_bundles WHERE host_id = ?1", [host_id])
            .map_err(|e| self.err(e))?;
        for (kind, version) in bundles {
            tx.execute(
                "INSERT OR REPLACE INTO host_bundles (host_id, kind, version, reported_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![host_id, kind, version, now],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    fn host_bundle_versions(&self) -> StoreResult<Vec<HostBundleVersions>> {
        let now = wardwatch_proto::now_millis();
        let conn = self.reader();
        let mut hosts: Vec<HostBundleVersions> = {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, hostname, label, department, last_seen FROM hosts
                     WHERE revoked_at IS NULL ORDER BY department, hostname, id",
                )
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| {
                    let last_seen: Option<i64> = r.get(4)?;
                    Ok(HostBundleVersions {
                        host_id: r.get(0)?,
                        hostname: r.get(1)?,
                        label: r.get(2)?,
                        department: r.get(3)?,
                        online: last_seen.is_some_and(|t| now - t < ONLINE_WINDOW_MILLIS),
                        last_seen,
                        bundles: BTreeMap::new(),
                    })
                })
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        let mut stmt = conn
            .prepare_cached("SELECT host_id, kind, version, reported_at FROM host_bundles")
            .map_err(|e| self.err(e))?;
        let reports = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    ReportedBundle {
                        kind: r.get(1)?,
                        version: r.get(2)?,
                        reported_at: r.get(3)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        let mut by_host: BTreeMap<String, Vec<ReportedBundle>> = BTreeMap::new();
        for (host, report) in reports {
            by_host.entry(host).or_default().push(report);
        }
        for host in &mut hosts {
            for report in by_host.remove(&host.host_id).unwrap_or_default() {
                host.bundles.insert(report.kind.clone(), report);
            }
        }
        Ok(hosts)
    }

    fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let conn = self.reader();
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    fn set_setting(&self, key: &str, value: &str, actor: &str) -> StoreResult<()> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let previous: Option<String> = tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
            params![key, value],
        )
        .map_err(|e| self.err(e))?;
        let detail = serde_json::json!({ "from": previous, "to": value }).to_string();
        audit_in(&tx, actor, "settings.change", key, &detail).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditStore;

    fn record(version: i64) -> BundleRecord {
        BundleRecord {
            kind: "signatures".into(),
            version,
            created: 1_000,
            expires: 2_000,
            key_id: "0x0011223344556677".into(),
            manifest_sha256: "ab".repeat(32),
            file_sha256: None,
            members: vec![("rules/a.yar".into(), 3, "cd".repeat(32))],
        }
    }

    #[test]
    fn an_import_is_recorded_with_its_audit_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("wardwatch.db")).unwrap();
        assert_eq!(store.bundle_max_version("signatures").unwrap(), None);
        let imported = store
            .record_bundle(&record(3), "admin", "bundle.import", "{}")
            .unwrap();
        assert_eq!((imported.version, imported.member_count), (3, 1));
        assert_eq!(store.bundle_max_version("signatures").unwrap(), Some(3));
        let audit = store.audit_entries(1).unwrap();
        assert_eq!(audit[0].action, "bundle.import");
        assert_eq!(audit[0].target, "signatures version 3");
        // The same version twice is refused by the database too, audit entry included.
        assert!(store
            .record_bundle(&record(3), "admin", "bundle.import", "{}")
            .is_err());
        assert_eq!(store.audit_entries(10).unwrap().len(), 1);
        assert_eq!(store.audit_verify().unwrap(), None);
    }

    #[test]
    fn settings_changes_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("wardwatch.db")).unwrap();
        assert_eq!(store.setting("x").unwrap(), None);
        store.set_setting("x", "7", "admin").unwrap();
        store.set_setting("x", "9", "admin").unwrap();
        assert_eq!(store.setting("x").unwrap().as_deref(), Some("9"));
        let audit = store.audit_entries(1).unwrap();
        assert_eq!(audit[0].action, "settings.change");
        assert!(
            audit[0].detail.contains("\"from\":\"7\""),
            "{}",
            audit[0].detail
        );
    }
}
