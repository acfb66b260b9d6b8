//! One open repository and what can be done with it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustic_core::WriteBackend;

use crate::BackupError;

/// A local directory as a repository backend (a USB disk, a NAS mount, or the server's
/// own copy of a terminal's repository).
pub fn local_backend(path: &Path) -> Result<Arc<dyn WriteBackend>, BackupError> {
    let _ = path;
    todo!()
}

/// What to back up.
#[derive(Debug, Clone, Default)]
pub struct BackupRequest {
    /// Absolute paths of the trees to back up.
    pub paths: Vec<PathBuf>,
    /// Absolute paths left out (the guard's canary files, the agent's own state).
    pub excludes: Vec<PathBuf>,
    /// File names left out wherever they are (glob patterns on the name, e.g. the
    /// guard's canaries `.0000-wardwatch-canary*`).
    pub exclude_names: Vec<String>,
    /// The host name written into the snapshot.
    pub hostname: String,
    pub tags: Vec<String>,
}

/// Told how far a backup has come.
pub trait BackupProgress: Send + Sync {
    /// Bytes of file content read so far, of `total` (0 while still unknown).
    fn bytes_done(&self, done: u64, total: u64);
}

/// What a backup run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub snapshot_id: String,
    pub files_new: u64,
    pub files_changed: u64,
    pub files_unmodified: u64,
    /// Bytes of file content read.
    pub bytes_processed: u64,
    /// Bytes added to the repository (after deduplication and compression).
    pub bytes_added: u64,
    pub duration: Duration,
}

/// One snapshot as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// The full snapshot id (64 hex digits).
    pub id: String,
    /// The time the client wrote into the snapshot: not to be trusted for retention.
    pub time: SystemTime,
    pub hostname: String,
    pub paths: Vec<String>,
    pub tags: Vec<String>,
    /// Files and bytes in the snapshot, where the snapshot says.
    pub files: u64,
    pub bytes: u64,
}

/// What a restore wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    pub snapshot_id: String,
    pub files: u64,
    pub bytes: u64,
}

/// One file read out of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Problems found, each a sentence; empty: the repository holds.
    pub problems: Vec<String>,
    /// Bytes of pack data read back and verified.
    pub bytes_read: u64,
}

/// What a prune removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneSummary {
    pub packs_removed: u64,
    pub bytes_freed: u64,
}

/// An open repository.
pub struct Repository {}

impl Repository {
    /// Creates a new repository in an empty backend, with one key for `password`.
    pub fn init(backend: Arc<dyn WriteBackend>, password: &str) -> Result<Self, BackupError> {
        let _ = (backend, password);
        todo!()
    }

    /// Opens an existing repository with any of its keys.
    pub fn open(backend: Arc<dyn WriteBackend>, password: &str) -> Result<Self, BackupError> {
        let _ = (backend, password);
        todo!()
    }

    /// Adds a key for another password; returns the new key's id.
    pub fn add_key(&self, password: &str) -> Result<String, BackupError> {
        let _ = password;
        todo!()
    }

    /// Every snapshot, oldest first by the time written into it.
    pub fn snapshots(&self) -> Result<Vec<SnapshotSummary>, BackupError> {
        todo!()
    }

    /// Backs up the requested trees into a new snapshot.
    pub fn backup(
        &self,
        request: &BackupRequest,
        progress: &dyn BackupProgress,
    ) -> Result<BackupSummary, BackupError> {
        let _ = (request, progress);
        todo!()
    }

    /// Restores a snapshot (the newest when `None`; an id prefix is enough), or one path
    /// inside it, into `target`, which must be empty or absent.
    pub fn restore(
        &self,
        snapshot: Option<&str>,
        path: Option<&Path>,
        target: &Path,
    ) -> Result<RestoreSummary, BackupError> {
        let _ = (snapshot, path, target);
        todo!()
    }

    /// Streams one file of a snapshot (its absolute path as backed up) into `out`.
    pub fn read_file(
        &self,
        snapshot: &str,
        path: &Path,
        out: &mut dyn Write,
    ) -> Result<FileRead, BackupError> {
        let _ = (snapshot, path, out);
        todo!()
    }

    /// Checks the repository's structure and reads back `read_data_percent` of its packs.
    pub fn check(&self, read_data_percent: u8) -> Result<CheckReport, BackupError> {
        let _ = read_data_percent;
        todo!()
    }

    /// Removes these snapshots (full ids). Their data stays until [`Repository::prune`].
    pub fn forget(&self, snapshot_ids: &[String]) -> Result<(), BackupError> {
        let _ = snapshot_ids;
        todo!()
    }

    /// Removes data no snapshot needs any more.
    pub fn prune(&self) -> Result<PruneSummary, BackupError> {
        todo!()
    }
}
