//! What each process did to which file, kept for a while so that an alert can list
//! every file the offending tree touched, with the hash each had before, and when the
//! first of those changes happened (the scorer's verdict only names paths).

use std::collections::VecDeque;
use std::path::PathBuf;

use serde::Serialize;

use super::sample::ContentHash;

/// Most changes remembered.
const MAX_ENTRIES: usize = 200_000;
/// Changes older than this (guard clock, ms) are forgotten.
const MAX_AGE_MS: u64 = 15 * 60 * 1000;

/// One change to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum FileChange {
    Written,
    Created,
    Deleted,
    /// This path was renamed to `path`.
    RenamedTo {
        path: PathBuf,
    },
    /// This path was the target of a rename from `path`.
    RenamedFrom {
        path: PathBuf,
    },
    CanaryTouched,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub time_ms: u64,
    pub wall_ms: u64,
    pub pid: u32,
    pub lineage: Vec<u32>,
    pub path: PathBuf,
    pub change: FileChange,
    /// The file's hash before this change, from the index.
    pub before: Option<ContentHash>,
}

impl Entry {
    /// Whether the change is credited to the tree rooted at `pid`.
    pub(crate) fn in_tree(&self, pid: u32) -> bool {
        self.pid == pid || self.lineage.contains(&pid)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: VecDeque<Entry>,
}

impl Journal {
    pub(crate) fn record(&mut self, entry: Entry) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// Changes credited to the tree of `pid`, oldest first.
    pub(crate) fn for_tree(&self, pid: u32) -> Vec<Entry> {
        self.entries
            .iter()
            .filter(|e| e.in_tree(pid))
            .cloned()
            .collect()
    }

    pub(crate) fn prune(&mut self, now_ms: u64) {
        while self
            .entries
            .front()
            .is_some_and(|e| now_ms.saturating_sub(e.time_ms) > MAX_AGE_MS)
        {
            self.entries.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(time_ms: u64, pid: u32, lineage: &[u32], path: &str) -> Entry {
        Entry {
            time_ms,
            wall_ms: time_ms,
            pid,
            lineage: lineage.to_vec(),
            path: PathBuf::from(path),
            change: FileChange::Written,
            before: None,
        }
    }

    #[test]
    fn changes_are_credited_to_the_whole_lineage_and_age_out() {
        let mut j = Journal::default();
        j.record(entry(1, 100, &[50], "/a"));
        j.record(entry(2, 101, &[50], "/b"));
        j.record(entry(3, 200, &[], "/c"));
        let tree: Vec<_> = j.for_tree(50).into_iter().map(|e| e.path).collect();
        assert_eq!(tree, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(j.for_tree(101).len(), 1);
        j.prune(2 + MAX_AGE_MS);
        assert_eq!(j.for_tree(50).len(), 1);
    }
}
