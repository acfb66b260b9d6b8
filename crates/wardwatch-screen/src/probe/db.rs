//! Databases and caches that should never answer a stranger: Redis (`PING`) and
//! PostgreSQL (a start-up message as `postgres`, closed again at once).

use std::time::Duration;

use tokio::net::TcpStream;

use super::io::{has_line, printable, read_answer, send};
use crate::report::{Protocol, Service};

pub async fn redis(stream: &mut TcpStream, wait: Duration) -> Option<Service> {
    if !send(stream, wait, b"PING\r\n").await {
        return None;
    }
    let answer = read_answer(stream, wait, 1024, has_line).await;
    let line = printable(&answer, 120);
    let access = if line.starts_with("+PONG") {
        "open"
    } else if line.starts_with("-NOAUTH") || line.contains("-WRONGPASS") {
        "password required"
    } else if line.starts_with("-DENIED") {
        "protected mode"
    } else {
        return None;
    };
    Some(Service::new(Protocol::Redis).with("access", access))
}

pub async fn postgres(stream: &mut TcpStream, wait: Duration) -> Option<Service> {
    let mut params = Vec::new();
    for (k, v) in [
        ("user", "postgres"),
        ("database", "postgres"),
        ("application_name", "wardwatch-screen"),
    ] {
        params.extend_from_slice(k.as_bytes());
        params.push(0);
        params.extend_from_slice(v.as_bytes());
        params.push(0);
    }
    params.push(0);
    let mut startup = Vec::new();
    startup.extend_from_slice(&((params.len() + 8) as u32).to_be_bytes());
    startup.extend_from_slice(&196_608u32.to_be_bytes());
    startup.extend_from_slice(&params);
    if !send(stream, wait, &startup).await {
        return None;
    }
    let answer = read_answer(stream, wait, 4096, |d| d.len() >= 9).await;
    let service = parse_postgres(&answer)?;
    // Terminate: whatever the answer, nothing more is asked.
    let _ = send(stream, wait, &[b'X', 0, 0, 0, 4]).await;
    Some(service)
}

/// Reads the first message after a start-up: an authentication request (its method),
/// or an error.
pub fn parse_postgres(answer: &[u8]) -> Option<Service> {
    let kind = *answer.first()?;
    let len = u32::from_be_bytes(answer.get(1..5)?.try_into().ok()?) as usize;
    if !(4..=8192).contains(&len) {
        return None;
    }
    let service = Service::new(Protocol::Postgresql);
    match kind {
        b'R' => {
            let method = u32::from_be_bytes(answer.get(5..9)?.try_into().ok()?);
            let name = match method {
                0 => "none (trust)",
                3 => "cleartext password",
                5 => "md5 password",
                10 => "scram-sha-256",
                7 => "gssapi",
                9 => "sspi",
                _ => "other",
            };
            Some(service.with("authentication", name))
        }
        b'E' => {
            // Fields: a type byte and a NUL-terminated string each; M is the message.
            let body = answer.get(5..answer.len().min(1 + len))?;
            let message = body
                .split(|b| *b == 0)
                .find(|f| f.first() == Some(&b'M'))
                .map(|f| printable(&f[1..], 120))
                .unwrap_or_default();
            Some(service.with("refused", message))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_answers_name_the_method_or_the_refusal() {
        let trust = [b'R', 0, 0, 0, 8, 0, 0, 0, 0];
        assert_eq!(
            parse_postgres(&trust).unwrap().detail("authentication"),
            Some("none (trust)")
        );
        let scram = [b'R', 0, 0, 0, 23, 0, 0, 0, 10];
        assert_eq!(
            parse_postgres(&scram).unwrap().detail("authentication"),
            Some("scram-sha-256")
        );
        let mut err = vec![b'E', 0, 0, 0, 0];
        err.extend_from_slice(b"SFATAL\0MNo pg_hba.conf entry\0\0");
        let len = (err.len() - 1) as u32;
        err[1..5].copy_from_slice(&len.to_be_bytes());
        assert_eq!(
            parse_postgres(&err).unwrap().detail("refused"),
            Some("No pg_hba.conf entry")
        );
        assert!(parse_postgres(b"HTTP/1.1 400").is_none());
        assert!(parse_postgres(&[b'R', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]).is_none());
    }
}
