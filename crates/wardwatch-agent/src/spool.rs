//! The durable on-disk spool: every event is written here before it is sent, and leaves
//! only when the server has acknowledged it.
//!
//! The spool is a SQLite database (WAL, `synchronous=FULL`), so an event that
//! [`Spool::push`] returned for survives a crash of the agent or of the machine, and a
//! torn write is rolled back rather than leaving a truncated record. Sequence numbers come
//! from an `AUTOINCREMENT` key and are never reused, even after the events before them are
//! acknowledged and deleted: the server stores each (host, seq) once, so a reused number
//! would be silently dropped.
//!
//! The spool is bounded. When it is full, the oldest bulk data goes first, then the
//! oldest inventory changes, and security alerts last (the newest alerts are kept).

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use wardwatch_proto::{Event, EventBody, Priority};

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("this terminal's disk is full: the spool {path} cannot take events until space is freed on it (events already spooled are kept and still sent)")]
    DiskFull { path: PathBuf },
    #[error("spool database {path} holds an unreadable event (seq {seq}): {detail}")]
    Corrupt {
        path: PathBuf,
        seq: i64,
        detail: String,
    },
}

impl SpoolError {
    fn from_sqlite(path: &Path, source: rusqlite::Error) -> Self {
        let full = matches!(&source, rusqlite::Error::SqliteFailure(e, _)
            if e.code == rusqlite::ErrorCode::DiskFull);
        if full {
            SpoolError::DiskFull {
                path: path.to_path_buf(),
            }
        } else {
            SpoolError::Sqlite {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// Limits of the spool.
#[derive(Debug, Clone, Copy)]
pub struct SpoolLimits {
    pub max_events: u64,
    pub max_bytes: u64,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        Self {
            max_events: 1_000_000,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

/// What `push` had to drop to stay within the limits.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub events: u64,
    pub alerts: u64,
}

pub struct Spool {
    path: PathBuf,
    conn: Connection,
    limits: SpoolLimits,
    dropped_total: u64,
}

/// Spooled event ready to send.
pub struct Pending {
    pub events: Vec<Event>,
    /// Events in the spool that could not be decoded and were set aside (quarantined).
    pub unreadable: u64,
}

impl Spool {
    /// Opens or creates the spool at `path`.
    pub fn open(path: &Path, limits: SpoolLimits) -> Result<Self, SpoolError> {
        let wrap = |source| SpoolError::from_sqlite(path, source);
        let conn = wardwatch_os::open_sqlite(path).map_err(wrap)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 seq      INTEGER PRIMARY KEY AUTOINCREMENT,
                 priority INTEGER NOT NULL,
                 time     INTEGER NOT NULL,
                 body     TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS events_by_priority ON events(priority, seq);
             CREATE TABLE IF NOT EXISTS unreadable (
                 seq    INTEGER PRIMARY KEY,
                 body   TEXT NOT NULL,
                 reason TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS state (
                 key   TEXT PRIMARY KEY,
                 value TEXT NOT NULL
             );",
        )
        .map_err(wrap)?;
        // `quick_check` finds a spool damaged on disk (a truncated file reads as
        // corrupt); say so rather than failing later on a random page.
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(wrap)?;
        if check != "ok" {
            return Err(SpoolError::Corrupt {
                path: path.to_path_buf(),
                seq: 0,
                detail: format!("integrity check failed: {check}"),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            conn,
            limits,
            dropped_total: 0,
        })
    }

    fn err(&self, source: rusqlite::Error) -> SpoolError {
        SpoolError::from_sqlite(&self.path, source)
    }

    /// Durably appends an event and returns its sequence number. Makes room first if
    /// the spool is full.
    pub fn push(&mut self, time: i64, body: &EventBody) -> Result<(u64, Dropped), SpoolError> {
        self.push_many(time, std::slice::from_ref(body))
            .map(|(seqs, dropped)| (seqs.first().copied().unwrap_or(0), dropped))
    }

    /// Durably appends several events in one transaction.
    pub fn push_many(
        &mut self,
        time: i64,
        bodies: &[EventBody],
    ) -> Result<(Vec<u64>, Dropped), SpoolError> {
        self.push_inner(time, bodies, None)
    }

    /// Appends events and updates a state value in one transaction: the inventory
    /// snapshot must change exactly when the change events describing it are spooled.
    pub fn push_with_state(
        &mut self,
        time: i64,
        bodies: &[EventBody],
        key: &str,
        value: &str,
    ) -> Result<(Vec<u64>, Dropped), SpoolError> {
        self.push_inner(time, bodies, Some((key, value)))
    }

    fn push_inner(
        &mut self,
        time: i64,
        bodies: &[EventBody],
        state: Option<(&str, &str)>,
    ) -> Result<(Vec<u64>, Dropped), SpoolError> {
        let encoded: Vec<(Priority, String)> = bodies
            .iter()
            .map(|b| {
                serde_json::to_string(b)
                    .map(|json| (b.priority(), json))
                    .map_err(|e| SpoolError::Corrupt {
                        path: self.path.clone(),
                        seq: 0,
                        detail: format!("cannot encode event: {e}"),
                    })
            })
            .collect::<Result<_, _>>()?;
        let limits = self.limits;
        let written = (|| {
            let tx = self.conn.savepoint()?;
            let out = insert_events(&tx, &limits, time, &encoded)?;
            if let Some((key, value)) = state {
                tx.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)",
                    params![key, value],
                )?;
            }
            tx.commit()?;
            Ok(out)
        })();
        let (seqs, dropped) = written.map_err(|e| self.err(e))?;
        if dropped.events > 0 {
            self.dropped_total += dropped.events;
            tracing::warn!(
                dropped = dropped.events,
                alerts_dropped = dropped.alerts,
                max_events = self.limits.max_events,
                max_bytes = self.limits.max_bytes,
                "spool is full: dropped the oldest lowest-priority events to keep new ones (security alerts are kept longest); is the server reachable?"
            );
        }
        Ok((seqs, dropped))
    }

    /// The next events to send: alerts first, then by sequence number.
    pub fn peek(&mut self, max: usize) -> Result<Pending, SpoolError> {
        let rows: Vec<(i64, i64, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT seq, time, body FROM events ORDER BY priority, seq LIMIT ?1",
                )
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        let mut events = Vec::with_capacity(rows.len());
        let mut unreadable = 0;
        for (seq, time, body) in rows {
            match serde_json::from_str::<EventBody>(&body) {
                Ok(body) => events.push(Event {
                    seq: seq as u64,
                    time,
                    body,
                }),
                Err(e) => {
                    // Keep the bytes for inspection, but do not let one bad record
                    // block every event behind it.
                    tracing::error!(seq, error = %e, "unreadable event in the spool set aside");
                    self.set_aside(seq, &body, &e.to_string())?;
                    unreadable += 1;
                }
            }
        }
        Ok(Pending { events, unreadable })
    }

    fn set_aside(&mut self, seq: i64, body: &str, reason: &str) -> Result<(), SpoolError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT OR REPLACE INTO unreadable (seq, body, reason) VALUES (?1, ?2, ?3)",
            params![seq, body, reason],
        )
        .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM events WHERE seq = ?1", [seq])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Sets aside an event the server refuses to store, keeping its bytes for
    /// inspection, so that the events behind it can still be delivered.
    pub fn set_aside_rejected(&mut self, seq: u64, reason: &str) -> Result<(), SpoolError> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM events WHERE seq = ?1",
                [seq as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match body {
            Some(body) => self.set_aside(seq as i64, &body, reason),
            None => Ok(()),
        }
    }

    /// Removes events the server has acknowledged.
    pub fn acknowledge(&mut self, seqs: &[u64]) -> Result<(), SpoolError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM events WHERE seq = ?1")
                .map_err(|e| self.err(e))?;
            for seq in seqs {
                delete.execute([*seq as i64]).map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Events waiting to be sent.
    pub fn pending_count(&self) -> Result<u64, SpoolError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Events dropped because the spool was full, since it was opened.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// Reads a small piece of agent state kept beside the events (e.g. the last
    /// inventory), so that it is as durable as they are.
    pub fn state(&self, key: &str) -> Result<Option<String>, SpoolError> {
        self.conn
            .query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }
}

fn insert_events(
    tx: &Connection,
    limits: &SpoolLimits,
    time: i64,
    encoded: &[(Priority, String)],
) -> rusqlite::Result<(Vec<u64>, Dropped)> {
    let incoming_bytes: u64 = encoded.iter().map(|(_, j)| j.len() as u64).sum();
    let best_incoming = encoded
        .iter()
        .map(|(p, _)| *p)
        .min()
        .unwrap_or(Priority::Bulk);
    let dropped = make_room(
        tx,
        limits,
        encoded.len() as u64,
        incoming_bytes,
        best_incoming,
    )?;
    let mut seqs = Vec::with_capacity(encoded.len());
    let mut insert =
        tx.prepare_cached("INSERT INTO events (priority, time, body) VALUES (?1, ?2, ?3)")?;
    for (priority, json) in encoded {
        insert.execute(params![priority.as_i64(), time, json])?;
        seqs.push(tx.last_insert_rowid() as u64);
    }
    Ok((seqs, dropped))
}

/// Deletes the oldest lowest-priority events until `incoming` more fit. Events of a
/// higher priority than the best incoming one are never dropped for it; if nothing can
/// be dropped the incoming events still go in (the limit is soft by one batch), since
/// an event the agent has observed must not vanish silently.
fn make_room(
    tx: &Connection,
    limits: &SpoolLimits,
    incoming: u64,
    incoming_bytes: u64,
    best_incoming: Priority,
) -> rusqlite::Result<Dropped> {
    let (count, bytes): (i64, i64) = tx.query_row(
        "SELECT COUNT(*), IFNULL(SUM(LENGTH(body)), 0) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut count = count as u64;
    let mut bytes = bytes as u64;
    let mut dropped = Dropped::default();
    if count + incoming <= limits.max_events && bytes + incoming_bytes <= limits.max_bytes {
        return Ok(dropped);
    }
    let mut victims = tx.prepare_cached(
        "SELECT seq, priority, LENGTH(body) FROM events WHERE priority >= ?1
         ORDER BY priority DESC, seq ASC LIMIT 1000",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM events WHERE seq = ?1")?;
    while count + incoming > limits.max_events || bytes + incoming_bytes > limits.max_bytes {
        let batch: Vec<(i64, i64, i64)> = victims
            .query_map([best_incoming.as_i64()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        if batch.is_empty() {
            break;
        }
        for (seq, priority, len) in batch {
            if count + incoming <= limits.max_events && bytes + incoming_bytes <= limits.max_bytes {
                break;
            }
            delete.execute([seq])?;
            count -= 1;
            bytes = bytes.saturating_sub(len as u64);
            dropped.events += 1;
            if priority == Priority::Alert.as_i64() {
                dropped.alerts += 1;
            }
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardwatch_proto::{Alert, Severity};

    fn test_event(n: u64) -> EventBody {
        EventBody::Test {
            note: format!("event {n}"),
        }
    }

    fn alert(n: u64) -> EventBody {
        EventBody::Alert(Alert {
            source: "test".into(),
            severity: Severity::High,
            title: format!("alert {n}"),
            details: serde_json::Value::Null,
        })
    }

    #[test]
    fn events_survive_reopen_and_leave_only_when_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.db");
        let mut spool = Spool::open(&path, SpoolLimits::default()).unwrap();
        let (seqs, _) = spool
            .push_many(1, &[test_event(1), test_event(2), test_event(3)])
            .unwrap();
        assert_eq!(seqs, vec![1, 2, 3]);
        drop(spool);
        let mut spool = Spool::open(&path, SpoolLimits::default()).unwrap();
        let pending = spool.peek(10).unwrap();
        assert_eq!(pending.events.len(), 3);
        spool.acknowledge(&[1, 2]).unwrap();
        assert_eq!(spool.pending_count().unwrap(), 1);
    }

    #[test]
    fn sequence_numbers_are_never_reused_after_acknowledgement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.db");
        let mut spool = Spool::open(&path, SpoolLimits::default()).unwrap();
        let (a, _) = spool.push(1, &test_event(1)).unwrap();
        spool.acknowledge(&[a]).unwrap();
        drop(spool);
        let mut spool = Spool::open(&path, SpoolLimits::default()).unwrap();
        let (b, _) = spool.push(1, &test_event(2)).unwrap();
        assert!(b > a, "seq {b} must be greater than acknowledged {a}");
    }

    #[test]
    fn alerts_are_sent_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(&dir.path().join("s.db"), SpoolLimits::default()).unwrap();
        spool.push(1, &test_event(1)).unwrap();
        spool.push(1, &alert(2)).unwrap();
        let pending = spool.peek(10).unwrap();
        assert_eq!(pending.events[0].body.kind(), "alert");
        assert_eq!(pending.events[1].body.kind(), "test");
    }

    #[test]
    fn a_full_spool_drops_bulk_before_alerts_and_keeps_newest_alerts() {
        let dir = tempfile::tempdir().unwrap();
        let limits = SpoolLimits {
            max_events: 5,
            max_bytes: u64::MAX,
        };
        let mut spool = Spool::open(&dir.path().join("s.db"), limits).unwrap();
        for n in 0..3 {
            spool.push(1, &alert(n)).unwrap();
        }
        for n in 0..2 {
            spool.push(1, &test_event(n)).unwrap();
        }
        // Full: a new alert evicts the oldest bulk event, not an alert.
        let (_, dropped) = spool.push(1, &alert(3)).unwrap();
        assert_eq!(
            dropped,
            Dropped {
                events: 1,
                alerts: 0
            }
        );
        // A bulk event cannot evict alerts; it evicts the remaining bulk event.
        let (_, dropped) = spool.push(1, &test_event(9)).unwrap();
        assert_eq!(
            dropped,
            Dropped {
                events: 1,
                alerts: 0
            }
        );
        // Only alerts and one bulk event left; two more alerts evict the bulk event
        // and then the oldest alert.
        spool.push_many(1, &[alert(4), alert(5)]).unwrap();
        let titles: Vec<String> = spool
            .peek(10)
            .unwrap()
            .events
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::Alert(a) => Some(a.title),
                _ => None,
            })
            .collect();
        assert_eq!(
            titles,
            vec!["alert 1", "alert 2", "alert 3", "alert 4", "alert 5"]
        );
        assert_eq!(spool.dropped_total(), 4);
    }

    #[test]
    fn an_undecodable_record_is_set_aside_without_blocking_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(&dir.path().join("s.db"), SpoolLimits::default()).unwrap();
        spool.push(1, &test_event(1)).unwrap();
        spool
            .conn
            .execute(
                "INSERT INTO events (priority, time, body) VALUES (2, 1, '{\"kind\":\"nonsense\"')",
                [],
            )
            .unwrap();
        spool.push(1, &test_event(3)).unwrap();
        let pending = spool.peek(10).unwrap();
        assert_eq!(pending.events.len(), 2);
        assert_eq!(pending.unreadable, 1);
        assert_eq!(spool.pending_count().unwrap(), 2);
    }

    #[test]
    fn a_truncated_spool_file_is_reported_not_silently_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let mut spool = Spool::open(&path, SpoolLimits::default()).unwrap();
            let bodies: Vec<_> = (0..2000).map(test_event).collect();
            spool.push_many(1, &bodies).unwrap();
            spool
                .conn
                .pragma_update(None, "wal_checkpoint", "TRUNCATE")
                .unwrap();
        }
        let len = std::fs::metadata(&path).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(len / 2).unwrap();
        drop(file);
        let err = match Spool::open(&path, SpoolLimits::default()) {
            Ok(mut spool) => spool
                .peek(5000)
                .err()
                .expect("a truncated spool must not read as fine"),
            Err(e) => e,
        };
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}
