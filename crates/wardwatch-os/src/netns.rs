//! Network namespaces: the calling thread enters a named one (`ip netns add NAME`), so
//! that the sockets it opens afterwards live there. For tests and tools that must act
//! inside a namespace they made, never on the machine's own network.

use std::io;
use std::os::fd::AsRawFd;

/// Moves the calling thread into the network namespace `/run/netns/NAME`.
pub fn enter_named(name: &str) -> io::Result<()> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a network namespace name"),
        ));
    }
    let file = std::fs::File::open(format!("/run/netns/{name}"))?;
    // SAFETY: setns(2) on a descriptor we hold open, for the calling thread only.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
