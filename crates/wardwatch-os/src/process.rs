//! Processes: a pidfd to signal exactly the process meant (never one that reused its
//! pid), and the nice value of the calling thread.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A descriptor that refers to one process for as long as it is open, so a signal
/// cannot reach a stranger that reused the pid.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) with a pid and no flags; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `signal` through a pidfd.
pub fn pidfd_send_signal(pidfd: &OwnedFd, signal: libc::c_int) -> io::Result<()> {
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

/// Gives the calling thread the nice value `nice`; threads it starts afterwards inherit
/// it. On Linux the nice value belongs to the thread, not the process. Without the
/// privilege to raise it, the guard runs at normal priority and says so once.
pub fn set_thread_nice(nice: i32, what: &str) {
    // SAFETY: gettid(2) has no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    // SAFETY: setpriority(2) on our own thread id.
    let ret = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) };
    if ret != 0 {
        tracing::debug!(
            thread = what,
            error = %io::Error::last_os_error(),
            "cannot raise the thread's priority; it runs at normal priority"
        );
    }
}
