//! HTTP: one `GET /`, the status, the `Server` header and the page title.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::io::{printable, read_answer, send};
use crate::report::{Protocol, Service};

pub async fn probe(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    addr: SocketAddr,
    wait: Duration,
) -> Option<Service> {
    let host = match addr {
        SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let request = format!(
        "GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: wardwatch-screen\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    if !send(stream, wait, request.as_bytes()).await {
        return None;
    }
    // The head and enough of the body for a title.
    let answer = read_answer(stream, wait, 16 * 1024, |d| {
        d.windows(8).any(|w| w.eq_ignore_ascii_case(b"</title>"))
    })
    .await;
    parse(&answer)
}

/// Reads a response head (and a `<title>` if the body has one).
pub fn parse(answer: &[u8]) -> Option<Service> {
    let text = String::from_utf8_lossy(answer);
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let mut service = Service::new(Protocol::Http).with("status", status.to_string());
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("server") {
                service.product = Some(printable(value.as_bytes(), 80));
            } else if name.eq_ignore_ascii_case("www-authenticate") {
                service = service.with("authentication", printable(value.as_bytes(), 80));
            }
        }
    }
    if let Some(title) = title_of(&text) {
        service = service.with("title", title);
    }
    Some(service)
}

fn title_of(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = lower[start..].find('>')? + start + 1;
    let close = lower[open_end..].find("</title>")? + open_end;
    let title = printable(text.get(open_end..close)?.as_bytes(), 120);
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_head_gives_status_server_and_title() {
        let s = parse(b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nContent-Type: text/html\r\n\r\n<html><head><TITLE>Lab results\x1b[2J</TITLE></head>").unwrap();
        assert_eq!(s.product.as_deref(), Some("SimpleHTTP/0.6 Python/3.11.2"));
        assert_eq!(s.detail("status"), Some("200"));
        assert_eq!(s.detail("title"), Some("Lab results [2J"));
        assert!(parse(b"SSH-2.0-x\r\n").is_none());
        assert!(parse(b"HTTP/1.1 abc\r\n").is_none());
        assert!(parse(b"").is_none());
    }
}
