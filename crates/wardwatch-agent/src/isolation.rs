//! Network isolation of the terminal, with nftables, failing safe.
//!
//! Everything lives in one table of its own (`inet wardwatch_isolation`), so no other
//! rule on the machine is touched and releasing removes exactly what was added (the
//! table). While it holds, the terminal reaches only its server (the agent API's
//! addresses and port), the clinical systems named, and loopback; everything else in
//! and out is dropped.
//!
//! The drop rules only match while the set `active` holds an element, and an
//! unconfirmed isolation's elements carry a timeout: the kernel itself stops dropping
//! when nobody confirmed in time, even if the agent has stopped. Confirming replaces
//! them with elements without a timeout. The agent removes an expired table on its next
//! poll ([`tidy`]). An isolation does not survive a reboot (the ruleset is not saved):
//! the safe direction for a hospital.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::time::Duration;

use wardwatch_proto::isolation::AllowedPeer;

/// The table; the only thing isolation ever adds.
pub const TABLE: &str = "wardwatch_isolation";

/// What an isolation lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsolationPlan {
    /// The server's agent API: addresses and port.
    pub servers: Vec<SocketAddr>,
    /// Name servers to keep when the server is known by name (port 53 only).
    pub resolvers: Vec<IpAddr>,
    /// The clinical systems.
    pub allowed: Vec<AllowedPeer>,
    /// `None`: confirmed, holds until released.
    pub confirm_within: Option<Duration>,
}

/// Where isolation stands on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IsolationState {
    None,
    /// Dropping, and releases itself unless confirmed.
    Unconfirmed,
    /// Dropping until released.
    Confirmed,
    /// The table is there but its time ran out: nothing is dropped.
    Expired,
}

/// The addresses of the server URL's host (`https://HOST:PORT`), and the name servers
/// to keep if HOST is a name.
pub fn server_addresses(server_url: &str) -> Result<(Vec<SocketAddr>, Vec<IpAddr>), String> {
    let rest = server_url
        .strip_prefix("https://")
        .ok_or_else(|| format!("the server address {server_url:?} is not https://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') || h.starts_with('[') => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("the server address {server_url:?} has no usable port"))?,
        ),
        _ => (authority, 443),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((vec![SocketAddr::new(ip, port)], Vec::new()));
    }
    let servers: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve the server's name {host}: {e}"))?
        .collect();
    if servers.is_empty() {
        return Err(format!("the server's name {host} has no address"));
    }
    let resolvers = std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect();
    Ok((servers, resolvers))
}

fn family(addr: &IpAddr) -> &'static str {
    if addr.is_ipv4() {
        "ip"
    } else {
        "ip6"
    }
}

/// The `active` set's elements: with the timeout while unconfirmed.
fn active_elements(confirm_within: Option<Duration>) -> String {
    match confirm_within {
        Some(d) => {
            let s = d.as_secs().max(1);
            format!("ipv4 timeout {s}s, ipv6 timeout {s}s")
        }
        None => "ipv4, ipv6".to_string(),
    }
}

/// The whole table, as one `nft -f` transaction that replaces any earlier one.
pub fn ruleset(plan: &IsolationPlan) -> String {
    let mut out_rules = vec!["oifname \"lo\" accept".to_string()];
    let mut in_rules = vec![
        "iifname \"lo\" accept".to_string(),
        // IPv6 needs neighbour discovery to reach even the allowed peers.
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept"
            .to_string(),
    ];
    for s in &plan.servers {
        let f = family(&s.ip());
        out_rules.push(format!(
            "{f} daddr {} tcp dport {} accept",
            s.ip(),
            s.port()
        ));
        in_rules.push(format!(
            "{f} saddr {} tcp sport {} accept",
            s.ip(),
            s.port()
        ));
    }
    for r in &plan.resolvers {
        let f = family(r);
        out_rules.push(format!(
            "{f} daddr {r} meta l4proto {{ tcp, udp }} th dport 53 accept"
        ));
        in_rules.push(format!(
            "{f} saddr {r} meta l4proto {{ tcp, udp }} th sport 53 accept"
        ));
    }
    for a in &plan.allowed {
        let f = family(&a.addr);
        let net = a.network();
        match a.port {
            Some(p) => {
                out_rules.push(format!("{f} daddr {net} tcp dport {p} accept"));
                in_rules.push(format!("{f} saddr {net} tcp sport {p} accept"));
            }
            None => {
                out_rules.push(format!("{f} daddr {net} accept"));
                in_rules.push(format!("{f} saddr {net} accept"));
            }
        }
    }
    out_rules.push("meta nfproto @active drop".into());
    in_rules.push("meta nfproto @active drop".into());
    let indent = |rules: &[String]| {
        rules
            .iter()
            .map(|r| format!("\t\t{r}\n"))
            .collect::<String>()
    };
    format!(
        "add table inet {TABLE}\ndelete table inet {TABLE}\ntable inet {TABLE} {{\n\
         \tset active {{\n\t\ttypeof meta nfproto\n\t\tflags timeout\n\t\telements = {{ {} }}\n\t}}\n\
         \tchain output {{\n\t\ttype filter hook output priority filter - 10; policy accept;\n{}\t}}\n\
         \tchain input {{\n\t\ttype filter hook input priority filter - 10; policy accept;\n{}\t}}\n}}\n",
        active_elements(plan.confirm_within),
        indent(&out_rules),
        indent(&in_rules)
    )
}

/// Runs `nft` with `script` on its standard input.
/// Runs `nft` with `args`, giving it `script` on standard input.
pub(crate) fn nft(args: &[&str], script: Option<&str>) -> Result<String, String> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if script.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run nft ({e}); isolation and client blocks need nftables (apt-get install nftables)")
        })?;
    if let (Some(script), Some(mut stdin)) = (script, child.stdin.take()) {
        use std::io::Write;
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("cannot give nft its rules: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("nft did not finish: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "nft refused: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Isolates the terminal (or replaces the current isolation), in one transaction.
pub fn isolate(plan: &IsolationPlan) -> Result<(), String> {
    nft(&["-f", "-"], Some(&ruleset(plan))).map(|_| ())
}

/// A person confirmed: the isolation holds until released.
pub fn confirm() -> Result<(), String> {
    if state()? != IsolationState::Unconfirmed {
        return Err("the terminal is not waiting for a confirmation of its isolation (it is not isolated, already confirmed, or it released itself)".into());
    }
    let script = format!(
        "flush set inet {TABLE} active\nadd element inet {TABLE} active {{ {} }}\n",
        active_elements(None)
    );
    nft(&["-f", "-"], Some(&script)).map(|_| ())
}

/// Removes the isolation's table; false if there was none.
pub fn release() -> Result<bool, String> {
    if state()? == IsolationState::None {
        return Ok(false);
    }
    nft(&["delete", "table", "inet", TABLE], None).map(|_| true)
}

/// Where isolation stands, read from the kernel.
pub fn state() -> Result<IsolationState, String> {
    let listing = match nft(&["-j", "list", "set", "inet", TABLE, "active"], None) {
        Ok(listing) => listing,
        Err(e) if e.contains("No such file or directory") || e.contains("does not exist") => {
            return Ok(IsolationState::None)
        }
        Err(e) => return Err(e),
    };
    let json: serde_json::Value = serde_json::from_str(&listing)
        .map_err(|e| format!("nft printed something unexpected: {e}"))?;
    let elements = json["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["set"]["elem"].as_array())
        .flatten()
        .collect::<Vec<_>>();
    if elements.is_empty() {
        return Ok(IsolationState::Expired);
    }
    let timed = elements.iter().any(|e| e["elem"]["timeout"].is_number());
    Ok(if timed {
        IsolationState::Unconfirmed
    } else {
        IsolationState::Confirmed
    })
}

/// Removes an isolation whose time ran out unconfirmed; true if one was removed.
pub fn tidy() -> Result<bool, String> {
    if state()? == IsolationState::Expired {
        nft(&["delete", "table", "inet", TABLE], None)?;
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lets_through_the_server_and_the_clinical_systems_only() {
        let plan = IsolationPlan {
            servers: vec!["10.9.0.1:8444".parse().unwrap()],
            resolvers: vec![],
            allowed: vec![
                AllowedPeer::parse("10.1.2.0/24").unwrap(),
                AllowedPeer::parse("10.1.3.4:104").unwrap(),
            ],
            confirm_within: Some(Duration::from_secs(900)),
        };
        let text = ruleset(&plan);
        assert!(
            text.starts_with(
                "add table inet wardwatch_isolation\ndelete table inet wardwatch_isolation\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("ip daddr 10.9.0.1 tcp dport 8444 accept"),
            "{text}"
        );
        assert!(text.contains("ip daddr 10.1.2.0/24 accept"), "{text}");
        assert!(
            text.contains("ip daddr 10.1.3.4 tcp dport 104 accept"),
            "{text}"
        );
        assert!(
            text.contains("elements = { ipv4 timeout 900s, ipv6 timeout 900s }"),
            "{text}"
        );
        // The drop comes last in both chains.
        for chain in ["chain output", "chain input"] {
            let body = &text[text.find(chain).unwrap()..];
            let body = &body[..body.find("\t}").unwrap()];
            assert!(
                body.trim_end().ends_with("meta nfproto @active drop"),
                "{body}"
            );
        }
        let confirmed = ruleset(&IsolationPlan {
            confirm_within: None,
            ..plan
        });
        assert!(
            confirmed.contains("elements = { ipv4, ipv6 }"),
            "{confirmed}"
        );
    }

    #[test]
    fn the_server_is_found_by_address_or_name() {
        let (s, r) = server_addresses("https://10.9.0.1:8444").unwrap();
        assert_eq!(s, vec!["10.9.0.1:8444".parse().unwrap()]);
        assert!(r.is_empty());
        let (s, _) = server_addresses("https://[::1]:8444/").unwrap();
        assert_eq!(s, vec!["[::1]:8444".parse().unwrap()]);
        let (s, _) = server_addresses("https://localhost:8444").unwrap();
        assert!(
            s.iter().all(|a| a.port() == 8444 && a.ip().is_loopback()),
            "{s:?}"
        );
        assert!(server_addresses("http://10.9.0.1:8444").is_err());
    }
}
