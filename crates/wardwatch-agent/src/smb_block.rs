//! Blocking one client of this machine's file server, with nftables.
//!
//! When the guard stops the Samba process of a client that was encrypting a share, the
//! client can simply connect again; an administrator blocks it here until its machine
//! is cleaned. Only the file server's ports are closed to that one address (a
//! connection is reset, so the client fails at once instead of hanging), and only in a
//! table of wardwatch's own (`inet wardwatch_smb_block`): unblocking the last client
//! removes the table, and nothing else on the machine is touched. Like isolation, a
//! block does not survive a reboot.

use std::net::IpAddr;

use serde::Serialize;

use super::isolation::nft;
use wardwatch_proto::SmbBlockArgs;

/// The table; the only thing a block ever adds.
pub const TABLE: &str = "wardwatch_smb_block";
/// The ports Samba serves on when the block names none: SMB over TCP and NetBIOS.
pub const DEFAULT_PORTS: [u16; 2] = [445, 139];

/// One blocked client and server port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocked {
    pub address: IpAddr,
    pub port: u16,
}

/// The table, created only when missing, so existing blocks stay.
fn table_script() -> String {
    format!(
        "table inet {TABLE} {{\n\
         \tset clients4 {{ type ipv4_addr . inet_service; }}\n\
         \tset clients6 {{ type ipv6_addr . inet_service; }}\n\
         \tchain input {{\n\
         \t\ttype filter hook input priority filter - 5; policy accept;\n\
         \t\tip saddr . tcp dport @clients4 reject with tcp reset\n\
         \t\tip6 saddr . tcp dport @clients6 reject with tcp reset\n\
         \t}}\n\
         }}\n"
    )
}

fn set_of(address: &IpAddr) -> &'static str {
    match address {
        IpAddr::V4(_) => "clients4",
        IpAddr::V6(_) => "clients6",
    }
}

/// What a block covers: the address as given (an IPv4 client seen on an IPv6
/// socket is blocked as IPv4), and the port given or Samba's two.
fn elements(args: &SmbBlockArgs) -> Vec<Blocked> {
    let address = match args.address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(args.address, IpAddr::V4),
        v4 => v4,
    };
    let ports = match args.port {
        Some(p) => vec![p],
        None => DEFAULT_PORTS.to_vec(),
    };
    ports
        .into_iter()
        .map(|port| Blocked { address, port })
        .collect()
}

fn element_list(list: &[Blocked]) -> String {
    list.iter()
        .map(|b| format!("{} . {}", b.address, b.port))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Closes the file server's ports to one client; returns what is blocked now.
pub fn block(args: &SmbBlockArgs) -> Result<Vec<Blocked>, String> {
    wardwatch_proto::check_smb_client_address(&args.address)?;
    if nft(&["list", "table", "inet", TABLE], None).is_err() {
        nft(&["-f", "-"], Some(&table_script()))?;
    }
    let wanted = elements(args);
    let set = set_of(&wanted[0].address);
    nft(
        &["-f", "-"],
        Some(&format!(
            "add element inet {TABLE} {set} {{ {} }}\n",
            element_list(&wanted)
        )),
    )?;
    list()
}

/// Opens the ports to the client again (every port it is blocked on when none is
/// named); removes the table when nobody is blocked.
pub fn unblock(args: &SmbBlockArgs) -> Result<Vec<Blocked>, String> {
    let before = list()?;
    let address = elements(args)[0].address;
    let wanted: Vec<Blocked> = before
        .into_iter()
        .filter(|b| b.address == address && args.port.is_none_or(|p| p == b.port))
        .collect();
    if !wanted.is_empty() {
        let set = set_of(&wanted[0].address);
        nft(
            &["-f", "-"],
            Some(&format!(
                "delete element inet {TABLE} {set} {{ {} }}\n",
                element_list(&wanted)
            )),
        )?;
    }
    let now = list()?;
    if now.is_empty() && nft(&["list", "table", "inet", TABLE], None).is_ok() {
        nft(&["delete", "table", "inet", TABLE], None)?;
    }
    Ok(now)
}

/// The clients blocked now.
pub fn list() -> Result<Vec<Blocked>, String> {
    let mut out = Vec::new();
    for set in ["clients4", "clients6"] {
        match nft(&["-j", "list", "set", "inet", TABLE, set], None) {
            Ok(json) => out.extend(parse_set(&json)),
            // No table: nobody is blocked.
            Err(_) => return Ok(Vec::new()),
        }
    }
    Ok(out)
}

/// The elements of a set as `nft -j list set` prints them:
/// `{"elem": [{"concat": ["10.0.0.2", 445]}, …]}`.
fn parse_set(json: &str) -> Vec<Blocked> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let sets = value
        .get("nftables")
        .and_then(|n| n.as_array())
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("set"));
    for set in sets {
        for elem in set
            .get("elem")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
        {
            let concat = elem
                .get("concat")
                .or_else(|| elem.pointer("/elem/val/concat"))
                .and_then(|c| c.as_array());
            let Some([addr, port]) = concat.map(|c| c.as_slice()) else {
                continue;
            };
            let address = addr.as_str().and_then(|a| a.parse().ok());
            let port = port.as_u64().and_then(|p| u16::try_from(p).ok());
            if let (Some(address), Some(port)) = (address, port) {
                out.push(Blocked { address, port });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_covers_samba_s_ports_unless_one_is_named() {
        let args = SmbBlockArgs {
            address: "10.20.3.41".parse().unwrap(),
            port: None,
        };
        assert_eq!(
            element_list(&elements(&args)),
            "10.20.3.41 . 445, 10.20.3.41 . 139"
        );
        let mapped = SmbBlockArgs {
            address: "::ffff:10.20.3.41".parse().unwrap(),
            port: Some(4450),
        };
        let e = elements(&mapped);
        assert_eq!(element_list(&e), "10.20.3.41 . 4450");
        assert_eq!(set_of(&e[0].address), "clients4");
        let v6 = SmbBlockArgs {
            address: "fd00::41".parse().unwrap(),
            port: Some(445),
        };
        assert_eq!(set_of(&elements(&v6)[0].address), "clients6");
        assert!(table_script().contains("reject with tcp reset"));
    }

    #[test]
    fn blocked_clients_are_read_from_nft_json() {
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
            {"set": {"family": "inet", "name": "clients4", "table": "wardwatch_smb_block",
              "type": ["ipv4_addr", "inet_service"],
              "elem": [{"concat": ["10.78.0.2", 445]}, {"concat": ["10.78.0.3", 139]}, {"concat": ["x", 1]}]}}]}"#;
        assert_eq!(
            parse_set(json),
            vec![
                Blocked {
                    address: "10.78.0.2".parse().unwrap(),
                    port: 445
                },
                Blocked {
                    address: "10.78.0.3".parse().unwrap(),
                    port: 139
                }
            ]
        );
        assert!(parse_set("not json").is_empty());
        assert!(parse_set(r#"{"nftables": [{"set": {"name": "clients4"}}]}"#).is_empty());
    }
}
