//! The kernel's process connector (netlink, `CN_IDX_PROC`): a message at every fork,
//! exec and exit on the machine. fanotify events are read after the fact, and by then
//! the `openssl` or `rm` a shell loop started for one file has often exited and left
//! `/proc`; the fork message says who its parent was, and the exec message arrives
//! while the process still exists, so its executable and command line can be read.
//! Without it (no permission, a container) the guard still works from `/proc` alone.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::fd::cvt;

/// One process life-cycle event, for whole processes (thread events are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcEvent {
    Fork { parent: u32, child: u32 },
    Exec { pid: u32 },
    Exit { pid: u32 },
}

const NLMSG_HDR: usize = 16;
const CN_MSG_HDR: usize = 20;
/// Offset of `event_data` in `struct proc_event` (what, cpu, timestamp_ns).
const EVENT_DATA: usize = 16;

/// An open, listening process-connector socket.
#[derive(Debug)]
pub struct ProcConnector {
    sock: OwnedFd,
}

impl ProcConnector {
    /// Opens the socket and subscribes; fails without CAP_NET_ADMIN or outside the
    /// initial namespaces.
    pub fn open() -> io::Result<Self> {
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_CONNECTOR,
            )
        })?;
        // SAFETY: a fresh descriptor that nothing else owns.
        let sock = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data; zeroed then filled.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = libc::CN_IDX_PROC;
        addr.nl_pid = 0;
        // SAFETY: bind(2) with a live sockaddr_nl and its size.
        cvt(unsafe {
            libc::bind(
                sock.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        })?;
        let mut msg = Vec::with_capacity(NLMSG_HDR + CN_MSG_HDR + 4);
        let total = (NLMSG_HDR + CN_MSG_HDR + 4) as u32;
        msg.extend_from_slice(&total.to_ne_bytes()); // nlmsg_len
        msg.extend_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes()); // nlmsg_type
        msg.extend_from_slice(&0u16.to_ne_bytes()); // nlmsg_flags
        msg.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_seq
        msg.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
        msg.extend_from_slice(&libc::CN_IDX_PROC.to_ne_bytes()); // id.idx
        msg.extend_from_slice(&libc::CN_VAL_PROC.to_ne_bytes()); // id.val
        msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
        msg.extend_from_slice(&0u32.to_ne_bytes()); // ack
        msg.extend_from_slice(&4u16.to_ne_bytes()); // len
        msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
        msg.extend_from_slice(&(libc::PROC_CN_MCAST_LISTEN).to_ne_bytes());
        // SAFETY: send(2) of a live buffer of its own length.
        let sent = unsafe { libc::send(sock.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self { sock })
    }

    pub fn raw(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Reads every message waiting on the socket, without blocking.
    pub fn drain(&self, mut each: impl FnMut(ProcEvent)) {
        let mut buf = [0u8; 8192];
        loop {
            // SAFETY: recv(2) into a live stack buffer of its own length.
            let n = unsafe {
                libc::recv(
                    self.sock.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => {
                        tracing::warn!("process connector overflowed; some forks were missed");
                        continue;
                    }
                    _ => return,
                }
            }
            if n == 0 {
                return;
            }
            for event in parse(&buf[..n as usize]) {
                each(event);
            }
        }
    }
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    buf.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_ne_bytes)
}

/// Parses one datagram of netlink messages carrying `struct proc_event`s.
pub fn parse(buf: &[u8]) -> Vec<ProcEvent> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + NLMSG_HDR <= buf.len() {
        let Some(len) = u32_at(buf, at).map(|l| l as usize) else {
            break;
        };
        if len < NLMSG_HDR || at + len > buf.len() {
            break;
        }
        let msg = &buf[at..at + len];
        let ev = NLMSG_HDR + CN_MSG_HDR;
        let data = ev + EVENT_DATA;
        if let Some(what) = u32_at(msg, ev) {
            let field = |i: usize| u32_at(msg, data + 4 * i);
            if what == libc::PROC_EVENT_FORK {
                // parent_pid, parent_tgid, child_pid, child_tgid
                if let (Some(ptgid), Some(cpid), Some(ctgid)) = (field(1), field(2), field(3)) {
                    if cpid == ctgid {
                        out.push(ProcEvent::Fork {
                            parent: ptgid,
                            child: ctgid,
                        });
                    }
                }
            } else if what == libc::PROC_EVENT_EXEC {
                if let Some(tgid) = field(1) {
                    out.push(ProcEvent::Exec { pid: tgid });
                }
            } else if what == libc::PROC_EVENT_EXIT {
                if let (Some(pid), Some(tgid)) = (field(0), field(1)) {
                    if pid == tgid {
                        out.push(ProcEvent::Exit { pid });
                    }
                }
            }
        }
        // Messages are aligned to 4 bytes.
        at += (len + 3) & !3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(what: u32, fields: &[u32]) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDR + CN_MSG_HDR + EVENT_DATA];
        let len = (m.len() + 4 * fields.len()) as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m[NLMSG_HDR + CN_MSG_HDR..NLMSG_HDR + CN_MSG_HDR + 4].copy_from_slice(&what.to_ne_bytes());
        for f in fields {
            m.extend_from_slice(&f.to_ne_bytes());
        }
        m
    }

    #[test]
    fn forks_of_processes_execs_and_exits_are_kept_threads_are_not() {
        let mut buf = message(libc::PROC_EVENT_FORK, &[10, 10, 11, 11]);
        buf.extend(message(libc::PROC_EVENT_FORK, &[10, 10, 12, 11]));
        buf.extend(message(libc::PROC_EVENT_EXEC, &[11, 11]));
        buf.extend(message(libc::PROC_EVENT_EXIT, &[11, 11, 0, 17, 10, 10]));
        buf.extend(message(libc::PROC_EVENT_EXIT, &[12, 11, 0, 17, 10, 10]));
        assert_eq!(
            parse(&buf),
            vec![
                ProcEvent::Fork {
                    parent: 10,
                    child: 11
                },
                ProcEvent::Exec { pid: 11 },
                ProcEvent::Exit { pid: 11 },
            ]
        );
    }

    #[test]
    fn truncated_input_is_ignored() {
        let buf = message(libc::PROC_EVENT_FORK, &[10, 10, 11, 11]);
        assert!(parse(&buf[..buf.len() - 3]).is_empty());
        assert!(parse(&[1, 2, 3]).is_empty());
    }
}
