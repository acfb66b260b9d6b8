//! Durable local storage shared by the agent and the server: secrets written owner-only
//! and atomically, directory entries made durable and swapped atomically (`entries`), SQLite opened the one way both rely on for durability, and data
//! directories kept owner-only (`owner_only`).

mod entries;
mod owner_only;

pub use entries::{exchange, sync_dir, write_new};
pub use owner_only::{restrict_new_files, tighten_tree, Tightened};

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// Writes a file readable by its owner only (a private key, a certificate), replacing it
/// atomically so a crash never leaves half of it behind.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)
}

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
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_are_owner_only_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        write_private(&path, b"first").unwrap();
        write_private(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!path.with_extension("tmp").exists());
    }

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
