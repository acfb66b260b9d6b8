//! Services that speak first: their greeting names them.

use std::time::Duration;

use tokio::net::TcpStream;

use super::io::{has_line, printable, read_answer, send};
use crate::report::{Protocol, Service};

/// What a greeting says the service is; some look further on the same connection.
pub async fn classify(stream: &mut TcpStream, banner: &[u8], wait: Duration) -> Option<Service> {
    if banner.starts_with(b"SSH-") {
        return Some(ssh(banner));
    }
    if banner.first() == Some(&0xff) {
        return Some(Service::new(Protocol::Telnet).with("banner", printable(banner, 80)));
    }
    if banner.starts_with(b"RFB ") {
        return Some(vnc(stream, banner, wait).await);
    }
    if let Some(service) = mysql(banner) {
        return Some(service);
    }
    if banner.starts_with(b"220") {
        let text = printable(banner, 120);
        if text.contains("SMTP") {
            return Some(Service::new(Protocol::Smtp).with("banner", text));
        }
        return Some(ftp(stream, &text, wait).await);
    }
    None
}

/// `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`: protocol version, software, comment.
pub fn ssh(banner: &[u8]) -> Service {
    let line = printable(banner.split(|b| *b == b'\n').next().unwrap_or(banner), 200);
    let mut parts = line.splitn(3, '-');
    let (_, version, rest) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    let (software, comment) = rest.split_once(' ').unwrap_or((rest, ""));
    let mut service = Service::new(Protocol::Ssh).with("protocol_version", version.unwrap_or(""));
    if !software.is_empty() {
        service.product = Some(software.to_string());
    }
    if !comment.is_empty() {
        service = service.with("comment", comment);
    }
    service
}

/// Tries an anonymous login, as anyone on the network could.
async fn ftp(stream: &mut TcpStream, banner: &str, wait: Duration) -> Service {
    let mut service = Service::new(Protocol::Ftp).with("banner", banner);
    let product = banner
        .trim_start_matches("220")
        .trim_start_matches('-')
        .trim();
    if !product.is_empty() {
        service.product = Some(product.to_string());
    }
    let answer = if send(stream, wait, b"USER anonymous\r\n").await {
        read_answer(stream, wait, 1024, has_line).await
    } else {
        Vec::new()
    };
    let anonymous = if answer.starts_with(b"230") {
        true
    } else if answer.starts_with(b"331") && send(stream, wait, b"PASS wardwatch@\r\n").await {
        read_answer(stream, wait, 1024, has_line)
            .await
            .starts_with(b"230")
    } else {
        false
    };
    let _ = send(stream, wait, b"QUIT\r\n").await;
    service.with(
        "anonymous_login",
        if anonymous { "allowed" } else { "refused" },
    )
}

/// The RFB version, then the security types offered: type 1 is no password at all.
async fn vnc(stream: &mut TcpStream, banner: &[u8], wait: Duration) -> Service {
    let version = printable(banner, 12);
    let mut service = Service::new(Protocol::Vnc).with("rfb_version", version.clone());
    let minor = version
        .rsplit('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(3);
    let reply: &[u8] = if minor >= 8 {
        b"RFB 003.008\n"
    } else if minor >= 7 {
        b"RFB 003.007\n"
    } else {
        b"RFB 003.003\n"
    };
    if !send(stream, wait, reply).await {
        return service;
    }
    let types: Vec<u8> = if minor >= 7 {
        let got = read_answer(stream, wait, 256, |d| {
            d.first().is_some_and(|n| d.len() > usize::from(*n))
        })
        .await;
        match got.split_first() {
            Some((n, rest)) if *n > 0 => rest.iter().take(usize::from(*n)).copied().collect(),
            _ => Vec::new(),
        }
    } else {
        let got = read_answer(stream, wait, 4, |d| d.len() >= 4).await;
        match got.get(..4) {
            Some(t) => vec![u32::from_be_bytes([t[0], t[1], t[2], t[3]]).min(255) as u8],
            None => Vec::new(),
        }
    };
    let names: Vec<String> = types.iter().map(|t| vnc_security_name(*t)).collect();
    service = service.with("security_types", names.join(","));
    service.with(
        "password_required",
        if types.contains(&1) { "no" } else { "yes" },
    )
}

fn vnc_security_name(t: u8) -> String {
    match t {
        1 => "none".into(),
        2 => "vnc-password".into(),
        16 => "tight".into(),
        18 => "tls".into(),
        19 => "vencrypt".into(),
        30 => "apple-dh".into(),
        other => format!("type-{other}"),
    }
}

/// MySQL and MariaDB greet with a handshake packet (protocol 10 and the server
/// version), or an error packet when this host may not connect.
pub fn mysql(banner: &[u8]) -> Option<Service> {
    let len = usize::from(*banner.first()?)
        | usize::from(*banner.get(1)?) << 8
        | usize::from(*banner.get(2)?) << 16;
    let payload = banner.get(4..4 + len)?;
    match payload.first()? {
        0x0a => {
            let end = payload.iter().skip(1).position(|b| *b == 0)? + 1;
            let version = printable(&payload[1..end], 60);
            let mut service = Service::new(Protocol::Mysql);
            service.product = Some(if version.contains("MariaDB") {
                format!("MariaDB {version}")
            } else {
                format!("MySQL {version}")
            });
            Some(service)
        }
        0xff if payload.len() > 3 => {
            Some(Service::new(Protocol::Mysql).with("refused", printable(&payload[3..], 120)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_banners_name_software_and_comment() {
        let s = ssh(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
        assert_eq!(s.product.as_deref(), Some("OpenSSH_9.2p1"));
        assert_eq!(s.detail("protocol_version"), Some("2.0"));
        assert_eq!(s.detail("comment"), Some("Debian-2+deb12u3"));
        let bare = ssh(b"SSH-1.99-Cisco-1.25\n");
        assert_eq!(bare.detail("protocol_version"), Some("1.99"));
        assert_eq!(bare.product.as_deref(), Some("Cisco-1.25"));
    }

    #[test]
    fn mysql_greetings_and_refusals_are_recognised_and_truncations_are_not() {
        let mut packet = vec![0x0a];
        packet.extend_from_slice(b"10.11.6-MariaDB-0+deb12u1\0rest");
        let mut greeting = vec![packet.len() as u8, 0, 0, 0];
        greeting.extend_from_slice(&packet);
        let s = mysql(&greeting).unwrap();
        assert_eq!(
            s.product.as_deref(),
            Some("MariaDB 10.11.6-MariaDB-0+deb12u1")
        );
        assert!(mysql(&greeting[..greeting.len() - 6]).is_none());
        assert!(mysql(b"SSH-2.0-x").is_none());
        assert!(mysql(&[]).is_none());
    }
}
