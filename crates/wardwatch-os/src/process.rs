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

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    effective_uid() == 0
}

/// The effective uid of this process.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid(2) has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// Clock ticks per second, the unit of the times in `/proc/PID/stat`.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf(3) with a constant name.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// CPU time the calling thread has used.
pub fn thread_cpu_time() -> std::time::Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time the whole process (every thread) has used.
pub fn process_cpu_time() -> std::time::Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_clock(clock: libc::clockid_t) -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime of a CPU-time clock into a live timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    std::time::Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Lowers the calling thread to the idle CPU priority (nice 19) and the idle I/O class,
/// so that background work only uses what the terminal's users leave.
pub fn lower_thread_to_idle() {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    const IOPRIO_CLASS_IDLE: libc::c_long = 3;
    // SAFETY: gettid(2) has no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    // SAFETY: setpriority(2) on our own thread id; a refusal keeps the current value.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19) };
    // SAFETY: ioprio_set(IOPRIO_WHO_PROCESS, tid, IOPRIO_CLASS_IDLE << 13) on our own
    // thread; a refusal keeps the current class.
    unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            tid as libc::c_long,
            IOPRIO_CLASS_IDLE << 13,
        )
    };
}

/// The open-file limit (RLIMIT_NOFILE): soft and hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFileLimit {
    pub soft: u64,
    /// `None`: unlimited.
    pub hard: Option<u64>,
}

/// `rlim_t` is `u64` on 64-bit Linux and narrower on some 32-bit targets.
#[allow(clippy::unnecessary_cast)]
fn widen(value: libc::rlim_t) -> u64 {
    value as u64
}

/// Reads the open-file limit.
pub fn open_file_limit() -> io::Result<OpenFileLimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(OpenFileLimit {
        soft: widen(limit.rlim_cur),
        hard: (limit.rlim_max != libc::RLIM_INFINITY).then(|| widen(limit.rlim_max)),
    })
}

/// Sets the soft open-file limit, keeping the hard one.
pub fn set_open_file_soft_limit(soft: u64) -> io::Result<()> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let raised = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes glibc's allocator hand blocks of `bytes` and more straight back to the kernel
/// when freed (M_MMAP_THRESHOLD), instead of raising that threshold and keeping large
/// blocks in per-thread arenas. No effect on other C libraries.
pub fn return_blocks_from(bytes: i32) {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes an allocator setting; a refusal (0) leaves the default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, bytes);
    }
    #[cfg(not(target_env = "gnu"))]
    let _ = bytes;
}

/// CPU time (user + system) of the children this process has waited for.
pub fn children_cpu_time() -> io::Result<std::time::Duration> {
    // SAFETY: rusage is plain integers; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage(2) fills the struct we own; RUSAGE_CHILDREN is a valid target.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(timeval(usage.ru_utime) + timeval(usage.ru_stime))
}

fn timeval(t: libc::timeval) -> std::time::Duration {
    std::time::Duration::from_micros(t.tv_sec.max(0) as u64 * 1_000_000 + t.tv_usec.max(0) as u64)
}

/// What `wait_for` learned of a child that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildUsage {
    /// Its exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    pub user: std::time::Duration,
    pub system: std::time::Duration,
    /// Peak resident memory, in KiB.
    pub max_rss_kib: u64,
}

/// Waits for one child of this process by pid (wait4(2)), with its resource usage.
pub fn wait_for(pid: u32) -> io::Result<ChildUsage> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain integers; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4(2) on a pid, writing into the two locals above.
        let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if got == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    Ok(ChildUsage {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
    })
}

/// Sends SIGTERM to a child this process started and still holds (so the pid cannot
/// have been reused: an unwaited child stays a zombie).
pub fn terminate_child(child: &std::process::Child) -> io::Result<()> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) on our own child's pid.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_waited_for_with_its_exit_code_and_usage() {
        let child = std::process::Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .unwrap();
        let usage = wait_for(child.id()).unwrap();
        std::mem::forget(child); // reaped by wait_for above
        assert_eq!(usage.code, Some(3));
        assert!(usage.max_rss_kib > 0);
    }

    #[test]
    fn the_open_file_limit_reads_back_what_was_set() {
        let before = open_file_limit().unwrap();
        set_open_file_soft_limit(before.soft).unwrap();
        assert_eq!(open_file_limit().unwrap(), before);
        assert!(clock_ticks_per_second() > 0);
    }
}
