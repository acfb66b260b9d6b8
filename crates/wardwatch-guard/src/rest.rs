//! The resting gate: while every process writing in the protected folders is known to
//! be harmless, the open gate stands aside, so bulk work pays nothing for it.
//!
//! Each gated open costs a round trip through the gate's thread (measured 4–26 µs
//! against 1–2 µs ungated), which a copy of tens of thousands of small files feels. The
//! gate is only needed against a process the guard has not judged yet. So the gate
//! *rests* (one ignore mark per protected file system silences its directory marks)
//! while no tree is suspect or stopped and every process that opened protected files
//! lately is *settled*: trusted (it runs a trusted program's exact file), or clean (its
//! tree's writes have all been ordinary). It wakes (the ignore marks are removed) when:
//!
//! * any program is started anywhere (`FAN_OPEN_EXEC_PERM` on every mounted file
//!   system, in the gate's own group): the rest ends *before* the exec is answered, so a
//!   new program is gated from its first open, as if the gate had never rested; the
//!   new process is then on probation for [`PROBATION`] unless it is settled or gone;
//! * a process that is not settled writes a protected file (the readers see its first
//!   event, before they batch it for the loop);
//! * the loop finds a tree suspect or stops one.
//!
//! What resting gives up: a process that was already running (or stayed quiet past its
//! probation) and then starts encrypting is gated from the moment the readers see its
//! first write, not from its first open.

use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::procinfo::ExeId;
use wardwatch_os::fanotify::mark;

/// How long a newly started program keeps the gate awake unless it is settled or has
/// exited. An encryptor built to be fast starts on the files within milliseconds and
/// meets the gate from its first open; a shell, a daemon or a slow starter lets the
/// gate rest again soon, and if it writes later the readers wake the gate then. Short,
/// because every program started anywhere costs bulk work this long of gated opens.
pub(crate) const PROBATION: Duration = Duration::from_millis(100);
/// The gate rests only after every process that opened a protected file within this
/// window is settled.
pub(crate) const RECENT: Duration = Duration::from_millis(300);
/// How often the awake gate considers resting.
pub(crate) const REST_CHECK: Duration = Duration::from_millis(50);
/// Settled processes kept before the set is emptied (the gate then wakes and judges
/// again): bounded, and far above the processes that write at once.
const SETTLED_LIMIT: usize = 4096;

/// File system types no program is run from (or that cannot be marked).
const PSEUDO_FILE_SYSTEMS: &[&str] = &[
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "mqueue",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "configfs",
    "fusectl",
    "binfmt_misc",
    "autofs",
    "hugetlbfs",
    "efivarfs",
    "nsfs",
    "rpc_pipefs",
    "selinuxfs",
];

/// What wakes the gate, counted for the guard's log and its tests.
#[derive(Debug, Default)]
pub(crate) struct RestCounts {
    pub rests: AtomicU64,
    pub woken_by_exec: AtomicU64,
    pub woken_by_writer: AtomicU64,
    pub woken_by_verdict: AtomicU64,
}

/// Why the gate wakes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wake {
    Exec,
    Writer,
    Verdict,
}

/// The rest state shared by the gate thread, the readers and the loop.
#[derive(Debug)]
pub(crate) struct Rest {
    /// The gate's group, never kept open by the rest: when the gate's thread ends, the
    /// group closes and every waiting open and exec goes through.
    group: Weak<OwnedFd>,
    /// One path on each protected file system: where the ignore marks go.
    file_systems: Vec<PathBuf>,
    resting: AtomicBool,
    /// Held while the marks change, so that a wake never interleaves with a rest.
    turning: Mutex<()>,
    settled: Mutex<HashSet<u32>>,
    trusted_exes: HashSet<ExeId>,
    pub counts: RestCounts,
}

impl Rest {
    /// Sets up resting for `group`, or says why the gate will never rest: the kernel
    /// cannot ignore on a whole file system (Linux before 6.0), or no program start can
    /// be seen.
    pub(crate) fn new(
        group: &Arc<OwnedFd>,
        roots: &[PathBuf],
        trusted_exes: HashSet<ExeId>,
    ) -> Result<Self, String> {
        let mut file_systems: Vec<(u64, PathBuf)> = Vec::new();
        for root in roots {
            if let Ok(meta) = std::fs::metadata(root) {
                let dev = std::os::unix::fs::MetadataExt::dev(&meta);
                if !file_systems.iter().any(|(d, _)| *d == dev) {
                    file_systems.push((dev, root.clone()));
                }
            }
        }
        let rest = Self {
            group: Arc::downgrade(group),
            file_systems: file_systems.into_iter().map(|(_, p)| p).collect(),
            resting: AtomicBool::new(false),
            turning: Mutex::new(()),
            settled: Mutex::new(HashSet::new()),
            trusted_exes,
            counts: RestCounts::default(),
        };
        let watched = watch_execs(group);
        if watched == 0 {
            return Err("no file system could be watched for program starts".into());
        }
        // Try once now: a kernel without FAN_MARK_IGNORE refuses here, not mid-attack.
        let tried = rest
            .ignore_opens(true)
            .map_err(|e| format!("the kernel cannot ignore opens on a whole file system: {e}"))
            .and_then(|()| {
                rest.ignore_opens(false)
                    .map_err(|e| format!("cannot lift the open gate's ignore mark: {e}"))
            });
        if let Err(why) = tried {
            // Program starts would cost a round trip through the gate for nothing.
            let flush = libc::FAN_MARK_FLUSH | libc::FAN_MARK_FILESYSTEM;
            let _ = mark(group, flush, 0, std::path::Path::new("/"));
            return Err(why);
        }
        tracing::debug!(
            file_systems = watched,
            "program starts watched for the resting gate"
        );
        Ok(rest)
    }

    pub(crate) fn is_resting(&self) -> bool {
        self.resting.load(Ordering::SeqCst)
    }

    /// Lets opens of protected files through without asking the gate. False (and still
    /// awake) if a mark could not be set.
    pub(crate) fn begin(&self) -> bool {
        let Ok(_turn) = self.turning.lock() else {
            return false;
        };
        if self.is_resting() {
            return true;
        }
        if let Err(e) = self.ignore_opens(true) {
            tracing::debug!(error = %e, "the open gate cannot rest");
            // Never rest on part of the file systems.
            let _ = self.ignore_opens(false);
            return false;
        }
        self.resting.store(true, Ordering::SeqCst);
        self.counts.rests.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Gates opens again; returns once the marks are back (opens after it are gated).
    pub(crate) fn end(&self, why: Wake) {
        if !self.is_resting() {
            return;
        }
        let Ok(_turn) = self.turning.lock() else {
            return;
        };
        if !self.is_resting() {
            return;
        }
        if let Err(e) = self.ignore_opens(false) {
            tracing::error!(error = %e, "cannot wake the open gate; opens of protected files go ungated");
        }
        self.resting.store(false, Ordering::SeqCst);
        let counter = match why {
            Wake::Exec => &self.counts.woken_by_exec,
            Wake::Writer => &self.counts.woken_by_writer,
            Wake::Verdict => &self.counts.woken_by_verdict,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A process wrote a protected file: while resting, one not settled wakes the gate.
    pub(crate) fn writer(&self, pid: u32) {
        if self.is_resting() && !self.is_settled(pid) {
            self.end(Wake::Writer);
        }
    }

    pub(crate) fn is_settled(&self, pid: u32) -> bool {
        self.settled
            .lock()
            .map(|s| s.contains(&pid))
            .unwrap_or(false)
    }

    /// A process judged harmless: trusted, or its tree clean.
    pub(crate) fn settle(&self, pid: u32) {
        if let Ok(mut s) = self.settled.lock() {
            if s.len() >= SETTLED_LIMIT {
                s.clear();
            }
            s.insert(pid);
        }
    }

    /// A process that must be judged again (it started a program, or scored).
    pub(crate) fn unsettle(&self, pid: u32) {
        if let Ok(mut s) = self.settled.lock() {
            s.remove(&pid);
        }
    }

    /// The trusted program's file `pid` runs (same device, inode, size and modification
    /// time as when it was hashed), if it runs one.
    pub(crate) fn trusted_file_of(&self, pid: u32) -> Option<ExeId> {
        if self.trusted_exes.is_empty() {
            return None;
        }
        let meta = std::fs::metadata(format!("/proc/{pid}/exe")).ok()?;
        let file = ExeId::of(&meta);
        self.trusted_exes.contains(&file).then_some(file)
    }

    fn ignore_opens(&self, on: bool) -> std::io::Result<()> {
        let flags = if on {
            libc::FAN_MARK_ADD | libc::FAN_MARK_FILESYSTEM | libc::FAN_MARK_IGNORE_SURV
        } else {
            libc::FAN_MARK_REMOVE | libc::FAN_MARK_FILESYSTEM | libc::FAN_MARK_IGNORE
        };
        let Some(group) = self.group.upgrade() else {
            // The gate has stopped: nothing is gated any more, nothing to lift.
            return Ok(());
        };
        let mut first_error = None;
        for path in &self.file_systems {
            if let Err(e) = mark(&group, flags, libc::FAN_OPEN_PERM, path) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Marks every mounted file system programs may run from for `FAN_OPEN_EXEC_PERM`;
/// returns how many were marked.
fn watch_execs(group: &OwnedFd) -> usize {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return 0;
    };
    let mut marked = 0;
    for (mount_point, fs_type) in mounts(&text) {
        if PSEUDO_FILE_SYSTEMS.contains(&fs_type.as_str()) {
            continue;
        }
        let flags = libc::FAN_MARK_ADD | libc::FAN_MARK_FILESYSTEM;
        match mark(group, flags, libc::FAN_OPEN_EXEC_PERM, &mount_point) {
            Ok(()) => marked += 1,
            Err(e) => {
                tracing::debug!(path = %mount_point.display(), fs_type, error = %e, "program starts on this file system are not watched")
            }
        }
    }
    marked
}

/// The mount points and file system types of `/proc/self/mountinfo`.
fn mounts(text: &str) -> Vec<(PathBuf, String)> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?;
            let fs_type = right.split(' ').next()?;
            Some((unescape(mount_point), fs_type.to_string()))
        })
        .collect()
}

/// Mount points escape space, tab, newline and backslash as three octal digits.
fn unescape(field: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            let s = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(s, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// Whether a process has exited (gone, or a zombie waiting for its parent).
pub(crate) fn has_exited(pid: u32) -> bool {
    super::procinfo::read_stat(pid).is_none_or(|s| s.state == 'Z')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn mount_points_are_read_with_their_type_and_escapes_undone() {
        let text = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                    30 22 0:26 / /proc rw,nosuid - proc proc rw\n\
                    41 22 0:40 / /media/usb\\040stick rw - vfat /dev/sdb1 rw\n\
                    garbage line\n";
        let m = mounts(text);
        assert_eq!(
            m,
            vec![
                (PathBuf::from("/"), "ext4".to_string()),
                (PathBuf::from("/proc"), "proc".to_string()),
                (PathBuf::from("/media/usb stick"), "vfat".to_string()),
            ]
        );
        assert_eq!(unescape("a\\134b"), Path::new("a\\b"));
        assert_eq!(unescape("end\\04"), Path::new("end\\04"));
    }

    #[test]
    fn a_running_process_has_not_exited_and_a_reaped_one_has() {
        assert!(!has_exited(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(has_exited(pid));
    }
}
