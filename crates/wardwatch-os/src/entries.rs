//! Directory entries made durable and swapped atomically: what every installer (bundles
//! on the server and on terminals, the quarantine vault) needs so that a crash leaves
//! either the old state or the new one, never half of each.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Makes the entries of a directory (files created, renamed or removed in it) durable.
pub fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Writes a new file with `mode` durably; fails if anything exists at `path` (a link
/// included: it is never followed).
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Swaps two directory entries atomically (`renameat2(RENAME_EXCHANGE)`); fails on file
/// systems that cannot, for the caller to fall back to two renames.
#[cfg(target_os = "linux")]
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
pub fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn exchange_swaps_two_directories_and_write_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        write_new(&a.join("version"), b"1", 0o400).unwrap();
        write_new(&b.join("version"), b"2", 0o400).unwrap();
        exchange(&a, &b).unwrap();
        sync_dir(dir.path()).unwrap();
        assert_eq!(std::fs::read(a.join("version")).unwrap(), b"2");
        assert_eq!(std::fs::read(b.join("version")).unwrap(), b"1");
        let mode = std::fs::metadata(a.join("version"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o400);
        let again = write_new(&a.join("version"), b"3", 0o600).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(a.join("version")).unwrap(), b"2");
    }
}
