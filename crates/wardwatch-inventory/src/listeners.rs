//! Listening sockets from `/proc/net/{tcp,tcp6,udp,udp6}` and the processes owning them.
//!
//! The kernel's tables are read directly (no `ss`/`netstat`, which may be absent). The
//! owner of a socket is found by scanning `/proc/<pid>/fd` for `socket:[inode]` links; an
//! agent without root sees only its own user's processes, and then reports no pid.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use wardwatch_proto::Listener;

use super::{read_optional, CollectError, CollectRoot};

/// `TCP_LISTEN` in the kernel's `st` column.
const TCP_LISTEN: u8 = 0x0A;
/// `TCP_CLOSE`: what an unconnected (bound) UDP socket shows.
const UDP_UNCONNECTED: u8 = 0x07;

/// Listening TCP and bound UDP sockets, with their owners, deduplicated and sorted.
pub fn collect(root: &CollectRoot) -> Result<Vec<Listener>, CollectError> {
    let mut found = Vec::new();
    for (file, protocol, udp) in [
        ("net/tcp", "tcp", false),
        ("net/tcp6", "tcp", false),
        ("net/udp", "udp", true),
        ("net/udp6", "udp", true),
    ] {
        // tcp6/udp6 are absent when IPv6 is disabled.
        if let Some(text) = read_optional(&root.proc_path(file))? {
            found.extend(parse_proc_net(&text, protocol, udp));
        }
    }
    // Unconnected UDP client sockets (a resolver's query socket) look like bound
    // servers; the kernel hands them ports from the ephemeral range, so those are left
    // out rather than reported as a new service every few minutes.
    let ephemeral = read_optional(&root.proc_path("sys/net/ipv4/ip_local_port_range"))?
        .and_then(|text| parse_port_range(&text));
    if let Some((low, high)) = ephemeral {
        found.retain(|(l, _)| !(l.protocol == "udp" && (low..=high).contains(&l.port)));
    }
    let wanted: HashSet<u64> = found
        .iter()
        .map(|(_, inode)| *inode)
        .filter(|inode| *inode != 0)
        .collect();
    let owners = socket_owners(&root.proc_dir, &wanted);
    let mut listeners: Vec<Listener> = found
        .into_iter()
        .map(|(mut listener, inode)| {
            if let Some((pid, process)) = owners.get(&inode) {
                listener.pid = Some(*pid);
                listener.process = process.clone();
            }
            listener
        })
        .collect();
    sort_and_dedup(&mut listeners);
    Ok(listeners)
}

/// Parses `ip_local_port_range`: two numbers, low and high.
fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().ok());
    match (parts.next()??, parts.next()??) {
        (low, high) if low <= high => Some((low, high)),
        _ => None,
    }
}

/// One entry per (protocol, address, port), keeping the lowest known owning pid: several
/// sockets share a port with `SO_REUSEPORT`, and a forked server's workers share its
/// socket.
fn sort_and_dedup(listeners: &mut Vec<Listener>) {
    listeners.sort_by(|a, b| {
        a.key()
            .cmp(&b.key())
            .then_with(|| match (a.pid, b.pid) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.process.cmp(&b.process))
    });
    listeners.dedup_by(|later, earlier| later.key() == earlier.key());
}

/// Parses one `/proc/net/{tcp,tcp6,udp,udp6}` table into listening sockets (without
/// owner) and their socket inodes. `udp` selects the UDP notion of listening: unconnected
/// (state 07) with no remote address. Malformed lines are skipped with a warning.
pub fn parse_proc_net(text: &str, protocol: &str, udp: bool) -> Vec<(Listener, u64)> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // Header: "sl local_address rem_address st ...".
        if fields.first().is_none_or(|f| !f.ends_with(':')) {
            continue;
        }
        match parse_line(&fields, udp) {
            Some(Some((address, port, inode))) => out.push((
                Listener {
                    protocol: protocol.to_owned(),
                    address: address.to_string(),
                    port,
                    pid: None,
                    process: None,
                },
                inode,
            )),
            Some(None) => {}
            None => tracing::warn!(
                protocol,
                line = index + 1,
                "malformed /proc/net line skipped"
            ),
        }
    }
    out
}

/// `None` when malformed; `Some(None)` for a socket that is not listening.
fn parse_line(fields: &[&str], udp: bool) -> Option<Option<(IpAddr, u16, u64)>> {
    let (local, remote, state, inode) = (
        fields.get(1)?,
        fields.get(2)?,
        fields.get(3)?,
        fields.get(9)?,
    );
    let state = u8::from_str_radix(state, 16).ok()?;
    let (address, port) = parse_endpoint(local)?;
    let (remote_address, remote_port) = parse_endpoint(remote)?;
    let inode: u64 = inode.parse().ok()?;
    let listening = if udp {
        state == UDP_UNCONNECTED && remote_port == 0 && remote_address.is_unspecified()
    } else {
        state == TCP_LISTEN
    };
    Some(listening.then_some((address, port, inode)))
}

/// `0100007F:0277` → 127.0.0.1:631. The kernel prints each 32-bit word of the address
/// as a native-endian integer and the port in host order.
fn parse_endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let address = match address.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(address)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(address.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((address, port))
}

/// Eight hex digits as the four address bytes they stand for in memory.
fn word(hex: &str) -> Option<[u8; 4]> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
}

/// Maps the wanted socket inodes to the lowest pid holding them and its `comm`.
/// Processes that vanish or deny access while being scanned are skipped.
fn socket_owners(proc_dir: &Path, wanted: &HashSet<u64>) -> HashMap<u64, (u32, Option<String>)> {
    let mut owners = HashMap::new();
    if wanted.is_empty() {
        return owners;
    }
    let mut pids: Vec<u32> = match std::fs::read_dir(proc_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect(),
        Err(e) => {
            tracing::warn!(proc = %proc_dir.display(), error = %e, "cannot list processes; listeners without owners");
            return owners;
        }
    };
    pids.sort_unstable();
    for pid in pids {
        let pid_dir = proc_dir.join(pid.to_string());
        let Ok(fds) = std::fs::read_dir(pid_dir.join("fd")) else {
            continue; // permission denied (other user's process) or exited
        };
        for fd in fds.filter_map(Result::ok) {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
            else {
                continue;
            };
            if wanted.contains(&inode) && !owners.contains_key(&inode) {
                let comm = std::fs::read_to_string(pid_dir.join("comm"))
                    .ok()
                    .map(|c| c.trim_end_matches('\n').to_owned());
                owners.insert(inode, (pid, comm));
            }
        }
        if owners.len() == wanted.len() {
            break;
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21434 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19012 1 0000000000000000 100 0 0 10 0
   2: 0F02000A:0016 0202000A:D4C2 01 00000000:00000000 02:0004F9B1 00000000     0        0 31415 4 0000000000000000 20 4 30 10 -1
   3: 0F02000A:0016 0202000A:D4C4 06 00000000:00000000 03:00001639 00000000     0        0 0 3 0000000000000000
   4: garbage
";

    const TCP6: &str = "\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21436 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19013 1 0000000000000000 100 0 0 10 0
   2: B80D0120000000000000000010000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 40404 1 0000000000000000 100 0 0 10 0
   3: 0000000000000000FFFF00000F02000A:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 40405 1 0000000000000000 100 0 0 10 0
";

    const UDP: &str = "\
   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 18000 2 0000000000000000 0
  456: 0F02000A:A1B2 08080808:0035 01 00000000:00000000 00:00000000 00000000  1000        0 18001 2 0000000000000000 0
  789: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 18002 2 0000000000000000 0
";

    type ListenerRow<'a> = (&'a str, &'a str, u16, Option<u32>, Option<&'a str>);

    fn summary(entries: &[(Listener, u64)]) -> Vec<(String, String, u16, u64)> {
        entries
            .iter()
            .map(|(l, inode)| (l.protocol.clone(), l.address.clone(), l.port, *inode))
            .collect()
    }

    fn row(protocol: &str, address: &str, port: u16, inode: u64) -> (String, String, u16, u64) {
        (protocol.into(), address.into(), port, inode)
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_tcp_listeners() {
        assert_eq!(
            summary(&parse_proc_net(TCP, "tcp", false)),
            vec![
                row("tcp", "0.0.0.0", 22, 21434),
                row("tcp", "127.0.0.1", 631, 19012)
            ]
        );
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_tcp6_listeners() {
        assert_eq!(
            summary(&parse_proc_net(TCP6, "tcp", false)),
            vec![
                row("tcp", "::", 22, 21436),
                row("tcp", "::1", 631, 19013),
                row("tcp", "2001:db8::10", 443, 40404),
                row("tcp", "::ffff:10.0.2.15", 8080, 40405),
            ]
        );
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_bound_udp_only() {
        assert_eq!(
            summary(&parse_proc_net(UDP, "udp", true)),
            vec![
                row("udp", "0.0.0.0", 68, 18000),
                row("udp", "127.0.0.53", 53, 18002)
            ]
        );
        // A TCP table's LISTEN rows are not UDP listeners.
        assert!(parse_proc_net(TCP, "udp", true).is_empty());
    }

    #[test]
    fn rejects_bad_endpoints() {
        assert!(parse_endpoint("0100007F").is_none());
        assert!(parse_endpoint("0100007F:XYZW").is_none());
        assert!(parse_endpoint("01007F:0016").is_none());
        assert!(parse_endpoint("+100007F:0016").is_none());
        assert!(parse_endpoint("ÄÄ0000000000000000000000000000:0016").is_none());
        for text in ["", "\n", "0: a b c d e f g h i j k\n", "  sl\n 1:\n"] {
            assert!(parse_proc_net(text, "tcp", false).is_empty());
        }
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn finds_owners_and_dedups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let proc_dir = dir.path().join("proc");
        std::fs::create_dir_all(proc_dir.join("net")).expect("mkdir");
        std::fs::write(proc_dir.join("net/tcp"), TCP).expect("tcp");
        std::fs::write(proc_dir.join("net/udp"), UDP).expect("udp");
        // sshd master (pid 700) and a forked child (pid 900) share the socket.
        for (pid, comm, fds) in [
            (900, "sshd", vec![("3", "socket:[21434]")]),
            (
                700,
                "sshd",
                vec![("3", "socket:[21434]"), ("4", "/dev/null")],
            ),
            (
                1200,
                "cupsd",
                vec![("7", "socket:[19012]"), ("8", "pipe:[5]")],
            ),
        ] {
            let fd_dir = proc_dir.join(format!("{pid}/fd"));
            std::fs::create_dir_all(&fd_dir).expect("fd dir");
            std::fs::write(proc_dir.join(format!("{pid}/comm")), format!("{comm}\n"))
                .expect("comm");
            for (fd, target) in fds {
                std::os::unix::fs::symlink(target, fd_dir.join(fd)).expect("symlink");
            }
        }
        // A process whose fd directory cannot be listed (here: it is a file).
        std::fs::create_dir_all(proc_dir.join("1300")).expect("pid dir");
        std::fs::write(proc_dir.join("1300/fd"), "").expect("fd file");

        let listeners = collect(&CollectRoot::at(dir.path())).expect("listeners");
        let got: Vec<ListenerRow> = listeners
            .iter()
            .map(|l| {
                (
                    l.protocol.as_str(),
                    l.address.as_str(),
                    l.port,
                    l.pid,
                    l.process.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("tcp", "0.0.0.0", 22, Some(700), Some("sshd")),
                ("tcp", "127.0.0.1", 631, Some(1200), Some("cupsd")),
                ("udp", "0.0.0.0", 68, None, None),
                ("udp", "127.0.0.53", 53, None, None),
            ]
        );

        let mut dupes = vec![
            Listener {
                protocol: "udp".into(),
                address: "0.0.0.0".into(),
                port: 5353,
                pid: None,
                process: None,
            },
            Listener {
                protocol: "udp".into(),
                address: "0.0.0.0".into(),
                port: 5353,
                pid: Some(812),
                process: Some("avahi-daemon".into()),
            },
        ];
        sort_and_dedup(&mut dupes);
        assert_eq!(dupes.len(), 1);
        assert_eq!(dupes[0].pid, Some(812));
    }

    #[test]
    fn live_listeners_are_readable() {
        let listeners = collect(&CollectRoot::live()).expect("live listeners");
        let mut sorted = listeners.clone();
        sort_and_dedup(&mut sorted);
        assert_eq!(sorted, listeners);
    }

    #[test]
    fn ephemeral_port_range_parses() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("garbage"), None);
    }
}
