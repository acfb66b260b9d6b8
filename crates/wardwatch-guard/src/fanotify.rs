//! The file system monitor: raw fanotify through `libc`, two groups, one reader thread
//! each, events sent to the guard loop over a channel.
//!
//! * The content group gets `FAN_CLOSE_WRITE` for the whole file system of each
//!   protected directory (and `FAN_MODIFY` on the canaries, so a canary held open and
//!   written is seen at the first write). It reports file handles, not descriptors
//!   (`FAN_REPORT_DFID_NAME | FAN_REPORT_FID`): the path comes from the directory's
//!   handle and the entry's name, through the directory cache the name group keeps
//!   current, so a write outside the protected trees costs no system call at all. A
//!   protected file is opened by its own handle, which names that very inode: the
//!   sampled blocks read for the fingerprint are those of the file the event was about,
//!   even if the name was reused meanwhile. (A descriptor per event, its path through
//!   `/proc` and its `close` were half of the reader's CPU on a bulk copy.)
//! * The name group (`FAN_REPORT_DFID_NAME`) gets creates, deletes and renames, as a
//!   directory file handle plus a name ([`super::dirhandle`] turns them into paths).
//!   Renames come as one `FAN_RENAME` event with both names (Linux 5.17+); on older
//!   kernels as `FAN_MOVED_FROM` then `FAN_MOVED_TO`, which have no cookie and are
//!   paired as consecutive events of the same pid.
//!
//! Marks cover whole file systems (only `FAN_MARK_FILESYSTEM` sees every directory,
//! including ones created later), so most events are about other directories and are
//! dropped in the reader thread by path. Events of the guard itself are dropped too.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::Sender;
use wardwatch_detect::content::Fingerprint;

use super::canary::is_canary;
use super::dirhandle::DirResolver;
use super::index::mtime_ms;
use super::priority::raise_thread_priority;
use super::procinfo::ProcTable;
use super::progress::{Progress, Queue};
use super::protected::ProtectedPaths;
use super::sample::fingerprint_file;
use super::trust::TrustList;
use super::{Clock, GuardError};
use wardwatch_os::fanotify::{
    fanotify_init, mark, parse_name_records, read_events, AlignedBuf, Event, NameRecord,
};
use wardwatch_os::fd::{fd_path, wait_readable, Stopper, Wake};

/// One file system event about a protected path.
#[derive(Debug, Clone)]
pub struct FsEvent {
    /// The process (thread group) that caused it.
    pub pid: u32,
    /// Monotonic milliseconds (the guard's clock) when it was read.
    pub time_ms: u64,
    /// Wall-clock milliseconds when it was read.
    pub wall_ms: u64,
    pub kind: FsEventKind,
}

#[derive(Debug, Clone)]
pub enum FsEventKind {
    /// A file opened for writing was closed.
    Written {
        /// The name it was written under (it may have been renamed since).
        path: PathBuf,
        inode: u64,
        size: u64,
        mtime_ms: i64,
        /// None when the writer runs a trusted program: its writes are not scored, so
        /// the reader leaves the fingerprint to the hasher (see [`super::hasher`]).
        fingerprint: Option<Fingerprint>,
    },
    /// A canary was written to (possibly still open) or closed after writing.
    CanaryWritten {
        path: PathBuf,
    },
    Created {
        path: PathBuf,
        dir: bool,
    },
    /// Deleted, or moved out of the protected directories.
    Deleted {
        path: PathBuf,
        dir: bool,
    },
    Renamed {
        from: PathBuf,
        to: PathBuf,
        dir: bool,
    },
    /// The kernel queue overflowed: events were lost.
    Lost,
}

/// How long a reader lets events gather after each read, before it reads again.
/// A bulk copy then costs the guard one wake-up of each of its threads per batch
/// instead of per file (a third of its CPU, measured); the open gate keeps every tree
/// within its few files ahead meanwhile, so an encryptor gains nothing from it. Not
/// while the gate holds an open: the held program would wait out every pause.
const COALESCE: Duration = Duration::from_millis(1);

/// How long a `FAN_MOVED_FROM` waits for its `FAN_MOVED_TO`.
const MOVE_PAIRING: Duration = Duration::from_millis(200);

/// Everything the reader threads need.
pub(crate) struct MonitorSetup {
    pub protected: ProtectedPaths,
    pub procs: Arc<ProcTable>,
    pub events: Sender<Vec<FsEvent>>,
    pub clock: Clock,
    pub progress: Arc<Progress>,
    /// Writes by these programs are not fingerprinted on the event path.
    pub trust: TrustList,
}

/// The running monitor.
pub(crate) struct Monitor {
    content: Arc<OwnedFd>,
    names: Arc<OwnedFd>,
    stop: Arc<Stopper>,
    threads: Vec<JoinHandle<()>>,
}

impl Monitor {
    pub(crate) fn start(setup: MonitorSetup) -> Result<Self, GuardError> {
        let roots = setup.protected.roots().to_vec();
        let first = roots.first().cloned().unwrap_or_default();
        let content = Arc::new(
            fanotify_init(
                libc::FAN_CLASS_NOTIF
                    | libc::FAN_CLOEXEC
                    | libc::FAN_UNLIMITED_QUEUE
                    | libc::FAN_REPORT_DFID_NAME
                    | libc::FAN_REPORT_FID,
                (libc::O_RDONLY | libc::O_CLOEXEC) as u32,
            )
            .map_err(|e| {
                GuardError::syscall(
                    "fanotify_init(content group, FAN_REPORT_DFID_NAME | FAN_REPORT_FID)",
                    &first,
                    e,
                )
            })?,
        );
        for root in &roots {
            mark(
                &content,
                libc::FAN_MARK_ADD | libc::FAN_MARK_FILESYSTEM,
                libc::FAN_CLOSE_WRITE,
                root,
            )
            .map_err(|e| {
                GuardError::syscall(
                    "fanotify_mark(FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE)",
                    root,
                    e,
                )
            })?;
        }
        let names = Arc::new(
            fanotify_init(
                libc::FAN_CLASS_NOTIF
                    | libc::FAN_CLOEXEC
                    | libc::FAN_UNLIMITED_QUEUE
                    | libc::FAN_REPORT_DFID_NAME,
                (libc::O_RDONLY | libc::O_CLOEXEC) as u32,
            )
            .map_err(|e| GuardError::syscall("fanotify_init(FAN_REPORT_DFID_NAME)", &first, e))?,
        );
        let base = libc::FAN_CREATE | libc::FAN_DELETE | libc::FAN_ONDIR;
        let mut paired_moves = false;
        for root in &roots {
            let flags = libc::FAN_MARK_ADD | libc::FAN_MARK_FILESYSTEM;
            let with_rename = if paired_moves {
                Err(std::io::Error::from_raw_os_error(libc::EINVAL))
            } else {
                mark(&names, flags, base | libc::FAN_RENAME, root)
            };
            if let Err(e) = with_rename {
                if e.raw_os_error() != Some(libc::EINVAL) {
                    return Err(GuardError::syscall(
                        "fanotify_mark(FAN_MARK_FILESYSTEM, FAN_RENAME)",
                        root,
                        e,
                    ));
                }
                // Before Linux 5.17: no FAN_RENAME, pair the two move events instead.
                paired_moves = true;
                mark(
                    &names,
                    flags,
                    base | libc::FAN_MOVED_FROM | libc::FAN_MOVED_TO,
                    root,
                )
                .map_err(|e| {
                    GuardError::syscall("fanotify_mark(FAN_MARK_FILESYSTEM, FAN_MOVE)", root, e)
                })?;
            }
        }
        // One directory cache for both readers; the name reader keeps it current.
        let resolver = Arc::new(Mutex::new(DirResolver::new(&setup.protected)?));
        let stop = Arc::new(Stopper::new().map_err(|cause| GuardError::Thread {
            what: "eventfd",
            cause,
        })?);
        let own_pid = std::process::id();

        let content_reader = ContentReader {
            group: content.clone(),
            stop: stop.clone(),
            protected: setup.protected.clone(),
            procs: setup.procs.clone(),
            events: setup.events.clone(),
            clock: setup.clock,
            own_pid,
            progress: setup.progress.clone(),
            trust: setup.trust,
            resolver: resolver.clone(),
        };
        let name_reader = NameReader {
            group: names.clone(),
            stop: stop.clone(),
            protected: setup.protected,
            procs: setup.procs,
            events: setup.events,
            batch: Vec::new(),
            clock: setup.clock,
            own_pid,
            resolver,
            pairer: paired_moves.then(RenamePairer::default),
            progress: setup.progress,
        };
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|cause| GuardError::Thread {
                    what: "cannot start a fanotify reader thread",
                    cause,
                })
        };
        let threads = vec![
            spawn("guard-content", Box::new(move || content_reader.run()))?,
            spawn("guard-names", Box::new(move || name_reader.run()))?,
        ];
        tracing::debug!(rename_events = !paired_moves, "fanotify monitor started");
        Ok(Self {
            content,
            names,
            stop,
            threads,
        })
    }

    /// The notification groups, whose queues the open gate watches.
    pub(crate) fn queues(&self) -> [Arc<OwnedFd>; 2] {
        [self.content.clone(), self.names.clone()]
    }

    /// Watches a canary for every write, not only the close after writing.
    pub(crate) fn watch_canary(&self, path: &Path) -> Result<(), GuardError> {
        mark(
            &self.content,
            libc::FAN_MARK_ADD,
            libc::FAN_MODIFY | libc::FAN_CLOSE_WRITE,
            path,
        )
        .map_err(|e| GuardError::syscall("fanotify_mark(FAN_MODIFY)", path, e))
    }

    /// Stops and joins the reader threads. The event receiver must be dropped (or
    /// drained) first, or a thread blocked on a full channel would never see the stop.
    pub(crate) fn stop(self) {
        self.stop.fire();
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// The directory cache, shared by the readers. A reader that panicked holding it left
/// nothing half-done that matters (a cache entry at most), so poisoning is ignored.
fn lock(resolver: &Mutex<DirResolver>) -> MutexGuard<'_, DirResolver> {
    resolver
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads `FAN_CLOSE_WRITE` (and canary `FAN_MODIFY`) events.
struct ContentReader {
    group: Arc<OwnedFd>,
    stop: Arc<Stopper>,
    protected: ProtectedPaths,
    procs: Arc<ProcTable>,
    events: Sender<Vec<FsEvent>>,
    clock: Clock,
    own_pid: u32,
    progress: Arc<Progress>,
    /// The reader's own quiet copy (its own cache of decisions per process; the loop
    /// warns about lookalikes).
    trust: TrustList,
    resolver: Arc<Mutex<DirResolver>>,
}

impl ContentReader {
    fn run(mut self) {
        raise_thread_priority("guard-content");
        let mut buf = AlignedBuf::new();
        loop {
            match wait_readable(self.group.as_raw_fd(), &self.stop, -1) {
                Ok(Wake::Readable) => {}
                Ok(Wake::Timeout) => continue,
                Ok(Wake::Stop) => return,
                Err(e) => {
                    tracing::error!(error = %e, "poll on the fanotify content group failed; file writes are no longer seen");
                    return;
                }
            }
            self.progress.set_reading(Queue::Content, true);
            // File handles, no descriptors: a stray one is owned and closed with its event.
            let events = match read_events(self.group.as_raw_fd(), &mut buf) {
                Ok(events) => events,
                Err(e) => {
                    self.progress.set_reading(Queue::Content, false);
                    tracing::error!(error = %e, "read from the fanotify content group failed; file writes are no longer seen");
                    return;
                }
            };
            let (time_ms, wall_ms) = self.clock.now();
            let mut batch = Vec::with_capacity(events.len());
            for Event {
                mask, pid, info, ..
            } in events
            {
                let kind = if mask & libc::FAN_Q_OVERFLOW != 0 {
                    Some(FsEventKind::Lost)
                } else if pid as u32 == self.own_pid {
                    None
                } else {
                    self.describe(mask, info, pid as u32)
                };
                if let Some(kind) = kind {
                    self.progress.sent();
                    batch.push(FsEvent {
                        pid: pid as u32,
                        time_ms,
                        wall_ms,
                        kind,
                    });
                }
            }
            // One send (and one wake of the loop) per read, not per event.
            if !batch.is_empty() && self.events.blocking_send(batch).is_err() {
                return;
            }
            self.progress.set_reading(Queue::Content, false);
            // Read at once, then let the next events gather: the first write after a
            // quiet spell is seen without delay, a bulk copy still in few batches.
            self.progress.pause_reader(COALESCE);
        }
    }

    fn describe(&mut self, mask: u64, info: &[u8], pid: u32) -> Option<FsEventKind> {
        let records = parse_name_records(info);
        let inode = records
            .iter()
            .find(|r| r.info_type == libc::FAN_EVENT_INFO_TYPE_FID)?;
        let path = self.path_of(&records, inode)?;
        if !self.protected.contains(&path) {
            return None;
        }
        self.progress.wrote(pid);
        // While the process may still exist.
        let info = self.procs.observe(pid);
        if is_canary(&path) {
            return Some(FsEventKind::CanaryWritten { path });
        }
        if mask & libc::FAN_CLOSE_WRITE == 0 {
            return None;
        }
        // A trusted program's bulk writes (tar unpacking a tree) cost no reading here:
        // the hasher fingerprints them when the folders are quiet.
        let trusted = info.is_some_and(|i| self.trust.is_trusted(&self.procs, &i));
        // Never blocks on a FIFO; a device cannot be made by the users of the trees.
        let flags = if trusted {
            libc::O_PATH
        } else {
            libc::O_RDONLY | libc::O_NOATIME | libc::O_NONBLOCK | libc::O_LARGEFILE
        };
        let file = match lock(&self.resolver).open(&inode.dir, flags) {
            Ok(fd) => File::from(fd),
            Err(e) => {
                // ESTALE: deleted since it was written.
                tracing::debug!(path = %path.display(), error = %e, "cannot open a written file by its handle");
                return None;
            }
        };
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.nlink() == 0 {
            return None;
        }
        let size = meta.len();
        let mtime_ms = mtime_ms(&meta);
        if trusted {
            return Some(FsEventKind::Written {
                path,
                inode: meta.ino(),
                size,
                mtime_ms,
                fingerprint: None,
            });
        }
        let fingerprint = match fingerprint_file(&file, size) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "cannot read a rewritten file");
                return None;
            }
        };
        Some(FsEventKind::Written {
            path,
            inode: meta.ino(),
            size,
            mtime_ms,
            fingerprint,
        })
    }

    /// The path of the written file: its directory's cached path and its name, or,
    /// when the event has no name or the directory is gone, the path of the inode
    /// itself as the kernel shows it.
    fn path_of(&self, records: &[NameRecord], inode: &NameRecord) -> Option<PathBuf> {
        let entry = records
            .iter()
            .find(|r| r.info_type == libc::FAN_EVENT_INFO_TYPE_DFID_NAME)
            .filter(|r| !r.name.is_empty() && r.name != b".");
        let mut resolver = lock(&self.resolver);
        if let Some(path) = entry.and_then(|e| resolver.entry_path(&e.dir, &e.name)) {
            return Some(path);
        }
        let fd = resolver.open(&inode.dir, libc::O_PATH).ok()?;
        drop(resolver);
        match fd_path(fd.as_raw_fd()) {
            Ok((path, false)) => Some(path),
            _ => None,
        }
    }
}

/// Reads create, delete and rename events.
struct NameReader {
    group: Arc<OwnedFd>,
    stop: Arc<Stopper>,
    protected: ProtectedPaths,
    procs: Arc<ProcTable>,
    events: Sender<Vec<FsEvent>>,
    /// Events of the current read, sent together.
    batch: Vec<FsEvent>,
    clock: Clock,
    own_pid: u32,
    resolver: Arc<Mutex<DirResolver>>,
    /// Set when renames come as two events to pair.
    pairer: Option<RenamePairer>,
    progress: Arc<Progress>,
}

impl NameReader {
    fn run(mut self) {
        raise_thread_priority("guard-names");
        let mut buf = AlignedBuf::new();
        loop {
            let waiting = self.pairer.as_ref().is_some_and(|p| p.pending.is_some());
            let timeout = if waiting {
                MOVE_PAIRING.as_millis() as i32
            } else {
                -1
            };
            match wait_readable(self.group.as_raw_fd(), &self.stop, timeout) {
                Ok(Wake::Readable) => {}
                Ok(Wake::Timeout) => {
                    let flushed = self
                        .pairer
                        .as_mut()
                        .and_then(|p| p.flush_stale(MOVE_PAIRING));
                    if let Some((pid, from, to, dir)) = flushed {
                        self.emit_move(pid, from, to, dir);
                        if !self.flush() {
                            return;
                        }
                    }
                    continue;
                }
                Ok(Wake::Stop) => return,
                Err(e) => {
                    tracing::error!(error = %e, "poll on the fanotify name group failed; creates, deletes and renames are no longer seen");
                    return;
                }
            }
            self.progress.set_reading(Queue::Names, true);
            // Name groups report no descriptor; one that came anyway closes with its event.
            let events = match read_events(self.group.as_raw_fd(), &mut buf) {
                Ok(events) => events,
                Err(e) => {
                    self.progress.set_reading(Queue::Names, false);
                    tracing::error!(error = %e, "read from the fanotify name group failed; creates, deletes and renames are no longer seen");
                    return;
                }
            };
            for ev in events {
                self.handle(&ev);
            }
            if !self.flush() {
                return;
            }
            self.progress.set_reading(Queue::Names, false);
            self.progress.pause_reader(COALESCE);
        }
    }

    /// Turns one event into the batch's events about protected paths.
    fn handle(&mut self, ev: &Event<'_>) {
        if ev.mask & libc::FAN_Q_OVERFLOW != 0 {
            return self.send(ev.pid as u32, FsEventKind::Lost);
        }
        let pid = ev.pid as u32;
        let dir = ev.mask & libc::FAN_ONDIR != 0;
        let records = parse_name_records(ev.info);
        let path_of = |t: u8| -> Option<PathBuf> {
            let r = records.iter().find(|r| r.info_type == t)?;
            lock(&self.resolver).entry_path(&r.dir, &r.name)
        };
        if ev.mask & libc::FAN_RENAME != 0 {
            let from = path_of(libc::FAN_EVENT_INFO_TYPE_OLD_DFID_NAME);
            let to = path_of(libc::FAN_EVENT_INFO_TYPE_NEW_DFID_NAME);
            return self.emit_move(pid, from, to, dir);
        }
        let path = path_of(libc::FAN_EVENT_INFO_TYPE_DFID_NAME);
        if ev.mask & (libc::FAN_MOVED_FROM | libc::FAN_MOVED_TO) != 0 {
            let Some(pairer) = self.pairer.as_mut() else {
                return;
            };
            let done = if ev.mask & libc::FAN_MOVED_FROM != 0 {
                pairer.moved_from(pid, path, dir)
            } else {
                pairer.moved_to(pid, path, dir)
            };
            for (pid, from, to, dir) in done {
                self.emit_move(pid, from, to, dir);
            }
            return;
        }
        // Any other event ends a pending move: it was a move out of sight.
        if let Some((p, from, to, d)) = self.pairer.as_mut().and_then(|p| p.flush()) {
            self.emit_move(p, from, to, d);
        }
        if pid == self.own_pid {
            return;
        }
        let Some(path) = path else {
            return;
        };
        if dir && ev.mask & libc::FAN_DELETE != 0 {
            lock(&self.resolver).directory_changed(&[&path]);
        }
        if !self.protected.contains(&path) {
            return;
        }
        self.procs.observe(pid);
        let created = ev.mask & libc::FAN_CREATE != 0;
        let deleted = ev.mask & libc::FAN_DELETE != 0;
        // Merged events (same name, same pid): the order follows from what exists now,
        // looked up only for them (a stat per create costs a bulk copy dearly).
        let exists = || std::fs::symlink_metadata(&path).is_ok();
        let mut kinds = Vec::new();
        match (created, deleted) {
            (true, true) if exists() => {
                kinds.push(FsEventKind::Deleted {
                    path: path.clone(),
                    dir,
                });
                kinds.push(FsEventKind::Created { path, dir });
            }
            (true, true) => {
                kinds.push(FsEventKind::Created {
                    path: path.clone(),
                    dir,
                });
                kinds.push(FsEventKind::Deleted { path, dir });
            }
            (true, false) => kinds.push(FsEventKind::Created { path, dir }),
            (false, true) => kinds.push(FsEventKind::Deleted { path, dir }),
            (false, false) => {}
        }
        for kind in kinds {
            self.send(pid, kind);
        }
    }

    /// A rename, seen from the protected trees: inside to inside is a rename, inside to
    /// outside a delete, outside to inside a create.
    fn emit_move(&mut self, pid: u32, from: Option<PathBuf>, to: Option<PathBuf>, dir: bool) {
        if dir {
            let changed: Vec<&Path> = from.iter().chain(to.iter()).map(|p| p.as_path()).collect();
            lock(&self.resolver).directory_changed(&changed);
        }
        if pid == self.own_pid {
            return;
        }
        let from = from.filter(|p| self.protected.contains(p));
        let to = to.filter(|p| self.protected.contains(p));
        let kind = match (from, to) {
            (Some(from), Some(to)) => FsEventKind::Renamed { from, to, dir },
            (Some(path), None) => FsEventKind::Deleted { path, dir },
            (None, Some(path)) => FsEventKind::Created { path, dir },
            (None, None) => return,
        };
        self.procs.observe(pid);
        self.send(pid, kind)
    }

    /// Adds an event to the current batch.
    fn send(&mut self, pid: u32, kind: FsEventKind) {
        self.progress.wrote(pid);
        let (time_ms, wall_ms) = self.clock.now();
        self.progress.sent();
        self.batch.push(FsEvent {
            pid,
            time_ms,
            wall_ms,
            kind,
        });
    }

    /// Sends the batch to the loop; false when the loop is gone.
    fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::take(&mut self.batch);
        self.events.blocking_send(batch).is_ok()
    }
}

/// A move half: (pid, from, to, is a directory).
type Move = (u32, Option<PathBuf>, Option<PathBuf>, bool);

/// Pairs `FAN_MOVED_FROM` with the `FAN_MOVED_TO` that follows it from the same pid
/// (fanotify has no rename cookie). An unpaired half is a move into or out of sight.
#[derive(Debug, Default)]
pub(crate) struct RenamePairer {
    pending: Option<(u32, Option<PathBuf>, bool, Instant)>,
}

impl RenamePairer {
    pub(crate) fn moved_from(&mut self, pid: u32, from: Option<PathBuf>, dir: bool) -> Vec<Move> {
        let earlier = self.flush();
        self.pending = Some((pid, from, dir, Instant::now()));
        earlier.into_iter().collect()
    }

    pub(crate) fn moved_to(&mut self, pid: u32, to: Option<PathBuf>, dir: bool) -> Vec<Move> {
        match self.pending.take() {
            Some((p, from, d, _)) if p == pid => vec![(pid, from, to, dir || d)],
            Some((p, from, d, _)) => vec![(p, from, None, d), (pid, None, to, dir)],
            None => vec![(pid, None, to, dir)],
        }
    }

    /// The pending half as a move out of sight.
    pub(crate) fn flush(&mut self) -> Option<Move> {
        self.pending
            .take()
            .map(|(pid, from, dir, _)| (pid, from, None, dir))
    }

    /// Like `flush`, only if the pending half waited longer than `after`.
    pub(crate) fn flush_stale(&mut self, after: Duration) -> Option<Move> {
        match &self.pending {
            Some((_, _, _, at)) if at.elapsed() >= after => self.flush(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_pair_by_pid_and_unpaired_halves_are_moves_out_of_or_into_sight() {
        let p = |s: &str| Some(PathBuf::from(s));
        let mut r = RenamePairer::default();
        assert!(r.moved_from(10, p("/d/a"), false).is_empty());
        assert_eq!(
            r.moved_to(10, p("/d/b"), false),
            vec![(10, p("/d/a"), p("/d/b"), false)]
        );
        // Another pid's MOVED_TO does not complete the pending half.
        r.moved_from(10, p("/d/c"), false);
        assert_eq!(
            r.moved_to(11, p("/d/e"), false),
            vec![(10, p("/d/c"), None, false), (11, None, p("/d/e"), false)]
        );
        // Two MOVED_FROM in a row: the first went out of sight.
        r.moved_from(10, p("/d/f"), false);
        assert_eq!(
            r.moved_from(10, p("/d/g"), true),
            vec![(10, p("/d/f"), None, false)]
        );
        assert_eq!(r.flush(), Some((10, p("/d/g"), None, true)));
        assert_eq!(r.flush_stale(Duration::ZERO), None);
    }
}
