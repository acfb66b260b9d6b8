//! A directory of a snapshot restored into an empty target in batches of bounded size.
//!
//! rustic's restore reads packs on twenty threads ahead of its writes, and what it holds
//! grows with the data one call restores (about 1.1 GB resident for a 1.1 GB tree). On
//! a ward PC that is too much, so the tree is cut into subtrees of at most
//! [`BATCH_BYTES`] of file content, each restored by its own call into its own part of
//! the target; a directory too big for one batch has its own files restored as one
//! batch and its subdirectories visited in turn. Directory metadata (times, modes) is
//! set once at the end, after every file below it was written. Hard links are kept
//! within a batch; across batches the second name gets a copy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rustic_core::repofile::Node;
use rustic_core::{
    IndexedFullStatus, LocalDestination, LsOptions, Repository as RusticRepo, RestoreOptions,
    RestorePlan, RusticResult,
};

use crate::BackupError;

/// Most bytes of file content given to one rustic restore call.
pub(crate) const BATCH_BYTES: u64 = 256 << 20;

/// Nodes with their paths relative to the directory listed.
type Listing = Vec<(PathBuf, Node)>;

/// Files and bytes written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Restored {
    pub files: u64,
    pub bytes: u64,
}

/// Restores everything below the directory `root` into `target` (empty or absent).
pub(crate) fn restore_dir(
    repo: &RusticRepo<IndexedFullStatus>,
    root: &Node,
    target: &Path,
    batch_bytes: u64,
) -> Result<Restored, BackupError> {
    let failed = BackupError::rustic("restore failed");
    let (sizes, dirs) =
        survey(repo.ls(root, &LsOptions::default()).map_err(&failed)?).map_err(&failed)?;
    let mut done = Restored::default();
    let mut pending = vec![(PathBuf::new(), root.clone())];
    while let Some((rel, dir)) = pending.pop() {
        let dest_path = target.join(&rel);
        let whole = sizes.get(&rel).copied().unwrap_or(0) <= batch_bytes;
        let restored = if whole {
            let nodes = repo.ls(&dir, &LsOptions::default()).map_err(&failed)?;
            restore_batch(repo, nodes, &dest_path)?
        } else {
            // Its own entries only (one folder's listing), kept to visit its folders.
            let entries: Listing = repo
                .ls(&dir, &LsOptions::default().recursive(false))
                .map_err(&failed)?
                .collect::<RusticResult<_>>()
                .map_err(&failed)?;
            let restored = restore_batch(repo, entries.iter().cloned().map(Ok), &dest_path)?;
            for (path, node) in entries {
                if node.is_dir() {
                    pending.push((rel.join(path), node));
                }
            }
            restored
        };
        done.files += restored.files;
        done.bytes += restored.bytes;
    }
    // Directory times and modes last: every batch above wrote into them.
    repo.restore(
        RestorePlan::default(),
        &RestoreOptions::default(),
        dirs.into_iter().map(Ok),
        &destination(target)?,
    )
    .map_err(&failed)?;
    Ok(done)
}

/// One rustic restore call: `nodes` (a listing relative to `dest_path`) into
/// `dest_path`. Their directories are created here, but get their metadata only at the
/// end.
fn restore_batch(
    repo: &RusticRepo<IndexedFullStatus>,
    nodes: impl Iterator<Item = RusticResult<(PathBuf, Node)>> + Clone,
    dest_path: &Path,
) -> Result<Restored, BackupError> {
    let failed = BackupError::rustic("restore failed");
    let dest = destination(dest_path)?;
    let restore_opts = RestoreOptions::default();
    let plan = repo
        .prepare_restore(&restore_opts, nodes.clone(), &dest, false)
        .map_err(&failed)?;
    let restored = Restored {
        files: plan.stats.files.restore,
        bytes: plan.restore_size,
    };
    let not_dirs = nodes.filter(|item| item.as_ref().map_or(true, |(_, n)| !n.is_dir()));
    repo.restore(plan, &restore_opts, not_dirs, &dest)
        .map_err(&failed)?;
    Ok(restored)
}

fn destination(path: &Path) -> Result<LocalDestination, BackupError> {
    let text = path.to_str().ok_or_else(|| {
        BackupError::Invalid(format!("the target {} is not valid UTF-8", path.display()))
    })?;
    LocalDestination::new(text, true, false).map_err(BackupError::rustic("restore failed"))
}

/// One pass over the whole listing: the bytes of file content below every directory
/// (by its path relative to the listed root; the root itself is the empty path), and
/// the directories themselves, in tree order, for their metadata at the end.
fn survey(
    nodes: impl Iterator<Item = RusticResult<(PathBuf, Node)>>,
) -> RusticResult<(HashMap<PathBuf, u64>, Listing)> {
    let mut sizes: HashMap<PathBuf, u64> = HashMap::new();
    let mut dirs = Vec::new();
    for item in nodes {
        let (path, node) = item?;
        if node.is_dir() {
            dirs.push((path, node));
            continue;
        }
        if !node.is_file() {
            continue;
        }
        let mut dir = path.parent();
        while let Some(d) = dir {
            *sizes.entry(d.to_path_buf()).or_default() += node.meta.size;
            dir = d.parent();
        }
    }
    Ok((sizes, dirs))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::{local_backend, BackupProgress, BackupRequest, Repository};

    struct Quiet;
    impl BackupProgress for Quiet {
        fn bytes_done(&self, _: u64, _: u64) {}
    }

    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    }

    /// Every entry below `root`: relative path, kind, content or link target, mode and
    /// (for directories and files) modification time.
    fn tree(root: &Path) -> Vec<(PathBuf, String, Vec<u8>, u32, i64)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                let m = fs::symlink_metadata(&p).unwrap();
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                let (kind, content) = if m.is_symlink() {
                    (
                        "link",
                        fs::read_link(&p)
                            .unwrap()
                            .into_os_string()
                            .into_encoded_bytes(),
                    )
                } else if m.is_dir() {
                    stack.push(p.clone());
                    ("dir", Vec::new())
                } else {
                    ("file", fs::read(&p).unwrap())
                };
                let mtime = if m.is_symlink() { 0 } else { m.mtime() };
                out.push((rel, kind.to_string(), content, m.mode(), mtime));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_tree_restored_in_many_small_batches_is_the_tree_backed_up() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        // A directory too big for one batch, with its own files and subdirectories
        // both too big and small enough; an empty directory; a read-only one; a link.
        for (dir, files) in [
            ("ward", 3usize),
            ("ward/lab", 4),
            ("ward/lab/2026", 2),
            ("ward/notes", 1),
            ("imaging", 2),
        ] {
            fs::create_dir_all(data.join(dir)).unwrap();
            for i in 0..files {
                let seed = (dir.len() * 31 + i) as u64;
                fs::write(
                    data.join(dir).join(format!("f{i}.bin")),
                    bytes(seed, 40_000 + i * 7_000),
                )
                .unwrap();
            }
        }
        fs::create_dir_all(data.join("empty")).unwrap();
        std::os::unix::fs::symlink("../imaging/f0.bin", data.join("ward/latest")).unwrap();
        fs::set_permissions(
            data.join("ward/notes"),
            std::os::unix::fs::PermissionsExt::from_mode(0o555),
        )
        .unwrap();
        // Directory times from the past, which the restore must put back last.
        let past =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        for d in ["ward", "ward/lab", "ward/lab/2026", "imaging", "empty"] {
            fs::File::open(data.join(d))
                .unwrap()
                .set_modified(past)
                .unwrap();
        }

        let repo =
            Repository::init(local_backend(&tmp.path().join("repo")).unwrap(), "pw").unwrap();
        let request = BackupRequest {
            paths: vec![data.clone()],
            hostname: "ward-3".into(),
            ..Default::default()
        };
        repo.backup(&request, &Quiet).unwrap();

        let target = tmp.path().join("restored");
        let summary = repo
            .restore_in_batches(None, Some(&data), &target, 100_000)
            .unwrap();
        assert_eq!(summary.files, 12);
        let expected = tree(&data);
        assert_eq!(tree(&target), expected);
        assert!(expected.iter().any(|e| e.1 == "link"));
        assert!(expected
            .iter()
            .any(|e| e.1 == "dir" && e.4 == 1_600_000_000));
        // Left writable for the temporary directory's removal.
        fs::set_permissions(
            target.join("ward/notes"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        fs::set_permissions(
            data.join("ward/notes"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
}
