//! The ransomware guard: notices encryption in progress on this terminal, stops the
//! process tree doing it, and keeps the damage to a few files.
//!
//! Data flow, one job per module:
//!
//! ```text
//! fanotify (reader threads) ──FsEvent──▶ guard loop ──Observation──▶ Scorer
//!    │  procinfo: who did it                │  index: what the file was before
//!    │  sample: fingerprint of the write    │  journal: what the tree touched
//!                                           │  hasher: SHA-256 of what was written, when quiet
//!                                           ▼
//!                                        respond (SIGSTOP / SIGKILL) ──▶ GuardAlert
//! ```
//!
//! The scorer (`wardwatch_detect::behaviour`) decides; this module only observes,
//! attributes and acts, so the policy can be tested and tuned without a kernel.
//! [`report`] turns the guard's alerts and actions into events for the server.

#![forbid(unsafe_code)]

mod alert;
mod canary;
mod dirhandle;
mod error;
mod fanotify;
mod gate;
mod hasher;
mod index;
mod journal;
mod lock;
mod priority;
mod procinfo;
mod progress;
mod protected;
pub mod report;
mod respond;
mod rest;
mod sample;
mod services;
mod smb;
mod trust;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use wardwatch_detect::behaviour::{Activity, Actor, Observation, Scorer, ScorerConfig, Verdict};

pub use alert::{FileReport, GuardAlert, ProcessReport, Times};
pub use canary::{is_canary, CANARY_PREFIXES};
pub use error::GuardError;
pub use journal::FileChange;
pub use procinfo::{read_stat, AncestorReport, Stat};
pub use respond::{Action, ActionKind, Refusal, Respond};
pub use sample::{ContentHash, FULL_HASH_LIMIT};
pub use smb::SmbClient;
pub use trust::DEFAULT_TRUSTED;

use canary::Canaries;
use fanotify::{FsEvent, FsEventKind, Monitor, MonitorSetup};
use gate::{Gate, GateSetup};
use hasher::{HashDone, Hasher};
use index::Index;
use journal::{Entry, Journal};
use lock::RootLocks;
use priority::raise_thread_priority;
use procinfo::{LineageLimits, ProcTable};
use progress::Progress;
use protected::ProtectedPaths;
use respond::Responder;
use trust::TrustList;
use wardwatch_os::fd::{wait_readable, Stopper, Wake};
use wardwatch_os::proc_connector::ProcConnector;

/// What to protect and how to respond.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// Protected directories (each watched with all its subdirectories).
    pub paths: Vec<PathBuf>,
    pub respond: Respond,
    /// Act only on descendants of this pid (tests, and trial runs on shared machines).
    pub scope: Option<u32>,
    /// Programs whose file activity is not scored (exact path, hashed at start);
    /// canary touches are scored whoever makes them.
    pub trusted: Vec<PathBuf>,
    pub scorer: ScorerConfig,
    /// Make opens of protected files wait while the guard is behind (see `gate`).
    pub open_gate: bool,
}

impl GuardConfig {
    /// Protects `paths`, suspends at `Suspend` and kills at `Kill`, trusts
    /// [`DEFAULT_TRUSTED`].
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths,
            respond: Respond::default(),
            scope: None,
            trusted: DEFAULT_TRUSTED.iter().map(PathBuf::from).collect(),
            scorer: ScorerConfig::default(),
            open_gate: true,
        }
    }
}

/// Printed once the guard watches: everything before is in the index.
#[derive(Debug, Clone, Serialize)]
pub struct GuardReady {
    pub ready: bool,
    /// Files indexed.
    pub files: usize,
    pub directories: usize,
    pub canaries: usize,
    /// Trusted programs found and hashed.
    pub trusted: usize,
    /// Whether fork/exec events are seen (short-lived children attributed exactly).
    pub process_events: bool,
    /// Whether opens of protected files wait while the guard is behind (see `gate`).
    pub open_gate: bool,
}

/// The guard's clock: monotonic ms for the scorer, wall-clock ms for alerts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// (monotonic ms since the guard started, wall-clock ms since the epoch).
    pub(crate) fn now(&self) -> (u64, u64) {
        (self.start.elapsed().as_millis() as u64, wall_ms())
    }
}

/// What an event means for the canaries.
enum CanaryCheck {
    NotCanary,
    /// About a canary, but not damage to one of ours.
    Ignore,
    /// One of our canaries was written, renamed, replaced or deleted.
    Touched(PathBuf),
}

/// How long after a process exits the scorer forgets it (its late events may still
/// be in the queue).
const FORGET_AFTER_EXIT: Duration = Duration::from_secs(10);
/// Batches of events (one per read of a fanotify group) waiting for the guard loop
/// before the reader threads wait.
const EVENT_QUEUE: usize = 256;

/// A started guard: watching, indexed, canaries planted.
pub struct Guard {
    procs: Arc<ProcTable>,
    trust: TrustList,
    responder: Responder,
    scorer: Scorer,
    index: Index,
    journal: Journal,
    canaries: Canaries,
    monitor: Option<Monitor>,
    gate: Option<Gate>,
    progress: Arc<Progress>,
    /// What the gate was last told about each process.
    gate_standing: std::collections::HashMap<u32, GateStanding>,
    /// Process trees only reported (not stopped), with the verdict, the action and how
    /// many files their alert listed: when such a tree exits having changed more, a
    /// closing alert lists every file, so a restore puts back all of them.
    reported: std::collections::HashMap<u32, (Verdict, Action, usize)>,
    events: mpsc::Receiver<Vec<FsEvent>>,
    hasher: Hasher,
    hashes: mpsc::UnboundedReceiver<Vec<HashDone>>,
    /// File events in the current and the previous second: the hasher waits while
    /// the folders are busy.
    events_this_second: u64,
    events_last_second: u64,
    proc_thread: Option<(Arc<Stopper>, JoinHandle<()>)>,
    clock: Clock,
    ready: GuardReady,
    lost_events: u64,
    stopped: bool,
    /// Held until the guard is dropped.
    _locks: RootLocks,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop_blocking();
    }
}

impl Guard {
    /// Sets up the monitor, plants the canaries and indexes the protected directories.
    /// Watching starts before the walk, so nothing changed during it is missed.
    pub async fn start(config: GuardConfig) -> Result<Self, GuardError> {
        tokio::task::spawn_blocking(move || Self::start_blocking(config))
            .await
            .map_err(|e| GuardError::Internal(format!("guard start-up panicked: {e}")))?
    }

    fn start_blocking(config: GuardConfig) -> Result<Self, GuardError> {
        let protected = ProtectedPaths::new(&config.paths)?;
        let locks = RootLocks::acquire(protected.roots())?;
        let clock = Clock::new();
        let limits = LineageLimits {
            guard_pid: std::process::id(),
            guard_ancestors: procinfo::ancestors_of_self().into_iter().collect(),
            scope: config.scope,
        };
        let connector = match ProcConnector::open() {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "no process connector (fork/exec events); short-lived processes may be attributed less exactly");
                None
            }
        };
        let process_events = connector.is_some();
        let procs = Arc::new(ProcTable::new(limits, connector));
        let proc_thread = if process_events {
            Some(spawn_proc_events(procs.clone())?)
        } else {
            None
        };
        let trust = TrustList::new(&config.trusted);
        for t in trust.entries() {
            tracing::debug!(path = %t.path.display(), sha256 = %t.sha256, "trusted program");
        }

        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        let (hash_tx, hashes) = mpsc::unbounded_channel();
        let (hasher, _hash_thread) = Hasher::start(hash_tx)?;
        let progress = Arc::new(Progress::new()?);
        let monitor = match Monitor::start(MonitorSetup {
            protected: protected.clone(),
            procs: procs.clone(),
            events: events_tx,
            clock,
            progress: progress.clone(),
            trust: trust.quiet_copy(),
        }) {
            Ok(m) => m,
            Err(e) => {
                stop_proc_thread(proc_thread);
                return Err(e);
            }
        };
        // From here on, a failure must undo what was started.
        let abort = |monitor: Monitor,
                     events: mpsc::Receiver<Vec<FsEvent>>,
                     canaries: Option<&Canaries>,
                     proc_thread,
                     e: GuardError| {
            if let Some(c) = canaries {
                c.remove();
            }
            drop(events);
            monitor.stop();
            stop_proc_thread(proc_thread);
            Err(e)
        };
        let canaries = match Canaries::plant(protected.roots()) {
            Ok(c) => c,
            Err(e) => return abort(monitor, events, None, proc_thread, e),
        };
        for path in canaries.paths() {
            if let Err(e) = monitor.watch_canary(&path) {
                return abort(monitor, events, Some(&canaries), proc_thread, e);
            }
        }
        let (index, stats) = match Index::build(protected.roots()) {
            Ok(i) => i,
            Err(e) => return abort(monitor, events, Some(&canaries), proc_thread, e),
        };
        if stats.unreadable > 0 {
            tracing::warn!(
                count = stats.unreadable,
                "some protected files could not be read and have no \"before\""
            );
        }
        let gate = match config.open_gate.then(|| {
            Gate::start(GateSetup {
                roots: protected.roots(),
                procs: procs.clone(),
                progress: progress.clone(),
                queues: monitor.queues(),
                trusted_files: trust.files(),
            })
        }) {
            None => None,
            Some(Ok(g)) => Some(g),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "opens of protected files are not gated (a kernel without fanotify permission events?); fast encryptors may change more files before they are stopped");
                None
            }
        };
        let ready = GuardReady {
            ready: true,
            files: stats.files,
            directories: stats.directories,
            canaries: canaries.paths().len(),
            trusted: trust.entries().len(),
            process_events,
            open_gate: gate.is_some(),
        };
        tracing::info!(
            files = ready.files,
            directories = ready.directories,
            roots = ?protected.roots(),
            respond = ?config.respond,
            scope = ?config.scope,
            "guard ready"
        );
        Ok(Self {
            procs,
            trust,
            responder: Responder::new(config.respond, config.scope),
            scorer: Scorer::new(config.scorer),
            index,
            journal: Journal::default(),
            canaries,
            monitor: Some(monitor),
            gate,
            progress,
            gate_standing: Default::default(),
            reported: Default::default(),
            events,
            hasher,
            hashes,
            events_this_second: 0,
            events_last_second: 0,
            proc_thread,
            clock,
            ready,
            lost_events: 0,
            stopped: false,
            _locks: locks,
        })
    }

    pub fn ready(&self) -> &GuardReady {
        &self.ready
    }

    /// Runs until `shutdown` turns true (or its sender is dropped); then removes the
    /// canaries and stops the monitor. Alerts go to `alerts`.
    ///
    /// The loop runs on a thread of its own at the guard's raised priority, with its
    /// own single-threaded runtime: a busy runtime of the caller (or an encryptor using
    /// every core) must not delay a verdict.
    pub async fn run(
        self,
        alerts: mpsc::Sender<GuardAlert>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), GuardError> {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("guard-loop".into())
            .spawn(move || {
                raise_thread_priority("guard-loop");
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        GuardError::Internal(format!("cannot build the guard's runtime: {e}"))
                    })
                    .and_then(|rt| rt.block_on(self.run_loop(alerts, shutdown)));
                let _ = done_tx.send(result);
            })
            .map_err(|cause| GuardError::Thread {
                what: "cannot start the guard loop thread",
                cause,
            })?;
        done_rx
            .await
            .unwrap_or_else(|_| Err(GuardError::Internal("the guard loop panicked".into())))
    }

    async fn run_loop(
        mut self,
        alerts: mpsc::Sender<GuardAlert>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), GuardError> {
        let mut pending = JoinSet::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failure = None;
        while !*shutdown.borrow() {
            tokio::select! {
                biased;
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                batch = self.events.recv() => match batch {
                    Some(batch) => {
                        self.events_this_second += batch.len() as u64;
                        for event in batch {
                            for verdict in self.on_event(event) {
                                self.on_verdict(verdict, &alerts, &mut pending).await;
                            }
                            // After the verdict is applied: a held open of a stopped
                            // tree is then refused, not let through.
                            self.progress.processed();
                        }
                    }
                    None => {
                        failure = Some(GuardError::Internal("the file system monitor stopped".into()));
                        break;
                    }
                },
                Some(batch) = self.hashes.recv() => {
                    for done in batch {
                        self.index.record_hash(&done.path, done.size, done.mtime_ms, done.hash, done.fingerprint);
                    }
                    self.hasher.finished();
                    self.hash_if_quiet();
                }
                _ = tick.tick() => {
                    self.events_last_second = std::mem::take(&mut self.events_this_second);
                    self.hash_if_quiet();
                    for (verdict, action, changes) in self.housekeeping() {
                        self.send_alert(verdict, action, None, changes, wall_ms(), &alerts, &mut pending);
                    }
                }
                Some(_) = pending.join_next(), if !pending.is_empty() => {}
            }
        }
        tracing::info!("guard stopping");
        let _ = tokio::task::spawn_blocking(move || self.stop_blocking()).await;
        while pending.join_next().await.is_some() {}
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Removes the canaries and stops the threads; once. Also run when a guard is
    /// dropped without [`Guard::run`] finishing (a panic, an aborted task).
    fn stop_blocking(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.canaries.remove();
        // Closing wakes a reader thread blocked on a full channel, so it sees the stop.
        self.events.close();
        if let Some(monitor) = self.monitor.take() {
            monitor.stop();
        }
        if let Some(gate) = self.gate.take() {
            gate.stop();
        }
        stop_proc_thread(self.proc_thread.take());
    }

    /// Hands the hasher its next batch while few file events come in.
    fn hash_if_quiet(&mut self) {
        if self.events_last_second.max(self.events_this_second) < hasher::BUSY_EVENTS {
            let index = &self.index;
            self.hasher.dispatch(|path| index.unhashed(path));
        }
    }

    /// Turns one event into an observation (keeping the index and journal current)
    /// and returns the scorer's verdicts.
    fn on_event(&mut self, event: FsEvent) -> Vec<Verdict> {
        let FsEvent {
            pid,
            time_ms,
            wall_ms,
            kind,
        } = event;
        let text = |p: &PathBuf| p.to_string_lossy().into_owned();
        match self.canary_check(&kind) {
            CanaryCheck::NotCanary => {}
            CanaryCheck::Ignore => return Vec::new(),
            CanaryCheck::Touched(path) => {
                let activity = Activity::CanaryTouched { path: text(&path) };
                let changes = vec![(path, FileChange::CanaryTouched, None)];
                // Canary touches are scored whoever makes them, trusted or not.
                return self.score(pid, time_ms, wall_ms, activity, changes);
            }
        }
        let (activity, changes) = match kind {
            FsEventKind::Lost => {
                self.lost_events += 1;
                tracing::warn!(
                    total = self.lost_events,
                    "fanotify queue overflowed: file events were lost"
                );
                return Vec::new();
            }
            // Only canaries get these; handled above.
            FsEventKind::CanaryWritten { .. } => return Vec::new(),
            FsEventKind::Written {
                path,
                inode,
                size,
                mtime_ms,
                fingerprint,
            } => {
                let path = self.index.locate(&path, inode);
                let before =
                    self.index
                        .record_write(&path, inode, size, mtime_ms, fingerprint.clone());
                self.hasher.note(&path);
                // The reader found the writer trusted: not scored.
                let Some(after) = fingerprint else {
                    return Vec::new();
                };
                let before_hash = before.as_ref().and_then(|b| b.hash.clone());
                let name_existed = self.index.name_existed_at_start(&path);
                (
                    Activity::Written {
                        path: text(&path),
                        before: before.and_then(|b| b.fingerprint),
                        after,
                        name_existed,
                    },
                    vec![(path, FileChange::Written, before_hash)],
                )
            }
            FsEventKind::Created { path, dir: true } => {
                if let Some(gate) = &self.gate {
                    gate.watch_tree(path);
                }
                return Vec::new();
            }
            FsEventKind::Created { path, dir: false } => (
                Activity::Created { path: text(&path) },
                vec![(path, FileChange::Created, None)],
            ),
            FsEventKind::Deleted { path, dir: true } => {
                self.index.remove_dir(&path);
                return Vec::new();
            }
            FsEventKind::Deleted { path, dir: false } => {
                let before = self.index.remove(&path).and_then(|b| b.hash);
                (
                    Activity::Deleted { path: text(&path) },
                    vec![(path, FileChange::Deleted, before)],
                )
            }
            FsEventKind::Renamed {
                from,
                to,
                dir: true,
            } => {
                self.index.rename_dir(&from, &to);
                return Vec::new();
            }
            FsEventKind::Renamed {
                from,
                to,
                dir: false,
            } => {
                let moved = self.index.get(&from).and_then(|e| e.hash.clone());
                let replaced = self.index.rename(&from, &to).and_then(|e| e.hash);
                if self.index.unhashed(&to).is_some() {
                    self.hasher.note(&to);
                }
                (
                    Activity::Renamed {
                        from: text(&from),
                        to: text(&to),
                    },
                    vec![
                        (
                            from.clone(),
                            FileChange::RenamedTo { path: to.clone() },
                            moved,
                        ),
                        (to, FileChange::RenamedFrom { path: from }, replaced),
                    ],
                )
            }
        };
        let info = self.procs.get(pid).or_else(|| self.procs.observe(pid));
        if info.is_some_and(|i| self.trust.is_trusted(&self.procs, &i)) {
            return Vec::new();
        }
        self.score(pid, time_ms, wall_ms, activity, changes)
    }

    /// Whether an event is about a canary, and whether it damaged one of ours.
    fn canary_check(&self, kind: &FsEventKind) -> CanaryCheck {
        let paths: Vec<&PathBuf> = match kind {
            FsEventKind::Lost => return CanaryCheck::NotCanary,
            FsEventKind::CanaryWritten { path }
            | FsEventKind::Written { path, .. }
            | FsEventKind::Created { path, .. }
            | FsEventKind::Deleted { path, .. } => vec![path],
            FsEventKind::Renamed { from, to, .. } => vec![from, to],
        };
        if !paths.iter().any(|p| is_canary(p)) {
            return CanaryCheck::NotCanary;
        }
        let Some(ours) = paths.into_iter().find(|p| self.canaries.is_planted(p)) else {
            // A canary of another guard (protecting a directory nested in ours).
            return CanaryCheck::Ignore;
        };
        let damaged = match kind {
            // A write that left the exact bytes planted did no harm.
            FsEventKind::CanaryWritten { .. }
            | FsEventKind::Written { .. }
            | FsEventKind::Created { .. } => !self.canaries.is_intact(ours),
            FsEventKind::Renamed { from, .. } if from != ours => !self.canaries.is_intact(ours),
            _ => true,
        };
        if damaged {
            CanaryCheck::Touched(ours.clone())
        } else {
            CanaryCheck::Ignore
        }
    }

    /// Attributes a change, journals it and feeds it to the scorer.
    fn score(
        &mut self,
        pid: u32,
        time_ms: u64,
        wall_ms: u64,
        activity: Activity,
        changes: Vec<(PathBuf, FileChange, Option<ContentHash>)>,
    ) -> Vec<Verdict> {
        let lineage = self.procs.lineage(pid);
        for (path, change, before) in changes {
            self.journal.record(Entry {
                time_ms,
                wall_ms,
                pid,
                lineage: lineage.clone(),
                path,
                change,
                before,
            });
        }
        let observation = Observation {
            time_ms,
            actor: Actor { pid, lineage },
            activity,
        };
        tracing::trace!(?observation, "observation");
        let verdicts = self.scorer.observe(&observation);
        if let Some(gate) = &self.gate {
            let wrote = matches!(
                observation.activity,
                Activity::Written { .. } | Activity::Created { .. }
            );
            let chain = std::iter::once(pid).chain(observation.actor.lineage.iter().copied());
            for p in chain {
                let signals = self.scorer.signals(p);
                let standing = self.gate_standing.entry(p).or_default();
                if signals < standing.signals {
                    // The scorer forgot the process (evicted while idle) and counts
                    // again from zero: so does the gate's standing.
                    standing.signals = 0;
                }
                if signals > standing.signals {
                    standing.signals = signals;
                    standing.ordinary = 0;
                    // Why a tree is held to one open ahead, for whoever wonders why a
                    // copy slowed down.
                    tracing::debug!(pid = p, signals, activity = ?observation.activity, "a process tree is suspect");
                    gate.suspect(p);
                } else if wrote {
                    standing.ordinary += 1;
                    let clean_after = if standing.signals == 0 {
                        gate::CLEAN_AFTER
                    } else {
                        gate::CLEAN_AGAIN_AFTER
                    };
                    if standing.ordinary == clean_after {
                        gate.clean(p);
                    }
                }
            }
        }
        verdicts
    }

    /// Responds to a verdict, then finishes and sends its alert off the loop.
    async fn on_verdict(
        &mut self,
        verdict: Verdict,
        alerts: &mpsc::Sender<GuardAlert>,
        pending: &mut JoinSet<()>,
    ) {
        // Before the response: the alert's time is when the verdict came, not when the
        // response finished.
        let alert_ms = wall_ms();
        let responder = self.responder.clone();
        let (pid, level) = (verdict.pid, verdict.level);
        let (action, smb_client) = tokio::task::spawn_blocking(move || {
            let mut client = None;
            let action = responder.act(pid, level, &mut || {
                if smb::is_client_process(pid) {
                    client = smb::client_of(pid);
                }
            });
            (action, client)
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "the response panicked");
            let action = Action {
                kind: ActionKind::Reported,
                pids: Vec::new(),
                refused: Vec::new(),
                at_ms: None,
                done_ms: None,
            };
            (action, None)
        });
        if matches!(action.kind, ActionKind::Killed | ActionKind::Suspended) {
            if let Some(gate) = &self.gate {
                gate.condemn(&action.pids);
            }
        }
        if action.kind == ActionKind::Killed {
            for p in &action.pids {
                self.scorer.forget(*p);
            }
        }
        tracing::warn!(
            pid,
            level = ?level,
            score = verdict.score,
            action = ?action.kind,
            pids = ?action.pids,
            smb_client = ?smb_client.as_ref().map(|c| c.address),
            "ransomware guard verdict"
        );
        let changes = self.journal.for_tree(pid);
        if action.kind == ActionKind::Reported {
            self.reported.insert(
                pid,
                (verdict.clone(), action.clone(), distinct_files(&changes)),
            );
        } else {
            self.reported.remove(&pid);
        }
        self.send_alert(
            verdict, action, smb_client, changes, alert_ms, alerts, pending,
        );
    }

    /// Finishes an alert off the loop (hashes after the change) and sends it.
    #[allow(clippy::too_many_arguments)]
    fn send_alert(
        &self,
        verdict: Verdict,
        action: Action,
        smb_client: Option<SmbClient>,
        changes: Vec<Entry>,
        alert_ms: u64,
        alerts: &mpsc::Sender<GuardAlert>,
        pending: &mut JoinSet<()>,
    ) {
        let procs = self.procs.clone();
        let alerts = alerts.clone();
        pending.spawn(async move {
            let built = tokio::task::spawn_blocking(move || {
                let mut alert =
                    alert::draft(&verdict, action, smb_client, &procs, &changes, alert_ms);
                alert::fill_after_hashes(&mut alert);
                alert
            })
            .await;
            match built {
                Ok(alert) => {
                    if alerts.send(alert).await.is_err() {
                        tracing::warn!("nobody receives guard alerts");
                    }
                }
                Err(e) => tracing::error!(error = %e, "building an alert panicked"),
            }
        });
    }

    /// Once a second: plant damaged canaries again, let the scorer forget processes
    /// that exited a while ago, and age out the journal. Returns the closing alerts of
    /// reported trees that exited having changed more files than their alert listed.
    fn housekeeping(&mut self) -> Vec<(Verdict, Action, Vec<Entry>)> {
        for path in self.canaries.replant_damaged() {
            if let Some(m) = &self.monitor {
                if let Err(e) = m.watch_canary(&path) {
                    tracing::warn!(error = %e, "cannot watch a replanted canary");
                }
            }
        }
        let exited = self.procs.take_exited(FORGET_AFTER_EXIT);
        let mut closing = Vec::new();
        for pid in &exited {
            if let Some((verdict, action, listed)) = self.reported.remove(pid) {
                let changes = self.journal.for_tree(*pid);
                if distinct_files(&changes) > listed {
                    tracing::warn!(
                        pid,
                        files = distinct_files(&changes),
                        "reported process exited: closing alert with every file it changed"
                    );
                    closing.push((verdict, action, changes));
                }
            }
        }
        for pid in &exited {
            self.scorer.forget(*pid);
            self.gate_standing.remove(pid);
        }
        if let Some(gate) = &self.gate {
            gate.forget(&exited);
        }
        let (now, _) = self.clock.now();
        self.journal.prune(now);
        closing
    }
}

/// How many different files a journal excerpt names.
/// What the gate was last told about a process: how many signals the scorer had
/// credited to it, and how many ordinary writes it made since.
#[derive(Debug, Default)]
struct GateStanding {
    signals: u64,
    ordinary: u32,
}

fn distinct_files(changes: &[Entry]) -> usize {
    changes
        .iter()
        .map(|e| &e.path)
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// Runs the guard until `shutdown`: [`Guard::start`] then [`Guard::run`].
pub async fn run_guard(
    config: GuardConfig,
    alerts: mpsc::Sender<GuardAlert>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), GuardError> {
    Guard::start(config).await?.run(alerts, shutdown).await
}

/// The thread that applies fork/exec/exit messages as they come, so the process table
/// knows a child's parent before its first file event is read.
fn spawn_proc_events(procs: Arc<ProcTable>) -> Result<(Arc<Stopper>, JoinHandle<()>), GuardError> {
    let stop = Arc::new(Stopper::new().map_err(|cause| GuardError::Thread {
        what: "eventfd",
        cause,
    })?);
    let thread_stop = stop.clone();
    let handle = std::thread::Builder::new()
        .name("guard-procs".into())
        .spawn(move || {
            raise_thread_priority("guard-procs");
            let Some(fd) = procs.connector().map(|c| c.raw()) else {
                return;
            };
            loop {
                match wait_readable(fd, &thread_stop, 1000) {
                    Ok(Wake::Readable) => procs.pump(),
                    Ok(Wake::Timeout) => {}
                    Ok(Wake::Stop) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "process connector failed");
                        return;
                    }
                }
            }
        })
        .map_err(|cause| GuardError::Thread {
            what: "cannot start the process events thread",
            cause,
        })?;
    Ok((stop, handle))
}

fn stop_proc_thread(thread: Option<(Arc<Stopper>, JoinHandle<()>)>) {
    if let Some((stop, handle)) = thread {
        stop.fire();
        let _ = handle.join();
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
