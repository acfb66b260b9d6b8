//! Trusted programs: package managers, the backup tool and compressors rewrite many
//! files in ways that look like ransomware (a dpkg upgrade replaces hundreds of files,
//! xz turns text into random-looking bytes). Their events are not scored. A program is
//! trusted by exact path AND the SHA-256 its file had when the guard started, so a
//! lookalike copied to the same name (or a renamed binary) is not.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::procinfo::{ProcInfo, ProcTable};
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
}

#[derive(Debug, Clone, Default)]
pub struct TrustList {
    entries: Vec<Trusted>,
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
            match hash_path(&canonical) {
                Some(h) if !entries.iter().any(|e| e.path == canonical) => {
                    entries.push(Trusted {
                        path: canonical,
                        sha256: h.sha256,
                    });
                }
                Some(_) => {}
                None => {
                    tracing::warn!(path = %canonical.display(), "cannot hash a trusted program; it is not trusted")
                }
            }
        }
        Self { entries }
    }

    pub fn entries(&self) -> &[Trusted] {
        &self.entries
    }

    /// Whether the process runs a trusted program (exact path and hash).
    pub fn is_trusted(&self, procs: &ProcTable, info: &ProcInfo) -> bool {
        let Some(exe) = info.exe.as_deref() else {
            return false;
        };
        let Some(entry) = self.find(exe) else {
            return false;
        };
        match procs.exe_sha256(info) {
            Some(h) if !h.sampled && h.sha256 == entry.sha256 => true,
            _ => {
                tracing::warn!(pid = info.pid, exe = %exe.display(), "a process runs a trusted path, but not the trusted file");
                false
            }
        }
    }

    fn find(&self, exe: &Path) -> Option<&Trusted> {
        self.entries.iter().find(|e| e.path == exe)
    }
}
