//! Backups in restic's repository format, through `rustic_core`.
//!
//! A repository written here can be read by stock `restic` (and the other way round): a
//! hospital can restore without wardwatch. This crate knows nothing of the network or of
//! wardwatch's server: it takes a [`WriteBackend`] (a local directory from
//! [`local_backend`], or the agent's REST backend over mutual TLS) and a password, and
//! does the work synchronously; callers run it on a thread of their own.

#![forbid(unsafe_code)]

pub mod error;
mod maintenance;
pub mod pace;
mod progress;
pub mod repo;
mod restore;
mod restore_tree;
mod source;
pub mod throttle;

pub use pace::Pacer;
pub use throttle::Throttled;

pub use error::BackupError;
pub use repo::{
    local_backend, BackupProgress, BackupRequest, BackupSummary, CheckReport, DrillReport,
    FileRead, PruneMode, PruneSummary, Repository, RestoreSummary, SnapshotSummary,
};
pub use restore::{Reader, SnapshotEntry};
/// The storage interface a repository is written through; re-exported so that a backend
/// can be written elsewhere without naming `rustic_core`.
pub use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};
