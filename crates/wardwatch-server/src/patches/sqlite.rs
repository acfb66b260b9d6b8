//! The plan's reading of the findings, in SQLite.

use wardwatch_patch::{Candidate, Installed};
use wardwatch_proto::OsInfo;
use wardwatch_vuln::matcher::Priority;

use super::window::Window;
use super::LastPatchInstall;
use super::PatchStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreError, StoreResult};
use crate::vuln::findings::SUPPRESSION_OF_F;

impl PatchStore for Store {
    fn patch_candidates(&self, now: i64) -> StoreResult<Vec<Candidate>> {
        let conn = self.reader();
        // One row per installed architecture of the package (multiarch terminals hold
        // libssl3:amd64 and libssl3:i386 at one version); the terminal's own
        // architecture when the package row is missing.
        let sql = format!(
            "SELECT f.host_id, h.hostname, h.department, h.os_json, f.ecosystem, f.package,
                    f.version, f.source, f.fixed_version, f.advisory, f.priority, f.remedy, p.arch
             FROM findings f
             JOIN hosts h ON h.id = f.host_id
             LEFT JOIN packages p
               ON p.host_id = f.host_id AND p.name = f.package AND p.version = f.version
             WHERE h.revoked_at IS NULL AND f.fixed_at IS NULL AND {SUPPRESSION_OF_F} IS NULL
             ORDER BY f.host_id, f.package, f.advisory"
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([now], |r| {
                Ok((
                    Row {
                        host_id: r.get(0)?,
                        hostname: r.get(1)?,
                        department: r.get(2)?,
                        os_json: r.get(3)?,
                        ecosystem: r.get(4)?,
                        package: r.get(5)?,
                        version: r.get(6)?,
                        source: r.get(7)?,
                        fixed_version: r.get(8)?,
                        advisory: r.get(9)?,
                        priority: r.get(10)?,
                        remedy: r.get(11)?,
                    },
                    r.get::<_, Option<String>>(12)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(row, arch)| row.into_candidate(arch))
            .collect()
    }

    fn last_patch_installs(&self) -> StoreResult<Vec<LastPatchInstall>> {
        let commands = self.query_commands(
            "c.id IN (SELECT MAX(id) FROM host_commands WHERE kind = 'patch.install' GROUP BY host_id)",
            &[],
            u32::MAX,
        )?;
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT hostname, department FROM hosts WHERE id = ?1")
            .map_err(|e| self.err(e))?;
        commands
            .into_iter()
            .map(|command| {
                let (hostname, department) = stmt
                    .query_row([&command.host_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(|e| self.err(e))?;
                Ok(LastPatchInstall {
                    command,
                    hostname,
                    department,
                })
            })
            .collect()
    }

    fn patch_windows(&self) -> StoreResult<Vec<Window>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT department, days, start_minute, end_minute, utc_offset_minutes
                 FROM patch_windows ORDER BY department",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let days: String = r.get(1)?;
                let mut flags = [false; 7];
                for (flag, c) in flags.iter_mut().zip(days.chars()) {
                    *flag = c == '1';
                }
                Ok(Window {
                    department: r.get(0)?,
                    days: flags,
                    start_minute: r.get(2)?,
                    end_minute: r.get(3)?,
                    utc_offset_minutes: r.get(4)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    fn set_patch_window(&self, window: &Window, actor: &str, now: i64) -> StoreResult<()> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let days: String = window
            .days
            .iter()
            .map(|d| if *d { '1' } else { '0' })
            .collect();
        tx.execute(
            "INSERT OR REPLACE INTO patch_windows
             (department, days, start_minute, end_minute, utc_offset_minutes, updated_by, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                window.department,
                days,
                window.start_minute,
                window.end_minute,
                window.utc_offset_minutes,
                actor,
                now
            ],
        )
        .map_err(|e| self.err(e))?;
        let detail = serde_json::json!({ "window": window.describe() }).to_string();
        audit_in(&tx, actor, "patch.window_set", &window.department, &detail)
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn clear_patch_window(&self, department: &str, actor: &str) -> StoreResult<bool> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let removed = tx
            .execute(
                "DELETE FROM patch_windows WHERE department = ?1",
                [department],
            )
            .map_err(|e| self.err(e))?;
        if removed > 0 {
            audit_in(&tx, actor, "patch.window_clear", department, "{}")
                .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(removed > 0)
    }

    fn installed_versions(&self) -> StoreResult<Vec<Installed>> {
        let conn = self.reader();
        // Distinct per system, not per terminal: a few thousand rows for a fleet.
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT json_extract(h.os_json, '$.os_id'),
                        json_extract(h.os_json, '$.os_codename'), p.name, p.version
                 FROM packages p JOIN hosts h ON h.id = p.host_id
                 WHERE h.revoked_at IS NULL AND p.ecosystem = 'dpkg' AND h.os_json IS NOT NULL",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([], |r| {
            Ok(Installed {
                os_id: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                codename: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                name: r.get(2)?,
                version: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.err(e))
    }
}

/// A finding row as read.
struct Row {
    host_id: String,
    hostname: String,
    department: String,
    os_json: Option<String>,
    ecosystem: String,
    package: String,
    version: String,
    source: String,
    fixed_version: Option<String>,
    advisory: String,
    priority: String,
    remedy: String,
}

impl Row {
    fn into_candidate(self, arch: Option<String>) -> StoreResult<Candidate> {
        let os: OsInfo = match &self.os_json {
            Some(json) => serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("host {}: OS data: {e}", self.host_id)))?,
            None => OsInfo::default(),
        };
        let priority = Priority::parse(&self.priority).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "host {}: finding {}: priority {:?}",
                self.host_id, self.advisory, self.priority
            ))
        })?;
        Ok(Candidate {
            arch: arch.unwrap_or_else(|| os.arch.clone()),
            host_id: self.host_id,
            hostname: self.hostname,
            department: self.department,
            ecosystem: self.ecosystem,
            os_id: os.os_id,
            release: os.os_version_id,
            codename: os.os_codename,
            package: self.package,
            installed: self.version,
            source: self.source,
            fixed_version: self.fixed_version,
            advisory: self.advisory,
            priority,
            remedy: self.remedy,
        })
    }
}
