//! Hosts: who may talk to the agent API, and what the console shows of them.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use wardwatch_proto::{Account, EventBody, Listener, OsInfo, Package};

use super::HostStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreResult};

/// A host is shown online when it was heard from within this time.
pub const ONLINE_WINDOW_MILLIS: i64 = 90_000;

/// What the agent API needs to know about the owner of a client certificate.
#[derive(Debug, Clone)]
pub struct HostAuth {
    pub host_id: String,
    pub revoked_at: Option<i64>,
}

/// A host as listed in the console.
#[derive(Debug, Clone, Serialize)]
pub struct HostSummary {
    pub id: String,
    pub hostname: String,
    pub label: String,
    pub department: String,
    pub os_pretty_name: String,
    pub os_id: String,
    pub os_version_id: String,
    pub kernel: String,
    pub arch: String,
    pub machine_id: String,
    pub addresses: Vec<String>,
    pub boot_time: Option<i64>,
    pub enrolled_at: i64,
    pub last_seen: Option<i64>,
    pub online: bool,
    pub revoked: bool,
    pub revoked_at: Option<i64>,
    pub package_count: i64,
    pub highest_seq: i64,
    pub spool_pending: i64,
    pub spool_dropped: i64,
    pub agent_version: Option<String>,
    /// Folders the terminal's ransomware guard protects (0: the guard is off).
    pub guard_folders: i64,
}

/// One page of a host's packages.
#[derive(Debug, Clone, Serialize)]
pub struct PackagePage {
    pub total: i64,
    pub packages: Vec<Package>,
}

/// One entry of a host's change history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub seq: i64,
    pub time: i64,
    pub received_at: i64,
    pub kind: String,
    pub summary: String,
}

const HOST_COLUMNS: &str = "id, hostname, label, department, os_json, enrolled_at, last_seen, revoked_at, package_count, highest_seq, spool_pending, spool_dropped, agent_version, guard_folders";

fn host_from_row(r: &Row<'_>, now: i64) -> rusqlite::Result<HostSummary> {
    let os_json: Option<String> = r.get(4)?;
    let os: OsInfo = os_json
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    let last_seen: Option<i64> = r.get(6)?;
    let revoked_at: Option<i64> = r.get(7)?;
    Ok(HostSummary {
        id: r.get(0)?,
        hostname: r.get(1)?,
        label: r.get(2)?,
        department: r.get(3)?,
        os_pretty_name: os.os_pretty_name,
        os_id: os.os_id,
        os_version_id: os.os_version_id,
        kernel: os.kernel,
        arch: os.arch,
        machine_id: os.machine_id,
        addresses: os.addresses,
        boot_time: (os.boot_time > 0).then_some(os.boot_time),
        enrolled_at: r.get(5)?,
        last_seen,
        online: revoked_at.is_none() && last_seen.is_some_and(|t| now - t < ONLINE_WINDOW_MILLIS),
        revoked: revoked_at.is_some(),
        revoked_at,
        package_count: r.get(8)?,
        highest_seq: r.get(9)?,
        spool_pending: r.get(10)?,
        spool_dropped: r.get(11)?,
        agent_version: r.get(12)?,
        guard_folders: r.get(13)?,
    })
}

impl HostStore for Store {
    fn host_for_certificate(&self, fingerprint: &str) -> StoreResult<Option<HostAuth>> {
        let conn = self.reader();
        conn.prepare_cached("SELECT id, revoked_at FROM hosts WHERE cert_fingerprint = ?1")
            .and_then(|mut s| {
                s.query_row([fingerprint], |r| {
                    Ok(HostAuth {
                        host_id: r.get(0)?,
                        revoked_at: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    fn revoke_host(&self, host_id: &str, actor: &str) -> StoreResult<bool> {
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let changed = tx
            .execute(
                "UPDATE hosts SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![host_id, wardwatch_proto::now_millis()],
            )
            .map_err(|e| self.err(e))?;
        let exists: bool = tx
            .query_row("SELECT 1 FROM hosts WHERE id = ?1", [host_id], |_| Ok(()))
            .optional()
            .map_err(|e| self.err(e))?
            .is_some();
        if changed > 0 {
            audit_in(&tx, actor, "host.revoke", host_id, "").map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(exists)
    }

    fn list_hosts(&self) -> StoreResult<Vec<HostSummary>> {
        let now = wardwatch_proto::now_millis();
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {HOST_COLUMNS} FROM hosts ORDER BY department, hostname, id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| host_from_row(r, now))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn host(&self, host_id: &str) -> StoreResult<Option<HostSummary>> {
        let now = wardwatch_proto::now_millis();
        let conn = self.reader();
        conn.prepare_cached(&format!("SELECT {HOST_COLUMNS} FROM hosts WHERE id = ?1"))
            .and_then(|mut s| s.query_row([host_id], |r| host_from_row(r, now)).optional())
            .map_err(|e| self.err(e))
    }

    fn host_department(&self, host_id: &str) -> StoreResult<Option<String>> {
        let conn = self.reader();
        conn.prepare_cached("SELECT department FROM hosts WHERE id = ?1")
            .and_then(|mut s| s.query_row([host_id], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    fn packages(
        &self,
        host_id: &str,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<PackagePage> {
        let pattern = format!("%{}%", escape_like(query));
        let conn = self.reader();
        let filter =
            "host_id = ?1 AND (name LIKE ?2 ESCAPE '\\' OR IFNULL(source, '') LIKE ?2 ESCAPE '\\')";
        let total: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM packages WHERE {filter}"),
                params![host_id, pattern],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT ecosystem, name, version, arch, source, source_version FROM packages
                 WHERE {filter} ORDER BY name, arch, version LIMIT ?3 OFFSET ?4"
            ))
            .map_err(|e| self.err(e))?;
        let packages = stmt
            .query_map(params![host_id, pattern, limit, offset], |r| {
                Ok(Package {
                    ecosystem: r.get(0)?,
                    name: r.get(1)?,
                    version: r.get(2)?,
                    arch: r.get(3)?,
                    source: r.get(4)?,
                    source_version: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        Ok(PackagePage { total, packages })
    }

    fn listeners(&self, host_id: &str) -> StoreResult<Vec<Listener>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT protocol, address, port, pid, process FROM listeners WHERE host_id = ?1
                 ORDER BY port, protocol, address",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([host_id], |r| {
                Ok(Listener {
                    protocol: r.get(0)?,
                    address: r.get(1)?,
                    port: r.get(2)?,
                    pid: r.get(3)?,
                    process: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn accounts(&self, host_id: &str) -> StoreResult<Vec<Account>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT name, uid, gid, home, shell, login, sudo FROM accounts WHERE host_id = ?1
                 ORDER BY uid, name",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([host_id], |r| {
                Ok(Account {
                    name: r.get(0)?,
                    uid: r.get(1)?,
                    gid: r.get(2)?,
                    home: r.get(3)?,
                    shell: r.get(4)?,
                    login: r.get(5)?,
                    sudo: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn history(&self, host_id: &str, limit: u32) -> StoreResult<Vec<HistoryEntry>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, time, received_at, kind, body FROM events
                 WHERE host_id = ?1 AND kind <> 'test' ORDER BY seq DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![host_id, limit], |r| {
                let kind: String = r.get(3)?;
                let body: String = r.get(4)?;
                Ok(HistoryEntry {
                    seq: r.get(0)?,
                    time: r.get(1)?,
                    received_at: r.get(2)?,
                    summary: summarize(&body).unwrap_or_else(|| kind.replace('_', " ")),
                    kind,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn event_count(&self, host_id: &str) -> StoreResult<i64> {
        let conn = self.reader();
        conn.query_row(
            "SELECT COUNT(*) FROM events WHERE host_id = ?1",
            [host_id],
            |r| r.get(0),
        )
        .map_err(|e| self.err(e))
    }
}

/// A one-line description of an event for the history list.
fn summarize(body_json: &str) -> Option<String> {
    let body: EventBody = serde_json::from_str(body_json).ok()?;
    Some(match body {
        EventBody::Inventory(inv) => format!(
            "full inventory: {} packages, {} listening sockets, {} accounts",
            inv.packages.len(),
            inv.listeners.len(),
            inv.accounts.len()
        ),
        EventBody::OsChanged(os) => {
            format!("system changed: {} kernel {}", os.os_pretty_name, os.kernel)
        }
        EventBody::PackageInstalled(p) => format!("installed {} {}", p.name, p.version),
        EventBody::PackageRemoved(p) => format!("removed {} {}", p.name, p.version),
        EventBody::PackageUpgraded {
            package,
            previous_version,
        } => format!(
            "{} {} → {}",
            package.name, previous_version, package.version
        ),
        EventBody::ListenerOpened(l) => format!(
            "new listening port {}/{} on {}{}",
            l.port,
            l.protocol,
            l.address,
            l.process.map(|p| format!(" ({p})")).unwrap_or_default()
        ),
        EventBody::ListenerClosed(l) => {
            format!("port {}/{} on {} closed", l.port, l.protocol, l.address)
        }
        EventBody::AccountAdded(a) => format!(
            "new account {} (uid {}){}",
            a.name,
            a.uid,
            if a.sudo { ", with sudo" } else { "" }
        ),
        EventBody::AccountRemoved(a) => format!("account {} removed", a.name),
        EventBody::Action(a) => format!("{} {} by {}", a.action, a.target, a.actor),
        EventBody::AccountChanged(a) => format!(
            "account {} changed: shell {}{}",
            a.name,
            a.shell,
            if a.sudo { ", with sudo" } else { "" }
        ),
        EventBody::Alert(alert) => format!("alert: {}", alert.title),
        EventBody::Test { note } => format!("test event: {note}"),
    })
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
