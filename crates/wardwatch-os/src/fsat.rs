//! File operations relative to a directory descriptor, for code that runs as root on
//! paths other users control.
//!
//! A path names a file only at the moment it is resolved: between two calls that take
//! the same path, any folder on the way can be renamed away or replaced by a symbolic
//! link, and root then reads, writes or unlinks somewhere else. So a directory is
//! resolved once, without following any symbolic link on the way, and everything after
//! that (opening, checking, unlinking and renaming its entries) goes through its
//! descriptor and a single name, which cannot be redirected. What the descriptor refers
//! to can still be moved; it is the same directory, and the caller checks its device and
//! inode when that matters.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FsatError {
    #[error("{0} names no file (it ends in `/`, `.` or `..`)")]
    NoFileName(PathBuf),
    #[error("{0}: a folder on the way is a symbolic link")]
    Symlink(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What `fstatat` says of a directory entry, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub ctime_ns: i128,
}

impl Stat {
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }
}

/// The open parent directory of `path` and the file name in it. A relative path is taken
/// from the current directory. No symbolic link on the way is followed (one is
/// [`FsatError::Symlink`]); the file name itself is not looked at.
pub fn open_parent(path: &Path) -> Result<(File, OsString), FsatError> {
    let name = match path.components().next_back() {
        Some(Component::Normal(name)) => name.to_owned(),
        _ => return Err(FsatError::NoFileName(path.to_owned())),
    };
    let parent = path.parent().unwrap_or(Path::new(""));
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    Ok((open_dir(parent)?, name))
}

/// Opens the directory `path` for reading without following any symbolic link on the
/// way: `openat2` with `RESOLVE_NO_SYMLINKS` (Linux 5.6), else one component at a time.
pub fn open_dir(path: &Path) -> Result<File, FsatError> {
    match openat2_dir(path) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => open_dir_by_components(path),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(FsatError::Symlink(path.into())),
        other => other.map_err(|source| FsatError::Io {
            path: path.into(),
            source,
        }),
    }
}

/// `struct open_how` of linux/openat2.h (libc's is non-exhaustive, so not constructible).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

fn openat2_dir(path: &Path) -> io::Result<File> {
    let c = c_path(path.as_os_str())?;
    let how = OpenHow {
        flags: (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: openat2 with a NUL-terminated path and a live open_how of the size passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    owned(fd as libc::c_int)
}

/// The fallback for kernels without `openat2`: each component opened with
/// `O_NOFOLLOW|O_DIRECTORY` relative to the one before.
fn open_dir_by_components(path: &Path) -> Result<File, FsatError> {
    let fail = |source| FsatError::Io {
        path: path.into(),
        source,
    };
    let start = if path.is_absolute() { "/" } else { "." };
    let mut dir = open_raw(libc::AT_FDCWD, OsStr::new(start), libc::O_PATH, 0).map_err(fail)?;
    for component in path.components() {
        let name = match component {
            Component::RootDir | Component::CurDir => continue,
            Component::ParentDir => OsStr::new(".."),
            Component::Normal(name) => name,
            Component::Prefix(_) => return Err(fail(io::ErrorKind::InvalidInput.into())),
        };
        let flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_DIRECTORY;
        dir = open_subdir(&dir, name, flags, path)?;
    }
    // An O_PATH descriptor cannot be read or synced: the directory itself, opened again.
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    open_raw(dir.as_raw_fd(), OsStr::new("."), flags, 0).map_err(fail)
}

/// Opens the absolute directory `path`, creating each missing folder on the way with
/// `mode` (before the umask), and never following a symbolic link: a link where a folder
/// should be is [`FsatError::Symlink`], whoever planted it and whenever. For restores
/// into folders that were deleted, or below a target the admin named.
pub fn create_dirs(path: &Path, mode: u32) -> Result<File, FsatError> {
    let fail = |source| FsatError::Io {
        path: path.into(),
        source,
    };
    if !path.is_absolute() {
        return Err(fail(io::ErrorKind::InvalidInput.into()));
    }
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    let mut dir = open_raw(libc::AT_FDCWD, OsStr::new("/"), flags, 0).map_err(fail)?;
    for component in path.components() {
        let name = match component {
            Component::RootDir => continue,
            Component::Normal(name) => name,
            _ => return Err(fail(io::ErrorKind::InvalidInput.into())),
        };
        let c = c_path(name).map_err(fail)?;
        // SAFETY: mkdirat with a descriptor borrowed for the call and a NUL-terminated
        // name.
        let rc = unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) };
        if let Err(e) = check(rc) {
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(fail(e));
            }
        }
        dir = open_subdir(&dir, name, flags, path)?;
    }
    Ok(dir)
}

/// Opens the folder `name` of `dir` with `flags` (which hold `O_NOFOLLOW|O_DIRECTORY`):
/// a symbolic link there is [`FsatError::Symlink`] of `path`, the whole path being
/// opened.
fn open_subdir(
    dir: &File,
    name: &OsStr,
    flags: libc::c_int,
    path: &Path,
) -> Result<File, FsatError> {
    open_raw(dir.as_raw_fd(), name, flags, 0).map_err(|e| {
        // A link opened with O_NOFOLLOW|O_DIRECTORY fails with ELOOP or ENOTDIR.
        let link = e.raw_os_error() == Some(libc::ELOOP)
            || stat_raw(dir.as_raw_fd(), name).is_ok_and(|s| s.is_symlink());
        if link {
            FsatError::Symlink(path.into())
        } else {
            FsatError::Io {
                path: path.into(),
                source: e,
            }
        }
    })
}

/// Opens the entry `name` of `dir` (`O_CLOEXEC` is added; pass `O_NOFOLLOW` for a file).
pub fn open_at(dir: &File, name: &OsStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
    open_raw(dir.as_raw_fd(), entry(name)?, flags, mode)
}

/// The entry `name` of `dir`, not followed if it is a symbolic link.
pub fn stat_at(dir: &File, name: &OsStr) -> io::Result<Stat> {
    stat_raw(dir.as_raw_fd(), entry(name)?)
}

/// Removes the entry `name` (not a directory) from `dir`.
pub fn unlink_at(dir: &File, name: &OsStr) -> io::Result<()> {
    let c = c_path(entry(name)?)?;
    // SAFETY: unlinkat with a descriptor borrowed for the call and a NUL-terminated name.
    let rc = unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) };
    check(rc)
}

/// Renames `from` to `to`, both in `dir`, failing with `AlreadyExists` rather than
/// replacing anything (`RENAME_NOREPLACE`).
pub fn rename_noreplace_at(dir: &File, from: &OsStr, to: &OsStr) -> io::Result<()> {
    let (from, to) = (c_path(entry(from)?)?, c_path(entry(to)?)?);
    let fd = dir.as_raw_fd();
    // SAFETY: renameat2 with a descriptor borrowed for the call and two NUL-terminated
    // names.
    let rc = unsafe { libc::renameat2(fd, from.as_ptr(), fd, to.as_ptr(), libc::RENAME_NOREPLACE) };
    check(rc)
}

/// One name inside a directory: not empty, no `/`, not `.` or `..`.
fn entry(name: &OsStr) -> io::Result<&OsStr> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a single file name",
        ));
    }
    Ok(name)
}

fn c_path(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
}

fn open_raw(dir: libc::c_int, name: &OsStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
    let c = c_path(name)?;
    // SAFETY: openat with a NUL-terminated name; the mode is read only with O_CREAT.
    let fd = unsafe {
        libc::openat(
            dir,
            c.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    owned(fd)
}

fn stat_raw(dir: libc::c_int, name: &OsStr) -> io::Result<Stat> {
    let c = c_path(name)?;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstatat writes a whole struct stat into `st` when it returns 0.
    let rc = unsafe { libc::fstatat(dir, c.as_ptr(), st.as_mut_ptr(), libc::AT_SYMLINK_NOFOLLOW) };
    check(rc)?;
    // SAFETY: initialised by the successful call above.
    let st = unsafe { st.assume_init() };
    Ok(Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
        ctime_ns: i128::from(st.st_ctime) * 1_000_000_000 + i128::from(st.st_ctime_nsec),
    })
}

fn owned(fd: libc::c_int) -> io::Result<File> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor the kernel just returned to us and nobody else holds.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt};

    fn both_ways(path: &Path) -> [Result<File, FsatError>; 2] {
        [open_dir(path), open_dir_by_components(path)]
    }

    #[test]
    fn create_dirs_makes_missing_folders_and_follows_no_link() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        let made = create_dirs(&deep, 0o755).unwrap();
        let meta = std::fs::metadata(&deep).unwrap();
        assert!(meta.is_dir());
        assert_eq!(made.metadata().unwrap().ino(), meta.ino());
        // Already there: opened again, nothing changes.
        create_dirs(&deep, 0o755).unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        symlink(&elsewhere, tmp.path().join("a/link")).unwrap();
        let through = create_dirs(&tmp.path().join("a/link/x"), 0o755);
        assert!(matches!(through, Err(FsatError::Symlink(_))), "{through:?}");
        assert!(!elsewhere.join("x").exists());
        assert!(create_dirs(Path::new("relative/x"), 0o755).is_err());
        assert!(create_dirs(&tmp.path().join("a/../b"), 0o755).is_err());
    }

    #[test]
    fn a_symlinked_folder_anywhere_on_the_way_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir_all(real.join("inner")).unwrap();
        symlink(&real, tmp.path().join("link")).unwrap();
        for path in [
            tmp.path().join("link"),
            tmp.path().join("link/inner"),
            tmp.path().join("link/inner/.."),
        ] {
            for result in both_ways(&path) {
                assert!(
                    matches!(result, Err(FsatError::Symlink(_))),
                    "{path:?}: {result:?}"
                );
            }
        }
        assert!(matches!(
            open_parent(&tmp.path().join("link/inner/file")),
            Err(FsatError::Symlink(_))
        ));
    }

    #[test]
    fn a_real_folder_opens_both_ways_and_entries_are_handled_through_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        std::fs::create_dir_all(&dir).unwrap();
        let want = std::fs::metadata(&dir).unwrap();
        for opened in both_ways(&tmp.path().join("a/./b/../b")) {
            let meta = opened.unwrap().metadata().unwrap();
            assert_eq!((meta.dev(), meta.ino()), (want.dev(), want.ino()));
        }

        let (parent, name) = open_parent(&dir.join("f")).unwrap();
        assert_eq!(name, "f");
        // The folder is moved away after it was opened: the descriptor follows it.
        std::fs::rename(&dir, tmp.path().join("a/moved")).unwrap();
        std::fs::create_dir(&dir).unwrap();
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
        open_at(&parent, &name, flags, 0o600).unwrap();
        assert!(tmp.path().join("a/moved/f").exists());
        assert!(!dir.join("f").exists());
        let st = stat_at(&parent, &name).unwrap();
        assert!(!st.is_symlink());
        rename_noreplace_at(&parent, &name, OsStr::new("g")).unwrap();
        open_at(&parent, &name, flags, 0o600).unwrap();
        let err = rename_noreplace_at(&parent, &name, OsStr::new("g")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        unlink_at(&parent, OsStr::new("g")).unwrap();
        assert!(!tmp.path().join("a/moved/g").exists());

        for bad in ["..", ".", "x/y", ""] {
            assert!(unlink_at(&parent, OsStr::new(bad)).is_err(), "{bad:?}");
        }
        assert!(matches!(
            open_parent(Path::new("/tmp/..")),
            Err(FsatError::NoFileName(_))
        ));
    }
}
