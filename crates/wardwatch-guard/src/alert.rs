//! The alert the guard emits for each verdict: what the scorer saw, what was done and
//! when, who did it (with the chain of parents, for the incident report), and every
//! file the tree touched with its hash before and after, so the damage can be
//! restored from backup file by file.

use std::path::PathBuf;

use serde::Serialize;
use wardwatch_detect::behaviour::{Level, Signal, Verdict};

use super::journal::{Entry, FileChange};
use super::procinfo::{user_name, AncestorReport, ProcTable};
use super::respond::Action;
use super::sample::{hash_path, ContentHash};
use super::smb::SmbClient;

/// Most files listed in one alert.
const MAX_FILES: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct GuardAlert {
    pub level: Level,
    pub score: f32,
    pub signals: Vec<Signal>,
    pub action: Action,
    pub process: ProcessReport,
    /// When the process is one client's `smbd` on a file server: that client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smb_client: Option<SmbClient>,
    pub files: Vec<FileReport>,
    /// Files left out beyond the first 1000.
    #[serde(skip_serializing_if = "is_zero")]
    pub files_omitted: usize,
    pub times: Times,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The process the verdict is about (the top of the offending tree).
#[derive(Debug, Clone, Serialize)]
pub struct ProcessReport {
    pub pid: u32,
    pub exe: Option<PathBuf>,
    pub exe_sha256: Option<String>,
    pub cmdline: Vec<String>,
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub ppid: Option<u32>,
    pub start_time_ms: Option<u64>,
    pub cwd: Option<PathBuf>,
    /// Parent, grandparent, … up to (not including) init.
    pub parents: Vec<AncestorReport>,
}

/// One file the tree touched.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: PathBuf,
    pub changes: Vec<FileChange>,
    /// Processes of the tree that changed it.
    pub pids: Vec<u32>,
    /// Hash when the guard last saw it before the tree's first change (index).
    pub before: Option<ContentHash>,
    /// Hash now, if the file still exists.
    pub after: Option<ContentHash>,
}

/// Wall-clock milliseconds since the Unix epoch.
#[derive(Debug, Clone, Serialize)]
pub struct Times {
    /// The first change credited to the tree.
    pub first_event: Option<u64>,
    /// When the verdict came.
    pub alert: u64,
    /// When the verdict's process was stopped, the first signal (none when only
    /// reported): from here on it wrote nothing.
    pub action: Option<u64>,
    /// When the last signal to the tree was sent (the kill, when killed).
    pub last_signal: Option<u64>,
}

/// Builds an alert from what is known now; `after` hashes are left for
/// [`fill_after_hashes`], which reads files and belongs off the guard loop.
pub(crate) fn draft(
    verdict: &Verdict,
    action: Action,
    smb_client: Option<SmbClient>,
    procs: &ProcTable,
    changes: &[Entry],
    alert_ms: u64,
) -> GuardAlert {
    let info = procs
        .get(verdict.pid)
        .or_else(|| procs.observe(verdict.pid));
    let process = ProcessReport {
        pid: verdict.pid,
        exe: info.as_ref().and_then(|i| i.exe.clone()),
        exe_sha256: info
            .as_ref()
            .and_then(|i| procs.exe_sha256(i))
            .map(|h| h.sha256),
        cmdline: info.as_ref().map(|i| i.cmdline.clone()).unwrap_or_default(),
        uid: info.as_ref().and_then(|i| i.uid),
        user: info.as_ref().and_then(|i| i.uid).and_then(user_name),
        ppid: info.as_ref().and_then(|i| i.ppid),
        start_time_ms: info.as_ref().and_then(|i| procs.start_time_ms(i)),
        cwd: info.as_ref().and_then(|i| i.cwd.clone()),
        parents: procs.ancestors_report(verdict.pid),
    };
    let mut files: Vec<FileReport> = Vec::new();
    for e in changes {
        match files.iter_mut().find(|f| f.path == e.path) {
            Some(f) => {
                f.changes.push(e.change.clone());
                if !f.pids.contains(&e.pid) {
                    f.pids.push(e.pid);
                }
            }
            None => files.push(FileReport {
                path: e.path.clone(),
                changes: vec![e.change.clone()],
                pids: vec![e.pid],
                before: e.before.clone(),
                after: None,
            }),
        }
    }
    for path in &verdict.files {
        let path = PathBuf::from(path);
        if !files.iter().any(|f| f.path == path) {
            files.push(FileReport {
                path,
                changes: Vec::new(),
                pids: Vec::new(),
                before: None,
                after: None,
            });
        }
    }
    let files_omitted = files.len().saturating_sub(MAX_FILES);
    files.truncate(MAX_FILES);
    GuardAlert {
        level: verdict.level,
        score: verdict.score,
        signals: verdict.signals.clone(),
        times: Times {
            first_event: changes.iter().map(|e| e.wall_ms).min(),
            alert: alert_ms,
            action: action.at_ms,
            last_signal: action.done_ms,
        },
        action,
        process,
        smb_client,
        files,
        files_omitted,
    }
}

/// Hashes each listed file as it is now.
pub(crate) fn fill_after_hashes(alert: &mut GuardAlert) {
    for f in &mut alert.files {
        f.after = hash_path(&f.path);
    }
}
