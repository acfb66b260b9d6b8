//! HL7 version 2 over MLLP: one harmless message (an application-level "are you
//! there", `NMQ^N01`, which changes nothing in any receiving system), framed as MLLP
//! frames it; a listener that answers with a framed `MSH` is an HL7 interface.

use std::time::Duration;

use tokio::net::TcpStream;

use super::io::{printable, read_answer, send};
use crate::report::{Protocol, Service};

const START: u8 = 0x0b;
const END: [u8; 2] = [0x1c, 0x0d];

/// The message sent: a network management query from "WARDWATCH^SCREEN".
pub fn request(control_id: &str) -> Vec<u8> {
    let message = format!(
        "MSH|^~\\&|WARDWATCH|SCREEN|||20000101000000||NMQ^N01|{control_id}|P|2.5\rNCK|20000101000000\r"
    );
    let mut framed = vec![START];
    framed.extend_from_slice(message.as_bytes());
    framed.extend_from_slice(&END);
    framed
}

pub async fn probe(stream: &mut TcpStream, wait: Duration) -> Option<Service> {
    if !send(stream, wait, &request("WW0001")).await {
        return None;
    }
    let answer = read_answer(stream, wait, 16 * 1024, |d| d.windows(2).any(|w| w == END)).await;
    parse(&answer)
}

/// Reads the answer: the replying application (MSH-3 and MSH-4), the HL7 version
/// (MSH-12), the message type (MSH-9) and the acknowledgement code (MSA-1).
pub fn parse(answer: &[u8]) -> Option<Service> {
    let start = answer.iter().position(|b| *b == START)?;
    let body = &answer[start + 1..];
    let end = body.windows(2).position(|w| w == END)?;
    let text = String::from_utf8_lossy(&body[..end]);
    let mut segments = text.split(['\r', '\n']).filter(|s| !s.is_empty());
    let msh = segments.next()?;
    if !msh.starts_with("MSH") || msh.len() < 8 {
        return None;
    }
    let separator = msh.chars().nth(3)?;
    // MSH-1 is the separator itself, so field n is at index n - 1.
    let fields: Vec<&str> = msh.split(separator).collect();
    let field = |n: usize| fields.get(n - 1).copied().unwrap_or("");
    let mut service = Service::new(Protocol::Hl7Mllp)
        .with("message_type", printable(field(9).as_bytes(), 40))
        .with("version", printable(field(12).as_bytes(), 20));
    let application = [field(3), field(4)]
        .iter()
        .filter(|f| !f.is_empty())
        .map(|f| printable(f.as_bytes(), 40))
        .collect::<Vec<_>>()
        .join(" / ");
    if !application.is_empty() {
        service.product = Some(application);
    }
    if let Some(msa) = segments.find(|s| s.starts_with("MSA")) {
        let code = msa.split(separator).nth(1).unwrap_or("");
        service = service.with("acknowledgement", printable(code.as_bytes(), 4));
    }
    Some(service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_acknowledgement_names_the_application_and_version() {
        let mut answer = vec![START];
        answer.extend_from_slice(
            b"MSH|^~\\&|LABSYS|WARD3|WARDWATCH|SCREEN|20261206||ACK^N01|1|P|2.5\rMSA|AA|WW0001\r",
        );
        answer.extend_from_slice(&END);
        let s = parse(&answer).unwrap();
        assert_eq!(s.product.as_deref(), Some("LABSYS / WARD3"));
        assert_eq!(s.detail("version"), Some("2.5"));
        assert_eq!(s.detail("message_type"), Some("ACK^N01"));
        assert_eq!(s.detail("acknowledgement"), Some("AA"));
        // Unframed, truncated or not HL7: not recognised.
        assert!(parse(&answer[1..]).is_none());
        assert!(parse(&answer[..answer.len() - 1]).is_none());
        assert!(parse(b"\x0bHTTP/1.0 400\x1c\r").is_none());
        let sent = request("X");
        assert_eq!(sent.first(), Some(&START));
        assert!(sent.ends_with(&END));
    }
}
