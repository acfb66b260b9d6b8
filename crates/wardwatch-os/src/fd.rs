//! Thin safe wrappers over the descriptor calls std does not offer (eventfd, poll,
//! pread into a buffer of a known size, the path of an open descriptor). Each returns `io::Error` and leaves the
//! naming of the path to the caller.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// Turns a `-1` return into the thread's `errno`.
pub fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wakes the blocking reader threads when the guard stops: they poll it beside their
/// own descriptor, so a stop never waits for the next file system event.
#[derive(Debug)]
pub struct Stopper {
    fd: OwnedFd,
}

impl Stopper {
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd(2) with constant flags; the result is checked before use.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        Ok(Self {
            // SAFETY: a fresh descriptor that nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn fire(&self) {
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

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Resets a counter used as a repeated wake-up (the stop is never drained).
    pub fn drain(&self) {
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
pub enum Wake {
    Readable,
    Stop,
    Timeout,
}

/// Waits until `fd` is readable, the stopper fired, or `timeout_ms` passed (-1: never).
pub fn wait_readable(fd: RawFd, stop: &Stopper, timeout_ms: i32) -> io::Result<Wake> {
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
pub fn poll_readable<const N: usize>(fds: [RawFd; N], timeout_ms: i32) -> io::Result<[bool; N]> {
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
pub fn queued_bytes(fd: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: ioctl(2) FIONREAD writes one int into a live local.
    cvt(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) })?;
    Ok(n.max(0) as usize)
}

/// `read(2)` into `buf`; `Ok(0)` when nothing is ready on a non-blocking descriptor.
pub fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
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
pub fn fd_path(fd: RawFd) -> io::Result<(PathBuf, bool)> {
    let link = match own_fd_dir() {
        Some(dir) => match readlink_at(dir, &fd.to_string())? {
            Some(link) => link,
            None => std::fs::read_link(format!("/proc/self/fd/{fd}"))?,
        },
        None => std::fs::read_link(format!("/proc/self/fd/{fd}"))?,
    };
    Ok(strip_deleted(link))
}

/// This process's `/proc/<pid>/fd`, opened once: the guard asks for the path of every
/// file written, and walking `/proc/self/fd/N` from the root each time was most of the
/// cost of asking. None in a process other than the one that opened it (a fork).
fn own_fd_dir() -> Option<RawFd> {
    static DIR: std::sync::OnceLock<Option<(u32, OwnedFd)>> = std::sync::OnceLock::new();
    let (pid, dir) = DIR
        .get_or_init(|| {
            let pid = std::process::id();
            let path = CString::new(format!("/proc/{pid}/fd")).ok()?;
            // SAFETY: open with a NUL-terminated path; the descriptor returned is owned.
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
                )
            };
            // SAFETY: a descriptor just returned by open and owned by nobody else.
            (fd >= 0).then(|| (pid, unsafe { OwnedFd::from_raw_fd(fd) }))
        })
        .as_ref()?;
    (*pid == std::process::id()).then(|| dir.as_raw_fd())
}

/// `readlinkat(dir, name)`; None when the target does not fit `PATH_MAX` bytes.
fn readlink_at(dir: RawFd, name: &str) -> io::Result<Option<PathBuf>> {
    use std::os::unix::ffi::OsStrExt;
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = [0u8; libc::PATH_MAX as usize];
    // SAFETY: readlinkat writes at most buf.len() bytes into buf, which lives meanwhile.
    let n = unsafe {
        libc::readlinkat(
            dir,
            name.as_ptr(),
            buf.as_mut_ptr().cast::<libc::c_char>(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    if n >= buf.len() {
        return Ok(None);
    }
    Ok(Some(PathBuf::from(std::ffi::OsStr::from_bytes(&buf[..n]))))
}

/// Removes the " (deleted)" the kernel appends to links of unlinked files.
pub fn strip_deleted(link: PathBuf) -> (PathBuf, bool) {
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
pub fn read_block(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let filled = read_into(file, offset, &mut buf)?;
    buf.truncate(filled);
    Ok(buf)
}

/// Fills `buf` from `offset` on, as far as the file goes; the bytes read. For loops
/// over a file that reuse one buffer instead of zeroing a new one per block.
pub fn read_into(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Opens a file for reading without following a final symlink and, when allowed,
/// without updating its access time (so the guard's reads do not look like use).
pub fn open_for_reading(path: &std::path::Path) -> io::Result<File> {
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

/// Takes an exclusive `flock` on `file` without waiting: `Ok(false)` when another
/// process holds it. The kernel drops the lock when the descriptor closes, however the
/// process ends.
pub fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    flock(file, true, false)
}

/// Takes a `flock` on `file`, shared or exclusive; waits for it when `wait`, else
/// returns `Ok(false)` when another open of the file holds a conflicting lock (also one
/// in this process: locks belong to the open file, not to the process).
pub fn flock(file: &File, exclusive: bool, wait: bool) -> io::Result<bool> {
    let mut op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    if !wait {
        op |= libc::LOCK_NB;
    }
    loop {
        // SAFETY: flock(2) on a descriptor borrowed for the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) if !wait => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

/// Whether the calling process may write into `path` (access(2) with `W_OK`).
pub fn may_write(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access(2) with a NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Sets the owner of an open file (fchown(2)).
pub fn set_owner(file: &File, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: fchown on a descriptor borrowed for the call.
    cvt(unsafe { libc::fchown(file.as_raw_fd(), uid, gid) }).map(drop)
}

/// Sets the mode bits of an open file, set-id bits included (fchmod(2)).
pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    // SAFETY: fchmod on a descriptor borrowed for the call.
    cvt(unsafe { libc::fchmod(file.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// Sets the access and modification times of an open file, in nanoseconds since the
/// epoch (futimens(2)).
pub fn set_times(file: &File, atime_ns: i128, mtime_ns: i128) -> io::Result<()> {
    let ts = |ns: i128| libc::timespec {
        tv_sec: ns.div_euclid(1_000_000_000) as libc::time_t,
        tv_nsec: ns.rem_euclid(1_000_000_000) as libc::c_long,
    };
    let times = [ts(atime_ns), ts(mtime_ns)];
    // SAFETY: futimens on a descriptor borrowed for the call, with two live timespecs.
    cvt(unsafe { libc::futimens(file.as_raw_fd(), times.as_ptr()) }).map(drop)
}

/// Tells the kernel the file's cached pages will not be needed again, so that reading
/// a whole tree once does not push the terminal's working set out of memory.
pub fn drop_cached_pages(file: &File) {
    // SAFETY: advice on a descriptor borrowed for the call; failure is harmless.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

/// The file system type of `path` (statfs(2) `f_type`, the magic numbers of
/// linux/magic.h).
pub fn file_system_type(path: &std::path::Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a statfs struct is plain integers, for which all zeroes is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: statfs writes into the struct it is given; the path is NUL-terminated.
    cvt(unsafe { libc::statfs(c.as_ptr(), &mut st) })?;
    #[allow(clippy::unnecessary_cast)] // f_type's width differs between targets
    Ok(st.f_type as u64)
}

/// Makes a named pipe (mkfifo(3)), mode `mode`.
pub fn make_fifo(path: &std::path::Path, mode: u32) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: mkfifo with a NUL-terminated path.
    cvt(unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// Bytes an unprivileged writer can still store on the file system holding `file`
/// (statvfs' available blocks: the blocks kept for root are not counted).
pub fn available_space(file: &File) -> io::Result<u64> {
    // SAFETY: an all-zero statvfs is a valid value to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatvfs on a live descriptor into a live struct.
    cvt(unsafe { libc::fstatvfs(file.as_raw_fd(), &mut st) })?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_file_names_its_path_and_whether_it_was_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a name with spaces.txt");
        let file = File::create(&path).unwrap();
        let canonical = std::fs::canonicalize(&path).unwrap();
        assert_eq!(
            fd_path(file.as_raw_fd()).unwrap(),
            (canonical.clone(), false)
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(fd_path(file.as_raw_fd()).unwrap(), (canonical, true));
        assert!(fd_path(-1).is_err());
    }

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
    #[test]
    fn an_exclusive_lock_is_refused_to_a_second_holder_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let first = File::create(&path).unwrap();
        let second = File::open(&path).unwrap();
        assert!(try_lock_exclusive(&first).unwrap());
        assert!(!try_lock_exclusive(&second).unwrap());
        drop(first);
        assert!(try_lock_exclusive(&second).unwrap());
    }

    #[test]
    fn mode_and_times_are_set_through_the_descriptor() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        set_mode(&file, 0o640).unwrap();
        set_times(&file, 1_000_000_000_500, -1_500_000_000).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o640);
        assert_eq!((meta.atime(), meta.atime_nsec()), (1000, 500));
        assert_eq!((meta.mtime(), meta.mtime_nsec()), (-2, 500_000_000));
    }

    #[test]
    fn proc_is_recognised_and_a_fifo_is_made() {
        assert_eq!(
            file_system_type(std::path::Path::new("/proc")).unwrap(),
            0x9fa0
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p");
        make_fifo(&fifo, 0o600).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        assert!(may_write(dir.path()));
    }
}
