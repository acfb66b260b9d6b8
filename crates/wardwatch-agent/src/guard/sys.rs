//! Thin safe wrappers over the few system calls std does not offer (eventfd, poll,
//! pidfd, pread into a buffer of a known size). Each returns `io::Error` and leaves the
//! naming of the path to the caller.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// Turns a `-1` return into the thread's `errno`.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wakes the blocking reader threads when the guard stops: they poll it beside their
/// own descriptor, so a stop never waits for the next file system event.
#[derive(Debug)]
pub(crate) struct Stopper {
    fd: OwnedFd,
}

impl Stopper {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: eventfd(2) with constant flags; the result is checked before use.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        Ok(Self {
            // SAFETY: a fresh descriptor that nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub(crate) fn fire(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own eventfd.
        unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                (&one as *const u64).cast(),
                std::mem::size_of::<u64>(),
            );
        }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Resets a counter used as a repeated wake-up (the stop is never drained).
    pub(crate) fn drain(&self) {
        let mut value: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from our own non-blocking eventfd.
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut value as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            );
        }
    }
}

/// What `wait_readable` saw.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    Readable,
    Stop,
    Timeout,
}

/// Waits until `fd` is readable, the stopper fired, or `timeout_ms` passed (-1: never).
pub(crate) fn wait_readable(fd: RawFd, stop: &Stopper, timeout_ms: i32) -> io::Result<Wake> {
    let mut fds = [
        libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: stop.raw(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: poll(2) on two pollfd structs that live on this stack frame.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(Wake::Timeout);
        }
        if fds[1].revents != 0 {
            return Ok(Wake::Stop);
        }
        return Ok(Wake::Readable);
    }
}

/// Waits until one of `fds` is readable or `timeout_ms` passed (-1: never); returns
/// which are readable.
pub(crate) fn poll_readable<const N: usize>(
    fds: [RawFd; N],
    timeout_ms: i32,
) -> io::Result<[bool; N]> {
    let mut polled = fds.map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: poll(2) on N pollfd structs that live on this stack frame.
        let n = unsafe { libc::poll(polled.as_mut_ptr(), N as libc::nfds_t, timeout_ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(polled.map(|p| p.revents != 0));
    }
}

/// Bytes waiting to be read on a descriptor (`FIONREAD`; fanotify groups support it).
pub(crate) fn queued_bytes(fd: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: ioctl(2) FIONREAD writes one int into a live local.
    cvt(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) })?;
    Ok(n.max(0) as usize)
}

/// `read(2)` into `buf`; `Ok(0)` when nothing is ready on a non-blocking descriptor.
pub(crate) fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: reads at most buf.len() bytes into a live mutable buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// The path a descriptor refers to, as the kernel shows it in `/proc/self/fd`. A file
/// unlinked since it was opened ends in " (deleted)"; that suffix is removed and
/// reported in the flag.
pub(crate) fn fd_path(fd: RawFd) -> io::Result<(PathBuf, bool)> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}"))?;
    Ok(strip_deleted(link))
}

/// Removes the " (deleted)" the kernel appends to links of unlinked files.
pub(crate) fn strip_deleted(link: PathBuf) -> (PathBuf, bool) {
    use std::os::unix::ffi::OsStrExt;
    let bytes = link.as_os_str().as_bytes();
    match bytes.strip_suffix(b" (deleted)") {
        Some(rest) => (
            PathBuf::from(std::ffi::OsStr::from_bytes(rest).to_os_string()),
            true,
        ),
        None => (link, false),
    }
}

/// Reads up to `len` bytes at `offset`, fewer only at the end of the file.
pub(crate) fn read_block(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Opens a file for reading without following a final symlink and, when allowed,
/// without updating its access time (so the guard's reads do not look like use).
pub(crate) fn open_for_reading(path: &std::path::Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = |flags| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)
    };
    match open(libc::O_NOFOLLOW | libc::O_NOATIME | libc::O_CLOEXEC) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(libc::O_NOFOLLOW | libc::O_CLOEXEC),
        other => other,
    }
}

/// A descriptor that refers to one process for as long as it is open, so a signal
/// cannot reach a stranger that reused the pid.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) with a pid and no flags; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `signal` through a pidfd.
pub(crate) fn pidfd_send_signal(pidfd: &OwnedFd, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: pidfd_send_signal(2) on a pidfd we own, no siginfo, no flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The fsid the kernel reports in fanotify events for the file system holding `path`.
pub(crate) fn fsid_of(path: &std::path::Path) -> io::Result<[u8; 8]> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: statfs is plain data; zeroed is a valid value before the call fills it.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: statfs(2) with a NUL-terminated path and a live out-struct.
    cvt(unsafe { libc::statfs(c.as_ptr(), &mut st) })?;
    // SAFETY: fsid_t is two c_ints (8 bytes) with private fields; copy its bytes.
    Ok(unsafe { std::mem::transmute::<libc::fsid_t, [u8; 8]>(st.f_fsid) })
}

/// Milliseconds since the Unix epoch.
pub(crate) fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Nice value of the guard's event path: ahead of a process tree that keeps every
/// core busy encrypting, so that the guard sees and stops it within a few files.
/// (A real-time class would be faster still, but a fault in the guard must never be
/// able to starve the terminal.)
pub(crate) const GUARD_NICE: libc::c_int = -15;

/// Gives the calling thread the guard's priority; threads it starts afterwards inherit
/// it. On Linux the nice value belongs to the thread, not the process. Without the
/// privilege to raise it, the guard runs at normal priority and says so once.
pub(crate) fn raise_thread_priority(what: &str) {
    // SAFETY: gettid(2) has no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    // SAFETY: setpriority(2) on our own thread id.
    let ret = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, GUARD_NICE) };
    if ret != 0 {
        tracing::debug!(
            thread = what,
            error = %io::Error::last_os_error(),
            "cannot raise the guard's priority; it runs at normal priority"
        );
    }
}

/// Answers a fanotify permission event on `group`: let the access happen or refuse it
/// (the process gets `EPERM`).
pub(crate) fn fanotify_respond(group: RawFd, event_fd: RawFd, allow: bool) -> io::Result<()> {
    let response = libc::fanotify_response {
        fd: event_fd,
        response: if allow {
            libc::FAN_ALLOW
        } else {
            libc::FAN_DENY
        },
    };
    // SAFETY: writes one live fanotify_response to the caller's group.
    let written = unsafe {
        libc::write(
            group,
            (&response as *const libc::fanotify_response).cast(),
            std::mem::size_of::<libc::fanotify_response>(),
        )
    };
    if written < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_suffix_is_removed_and_reported() {
        assert_eq!(
            strip_deleted(PathBuf::from("/d/a.pdf (deleted)")),
            (PathBuf::from("/d/a.pdf"), true)
        );
        assert_eq!(
            strip_deleted(PathBuf::from("/d/a.pdf")),
            (PathBuf::from("/d/a.pdf"), false)
        );
    }
}
