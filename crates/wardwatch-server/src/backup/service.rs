//! The backup side of the server: where repositories live, the per-repository lock that
//! keeps retention away from uploads, creating a terminal's repository, and the work
//! done with the server's key (retention, checks, restores).

use std::collections::HashMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use wardwatch_backup::{local_backend, Repository};

use super::keys::{new_password, ServerKey};
use super::repo_files::{FileKind, RepoDir};
use super::retention::{self, Candidate};
use super::space::{self, SpaceLimits, SpaceRefusal};
use crate::db::StoreError;
use crate::storage::Storage;

/// What went wrong with backups on the server.
#[derive(Debug, thiserror::Error)]
pub enum BackupServiceError {
    #[error("{0}")]
    Repository(#[from] wardwatch_backup::BackupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    NotFound(String),
}

/// A terminal's repository handed out: the password of its own key.
#[derive(Debug, Clone)]
pub struct ProvisionedRepository {
    pub password: String,
    pub created: bool,
}

/// What one retention run decided and did.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    pub host_id: String,
    pub kept: usize,
    pub forgotten: Vec<String>,
    pub packs_removed: u64,
    pub bytes_freed: u64,
}

/// How a repository is held against other processes on the same data directory (a
/// `wardwatch backup retention` or `check` run beside the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Reading, checking, uploading: any number at once.
    Shared,
    /// Retention and pruning, creating keys: alone.
    Exclusive,
}

pub struct BackupService {
    repos: PathBuf,
    /// `repos`, open once: its file system's free space is read at every upload.
    repos_dir: std::fs::File,
    /// One lock file per repository, `flock`ed as [`Hold`] says.
    lock_files: PathBuf,
    key: ServerKey,
    store: Arc<dyn Storage>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::RwLock<()>>>>,
    limits: SpaceLimits,
    /// Bytes each repository holds, counted once on first upload and kept current;
    /// forgotten after retention, which frees space.
    usage: Mutex<HashMap<String, u64>>,
}

impl BackupService {
    /// Where backups live in a data directory.
    pub fn backup_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("backup")
    }

    /// Opens (creating on first use) the backup directory and the server's key.
    pub fn open(
        data_dir: &Path,
        store: Arc<dyn Storage>,
        limits: SpaceLimits,
    ) -> Result<Self, BackupServiceError> {
        let dir = Self::backup_dir(data_dir);
        let repos = dir.join("repos");
        std::fs::create_dir_all(&repos).map_err(|source| BackupServiceError::Io {
            what: format!("cannot create {}", repos.display()),
            source,
        })?;
        let key = ServerKey::load_or_create(&dir).map_err(|source| BackupServiceError::Io {
            what: format!(
                "cannot read or create the recovery key in {}",
                dir.display()
            ),
            source,
        })?;
        let lock_files = dir.join("locks");
        std::fs::create_dir_all(&lock_files).map_err(|source| BackupServiceError::Io {
            what: format!("cannot create {}", lock_files.display()),
            source,
        })?;
        let repos_dir = std::fs::File::open(&repos).map_err(|source| BackupServiceError::Io {
            what: format!("cannot open {}", repos.display()),
            source,
        })?;
        Ok(BackupService {
            repos,
            repos_dir,
            lock_files,
            key,
            store,
            locks: Mutex::new(HashMap::new()),
            limits,
            usage: Mutex::new(HashMap::new()),
        })
    }

    /// The most bytes one more upload into `host_id`'s repository may have, or why none
    /// is accepted. Blocking: the first call for a repository counts what it holds.
    pub fn room_for(
        &self,
        host_id: &str,
        dir: &RepoDir,
    ) -> Result<Result<u64, SpaceRefusal>, BackupServiceError> {
        let io = |what: &str, source| BackupServiceError::Io {
            what: format!("{what} {}", self.repos.display()),
            source,
        };
        let free = wardwatch_os::fd::available_space(&self.repos_dir)
            .map_err(|e| io("cannot read the free space of", e))?;
        let cached = self.usage_map().get(host_id).copied();
        let used = match cached {
            Some(used) => used,
            None => {
                let mut used = 0u64;
                for kind in FileKind::ALL {
                    let files = dir.list(kind).map_err(|e| io("cannot list", e))?;
                    used += files.iter().map(|(_, size)| size).sum::<u64>();
                }
                *self.usage_map().entry(host_id.to_string()).or_insert(used)
            }
        };
        Ok(space::room(free, used, self.limits))
    }

    /// Counts a file just stored into `host_id`'s repository.
    pub fn note_stored(&self, host_id: &str, bytes: u64) {
        if let Some(used) = self.usage_map().get_mut(host_id) {
            *used += bytes;
        }
    }

    fn usage_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.usage.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn key(&self) -> &ServerKey {
        &self.key
    }

    /// A host's repository directory. Host ids are made by the server (`h-` and hex);
    /// anything else is refused rather than joined into a path.
    pub fn repo_dir(&self, host_id: &str) -> Result<RepoDir, BackupServiceError> {
        let valid = host_id.len() <= 64
            && !host_id.is_empty()
            && host_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(BackupServiceError::NotFound(format!(
                "{host_id:?} is not a host id"
            )));
        }
        Ok(RepoDir::new(self.repos.join(host_id)))
    }

    /// Holds `host_id`'s repository against other processes, waiting for it; released
    /// when the returned file closes. Blocking.
    pub fn hold(&self, host_id: &str, hold: Hold) -> Result<std::fs::File, BackupServiceError> {
        let file = self.lock_file(host_id)?;
        wardwatch_os::fd::flock(&file, hold == Hold::Exclusive, true)
            .map_err(|source| self.lock_error(host_id, source))?;
        Ok(file)
    }

    /// Holds `host_id`'s repository shared if no other process holds it alone (a
    /// retention run from the command line); `None` when one does.
    pub fn try_hold_shared(
        &self,
        host_id: &str,
    ) -> Result<Option<std::fs::File>, BackupServiceError> {
        let file = self.lock_file(host_id)?;
        let held = wardwatch_os::fd::flock(&file, false, false)
            .map_err(|source| self.lock_error(host_id, source))?;
        Ok(held.then_some(file))
    }

    fn lock_file(&self, host_id: &str) -> Result<std::fs::File, BackupServiceError> {
        self.repo_dir(host_id)?; // the host id is checked there
        let path = self.lock_files.join(format!("{host_id}.lock"));
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .mode(0o600)
            .open(&path)
            .map_err(|source| BackupServiceError::Io {
                what: format!("cannot open the lock file {}", path.display()),
                source,
            })
    }

    fn lock_error(&self, host_id: &str, source: std::io::Error) -> BackupServiceError {
        BackupServiceError::Io {
            what: format!("cannot lock the repository of {host_id}"),
            source,
        }
    }

    /// The lock of one repository in this process: uploads hold it shared, retention
    /// alone (uploads then wait instead of being turned away).
    pub fn lock(&self, host_id: &str) -> Arc<tokio::sync::RwLock<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(host_id.to_string()).or_default().clone()
    }

    /// Creates a host's repository if it has none (with the server's key), and issues a
    /// key for the terminal. Blocking; run under the repository's lock.
    pub fn provision(&self, host_id: &str) -> Result<ProvisionedRepository, BackupServiceError> {
        let dir = self.repo_dir(host_id)?;
        let _held = self.hold(host_id, Hold::Exclusive)?;
        let created = !dir.exists();
        let repo = if created {
            dir.create_dirs().map_err(|source| BackupServiceError::Io {
                what: format!("cannot create {}", dir.root().display()),
                source,
            })?;
            Repository::init(local_backend(dir.root())?, self.key.password())?
        } else {
            Repository::open(local_backend(dir.root())?, self.key.password())?
        };
        let password = new_password();
        repo.add_key(&password)?;
        self.store
            .note_repository(host_id, wardwatch_proto::now_millis())?;
        tracing::info!(%host_id, created, "backup repository key issued to the terminal");
        Ok(ProvisionedRepository { password, created })
    }

    /// Opens a host's repository with the server's key.
    pub fn open_repository(&self, host_id: &str) -> Result<Repository, BackupServiceError> {
        let dir = self.repo_dir(host_id)?;
        if !dir.exists() {
            return Err(BackupServiceError::NotFound(format!(
                "host {host_id} has no backup repository on this server yet (its agent creates one on its first backup)"
            )));
        }
        Ok(Repository::open(
            local_backend(dir.root())?,
            self.key.password(),
        )?)
    }

    /// Applies the department's retention policy to a host's repository by the times
    /// the server received each snapshot, then prunes. Blocking; takes the
    /// repository's lock, so uploads wait (restic retries).
    pub fn run_retention(
        &self,
        host_id: &str,
        now: i64,
    ) -> Result<RetentionReport, BackupServiceError> {
        let lock = self.lock(host_id);
        let _alone = lock.blocking_write();
        let _held = self.hold(host_id, Hold::Exclusive)?;
        let department = self
            .store
            .host(host_id)?
            .map(|h| h.department)
            .unwrap_or_default();
        let policy = self.store.retention_policy(&department)?;
        let repo = self.open_repository(host_id)?;
        let received = self.store.received_snapshots(host_id)?;
        let present: std::collections::HashSet<String> =
            repo.snapshots()?.into_iter().map(|s| s.id).collect();
        // Only snapshots the server saw arrive are dated; anything else is kept.
        let candidates: Vec<Candidate> = received
            .iter()
            .filter(|s| present.contains(&s.snapshot_id))
            .map(|s| Candidate {
                id: s.snapshot_id.clone(),
                received_at: s.received_at,
            })
            .collect();
        let plan = retention::plan(&candidates, &policy, now);
        let mut report = RetentionReport {
            host_id: host_id.to_string(),
            kept: present.len() - plan.forget.len(),
            forgotten: plan.forget.clone(),
            packs_removed: 0,
            bytes_freed: 0,
        };
        if !plan.forget.is_empty() {
            repo.forget(&plan.forget)?;
            self.store.mark_forgotten(host_id, &plan.forget, now)?;
            // Uploads of a backup in progress span many requests: two phases.
            let pruned = repo.prune(wardwatch_backup::PruneMode::BesideBackups)?;
            report.packs_removed = pruned.packs_removed;
            report.bytes_freed = pruned.bytes_freed;
            // Counted again on the next upload.
            self.usage_map().remove(host_id);
        }
        let detail = serde_json::to_value(&report).unwrap_or_default();
        self.store
            .record_check(host_id, "retention", true, &detail, now)?;
        Ok(report)
    }

    /// Checks a host's repository: its structure, and `read_data_percent` of its packs
    /// read back and verified. Recorded for the console either way.
    pub fn run_check(
        &self,
        host_id: &str,
        read_data_percent: u8,
        now: i64,
    ) -> Result<wardwatch_backup::CheckReport, BackupServiceError> {
        let lock = self.lock(host_id);
        let _shared = lock.blocking_read();
        let _held = self.hold(host_id, Hold::Shared)?;
        let result = self
            .open_repository(host_id)
            .and_then(|repo| Ok(repo.check(read_data_percent)?));
        let (ok, detail) = match &result {
            Ok(report) => (
                report.problems.is_empty(),
                serde_json::json!({
                    "problems": report.problems,
                    "bytes_read": report.bytes_read,
                    "read_data_percent": read_data_percent,
                }),
            ),
            Err(e) => (false, serde_json::json!({ "error": e.to_string() })),
        };
        self.store
            .record_check(host_id, "check", ok, &detail, now)?;
        result
    }

    /// A restore drill on a host's newest snapshot: `max_files` files spread over it
    /// read back in full. Recorded for the console either way.
    pub fn run_drill(
        &self,
        host_id: &str,
        max_files: usize,
        now: i64,
    ) -> Result<wardwatch_backup::DrillReport, BackupServiceError> {
        let lock = self.lock(host_id);
        let _shared = lock.blocking_read();
        let _held = self.hold(host_id, Hold::Shared)?;
        let result = self
            .open_repository(host_id)
            .and_then(|repo| Ok(repo.drill(None, max_files)?));
        let (ok, detail) = match &result {
            Ok(r) => (
                r.problems.is_empty(),
                serde_json::json!({
                    "snapshot": r.snapshot_id,
                    "files_read": r.files_read,
                    "bytes_read": r.bytes_read,
                    "files_in_snapshot": r.files_in_snapshot,
                    "problems": r.problems,
                }),
            ),
            Err(e) => (false, serde_json::json!({ "error": e.to_string() })),
        };
        self.store
            .record_check(host_id, "drill", ok, &detail, now)?;
        result
    }

    /// Runs retention on every repository; failures are recorded and logged, and the
    /// others still run.
    pub fn run_retention_all(&self, now: i64) -> Vec<Result<RetentionReport, String>> {
        let hosts = match self.store.repository_hosts() {
            Ok(hosts) => hosts,
            Err(e) => return vec![Err(e.to_string())],
        };
        hosts
            .into_iter()
            .map(|host| {
                self.run_retention(&host, now).map_err(|e| {
                    tracing::error!(host_id = %host, error = %e, "backup retention failed");
                    let detail = serde_json::json!({ "error": e.to_string() });
                    let _ = self
                        .store
                        .record_check(&host, "retention", false, &detail, now);
                    format!("{host}: {e}")
                })
            })
            .collect()
    }
}

/// Share of pack data read back by each scheduled check.
pub const CHECK_READ_PERCENT: u8 = 5;
/// Files read back in full by each scheduled restore drill.
pub const DRILL_FILES: usize = 20;

impl BackupService {
    /// Retention, then a check and a restore drill of every repository; each failure is recorded and the
    /// others still run.
    pub fn scheduled_work(&self) {
        let results = self.run_retention_all(wardwatch_proto::now_millis());
        let failed = results.iter().filter(|r| r.is_err()).count();
        tracing::info!(repositories = results.len(), failed, "backup retention ran");
        for host in self.store.repository_hosts().unwrap_or_default() {
            match self.run_check(&host, CHECK_READ_PERCENT, wardwatch_proto::now_millis()) {
                Ok(r) if r.problems.is_empty() => {}
                Ok(r) => {
                    tracing::error!(host_id = %host, problems = ?r.problems, "backup repository check found problems")
                }
                Err(e) => {
                    tracing::error!(host_id = %host, error = %e, "backup repository check failed")
                }
            }
        }
    }
}

/// How often the server's backup work (retention, checks) runs.
pub const SCHEDULE_PERIOD: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Runs retention over every repository now and then, until shutdown.
pub async fn run_schedule(
    service: Arc<BackupService>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SCHEDULE_PERIOD) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let this = service.clone();
        let work = tokio::task::spawn_blocking(move || this.scheduled_work());
        if let Err(e) = work.await {
            tracing::error!(error = %e, "the scheduled backup work failed");
        }
    }
}
