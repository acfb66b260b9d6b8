//! SQLite opened the one way the agent's spool and the server's store rely on.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// Opens a SQLite database in WAL mode with `synchronous=FULL`: a transaction that has
/// committed survives a crash of the process or of the machine, which is what both the
/// agent's spool and the server's acknowledgements promise.
pub fn open_sqlite(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_is_opened_in_wal_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_sqlite(&dir.path().join("db")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }
}
