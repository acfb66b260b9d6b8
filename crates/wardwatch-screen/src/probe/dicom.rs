//! DICOM upper layer: an association for Verification (the DICOM "ping"), a C-ECHO
//! in it, and a release. The called AE title must often match the archive's own; the
//! titles tried are reported with the one accepted, since an archive that accepts any
//! title from anyone is itself a finding.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use tokio::io::AsyncReadExt;

use super::io::send;
use crate::report::{Protocol, Service};

/// Verification SOP class.
const VERIFICATION: &str = "1.2.840.10008.1.1";
/// Implicit VR little endian, the transfer syntax every DICOM peer must accept.
const IMPLICIT_LITTLE: &str = "1.2.840.10008.1.2";
const APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
/// wardwatch's implementation class UID (a UUID-derived `2.25` UID, no registered root
/// needed).
const IMPLEMENTATION_CLASS: &str = "2.25.266108812419519203396413412398461226353";
const CALLING_AE: &str = "WARDWATCH";
/// Called AE titles tried, in order: the usual defaults of archives and modalities.
pub const AE_TITLES: &[&str] = &["ANY-SCP", "STORESCP", "ORTHANC", "DCM4CHEE", "PACS"];
/// Largest PDU taken from a peer.
const MAX_PDU: usize = 64 * 1024;

/// What one association attempt gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Association {
    Accepted {
        called_ae: String,
        echo_status: Option<u16>,
    },
    /// A-ASSOCIATE-RJ: result, source, reason as the standard numbers them.
    Rejected { result: u8, source: u8, reason: u8 },
    /// An A-ABORT, or an answer that is not DICOM.
    Other,
}

impl Association {
    /// A rejection for the called AE title alone: another title may be accepted.
    fn wrong_title(&self) -> bool {
        matches!(
            self,
            Association::Rejected {
                source: 1,
                reason: 7,
                ..
            }
        )
    }
}

/// Tries the AE titles until one is accepted or the peer refuses for another reason.
/// `first` is an open connection to use for the first try.
pub async fn probe(first: TcpStream, addr: SocketAddr, wait: Duration) -> Option<Service> {
    let mut tried = Vec::new();
    let mut stream = Some(first);
    let mut last = None;
    for title in AE_TITLES {
        let mut conn = match stream.take() {
            Some(s) => s,
            None => match tokio::time::timeout(wait, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => s,
                _ => break,
            },
        };
        let outcome = associate(&mut conn, title, wait).await;
        tried.push(*title);
        if outcome == Association::Other && tried.len() == 1 {
            return None;
        }
        let again = outcome.wrong_title();
        last = Some(outcome);
        if !again {
            break;
        }
    }
    let outcome = last?;
    let mut service = Service::new(Protocol::Dicom).with("ae_titles_tried", tried.join(","));
    match outcome {
        Association::Accepted {
            called_ae,
            echo_status,
        } => {
            service = service.with("accepted_ae_title", called_ae).with(
                "c_echo",
                match echo_status {
                    Some(0) => "success".to_string(),
                    Some(s) => format!("status 0x{s:04x}"),
                    None => "no answer".to_string(),
                },
            );
        }
        Association::Rejected {
            result,
            source,
            reason,
        } => {
            service = service.with(
                "rejected",
                format!("result {result}, source {source}, reason {reason}"),
            );
        }
        Association::Other => service = service.with("rejected", "aborted"),
    }
    Some(service)
}

/// One association: request, C-ECHO if accepted, release.
pub async fn associate(stream: &mut TcpStream, called: &str, wait: Duration) -> Association {
    if !send(stream, wait, &associate_rq(called, CALLING_AE)).await {
        return Association::Other;
    }
    let Some((kind, body)) = read_pdu(stream, wait).await else {
        return Association::Other;
    };
    match kind {
        0x02 => {
            let Some(context_ok) = accepted_context(&body) else {
                return Association::Other;
            };
            let echo_status = if context_ok {
                echo(stream, wait).await
            } else {
                None
            };
            // A-RELEASE-RQ, then the peer's A-RELEASE-RP (not waited on for long).
            if send(stream, wait, &[0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]).await {
                let _ = read_pdu(stream, wait).await;
            }
            Association::Accepted {
                called_ae: called.to_string(),
                echo_status,
            }
        }
        0x03 if body.len() >= 4 => Association::Rejected {
            result: body[1],
            source: body[2],
            reason: body[3],
        },
        _ => Association::Other,
    }
}

/// Sends C-ECHO-RQ on presentation context 1 and returns the response's status.
async fn echo(stream: &mut TcpStream, wait: Duration) -> Option<u16> {
    let mut command = Vec::new();
    element(&mut command, 0x0000, 0x0002, &padded_uid(VERIFICATION));
    element(&mut command, 0x0000, 0x0100, &0x0030u16.to_le_bytes());
    element(&mut command, 0x0000, 0x0110, &1u16.to_le_bytes());
    element(&mut command, 0x0000, 0x0800, &0x0101u16.to_le_bytes());
    let mut with_length = Vec::new();
    element(
        &mut with_length,
        0x0000,
        0x0000,
        &(command.len() as u32).to_le_bytes(),
    );
    with_length.extend_from_slice(&command);
    // PDV: length, context id, control header (command, last fragment).
    let mut pdv = Vec::new();
    pdv.extend_from_slice(&((with_length.len() + 2) as u32).to_be_bytes());
    pdv.push(1);
    pdv.push(0x03);
    pdv.extend_from_slice(&with_length);
    let mut pdu = vec![0x04, 0];
    pdu.extend_from_slice(&(pdv.len() as u32).to_be_bytes());
    pdu.extend_from_slice(&pdv);
    if !send(stream, wait, &pdu).await {
        return None;
    }
    let (kind, body) = read_pdu(stream, wait).await?;
    if kind != 0x04 {
        return None;
    }
    // One PDV: skip its length, context id and control header.
    let dataset = body.get(6..)?;
    find_us(dataset, 0x0000, 0x0900)
}

/// An unsigned short element's value in an implicit little-endian data set.
fn find_us(mut data: &[u8], group: u16, elem: u16) -> Option<u16> {
    while data.len() >= 8 {
        let g = u16::from_le_bytes([data[0], data[1]]);
        let e = u16::from_le_bytes([data[2], data[3]]);
        let len = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
        let value = data.get(8..8usize.checked_add(len)?)?;
        if (g, e) == (group, elem) && len == 2 {
            return Some(u16::from_le_bytes([value[0], value[1]]));
        }
        data = &data[8 + len..];
    }
    None
}

fn element(out: &mut Vec<u8>, group: u16, elem: u16, value: &[u8]) {
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
}

/// UIDs are padded with a NUL to an even length.
fn padded_uid(uid: &str) -> Vec<u8> {
    let mut v = uid.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// AE titles are 16 bytes, space-padded.
fn ae(title: &str) -> [u8; 16] {
    let mut out = [b' '; 16];
    for (o, b) in out.iter_mut().zip(title.bytes()) {
        *o = b;
    }
    out
}

fn item(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    out.push(kind);
    out.push(0);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// A-ASSOCIATE-RQ proposing Verification in implicit little endian.
pub fn associate_rq(called: &str, calling: &str) -> Vec<u8> {
    let mut variable = Vec::new();
    item(&mut variable, 0x10, APPLICATION_CONTEXT.as_bytes());
    let mut context = vec![1, 0, 0, 0];
    item(&mut context, 0x30, VERIFICATION.as_bytes());
    item(&mut context, 0x40, IMPLICIT_LITTLE.as_bytes());
    item(&mut variable, 0x20, &context);
    let mut user = Vec::new();
    item(&mut user, 0x51, &(MAX_PDU as u32).to_be_bytes());
    item(&mut user, 0x52, IMPLEMENTATION_CLASS.as_bytes());
    item(&mut user, 0x55, b"WARDWATCH");
    item(&mut variable, 0x50, &user);

    let mut body = Vec::new();
    body.extend_from_slice(&1u16.to_be_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&ae(called));
    body.extend_from_slice(&ae(calling));
    body.extend_from_slice(&[0; 32]);
    body.extend_from_slice(&variable);
    let mut pdu = vec![0x01, 0];
    pdu.extend_from_slice(&(body.len() as u32).to_be_bytes());
    pdu.extend_from_slice(&body);
    pdu
}

/// Whether the A-ASSOCIATE-AC accepted presentation context 1; None if malformed.
pub fn accepted_context(body: &[u8]) -> Option<bool> {
    // Fixed part: version, reserved, two AE titles, 32 reserved bytes.
    let mut items = body.get(68..)?;
    while items.len() >= 4 {
        let kind = items[0];
        let len = usize::from(u16::from_be_bytes([items[2], items[3]]));
        let value = items.get(4..4 + len)?;
        if kind == 0x21 && value.len() >= 4 && value[0] == 1 {
            return Some(value[2] == 0);
        }
        items = &items[4 + len..];
    }
    Some(false)
}

/// Reads one PDU: its type and body, at most [`MAX_PDU`] bytes, within `wait`.
async fn read_pdu(stream: &mut TcpStream, wait: Duration) -> Option<(u8, Vec<u8>)> {
    let read = async {
        let mut head = [0u8; 6];
        stream.read_exact(&mut head).await.ok()?;
        let len = u32::from_be_bytes([head[2], head[3], head[4], head[5]]) as usize;
        if len > MAX_PDU {
            return None;
        }
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await.ok()?;
        Some((head[0], body))
    };
    tokio::time::timeout(wait, read).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_association_request_is_laid_out_as_the_standard_says() {
        let pdu = associate_rq("STORESCP", "WARDWATCH");
        assert_eq!(pdu[0], 0x01);
        let len = u32::from_be_bytes([pdu[2], pdu[3], pdu[4], pdu[5]]) as usize;
        assert_eq!(len, pdu.len() - 6);
        assert_eq!(&pdu[10..26], b"STORESCP        ");
        assert_eq!(&pdu[26..42], b"WARDWATCH       ");
        assert_eq!(pdu[74], 0x10, "the application context comes first");
    }

    #[test]
    fn an_accepted_context_and_an_echo_status_are_read_and_bad_lengths_refused() {
        let mut body = vec![0u8; 68];
        let mut ac = Vec::new();
        item(&mut ac, 0x10, APPLICATION_CONTEXT.as_bytes());
        let mut ctx = vec![1, 0, 0, 0];
        item(&mut ctx, 0x40, IMPLICIT_LITTLE.as_bytes());
        item(&mut ac, 0x21, &ctx);
        body.extend_from_slice(&ac);
        assert_eq!(accepted_context(&body), Some(true));
        let last = body.len() - ctx.len() + 2;
        body[last] = 3; // abstract syntax not supported
        assert_eq!(accepted_context(&body), Some(false));
        assert_eq!(accepted_context(&body[..30]), None);
        let truncated = &body[..body.len() - 3];
        assert_eq!(accepted_context(truncated), None);

        let mut data = Vec::new();
        element(&mut data, 0x0000, 0x0100, &0x8030u16.to_le_bytes());
        element(&mut data, 0x0000, 0x0900, &0u16.to_le_bytes());
        assert_eq!(find_us(&data, 0x0000, 0x0900), Some(0));
        let mut hostile = data.clone();
        hostile[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(find_us(&hostile, 0x0000, 0x0900), None);
    }
}
