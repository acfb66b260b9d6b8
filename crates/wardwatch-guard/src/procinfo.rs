//! Who a file event came from: the process (executable, its SHA-256, command line,
//! user, start time, working directory) and its lineage, the ancestors a score is
//! also credited to, so a shell loop that starts one `openssl` per file is caught as
//! the loop.
//!
//! Entries are kept after a process exits, because fanotify events are read after the
//! fact: a short-lived child is often gone by then, and what `/proc` (or the process
//! connector, see [`wardwatch_os::proc_connector`]) told while it existed is all there is. A pid
//! is only trusted to mean the same process while its start time is the same.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::sample::{hash_file, ContentHash};
use super::services;
use wardwatch_os::proc_connector::{ProcConnector, ProcEvent};

/// Identity of an executable file: a changed binary gets a new hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExeId {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
}

impl ExeId {
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        }
    }
}

/// What is known of one process.
#[derive(Debug, Clone, Default)]
pub struct ProcInfo {
    pub pid: u32,
    /// The parent when the process was first seen (its fork, or `/proc`); a process
    /// whose parent exits is re-parented to init, but the attribution stays.
    pub ppid: Option<u32>,
    /// Session id: the pid of the session leader.
    pub sid: Option<u32>,
    /// Clock ticks after boot (`/proc/PID/stat` field 22).
    pub start_ticks: Option<u64>,
    pub exe: Option<PathBuf>,
    pub exe_id: Option<ExeId>,
    pub cmdline: Vec<String>,
    pub uid: Option<u32>,
    pub cwd: Option<PathBuf>,
    /// Read from `/proc` after the last exec (otherwise inherited from the parent).
    pub complete: bool,
    /// Why the process serves other users ([`super::services`]): never credited
    /// through, never stopped.
    pub service: Option<&'static str>,
    pub exited_at: Option<Instant>,
}

/// An ancestor as shown in an alert.
#[derive(Debug, Clone, Serialize)]
pub struct AncestorReport {
    pub pid: u32,
    pub exe: Option<PathBuf>,
    pub cmdline: Vec<String>,
}

/// Where a lineage stops: the processes that are never attributed (and never acted on).
#[derive(Debug, Clone, Default)]
pub struct LineageLimits {
    pub guard_pid: u32,
    pub guard_ancestors: HashSet<u32>,
    /// `--only-descendants-of`: the root itself is not part of any lineage.
    pub scope: Option<u32>,
}

/// How long an exited process is remembered for late events.
const KEEP_EXITED: Duration = Duration::from_secs(120);
/// Longest lineage followed.
const MAX_LINEAGE: usize = 64;

#[derive(Debug, Default)]
struct Inner {
    /// Shared, so that a lookup per file event costs a reference count, not a copy of
    /// the command line.
    procs: HashMap<u32, Arc<ProcInfo>>,
    exe_hashes: HashMap<ExeId, ContentHash>,
    recently_exited: Vec<(u32, Instant)>,
}

/// The process table shared by the reader threads and the guard loop.
#[derive(Debug)]
pub struct ProcTable {
    inner: Mutex<Inner>,
    pump_lock: Mutex<()>,
    connector: Option<ProcConnector>,
    limits: LineageLimits,
    boot_ms: u64,
    ticks_per_s: u64,
}

impl ProcTable {
    pub fn new(limits: LineageLimits, connector: Option<ProcConnector>) -> Self {
        let ticks = wardwatch_os::process::clock_ticks_per_second();
        Self {
            inner: Mutex::new(Inner::default()),
            pump_lock: Mutex::new(()),
            connector,
            limits,
            boot_ms: boot_time_ms().unwrap_or(0),
            ticks_per_s: ticks,
        }
    }

    pub(crate) fn connector(&self) -> Option<&ProcConnector> {
        self.connector.as_ref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies what the process connector has queued.
    pub fn pump(&self) {
        let Some(conn) = &self.connector else {
            return;
        };
        // One drainer at a time, so a fork is never applied after its child's exec.
        let _order = self.pump_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut events = Vec::new();
        conn.drain(|e| events.push(e));
        for e in events {
            match e {
                ProcEvent::Fork { parent, child } => {
                    let mut inner = self.lock();
                    // A new process, or a reused pid: either way what we knew is stale.
                    // Until it execs, the child runs its parent's program.
                    let mut info = inner
                        .procs
                        .get(&parent)
                        .filter(|p| p.exited_at.is_none())
                        .map(|p| ProcInfo::clone(p))
                        .unwrap_or_default();
                    info.pid = child;
                    info.ppid = Some(parent);
                    info.start_ticks = None;
                    info.complete = false;
                    // A server's fork serves one client; read afresh when observed.
                    info.service = None;
                    info.exited_at = None;
                    inner.procs.insert(child, Arc::new(info));
                }
                ProcEvent::Exec { pid } => {
                    // Read now, while the new program surely still exists.
                    let snap = snapshot(pid);
                    let mut inner = self.lock();
                    let previous_ppid = inner.procs.get(&pid).and_then(|p| p.ppid);
                    match snap {
                        Some(mut snap) => {
                            snap.ppid = previous_ppid.or(snap.ppid);
                            inner.procs.insert(pid, Arc::new(snap));
                        }
                        None => {
                            // Too late: the program is unknown, not its parent's.
                            let p = Arc::make_mut(inner.procs.entry(pid).or_default());
                            p.pid = pid;
                            p.exe = None;
                            p.exe_id = None;
                            p.cmdline.clear();
                            p.complete = false;
                        }
                    }
                }
                ProcEvent::Exit { pid } => {
                    let now = Instant::now();
                    let mut inner = self.lock();
                    if let Some(p) = inner.procs.get_mut(&pid) {
                        Arc::make_mut(p).exited_at = Some(now);
                    }
                    inner.recently_exited.push((pid, now));
                }
            }
        }
    }

    /// What is known of `pid`, read from `/proc` first if that is needed and possible.
    /// Call this as soon as an event from `pid` is read, while it may still exist.
    pub fn observe(&self, pid: u32) -> Option<Arc<ProcInfo>> {
        // A live process already read needs no look at the connector: its messages
        // are applied by the process events thread as they come, and a fork of its
        // pid can only follow its exit. Every file event asks, so this saves a system
        // call each.
        if self.connector.is_some() {
            if let Some(known) = self.get(pid) {
                if known.complete && known.exited_at.is_none() {
                    return Some(known);
                }
            }
        }
        // Forks not yet applied tell the parent of a child that may already be gone,
        // and a fork of a reused pid replaces the stale entry.
        self.pump();
        let previous = self.get(pid);
        if let Some(p) = &previous {
            if p.complete {
                if self.connector.is_some() || p.exited_at.is_some() {
                    return previous;
                }
                match read_stat(pid) {
                    Some(s) if Some(s.start_ticks) == p.start_ticks => return previous,
                    Some(_) => {} // a reused pid: read it afresh
                    None => return self.mark_gone(pid),
                }
            }
        }
        match snapshot(pid) {
            Some(mut snap) => {
                // Keep the parent from the fork: the process may have been re-parented.
                if let Some(prev) = &previous {
                    if prev.start_ticks.is_none() || prev.start_ticks == snap.start_ticks {
                        snap.ppid = prev.ppid.or(snap.ppid);
                    }
                }
                let snap = Arc::new(snap);
                self.lock().procs.insert(pid, snap.clone());
                Some(snap)
            }
            None => self.mark_gone(pid),
        }
    }

    /// Keeps what was known of a process that left `/proc`.
    fn mark_gone(&self, pid: u32) -> Option<Arc<ProcInfo>> {
        let mut inner = self.lock();
        let p = inner.procs.get_mut(&pid)?;
        if p.exited_at.is_none() {
            Arc::make_mut(p).exited_at = Some(Instant::now());
        }
        Some(p.clone())
    }

    /// Known information without touching `/proc`.
    pub fn get(&self, pid: u32) -> Option<Arc<ProcInfo>> {
        self.lock().procs.get(&pid).cloned()
    }

    /// The ancestors of `pid` the score is also credited to, nearest first. Stops
    /// before init, the session leader, a service ([`super::services`]), the guard and
    /// its ancestors, and the scope root.
    pub fn lineage(&self, pid: u32) -> Vec<u32> {
        let Some(me) = self.observe(pid) else {
            return Vec::new();
        };
        let sid = me.sid;
        let mut out = Vec::new();
        let mut next = me.ppid;
        while let Some(p) = next {
            if p <= 1
                || p == self.limits.guard_pid
                || self.limits.guard_ancestors.contains(&p)
                || Some(p) == self.limits.scope
                || Some(p) == sid
                || p == pid
                || out.contains(&p)
                || out.len() >= MAX_LINEAGE
            {
                break;
            }
            match self.observe(p) {
                Some(info) => {
                    if info.sid == Some(p) || info.service.is_some() {
                        break;
                    }
                    out.push(p);
                    next = info.ppid;
                }
                None => {
                    // Gone and never seen: it was the parent, but nothing above it is known.
                    out.push(p);
                    break;
                }
            }
        }
        out
    }

    /// The whole parent chain of `pid` up to (not including) init, for an alert.
    pub fn ancestors_report(&self, pid: u32) -> Vec<AncestorReport> {
        let mut out = Vec::new();
        let mut seen = HashSet::from([pid]);
        let mut next = self.get(pid).and_then(|p| p.ppid);
        while let Some(p) = next {
            if p <= 1 || !seen.insert(p) || out.len() >= MAX_LINEAGE {
                break;
            }
            let info = self.observe(p);
            out.push(AncestorReport {
                pid: p,
                exe: info.as_ref().and_then(|i| i.exe.clone()),
                cmdline: info.as_ref().map(|i| i.cmdline.clone()).unwrap_or_default(),
            });
            next = info.and_then(|i| i.ppid);
        }
        out
    }

    /// SHA-256 of the executable `info` ran: through `/proc/PID/exe` while the process
    /// lives (the very file it runs, even if replaced on disk), else the path if it is
    /// still the same file. Cached per file identity.
    pub fn exe_sha256(&self, info: &ProcInfo) -> Option<ContentHash> {
        let alive = info.exited_at.is_none()
            && info.start_ticks.is_some()
            && read_stat(info.pid).map(|s| s.start_ticks) == info.start_ticks;
        let file = if alive {
            std::fs::File::open(format!("/proc/{}/exe", info.pid)).ok()
        } else {
            None
        };
        let file = match file {
            Some(f) => f,
            None => {
                let f = std::fs::File::open(info.exe.as_ref()?).ok()?;
                let id = ExeId::of(&f.metadata().ok()?);
                let want = info.exe_id?;
                if (id.dev, id.ino) != (want.dev, want.ino) {
                    return None;
                }
                f
            }
        };
        let meta = file.metadata().ok()?;
        let id = ExeId::of(&meta);
        if let Some(h) = self.lock().exe_hashes.get(&id) {
            return Some(h.clone());
        }
        let hash = hash_file(&file, meta.len()).ok()?;
        let mut inner = self.lock();
        if inner.exe_hashes.len() > 4096 {
            inner.exe_hashes.clear();
        }
        inner.exe_hashes.insert(id, hash.clone());
        Some(hash)
    }

    /// Start time in milliseconds since the Unix epoch.
    pub fn start_time_ms(&self, info: &ProcInfo) -> Option<u64> {
        let ticks = info.start_ticks?;
        if self.boot_ms == 0 {
            return None;
        }
        Some(self.boot_ms + ticks * 1000 / self.ticks_per_s)
    }

    /// Pids that exited more than `after` ago (each returned once), and forgets
    /// processes gone for longer than [`KEEP_EXITED`].
    pub fn take_exited(&self, after: Duration) -> Vec<u32> {
        let now = Instant::now();
        let mut inner = self.lock();
        let mut done = Vec::new();
        let mut keep = Vec::new();
        for (pid, at) in std::mem::take(&mut inner.recently_exited) {
            if now.duration_since(at) >= after {
                // Not when the pid was reused meanwhile.
                if inner.procs.get(&pid).is_none_or(|p| p.exited_at.is_some()) {
                    done.push(pid);
                }
            } else {
                keep.push((pid, at));
            }
        }
        inner.recently_exited = keep;
        inner.procs.retain(|_, p| {
            p.exited_at
                .is_none_or(|t| now.duration_since(t) < KEEP_EXITED)
        });
        done
    }
}

/// Fields of `/proc/PID/stat` the guard uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub state: char,
    pub ppid: u32,
    pub sid: u32,
    pub start_ticks: u64,
}

/// Parses `/proc/PID/stat`; the command name may hold spaces and parentheses, so
/// fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let after = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // fields[0] is field 3 (state); field N is fields[N - 3].
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        sid: fields.get(3)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

pub fn read_stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Reads a process from `/proc`; None if it is gone or was replaced while being read.
fn snapshot(pid: u32) -> Option<ProcInfo> {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let stat = read_stat(pid)?;
    let exe = std::fs::read_link(dir.join("exe"))
        .ok()
        .map(|p| wardwatch_os::fd::strip_deleted(p).0);
    let exe_id = std::fs::metadata(dir.join("exe"))
        .ok()
        .map(|m| ExeId::of(&m));
    let cmdline: Vec<String> = std::fs::read(dir.join("cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let uid = std::fs::read_to_string(dir.join("status"))
        .ok()
        .and_then(|s| parse_uid(&s));
    let cwd = std::fs::read_link(dir.join("cwd")).ok();
    let ppid = Some(stat.ppid).filter(|p| *p != 0);
    let service = if services::may_be_service(exe.as_deref(), ppid) {
        let parent_exe = ppid.and_then(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok());
        let cgroup = std::fs::read_to_string(dir.join("cgroup")).ok();
        services::classify(services::Seen {
            pid,
            ppid,
            exe: exe.as_deref(),
            parent_exe: parent_exe.as_deref(),
            cgroup: cgroup.as_deref(),
            first_arg: cmdline.get(1).map(String::as_str),
        })
    } else {
        None
    };
    // The pid must still be the same process after these reads.
    if read_stat(pid).map(|s| s.start_ticks) != Some(stat.start_ticks) {
        return None;
    }
    Some(ProcInfo {
        pid,
        ppid,
        sid: Some(stat.sid),
        start_ticks: Some(stat.start_ticks),
        exe,
        exe_id,
        cmdline,
        uid,
        cwd,
        complete: true,
        service,
        exited_at: None,
    })
}

/// The real uid from `/proc/PID/status`.
fn parse_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|u| u.parse().ok())
}

/// Boot time from `/proc/stat` (`btime`), in milliseconds since the epoch.
fn boot_time_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s * 1000)
}

/// The user name of `uid` from `/etc/passwd`.
pub fn user_name(uid: u32) -> Option<String> {
    user_name_in(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

fn user_name_in(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut parts = line.split(':');
        let name = parts.next()?;
        let _password = parts.next()?;
        let id: u32 = parts.next()?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// The guard's own ancestors (parent first), which it must never act on.
pub fn ancestors_of_self() -> Vec<u32> {
    ancestors_of(std::process::id())
}

/// Ancestors of a live process from `/proc`, parent first, init excluded.
pub fn ancestors_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut cur = pid;
    while let Some(stat) = read_stat(cur) {
        if stat.ppid <= 1 || out.contains(&stat.ppid) || out.len() >= MAX_LINEAGE {
            break;
        }
        out.push(stat.ppid);
        cur = stat.ppid;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (my (odd) name) S 4000 4242 3900 34816 4242 4194304 100 0 0 0 \
                    1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 4000);
        assert_eq!(s.sid, 3900);
        assert_eq!(s.start_ticks, 987654);
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 (x) S 0").is_none());
    }

    #[test]
    fn users_and_uids_come_from_passwd() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\nnurse:x:1001:1001::/home/nurse:/bin/sh\nbroken\n";
        assert_eq!(user_name_in(passwd, 1001).as_deref(), Some("nurse"));
        assert_eq!(user_name_in(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_name_in(passwd, 5), None);
        assert_eq!(
            parse_uid("Name:\tsh\nUid:\t1001\t0\t0\t0\nGid:\t1\n"),
            Some(1001)
        );
    }

    #[test]
    fn a_child_is_attributed_to_its_parent_but_not_to_the_guard() {
        let table = ProcTable::new(
            LineageLimits {
                guard_pid: u32::MAX,
                guard_ancestors: ancestors_of_self().into_iter().collect(),
                scope: None,
            },
            None,
        );
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id();
        let info = table.observe(pid).unwrap();
        assert_eq!(info.ppid, Some(std::process::id()));
        assert!(info.start_ticks.is_some());
        // This test process is the child's parent; it is not an ancestor of the guard
        // here, so it is in the lineage unless it leads its session.
        let lineage = table.lineage(pid);
        assert!(lineage.len() <= 1, "{lineage:?}");
        let exe = table.exe_sha256(&info).unwrap();
        assert_eq!(exe.sha256.len(), 64);
        let _ = child.kill();
        let _ = child.wait();
        // Gone, but still known.
        let gone = table.observe(pid).unwrap();
        assert!(gone.exited_at.is_some());
        assert_eq!(gone.exe, info.exe);
    }
}
