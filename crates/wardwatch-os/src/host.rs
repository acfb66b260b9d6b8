//! What the kernel says of this machine: its name and release (uname(2)) and the
//! addresses of its network interfaces (getifaddrs(3)).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The fields of uname(2) the inventory reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uname {
    pub release: String,
    pub machine: String,
    pub nodename: String,
}

pub fn uname() -> io::Result<Uname> {
    // SAFETY: `utsname` is plain old data (arrays of chars); all zeroes is a valid value.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid, writable utsname owned by this frame.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Uname {
        release: c_chars(&uts.release),
        machine: c_chars(&uts.machine),
        nodename: c_chars(&uts.nodename),
    })
}

/// A NUL-terminated `c_char` array as text; reads no further than the array.
fn c_chars(field: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .map(|c| c.to_ne_bytes()[0])
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The IPv4 and IPv6 addresses of every interface that is not a loopback, in the
/// kernel's order (duplicates possible).
pub fn interface_addresses() -> io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `head` is a valid out-pointer; on success the list is freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = Vec::new();
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cursor };
        cursor = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_flags & (libc::IFF_LOOPBACK as libc::c_uint) != 0 {
            continue;
        }
        // SAFETY: `ifa_addr` is non-null and points to a sockaddr of the list.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        match family {
            libc::AF_INET => {
                // SAFETY: family AF_INET means the sockaddr is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                found.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))));
            }
            libc::AF_INET6 => {
                // SAFETY: family AF_INET6 means the sockaddr is a sockaddr_in6.
                let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                found.push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
            }
            _ => {}
        }
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed exactly once; no
    // reference into the list outlives this point.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_machine_has_a_name_and_a_machine_type() {
        let uts = super::uname().unwrap();
        assert!(!uts.machine.is_empty());
        assert!(!uts.release.is_empty());
    }
}
