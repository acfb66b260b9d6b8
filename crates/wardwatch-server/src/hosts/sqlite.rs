//! Hosts: who may talk to the agent API, and what the console shows of them.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use wardwatch_proto::{Account, EventBody, Listener, OsInfo, Package};

use super::HostStore;
use crate::audit::sqlite::audit_in;
use crate::db::{escape_like, Store, StoreResult};

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
    /// How far the terminal's clock was off the server's at its last heartbeat, in
    /// milliseconds (negative: behind); None before an agent that reports its time.
    pub clock_offset_ms: Option<i64>,
}

/// The SQL condition "the host `column` names is in the departments bound as a JSON
/// array at `param`, or that parameter is NULL": a department operator's scope, for
/// every table keyed by host.
pub(crate) fn in_departments(column: &str, param: &str) -> String {
    format!(
        "({param} IS NULL OR {column} IN (SELECT id FROM hosts WHERE department IN (SELECT value FROM json_each({param}))))"
    )
}

/// The departments of a scope as the JSON array [`in_departments`] binds (None: the
/// whole fleet, bound as NULL).
pub(crate) fn departments_param(departments: Option<&[String]>) -> Option<String> {
    departments.map(|d| serde_json::Value::from(d.to_vec()).to_string())
}

/// What a page of the host list asks for: a search, filters, an order and the page.
#[derive(Debug, Clone, Default)]
pub struct HostQuery {
    /// Words that must each appear in the name, label, department, OS or id.
    pub search: String,
    pub department: Option<String>,
    pub status: Option<HostStatus>,
    pub sort: HostSort,
    pub descending: bool,
    pub limit: u32,
    pub offset: u32,
    /// Only these departments' hosts (a department operator's scope).
    pub departments: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostStatus {
    Online,
    Offline,
    Revoked,
}

impl HostStatus {
    pub fn parse(text: &str) -> Option<HostStatus> {
        match text {
            "online" => Some(HostStatus::Online),
            "offline" => Some(HostStatus::Offline),
            "revoked" => Some(HostStatus::Revoked),
            _ => None,
        }
    }
}

/// The orders the host list offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostSort {
    #[default]
    Department,
    Name,
    Os,
    LastSeen,
    Packages,
}

impl HostSort {
    pub fn parse(text: &str) -> Option<HostSort> {
        match text {
            "department" => Some(HostSort::Department),
            "name" => Some(HostSort::Name),
            "os" => Some(HostSort::Os),
            "last_seen" => Some(HostSort::LastSeen),
            "packages" => Some(HostSort::Packages),
            _ => None,
        }
    }

    fn order_by(self, descending: bool) -> String {
        let dir = if descending { "DESC" } else { "ASC" };
        let key = match self {
            HostSort::Department => format!("department {dir}, hostname {dir}"),
            HostSort::Name => format!("hostname {dir}"),
            HostSort::Os => format!("json_extract(os_json, '$.os_pretty_name') {dir}, hostname"),
            HostSort::LastSeen => format!("last_seen {dir}"),
            HostSort::Packages => format!("package_count {dir}"),
        };
        format!("{key}, id")
    }
}

/// One page of the host list, with the counts of everything the search and filters
/// (other than the status) match.
#[derive(Debug, Clone, Serialize)]
pub struct HostPage {
    pub hosts: Vec<HostSummary>,
    /// Hosts matching everything asked, the status included.
    pub total: i64,
    pub online: i64,
    pub offline: i64,
    pub revoked: i64,
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

const HOST_COLUMNS: &str = "id, hostname, label, department, os_json, enrolled_at, last_seen, revoked_at, package_count, highest_seq, spool_pending, spool_dropped, agent_version, guard_folders, clock_offset_ms";

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
        clock_offset_ms: r.get(14)?,
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

    fn host_page(&self, query: &HostQuery, now: i64) -> StoreResult<HostPage> {
        let mut clauses: Vec<String> = Vec::new();
        let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        let bind = |v: Box<dyn rusqlite::ToSql>, values: &mut Vec<Box<dyn rusqlite::ToSql>>| {
            values.push(v);
            format!("?{}", values.len())
        };
        for word in query
            .search
            .split_whitespace()
            .take(crate::list_query::MAX_WORDS)
        {
            let p = bind(Box::new(format!("%{}%", escape_like(word))), &mut values);
            clauses.push(format!(
                "(hostname LIKE {p} ESCAPE '\\' OR label LIKE {p} ESCAPE '\\' \
                  OR department LIKE {p} ESCAPE '\\' OR id LIKE {p} ESCAPE '\\' \
                  OR json_extract(os_json, '$.os_pretty_name') LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some(d) = &query.department {
            let p = bind(Box::new(d.clone()), &mut values);
            clauses.push(format!("department = {p}"));
        }
        if let Some(scope) = departments_param(query.departments.as_deref()) {
            let p = bind(Box::new(scope), &mut values);
            clauses.push(format!("department IN (SELECT value FROM json_each({p}))"));
        }
        let since = bind(Box::new(now - ONLINE_WINDOW_MILLIS), &mut values);
        let online = format!("(revoked_at IS NULL AND last_seen > {since})");
        let offline =
            format!("(revoked_at IS NULL AND (last_seen IS NULL OR last_seen <= {since}))");
        let matching = if clauses.is_empty() {
            "1".to_string()
        } else {
            clauses.join(" AND ")
        };
        let status = match query.status {
            None => "1".to_string(),
            Some(HostStatus::Online) => online.clone(),
            Some(HostStatus::Offline) => offline.clone(),
            Some(HostStatus::Revoked) => "revoked_at IS NOT NULL".to_string(),
        };
        let conn = self.reader();
        let params: Vec<&dyn rusqlite::ToSql> = values.iter().map(|v| v.as_ref()).collect();
        let run = || -> rusqlite::Result<HostPage> {
            let (online_n, offline_n, revoked_n) = conn.query_row(
                &format!(
                    "SELECT IFNULL(SUM({online}), 0), IFNULL(SUM({offline}), 0),
                            IFNULL(SUM(revoked_at IS NOT NULL), 0)
                     FROM hosts WHERE {matching}"
                ),
                params.as_slice(),
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let total = match query.status {
                None => online_n + offline_n + revoked_n,
                Some(HostStatus::Online) => online_n,
                Some(HostStatus::Offline) => offline_n,
                Some(HostStatus::Revoked) => revoked_n,
            };
            let mut stmt = conn.prepare(&format!(
                // `since` is bound for the counts; named here too so that both
                // statements take the same parameters.
                "SELECT {HOST_COLUMNS} FROM hosts WHERE {matching} AND {status} AND {since} IS NOT NULL
                 ORDER BY {} LIMIT {} OFFSET {}",
                query.sort.order_by(query.descending),
                query.limit,
                query.offset
            ))?;
            let hosts = stmt
                .query_map(params.as_slice(), |r| host_from_row(r, now))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(HostPage {
                hosts,
                total,
                online: online_n,
                offline: offline_n,
                revoked: revoked_n,
            })
        };
        run().map_err(|e| self.err(e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::HostStore;
    use crate::testing::store_with_hosts;

    fn page(store: &Store, query: HostQuery) -> HostPage {
        store
            .host_page(
                &HostQuery {
                    limit: query.limit.max(1),
                    ..query
                },
                wardwatch_proto::now_millis(),
            )
            .unwrap()
    }

    fn names(page: &HostPage) -> Vec<&str> {
        page.hosts.iter().map(|h| h.hostname.as_str()).collect()
    }

    #[test]
    fn the_host_list_is_searched_filtered_sorted_and_paged_in_the_database() {
        let (_dir, store) = store_with_hosts(&[
            ("h-1", "ward3-ns"),
            ("h-2", "lab_pc"),
            ("h-3", "labpc"),
            ("h-4", "opd-1"),
        ]);
        let conn = store.writer();
        conn.execute(
            "UPDATE hosts SET department = 'Laboratory' WHERE id IN ('h-2', 'h-3')",
            [],
        )
        .unwrap();
        conn.execute("UPDATE hosts SET revoked_at = 1 WHERE id = 'h-4'", [])
            .unwrap();
        conn.execute(
            "UPDATE hosts SET last_seen = ?1 WHERE id = 'h-1'",
            [wardwatch_proto::now_millis()],
        )
        .unwrap();
        drop(conn);

        let all = page(
            &store,
            HostQuery {
                limit: 10,
                ..HostQuery::default()
            },
        );
        assert_eq!(names(&all), ["lab_pc", "labpc", "opd-1", "ward3-ns"]);
        assert_eq!(
            (all.total, all.online, all.offline, all.revoked),
            (4, 1, 2, 1)
        );

        // `_` is a letter in a search, not LIKE's any-character.
        let found = page(
            &store,
            HostQuery {
                search: "lab_".into(),
                limit: 10,
                ..HostQuery::default()
            },
        );
        assert_eq!(names(&found), ["lab_pc"]);
        // Words all match, in any field.
        let found = page(
            &store,
            HostQuery {
                search: "laboratory pc".into(),
                limit: 10,
                ..HostQuery::default()
            },
        );
        assert_eq!(found.total, 2);

        let sorted = page(
            &store,
            HostQuery {
                sort: HostSort::Name,
                descending: true,
                limit: 2,
                offset: 1,
                ..HostQuery::default()
            },
        );
        assert_eq!(names(&sorted), ["opd-1", "labpc"]);
        assert_eq!(
            sorted.total, 4,
            "the total is of every match, not of the page"
        );

        let offline = page(
            &store,
            HostQuery {
                status: Some(HostStatus::Offline),
                limit: 10,
                ..HostQuery::default()
            },
        );
        assert_eq!(names(&offline), ["lab_pc", "labpc"]);
        assert_eq!(offline.total, 2);

        let scoped = page(
            &store,
            HostQuery {
                departments: Some(vec!["Laboratory".into()]),
                limit: 10,
                ..HostQuery::default()
            },
        );
        assert_eq!(names(&scoped), ["lab_pc", "labpc"]);
        assert_eq!(scoped.total, 2);
        let outside = page(
            &store,
            HostQuery {
                departments: Some(vec!["Laboratory".into()]),
                department: Some("Ward 3".into()),
                limit: 10,
                ..HostQuery::default()
            },
        );
        assert_eq!(outside.total, 0, "a filter cannot reach past the scope");
    }
}
