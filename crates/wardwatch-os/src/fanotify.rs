//! fanotify through `libc`: creating a group, marking, splitting a read buffer into
//! events and their directory-entry records, and answering permission events. The
//! policy (what to mark, what an event means) belongs to the callers: the ransomware
//! guard and the on-access scanner.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::fd::cvt;

/// A directory as an event names it: the file system's id and the kernel's handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirKey {
    pub fsid: [u8; 8],
    pub handle_type: i32,
    pub handle: Vec<u8>,
}

const EVENT_METADATA_LEN: usize = 24;
const METADATA_VERSION: u8 = 3;
/// Read buffer: many events per `read(2)`.
pub const READ_BUFFER: usize = 256 * 1024;
pub fn fanotify_init(flags: u32, event_f_flags: u32) -> std::io::Result<OwnedFd> {
    // SAFETY: fanotify_init(2) with flag words; the result is checked.
    let fd = cvt(unsafe { libc::fanotify_init(flags, event_f_flags) })?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn mark(group: &OwnedFd, flags: u32, mask: u64, path: &Path) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: fanotify_mark(2) on our group with a NUL-terminated path.
    cvt(unsafe {
        libc::fanotify_mark(group.as_raw_fd(), flags, mask, libc::AT_FDCWD, c.as_ptr())
    })?;
    Ok(())
}

/// One event as read: the metadata, and the info records that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEvent<'a> {
    pub mask: u64,
    pub fd: RawFd,
    pub pid: i32,
    pub info: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2)?.try_into().ok().map(u16::from_ne_bytes)
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?.try_into().ok().map(u32::from_ne_bytes)
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)?.try_into().ok().map(u64::from_ne_bytes)
}

/// Splits a read buffer into events (`struct fanotify_event_metadata` + info records).
/// Stops at the first malformed event. The descriptors are only numbers here: readers
/// use [`read_events`], which owns them; this form is for tests and fuzzing.
pub fn parse_events(buf: &[u8]) -> Vec<RawEvent<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + EVENT_METADATA_LEN <= buf.len() {
        let b = &buf[at..];
        let (Some(event_len), Some(metadata_len), Some(mask), Some(fd), Some(pid)) = (
            u32_at(b, 0).map(|v| v as usize),
            u16_at(b, 6).map(|v| v as usize),
            u64_at(b, 8),
            u32_at(b, 16).map(|v| v as i32),
            u32_at(b, 20).map(|v| v as i32),
        ) else {
            break;
        };
        if b[4] != METADATA_VERSION
            || event_len < EVENT_METADATA_LEN
            || metadata_len < EVENT_METADATA_LEN
            || metadata_len > event_len
            || event_len > b.len()
        {
            tracing::error!(version = b[4], "unexpected fanotify event layout");
            break;
        }
        out.push(RawEvent {
            mask,
            fd,
            pid,
            info: &b[metadata_len..event_len],
        });
        at += event_len;
    }
    out
}

/// One event read from a group, owning the descriptor the kernel opened for it (closed
/// when the event is dropped, so no path can leak one).
#[derive(Debug)]
pub struct Event<'a> {
    pub mask: u64,
    /// The file of the event; `None` for name events and queue overflows.
    pub fd: Option<OwnedFd>,
    pub pid: i32,
    pub info: &'a [u8],
}

/// Reads the waiting events of `group` into `buf` (one `read(2)`) and takes ownership
/// of their descriptors. Reading and owning happen together, so a descriptor can only
/// be owned once.
pub fn read_events(group: RawFd, buf: &mut AlignedBuf) -> io::Result<Vec<Event<'_>>> {
    let bytes = buf.bytes();
    let n = crate::fd::read_some(group, bytes)?;
    let bytes: &[u8] = &bytes[..n];
    Ok(parse_events(bytes)
        .into_iter()
        .map(|raw| Event {
            mask: raw.mask,
            // SAFETY: the kernel created this descriptor for us with the event just
            // read; nothing else has seen it.
            fd: (raw.fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw.fd) }),
            pid: raw.pid,
            info: raw.info,
        })
        .collect())
}

/// One file-handle info record: a directory entry (`FAN_EVENT_INFO_TYPE_*DFID_NAME`:
/// the directory's handle and the entry's name), or the file itself
/// (`FAN_EVENT_INFO_TYPE_FID`: its handle in `dir`, and no name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRecord {
    pub info_type: u8,
    pub dir: DirKey,
    pub name: Vec<u8>,
}

/// Parses the file-handle info records of an event; records of other types are skipped.
pub fn parse_name_records(info: &[u8]) -> Vec<NameRecord> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= info.len() {
        let info_type = info[at];
        let Some(len) = u16_at(info, at + 2).map(|l| l as usize) else {
            break;
        };
        if len < 4 || at + len > info.len() {
            break;
        }
        let rec = &info[at..at + len];
        at += len;
        if !matches!(
            info_type,
            libc::FAN_EVENT_INFO_TYPE_FID
                | libc::FAN_EVENT_INFO_TYPE_DFID_NAME
                | libc::FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
                | libc::FAN_EVENT_INFO_TYPE_NEW_DFID_NAME
        ) {
            continue;
        }
        // header (4), fsid (8), handle_bytes (4), handle_type (4), handle, name\0
        let (Some(fsid), Some(handle_bytes), Some(handle_type)) = (
            rec.get(4..12).and_then(|b| <[u8; 8]>::try_from(b).ok()),
            u32_at(rec, 12).map(|v| v as usize),
            u32_at(rec, 16).map(|v| v as i32),
        ) else {
            continue;
        };
        let Some(handle) = rec.get(20..20 + handle_bytes) else {
            continue;
        };
        // A FID record ends with padding after the handle, not a name.
        let name = if info_type == libc::FAN_EVENT_INFO_TYPE_FID {
            Vec::new()
        } else {
            let rest = &rec[20 + handle_bytes..];
            rest.split(|c| *c == 0).next().unwrap_or_default().to_vec()
        };
        out.push(NameRecord {
            info_type,
            dir: DirKey {
                fsid,
                handle_type,
                handle: handle.to_vec(),
            },
            name,
        });
    }
    out
}

/// A read buffer aligned for `struct fanotify_event_metadata`.
pub struct AlignedBuf {
    words: Vec<u64>,
}

impl Default for AlignedBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl AlignedBuf {
    pub fn new() -> Self {
        Self::with_len(READ_BUFFER)
    }

    /// A buffer of `bytes` (rounded up to whole 8-byte words).
    pub fn with_len(bytes: usize) -> Self {
        Self {
            words: vec![0u64; bytes.div_ceil(8)],
        }
    }

    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: a u64 buffer viewed as bytes: same memory, u8 has no alignment needs.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.words.as_mut_ptr().cast::<u8>(),
                self.words.len() * 8,
            )
        }
    }
}

/// The fsid the kernel reports in fanotify events for the file system holding `path`.
pub fn fsid_of(path: &std::path::Path) -> io::Result<[u8; 8]> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: statfs is plain data; zeroed is a valid value before the call fills it.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: statfs(2) with a NUL-terminated path and a live out-struct.
    cvt(unsafe { libc::statfs(c.as_ptr(), &mut st) })?;
    // SAFETY: fsid_t is two c_ints (8 bytes) with private fields; copy its bytes.
    Ok(unsafe { std::mem::transmute::<libc::fsid_t, [u8; 8]>(st.f_fsid) })
}

/// Answers a fanotify permission event on `group`: let the access happen or refuse it
/// (the process gets `EPERM`).
pub fn fanotify_respond(group: RawFd, event_fd: RawFd, allow: bool) -> io::Result<()> {
    let response = libc::fanotify_response {
        fd: event_fd,
        response: if allow {
            libc::FAN_ALLOW
        } else {
            libc::FAN_DENY
        },
    };
    // SAFETY: writes one live fanotify_response to the caller's group.
    let written = unsafe {
        libc::write(
            group,
            (&response as *const libc::fanotify_response).cast(),
            std::mem::size_of::<libc::fanotify_response>(),
        )
    };
    if written < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(mask: u64, fd: i32, pid: i32, info: &[u8]) -> Vec<u8> {
        let len = (EVENT_METADATA_LEN + info.len()) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&len.to_ne_bytes());
        b.push(METADATA_VERSION);
        b.push(0);
        b.extend_from_slice(&(EVENT_METADATA_LEN as u16).to_ne_bytes());
        b.extend_from_slice(&mask.to_ne_bytes());
        b.extend_from_slice(&fd.to_ne_bytes());
        b.extend_from_slice(&pid.to_ne_bytes());
        b.extend_from_slice(info);
        b
    }

    fn name_record(info_type: u8, handle: &[u8], name: &str) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        body.extend_from_slice(&(handle.len() as u32).to_ne_bytes());
        body.extend_from_slice(&1i32.to_ne_bytes());
        body.extend_from_slice(handle);
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        while (body.len() + 4) % 4 != 0 {
            body.push(0);
        }
        let mut rec = vec![info_type, 0];
        rec.extend_from_slice(&((body.len() + 4) as u16).to_ne_bytes());
        rec.extend_from_slice(&body);
        rec
    }

    #[test]
    fn events_and_their_name_records_are_parsed() {
        let mut info = name_record(libc::FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, &[9; 8], "a.pdf");
        info.extend(name_record(
            libc::FAN_EVENT_INFO_TYPE_NEW_DFID_NAME,
            &[7; 12],
            "a.pdf.locked",
        ));
        // A FID record: the file's own handle, padding instead of a name.
        let mut fid = vec![libc::FAN_EVENT_INFO_TYPE_FID, 0, 32, 0];
        fid.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        fid.extend_from_slice(&8u32.to_ne_bytes());
        fid.extend_from_slice(&1i32.to_ne_bytes());
        fid.extend_from_slice(&[5; 8]);
        fid.extend_from_slice(&[0xff; 4]);
        info.extend(fid);
        let mut buf = metadata(libc::FAN_RENAME, -1, 42, &info);
        buf.extend(metadata(libc::FAN_CLOSE_WRITE, 5, 43, &[]));
        let events = parse_events(&buf);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].pid, 42);
        assert_eq!(events[1].fd, 5);
        let records = parse_name_records(events[0].info);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].name, b"a.pdf");
        assert_eq!(records[0].dir.handle, vec![9; 8]);
        assert_eq!(records[0].dir.fsid, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            records[1].info_type,
            libc::FAN_EVENT_INFO_TYPE_NEW_DFID_NAME
        );
        assert_eq!(records[1].name, b"a.pdf.locked");
        assert_eq!(records[2].info_type, libc::FAN_EVENT_INFO_TYPE_FID);
        assert_eq!(records[2].dir.handle, vec![5; 8]);
        assert!(records[2].name.is_empty());
    }

    #[test]
    fn malformed_buffers_end_parsing_without_panicking() {
        let mut buf = metadata(libc::FAN_CREATE, -1, 1, &[]);
        buf[4] = 2; // wrong version
        assert!(parse_events(&buf).is_empty());
        let mut buf = metadata(libc::FAN_CREATE, -1, 1, &[]);
        buf[0] = 200; // longer than the buffer
        assert!(parse_events(&buf).is_empty());
        assert!(parse_events(&[0; 10]).is_empty());
        // A record that claims more bytes than there are.
        let mut rec = name_record(libc::FAN_EVENT_INFO_TYPE_DFID_NAME, &[1; 8], "x");
        rec[2] = 255;
        assert!(parse_name_records(&rec).is_empty());
        // A handle longer than its record.
        let mut rec = name_record(libc::FAN_EVENT_INFO_TYPE_DFID_NAME, &[1; 8], "x");
        rec[12] = 200;
        assert!(parse_name_records(&rec).is_empty());
    }
}
