//! The SQLite database: opening it (WAL, `synchronous=FULL`, foreign keys), its schema
//! and migrations, and [`Store`], the SQLite side of every feature's storage trait (each
//! feature implements its trait for `Store` in its own module, SQL and all).
//!
//! One writer connection (SQLite has one writer anyway) and one reader connection, each
//! behind a mutex; callers on the async runtime reach them through `spawn_blocking`.
//! Every write that the server acknowledges to an agent is committed with
//! `synchronous=FULL` first, so an acknowledged event survives a crash of the server or
//! of the machine.

mod schema;

#[cfg(test)]
pub(crate) use schema::downgrade_for_test;
/// The schema steps in order, for tests that build an older database by hand.
#[cfg(test)]
pub(crate) use schema::MIGRATIONS;

/// `text` with LIKE's wildcards escaped, for `LIKE ? ESCAPE '\'` searches of what a
/// person typed (a `%` searches for a per-cent sign, not for everything).
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error in {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the database {path} was written by a newer wardwatch (schema {found}, this one knows up to {known}); upgrade wardwatch")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("enrollment token is not valid: no such token (check for typos, or create a new one with `wardwatch token create`)")]
    TokenUnknown,
    #[error("enrollment token has already been used ({uses} of {uses} uses); create a new one with `wardwatch token create`")]
    TokenUsedUp { uses: i64 },
    #[error("enrollment token expired at {at}; create a new one with `wardwatch token create`")]
    TokenExpired { at: String },
    #[error("an account named {0} exists already")]
    AccountExists(String),
    #[error("no such account: {0}")]
    NoSuchAdmin(String),
    #[error("{0}")]
    BadUsername(String),
    /// A change to an account that cannot be made as asked; the sentence says why.
    #[error("{0}")]
    AccountRefused(String),
    #[error("the current password is not right")]
    WrongPassword,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database could not grow because its disk (or quota) is full: the
    /// write was rolled back whole, and it will succeed once space is freed.
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } if e.code == rusqlite::ErrorCode::DiskFull
        )
    }
}

/// Result of storage operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// The server's database.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl Store {
    /// Opens (and creates or migrates) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let mut writer = open_connection(path)?;
        // Every write transaction takes the write lock when it begins, waiting for it as
        // long as the busy timeout allows: a deferred one that read first could not be
        // turned into a write after another process (the CLI beside the server, or the
        // server beside the CLI) had written meanwhile, and failed at once with
        // "database is locked".
        writer.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        schema::migrate(&writer).map_err(|e| match e {
            schema::MigrateError::Sqlite(source) => StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            },
            schema::MigrateError::TooNew { found, known } => StoreError::SchemaTooNew {
                path: path.to_path_buf(),
                found,
                known,
            },
        })?;
        let reader = open_connection(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    pub(crate) fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent (the transaction
        // rolls back when dropped), so a poisoned lock is safe to take over.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection of its own for a long read in the background (the overview's risk
    /// record), so that the console's reads do not wait behind it.
    pub(crate) fn background_reader(&self) -> StoreResult<Connection> {
        open_connection(&self.path)
    }

    /// Wraps a SQLite error with the database path.
    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

fn open_connection(path: &Path) -> StoreResult<Connection> {
    let wrap = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let conn = wardwatch_os::open_sqlite(path).map_err(wrap)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(wrap)?;
    Ok(conn)
}
