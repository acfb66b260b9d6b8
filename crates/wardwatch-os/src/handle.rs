//! File handles (name_to_handle_at, open_by_handle_at): fanotify names directories by
//! handle, which stays valid when the directory is renamed; these turn a path into a
//! handle and a handle back into an open directory.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::fd::cvt;

/// Largest file handle the kernel produces (`MAX_HANDLE_SZ`).
pub const MAX_HANDLE_SZ: usize = 128;

/// Opens the directory a handle names, as an `O_PATH` descriptor. `mount` is any open
/// descriptor on the same file system.
pub fn open_by_handle(mount: &OwnedFd, handle_type: i32, handle: &[u8]) -> io::Result<OwnedFd> {
    if handle.len() > MAX_HANDLE_SZ {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut buf = HandleBuf::new();
    buf.set(handle_type, handle);
    // SAFETY: open_by_handle_at(2) with a live, correctly sized file_handle buffer.
    let fd = cvt(unsafe {
        libc::open_by_handle_at(
            mount.as_raw_fd(),
            buf.as_mut_ptr(),
            libc::O_PATH | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `open(path, O_PATH | O_DIRECTORY)`.
pub fn open_dir_path(path: &Path) -> io::Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: open(2) of a NUL-terminated path; the result is checked.
    let fd = cvt(unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
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

/// `name_to_handle_at` for a directory: its handle type and bytes.
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
