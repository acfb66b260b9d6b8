//! Whether a file's format holds together where it can be checked from a fingerprint's
//! head and tail blocks. Compressed formats (PNG, JPEG, zip and the office documents
//! built on it) look random inside by design, so entropy cannot see them encrypted;
//! an encryptor that keeps their magic bytes still destroys what follows: PNG chunk
//! headers and the `IEND` chunk, JPEG segment markers and the end-of-image marker, a
//! zip entry's header and the end of its central directory, a PDF's `%%EOF`.
//!
//! Pure, total on any input: each check only reads within the blocks it is given.

use super::FileKind;

/// What could be checked of a file's structure: `Some(true)` holds, `Some(false)` is
/// broken, `None` has no check for this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Structure {
    /// From the head block: what follows the magic bytes.
    pub head: Option<bool>,
    /// From the tail block: the format's end marker where it belongs. Appending to a
    /// file (metadata, a signature, a log line) breaks this too, so it only counts
    /// when the size stayed the same.
    pub tail: Option<bool>,
}

/// The structure of a file of `kind`, from `head` (the block at offset 0) and `tail`
/// (the last sampled block; the same one for small files).
pub fn check(kind: FileKind, head: &[u8], tail: &[u8]) -> Structure {
    match kind {
        FileKind::Png => Structure {
            head: Some(png_head(head)),
            tail: Some(png_tail(tail)),
        },
        FileKind::Jpeg => Structure {
            head: Some(jpeg_head(head)),
            tail: Some(jpeg_tail(tail)),
        },
        FileKind::Zip => Structure {
            head: Some(zip_head(head)),
            tail: Some(zip_tail(tail)),
        },
        FileKind::Pdf => Structure {
            head: None,
            tail: Some(pdf_tail(tail)),
        },
        _ => Structure::default(),
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

/// The signature, an `IHDR` with plausible fields, then every chunk header that starts
/// within the block: a length under 2^31 and a type of four ASCII letters.
fn png_head(head: &[u8]) -> bool {
    if be32(head, 8) != Some(13) || head.get(12..16) != Some(b"IHDR".as_slice()) {
        return false;
    }
    let (Some(width), Some(height)) = (be32(head, 16), be32(head, 20)) else {
        return false;
    };
    let fields = head.get(24..29);
    let Some(&[depth, colour, compression, filter, interlace]) = fields else {
        return false;
    };
    let plausible = width > 0
        && height > 0
        && width < 1 << 31
        && height < 1 << 31
        && matches!(depth, 1 | 2 | 4 | 8 | 16)
        && matches!(colour, 0 | 2 | 3 | 4 | 6)
        && compression == 0
        && filter == 0
        && interlace <= 1;
    if !plausible {
        return false;
    }
    // IHDR ends at 8 + 12 + 13 = 33.
    let mut at = 33usize;
    while at + 8 <= head.len() {
        let Some(len) = be32(head, at) else {
            return false;
        };
        let kind = &head[at + 4..at + 8];
        if len >= 1 << 31 || !kind.iter().all(u8::is_ascii_alphabetic) {
            return false;
        }
        at = match at.checked_add(len as usize + 12) {
            Some(next) => next,
            None => return false,
        };
    }
    true
}

/// The file ends with the `IEND` chunk (length 0, type, its fixed CRC).
fn png_tail(tail: &[u8]) -> bool {
    tail.ends_with(b"\x00\x00\x00\x00IEND\xae\x42\x60\x82")
}

/// Segment markers from offset 2 up to the start of the scan or the end of the block:
/// each `FF` and a marker byte, then a length of at least 2.
fn jpeg_head(head: &[u8]) -> bool {
    let mut at = 2usize;
    while at + 4 <= head.len() {
        if head[at] != 0xff {
            return false;
        }
        let marker = head[at + 1];
        // Fill bytes before a marker.
        if marker == 0xff {
            at += 1;
            continue;
        }
        if marker == 0x00 || marker == 0xd8 || marker == 0x01 || (0xd0..=0xd7).contains(&marker) {
            return false;
        }
        if marker == 0xda {
            return true;
        }
        let len = usize::from(u16::from_be_bytes([head[at + 2], head[at + 3]]));
        if len < 2 {
            return false;
        }
        // An application segment opens with its name ("JFIF", "Exif", "ICC_PROFILE",
        // an XMP namespace): printable up to a NUL. Checked where the block holds it,
        // since the segment itself may run far past the block (EXIF thumbnails).
        if (0xe0..=0xef).contains(&marker) && len > 2 {
            let body = &head[(at + 4).min(head.len())..];
            let name_end = body.iter().take(40).position(|c| *c == 0);
            let readable = |n: &[u8]| n.iter().all(|c| (0x20..0x7f).contains(c));
            match name_end {
                Some(end) if end > 0 && readable(&body[..end]) => {}
                // The block ends inside the name: what there is must read.
                None if body.len() < 40 && readable(body) => {}
                _ => return false,
            }
        }
        at += 2 + len;
    }
    true
}

/// The end-of-image marker near the end (some writers pad after it).
fn jpeg_tail(tail: &[u8]) -> bool {
    let start = tail.len().saturating_sub(64);
    tail[start..].windows(2).any(|w| w == [0xff, 0xd9])
}

/// The first entry's local header: a known compression method, a name of printable
/// characters of plausible length.
fn zip_head(head: &[u8]) -> bool {
    if head.starts_with(b"PK\x05\x06") {
        return true;
    }
    if !head.starts_with(b"PK\x03\x04") {
        return false;
    }
    let (Some(method), Some(name_len)) = (le16(head, 8), le16(head, 26)) else {
        return false;
    };
    if !matches!(method, 0 | 8 | 9 | 12 | 14 | 93 | 95 | 98 | 99)
        || name_len == 0
        || name_len > 1024
    {
        return false;
    }
    match head.get(30..30 + name_len) {
        Some(name) => name.iter().all(|c| (0x20..0x7f).contains(c) || *c >= 0x80),
        // The name runs past the block: nothing more to check here.
        None => true,
    }
}

/// The end of the central directory within the last block: its signature where its
/// comment length says it ends the file.
fn zip_tail(tail: &[u8]) -> bool {
    if tail.len() < 22 {
        return false;
    }
    (0..=tail.len() - 22).rev().any(|at| {
        tail[at..].starts_with(b"PK\x05\x06")
            && le16(tail, at + 20).is_some_and(|comment| at + 22 + comment == tail.len())
    })
}

/// `%%EOF` in the last kilobyte (writers append a line break or a few spaces).
fn pdf_tail(tail: &[u8]) -> bool {
    let start = tail.len().saturating_sub(1024);
    tail[start..].windows(5).any(|w| w == b"%%EOF")
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::super::{sample_offsets, BLOCK};
    use super::*;

    fn blocks(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let offsets = sample_offsets(data.len() as u64);
        let read = |(o, n): (u64, usize)| data[o as usize..o as usize + n].to_vec();
        let head = offsets.first().map(|o| read(*o)).unwrap_or_default();
        let tail = offsets.last().map(|o| read(*o)).unwrap_or_default();
        (head, tail)
    }

    /// Both parts hold (`Some(true)`), one is broken (`Some(false)`), or no check.
    fn holds(kind: FileKind, data: &[u8]) -> Option<bool> {
        let (head, tail) = blocks(data);
        let s = check(kind, &head, &tail);
        match (s.head, s.tail) {
            (None, None) => None,
            (h, t) => Some(h.unwrap_or(true) && t.unwrap_or(true)),
        }
    }

    /// Keeps the first `keep` bytes and replaces the rest with random bytes.
    fn keep_header(rng: &mut Rng, data: &[u8], keep: usize) -> Vec<u8> {
        let mut out = data[..keep.min(data.len())].to_vec();
        out.extend(rng.bytes(data.len().saturating_sub(keep)));
        out
    }

    /// A PNG as encoders write it: IHDR, IDAT chunks of compressed-looking data, IEND.
    fn valid_png(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut d = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x04\x00\x00\x00\x03\x00\x08\x02\x00\x00\x00".to_vec();
        d.extend(rng.bytes(4));
        while d.len() + 12 + 12 < n {
            let len = (n - d.len() - 24).min(8192);
            d.extend((len as u32).to_be_bytes());
            d.extend(b"IDAT");
            d.extend(rng.bytes(len + 4));
        }
        d.extend(b"\x00\x00\x00\x00IEND\xae\x42\x60\x82");
        d
    }

    /// A baseline JPEG: SOI, APP0, DQT, SOF0, DHT, SOS, scan data, EOI.
    fn valid_jpeg(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut d =
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
        d.extend(b"\xff\xdb\x00\x43\x00");
        d.extend(rng.bytes(64));
        d.extend(b"\xff\xc0\x00\x11\x08\x01\x00\x01\x00\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01");
        d.extend(b"\xff\xc4\x00\x1f\x00");
        d.extend(rng.bytes(28));
        d.extend(b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00");
        let scan: Vec<u8> = rng
            .bytes(n.saturating_sub(d.len() + 2))
            .into_iter()
            .map(|b| if b == 0xff { 0xfe } else { b })
            .collect();
        d.extend(scan);
        d.extend(b"\xff\xd9");
        d
    }

    /// A zip of one deflated entry, its central directory and the end record.
    fn valid_zip(rng: &mut Rng, n: usize) -> Vec<u8> {
        let name = b"word/document.xml";
        let mut d = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00\x21\x00".to_vec();
        d.extend(rng.bytes(12));
        d.extend((name.len() as u16).to_le_bytes());
        d.extend(0u16.to_le_bytes());
        d.extend(name);
        d.extend(rng.bytes(n.saturating_sub(d.len() + 46 + name.len() + 22)));
        d.extend(b"PK\x01\x02");
        d.extend(rng.bytes(24));
        d.extend((name.len() as u16).to_le_bytes());
        d.extend([0u8; 12]);
        d.extend(name);
        d.extend(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
        d.extend(rng.bytes(8));
        d.extend(0u16.to_le_bytes());
        d
    }

    #[test]
    fn formats_hold_and_break_when_encrypted_past_their_magic() {
        let mut rng = Rng::new(77);
        for size in [3_000, BLOCK * 3, 200_000] {
            for (kind, data) in [
                (FileKind::Png, valid_png(&mut rng, size)),
                (FileKind::Jpeg, valid_jpeg(&mut rng, size)),
                (FileKind::Zip, valid_zip(&mut rng, size)),
                (FileKind::Pdf, pdf(&mut rng, size)),
            ] {
                assert_eq!(
                    holds(kind, &data),
                    Some(true),
                    "{kind:?} of {size} bytes holds"
                );
                for keep in [4, 8, 16, 64] {
                    let broken = keep_header(&mut rng, &data, keep);
                    let (head, tail) = blocks(&broken);
                    let s = check(kind, &head, &tail);
                    // The tail breaks for every kind.
                    assert_eq!(
                        s.tail,
                        Some(false),
                        "{kind:?} of {size} bytes, first {keep} kept: {s:?}"
                    );
                    // Up to 16 bytes kept, the head breaks too (a zip entry's header
                    // and name are 47 bytes here: 64 kept leaves it whole).
                    if kind != FileKind::Pdf && keep <= 16 {
                        assert_eq!(s.head, Some(false), "{kind:?} {size} {keep}");
                    }
                }
            }
        }
        assert_eq!(holds(FileKind::Text, b"hello"), None);
        // Appending keeps the head whole: only the tail breaks.
        let mut appended = valid_png(&mut rng, 9000);
        appended.extend(b"extra\n");
        let (head, tail) = blocks(&appended);
        assert_eq!(
            check(FileKind::Png, &head, &tail),
            Structure {
                head: Some(true),
                tail: Some(false)
            }
        );
    }

    /// The PNG, JPEG and zip files this machine's packages installed hold (none made
    /// here): a false "broken" would be a false alarm on every copy of them.
    #[test]
    fn files_installed_on_this_machine_hold() {
        let mut checked = 0;
        let mut per_kind: std::collections::BTreeMap<&str, usize> =
            std::collections::BTreeMap::new();
        let mut broken = Vec::new();
        let mut stack = vec![
            std::path::PathBuf::from("/usr/share"),
            std::path::PathBuf::from("/usr/lib/python3"),
        ];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if meta.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !meta.is_file() || meta.len() == 0 {
                    continue;
                }
                let ext = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !matches!(
                    ext.as_str(),
                    "png"
                        | "jpg"
                        | "jpeg"
                        | "zip"
                        | "whl"
                        | "jar"
                        | "docx"
                        | "xlsx"
                        | "odt"
                        | "pdf"
                ) {
                    continue;
                }
                let Ok(data) = std::fs::read(&path) else {
                    continue;
                };
                let kind = super::super::detect_kind(&data[..data.len().min(BLOCK)]);
                // At most 1,000 of each kind: icons would crowd out the rest.
                let seen = per_kind.entry(kind.name()).or_insert(0);
                if *seen >= 1000 {
                    continue;
                }
                if let Some(ok) = holds(kind, &data) {
                    *seen += 1;
                    checked += 1;
                    if !ok {
                        broken.push(path.display().to_string());
                    }
                }
            }
        }
        eprintln!(
            "{checked} installed files checked ({per_kind:?}), {} judged broken: {broken:?}",
            broken.len()
        );
        assert!(checked > 0 || !std::path::Path::new("/usr/share/pixmaps").exists());
        assert!(
            broken.len() * 100 <= checked.max(1),
            "{} of {checked} installed files judged broken: {:?}",
            broken.len(),
            &broken[..broken.len().min(20)]
        );
    }

    #[test]
    fn any_bytes_are_judged_without_panic() {
        let mut rng = Rng::new(78);
        for n in 0..300 {
            let data = rng.bytes(n);
            for kind in [FileKind::Png, FileKind::Jpeg, FileKind::Zip, FileKind::Pdf] {
                let _ = check(kind, &data, &data);
                let _ = check(kind, &data, &[]);
            }
        }
    }
}
