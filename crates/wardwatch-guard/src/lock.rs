//! One guard per protected directory. Two guards on the same directory would each
//! see the other plant, rewrite and remove the canaries, and take it for ransomware;
//! so each root is locked (`flock` on a file in `/run/wardwatch`) for the guard's
//! lifetime, and a second guard refuses to start, naming the first. The kernel drops
//! the lock when the process dies, however it dies. A clean stop also removes the
//! file (while still holding the lock); a guard that locked a file removed meanwhile
//! sees that the path no longer names its file and locks the new one instead.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::GuardError;

#[derive(Debug)]
pub(crate) struct RootLocks {
    held: Vec<(PathBuf, File)>,
}

impl Drop for RootLocks {
    fn drop(&mut self) {
        for (path, _file) in &self.held {
            // Still locked here; the file closes (and unlocks) after.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Where lock files live: `/run/wardwatch` (root, tmpfs), else the temporary directory.
fn lock_dir() -> PathBuf {
    let run = Path::new("/run/wardwatch");
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(run);
    let writable = wardwatch_os::fd::may_write(run);
    match made {
        Ok(()) if writable => run.to_path_buf(),
        // Not root: the guard will fail at fanotify with the reason; do not fail here.
        _ => std::env::temp_dir(),
    }
}

impl RootLocks {
    pub(crate) fn acquire(roots: &[PathBuf]) -> Result<Self, GuardError> {
        let dir = lock_dir();
        let mut locks = Self { held: Vec::new() };
        for root in roots {
            let digest = hex::encode(Sha256::digest(root.as_os_str().as_encoded_bytes()));
            let path = dir.join(format!("guard-{}.lock", &digest[..16]));
            let file = lock_one(&path, root)?;
            locks.held.push((path, file));
        }
        Ok(locks)
    }
}

/// Locks the file at `path` for `root`, retrying if the file was replaced meanwhile.
fn lock_one(path: &Path, root: &Path) -> Result<File, GuardError> {
    for _ in 0..10 {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| GuardError::syscall("open", path, e))?;
        let locked = wardwatch_os::fd::try_lock_exclusive(&file)
            .map_err(|e| GuardError::syscall("flock", path, e))?;
        if !locked {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(GuardError::AlreadyGuarded {
                path: root.to_path_buf(),
                holder: holder.lines().next().unwrap_or("?").trim().to_string(),
            });
        }
        // The previous holder may have removed the file between our open and lock.
        let ours = file
            .metadata()
            .map_err(|e| GuardError::syscall("fstat", path, e))?;
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.dev() == ours.dev() && m.ino() == ours.ino() => {}
            _ => continue,
        }
        let note = format!("{}\n{}\n", std::process::id(), root.display());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(note.as_bytes()))
            .map_err(|e| GuardError::syscall("write", path, e))?;
        return Ok(file);
    }
    Err(GuardError::Internal(format!(
        "{}: the lock file keeps being replaced",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_guard_on_the_same_directory_is_refused_until_the_first_stops() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let first = RootLocks::acquire(std::slice::from_ref(&root)).unwrap();
        // flock locks belong to the open file, so a second open in this process
        // conflicts just as another process would.
        match RootLocks::acquire(std::slice::from_ref(&root)) {
            Err(GuardError::AlreadyGuarded { holder, .. }) => {
                assert_eq!(holder, std::process::id().to_string())
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        let again = RootLocks::acquire(&[root]).unwrap();
        let path = again.held[0].0.clone();
        assert!(path.exists());
        drop(again);
        assert!(!path.exists(), "lock file removed on release");
    }
}
