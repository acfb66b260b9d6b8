//! Scheduled backups of the terminal's important folders into its repository on the
//! server: restic's format through `wardwatch-backup`, over the agent's mutual-TLS
//! client ([`rest_backend`]), on an idle-priority thread, within a bandwidth limit, the
//! guard's canaries left out. Each run is reported as an event: an audit action when it
//! worked, an alert when it did not (a terminal that stops backing up is a risk).

mod put_back;
pub mod rest_backend;
pub mod restore;
pub mod snapshot_restore;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use wardwatch_backup::throttle::Throttled;
use wardwatch_backup::{BackupProgress, BackupRequest, Repository, WriteBackend};
use wardwatch_os::governor::{CpuClock, Governor, Job, Rate};
use wardwatch_proto::backup::RepositoryGrant;
use wardwatch_proto::{Alert, EventBody, HostAction, Severity};

use crate::client::{answer, SendError, ServerClient};
use crate::state::StateDir;

/// Scheduled backups as configured for `agent run` and `up`.
#[derive(Debug, Clone)]
pub struct BackupConfig {
    /// Trees to back up; none: off.
    pub paths: Vec<PathBuf>,
    /// Time between the start of one run and the next.
    pub every: Duration,
    /// Upload limit in bytes per second; `None`: as fast as the link goes.
    pub bandwidth: Option<u64>,
    /// Percent of one CPU a run may use, averaged over the run.
    pub cpu_percent: u32,
}

impl ServerClient {
    /// Asks the server for this terminal's repository: it is created on first use, and
    /// the answer carries the password of a new key for this terminal.
    pub async fn backup_repository(&self) -> Result<RepositoryGrant, SendError> {
        let response = self
            .call(reqwest::Method::POST, "/api/v1/backup/repository")
            .send()
            .await
            .map_err(|e| SendError::Transient(crate::error_chain(&e)))?;
        answer(response).await
    }
}

/// Where the terminal keeps its repository key's password, owner-only.
fn password_file(state: &StateDir) -> PathBuf {
    state.root().join("backup-password")
}

/// The terminal's repository password: kept from the first grant, asked for once.
pub fn repository_password(
    state: &StateDir,
    client: &ServerClient,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<(String, String)> {
    let file = password_file(state);
    let path_file = state.root().join("backup-repository");
    if let (Ok(password), Ok(path)) = (
        std::fs::read_to_string(&file),
        std::fs::read_to_string(&path_file),
    ) {
        let password = password.trim_end_matches('\n').to_string();
        if !password.is_empty() {
            return Ok((password, path.trim().to_string()));
        }
    }
    let grant = runtime.block_on(client.backup_repository())?;
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&path_file);
    wardwatch_os::write_new(&file, grant.password.as_bytes(), 0o600)?;
    wardwatch_os::write_new(&path_file, grant.path.as_bytes(), 0o600)?;
    tracing::info!(
        created = grant.created,
        "backup repository key received from the server"
    );
    Ok((grant.password, grant.path))
}

/// Logs how far a run has come, every tenth of the way.
struct LogProgress {
    last_tenth: std::sync::atomic::AtomicU64,
}

impl BackupProgress for LogProgress {
    fn bytes_done(&self, done: u64, total: u64) {
        if total == 0 {
            return;
        }
        let tenth = done.saturating_mul(10) / total;
        let before = self
            .last_tenth
            .swap(tenth, std::sync::atomic::Ordering::Relaxed);
        if tenth != before {
            tracing::info!(done, total, "backup progress");
        }
    }
}

/// Runs one backup of the configured paths into the server's repository.
pub fn run_once(
    state: &StateDir,
    client: &ServerClient,
    runtime: &tokio::runtime::Handle,
    config: &BackupConfig,
    governor: &Arc<Governor>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<wardwatch_backup::BackupSummary> {
    let (password, path) = repository_password(state, client, runtime)?;
    let rest: Arc<dyn WriteBackend> = Arc::new(rest_backend::RestBackend::new(
        client.clone(),
        runtime.clone(),
        &path,
    ));
    let backend: Arc<dyn WriteBackend> = match config.bandwidth {
        Some(limit) => Arc::new(Throttled::new(rest, Arc::new(UploadRate(Rate::new(limit))))),
        None => rest,
    };
    let repo = Repository::open(backend, &password)?;
    let reads = Arc::new(GovernedReads {
        job: governor.job(config.cpu_percent, CpuClock::Process),
        shutdown: shutdown.clone(),
    });
    let request = BackupRequest {
        paths: config.paths.clone(),
        excludes: vec![state.root().to_path_buf()],
        exclude_name_prefixes: wardwatch_guard::CANARY_PREFIXES
            .iter()
            .map(|p| p.to_string())
            .collect(),
        hostname: wardwatch_os::host::uname()
            .map(|u| u.nodename)
            .unwrap_or_default(),
        tags: vec!["wardwatch".into()],
        pacer: Some(reads.clone()),
    };
    let progress = LogProgress {
        last_tenth: std::sync::atomic::AtomicU64::new(0),
    };
    let summary = repo.backup(&request, &progress);
    let waited = reads.job.waited();
    tracing::info!(
        waited_for_user_ms = waited.for_user_ms,
        waited_for_budget_ms = waited.for_budget_ms,
        "backup paced"
    );
    Ok(summary?)
}

/// The upload limit (`--backup-bandwidth`): each write waits its turn.
#[derive(Debug)]
struct UploadRate(Rate);

impl wardwatch_backup::Pacer for UploadRate {
    fn pace(&self, bytes: u64) {
        let wait = self.0.take(bytes);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

/// The backup's reads under the agent's governor: a share of one CPU, counted on the
/// whole process (the backup library reads, compresses and uploads on threads of its
/// own), the read rate shared with the scheduled scan, and a step aside while the user
/// works.
#[derive(Debug)]
struct GovernedReads {
    job: Job,
    shutdown: watch::Receiver<bool>,
}

impl wardwatch_backup::Pacer for GovernedReads {
    fn pace(&self, bytes_read: u64) {
        self.job.pace(bytes_read, &|| *self.shutdown.borrow());
    }
}

/// The event that reports a run.
pub fn run_event(
    result: &anyhow::Result<wardwatch_backup::BackupSummary>,
    paths: &[PathBuf],
) -> EventBody {
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    match result {
        Ok(s) => EventBody::Action(HostAction {
            action: "backup.run".into(),
            target: s.snapshot_id.clone(),
            actor: "agent".into(),
            detail: serde_json::json!({
                "snapshot": s.snapshot_id,
                "paths": paths,
                "files_new": s.files_new,
                "files_changed": s.files_changed,
                "files_unmodified": s.files_unmodified,
                "bytes_processed": s.bytes_processed,
                "bytes_added": s.bytes_added,
                "duration_ms": s.duration.as_millis() as u64,
            }),
        }),
        Err(e) => EventBody::Alert(Alert {
            source: "backup".into(),
            severity: Severity::High,
            title: "Backup failed".into(),
            details: serde_json::json!({
                "paths": paths,
                "error": format!("{e:#}"),
            }),
        }),
    }
}

/// Starts scheduled backups on their own idle-priority thread (threads it starts
/// inherit the priority); one event per run arrives on the channel.
pub fn spawn_scheduled(
    state: &StateDir,
    client: ServerClient,
    config: BackupConfig,
    governor: Arc<Governor>,
    shutdown: watch::Receiver<bool>,
) -> mpsc::Receiver<EventBody> {
    let (tx, rx) = mpsc::channel(16);
    let state = state.clone();
    let runtime = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        wardwatch_os::process::lower_thread_to_idle();
        let stop = || *shutdown.borrow();
        loop {
            let started = std::time::Instant::now();
            let result = run_once(&state, &client, &runtime, &config, &governor, &shutdown);
            match &result {
                Ok(s) => {
                    tracing::info!(snapshot = %s.snapshot_id, files_new = s.files_new, bytes_added = s.bytes_added, "backup done")
                }
                Err(e) => tracing::error!(error = %format!("{e:#}"), "backup failed"),
            }
            if tx.blocking_send(run_event(&result, &config.paths)).is_err() {
                return;
            }
            while started.elapsed() < config.every {
                if stop() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    });
    rx
}
