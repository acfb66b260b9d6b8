//! Turning the directory file handles of fanotify events into paths, and the file
//! handles of content events into open files.
//!
//! A create, delete or rename event names the entry and the directory it is in by file
//! handle, which `open_by_handle_at` (on any descriptor of the same file system) opens
//! and `/proc/self/fd` turns into a path. Every directory of a protected tree is
//! resolved ahead, at start, so events in a directory that is deleted meanwhile (`rm
//! -r`) still resolve; other results are cached, and the cache is refreshed whenever a
//! directory that matters to the protected trees is renamed or removed.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::protected::ProtectedPaths;
use super::GuardError;
use wardwatch_os::fanotify::fsid_of;
pub(crate) use wardwatch_os::fanotify::DirKey;
use wardwatch_os::fd::fd_path;
use wardwatch_os::handle::{handle_of, open_by_handle, open_mount_dir};

/// Most cached handles outside the protected trees before the cache is emptied.
const MAX_CACHED: usize = 100_000;
/// Most directories resolved ahead per walk.
const MAX_PREPARED: usize = 200_000;

#[derive(Debug)]
pub(crate) struct DirResolver {
    /// One open directory per watched file system, for `open_by_handle_at`.
    mounts: Vec<([u8; 8], OwnedFd)>,
    cache: HashMap<DirKey, PathBuf>,
    protected: ProtectedPaths,
}

impl DirResolver {
    pub(crate) fn new(protected: &ProtectedPaths) -> Result<Self, GuardError> {
        let mut mounts: Vec<([u8; 8], OwnedFd)> = Vec::new();
        for root in protected.roots() {
            let fsid = fsid_of(root).map_err(|e| GuardError::syscall("statfs", root, e))?;
            if mounts.iter().any(|(f, _)| *f == fsid) {
                continue;
            }
            let fd = open_mount_dir(root).map_err(|e| GuardError::syscall("open", root, e))?;
            mounts.push((fsid, fd));
        }
        let mut resolver = Self {
            mounts,
            cache: HashMap::new(),
            protected: protected.clone(),
        };
        resolver.prepare();
        Ok(resolver)
    }

    /// Resolves every directory of the protected trees ahead (no symlinks, one file
    /// system per root).
    fn prepare(&mut self) {
        for root in self.protected.roots().to_vec() {
            let Ok(fsid) = fsid_of(&root) else { continue };
            let Ok(root_meta) = std::fs::symlink_metadata(&root) else {
                continue;
            };
            let mut stack = vec![root];
            let mut n = 0;
            while let Some(dir) = stack.pop() {
                n += 1;
                if n > MAX_PREPARED {
                    tracing::warn!("too many protected directories to resolve ahead; resolving the rest as events come");
                    break;
                }
                match handle_of(&dir) {
                    Ok((handle_type, handle)) => {
                        self.cache.insert(
                            DirKey {
                                fsid,
                                handle_type,
                                handle,
                            },
                            dir.clone(),
                        );
                    }
                    Err(e) => {
                        tracing::debug!(path = %dir.display(), error = %e, "name_to_handle_at failed")
                    }
                }
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    if let Ok(m) = std::fs::symlink_metadata(entry.path()) {
                        if m.is_dir() && m.dev() == root_meta.dev() {
                            stack.push(entry.path());
                        }
                    }
                }
            }
        }
    }

    /// The path of a directory named by handle, or None if it is gone or unreadable
    /// (failures are not cached: a transient error must not hide a directory).
    pub(crate) fn resolve(&mut self, key: &DirKey) -> Option<PathBuf> {
        if let Some(hit) = self.cache.get(key) {
            return Some(hit.clone());
        }
        let resolved = self.open_by_handle(key)?;
        if self.cache.len() >= MAX_CACHED {
            self.cache.clear();
            self.prepare();
        }
        self.cache.insert(key.clone(), resolved.clone());
        Some(resolved)
    }

    /// The path of a directory entry an event names: its directory's path and the
    /// name, or the directory itself when the name is empty or `.` (an event about the
    /// directory). None if the directory cannot be resolved, or the name is not one
    /// component.
    pub(crate) fn entry_path(&mut self, dir: &DirKey, name: &[u8]) -> Option<PathBuf> {
        if name.contains(&b'/') {
            return None;
        }
        let parent = self.resolve(dir)?;
        Some(if name.is_empty() || name == b"." {
            parent
        } else {
            parent.join(std::ffi::OsStr::from_bytes(name))
        })
    }

    fn open_by_handle(&self, key: &DirKey) -> Option<PathBuf> {
        let fd = self.open(key, libc::O_PATH).ok()?;
        fd_path(fd.as_raw_fd()).ok().map(|(p, _)| p)
    }

    /// Opens the inode a handle names (a directory, or a written file of a content
    /// event) with `flags`, on the watched file system it belongs to.
    pub(crate) fn open(&self, key: &DirKey, flags: i32) -> std::io::Result<OwnedFd> {
        let (_, mount) = self
            .mounts
            .iter()
            .find(|(f, _)| *f == key.fsid)
            .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EXDEV))?;
        open_by_handle(mount, key.handle_type, &key.handle, flags)
    }

    /// A directory was renamed or removed. When that can change what is protected (it
    /// is in a protected tree, or holds one), every cached path may be stale: forget
    /// them and resolve the protected trees again.
    pub(crate) fn directory_changed(&mut self, paths: &[&Path]) {
        if paths.iter().any(|p| self.protected.is_related(p)) {
            self.cache.clear();
            self.prepare();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_of_protected_directories_resolve_even_after_removal() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("p");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let protected = ProtectedPaths::new(std::slice::from_ref(&root)).unwrap();
        let root = protected.roots()[0].clone();
        let fsid = fsid_of(&root).unwrap();
        let (t, h) = handle_of(&root.join("sub")).unwrap();
        let key = DirKey {
            fsid,
            handle_type: t,
            handle: h,
        };
        let Ok(mut r) = DirResolver::new(&protected) else {
            return; // no file handle support (not root, odd file system)
        };
        assert_eq!(r.resolve(&key), Some(root.join("sub")));
        std::fs::remove_dir(root.join("sub")).unwrap();
        // Resolved ahead: still known.
        assert_eq!(r.resolve(&key), Some(root.join("sub")));
    }

    #[test]
    fn a_directory_made_after_start_resolves_by_its_handle() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("p");
        std::fs::create_dir_all(&root).unwrap();
        let protected = ProtectedPaths::new(std::slice::from_ref(&root)).unwrap();
        let root = protected.roots()[0].clone();
        let Ok(mut r) = DirResolver::new(&protected) else {
            return; // no file handle support (not root, odd file system)
        };
        std::fs::create_dir_all(root.join("later/deeper")).unwrap();
        let (t, h) = handle_of(&root.join("later/deeper")).unwrap();
        let key = DirKey {
            fsid: fsid_of(&root).unwrap(),
            handle_type: t,
            handle: h,
        };
        // Not resolved ahead: opened by handle on the file system's mount descriptor.
        assert_eq!(r.resolve(&key), Some(root.join("later/deeper")));
    }
}
