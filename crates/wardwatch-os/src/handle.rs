//! File handles (name_to_handle_at, open_by_handle_at): fanotify names files and
//! directories by handle, which stays valid when they are renamed; these turn a path
//! into a handle and a handle back into an open descriptor of that very inode.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::fd::cvt;

/// Largest file handle the kernel produces (`MAX_HANDLE_SZ`).
pub const MAX_HANDLE_SZ: usize = 128;

/// Opens the file or directory a handle names with `flags` (`O_CLOEXEC` is added).
/// `mount` is any open descriptor on the same file system. A handle names an inode,
/// never a path, so nothing can be swapped in under it; a deleted file is `ESTALE`.
pub fn open_by_handle(
    mount: &OwnedFd,
    handle_type: i32,
    handle: &[u8],
    flags: i32,
) -> io::Result<OwnedFd> {
    if handle.len() > MAX_HANDLE_SZ {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut buf = HandleBuf::new();
    buf.set(handle_type, handle);
    // SAFETY: open_by_handle_at(2) with a live, correctly sized file_handle buffer.
    let fd = cvt(unsafe {
        libc::open_by_handle_at(mount.as_raw_fd(), buf.as_mut_ptr(), flags | libc::O_CLOEXEC)
    })?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens a directory to pass as the `mount` of [`open_by_handle`]: a real descriptor,
/// `O_RDONLY | O_DIRECTORY` (the kernel answers `EBADF` for an `O_PATH` one).
pub fn open_mount_dir(path: &Path) -> io::Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: open(2) of a NUL-terminated path; the result is checked.
    let fd = cvt(unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `struct file_handle` with room for the largest handle, 4-byte aligned.
struct HandleBuf {
    words: [u32; 2 + MAX_HANDLE_SZ / 4],
}

impl HandleBuf {
    fn new() -> Self {
        let mut words = [0u32; 2 + MAX_HANDLE_SZ / 4];
        words[0] = MAX_HANDLE_SZ as u32;
        Self { words }
    }

    fn set(&mut self, handle_type: i32, handle: &[u8]) {
        self.words[0] = handle.len() as u32;
        self.words[1] = handle_type as u32;
        let bytes = self.bytes_mut();
        bytes[..handle.len()].copy_from_slice(handle);
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the u32 array after the two header words is plain memory of
        // MAX_HANDLE_SZ bytes; u8 has no alignment requirement.
        unsafe {
            std::slice::from_raw_parts_mut(self.words[2..].as_mut_ptr().cast::<u8>(), MAX_HANDLE_SZ)
        }
    }

    fn as_mut_ptr(&mut self) -> *mut libc::file_handle {
        self.words.as_mut_ptr().cast()
    }
}

/// `name_to_handle_at`: the handle type and bytes of a file or directory.
pub fn handle_of(path: &Path) -> io::Result<(i32, Vec<u8>)> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = HandleBuf::new();
    let mut mount_id: libc::c_int = 0;
    // SAFETY: name_to_handle_at(2) with a NUL-terminated path, a file_handle buffer
    // whose handle_bytes says how much room follows, and a live mount id.
    cvt(unsafe {
        libc::name_to_handle_at(
            libc::AT_FDCWD,
            c.as_ptr(),
            buf.as_mut_ptr(),
            &mut mount_id,
            0,
        )
    })?;
    let len = (buf.words[0] as usize).min(MAX_HANDLE_SZ);
    let handle_type = buf.words[1] as i32;
    Ok((handle_type, buf.bytes_mut()[..len].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_file_handle_opens_the_same_file_after_a_rename_and_not_after_deletion() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.txt");
        std::fs::write(&path, b"contents").unwrap();
        let (handle_type, handle) = handle_of(&path).unwrap();
        let mount = open_mount_dir(tmp.path()).unwrap();
        let renamed = tmp.path().join("b.txt");
        std::fs::rename(&path, &renamed).unwrap();
        match open_by_handle(&mount, handle_type, &handle, libc::O_RDONLY) {
            Ok(fd) => {
                let mut text = String::new();
                std::fs::File::from(fd).read_to_string(&mut text).unwrap();
                assert_eq!(text, "contents");
            }
            // Without CAP_DAC_READ_SEARCH (not root) the kernel refuses handles.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => return,
            Err(e) => panic!("open_by_handle_at: {e}"),
        }
        std::fs::remove_file(&renamed).unwrap();
        let gone = open_by_handle(&mount, handle_type, &handle, libc::O_RDONLY).unwrap_err();
        assert_eq!(gone.raw_os_error(), Some(libc::ESTALE));
    }
}
