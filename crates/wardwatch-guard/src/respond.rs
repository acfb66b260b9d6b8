//! Acting on a verdict: stop (SIGSTOP) or kill (SIGKILL) a process and every
//! descendant, or only report.
//!
//! A tree is first stopped, repeatedly, until a fresh look at `/proc` finds no member
//! that is not stopped: a stopped process cannot fork, so no child escapes. A kill then
//! follows. Signals go through pidfds opened after checking the start time, so a pid
//! reused meanwhile is never hit.
//!
//! Whatever the verdict, the guard never signals init, kernel threads, itself or its
//! ancestors, a process serving other users ([`super::services`]), and with a scope
//! (`--only-descendants-of`) nothing outside it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wardwatch_detect::behaviour::Level;

use super::procinfo::{ancestors_of_self, parse_stat, read_stat};
use super::services;
use super::wall_ms;
use wardwatch_os::process::{pidfd_open, pidfd_send_signal};

/// What the guard does at each level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Respond {
    /// Stop the tree at `Suspend`, kill it at `Kill`.
    #[default]
    Suspend,
    /// Kill the tree already at `Suspend`.
    Kill,
    /// Only report.
    Report,
}

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Nothing: the level or `--respond report` asks only for an alert.
    Reported,
    Suspended,
    Killed,
    /// The process is protected from the guard (init, the guard, out of scope).
    Refused,
    /// The process had already exited.
    Gone,
}

/// A process the guard would not signal, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub pid: u32,
    pub reason: &'static str,
}

/// The outcome of a response.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub kind: ActionKind,
    /// Processes signalled, the verdict's process first.
    pub pids: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
    /// Wall-clock ms when the verdict's process was stopped (its damage ended there).
    #[serde(skip)]
    pub at_ms: Option<u64>,
    /// Wall-clock ms when the last signal to the tree was sent.
    #[serde(skip)]
    pub done_ms: Option<u64>,
}

impl Action {
    fn none(kind: ActionKind) -> Self {
        Self {
            kind,
            pids: Vec::new(),
            refused: Vec::new(),
            at_ms: None,
            done_ms: None,
        }
    }
}

/// How long a stop may take to show in `/proc` before the guard moves on.
const STOP_SETTLE: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct Responder {
    mode: Respond,
    scope: Option<u32>,
    guard_pid: u32,
    guard_ancestors: HashSet<u32>,
}

/// One process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone, Copy)]
struct Proc {
    ppid: u32,
    state: char,
    start_ticks: u64,
}

impl Responder {
    pub fn new(mode: Respond, scope: Option<u32>) -> Self {
        Self {
            mode,
            scope,
            guard_pid: std::process::id(),
            guard_ancestors: ancestors_of_self().into_iter().collect(),
        }
    }

    /// What a verdict at `level` calls for under this mode.
    pub fn decide(&self, level: Level) -> ActionKind {
        match (self.mode, level) {
            (Respond::Report, _) | (_, Level::Suspicious) => ActionKind::Reported,
            (Respond::Suspend, Level::Suspend) => ActionKind::Suspended,
            (_, Level::Kill) | (Respond::Kill, Level::Suspend) => ActionKind::Killed,
        }
    }

    /// Acts on the tree of `pid` as `level` calls for. `while_held` runs once while
    /// the process is stopped and before any kill (or, when only reported, while it
    /// runs), to read what only a live process tells, such as its network peer.
    pub fn act(&self, pid: u32, level: Level, while_held: &mut dyn FnMut()) -> Action {
        let wanted = self.decide(level);
        if wanted == ActionKind::Reported {
            while_held();
            return Action::none(ActionKind::Reported);
        }
        // The verdict's process first, checked from its own ancestry alone: stopped now,
        // before the scan of every process, it cannot write another file meanwhile.
        let mut chains = chain_table(pid);
        chains.extend(chain_table(self.guard_pid));
        let Some(root) = chains.get(&pid).copied() else {
            return Action::none(ActionKind::Gone);
        };
        if let Err(reason) = self.may_signal(pid, &chains) {
            let mut a = Action::none(ActionKind::Refused);
            a.refused.push(Refusal { pid, reason });
            tracing::warn!(pid, reason, "not acting on this process");
            return a;
        }
        let Some(first) = stop_one(pid, root.start_ticks) else {
            return Action::none(ActionKind::Gone);
        };
        let first_ms = wall_ms();
        let (stopped, refused) = self.stop_tree(pid, first);
        let mut action = Action {
            kind: wanted,
            pids: stopped.iter().map(|(p, _)| *p).collect(),
            refused,
            at_ms: Some(first_ms),
            done_ms: Some(wall_ms()),
        };
        while_held();
        if wanted == ActionKind::Killed {
            for (p, fd) in &stopped {
                if let Err(e) = pidfd_send_signal(fd, libc::SIGKILL) {
                    tracing::debug!(pid = p, error = %e, "SIGKILL failed (already gone?)");
                }
            }
            action.done_ms = Some(wall_ms());
        }
        action
    }

    /// Stops every descendant of `root` (already stopped: `first`); returns all those
    /// stopped, root first, with their pidfds, and those refused.
    fn stop_tree(&self, root: u32, first: OwnedFd) -> (Vec<(u32, OwnedFd)>, Vec<Refusal>) {
        let mut stopped: Vec<(u32, OwnedFd)> = vec![(root, first)];
        let mut refused = Vec::new();
        let mut handled: HashSet<u32> = HashSet::from([root]);
        let deadline = Instant::now() + STOP_SETTLE;
        loop {
            let table = scan();
            let tree = descendants(root, &table);
            let mut fresh = false;
            for pid in &tree {
                if !handled.insert(*pid) {
                    continue;
                }
                fresh = true;
                if let Err(reason) = self.may_signal(*pid, &table) {
                    refused.push(Refusal { pid: *pid, reason });
                    continue;
                }
                let Some(proc_) = table.get(pid) else {
                    continue;
                };
                if let Some(fd) = stop_one(*pid, proc_.start_ticks) {
                    stopped.push((*pid, fd));
                }
            }
            // Settled when this look found no new member (so it was taken after every
            // signal) and every stopped member shows as stopped: a stopped process
            // cannot fork, so no child can appear any more.
            let settled = !fresh
                && stopped.iter().all(|(p, _)| {
                    table
                        .get(p)
                        .is_none_or(|s| matches!(s.state, 'T' | 't' | 'Z' | 'X'))
                });
            if settled || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        (stopped, refused)
    }

    /// Whether the guard may signal `pid`; the reason if not.
    fn may_signal(&self, pid: u32, table: &HashMap<u32, Proc>) -> Result<(), &'static str> {
        if pid <= 1 {
            return Err("init");
        }
        if pid == 2 || table.get(&pid).is_some_and(|p| p.ppid == 2) {
            return Err("kernel thread");
        }
        if pid == self.guard_pid {
            return Err("the guard itself");
        }
        if self.guard_ancestors.contains(&pid) || is_ancestor(pid, self.guard_pid, table) {
            return Err("an ancestor of the guard");
        }
        if let Some(root) = self.scope {
            if !is_ancestor(root, pid, table) {
                return Err("outside --only-descendants-of");
            }
        }
        // Last: it reads the executable's ownership, the others only the table.
        if let Some(why) = services::classify_pid(pid, table.get(&pid).map(|p| p.ppid)) {
            return Err(why);
        }
        Ok(())
    }
}

/// Whether `ancestor` is a strict ancestor of `pid` in `table`.
fn is_ancestor(ancestor: u32, pid: u32, table: &HashMap<u32, Proc>) -> bool {
    let mut cur = pid;
    for _ in 0..256 {
        match table.get(&cur) {
            Some(p) if p.ppid == ancestor => return true,
            Some(p) if p.ppid > 1 && p.ppid != cur => cur = p.ppid,
            _ => return false,
        }
    }
    false
}

/// `root` and every descendant, parents before children.
fn descendants(root: u32, table: &HashMap<u32, Proc>) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, p) in table {
        children.entry(p.ppid).or_default().push(*pid);
    }
    let mut out = Vec::new();
    let mut queue = VecDeque::from([root]);
    let mut seen = HashSet::new();
    while let Some(p) = queue.pop_front() {
        if !seen.insert(p) {
            continue;
        }
        if table.contains_key(&p) {
            out.push(p);
        }
        if let Some(c) = children.get(&p) {
            let mut c = c.clone();
            c.sort_unstable();
            queue.extend(c);
        }
    }
    out
}

/// SIGSTOP through a pidfd, if `pid` is still the process that started at
/// `start_ticks`; the pidfd, for the kill that may follow.
fn stop_one(pid: u32, start_ticks: u64) -> Option<OwnedFd> {
    let fd = pidfd_open(pid).ok()?;
    // The pidfd must name the process we looked at, not a reuse of its pid.
    if read_stat(pid).map(|s| s.start_ticks) != Some(start_ticks) {
        return None;
    }
    match pidfd_send_signal(&fd, libc::SIGSTOP) {
        Ok(()) => Some(fd),
        Err(e) => {
            tracing::debug!(pid, error = %e, "SIGSTOP failed");
            None
        }
    }
}

/// `pid` and its ancestors, from their `/proc/PID/stat` alone.
fn chain_table(pid: u32) -> HashMap<u32, Proc> {
    let mut out = HashMap::new();
    let mut cur = pid;
    while let Some(s) = read_stat(cur) {
        out.insert(
            cur,
            Proc {
                ppid: s.ppid,
                state: s.state,
                start_ticks: s.start_ticks,
            },
        );
        if s.ppid <= 1 || out.contains_key(&s.ppid) || out.len() >= 256 {
            break;
        }
        cur = s.ppid;
    }
    out
}

/// Every process on the machine, from `/proc/*/stat`.
fn scan() -> HashMap<u32, Proc> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(s) = parse_stat(&text) {
            out.insert(
                pid,
                Proc {
                    ppid: s.ppid,
                    state: s.state,
                    start_ticks: s.start_ticks,
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    fn table(entries: &[(u32, u32)]) -> HashMap<u32, Proc> {
        entries
            .iter()
            .map(|(pid, ppid)| {
                (
                    *pid,
                    Proc {
                        ppid: *ppid,
                        state: 'S',
                        start_ticks: 1,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn trees_and_ancestry_follow_ppid() {
        let t = table(&[(1, 0), (10, 1), (11, 10), (12, 11), (13, 10), (20, 1)]);
        assert_eq!(descendants(10, &t), vec![10, 11, 13, 12]);
        assert!(is_ancestor(10, 12, &t));
        assert!(!is_ancestor(12, 10, &t));
        assert!(!is_ancestor(20, 12, &t));
        assert!(!is_ancestor(10, 10, &t));
    }

    #[test]
    fn levels_map_to_actions_per_mode() {
        let r = |m| Responder::new(m, None);
        assert_eq!(
            r(Respond::Suspend).decide(Level::Suspicious),
            ActionKind::Reported
        );
        assert_eq!(
            r(Respond::Suspend).decide(Level::Suspend),
            ActionKind::Suspended
        );
        assert_eq!(r(Respond::Suspend).decide(Level::Kill), ActionKind::Killed);
        assert_eq!(r(Respond::Kill).decide(Level::Suspend), ActionKind::Killed);
        assert_eq!(r(Respond::Report).decide(Level::Kill), ActionKind::Reported);
    }

    #[test]
    fn init_the_guard_its_ancestors_and_out_of_scope_processes_are_refused() {
        let me = std::process::id();
        let r = Responder::new(Respond::Kill, Some(me));
        let t = scan();
        assert_eq!(r.may_signal(1, &t), Err("init"));
        assert_eq!(r.may_signal(me, &t), Err("the guard itself"));
        if let Some(parent) = ancestors_of_self().first() {
            assert_eq!(r.may_signal(*parent, &t), Err("an ancestor of the guard"));
        }
        let outside = Responder::new(Respond::Kill, Some(u32::MAX - 1));
        let mut child = Command::new("sleep")
            .arg("30")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let t = scan();
        assert_eq!(
            outside.may_signal(child.id(), &t),
            Err("outside --only-descendants-of")
        );
        assert_eq!(r.may_signal(child.id(), &t), Ok(()));
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn a_tree_is_stopped_then_killed() {
        let me = std::process::id();
        let r = Responder::new(Respond::Kill, Some(me));
        let mut child = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .spawn()
            .unwrap();
        // Let the shell start its children.
        let deadline = Instant::now() + Duration::from_secs(5);
        while descendants(child.id(), &scan()).len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let action = r.act(child.id(), Level::Kill, &mut || {});
        assert_eq!(action.kind, ActionKind::Killed);
        assert_eq!(action.pids.len(), 3, "{action:?}");
        assert_eq!(action.pids[0], child.id());
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // The orphaned sleeps were killed too (SIGKILL lands a moment later; they may
        // linger as zombies of init).
        let dead = |p: &u32| matches!(read_stat(*p).map(|s| s.state), None | Some('Z' | 'X'));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !action.pids.iter().all(dead) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(action.pids.iter().all(dead), "{action:?}");
    }
}
