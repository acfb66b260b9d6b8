//! What an isolated terminal may still reach: its server and the clinical systems a
//! hospital names (HIS, PACS, lab). Parsed the same way by the server, which checks an
//! admin's list, and by the agent, which gets it from the server and trusts nothing.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Most entries one isolation allows.
pub const MAX_ALLOWED: usize = 64;

/// Longest an unconfirmed isolation may hold before it releases itself.
pub const MAX_CONFIRM_WITHIN_SECS: u64 = 24 * 60 * 60;

/// Arguments of the `isolate` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsolateArgs {
    /// Clinical systems that stay reachable: `ADDR`, `ADDR/PREFIX`, `ADDR:PORT`
    /// (`[V6]:PORT` for IPv6), TCP for a port.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Seconds within which a person must confirm the isolation, else it releases
    /// itself (enforced by the terminal's kernel, even if the agent stops).
    pub confirm_within_secs: u64,
}

/// Arguments of commands that take none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoArgs {}

/// One reachable peer: a network, and a TCP port if only that one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedPeer {
    pub addr: IpAddr,
    pub prefix: u8,
    pub port: Option<u16>,
}

impl AllowedPeer {
    /// Reads `10.1.2.0/24`, `10.1.3.4`, `10.1.3.4:104`, `fd00::5`, `[fd00::5]:2575`.
    pub fn parse(text: &str) -> Result<AllowedPeer, String> {
        let text = text.trim();
        let bad = |why: &str| {
            format!("{text:?} is not an address to allow ({why}); write 10.1.2.0/24, 10.1.3.4 or 10.1.3.4:104")
        };
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| bad("no closing ]"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("text after ]")),
            };
            (host, port)
        } else if text.matches(':').count() == 1 {
            let (host, port) = text.split_once(':').ok_or_else(|| bad("no port"))?;
            (host, Some(port))
        } else {
            (text, None)
        };
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("the port is not 1 to 65535"))?,
            ),
            None => None,
        };
        let (addr, prefix) = match host.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (host, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad("the prefix length is out of range"))?,
            None => max,
        };
        if prefix == 0 {
            return Err(bad("a /0 network would allow everything"));
        }
        if port.is_some() && prefix != max {
            return Err(bad("a port goes with one address, not a network"));
        }
        Ok(AllowedPeer { addr, prefix, port })
    }

    /// As nftables writes a destination: `10.1.2.0/24` or `10.1.3.4`.
    pub fn network(&self) -> String {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            self.addr.to_string()
        } else {
            format!("{}/{}", self.addr, self.prefix)
        }
    }
}

/// Checks an isolation's arguments; the first problem as a sentence.
pub fn check(args: &IsolateArgs) -> Result<Vec<AllowedPeer>, String> {
    if args.allow.len() > MAX_ALLOWED {
        return Err(format!(
            "{} addresses to allow; at most {MAX_ALLOWED}",
            args.allow.len()
        ));
    }
    if args.confirm_within_secs == 0 || args.confirm_within_secs > MAX_CONFIRM_WITHIN_SECS {
        return Err(format!(
            "confirm_within_secs must be 1 to {MAX_CONFIRM_WITHIN_SECS} (an isolation nobody confirms releases itself)"
        ));
    }
    args.allow.iter().map(|a| AllowedPeer::parse(a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_read_and_hostile_ones_refused() {
        let p = AllowedPeer::parse("10.1.2.0/24").unwrap();
        assert_eq!((p.network(), p.port), ("10.1.2.0/24".into(), None));
        let p = AllowedPeer::parse("10.1.3.4:104").unwrap();
        assert_eq!((p.network(), p.port), ("10.1.3.4".into(), Some(104)));
        let p = AllowedPeer::parse("[fd00::5]:2575").unwrap();
        assert_eq!((p.network(), p.port), ("fd00::5".into(), Some(2575)));
        assert_eq!(
            AllowedPeer::parse("fd00::/64").unwrap().network(),
            "fd00::/64"
        );
        for bad in [
            "",
            "pacs.local",
            "10.1.2.0/33",
            "0.0.0.0/0",
            "10.1.3.4:0",
            "10.1.3.4:70000",
            "10.1.2.0/24:104",
            "10.0.0.1; flush ruleset",
            "[fd00::5",
            "1.2.3.4\n drop",
        ] {
            assert!(AllowedPeer::parse(bad).is_err(), "{bad:?}");
        }
    }
}
