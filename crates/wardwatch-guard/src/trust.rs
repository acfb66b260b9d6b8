//! Trusted programs: package managers, the backup tool and compressors rewrite many
//! files in ways that look like ransomware (a dpkg upgrade replaces hundreds of files,
//! xz turns text into random-looking bytes). Their events are not scored. A program is
//! trusted by exact path AND the SHA-256 its file had when the guard started, so a
//! lookalike copied to the same name (or a renamed binary) is not.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::procinfo::{ExeId, ProcInfo, ProcTable};
use super::sample::hash_path;

/// Trusted by default when present.
pub const DEFAULT_TRUSTED: [&str; 9] = [
    "/usr/bin/dpkg",
    "/usr/bin/apt",
    "/usr/bin/apt-get",
    "/usr/bin/rpm",
    "/usr/bin/restic",
    "/usr/bin/tar",
    "/usr/bin/xz",
    "/usr/bin/gzip",
    "/usr/bin/zstd",
];

/// One trusted program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trusted {
    pub path: PathBuf,
    pub sha256: String,
    /// The file as it was hashed; None if it changed while being hashed.
    #[serde(skip)]
    pub file: Option<ExeId>,
}

/// Decisions kept before the cache is emptied: bounded, and far above the processes
/// one terminal writes files with at once.
const CACHE_LIMIT: usize = 4096;

#[derive(Debug, Clone)]
pub struct TrustList {
    entries: Vec<Trusted>,
    /// The decision per process, for as long as the process table holds the same entry
    /// for it: a fork, an exec or an exit replaces the entry, so the program is judged
    /// again. Without it every file a trusted `tar` wrote read `/proc` twice.
    decided: HashMap<u32, (Arc<ProcInfo>, bool)>,
    /// Whether a lookalike (a trusted path running another file) is warned about. Off
    /// in the content reader's copy: the guard loop judges the same process and warns.
    warn_lookalikes: bool,
}

impl TrustList {
    /// Hashes each path now; missing or unreadable ones are skipped with a note.
    pub fn new(paths: &[PathBuf]) -> Self {
        let mut entries: Vec<Trusted> = Vec::new();
        for p in paths {
            let Ok(canonical) = std::fs::canonicalize(p) else {
                tracing::debug!(path = %p.display(), "trusted program not installed");
                continue;
            };
            let before = std::fs::metadata(&canonical).ok().map(|m| ExeId::of(&m));
            match hash_path(&canonical) {
                Some(h) if !entries.iter().any(|e| e.path == canonical) => {
                    let after = std::fs::metadata(&canonical).ok().map(|m| ExeId::of(&m));
                    entries.push(Trusted {
                        path: canonical,
                        sha256: h.sha256,
                        file: before.filter(|b| Some(*b) == after),
                    });
                }
                Some(_) => {}
                None => {
                    tracing::warn!(path = %canonical.display(), "cannot hash a trusted program; it is not trusted")
                }
            }
        }
        Self {
            entries,
            decided: HashMap::new(),
            warn_lookalikes: true,
        }
    }

    /// A copy with its own decisions that judges alike but never warns, for a second
    /// thread that judges the same processes.
    pub(crate) fn quiet_copy(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            decided: HashMap::new(),
            warn_lookalikes: false,
        }
    }

    pub fn entries(&self) -> &[Trusted] {
        &self.entries
    }

    /// The trusted files themselves, for the open gate's quick look at a process.
    pub(crate) fn files(&self) -> HashSet<ExeId> {
        self.entries.iter().filter_map(|e| e.file).collect()
    }

    /// Whether the process runs a trusted program (exact path and hash), judged once
    /// per entry of the process table.
    pub fn is_trusted(&mut self, procs: &ProcTable, info: &Arc<ProcInfo>) -> bool {
        if let Some((seen, trusted)) = self.decided.get(&info.pid) {
            if Arc::ptr_eq(seen, info) {
                return *trusted;
            }
        }
        let trusted = self.judge(procs, info);
        if self.decided.len() >= CACHE_LIMIT {
            self.decided.clear();
        }
        self.decided.insert(info.pid, (info.clone(), trusted));
        trusted
    }

    fn judge(&self, procs: &ProcTable, info: &ProcInfo) -> bool {
        let Some(exe) = info.exe.as_deref() else {
            return false;
        };
        let Some(entry) = self.find(exe) else {
            return false;
        };
        match procs.exe_sha256(info) {
            Some(h) if !h.sampled && h.sha256 == entry.sha256 => true,
            _ => {
                if self.warn_lookalikes {
                    tracing::warn!(pid = info.pid, exe = %exe.display(), "a process runs a trusted path, but not the trusted file");
                }
                false
            }
        }
    }

    fn find(&self, exe: &Path) -> Option<&Trusted> {
        self.entries.iter().find(|e| e.path == exe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procinfo::LineageLimits;

    #[test]
    fn a_decision_is_kept_for_one_entry_of_the_process_table_and_taken_again_after_it_changes() {
        let sleep = std::fs::canonicalize("/bin/sleep").unwrap();
        let mut trust = TrustList::new(std::slice::from_ref(&sleep));
        assert_eq!(trust.entries().len(), 1);
        let table = ProcTable::new(LineageLimits::default(), None);
        let mut child = std::process::Command::new(&sleep).arg("5").spawn().unwrap();
        let info = table.observe(child.id()).unwrap();
        assert!(trust.is_trusted(&table, &info));
        assert!(trust.is_trusted(&table, &info), "the kept decision");
        assert!(
            trust.quiet_copy().is_trusted(&table, &info),
            "the quiet copy judges alike"
        );
        // The same pid, another entry (as after an exec of another program): judged
        // again, and not trusted.
        let mut other = ProcInfo::clone(&info);
        other.exe = Some(PathBuf::from("/usr/bin/env"));
        assert!(!trust.is_trusted(&table, &Arc::new(other)));
        let _ = child.kill();
        let _ = child.wait();
    }
}
