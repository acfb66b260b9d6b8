//! The open gate: an open of a protected file waits while the guard is behind.
//!
//! Notification events arrive after the fact. An encryptor that skips `fsync`, or uses
//! eight threads, changes dozens of files in the few milliseconds between its first
//! write and the guard's verdict. The gate closes that gap: a permission group
//! (`FAN_OPEN_PERM` on every protected directory) sees each open of a protected file
//! before it happens. While the guard has scored every queued file event (the usual
//! case: the queues are empty) every open goes through at once. While it is behind, a
//! process tree may open [`AHEAD_BUDGET`] files before its next open waits for the
//! guard to catch up, a tree whose writes have all been ordinary goes on while the
//! guard is at most [`CLEAN_BUDGET`] events behind, and a tree that has shown a sign of
//! encryption lately opens only one; an open by a tree the guard has stopped is
//! refused. An attacker so gets at most a few files ahead of the scorer, and a bulk
//! copy runs beside the guard.
//!
//! The gate never holds for long: an open held longer than [`HOLD_LIMIT`] is let
//! through, and so is every open after it until the guard has caught up (a stalled
//! guard must not hang the terminal). When the gate's thread ends for any reason its
//! group is closed, which lets every waiting open through.
//!
//! While every process writing in the protected folders is known to be harmless the
//! gate rests and costs nothing; see [`super::rest`] for when it rests and what wakes it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::priority::raise_thread_priority;
use super::procinfo::{ExeId, ProcTable};
use super::progress::Progress;
use super::rest::{has_exited, Rest, Wake, PROBATION, RECENT, REST_CHECK};
use super::GuardError;
use wardwatch_os::fanotify::{
    fanotify_init, fanotify_respond, mark, read_events, AlignedBuf, Event,
};
use wardwatch_os::fd::{poll_readable, Stopper};

/// Opens a process tree may make while the guard is behind, before the next waits.
pub(crate) const AHEAD_BUDGET: u32 = 2;
/// Events the guard may be behind while a tree whose last [`CLEAN_AFTER`] or more
/// scored writes were all ordinary goes on: a bulk copy or a backup then runs beside
/// the guard instead of waiting for it file by file.
const CLEAN_BUDGET: u32 = 32;
/// Scored writes without any sign of encryption after which a tree counts as clean.
pub(crate) const CLEAN_AFTER: u32 = 8;
/// The same for a tree that has shown a sign: it is held one open at a time until this
/// many ordinary writes follow its last sign (about 16 files). One odd file in a copied
/// tree (a compressed index among thousands of documents) so costs a few held opens,
/// not the rest of the copy; an encryptor's next encrypted file is a new sign.
pub(crate) const CLEAN_AGAIN_AFTER: u32 = 4 * CLEAN_AFTER;
/// The same for a suspect tree (a new sign, not yet followed by [`CLEAN_AGAIN_AFTER`]
/// ordinary writes): every open after the first waits.
const SUSPECT_BUDGET: u32 = 1;
/// Longest an open waits for the guard to catch up before it is let through anyway.
pub(crate) const HOLD_LIMIT: Duration = Duration::from_millis(1500);
/// Most suspects the gate looks up in `/proc` when it considers resting; with more it
/// stays awake.
const MAX_SUSPECTS_TO_CHECK: usize = 64;
/// Read buffer of the permission group.
const READ_BUFFER: usize = 64 * 1024;

/// What the guard loop asks of the gate thread.
enum Request {
    /// A directory appeared in a protected tree: gate it and everything below it.
    WatchTree(PathBuf),
}

/// Totals the gate keeps, for the guard's log.
#[derive(Debug, Default)]
struct Counts {
    /// Opens of protected files the gate answered.
    opens: u64,
    held: u64,
    refused: u64,
    let_through_late: u64,
}

/// What the guard loop tells the gate about process trees.
#[derive(Debug, Default)]
struct Standing {
    /// Trees stopped or killed: their opens are refused.
    condemned: HashSet<u32>,
    /// Processes with a sign the scorer credited, not yet followed by enough ordinary
    /// writes.
    suspects: HashSet<u32>,
    /// Processes with [`CLEAN_AFTER`] ordinary writes and a score of zero.
    clean: HashSet<u32>,
}

/// The running gate.
pub(crate) struct Gate {
    requests: mpsc::Sender<Request>,
    rest: Option<Arc<Rest>>,
    progress: Arc<Progress>,
    standing: Arc<Mutex<Standing>>,
    stop: Arc<Stopper>,
    thread: Option<JoinHandle<()>>,
}

/// Everything the gate needs at start.
pub(crate) struct GateSetup<'a> {
    pub roots: &'a [PathBuf],
    pub procs: Arc<ProcTable>,
    pub progress: Arc<Progress>,
    /// The notification groups whose queues must be empty before an open goes on.
    pub queues: [Arc<OwnedFd>; 2],
    /// The trusted programs' files: a process running one lets the gate rest.
    pub trusted_files: HashSet<ExeId>,
}

impl Gate {
    /// Creates the permission group, gates every directory under `roots` and starts the
    /// thread that answers. Fails only if the group cannot be created at all; a
    /// directory that cannot be gated is logged and left ungated.
    pub(crate) fn start(setup: GateSetup<'_>) -> Result<Self, GuardError> {
        let first = setup.roots.first().cloned().unwrap_or_default();
        let group = fanotify_init(
            libc::FAN_CLASS_CONTENT
                | libc::FAN_CLOEXEC
                | libc::FAN_UNLIMITED_QUEUE
                | libc::FAN_UNLIMITED_MARKS,
            // The kernel opens each file for the event: never block on a FIFO.
            (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_LARGEFILE | libc::O_CLOEXEC) as u32,
        )
        .map_err(|e| GuardError::syscall("fanotify_init(FAN_CLASS_CONTENT)", &first, e))?;
        let group = Arc::new(group);
        let rest = match Rest::new(&group, setup.roots, setup.trusted_files) {
            Ok(rest) => {
                let rest = Arc::new(rest);
                setup.progress.set_rest(rest.clone());
                Some(rest)
            }
            Err(why) => {
                tracing::info!(%why, "the open gate never rests: every open of a protected file goes through it");
                None
            }
        };
        let mut marks = Marks::default();
        let weak_group = Arc::downgrade(&group);
        for root in setup.roots {
            marks.watch_tree(&weak_group, root);
        }
        tracing::debug!(directories = marks.gated, "open gate set");
        let stop = Arc::new(Stopper::new().map_err(|cause| GuardError::Thread {
            what: "eventfd",
            cause,
        })?);
        let (requests, inbox) = mpsc::channel();
        // New folders are gated by a thread of their own: the gate's thread answers
        // every program start on the machine and must never wait on a walk.
        std::thread::Builder::new()
            .name("guard-marks".into())
            .spawn(move || {
                raise_thread_priority("guard-marks");
                while let Ok(Request::WatchTree(dir)) = inbox.recv() {
                    marks.watch_tree(&weak_group, &dir);
                }
            })
            .map_err(|cause| GuardError::Thread {
                what: "cannot start the thread that gates new folders",
                cause,
            })?;
        let standing = Arc::new(Mutex::new(Standing::default()));
        let worker = GateThread {
            group,
            procs: setup.procs,
            progress: setup.progress.clone(),
            queues: setup.queues,
            standing: standing.clone(),
            stop: stop.clone(),
            own_pid: std::process::id(),
            rest: rest.clone(),
            recent: HashMap::new(),
            probation: HashMap::new(),
            last_rest_check: Instant::now(),
            held: VecDeque::new(),
            ahead: HashMap::new(),
            stalled: false,
            counts: Counts::default(),
            last_late_warning: None,
        };
        let thread = std::thread::Builder::new()
            .name("guard-gate".into())
            .spawn(move || worker.run())
            .map_err(|cause| GuardError::Thread {
                what: "cannot start the open gate thread",
                cause,
            })?;
        Ok(Self {
            requests,
            rest,
            progress: setup.progress,
            standing,
            stop,
            thread: Some(thread),
        })
    }

    /// Gates a directory that appeared in a protected tree, with everything below it.
    pub(crate) fn watch_tree(&self, dir: PathBuf) {
        let _ = self.requests.send(Request::WatchTree(dir));
    }

    /// Refuses every further open by these processes and their descendants.
    pub(crate) fn condemn(&self, pids: &[u32]) {
        if pids.is_empty() {
            return;
        }
        if let Ok(mut s) = self.standing.lock() {
            s.condemned.extend(pids.iter().copied());
        }
        if let Some(rest) = &self.rest {
            rest.end(Wake::Verdict);
        }
        self.progress.wake_gate();
    }

    /// Marks a process whose tree scored above zero: it may no longer run ahead.
    pub(crate) fn suspect(&self, pid: u32) {
        if let Ok(mut s) = self.standing.lock() {
            s.clean.remove(&pid);
            s.suspects.insert(pid);
        }
        if let Some(rest) = &self.rest {
            rest.unsettle(pid);
            rest.end(Wake::Verdict);
        }
    }

    /// Marks a process whose recent writes have all been ordinary; it is no longer a
    /// suspect.
    pub(crate) fn clean(&self, pid: u32) {
        if let Ok(mut s) = self.standing.lock() {
            s.suspects.remove(&pid);
            s.clean.insert(pid);
        }
    }

    /// Forgets processes that exited.
    pub(crate) fn forget(&self, pids: &[u32]) {
        if let Ok(mut s) = self.standing.lock() {
            for p in pids {
                s.condemned.remove(p);
                s.suspects.remove(p);
                s.clean.remove(p);
            }
        }
        if let Some(rest) = &self.rest {
            for p in pids {
                rest.unsettle(*p);
            }
        }
    }

    /// Stops the thread; the kernel lets every open still waiting through.
    pub(crate) fn stop(mut self) {
        self.stop.fire();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The identity of the file an exec event opened.
fn exe_id_of(event_fd: &OwnedFd) -> Option<ExeId> {
    let file = std::fs::File::from(event_fd.try_clone().ok()?);
    file.metadata().ok().map(|m| ExeId::of(&m))
}

/// Directories gated so far.
#[derive(Debug, Default)]
struct Marks {
    gated: usize,
    warned: bool,
}

impl Marks {
    /// Gates `root` and every directory below it on the same file system, without
    /// following symlinks. Stops when the gate has stopped (its group is gone).
    fn watch_tree(&mut self, group: &Weak<OwnedFd>, root: &Path) {
        let Ok(root_meta) = std::fs::symlink_metadata(root) else {
            return;
        };
        if !root_meta.is_dir() {
            return;
        }
        let dev = root_meta.dev();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Some(group) = group.upgrade() else {
                return;
            };
            self.watch_dir(&group, &dir);
            drop(group);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if !is_dir {
                    continue;
                }
                let path = entry.path();
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.dev() == dev) {
                    stack.push(path);
                }
            }
        }
    }

    fn watch_dir(&mut self, group: &OwnedFd, dir: &Path) {
        let marked = mark(
            group,
            libc::FAN_MARK_ADD | libc::FAN_MARK_ONLYDIR,
            libc::FAN_OPEN_PERM | libc::FAN_EVENT_ON_CHILD,
            dir,
        );
        match marked {
            Ok(_) => self.gated += 1,
            Err(e) if !self.warned => {
                self.warned = true;
                tracing::warn!(path = %dir.display(), error = %e, "cannot gate opens in a protected directory; its files are watched, but an encryptor may get further there");
            }
            Err(_) => {}
        }
    }
}

/// A process tree as the gate sees it.
struct Tree {
    root: u32,
    condemned: bool,
    suspect: bool,
    clean: bool,
}

/// One open waiting for an answer.
struct Held {
    event_fd: OwnedFd,
    pid: u32,
    since: Instant,
}

/// A program started lately, and the files its exec opened (the program, a script's
/// interpreter, the dynamic linker).
struct Probation {
    since: Instant,
    files: Vec<ExeId>,
}

/// The thread that owns the permission group and answers it.
struct GateThread {
    group: Arc<OwnedFd>,
    procs: Arc<ProcTable>,
    progress: Arc<Progress>,
    queues: [Arc<OwnedFd>; 2],
    standing: Arc<Mutex<Standing>>,
    stop: Arc<Stopper>,
    own_pid: u32,
    rest: Option<Arc<Rest>>,
    /// Processes whose opens the awake gate answered, and when last.
    recent: HashMap<u32, Instant>,
    /// Programs started within [`PROBATION`].
    probation: HashMap<u32, Probation>,
    last_rest_check: Instant,
    held: VecDeque<Held>,
    /// Opens let through per tree since the guard was last caught up.
    ahead: HashMap<u32, u32>,
    /// An open waited [`HOLD_LIMIT`] and the guard has not caught up since: opens go
    /// through unheld (refusals of stopped trees still apply).
    stalled: bool,
    counts: Counts,
    last_late_warning: Option<Instant>,
}

impl GateThread {
    fn run(mut self) {
        raise_thread_priority("guard-gate");
        let mut buf = AlignedBuf::with_len(READ_BUFFER);
        let Some(wake) = self.progress.wake.as_ref().map(|w| w.raw()) else {
            return;
        };
        loop {
            let waiting = !self.held.is_empty();
            self.progress.gate_waiting.store(waiting, Ordering::SeqCst);
            // Held opens are looked at again at least every few ms for their deadline;
            // an awake gate that may rest looks at least every REST_CHECK.
            let may_rest = self.rest.as_ref().is_some_and(|r| !r.is_resting());
            let timeout = if waiting {
                5
            } else if may_rest {
                REST_CHECK.as_millis() as i32
            } else {
                -1
            };
            let ready = match poll_readable(
                [self.group.as_raw_fd(), wake, self.stop.raw()],
                timeout,
            ) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "poll on the open gate failed; opens are no longer gated");
                    return;
                }
            };
            if ready[2] {
                break;
            }
            if ready[1] {
                if let Some(w) = &self.progress.wake {
                    w.drain();
                }
            }
            if ready[0] && !self.read_events(&mut buf) {
                return;
            }
            self.settle_held();
            self.maybe_rest();
        }
        let rests = self.rest.as_ref().map(|r| &r.counts);
        let count = |c: Option<&std::sync::atomic::AtomicU64>| c.map(|c| c.load(Ordering::Relaxed));
        tracing::info!(
            opens = self.counts.opens,
            rests = count(rests.map(|r| &r.rests)),
            woken_by_exec = count(rests.map(|r| &r.woken_by_exec)),
            woken_by_writer = count(rests.map(|r| &r.woken_by_writer)),
            woken_by_verdict = count(rests.map(|r| &r.woken_by_verdict)),
            held = self.counts.held,
            refused = self.counts.refused,
            late = self.counts.let_through_late,
            "open gate stopped"
        );
    }

    /// Reads and answers (or holds) the waiting permission events; false on a fatal
    /// read error.
    fn read_events(&mut self, buf: &mut AlignedBuf) -> bool {
        let events = match read_events(self.group.as_raw_fd(), buf) {
            Ok(events) => events,
            Err(e) => {
                tracing::error!(error = %e, "read from the open gate failed; opens are no longer gated");
                return false;
            }
        };
        let now = Instant::now();
        for Event { fd, pid, mask, .. } in events {
            let Some(event_fd) = fd else {
                continue;
            };
            let pid = pid as u32;
            if mask & libc::FAN_OPEN_EXEC_PERM != 0 {
                // Woken before the answer: the new program is gated from its first open.
                self.program_started(pid, &event_fd, now);
                if mask & libc::FAN_OPEN_PERM == 0 {
                    self.answer(event_fd, true);
                    continue;
                }
            }
            if pid == self.own_pid {
                self.answer(event_fd, true);
                continue;
            }
            self.counts.opens += 1;
            if self.rest.is_some() {
                self.recent.insert(pid, now);
            }
            // The common case costs two ioctls and no look at /proc: nobody stopped,
            // nothing queued.
            if !self.anyone_condemned() && self.progress.caught_up(&self.queues) {
                self.ahead.clear();
                self.stalled = false;
                self.answer(event_fd, true);
                continue;
            }
            let tree = self.tree_of(pid);
            if tree.condemned {
                self.counts.refused += 1;
                self.answer(event_fd, false);
            } else if self.progress.caught_up(&self.queues) {
                self.ahead.clear();
                self.stalled = false;
                self.answer(event_fd, true);
            } else if self.stalled || self.within_budget(&tree) {
                self.answer(event_fd, true);
            } else {
                self.counts.held += 1;
                self.held.push_back(Held {
                    event_fd,
                    pid,
                    since: Instant::now(),
                });
            }
        }
        true
    }

    /// Answers the held opens that can be answered now, oldest first.
    fn settle_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let caught_up = self.progress.caught_up(&self.queues);
        if caught_up {
            self.ahead.clear();
            self.stalled = false;
        }
        let mut still = VecDeque::new();
        while let Some(h) = self.held.pop_front() {
            if self.tree_of(h.pid).condemned {
                self.counts.refused += 1;
                self.answer(h.event_fd, false);
            } else if caught_up {
                self.answer(h.event_fd, true);
            } else if self.stalled || h.since.elapsed() >= HOLD_LIMIT {
                // Until the guard catches up again nothing more is held: a stalled
                // guard costs each open once, not every open 1.5 s.
                self.stalled = true;
                self.counts.let_through_late += 1;
                self.warn_late();
                self.answer(h.event_fd, true);
            } else {
                still.push_back(h);
            }
        }
        self.held = still;
    }

    /// A process is starting a program: the gate wakes (if resting) and the process is
    /// on probation.
    fn program_started(&mut self, pid: u32, event_fd: &OwnedFd, now: Instant) {
        let Some(rest) = &self.rest else {
            return;
        };
        if pid == self.own_pid {
            return;
        }
        rest.end(Wake::Exec);
        rest.unsettle(pid);
        let started = self.probation.entry(pid).or_insert(Probation {
            since: now,
            files: Vec::new(),
        });
        if now.duration_since(started.since) > PROBATION {
            *started = Probation {
                since: now,
                files: Vec::new(),
            };
        }
        if let Some(id) = exe_id_of(event_fd) {
            started.files.push(id);
        }
    }

    /// Rests the gate if nothing needs it: nobody suspect or stopped, the guard caught
    /// up, and every process that opened a protected file lately or started a program
    /// is settled.
    fn maybe_rest(&mut self) {
        let Some(rest) = self.rest.clone() else {
            return;
        };
        if rest.is_resting() || self.last_rest_check.elapsed() < REST_CHECK {
            return;
        }
        self.last_rest_check = Instant::now();
        if !self.held.is_empty() || self.stalled {
            return;
        }
        // A suspect that has exited opens nothing more; the loop forgets it only
        // seconds later (its last events may still be queued), and until then a copy
        // that one odd file made suspect would keep the gate awake.
        let suspects = self.standing.lock().ok().and_then(|s| {
            (s.condemned.is_empty() && s.suspects.len() <= MAX_SUSPECTS_TO_CHECK)
                .then(|| s.suspects.iter().copied().collect::<Vec<u32>>())
        });
        let quiet = suspects.is_some_and(|pids| pids.into_iter().all(has_exited));
        // Behind by no more than a clean tree may run ahead of an awake gate: a bulk
        // copy keeps the queues from ever being empty at the moment of the check.
        if !quiet
            || !self
                .progress
                .behind_at_most(&self.queues, u64::from(CLEAN_BUDGET))
        {
            return;
        }
        let now = Instant::now();
        self.recent
            .retain(|_, last| now.duration_since(*last) < RECENT);
        self.probation
            .retain(|pid, p| now.duration_since(p.since) < PROBATION && !has_exited(*pid));
        for (pid, p) in &self.probation {
            if !self.newcomer_settled(&rest, *pid, &p.files) {
                return;
            }
        }
        let recent: Vec<u32> = self.recent.keys().copied().collect();
        for pid in recent {
            if !self.probation.contains_key(&pid) && !self.writer_settled(&rest, pid) {
                return;
            }
        }
        rest.begin();
    }

    /// A process on probation is settled by its own ordinary writes, or by running a
    /// trusted program that its exec opened (not one it ran before the exec, whose file
    /// `/proc` may still show).
    fn newcomer_settled(&self, rest: &Rest, pid: u32, exec_files: &[ExeId]) -> bool {
        if rest.is_settled(pid) {
            return true;
        }
        let own_clean = self
            .standing
            .lock()
            .is_ok_and(|s| s.clean.contains(&pid) && !s.suspects.contains(&pid));
        let trusted = || {
            rest.trusted_file_of(pid)
                .is_some_and(|file| exec_files.contains(&file))
        };
        let settled = own_clean || trusted();
        if settled {
            rest.settle(pid);
        }
        settled
    }

    /// A process that opened protected files is settled by its tree being clean or by
    /// running a trusted program.
    fn writer_settled(&self, rest: &Rest, pid: u32) -> bool {
        if rest.is_settled(pid) {
            return true;
        }
        let tree = self.tree_of(pid);
        let settled =
            !tree.condemned && !tree.suspect && (tree.clean || rest.trusted_file_of(pid).is_some());
        if settled {
            rest.settle(pid);
        }
        settled
    }

    fn warn_late(&mut self) {
        let quiet = self
            .last_late_warning
            .is_some_and(|t| t.elapsed() < Duration::from_secs(60));
        if !quiet {
            self.last_late_warning = Some(Instant::now());
            tracing::warn!(
                total = self.counts.let_through_late,
                "the guard fell behind the file activity; opens held longer than {} ms were let through",
                HOLD_LIMIT.as_millis()
            );
        }
    }

    fn anyone_condemned(&self) -> bool {
        self.standing
            .lock()
            .map(|s| !s.condemned.is_empty())
            .unwrap_or(true)
    }

    /// The tree `pid` belongs to (its top-most scored ancestor) and its standing.
    fn tree_of(&self, pid: u32) -> Tree {
        let lineage = self.procs.lineage(pid);
        let root = lineage.last().copied().unwrap_or(pid);
        let Ok(s) = self.standing.lock() else {
            return Tree {
                root,
                condemned: false,
                suspect: true,
                clean: false,
            };
        };
        let member = |set: &HashSet<u32>| {
            !set.is_empty() && (set.contains(&pid) || lineage.iter().any(|p| set.contains(p)))
        };
        let suspect = member(&s.suspects);
        Tree {
            root,
            condemned: member(&s.condemned),
            suspect,
            clean: !suspect && (s.clean.contains(&root) || s.clean.contains(&pid)),
        }
    }

    /// Lets `tree` run one more open ahead of the guard if its budget allows. A clean
    /// tree goes on while the guard is behind by at most [`CLEAN_BUDGET`] events, the
    /// rule the resting gate follows: counting its opens since the guard was last
    /// wholly caught up held a bulk copy again and again, as the readers' batching
    /// leaves a few events queued most of the time.
    fn within_budget(&mut self, tree: &Tree) -> bool {
        if tree.clean && !tree.suspect {
            return self
                .progress
                .behind_at_most(&self.queues, u64::from(CLEAN_BUDGET));
        }
        let budget = if tree.suspect {
            SUSPECT_BUDGET
        } else {
            AHEAD_BUDGET
        };
        let used = self.ahead.entry(tree.root).or_insert(0);
        if *used < budget {
            *used += 1;
            true
        } else {
            false
        }
    }

    fn answer(&self, event_fd: OwnedFd, allow: bool) {
        if let Err(e) = fanotify_respond(self.group.as_raw_fd(), event_fd.as_raw_fd(), allow) {
            tracing::debug!(error = %e, "cannot answer a gated open");
        }
        drop(event_fd);
    }
}
