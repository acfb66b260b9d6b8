//! One open repository and what can be done with it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustic_backend::local::LocalBackend;
use rustic_core::repofile::SnapshotFile;
use rustic_core::{
    BackupOptions, ConfigOptions, Credentials, KeyOptions, OpenStatus, Repository as RusticRepo,
    RepositoryBackends, RepositoryOptions, SnapshotOptions, WriteBackend,
};

use crate::pace::Pacer;
use crate::progress::{ByteCounter, CountingBars};
use crate::source::FilteredSource;
use crate::BackupError;

/// A local directory as a repository backend (a USB disk, a NAS mount, or the server's
/// own copy of a terminal's repository).
pub fn local_backend(path: &Path) -> Result<Arc<dyn WriteBackend>, BackupError> {
    let location = path.to_str().ok_or_else(|| {
        BackupError::Invalid(format!(
            "the repository path {} is not valid UTF-8",
            path.display()
        ))
    })?;
    let backend = LocalBackend::new(location, std::iter::empty())
        .map_err(BackupError::rustic("cannot use the repository directory"))?;
    Ok(Arc::new(backend))
}

/// What to back up.
#[derive(Debug, Clone, Default)]
pub struct BackupRequest {
    /// Absolute paths of the trees to back up.
    pub paths: Vec<PathBuf>,
    /// Absolute paths left out (the guard's canary files, the agent's own state).
    pub excludes: Vec<PathBuf>,
    /// Files whose name starts with one of these are left out wherever they are (the
    /// guard's canaries, renamed ones included).
    pub exclude_name_prefixes: Vec<String>,
    /// The host name written into the snapshot.
    pub hostname: String,
    pub tags: Vec<String>,
    /// Asked before each read of file content (a CPU budget); `None`: full speed.
    pub pacer: Option<Arc<dyn Pacer>>,
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

/// What a restore drill read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillReport {
    pub snapshot_id: String,
    pub files_in_snapshot: u64,
    pub files_read: u64,
    pub bytes_read: u64,
    /// Files that could not be read back whole, each a sentence; empty: the drill passed.
    pub problems: Vec<String>,
}

/// How a prune may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneMode {
    /// At once: nothing else writes to the repository now (a local disk, a CLI run).
    Now,
    /// In two phases, safe beside a backup that is uploading at the same time.
    BesideBackups,
}

/// What a prune removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneSummary {
    pub packs_removed: u64,
    pub bytes_freed: u64,
}

/// An open repository.
pub struct Repository {
    /// rustic's open repository; reopened for the steps that need an index.
    pub(crate) inner: RusticRepo<OpenStatus>,
    /// Where rustic's byte progress lands during a backup.
    counter: Arc<ByteCounter>,
    /// The storage itself, for what rustic does not expose (listing pack sizes).
    pub(crate) backend: Arc<dyn WriteBackend>,
}

/// rustic's repository before it is opened, with our progress adapter and no cache
/// (an agent keeps no cache in a home directory).
fn unopened(
    backend: Arc<dyn WriteBackend>,
    counter: &Arc<ByteCounter>,
) -> Result<RusticRepo<()>, BackupError> {
    let opts = RepositoryOptions::default().no_cache(true);
    let backends = RepositoryBackends::new(backend, None);
    RusticRepo::new_with_progress(&opts, &backends, CountingBars(counter.clone()))
        .map_err(BackupError::rustic("cannot use the repository"))
}

impl Repository {
    /// Creates a new repository in an empty backend, with one key for `password`.
    ///
    /// Repository format version 2 (compressed), which restic reads since 0.14.
    pub fn init(backend: Arc<dyn WriteBackend>, password: &str) -> Result<Self, BackupError> {
        let counter = Arc::new(ByteCounter::default());
        let config = ConfigOptions::default().set_version(2_u32);
        let inner = unopened(backend.clone(), &counter)?
            .init(
                &Credentials::password(password),
                &KeyOptions::default(),
                &config,
            )
            .map_err(BackupError::rustic("cannot create the repository"))?;
        Ok(Self {
            inner,
            counter,
            backend,
        })
    }

    /// Opens an existing repository with any of its keys.
    pub fn open(backend: Arc<dyn WriteBackend>, password: &str) -> Result<Self, BackupError> {
        let counter = Arc::new(ByteCounter::default());
        let inner = unopened(backend.clone(), &counter)?
            .open(&Credentials::password(password))
            .map_err(BackupError::rustic("cannot open the repository"))?;
        Ok(Self {
            inner,
            counter,
            backend,
        })
    }

    /// A second handle on the open repository (rustic's is not `Clone`), opened with
    /// the master key already decrypted: no second password derivation.
    pub(crate) fn reopen(&self) -> Result<RusticRepo<OpenStatus>, BackupError> {
        unopened(self.backend.clone(), &self.counter)?
            .open(&Credentials::Masterkey(self.inner.key()))
            .map_err(BackupError::rustic("cannot open the repository"))
    }

    /// Adds a key for another password; returns the new key's id.
    pub fn add_key(&self, password: &str) -> Result<String, BackupError> {
        let id = self
            .inner
            .add_key(password, &KeyOptions::default())
            .map_err(BackupError::rustic("cannot add the key"))?;
        Ok(full_id(&id))
    }

    /// Every snapshot, oldest first by the time written into it.
    pub fn snapshots(&self) -> Result<Vec<SnapshotSummary>, BackupError> {
        let mut snaps = self
            .inner
            .get_all_snapshots()
            .map_err(BackupError::rustic("cannot list the snapshots"))?;
        snaps.sort_by(|a, b| a.time.cmp(&b.time));
        Ok(snaps.iter().map(summarize).collect())
    }

    /// Backs up the requested trees into a new snapshot.
    pub fn backup(
        &self,
        request: &BackupRequest,
        progress: &dyn BackupProgress,
    ) -> Result<BackupSummary, BackupError> {
        if request.paths.is_empty() {
            return Err(BackupError::Invalid(
                "nothing to back up: no path given".into(),
            ));
        }
        if let Some(path) = request.paths.iter().find(|p| !p.is_absolute()) {
            return Err(BackupError::Invalid(format!(
                "the path to back up {} is not absolute",
                path.display()
            )));
        }
        let started = Instant::now();
        let mut snap_opts = SnapshotOptions::default();
        if !request.hostname.is_empty() {
            // Empty: rustic writes this machine's host name.
            snap_opts = snap_opts.host(request.hostname.clone());
        }
        for tag in &request.tags {
            snap_opts = snap_opts
                .add_tags(tag)
                .map_err(BackupError::rustic("invalid tag"))?;
        }
        let snap = SnapshotFile::from_options(&snap_opts)
            .map_err(BackupError::rustic("cannot prepare the snapshot"))?;
        let source = FilteredSource::new(
            &request.paths,
            &request.excludes,
            &request.exclude_name_prefixes,
            request.pacer.clone(),
        )
        .map_err(BackupError::rustic("cannot read the paths to back up"))?;
        let repo = self
            .reopen()?
            .to_indexed_ids()
            .map_err(BackupError::rustic("cannot read the repository index"))?;
        self.counter.reset();
        let done = AtomicBool::new(false);
        let result = std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let r = repo.archive(&BackupOptions::default(), &source, snap, &request.paths);
                done.store(true, Ordering::Release);
                r
            });
            // Forward rustic's counters while it works.
            while !done.load(Ordering::Acquire) {
                let (bytes, total) = self.counter.get();
                progress.bytes_done(bytes, total);
                std::thread::sleep(Duration::from_millis(200));
            }
            worker.join()
        });
        let snap = match result {
            Ok(r) => r.map_err(BackupError::rustic("backup failed"))?,
            Err(_) => {
                return Err(BackupError::Repository {
                    what: "backup failed",
                    message: "the backup thread panicked".into(),
                })
            }
        };
        let (bytes, total) = self.counter.get();
        progress.bytes_done(bytes, total);
        let s = snap.summary.clone().unwrap_or_default();
        Ok(BackupSummary {
            snapshot_id: full_id(&snap.id),
            files_new: s.files_new,
            files_changed: s.files_changed,
            files_unmodified: s.files_unmodified,
            bytes_processed: s.total_bytes_processed,
            bytes_added: s.data_added_packed,
            duration: started.elapsed(),
        })
    }
}

/// One rustic snapshot as listed here.
pub(crate) fn summarize(snap: &SnapshotFile) -> SnapshotSummary {
    let (files, bytes) = snap.summary.as_ref().map_or((0, 0), |s| {
        (s.total_files_processed, s.total_bytes_processed)
    });
    SnapshotSummary {
        id: full_id(&snap.id),
        time: SystemTime::from(snap.time.timestamp()),
        hostname: snap.hostname.clone(),
        paths: snap.paths.iter().cloned().collect(),
        tags: snap.tags.iter().cloned().collect(),
        files,
        bytes,
    }
}

/// An id in full (64 hex digits); rustic's `Display` shortens it to 8.
pub(crate) fn full_id(id: &rustic_core::Id) -> String {
    id.to_hex().as_str().to_string()
}
