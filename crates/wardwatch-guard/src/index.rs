//! The "before" of every protected file: size, modification time, the scorer's
//! fingerprint and a SHA-256, taken by a walk at start and kept current from the
//! events. When a file is rewritten, the scorer compares the new fingerprint with the
//! one here (an encrypted PDF no longer looks like a PDF), and an alert names the hash
//! the file had, so the right version can be found in a backup.

use foldhash::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use wardwatch_detect::content::Fingerprint;

use super::canary::is_canary;
use super::sample::{fingerprint_file, hash_file, ContentHash};
use super::GuardError;
use wardwatch_os::fd::open_for_reading;

/// What a protected file looked like when last seen.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// The inode: tells a file moved away from a path from a new file at that path.
    pub inode: u64,
    pub size: u64,
    pub mtime_ms: i64,
    /// None until the hasher reads the file, when a trusted program wrote it.
    pub fingerprint: Option<Fingerprint>,
    /// None until hashed (the hash of a rewrite is computed off the event path).
    pub hash: Option<ContentHash>,
}

/// Protected files by path, in maps with a fast seeded hash (not SipHash): every
/// file event looks a path up here.
#[derive(Debug, Default)]
pub struct Index {
    entries: HashMap<PathBuf, IndexEntry>,
    /// Names of the files found by the walk at start (copies of them are not notes).
    names_at_start: HashSet<std::ffi::OsString>,
    /// Where files and folders were renamed to lately, for [`Index::locate`].
    moves: RecentMoves,
}

/// The last [`RECENT_MOVES`] renames, from their old path to their new one.
///
/// The close of a write and the rename after it come through two notification queues
/// read apart, so the loop may see the rename first (`encrypt, then add .locked`; a
/// sync tool's temporary file renamed into place). The write then names a path that is
/// no longer in the index; these moves lead to where the file went.
#[derive(Debug, Default)]
struct RecentMoves {
    to: HashMap<PathBuf, PathBuf>,
    order: std::collections::VecDeque<PathBuf>,
}

/// Renames remembered: far more than the loop is ever behind by.
const RECENT_MOVES: usize = 4096;
/// Most renames followed from one path (a file renamed again and again).
const MOST_HOPS: usize = 8;

impl RecentMoves {
    fn record(&mut self, from: &Path, to: &Path) {
        if self.order.len() >= RECENT_MOVES {
            if let Some(oldest) = self.order.pop_front() {
                self.to.remove(&oldest);
            }
        }
        self.to.insert(from.to_path_buf(), to.to_path_buf());
        self.order.push_back(from.to_path_buf());
    }

    /// Where `path` (or a folder above it) was moved to, if it was lately.
    fn moved(&self, path: &Path) -> Option<PathBuf> {
        if let Some(to) = self.to.get(path) {
            return Some(to.clone());
        }
        let mut dir = path.parent();
        while let Some(d) = dir {
            if let (Some(to), Ok(rest)) = (self.to.get(d), path.strip_prefix(d)) {
                return Some(to.join(rest));
            }
            dir = d.parent();
        }
        None
    }
}

/// Totals of a walk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    pub files: usize,
    pub directories: usize,
    pub unreadable: usize,
}

impl Index {
    /// Walks each root without following symlinks and without leaving its file system.
    /// Files that cannot be read are counted and skipped; an unreadable root is an error.
    pub fn build(roots: &[PathBuf]) -> Result<(Self, WalkStats), GuardError> {
        let mut index = Index::default();
        let mut stats = WalkStats::default();
        for root in roots {
            let root_meta = std::fs::symlink_metadata(root)
                .map_err(|e| GuardError::syscall("lstat", root, e))?;
            std::fs::read_dir(root).map_err(|e| GuardError::syscall("opendir", root, e))?;
            let dev = root_meta.dev();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                stats.directories += 1;
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(path = %dir.display(), error = %e, "cannot list a protected directory");
                        stats.unreadable += 1;
                        continue;
                    }
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let Ok(meta) = std::fs::symlink_metadata(&path) else {
                        continue;
                    };
                    if meta.dev() != dev {
                        continue;
                    }
                    if meta.is_dir() {
                        stack.push(path);
                    } else if meta.is_file() && !is_canary(&path) {
                        match read_entry(&path) {
                            Ok(e) => {
                                if let Some(name) = path.file_name() {
                                    index.names_at_start.insert(name.to_os_string());
                                }
                                index.entries.insert(path, e);
                                stats.files += 1;
                            }
                            Err(e) => {
                                tracing::debug!(path = %path.display(), error = %e, "cannot index a file");
                                stats.unreadable += 1;
                            }
                        }
                    }
                }
            }
        }
        Ok((index, stats))
    }

    /// Whether a file of this name was in the protected trees when the guard started.
    pub fn name_existed_at_start(&self, path: &Path) -> bool {
        path.file_name()
            .is_some_and(|n| self.names_at_start.contains(n))
    }

    pub fn get(&self, path: &Path) -> Option<&IndexEntry> {
        self.entries.get(path)
    }

    /// Where the file with `inode`, written under the name `path`, is now: `path`
    /// itself, unless it is not in the index and a recent rename moved that file (the
    /// same inode) elsewhere.
    pub fn locate(&self, path: &Path, inode: u64) -> PathBuf {
        if self.entries.contains_key(path) || self.moves.to.is_empty() {
            return path.to_path_buf();
        }
        let mut at = path.to_path_buf();
        for _ in 0..MOST_HOPS {
            let Some(next) = self.moves.moved(&at) else {
                break;
            };
            match self.entries.get(&next) {
                Some(e) if e.inode == inode => return next,
                Some(_) => break,
                None => at = next,
            }
        }
        path.to_path_buf()
    }

    /// Records a rewrite; returns what the file looked like before.
    pub fn record_write(
        &mut self,
        path: &Path,
        inode: u64,
        size: u64,
        mtime_ms: i64,
        fingerprint: Option<Fingerprint>,
    ) -> Option<IndexEntry> {
        self.entries.insert(
            path.to_path_buf(),
            IndexEntry {
                inode,
                size,
                mtime_ms,
                fingerprint,
                hash: None,
            },
        )
    }

    /// Stores the hash of a rewrite (and the fingerprint, where the event came
    /// without one), unless the file was rewritten again since.
    pub fn record_hash(
        &mut self,
        path: &Path,
        size: u64,
        mtime_ms: i64,
        hash: ContentHash,
        fingerprint: Option<Fingerprint>,
    ) {
        if let Some(e) = self.entries.get_mut(path) {
            if e.size == size && e.mtime_ms == mtime_ms {
                e.hash = Some(hash);
                if e.fingerprint.is_none() {
                    e.fingerprint = fingerprint;
                }
            }
        }
    }

    /// Size and modification time of a file held without a hash yet, and whether it
    /// has no fingerprint either.
    pub fn unhashed(&self, path: &Path) -> Option<(u64, i64, bool)> {
        self.entries
            .get(path)
            .filter(|e| e.hash.is_none())
            .map(|e| (e.size, e.mtime_ms, e.fingerprint.is_none()))
    }

    pub fn remove(&mut self, path: &Path) -> Option<IndexEntry> {
        self.entries.remove(path)
    }

    /// Moves an entry; returns the entry of the file that was replaced at `to`, if any.
    pub fn rename(&mut self, from: &Path, to: &Path) -> Option<IndexEntry> {
        self.moves.record(from, to);
        let moved = self.entries.remove(from);
        match moved {
            Some(e) => self.entries.insert(to.to_path_buf(), e),
            None => self.entries.remove(to),
        }
    }

    /// Moves every entry below directory `from` to below `to`.
    pub fn rename_dir(&mut self, from: &Path, to: &Path) {
        self.moves.record(from, to);
        let moved: Vec<PathBuf> = self
            .entries
            .keys()
            .filter(|p| p.starts_with(from))
            .cloned()
            .collect();
        for old in moved {
            if let (Some(e), Ok(rest)) = (self.entries.remove(&old), old.strip_prefix(from)) {
                self.entries.insert(to.join(rest), e);
            }
        }
    }

    /// Drops every entry below directory `dir` (it left the protected tree).
    pub fn remove_dir(&mut self, dir: &Path) {
        self.entries.retain(|p, _| !p.starts_with(dir));
    }
}

/// Fingerprint and hash of one file, read once.
fn read_entry(path: &Path) -> std::io::Result<IndexEntry> {
    let file = open_for_reading(path)?;
    let meta = file.metadata()?;
    let size = meta.len();
    Ok(IndexEntry {
        inode: meta.ino(),
        size,
        mtime_ms: mtime_ms(&meta),
        fingerprint: Some(fingerprint_file(&file, size)?),
        hash: Some(hash_file(&file, size)?),
    })
}

/// Modification time in milliseconds since the epoch.
pub fn mtime_ms(meta: &std::fs::Metadata) -> i64 {
    meta.mtime() * 1000 + meta.mtime_nsec() / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_indexes_files_skips_canaries_and_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("p");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.txt"), b"hello").unwrap();
        std::fs::write(root.join("sub/b.pdf"), b"%PDF-1.7 body").unwrap();
        std::fs::write(root.join(".0000-wardwatch-canary.docx"), b"PK").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        let (mut index, stats) = Index::build(std::slice::from_ref(&root)).unwrap();
        assert_eq!(stats.files, 2);
        assert_eq!(stats.directories, 2);
        let a = index.get(&root.join("a.txt")).unwrap().clone();
        assert_eq!(a.size, 5);
        assert!(a.hash.is_some());

        index.rename(&root.join("a.txt"), &root.join("a.txt.locked"));
        assert!(index.get(&root.join("a.txt")).is_none());
        assert_eq!(index.get(&root.join("a.txt.locked")), Some(&a));
        index.rename_dir(&root.join("sub"), &root.join("moved"));
        assert!(index.get(&root.join("moved/b.pdf")).is_some());
        let before = index.record_write(&root.join("moved/b.pdf"), 7, 1, 2, None);
        assert_eq!(before.unwrap().size, 13);
        let pending = index.get(&root.join("moved/b.pdf")).unwrap();
        assert!(pending.hash.is_none() && pending.fingerprint.is_none());
        // The hasher's answer for another version of the file is not taken.
        let (hash, fingerprint) = (a.hash.clone().unwrap(), a.fingerprint.clone().unwrap());
        index.record_hash(
            &root.join("moved/b.pdf"),
            1,
            3,
            hash.clone(),
            Some(fingerprint.clone()),
        );
        assert!(index
            .get(&root.join("moved/b.pdf"))
            .unwrap()
            .fingerprint
            .is_none());
        assert_eq!(
            index.unhashed(&root.join("moved/b.pdf")),
            Some((1, 2, true)),
            "the hasher is asked for the fingerprint too"
        );
        index.record_hash(
            &root.join("moved/b.pdf"),
            1,
            2,
            hash,
            Some(fingerprint.clone()),
        );
        let filled = index.get(&root.join("moved/b.pdf")).unwrap();
        assert_eq!(filled.fingerprint.as_ref(), Some(&fingerprint));
        assert!(filled.hash.is_some());
        index.remove_dir(&root.join("moved"));
        assert!(index.get(&root.join("moved/b.pdf")).is_none());
        assert!(index.get(&root.join("a.txt.locked")).is_some());
    }

    #[test]
    fn a_write_seen_after_its_rename_is_located_where_the_file_went() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("p");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.txt"), b"hello").unwrap();
        std::fs::write(root.join("sub/b.pdf"), b"%PDF-1.7 body").unwrap();
        let (mut index, _) = Index::build(std::slice::from_ref(&root)).unwrap();
        let inode = |p: &str| index.get(&root.join(p)).unwrap().inode;
        let (a, b) = (inode("a.txt"), inode("sub/b.pdf"));
        assert_eq!(index.locate(&root.join("a.txt"), a), root.join("a.txt"));

        // Encrypted, then renamed; the loop sees the rename first, twice over.
        index.rename(&root.join("a.txt"), &root.join("a.txt.tmp"));
        index.rename(&root.join("a.txt.tmp"), &root.join("a.txt.locked"));
        assert_eq!(
            index.locate(&root.join("a.txt"), a),
            root.join("a.txt.locked")
        );
        // Another file now written under the old name is that file, not the moved one.
        assert_eq!(index.locate(&root.join("a.txt"), a + 1), root.join("a.txt"));
        // A file in a folder renamed since.
        index.rename_dir(&root.join("sub"), &root.join("moved"));
        assert_eq!(
            index.locate(&root.join("sub/b.pdf"), b),
            root.join("moved/b.pdf")
        );
        // A path in the index is its own place, whatever was renamed from it before.
        index.record_write(&root.join("a.txt"), a + 1, 1, 2, None);
        assert_eq!(index.locate(&root.join("a.txt"), a), root.join("a.txt"));
    }
}
