//! SMB on 445: the dialects the server speaks, whether SMB1 is still on, whether it
//! requires signing, and what it says it is. The operating system and its build come
//! from the NTLMSSP challenge of an anonymous session setup (no credentials are sent,
//! the session is never completed); with SMB1 on, the server also names its software
//! (`Samba 4.17.12-Debian`, `Windows 7 Professional 7601 Service Pack 1`).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::io::send;
use crate::report::{Protocol, Service};

/// Largest SMB message taken from a peer.
const MAX_MESSAGE: usize = 64 * 1024;
/// SMB 2.0.2, 2.1, 3.0 and 3.0.2 (3.1.1 needs negotiate contexts and adds nothing the
/// screen reports).
const SMB2_DIALECTS: [u16; 4] = [0x0202, 0x0210, 0x0300, 0x0302];

/// Identifies SMB on `first` (and a second connection for the SMB1 question).
pub async fn probe(mut first: TcpStream, addr: SocketAddr, wait: Duration) -> Option<Service> {
    let mut service = Service::new(Protocol::Smb);
    let smb2 = negotiate2(&mut first, wait).await;
    if let Some(n) = &smb2 {
        service = service
            .with("smb2_dialect", dialect_name(n.dialect))
            .with("signing", n.signing());
        if let Some(challenge) = session_setup2(&mut first, wait).await {
            service = describe_challenge(service, &challenge);
        }
    }
    drop(first);
    let smb1 = match tokio::time::timeout(wait, TcpStream::connect(addr)).await {
        Ok(Ok(mut conn)) => negotiate1(&mut conn, wait).await.map(|n| (n, conn)),
        _ => None,
    };
    match smb1 {
        Some((n, mut conn)) => {
            service = service.with("smb1", "enabled");
            if smb2.is_none() {
                service = service.with("signing", n.signing());
            }
            if let Some(native) = session_setup1(&mut conn, wait).await {
                if !native.os.is_empty() {
                    service = service.with("native_os", native.os);
                }
                if !native.lan_manager.is_empty() {
                    service.product = Some(native.lan_manager);
                }
                if service.detail("os").is_none() {
                    if let Some(challenge) = native.challenge {
                        service = describe_challenge(service, &challenge);
                    }
                }
            }
        }
        None if smb2.is_some() => service = service.with("smb1", "disabled"),
        None => return None,
    }
    // Samba answers NTLM as Windows 6.1 build 0; with SMB1 on it names itself.
    if service
        .product
        .as_deref()
        .is_some_and(|p| p.starts_with("Samba"))
    {
        let samba = service.product.clone().unwrap_or_default();
        service = service.with("os", samba);
    }
    Some(service)
}

/// What an SMB2 NEGOTIATE response says.
#[derive(Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub dialect: u16,
    pub signing_required: bool,
}

impl Negotiated {
    fn signing(&self) -> &'static str {
        if self.signing_required {
            "required"
        } else {
            "not required"
        }
    }
}

fn dialect_name(d: u16) -> String {
    match d {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0311 => "3.1.1".into(),
        0x02ff => "2.x".into(),
        other => format!("0x{other:04x}"),
    }
}

/// Frames an SMB message for direct TCP (a 4-byte length header).
fn framed(message: &[u8]) -> Vec<u8> {
    let len = message.len() as u32;
    let mut out = vec![0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    out.extend_from_slice(message);
    out
}

/// Reads one framed SMB message within `wait`.
async fn read_message(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let read = async {
        let mut head = [0u8; 4];
        stream.read_exact(&mut head).await.ok()?;
        let len = usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3]);
        if head[0] != 0 || len > MAX_MESSAGE {
            return None;
        }
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await.ok()?;
        Some(body)
    };
    tokio::time::timeout(wait, read).await.ok().flatten()
}

fn smb2_header(command: u16, message_id: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(b"\xfeSMB");
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // credit charge
    h.extend_from_slice(&0u32.to_le_bytes()); // status
    h.extend_from_slice(&command.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // credits requested
    h.extend_from_slice(&0u32.to_le_bytes()); // flags
    h.extend_from_slice(&0u32.to_le_bytes()); // next command
    h.extend_from_slice(&message_id.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // process id
    h.extend_from_slice(&0u32.to_le_bytes()); // tree id
    h.extend_from_slice(&0u64.to_le_bytes()); // session id
    h.extend_from_slice(&[0; 16]); // signature
    h
}

/// SMB2 NEGOTIATE request offering [`SMB2_DIALECTS`], signing enabled (not required).
pub fn negotiate2_request() -> Vec<u8> {
    let mut m = smb2_header(0, 0);
    m.extend_from_slice(&36u16.to_le_bytes());
    m.extend_from_slice(&(SMB2_DIALECTS.len() as u16).to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes()); // signing enabled
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes()); // capabilities
    m.extend_from_slice(b"wardwatch-screen"); // client GUID (16 bytes)
    m.extend_from_slice(&0u64.to_le_bytes());
    for d in SMB2_DIALECTS {
        m.extend_from_slice(&d.to_le_bytes());
    }
    framed(&m)
}

/// Reads an SMB2 NEGOTIATE response.
pub fn parse_negotiate2(message: &[u8]) -> Option<Negotiated> {
    if message.get(..4)? != b"\xfeSMB"
        || u16::from_le_bytes(message.get(12..14)?.try_into().ok()?) != 0
    {
        return None;
    }
    let status = u32::from_le_bytes(message.get(8..12)?.try_into().ok()?);
    let body = message.get(64..)?;
    if status != 0 || u16::from_le_bytes(body.get(..2)?.try_into().ok()?) != 65 {
        return None;
    }
    let security_mode = u16::from_le_bytes(body.get(2..4)?.try_into().ok()?);
    let dialect = u16::from_le_bytes(body.get(4..6)?.try_into().ok()?);
    Some(Negotiated {
        dialect,
        signing_required: security_mode & 0x02 != 0,
    })
}

async fn negotiate2(stream: &mut TcpStream, wait: Duration) -> Option<Negotiated> {
    if !send(stream, wait, &negotiate2_request()).await {
        return None;
    }
    parse_negotiate2(&read_message(stream, wait).await?)
}

/// An NTLMSSP NEGOTIATE message asking for the server's version and target names.
fn ntlm_negotiate() -> Vec<u8> {
    let flags: u32 = 0x0000_0001 // unicode
        | 0x0000_0004 // request target
        | 0x0000_0200 // NTLM
        | 0x0000_8000 // always sign
        | 0x0008_0000 // extended session security
        | 0x0080_0000 // target info
        | 0x0200_0000 // version
        | 0x2000_0000 // 128-bit
        | 0x8000_0000; // 56-bit
    let mut m = Vec::with_capacity(40);
    m.extend_from_slice(b"NTLMSSP\0");
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&[0; 16]); // domain and workstation: empty
    m.extend_from_slice(&[0; 8]); // our version: none
    m
}

/// DER length octets.
fn der_len(len: usize) -> Vec<u8> {
    match len {
        0..=0x7f => vec![len as u8],
        0x80..=0xff => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(body.len()));
    out.extend_from_slice(body);
    out
}

/// The NTLMSSP NEGOTIATE wrapped in SPNEGO's NegTokenInit, as clients send it.
fn spnego_negotiate() -> Vec<u8> {
    const SPNEGO_OID: &[u8] = &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    const NTLMSSP_OID: &[u8] = &[
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ];
    let mech_types = der(0xa0, &der(0x30, NTLMSSP_OID));
    let mech_token = der(0xa2, &der(0x04, &ntlm_negotiate()));
    let init = der(0xa0, &der(0x30, &[mech_types, mech_token].concat()));
    der(0x60, &[SPNEGO_OID, &init].concat())
}

/// The NTLMSSP CHALLENGE inside a security blob, wherever SPNEGO put it.
fn find_challenge(blob: &[u8]) -> Option<Vec<u8>> {
    let start = blob.windows(8).position(|w| w == b"NTLMSSP\0")?;
    let challenge = &blob[start..];
    (u32::from_le_bytes(challenge.get(8..12)?.try_into().ok()?) == 2).then(|| challenge.to_vec())
}

async fn session_setup2(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let blob = spnego_negotiate();
    let mut m = smb2_header(1, 1);
    m.extend_from_slice(&25u16.to_le_bytes());
    m.push(0); // flags
    m.push(1); // signing enabled
    m.extend_from_slice(&0u32.to_le_bytes()); // capabilities
    m.extend_from_slice(&0u32.to_le_bytes()); // channel
    m.extend_from_slice(&(64u16 + 24).to_le_bytes()); // security buffer offset
    m.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    m.extend_from_slice(&0u64.to_le_bytes()); // previous session
    m.extend_from_slice(&blob);
    if !send(stream, wait, &framed(&m)).await {
        return None;
    }
    let answer = read_message(stream, wait).await?;
    if answer.get(..4)? != b"\xfeSMB" {
        return None;
    }
    // STATUS_MORE_PROCESSING_REQUIRED carries the challenge.
    let offset = usize::from(u16::from_le_bytes(answer.get(68..70)?.try_into().ok()?));
    let len = usize::from(u16::from_le_bytes(answer.get(70..72)?.try_into().ok()?));
    find_challenge(answer.get(offset..offset.checked_add(len)?)?)
}

/// What a CHALLENGE says of the server: its version (the operating system and its
/// build) and its names.
pub fn describe_challenge(mut service: Service, challenge: &[u8]) -> Service {
    let flags = challenge
        .get(20..24)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0);
    if flags & 0x0200_0000 != 0 {
        if let Some(v) = challenge.get(48..56) {
            let (major, minor) = (v[0], v[1]);
            let build = u16::from_le_bytes([v[2], v[3]]);
            service = service
                .with("os_version", format!("{major}.{minor}.{build}"))
                .with("os", windows_name(major, minor, build));
        }
    }
    let field = |at: usize| -> Option<&[u8]> {
        let len = usize::from(u16::from_le_bytes(
            challenge.get(at..at + 2)?.try_into().ok()?,
        ));
        let offset = u32::from_le_bytes(challenge.get(at + 4..at + 8)?.try_into().ok()?) as usize;
        challenge.get(offset..offset.checked_add(len)?)
    };
    if let Some(info) = field(40) {
        for (id, name) in [
            (1u16, "netbios_name"),
            (2, "netbios_domain"),
            (3, "dns_name"),
            (4, "dns_domain"),
        ] {
            if let Some(value) = av_pair(info, id).filter(|v| !v.is_empty()) {
                service = service.with(name, value);
            }
        }
    }
    service
}

/// A text value from NTLMSSP's target information (AV pairs, UTF-16LE).
fn av_pair(mut info: &[u8], wanted: u16) -> Option<String> {
    while info.len() >= 4 {
        let id = u16::from_le_bytes([info[0], info[1]]);
        let len = usize::from(u16::from_le_bytes([info[2], info[3]]));
        if id == 0 {
            return None;
        }
        let value = info.get(4..4 + len)?;
        if id == wanted {
            return Some(utf16(value));
        }
        info = &info[4 + len..];
    }
    None
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    super::io::printable(String::from_utf16_lossy(&units).as_bytes(), 80)
}

/// The Windows release an NTLM version names (Samba reports one too).
pub fn windows_name(major: u8, minor: u8, build: u16) -> String {
    // Real Windows always has a build number; Samba reports 6.1 with none.
    if build == 0 {
        return format!("not Windows (reports NT {major}.{minor} build 0, as Samba does)");
    }
    let name = match (major, minor) {
        (5, 0) => "Windows 2000",
        (5, 1) => "Windows XP",
        (5, 2) => "Windows XP x64 / Server 2003",
        (6, 0) => "Windows Vista / Server 2008",
        (6, 1) => "Windows 7 / Server 2008 R2",
        (6, 2) => "Windows 8 / Server 2012",
        (6, 3) => "Windows 8.1 / Server 2012 R2",
        (10, 0) if build >= 22000 => "Windows 11",
        (10, 0) if build == 20348 => "Windows Server 2022",
        (10, 0) if build == 17763 => "Windows 10 1809 / Server 2019",
        (10, 0) if build == 14393 => "Windows 10 1607 / Server 2016",
        (10, 0) => "Windows 10",
        _ => return format!("NT {major}.{minor} build {build}"),
    };
    format!("{name} (build {build})")
}

fn smb1_header(command: u8) -> Vec<u8> {
    let mut h = Vec::with_capacity(32);
    h.extend_from_slice(b"\xffSMB");
    h.push(command);
    h.extend_from_slice(&0u32.to_le_bytes()); // status
    h.push(0x18); // case-insensitive, canonical names
    h.extend_from_slice(&0xc803u16.to_le_bytes()); // unicode, NT status, extended security, long names
    h.extend_from_slice(&0u16.to_le_bytes()); // pid high
    h.extend_from_slice(&[0; 8]); // signature
    h.extend_from_slice(&0u16.to_le_bytes()); // reserved
    h.extend_from_slice(&0u16.to_le_bytes()); // tid
    h.extend_from_slice(&0xfeffu16.to_le_bytes()); // pid
    h.extend_from_slice(&0u16.to_le_bytes()); // uid
    h.extend_from_slice(&0u16.to_le_bytes()); // mid
    h
}

/// SMB1 NEGOTIATE offering only "NT LM 0.12": only a server with SMB1 on accepts it.
pub fn negotiate1_request() -> Vec<u8> {
    let mut m = smb1_header(0x72);
    let dialects = b"\x02NT LM 0.12\0";
    m.push(0); // word count
    m.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    m.extend_from_slice(dialects);
    framed(&m)
}

/// Whether an SMB1 NEGOTIATE response chose our dialect, and its signing rule.
pub fn parse_negotiate1(message: &[u8]) -> Option<Negotiated> {
    if message.get(..4)? != b"\xffSMB" || *message.get(4)? != 0x72 {
        return None;
    }
    let status = u32::from_le_bytes(message.get(5..9)?.try_into().ok()?);
    let words = *message.get(32)?;
    if status != 0 || words < 17 {
        return None;
    }
    let index = u16::from_le_bytes(message.get(33..35)?.try_into().ok()?);
    let security_mode = *message.get(35)?;
    (index == 0).then_some(Negotiated {
        dialect: 0x0100,
        signing_required: security_mode & 0x08 != 0,
    })
}

async fn negotiate1(stream: &mut TcpStream, wait: Duration) -> Option<Negotiated> {
    if !send(stream, wait, &negotiate1_request()).await {
        return None;
    }
    parse_negotiate1(&read_message(stream, wait).await?)
}

/// The native OS and LAN manager an SMB1 server names, and its NTLM challenge.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Native {
    pub os: String,
    pub lan_manager: String,
    pub challenge: Option<Vec<u8>>,
}

async fn session_setup1(stream: &mut TcpStream, wait: Duration) -> Option<Native> {
    let blob = spnego_negotiate();
    let mut m = smb1_header(0x73);
    m.push(12); // word count
    m.extend_from_slice(&[0xff, 0]); // no AndX command
    m.extend_from_slice(&0u16.to_le_bytes()); // AndX offset
    m.extend_from_slice(&4356u16.to_le_bytes()); // max buffer
    m.extend_from_slice(&10u16.to_le_bytes()); // max mpx
    m.extend_from_slice(&0u16.to_le_bytes()); // VC number
    m.extend_from_slice(&0u32.to_le_bytes()); // session key
    m.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes()); // reserved
    m.extend_from_slice(&0x8000_00d4u32.to_le_bytes()); // extended security, NT status, unicode, large files
    let pad = usize::from((m.len() + 2 + blob.len()) % 2 == 1);
    let bytes = blob.len() + pad + 4;
    m.extend_from_slice(&(bytes as u16).to_le_bytes());
    m.extend_from_slice(&blob);
    m.extend(std::iter::repeat_n(0u8, pad));
    m.extend_from_slice(&[0; 4]); // empty native OS and LAN manager
    if !send(stream, wait, &framed(&m)).await {
        return None;
    }
    parse_session_setup1(&read_message(stream, wait).await?)
}

/// Reads an SMB1 SESSION_SETUP_ANDX response with extended security.
pub fn parse_session_setup1(message: &[u8]) -> Option<Native> {
    if message.get(..4)? != b"\xffSMB" || *message.get(4)? != 0x73 || *message.get(32)? != 4 {
        return None;
    }
    let blob_len = usize::from(u16::from_le_bytes(message.get(39..41)?.try_into().ok()?));
    let byte_count = usize::from(u16::from_le_bytes(message.get(41..43)?.try_into().ok()?));
    let bytes = message.get(43..43usize.checked_add(byte_count)?)?;
    let blob = bytes.get(..blob_len)?;
    let mut rest = &bytes[blob_len..];
    // Unicode strings start on an even offset from the SMB header.
    if (43 + blob_len) % 2 == 1 && !rest.is_empty() {
        rest = &rest[1..];
    }
    let mut strings = rest
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect::<Vec<u16>>()
        .split(|u| *u == 0)
        .map(|s| super::io::printable(String::from_utf16_lossy(s).as_bytes(), 80))
        .collect::<Vec<String>>()
        .into_iter();
    Some(Native {
        os: strings.next().unwrap_or_default(),
        lan_manager: strings.next().unwrap_or_default(),
        challenge: find_challenge(blob),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_answers_give_dialect_and_signing_and_foreign_answers_nothing() {
        let mut m = smb2_header(0, 0);
        m.extend_from_slice(&65u16.to_le_bytes());
        m.extend_from_slice(&3u16.to_le_bytes()); // signing enabled and required
        m.extend_from_slice(&0x0302u16.to_le_bytes());
        m.extend_from_slice(&[0; 58]);
        assert_eq!(
            parse_negotiate2(&m),
            Some(Negotiated {
                dialect: 0x0302,
                signing_required: true
            })
        );
        assert_eq!(parse_negotiate2(&m[..66]), None);
        assert_eq!(parse_negotiate2(b"HTTP/1.1 400 Bad Request\r\n"), None);
        let request = negotiate2_request();
        assert_eq!(usize::from(request[3]) + 4, request.len());
        assert_eq!(
            parse_negotiate1(&negotiate1_request()[4..]),
            None,
            "a request is no answer"
        );
    }

    #[test]
    fn a_challenge_names_the_windows_release_and_the_server() {
        let mut c = b"NTLMSSP\0".to_vec();
        c.extend_from_slice(&2u32.to_le_bytes());
        c.extend_from_slice(&[0; 8]); // target name
        c.extend_from_slice(&0x0280_0000u32.to_le_bytes()); // version, target info
        c.extend_from_slice(&[0; 16]); // challenge, reserved
        let mut info = Vec::new();
        for (id, text) in [(1u16, "WARD3-PC"), (2, "HOSPITAL")] {
            let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            info.extend_from_slice(&id.to_le_bytes());
            info.extend_from_slice(&(units.len() as u16).to_le_bytes());
            info.extend_from_slice(&units);
        }
        info.extend_from_slice(&[0; 4]);
        c.extend_from_slice(&(info.len() as u16).to_le_bytes());
        c.extend_from_slice(&(info.len() as u16).to_le_bytes());
        c.extend_from_slice(&56u32.to_le_bytes());
        c.extend_from_slice(&[6, 1, 0xb1, 0x1d, 0, 0, 0, 15]); // 6.1 build 7601
        c.extend_from_slice(&info);
        let s = describe_challenge(Service::new(Protocol::Smb), &c);
        assert_eq!(
            s.detail("os"),
            Some("Windows 7 / Server 2008 R2 (build 7601)")
        );
        assert_eq!(s.detail("netbios_name"), Some("WARD3-PC"));
        assert_eq!(s.detail("netbios_domain"), Some("HOSPITAL"));
        // A lying offset is ignored, not followed.
        let mut bad = c.clone();
        bad[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            describe_challenge(Service::new(Protocol::Smb), &bad).detail("netbios_name"),
            None
        );
        assert_eq!(
            find_challenge(&[b"xx".as_slice(), &c].concat()),
            Some(c.clone())
        );
        assert_eq!(windows_name(5, 1, 2600), "Windows XP (build 2600)");
    }
}
