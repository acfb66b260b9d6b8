//! Remote desktop (RDP): which security protocols the server accepts, and so whether
//! it requires Network Level Authentication (CredSSP) before it shows a login screen.
//! Without NLA, anyone who reaches the port gets a session, and with it the pre-login
//! attack surface BlueKeep used, and the login screen to guess passwords at.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::io::send;
use crate::report::{Protocol, Service};

/// Protocols a client may ask for (MS-RDPBCGR 2.2.1.1.1).
const RDP: u32 = 0;
const TLS: u32 = 1;
const CREDSSP: u32 = 2;
const CREDSSP_EARLY: u32 = 8;

/// What the server answered to one connection request.
#[derive(Debug, PartialEq, Eq)]
pub enum Negotiation {
    /// The protocol the server chose (an old server that sends no negotiation data
    /// chose standard RDP security).
    Selected(u32),
    /// RDP_NEG_FAILURE with its code (5: CredSSP required, 1: TLS required).
    Failure(u32),
}

/// Asks with every protocol, then with the weak ones alone, each on its own connection.
pub async fn probe(mut first: TcpStream, addr: SocketAddr, wait: Duration) -> Option<Service> {
    let best = negotiate(&mut first, TLS | CREDSSP | CREDSSP_EARLY, wait).await?;
    drop(first);
    let mut service = Service::new(Protocol::Rdp).with("chosen", describe(&best));
    let mut weak_accepted = Vec::new();
    for (name, protocols) in [("standard RDP security", RDP), ("TLS without CredSSP", TLS)] {
        let Ok(Ok(mut conn)) = tokio::time::timeout(wait, TcpStream::connect(addr)).await else {
            continue;
        };
        if let Some(Negotiation::Selected(_)) = negotiate(&mut conn, protocols, wait).await {
            weak_accepted.push(name);
        }
    }
    let nla = if weak_accepted.is_empty() {
        "required"
    } else {
        "not required"
    };
    service = service.with("nla", nla);
    if !weak_accepted.is_empty() {
        service = service.with("accepts", weak_accepted.join(", "));
    }
    Some(service)
}

fn describe(n: &Negotiation) -> String {
    match n {
        Negotiation::Selected(RDP) => "standard RDP security".into(),
        Negotiation::Selected(TLS) => "TLS".into(),
        Negotiation::Selected(CREDSSP) => "CredSSP (NLA)".into(),
        Negotiation::Selected(CREDSSP_EARLY) => {
            "CredSSP with early user authorization (NLA)".into()
        }
        Negotiation::Selected(other) => format!("protocol {other}"),
        Negotiation::Failure(code) => format!("refused (code {code})"),
    }
}

/// An X.224 Connection Request carrying an RDP negotiation request.
pub fn connection_request(protocols: u32) -> Vec<u8> {
    let cookie = b"Cookie: mstshash=wardwatch\r\n";
    let mut x224 = vec![0u8; 7];
    x224[1] = 0xe0; // connection request, credit 0
    x224.extend_from_slice(cookie);
    x224.extend_from_slice(&[0x01, 0x00, 0x08, 0x00]);
    x224.extend_from_slice(&protocols.to_le_bytes());
    x224[0] = (x224.len() - 1) as u8; // length indicator: the bytes after it
    let total = (x224.len() + 4) as u16;
    let mut out = vec![3, 0];
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&x224);
    out
}

/// Reads a TPKT-framed X.224 Connection Confirm.
pub fn parse_confirm(packet: &[u8]) -> Option<Negotiation> {
    if packet.first() != Some(&3) {
        return None;
    }
    let x224 = packet.get(4..)?;
    let li = usize::from(*x224.first()?);
    if *x224.get(1)? & 0xf0 != 0xd0 {
        return None;
    }
    let data = x224.get(7..=li)?;
    if data.len() < 8 {
        return Some(Negotiation::Selected(RDP));
    }
    let value = u32::from_le_bytes(data.get(4..8)?.try_into().ok()?);
    match data[0] {
        0x02 => Some(Negotiation::Selected(value)),
        0x03 => Some(Negotiation::Failure(value)),
        _ => None,
    }
}

async fn negotiate(stream: &mut TcpStream, protocols: u32, wait: Duration) -> Option<Negotiation> {
    if !send(stream, wait, &connection_request(protocols)).await {
        return None;
    }
    let read = async {
        let mut head = [0u8; 4];
        stream.read_exact(&mut head).await.ok()?;
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if head[0] != 3 || !(11..=512).contains(&len) {
            return None;
        }
        let mut packet = head.to_vec();
        packet.resize(len, 0);
        stream.read_exact(&mut packet[4..]).await.ok()?;
        Some(packet)
    };
    let packet = tokio::time::timeout(wait, read).await.ok().flatten()?;
    parse_confirm(&packet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_framed_and_confirms_read() {
        let req = connection_request(TLS | CREDSSP);
        assert_eq!(usize::from(u16::from_be_bytes([req[2], req[3]])), req.len());
        assert_eq!(usize::from(req[4]) + 5, req.len());
        assert_eq!(&req[req.len() - 4..], &3u32.to_le_bytes());

        let confirm = |kind: u8, value: u32| {
            let mut p = vec![3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, kind, 0, 8, 0];
            p.extend_from_slice(&value.to_le_bytes());
            p
        };
        assert_eq!(
            parse_confirm(&confirm(2, CREDSSP)),
            Some(Negotiation::Selected(CREDSSP))
        );
        assert_eq!(parse_confirm(&confirm(3, 5)), Some(Negotiation::Failure(5)));
        // An old server's confirm without negotiation data: standard RDP security.
        assert_eq!(
            parse_confirm(&[3, 0, 0, 11, 6, 0xd0, 0, 0, 0x12, 0x34, 0]),
            Some(Negotiation::Selected(RDP))
        );
        assert_eq!(parse_confirm(b"HTTP/1.1 400"), None);
        assert_eq!(parse_confirm(&confirm(2, 1)[..12]), None);
    }
}
