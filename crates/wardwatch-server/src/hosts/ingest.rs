//! Storing an agent's batch: exactly once per (host, seq), all or nothing.
//!
//! The events and their effect on the host's current inventory are written in one
//! transaction. An event the server already holds (a resend after a lost acknowledgement)
//! is skipped together with its effect, so replaying a batch never applies a change twice.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use wardwatch_proto::{Account, BatchAck, Event, EventBody, Heartbeat, Listener, OsInfo, Package};

use super::IngestStore;
use crate::audit::sqlite::audit_in;
use crate::db::{Store, StoreResult};
use crate::incidents::signal::Signal;

impl IngestStore for Store {
    fn ingest(&self, host_id: &str, events: &[Event]) -> StoreResult<BatchAck> {
        self.ingest_batch(host_id, events).map(|(ack, _)| ack)
    }

    fn ingest_batch(&self, host_id: &str, events: &[Event]) -> StoreResult<(BatchAck, bool)> {
        let now = wardwatch_proto::now_millis();
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let result = ingest_in(&tx, host_id, events, now).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(result)
    }

    fn heartbeat(&self, host_id: &str, beat: &Heartbeat) -> StoreResult<()> {
        let now = wardwatch_proto::now_millis();
        let conn = self.writer();
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        (|| -> rusqlite::Result<()> {
            let before: Option<i64> = tx
                .prepare_cached("SELECT spool_dropped FROM hosts WHERE id = ?1")?
                .query_row([host_id], |r| r.get(0))
                .optional()?;
            tx.prepare_cached(
                "UPDATE hosts SET last_seen = ?2, spool_pending = ?3, spool_dropped = ?4, agent_version = ?5,
                                  guard_folders = ?6, clock_offset_ms = ?7
                 WHERE id = ?1",
            )?
            .execute(params![
                host_id,
                now,
                beat.spool_pending as i64,
                beat.spool_dropped as i64,
                beat.agent_version,
                beat.guard_folders,
                beat.agent_time.map(|t| t.saturating_sub(now))
            ])?;
            let dropped = i64::try_from(beat.spool_dropped).unwrap_or(i64::MAX);
            if let Some(lost) = newly_dropped(before, dropped) {
                let signal = Signal::spool_overflow(host_id, lost, beat.spool_dropped, now);
                crate::incidents::sqlite::group_signal(&tx, &signal)?;
            }
            Ok(())
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// Events a terminal's spool dropped since its last report: the count only grows, and
/// starts again from zero when the agent's spool was made anew.
fn newly_dropped(before: Option<i64>, now: i64) -> Option<u64> {
    let lost = match before {
        Some(b) if now >= b => now - b,
        _ => now,
    };
    u64::try_from(lost).ok().filter(|l| *l > 0)
}

fn ingest_in(
    tx: &Transaction<'_>,
    host_id: &str,
    events: &[Event],
    now: i64,
) -> rusqlite::Result<(BatchAck, bool)> {
    let mut stored = 0u32;
    let mut duplicates = 0u32;
    let mut packages_changed = false;
    let mut os_changed = false;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO events (host_id, seq, kind, time, received_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for event in events {
            let body = serde_json::to_string(&event.body)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            let inserted = insert.execute(params![
                host_id,
                event.seq as i64,
                event.body.kind(),
                event.time,
                now,
                body
            ])?;
            if inserted == 0 {
                duplicates += 1;
                continue;
            }
            stored += 1;
            packages_changed |= apply(tx, host_id, &event.body)?;
            os_changed |= matches!(event.body, EventBody::OsChanged(_));
            if let EventBody::Alert(alert) = &event.body {
                crate::alerts::sqlite::number_alert(tx, host_id, event.seq as i64, now, alert)?;
            }
        }
    }
    if packages_changed {
        tx.execute(
            "UPDATE hosts SET package_count = (SELECT COUNT(*) FROM packages WHERE host_id = ?1)
             WHERE id = ?1",
            [host_id],
        )?;
    }
    let batch_max = events.iter().map(|e| e.seq).max().unwrap_or(0) as i64;
    tx.execute(
        "UPDATE hosts SET last_seen = ?2, highest_seq = MAX(highest_seq, ?3) WHERE id = ?1",
        params![host_id, now, batch_max],
    )?;
    let highest: i64 = tx.query_row(
        "SELECT highest_seq FROM hosts WHERE id = ?1",
        [host_id],
        |r| r.get(0),
    )?;
    let ack = BatchAck {
        stored,
        duplicates,
        highest_seq: highest.max(0) as u64,
    };
    Ok((ack, packages_changed || os_changed))
}

/// Applies one new event to the host's current state; true when packages changed.
fn apply(tx: &Connection, host_id: &str, body: &EventBody) -> rusqlite::Result<bool> {
    match body {
        EventBody::Inventory(inv) => {
            set_os(tx, host_id, &inv.os)?;
            for table in ["packages", "listeners", "accounts"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE host_id = ?1"),
                    [host_id],
                )?;
            }
            for p in &inv.packages {
                upsert_package(tx, host_id, p)?;
            }
            for l in &inv.listeners {
                upsert_listener(tx, host_id, l)?;
            }
            for a in &inv.accounts {
                upsert_account(tx, host_id, a)?;
            }
            Ok(true)
        }
        EventBody::OsChanged(os) => set_os(tx, host_id, os).map(|_| false),
        EventBody::PackageInstalled(p) => upsert_package(tx, host_id, p).map(|_| true),
        EventBody::PackageUpgraded {
            package,
            previous_version,
        } => {
            delete_package(tx, host_id, package, previous_version)?;
            upsert_package(tx, host_id, package).map(|_| true)
        }
        EventBody::PackageRemoved(p) => delete_package(tx, host_id, p, &p.version).map(|_| true),
        EventBody::ListenerOpened(l) => upsert_listener(tx, host_id, l).map(|_| false),
        EventBody::ListenerClosed(l) => {
            tx.prepare_cached(
                "DELETE FROM listeners WHERE host_id = ?1 AND protocol = ?2 AND address = ?3 AND port = ?4",
            )?
            .execute(params![host_id, l.protocol, l.address, l.port])?;
            Ok(false)
        }
        EventBody::AccountAdded(a) | EventBody::AccountChanged(a) => {
            upsert_account(tx, host_id, a).map(|_| false)
        }
        EventBody::AccountRemoved(a) => {
            tx.prepare_cached("DELETE FROM accounts WHERE host_id = ?1 AND name = ?2")?
                .execute(params![host_id, a.name])?;
            Ok(false)
        }
        EventBody::Action(a) => {
            // The terminal's own actions go into the server's audit record, attributed
            // to the terminal and the user it names.
            let actor = format!("host {host_id}: {}", a.actor);
            audit_in(tx, &actor, &a.action, &a.target, &a.detail.to_string())?;
            if a.action == "backup.run" {
                crate::backup::sqlite::record_run(tx, host_id, true, &a.detail)?;
            }
            Ok(false)
        }
        EventBody::Alert(alert) if alert.source == "backup" => {
            crate::backup::sqlite::record_run(tx, host_id, false, &alert.details)?;
            Ok(false)
        }
        EventBody::Alert(_) | EventBody::Test { .. } => Ok(false),
    }
}

fn set_os(tx: &Connection, host_id: &str, os: &OsInfo) -> rusqlite::Result<()> {
    let json = serde_json::to_string(os)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.prepare_cached("UPDATE hosts SET os_json = ?2, hostname = CASE WHEN ?3 = '' THEN hostname ELSE ?3 END WHERE id = ?1")?
        .execute(params![host_id, json, os.hostname])?;
    Ok(())
}

fn upsert_package(tx: &Connection, host_id: &str, p: &Package) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO packages (host_id, ecosystem, name, arch, version, source, source_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        host_id,
        p.ecosystem,
        p.name,
        p.arch,
        p.version,
        p.source,
        p.source_version
    ])?;
    Ok(())
}

fn delete_package(
    tx: &Connection,
    host_id: &str,
    p: &Package,
    version: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "DELETE FROM packages
         WHERE host_id = ?1 AND ecosystem = ?2 AND name = ?3 AND arch = ?4 AND version = ?5",
    )?
    .execute(params![host_id, p.ecosystem, p.name, p.arch, version])?;
    Ok(())
}

fn upsert_listener(tx: &Connection, host_id: &str, l: &Listener) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO listeners (host_id, protocol, address, port, pid, process)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        host_id, l.protocol, l.address, l.port, l.pid, l.process
    ])?;
    Ok(())
}

fn upsert_account(tx: &Connection, host_id: &str, a: &Account) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO accounts (host_id, name, uid, gid, home, shell, login, sudo)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        host_id, a.name, a.uid, a.gid, a.home, a.shell, a.login, a.sudo
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::HostStore;
    use crate::testing::store_with_hosts;
    use wardwatch_proto::Inventory;

    fn rpm(name: &str, version: &str) -> Package {
        Package {
            ecosystem: "rpm".into(),
            name: name.into(),
            version: version.into(),
            arch: "x86_64".into(),
            source: Some(name.into()),
            source_version: None,
        }
    }

    fn event(seq: u64, body: EventBody) -> Event {
        Event { seq, time: 1, body }
    }

    fn versions(store: &Store, name: &str) -> Vec<String> {
        let page = store.packages("h-1", name, 100, 0).unwrap();
        page.packages.into_iter().map(|p| p.version).collect()
    }

    #[test]
    fn a_spool_that_dropped_events_is_an_incident_once_per_loss() {
        use crate::incidents::IncidentStore;
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3")]);
        let beat = |dropped: u64| Heartbeat {
            protocol: wardwatch_proto::PROTOCOL_VERSION,
            agent_version: "test".into(),
            spool_pending: 10,
            spool_dropped: dropped,
            guard_folders: 0,
            agent_time: None,
        };
        let signals = |store: &Store| -> Vec<i64> {
            store
                .incidents(None, 10)
                .unwrap()
                .iter()
                .flat_map(|i| store.incident(i.id).unwrap().unwrap().signal_list)
                .map(|s| s.detail["lost"].as_i64().unwrap())
                .collect()
        };
        store.heartbeat("h-1", &beat(0)).unwrap();
        assert!(signals(&store).is_empty());
        store.heartbeat("h-1", &beat(40)).unwrap();
        store.heartbeat("h-1", &beat(40)).unwrap();
        assert_eq!(signals(&store), [40]);
        // The agent restarted (its count starts again) and dropped more.
        store.heartbeat("h-1", &beat(5)).unwrap();
        assert_eq!(signals(&store), [40, 5]);
        assert_eq!(newly_dropped(None, 0), None);
        assert_eq!(newly_dropped(Some(3), 9), Some(6));
    }

    #[test]
    fn replayed_batches_apply_their_changes_once() {
        let (_dir, store) = store_with_hosts(&[("h-1", "ward3")]);
        let inventory = EventBody::Inventory(Inventory {
            packages: vec![
                rpm("kernel", "5.14.0-1"),
                rpm("kernel", "5.14.0-2"),
                rpm("openssl", "3.0.1"),
            ],
            ..Inventory::default()
        });
        let batch = vec![
            event(1, inventory),
            event(
                2,
                EventBody::PackageUpgraded {
                    package: rpm("openssl", "3.0.7"),
                    previous_version: "3.0.1".into(),
                },
            ),
            event(3, EventBody::PackageRemoved(rpm("kernel", "5.14.0-1"))),
        ];
        let ack = store.ingest("h-1", &batch).unwrap();
        assert_eq!((ack.stored, ack.duplicates, ack.highest_seq), (3, 0, 3));
        // Both kernels were kept until one was removed; the upgrade replaced openssl.
        assert_eq!(versions(&store, "kernel"), vec!["5.14.0-2"]);
        assert_eq!(versions(&store, "openssl"), vec!["3.0.7"]);

        // The resend of the whole batch (lost acknowledgement) changes nothing: the
        // inventory in it must not bring the removed kernel back.
        let ack = store.ingest("h-1", &batch).unwrap();
        assert_eq!((ack.stored, ack.duplicates), (0, 3));
        assert_eq!(versions(&store, "kernel"), vec!["5.14.0-2"]);
        assert_eq!(store.event_count("h-1").unwrap(), 3);
        assert_eq!(store.host("h-1").unwrap().unwrap().package_count, 2);
    }
}
