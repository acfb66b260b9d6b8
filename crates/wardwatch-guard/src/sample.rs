//! Reading a file the way the guard needs it: the few sampled blocks the scorer's
//! fingerprint is computed from, and a SHA-256 for the record of what a file was
//! before and after. Both read through an already open descriptor, so the bytes are
//! those of the file the event was about even if the name was reused meanwhile.

use std::fs::File;
use std::io;

use serde::Serialize;
use sha2::{Digest, Sha256};
use wardwatch_detect::content::{fingerprint, sample_offsets, Fingerprint};

use wardwatch_os::fd::{open_for_reading, read_block, read_into};

/// Files up to this size are hashed whole; larger ones by sampled blocks, so that one
/// multi-gigabyte image does not hold up the guard.
pub const FULL_HASH_LIMIT: u64 = 64 * 1024 * 1024;
/// Sampled hash of a large file: this many blocks, evenly spread, head and tail included.
const SAMPLED_BLOCKS: u64 = 16;
const SAMPLED_BLOCK_LEN: usize = 64 * 1024;
/// Read size when hashing a whole file.
const HASH_BLOCK_LEN: usize = 256 * 1024;

/// A SHA-256 of a file's content, or of sampled blocks of a large file (`sampled`),
/// which still shows that the file changed but cannot be compared with a backup's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentHash {
    pub sha256: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sampled: bool,
}

/// The scorer's fingerprint of an open file of `size` bytes.
pub fn fingerprint_file(file: &File, size: u64) -> io::Result<Fingerprint> {
    let offsets = sample_offsets(size);
    // The sampled blocks side by side in one buffer, each cut to what was read.
    let mut buf = vec![0u8; offsets.iter().map(|(_, len)| len).sum()];
    let mut spans = Vec::with_capacity(offsets.len());
    let mut at = 0;
    for (offset, len) in offsets {
        let n = read_into(file, offset, &mut buf[at..at + len])?;
        spans.push((at, n));
        at += len;
    }
    let refs: Vec<&[u8]> = spans.iter().map(|(at, n)| &buf[*at..at + n]).collect();
    Ok(fingerprint(size, &refs))
}

/// SHA-256 of an open file of `size` bytes: whole up to [`FULL_HASH_LIMIT`], sampled above.
pub fn hash_file(file: &File, size: u64) -> io::Result<ContentHash> {
    let mut hasher = Sha256::new();
    if size <= FULL_HASH_LIMIT {
        // One buffer for the whole file, no larger than it (plus a byte to see a file
        // that grew): most files written are small, and zeroing 256 KiB for each of
        // them cost more than hashing them.
        let len = usize::try_from(size.saturating_add(1))
            .unwrap_or(HASH_BLOCK_LEN)
            .min(HASH_BLOCK_LEN);
        let mut buf = vec![0u8; len];
        let mut offset = 0u64;
        loop {
            let n = read_into(file, offset, &mut buf)?;
            if n == 0 {
                break;
            }
            offset += n as u64;
            hasher.update(&buf[..n]);
            if n < buf.len() {
                break;
            }
        }
        return Ok(ContentHash {
            sha256: hex::encode(hasher.finalize()),
            sampled: false,
        });
    }
    hasher.update(b"wardwatch-sampled-v1\0");
    hasher.update(size.to_le_bytes());
    let last = size.saturating_sub(SAMPLED_BLOCK_LEN as u64);
    for i in 0..SAMPLED_BLOCKS {
        let offset = last * i / (SAMPLED_BLOCKS - 1);
        hasher.update(read_block(file, offset, SAMPLED_BLOCK_LEN)?);
    }
    Ok(ContentHash {
        sha256: hex::encode(hasher.finalize()),
        sampled: true,
    })
}

/// Hashes the file at `path` now, if it is still a regular file.
pub fn hash_path(path: &std::path::Path) -> Option<ContentHash> {
    let file = open_for_reading(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    hash_file(&file, meta.len()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn small_files_are_hashed_whole() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"abc").unwrap();
        let h = hash_file(&f, 3).unwrap();
        assert_eq!(
            h.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!h.sampled);
    }
}
