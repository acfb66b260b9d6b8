//! Putting back, in place, the files a stopped process changed: for each file, the
//! newest snapshot taken before the process's first write whose copy matches the hash
//! from before (an older one when a newer copy is already damaged), written in place by
//! `put_back` (the damaged file kept beside it under a new name, never overwritten).

use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::Serialize;
use wardwatch_backup::{Reader, Repository, SnapshotSummary};
use wardwatch_os::fsat;
use wardwatch_proto::RestoreFile;

use super::put_back::{put_back, Attempt, Destination};

/// How one file went.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileOutcome {
    pub path: String,
    pub restored: bool,
    /// The file already held the backup's content, so it was left alone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unchanged: bool,
    /// The snapshot the content came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// Where the damaged file was moved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged_kept_as: Option<String>,
    /// Why it was not restored, or what to know about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn millis(s: &SnapshotSummary) -> i64 {
    s.time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Restores each file from the snapshots written before `before_ms`, newest first.
pub fn restore_files(repo: &Repository, files: &[RestoreFile], before_ms: i64) -> Vec<FileOutcome> {
    let snapshots = match repo.snapshots() {
        Ok(s) => s,
        Err(e) => {
            return files
                .iter()
                .map(|f| failed(&f.path, format!("the snapshots cannot be listed: {e}")))
                .collect()
        }
    };
    let reader = match repo.reader() {
        Ok(r) => r,
        Err(e) => {
            return files
                .iter()
                .map(|f| failed(&f.path, format!("the backup index cannot be read: {e}")))
                .collect()
        }
    };
    let mut before: Vec<&SnapshotSummary> =
        snapshots.iter().filter(|s| millis(s) < before_ms).collect();
    before.sort_by_key(|s| std::cmp::Reverse(millis(s)));
    files
        .iter()
        .map(|file| {
            if before.is_empty() {
                return failed(
                    &file.path,
                    "no backup was taken before the process started writing".into(),
                );
            }
            restore_one(&reader, file, &before)
        })
        .collect()
}

pub fn failed(path: &str, note: String) -> FileOutcome {
    FileOutcome {
        path: path.to_string(),
        restored: false,
        unchanged: false,
        snapshot: None,
        damaged_kept_as: None,
        note: Some(note),
    }
}

fn restore_one(
    reader: &Reader<'_>,
    file: &RestoreFile,
    snapshots: &[&SnapshotSummary],
) -> FileOutcome {
    let path = Path::new(&file.path);
    let (dir, name) = match fsat::open_parent(path) {
        Ok(found) => found,
        Err(e) => {
            return failed(
                &file.path,
                format!("its folder cannot be opened safely: {e}"),
            )
        }
    };
    let to = Destination {
        dir: &dir,
        name: &name,
        shown: path,
    };
    let mut last_problem = String::from("no backup before the change holds this file");
    for snapshot in snapshots {
        match put_back(reader, &snapshot.id, path, &to, file.sha256.as_deref()) {
            Attempt::Unusable(problem) => last_problem = problem,
            attempt => {
                let mut outcome = outcome(&file.path, &snapshot.id, attempt);
                if outcome.restored && file.sha256.is_none() {
                    outcome.note = Some("only sampled blocks were hashed before the change: restored from the newest backup before it, not checked in full".to_string());
                }
                return outcome;
            }
        }
    }
    failed(&file.path, last_problem)
}

/// The report of one file from how putting it back from `snapshot` went.
pub fn outcome(path: &str, snapshot: &str, attempt: Attempt) -> FileOutcome {
    let from = |restored, unchanged, kept_as, note| FileOutcome {
        path: path.to_string(),
        restored,
        unchanged,
        snapshot: Some(snapshot.to_string()),
        damaged_kept_as: kept_as,
        note,
    };
    match attempt {
        Attempt::Restored { kept_as } => from(true, false, kept_as, None),
        Attempt::Unchanged => from(false, true, None, None),
        Attempt::Unusable(note) => from(false, false, None, Some(note)),
        Attempt::Failed { note, kept_as } => from(false, false, kept_as, Some(note)),
    }
}
