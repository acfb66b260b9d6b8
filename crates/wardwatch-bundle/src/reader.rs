//! Reads a bundle once, front to back: the manifest and its signature first, handed to a
//! [`Visitor`] that decides whether to go on; then each member, checked against the
//! manifest while it streams (type, name, order, size, SHA-256); then the end of the
//! archive. Only one buffer of content is in memory at a time.

use std::collections::HashSet;
use std::io::Read;

use sha2::{Digest, Sha256};

use crate::error::BundleError;
use crate::limits::Limits;
use crate::manifest::Member;
use crate::names::{self, MANIFEST_NAME, SIGNATURE_NAME};
use crate::signature::MAX_SIGNATURE_LEN;
use crate::stream::{self, Decompressed, StreamState};

const BLOCK: u64 = 512;
/// Tolerated beyond the announced members: the end-of-archive blocks and a tar record's
/// worth of zero padding.
const END_SLACK: u64 = 2 * BLOCK + 10_240;
const BUFFER: usize = 64 * 1024;

/// The first two members, as read; nothing in them is trusted yet.
pub(crate) struct Head {
    pub manifest: Vec<u8>,
    pub signature: Option<Vec<u8>>,
}

/// What to do after the head.
pub(crate) enum Next {
    /// Stop reading (inspection).
    Stop,
    /// Read and check the members this list announces.
    Members(Vec<Member>),
}

/// Decides about the head and receives member content that passed the checks so far.
/// A member's content is only known to be good once [`Visitor::end`] is called.
pub(crate) trait Visitor {
    fn head(&mut self, head: Head) -> Result<Next, BundleError>;
    fn begin(&mut self, _member: &Member) -> Result<(), BundleError> {
        Ok(())
    }
    fn data(&mut self, _chunk: &[u8]) -> Result<(), BundleError> {
        Ok(())
    }
    fn end(&mut self, _member: &Member) -> Result<(), BundleError> {
        Ok(())
    }
}

type Entries<'a, R> = tar::Entries<'a, Decompressed<R>>;
type Entry<'a, R> = tar::Entry<'a, Decompressed<R>>;

/// Reads the bundle in `input`, calling `visitor` along the way.
pub(crate) fn read<R: Read>(
    input: R,
    limits: &Limits,
    visitor: &mut dyn Visitor,
) -> Result<(), BundleError> {
    let head_limit = 6 * BLOCK + limits.max_manifest_size + MAX_SIGNATURE_LEN;
    let (stream, state) = stream::open(input, head_limit)?;
    let mut archive = tar::Archive::new(stream);
    let finished = {
        let entries = archive.entries().map_err(|e| state.classify(e))?;
        read_entries(entries.raw(true), &state, limits, visitor)?
    };
    if finished {
        drain(archive.into_inner(), &state)?;
    }
    Ok(())
}

fn read_entries<R: Read>(
    mut entries: Entries<'_, R>,
    state: &StreamState,
    limits: &Limits,
    visitor: &mut dyn Visitor,
) -> Result<bool, BundleError> {
    let mut first = next(&mut entries, state)?.ok_or_else(|| BundleError::MalformedArchive {
        detail: "the archive holds no member".into(),
    })?;
    let name = entry_name(&first);
    if name != MANIFEST_NAME {
        return Err(BundleError::ManifestMissing { found: name });
    }
    check_type(&first, &name)?;
    let size = first.size();
    if size > limits.max_manifest_size {
        return Err(BundleError::ManifestTooLarge {
            size,
            limit: limits.max_manifest_size,
        });
    }
    let manifest = read_small(&mut first, size, state, &name)?;

    let mut pending = next(&mut entries, state)?;
    let mut signature = None;
    if let Some(mut second) = pending.take_if(|e| entry_name(e) == SIGNATURE_NAME) {
        check_type(&second, SIGNATURE_NAME)?;
        let size = second.size();
        if size > MAX_SIGNATURE_LEN {
            return Err(BundleError::SignatureTooLarge {
                size,
                limit: MAX_SIGNATURE_LEN,
            });
        }
        signature = Some(read_small(&mut second, size, state, SIGNATURE_NAME)?);
        pending = next(&mut entries, state)?;
    }

    let members = match visitor.head(Head {
        manifest,
        signature,
    })? {
        Next::Stop => return Ok(false),
        Next::Members(members) => members,
    };

    // From here on the stream may hold what the manifest announced, and no more.
    let announced = members.iter().fold(0u64, |acc, m| {
        acc.saturating_add(m.size.saturating_add(BLOCK - 1) / BLOCK * BLOCK)
    });
    let headers = (members.len() as u64).saturating_mul(BLOCK);
    let limit = state
        .consumed()
        .saturating_add(announced.min(limits.max_total_size.saturating_add(BLOCK)))
        .saturating_add(headers)
        .saturating_add(END_SLACK);
    state.set_limit(limit);

    let listed: HashSet<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut buf = vec![0u8; BUFFER];
    for member in &members {
        let entry = match pending.take() {
            Some(e) => Some(e),
            None => next(&mut entries, state)?,
        };
        let mut entry = entry.ok_or_else(|| BundleError::MissingMember {
            name: member.name.clone(),
        })?;
        check_member_entry(&entry, member, &listed, &mut seen)?;
        copy_member(&mut entry, member, state, visitor, &mut buf)?;
    }
    let extra = match pending.take() {
        Some(e) => Some(e),
        None => next(&mut entries, state)?,
    };
    if let Some(extra) = extra {
        let name = entry_name(&extra);
        return Err(if seen.contains(&name) {
            BundleError::DuplicateMember { name }
        } else {
            BundleError::ExtraMember { name }
        });
    }
    Ok(true)
}

fn next<'a, R: Read>(
    entries: &mut Entries<'a, R>,
    state: &StreamState,
) -> Result<Option<Entry<'a, R>>, BundleError> {
    entries.next().transpose().map_err(|e| state.classify(e))
}

/// The entry's path as text; bytes that are not UTF-8 show as U+FFFD and fail the name check.
fn entry_name<R: Read>(entry: &Entry<'_, R>) -> String {
    String::from_utf8_lossy(&entry.path_bytes()).into_owned()
}

/// Name, type, place and size of a member's entry, all before reading its content.
fn check_member_entry<R: Read>(
    entry: &Entry<'_, R>,
    member: &Member,
    listed: &HashSet<&str>,
    seen: &mut HashSet<String>,
) -> Result<(), BundleError> {
    let raw = entry.path_bytes();
    let name = entry_name(entry);
    if std::str::from_utf8(&raw).is_err() {
        return Err(BundleError::InvalidName {
            name,
            reason: "not UTF-8",
        });
    }
    names::check_name(&name)?;
    check_type(entry, &name)?;
    if seen.contains(&name) {
        return Err(BundleError::DuplicateMember { name });
    }
    if name != member.name {
        return Err(if listed.contains(name.as_str()) {
            BundleError::UnexpectedMember {
                name,
                expected: member.name.clone(),
            }
        } else {
            BundleError::ExtraMember { name }
        });
    }
    seen.insert(name);
    let actual = entry.size();
    if actual > member.size {
        return Err(BundleError::MemberTooLarge {
            name: member.name.clone(),
            announced: member.size,
            actual,
        });
    }
    if actual < member.size {
        return Err(BundleError::MemberTooSmall {
            name: member.name.clone(),
            announced: member.size,
            actual,
        });
    }
    Ok(())
}

/// Only regular files with POSIX headers: links, devices, directories and tar extension
/// headers (long names, pax, sparse) are refused, each by name.
fn check_type<R: Read>(entry: &Entry<'_, R>, name: &str) -> Result<(), BundleError> {
    let header = entry.header();
    let kind = match header.entry_type() {
        tar::EntryType::Regular => {
            if header.as_ustar().is_none() && header.as_gnu().is_none() {
                return Err(BundleError::MalformedArchive {
                    detail: format!("member {name:?} has a pre-POSIX tar header"),
                });
            }
            return Ok(());
        }
        tar::EntryType::Symlink => {
            return Err(BundleError::SymlinkMember {
                name: name.to_owned(),
            })
        }
        tar::EntryType::Link => {
            return Err(BundleError::HardlinkMember {
                name: name.to_owned(),
            })
        }
        tar::EntryType::Char => "a character device".to_owned(),
        tar::EntryType::Block => "a block device".to_owned(),
        tar::EntryType::Fifo => "a FIFO".to_owned(),
        tar::EntryType::Directory => "a directory".to_owned(),
        tar::EntryType::Continuous => "a contiguous file".to_owned(),
        tar::EntryType::GNULongName => "a GNU long-name header".to_owned(),
        tar::EntryType::GNULongLink => "a GNU long-link header".to_owned(),
        tar::EntryType::GNUSparse => "a sparse file".to_owned(),
        tar::EntryType::XHeader => "a pax extended header".to_owned(),
        tar::EntryType::XGlobalHeader => "a pax global header".to_owned(),
        other => format!("an entry of unknown type {:?}", char::from(other.as_byte())),
    };
    Err(BundleError::SpecialMember {
        name: name.to_owned(),
        kind,
    })
}

/// Reads a small member (manifest, signature) whose size was already capped.
fn read_small<R: Read>(
    entry: &mut Entry<'_, R>,
    size: u64,
    state: &StreamState,
    name: &str,
) -> Result<Vec<u8>, BundleError> {
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry
        .take(size)
        .read_to_end(&mut bytes)
        .map_err(|e| state.classify(e))?;
    if (bytes.len() as u64) < size {
        return Err(BundleError::Truncated {
            detail: format!("{name:?} ends after {} of {size} bytes", bytes.len()),
        });
    }
    Ok(bytes)
}

/// Streams a member's content to the visitor and checks its SHA-256 at the end.
fn copy_member<R: Read>(
    entry: &mut Entry<'_, R>,
    member: &Member,
    state: &StreamState,
    visitor: &mut dyn Visitor,
    buf: &mut [u8],
) -> Result<(), BundleError> {
    visitor.begin(member)?;
    let mut hasher = Sha256::new();
    let mut remaining = member.size;
    while remaining > 0 {
        let want = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = match entry.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(state.classify(e)),
        };
        if n == 0 {
            return Err(BundleError::Truncated {
                detail: format!(
                    "member {:?} ends after {} of {} bytes",
                    member.name,
                    member.size - remaining,
                    member.size
                ),
            });
        }
        hasher.update(&buf[..n]);
        visitor.data(&buf[..n])?;
        remaining -= n as u64;
    }
    if hasher.finalize().as_slice() != member.sha256 {
        return Err(BundleError::HashMismatch {
            name: member.name.clone(),
        });
    }
    visitor.end(member)
}

/// Reads what follows the end of the archive: zero padding only, within the limit, and a
/// complete zstd frame (a cut-off file fails here even when all members were whole).
fn drain<R: Read>(mut rest: Decompressed<R>, state: &StreamState) -> Result<(), BundleError> {
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match rest.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(state.classify(e)),
        };
        if buf[..n].iter().any(|&b| b != 0) {
            return Err(BundleError::TrailingData);
        }
    }
}
