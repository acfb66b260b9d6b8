//! What a file's content looks like, from a few sampled blocks: its type by magic bytes
//! and the entropy of each sampled block. Comparing the fingerprint of a file before and
//! after a rewrite tells encryption from an ordinary edit; whole-file entropy alone
//! cannot (xz and gzip look like AES, and LockFile-style intermittent encryption stays
//! near 7.2 bits per byte).
//!
//! Known limits: encryption that keeps a file's magic bytes is only seen if it raises a
//! sampled block's entropy, so it goes unseen in formats already random inside (jpeg,
//! png, zip) and in files that were random-looking already; files under a few hundred
//! bytes never measure as random; a pattern that leaves the head block and every other
//! sampled block intact (say, encrypting 1 MiB from the 2nd MiB on, once) is missed.

pub mod structure;

use serde::{Deserialize, Serialize};

/// Size of one sampled block.
pub const BLOCK: usize = 4096;

/// Blocks sampled between the head and the tail of a large file. Eight blocks in all
/// (32 KiB read per file) keep the guard cheap on every close-after-write while still
/// landing in the encrypted part of the usual intermittent patterns.
pub const MIDDLE_BLOCKS: u64 = 6;

/// Entropy (bits per byte) from which a 4 KiB block counts as random-looking. Ciphertext
/// and good compression measure 7.9–8.0; LockFile-style half-encrypted text about 7.2;
/// text, code, object files and uncompressed medical images stay under 6.5.
pub const HIGH_ENTROPY: f32 = 7.0;

/// How much a sampled block's entropy must rise (bits per byte) to count as encrypted
/// rather than edited.
pub const ENTROPY_RISE: f32 = 1.0;

/// A smaller entropy that still counts when reached by a larger rise: LockFile-style
/// intermittent encryption of a structured block (half of it ciphertext) takes text or a
/// document header from about 4.6 to about 7.0 bits per byte; no edit moves a block by two
/// bits.
pub const MIXED_ENTROPY: f32 = 6.5;

/// The rise that goes with [`MIXED_ENTROPY`].
pub const MIXED_RISE: f32 = 2.0;

/// Most that encryption grows a file: the key blob or footer ransomware appends (from a
/// few hundred bytes to a few KiB). Encryption never shrinks a file.
pub const MAX_ENCRYPTION_GROWTH: u64 = 64 * 1024;

/// Share of base64/hex alphabet from which text looks like encoded binary.
pub const ENCODED_TEXT_RATIO: f32 = 0.97;

/// Lowest mean entropy of encoded binary: hex of random bytes measures about 4.0 bits per
/// byte, base64 about 6.0. Columns of decimal numbers (at most 3.5) stay below.
pub const ENCODED_MIN_ENTROPY: f32 = 3.9;
/// Shortest text judged as encoded binary. Below it the entropy of a sample says
/// little, and short hex or base64 lines are everyday bookkeeping: a git ref holds one
/// 40-digit commit id, a lock file a token.
pub const ENCODED_MIN_SIZE: u64 = 256;

/// Share of printable (or valid UTF-8) bytes from which a head block counts as text.
const TEXT_RATIO: f32 = 0.95;

/// Where to read the sample blocks of a file of `size` bytes: `(offset, length)`,
/// at most a handful, head and tail always included.
///
/// - The head always: it holds the magic bytes, and every "first N KiB" or "every Nth
///   megabyte" intermittent pattern that starts at offset 0 encrypts it.
/// - The tail always: ransomware appends its key blob or footer there.
/// - Up to [`MIDDLE_BLOCKS`] blocks spread evenly in between, aligned on [`BLOCK`] so that
///   the same blocks are read before and after a rewrite that changes the size a little
///   (an appended footer), which keeps block-by-block comparison meaningful.
///
/// Files of at most one block are read whole. Between one and two blocks the tail block
/// overlaps the head: a short tail block would measure a low entropy even when random
/// (the estimate of n bytes cannot exceed log2 n), so every block is a full one.
/// Offsets are sorted and never repeated; middle blocks never overlap head or tail.
pub fn sample_offsets(size: u64) -> Vec<(u64, usize)> {
    let block = BLOCK as u64;
    if size == 0 {
        return Vec::new();
    }
    if size <= block {
        // size <= BLOCK, so it fits in usize.
        return vec![(0, size as usize)];
    }
    let tail = size - block;
    let mut offsets = vec![(0, BLOCK)];
    for i in 1..=MIDDLE_BLOCKS {
        // u128: `size * i` may not fit in u64 for absurd sizes.
        let spread = (size as u128 * i as u128 / (MIDDLE_BLOCKS as u128 + 1)) as u64;
        let offset = spread - spread % block;
        let last = offsets.last().map(|(o, _)| *o).unwrap_or(0);
        if offset >= block && offset > last && offset + block <= tail {
            offsets.push((offset, BLOCK));
        }
    }
    offsets.push((tail, BLOCK));
    offsets
}

/// File types recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// No magic recognised, mostly printable text.
    Text,
    /// No magic recognised, binary.
    Unknown,
    Pdf,
    Zip,
    Png,
    Jpeg,
    Gif,
    Dicom,
    Sqlite,
    Gzip,
    Xz,
    Zstd,
    Bzip2,
    SevenZip,
    Ole2,
    Elf,
    Pgp,
    /// A raw zlib stream: git's loose objects, PNG chunks saved alone, many caches.
    Zlib,
    /// PEM (`-----BEGIN CERTIFICATE-----`, keys, requests): base64 by design, so never
    /// taken for encrypt-then-encode output.
    Pem,
    /// Git's index (`DIRC`): rewritten whole by every `git add` and checkout, binary
    /// hashes among paths, so its entropy moves with its content.
    GitIndex,
    /// A Java key store (JKS or JCEKS): keys and certificates, random-looking inside.
    KeyStore,
}

impl FileKind {
    /// Formats that are compressed or encrypted by design and so legitimately look random.
    pub fn is_compressed(self) -> bool {
        matches!(
            self,
            Self::Zip
                | Self::Jpeg
                | Self::Png
                | Self::Gif
                | Self::Gzip
                | Self::Xz
                | Self::Zstd
                | Self::Bzip2
                | Self::SevenZip
                | Self::Pgp
                | Self::Zlib
        )
    }

    /// A type recognised by magic bytes (anything but `Text` and `Unknown`). Losing such a
    /// magic in a rewrite is what encryption does and what an edit never does.
    pub fn has_magic(self) -> bool {
        !matches!(self, Self::Text | Self::Unknown)
    }

    /// Short lowercase name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Unknown => "unknown",
            Self::Pdf => "pdf",
            Self::Zip => "zip",
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Gif => "gif",
            Self::Dicom => "dicom",
            Self::Sqlite => "sqlite",
            Self::Gzip => "gzip",
            Self::Xz => "xz",
            Self::Zstd => "zstd",
            Self::Bzip2 => "bzip2",
            Self::SevenZip => "seven_zip",
            Self::Ole2 => "ole2",
            Self::Elf => "elf",
            Self::Pgp => "pgp",
            Self::Zlib => "zlib",
            Self::Pem => "pem",
            Self::GitIndex => "git_index",
            Self::KeyStore => "key_store",
        }
    }
}

/// A file's content fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub size: u64,
    pub kind: FileKind,
    /// Shannon entropy (bits per byte) of each sampled block, in `sample_offsets` order.
    pub block_entropy: Vec<f32>,
    /// Share of bytes in the sampled blocks that are base64/hex alphabet (encrypt-then-
    /// encode ransomware writes text that is still unreadable).
    pub encoded_text_ratio: f32,
    /// Whether the format's structure holds where it can be checked from the head
    /// block (PNG chunks, JPEG segments, a zip entry's header); `None` for other kinds.
    /// Formats random inside by design hide encryption from entropy; encryption that
    /// keeps their magic bytes still breaks this.
    #[serde(default)]
    pub head_ok: Option<bool>,
    /// The same from the tail block (`IEND`, `EOI`, the end of a zip's central
    /// directory, a PDF's `%%EOF`).
    #[serde(default)]
    pub tail_ok: Option<bool>,
}

impl Fingerprint {
    /// Highest sampled block entropy (0 without blocks).
    pub fn max_entropy(&self) -> f32 {
        self.block_entropy.iter().copied().fold(0.0, f32::max)
    }

    /// Mean sampled block entropy (0 without blocks).
    pub fn mean_entropy(&self) -> f32 {
        if self.block_entropy.is_empty() {
            return 0.0;
        }
        self.block_entropy.iter().sum::<f32>() / self.block_entropy.len() as f32
    }

    /// Text made of base64 or hex alphabet only, dense enough to be encoded binary:
    /// what encrypt-then-base64 ransomware writes (PEM files are their own kind; other
    /// base64 keys and tokens look the same, which is why this is weak evidence alone).
    pub fn looks_encoded(&self) -> bool {
        self.kind == FileKind::Text
            && self.size >= ENCODED_MIN_SIZE
            && self.encoded_text_ratio >= ENCODED_TEXT_RATIO
            && self.mean_entropy() >= ENCODED_MIN_ENTROPY
    }

    /// A key that is equal for files of the same content and, in practice, differs for
    /// any two ciphertexts: size, kind and the exact entropy of every sampled block (two
    /// encryptions never agree on all of them). One tree writing the same opaque content
    /// twice is copying one file, not encrypting two.
    pub fn identity(&self) -> String {
        let mut key = format!("{}/{}", self.size, self.kind.name());
        for e in &self.block_entropy {
            key.push_str(&format!("/{:08x}", e.to_bits()));
        }
        key
    }

    /// Content that reveals nothing: random-looking binary without a known magic, or
    /// encoded binary. A new file like this is what an encryptor writes; compressors and
    /// gpg write a known magic instead.
    pub fn is_opaque(&self) -> bool {
        (self.kind == FileKind::Unknown && self.mean_entropy() >= HIGH_ENTROPY)
            || self.looks_encoded()
    }
}

/// Fingerprints a file from the blocks read at `sample_offsets(size)`.
pub fn fingerprint(size: u64, blocks: &[&[u8]]) -> Fingerprint {
    let total: usize = blocks.iter().map(|b| b.len()).sum();
    // One pass over each block's bytes gives its entropy, how much of it is in an
    // encoding's alphabet and, for the head, whether it is text: this runs over every
    // sampled byte of every file written.
    let mut kind = FileKind::Unknown;
    let mut encoded: u64 = 0;
    let mut block_entropy = Vec::with_capacity(blocks.len());
    for (i, b) in blocks.iter().enumerate() {
        let counts = histogram(b);
        if i == 0 {
            kind = kind_of(b, &counts);
        }
        encoded += u64::from(count_of(&counts, &ENCODING_ALPHABET));
        block_entropy.push(entropy_of_counts(&counts, b.len()));
    }
    let structure = match (blocks.first(), blocks.last()) {
        (Some(head), Some(tail)) => structure::check(kind, head, tail),
        _ => structure::Structure::default(),
    };
    Fingerprint {
        size,
        kind,
        head_ok: structure.head,
        tail_ok: structure.tail,
        block_entropy,
        encoded_text_ratio: if total == 0 {
            0.0
        } else {
            encoded as f32 / total as f32
        },
    }
}

/// Base64 (standard and URL-safe), its padding, hex, and the line breaks encoders insert,
/// as a table: this runs over every sampled byte of every file written.
const ENCODING_ALPHABET: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric()
            || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'\n' | b'\r');
        c += 1;
    }
    table
};

/// Magic bytes at offset 0, longest first where one is a prefix of another.
const MAGICS: &[(&[u8], FileKind)] = &[
    (b"%PDF-", FileKind::Pdf),
    (b"PK\x03\x04", FileKind::Zip),
    // Empty and spanned zip archives.
    (b"PK\x05\x06", FileKind::Zip),
    (b"PK\x07\x08", FileKind::Zip),
    (b"\x89PNG\r\n\x1a\n", FileKind::Png),
    (b"\xff\xd8\xff", FileKind::Jpeg),
    (b"GIF87a", FileKind::Gif),
    (b"GIF89a", FileKind::Gif),
    (b"SQLite format 3\0", FileKind::Sqlite),
    // gzip with the only compression method in use (deflate): three bytes, so that a
    // random head is taken for gzip once in 16 million rather than once in 65,536.
    (b"\x1f\x8b\x08", FileKind::Gzip),
    (b"\xfd7zXZ\x00", FileKind::Xz),
    (b"\x28\xb5\x2f\xfd", FileKind::Zstd),
    (b"7z\xbc\xaf\x27\x1c", FileKind::SevenZip),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", FileKind::Ole2),
    (b"\x7fELF", FileKind::Elf),
    // Git's index, versions 2 to 4.
    (b"DIRC\x00\x00\x00\x02", FileKind::GitIndex),
    (b"DIRC\x00\x00\x00\x03", FileKind::GitIndex),
    (b"DIRC\x00\x00\x00\x04", FileKind::GitIndex),
    (b"\xfe\xed\xfe\xed", FileKind::KeyStore),
    (b"\xce\xce\xce\xce", FileKind::KeyStore),
];

/// The type of a file from its first block.
pub fn detect_kind(head: &[u8]) -> FileKind {
    kind_of(head, &histogram(head))
}

/// [`detect_kind`] with the head's byte counts already made.
fn kind_of(head: &[u8], counts: &[u32; 256]) -> FileKind {
    for (magic, kind) in MAGICS {
        if head.starts_with(magic) {
            return *kind;
        }
    }
    // bzip2: "BZh" and the block size digit.
    if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        return FileKind::Bzip2;
    }
    // DICOM: a 128-byte preamble, then "DICM".
    if head.get(128..132) == Some(b"DICM".as_slice()) {
        return FileKind::Dicom;
    }
    if is_openpgp_binary(head) || is_openpgp_armored(head) {
        return FileKind::Pgp;
    }
    if is_pem(head) {
        return FileKind::Pem;
    }
    if is_zlib(head) {
        return FileKind::Zlib;
    }
    if looks_like_text(head, counts) {
        return FileKind::Text;
    }
    FileKind::Unknown
}

/// A zlib stream header (RFC 1950) with the 32 KiB deflate window every common writer
/// uses: CMF 0x78 and a check value that makes the first two bytes a multiple of 31.
/// Git writes every loose object this way; about one random head in 8,000 passes.
fn is_zlib(head: &[u8]) -> bool {
    match head {
        [0x78, flg, ..] => (0x78u16 * 256 + u16::from(*flg)).is_multiple_of(31) && flg & 0x20 == 0,
        _ => false,
    }
}

/// An OpenPGP message as gpg writes it: a first packet that is a public-key or
/// symmetric-key encrypted session key (`gpg -e`, `gpg -c`) or compressed data
/// (`gpg -s`), with a plausible version, algorithm and length. Checking those, not only
/// the tag byte, keeps random ciphertext (which must stay opaque) from passing for PGP:
/// about one random head in 20,000 passes instead of one in 40.
fn is_openpgp_binary(head: &[u8]) -> bool {
    let Some(&tag_byte) = head.first() else {
        return false;
    };
    if tag_byte & 0x80 == 0 {
        return false;
    }
    // (tag, offset of the packet body, body length if definite)
    let (tag, body, len): (u8, usize, Option<u32>) = if tag_byte & 0x40 != 0 {
        let Some(&l0) = head.get(1) else {
            return false;
        };
        let tag = tag_byte & 0x3f;
        match l0 {
            0..=191 => (tag, 2, Some(u32::from(l0))),
            192..=223 => {
                let Some(&l1) = head.get(2) else {
                    return false;
                };
                (
                    tag,
                    3,
                    Some(((u32::from(l0) - 192) << 8) + u32::from(l1) + 192),
                )
            }
            255 => {
                let Some(b) = head.get(2..6) else {
                    return false;
                };
                (tag, 6, Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
            }
            // Partial body length.
            _ => (tag, 2, None),
        }
    } else {
        let tag = (tag_byte >> 2) & 0x0f;
        match tag_byte & 0x03 {
            0 => match head.get(1) {
                Some(l) => (tag, 2, Some(u32::from(*l))),
                None => return false,
            },
            1 => match head.get(1..3) {
                Some(b) => (tag, 3, Some(u32::from(u16::from_be_bytes([b[0], b[1]])))),
                None => return false,
            },
            2 => match head.get(1..5) {
                Some(b) => (tag, 5, Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
                None => return false,
            },
            _ => (tag, 1, None),
        }
    };
    let at = |i: usize| head.get(body + i).copied();
    let len_in = |lo: u32, hi: u32| len.is_none_or(|l| (lo..=hi).contains(&l));
    // Symmetric ciphers 1 (IDEA) to 13 (Camellia-256).
    let cipher = |c: Option<u8>| c.is_some_and(|c| (1..=13).contains(&c));
    match (tag, at(0)) {
        // Public-key encrypted session key v3: key id, then RSA, Elgamal, ECDH, X25519
        // or X448.
        (1, Some(3)) => len_in(10, 4096) && matches!(at(9), Some(1 | 2 | 16 | 18 | 25 | 26)),
        // v6 (RFC 9580): a key version octet count, then the key version 4 or 6.
        (1, Some(6)) => len_in(10, 4096) && matches!(at(2), Some(4 | 6)),
        // Symmetric-key encrypted session key v4: cipher, then an S2K type.
        (3, Some(4)) => len_in(4, 512) && cipher(at(1)) && matches!(at(2), Some(0 | 1 | 3 | 4)),
        // v5 (LibrePGP) and v6: a count octet, then the cipher.
        (3, Some(5 | 6)) => len_in(4, 512) && cipher(at(2)),
        // Compressed data as gpg writes it (old format, indeterminate length): ZIP,
        // ZLIB or BZip2.
        (8, Some(1..=3)) => tag_byte == 0xa3,
        _ => false,
    }
}

/// What follows a byte-order mark and blank lines: where armored text starts.
fn after_blank_start(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(head.len());
    &head[start..]
}

/// An ASCII-armored OpenPGP message, possibly after a byte-order mark or blank lines.
fn is_openpgp_armored(head: &[u8]) -> bool {
    after_blank_start(head).starts_with(b"-----BEGIN PGP MESSAGE-----")
}

/// A PEM block's first line, `-----BEGIN LABEL-----` (RFC 7468), after any blank lines.
fn is_pem(head: &[u8]) -> bool {
    let Some(label) = after_blank_start(head).strip_prefix(b"-----BEGIN ") else {
        return false;
    };
    let line = label.split(|c| *c == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() > 5
        && line.len() <= 80
        && line.ends_with(b"-----")
        && line[..line.len() - 5]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b' ')
}

/// ASCII bytes that count as text: printable, tab, line feed, carriage return, form feed.
const TEXT_ASCII: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x80 {
        let b = c as u8;
        table[c] = matches!(b, 0x20..=0x7e | b'\t' | b'\n' | b'\r' | 0x0c);
        c += 1;
    }
    table
};

/// Bytes that count as text in no UTF-8 text: ASCII controls other than tab, line feed,
/// carriage return and form feed, and bytes no UTF-8 sequence contains.
const NEVER_TEXT: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = (b < 0x80 && !TEXT_ASCII[c]) || matches!(b, 0xc0 | 0xc1 | 0xf5..=0xff);
        c += 1;
    }
    table
};

/// At least [`TEXT_RATIO`] of the bytes are printable ASCII, whitespace or characters of
/// valid UTF-8 other than controls. An empty head is text: an empty file is no opaque
/// binary, and so a truncation never reads as encryption.
fn looks_like_text(head: &[u8], counts: &[u32; 256]) -> bool {
    if head.is_empty() {
        return true;
    }
    // Pure ASCII (most text) is judged from the counts alone: a character by
    // character UTF-8 walk cost more than the rest of the fingerprint together.
    if counts[0x80..].iter().all(|n| *n == 0) {
        return count_of(counts, &TEXT_ASCII) as f32 >= head.len() as f32 * TEXT_RATIO;
    }
    // Bytes that are never text in UTF-8 (controls, and bytes no UTF-8 sequence uses)
    // already decide most binary heads without the walk.
    if count_of(counts, &NEVER_TEXT) as f32 > head.len() as f32 * (1.0 - TEXT_RATIO) {
        return false;
    }
    text_bytes(head) as f32 >= head.len() as f32 * TEXT_RATIO
}

/// Bytes of `head` in characters of valid UTF-8 other than controls (tab, line feed,
/// carriage return and form feed count as text).
fn text_bytes(head: &[u8]) -> usize {
    let mut good = 0usize;
    for chunk in head.utf8_chunks() {
        for c in chunk.valid().chars() {
            if !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c') {
                good += c.len_utf8();
            }
        }
    }
    good
}

/// Why a rewrite from `before` to `after` looks like encryption, or None when it looks
/// like an edit, a re-save or a re-compression.
///
/// In order:
/// 1. The content became encoded binary (base64/hex, see [`Fingerprint::looks_encoded`])
///    and was not before: encrypt-then-encode, whatever the file was.
/// 2. A file with a magic (pdf, zip, png, jpeg, dicom, sqlite, ole2, elf, …) became
///    unrecognised binary: no editor, converter or re-compressor drops the magic of the
///    format it writes, and encrypting even the first 16 bytes does.
/// 3. Text became random-looking binary (a block at [`HIGH_ENTROPY`] or more).
/// 4. A sampled block's entropy rose by [`ENTROPY_RISE`] to [`HIGH_ENTROPY`] or more (or
///    by [`MIXED_RISE`] to [`MIXED_ENTROPY`]), and the file is not of a compressed format
///    after. When the file keeps its own magic (a pdf still a pdf, a dicom still a dicom)
///    this counts only for the head block and only if the size is that of an encryption
///    (same, or larger by at most [`MAX_ENCRYPTION_GROWTH`]): containers legitimately
///    switch their payload to compression (a PACS transcoding DICOM pixel data to JPEG
///    2000, a PDF re-saved with object streams), which changes the size. ELF files that
///    stay ELF are never judged this way (executable packers).
///
/// An empty `before` or `after` is never encryption: files are created empty before
/// being written, and a truncation destroys without encrypting.
pub fn compare(before: &Fingerprint, after: &Fingerprint) -> Option<String> {
    if before.size == 0 || after.size == 0 {
        return None;
    }
    if after.looks_encoded() && !before.looks_encoded() {
        return Some(format!(
            "{} became base64/hex-like text ({:.0}% encoding alphabet, {:.1} bits/byte)",
            before.kind.name(),
            after.encoded_text_ratio * 100.0,
            after.mean_entropy()
        ));
    }
    if after.kind == FileKind::Unknown {
        if before.kind.has_magic() {
            return Some(format!(
                "{} magic bytes lost; now unrecognised binary (up to {:.1} bits/byte)",
                before.kind.name(),
                after.max_entropy()
            ));
        }
        if before.kind == FileKind::Text && after.max_entropy() >= HIGH_ENTROPY {
            return Some(format!(
                "text became random-looking binary ({:.1} bits/byte)",
                after.max_entropy()
            ));
        }
    }
    if after.kind == before.kind {
        let broke = |b: Option<bool>, a: Option<bool>| b == Some(true) && a == Some(false);
        if broke(before.head_ok, after.head_ok) {
            return Some(format!(
                "{} magic bytes kept, but the structure behind them is broken (encrypted past the header)",
                after.kind.name()
            ));
        }
        // Same size: nothing was appended, the end marker was overwritten.
        if broke(before.tail_ok, after.tail_ok) && before.size == after.size {
            return Some(format!(
                "{} end marker overwritten at the same size (encrypted behind its header)",
                after.kind.name()
            ));
        }
    }
    if after.kind.is_compressed() || after.kind == FileKind::GitIndex {
        return None;
    }
    let blocks = if after.kind.has_magic() {
        let grown = after.size.checked_sub(before.size);
        if after.kind != before.kind
            || after.kind == FileKind::Elf
            || grown.is_none_or(|g| g > MAX_ENCRYPTION_GROWTH)
        {
            return None;
        }
        1
    } else {
        usize::MAX
    };
    let rose = |b: f32, a: f32| {
        (a >= HIGH_ENTROPY && a - b >= ENTROPY_RISE) || (a >= MIXED_ENTROPY && a - b >= MIXED_RISE)
    };
    before
        .block_entropy
        .iter()
        .zip(&after.block_entropy)
        .take(blocks)
        .enumerate()
        .find(|(_, (b, a))| rose(**b, **a))
        .map(|(i, (b, a))| {
            format!(
                "sampled block {i} of the {} file rose from {b:.1} to {a:.1} bits/byte",
                after.kind.name()
            )
        })
}

/// Shannon entropy in bits per byte.
pub fn entropy(data: &[u8]) -> f32 {
    entropy_of_counts(&histogram(data), data.len())
}

/// How many of the bytes counted in `counts` are in the byte class `class`.
fn count_of(counts: &[u32; 256], class: &[bool; 256]) -> u32 {
    counts
        .iter()
        .zip(class.iter())
        .filter(|(_, member)| **member)
        .map(|(n, _)| *n)
        .sum()
}

/// How often each byte value occurs. Four tables filled in turn keep consecutive equal
/// bytes (text, zero padding) from waiting on one counter.
fn histogram(data: &[u8]) -> [u32; 256] {
    let mut lanes = [[0u32; 256]; 4];
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        lanes[0][usize::from(c[0])] += 1;
        lanes[1][usize::from(c[1])] += 1;
        lanes[2][usize::from(c[2])] += 1;
        lanes[3][usize::from(c[3])] += 1;
    }
    for b in chunks.remainder() {
        lanes[0][usize::from(*b)] += 1;
    }
    let mut counts = lanes[0];
    for lane in &lanes[1..] {
        for (total, n) in counts.iter_mut().zip(lane.iter()) {
            *total += n;
        }
    }
    counts
}

/// Shannon entropy in bits per byte of `len` bytes counted in `counts`.
///
/// With p = c / n, the sum of -p log2 p is log2 n - (sum of c log2 c) / n; for a block
/// of at most [`BLOCK`] bytes the c log2 c come from a table (256 logarithms per block
/// were a fifth of the fingerprint's time).
fn entropy_of_counts(counts: &[u32; 256], len: usize) -> f32 {
    if len == 0 {
        return 0.0;
    }
    let n = len as f64;
    let sum: f64 = if len <= BLOCK {
        let table = c_log2_c_table();
        counts.iter().map(|c| table[*c as usize]).sum()
    } else {
        counts.iter().map(|c| c_log2_c(*c)).sum()
    };
    (n.log2() - sum / n).max(0.0) as f32
}

fn c_log2_c(c: u32) -> f64 {
    if c == 0 {
        0.0
    } else {
        let c = f64::from(c);
        c * c.log2()
    }
}

/// `c log2 c` for every count a block can hold.
fn c_log2_c_table() -> &'static [f64; BLOCK + 1] {
    static TABLE: std::sync::OnceLock<Box<[f64; BLOCK + 1]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Box::new([0.0; BLOCK + 1]);
        for (c, v) in table.iter_mut().enumerate() {
            *v = c_log2_c(c as u32);
        }
        table
    })
}

/// Test data shared with the behaviour tests: a deterministic PRNG and synthetic files
/// of each kind with the byte statistics of the real thing (structured headers, text,
/// compressed payloads), and the ways ransomware encrypts them.
#[cfg(test)]
pub(crate) mod testdata {
    use super::*;

    /// xorshift64*: deterministic, no dependency.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
        }

        pub fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n.max(1)
        }

        pub fn bytes(&mut self, n: usize) -> Vec<u8> {
            let mut out = Vec::with_capacity(n + 8);
            while out.len() < n {
                out.extend_from_slice(&self.next_u64().to_le_bytes());
            }
            out.truncate(n);
            out
        }
    }

    const WORDS: &[&str] = &[
        "patient",
        "ward",
        "the",
        "of",
        "and",
        "blood",
        "pressure",
        "discharge",
        "summary",
        "dose",
        "mg",
        "daily",
        "nurse",
        "observation",
        "stable",
        "review",
        "in",
        "to",
        "with",
        "Dr.",
        "Smith",
        "radiology",
        "report",
        "no",
        "acute",
        "findings",
        "CT",
        "chest",
        "follow-up",
        "clinic",
        "2024-03-14",
        "temperature",
        "37.2",
        "allergy",
    ];

    /// Prose-like text of exactly `n` bytes.
    pub fn text(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 16);
        while out.len() < n {
            out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
            out.push(match rng.below(12) {
                0 => b'\n',
                1 => b',',
                _ => b' ',
            });
        }
        out.truncate(n);
        out
    }

    /// Bytes from a skewed alphabet: code, object files, structured binary (~5.5 bits).
    pub fn structured(rng: &mut Rng, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                let r = rng.below(100);
                if r < 40 {
                    0
                } else if r < 60 {
                    0xff
                } else {
                    (rng.below(48) * 3) as u8
                }
            })
            .collect()
    }

    fn pad_to(
        mut data: Vec<u8>,
        n: usize,
        rng: &mut Rng,
        fill: fn(&mut Rng, usize) -> Vec<u8>,
    ) -> Vec<u8> {
        if data.len() < n {
            let more = fill(rng, n - data.len());
            data.extend_from_slice(&more);
        }
        data.truncate(n);
        data
    }

    /// A PDF: header, uncompressed objects and XMP metadata (the first 5 KiB), then
    /// deflated streams between object text.
    pub fn pdf(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut d = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        d.extend_from_slice(&text(rng, 5000));
        while d.len() < n {
            d.extend_from_slice(b"\n12 0 obj\n<< /Length 8192 /Filter /FlateDecode >>\nstream\n");
            d.extend_from_slice(&rng.bytes(8192));
            d.extend_from_slice(b"\nendstream\nendobj\n");
        }
        d.truncate(n.saturating_sub(6));
        d.extend_from_slice(b"%%EOF\n");
        d
    }

    /// A docx: zip local headers and deflated parts.
    pub fn docx(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut d = Vec::new();
        while d.len() < n {
            d.extend_from_slice(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00");
            d.extend_from_slice(&rng.bytes(16));
            d.extend_from_slice(b"word/document.xml");
            d.extend_from_slice(&rng.bytes(6000));
        }
        d.truncate(n);
        d
    }

    pub fn png(rng: &mut Rng, n: usize) -> Vec<u8> {
        let d = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x04\x00\x00\x00\x03\x00\x08\x02\x00\x00\x00IDAT"
            .to_vec();
        pad_to(d, n, rng, |r, k| r.bytes(k))
    }

    pub fn jpeg(rng: &mut Rng, n: usize) -> Vec<u8> {
        let d = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
        pad_to(d, n, rng, |r, k| r.bytes(k))
    }

    /// DICOM: preamble, "DICM", meta and patient elements, then uncompressed 12-bit
    /// pixel data in 16-bit words (about 6 bits per byte).
    pub fn dicom(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut d = vec![0u8; 128];
        d.extend_from_slice(
            b"DICM\x02\x00\x00\x00UL\x04\x00\xc4\x00\x00\x00\x02\x00\x01\x00OB\x00\x00",
        );
        d.extend_from_slice(b"\x02\x00\x02\x00UI\x1a\x001.2.840.10008.5.1.4.1.1.2\x00");
        d.extend_from_slice(b"\x10\x00\x10\x00PN\x0a\x00DOE^JOHN\x00\x00");
        d.extend_from_slice(&text(rng, 600));
        d.extend_from_slice(b"\xe0\x7f\x10\x00OW\x00\x00\xff\xff\xff\xff");
        while d.len() < n {
            let v = 1000 + rng.below(600) as u16;
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.truncate(n);
        d
    }

    /// SQLite: the header page, then table pages of short records.
    pub fn sqlite(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut d = b"SQLite format 3\0\x10\x00\x01\x01\x00\x40\x20\x20".to_vec();
        d.resize(100, 0);
        while d.len() < n {
            d.extend_from_slice(b"\x0d\x00\x00\x00\x10\x0f\x00");
            d.extend_from_slice(&[0u8; 40]);
            d.extend_from_slice(format!("{:06}", rng.below(999_999)).as_bytes());
            d.extend_from_slice(&text(rng, 60));
        }
        d.truncate(n);
        d
    }

    pub fn elf(rng: &mut Rng, n: usize) -> Vec<u8> {
        let d = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x3e\x00".to_vec();
        pad_to(d, n, rng, structured)
    }

    pub fn xz(rng: &mut Rng, n: usize) -> Vec<u8> {
        pad_to(
            b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46".to_vec(),
            n,
            rng,
            |r, k| r.bytes(k),
        )
    }

    pub fn gzip(rng: &mut Rng, n: usize) -> Vec<u8> {
        pad_to(
            b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\x03".to_vec(),
            n,
            rng,
            |r, k| r.bytes(k),
        )
    }

    pub fn zstd(rng: &mut Rng, n: usize) -> Vec<u8> {
        pad_to(b"\x28\xb5\x2f\xfd\x04\x58".to_vec(), n, rng, |r, k| {
            r.bytes(k)
        })
    }

    /// `gpg -c` output as gpg 2.2 writes it (symmetric-key session key packet, v4).
    pub fn gpg_symmetric(rng: &mut Rng, n: usize) -> Vec<u8> {
        pad_to(b"\x8c\x0d\x04\x09\x03\x02".to_vec(), n, rng, |r, k| {
            r.bytes(k)
        })
    }

    /// Base64 with a line break every 76 characters.
    pub fn base64(data: &[u8]) -> Vec<u8> {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::with_capacity(data.len() * 4 / 3 + data.len() / 57 + 4);
        for (i, chunk) in data.chunks(3).enumerate() {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..4 {
                if k <= chunk.len() {
                    out.push(A[((v >> (18 - 6 * k)) & 63) as usize]);
                } else {
                    out.push(b'=');
                }
            }
            if i % 19 == 18 {
                out.push(b'\n');
            }
        }
        out
    }

    /// Whole-file encryption with a key blob appended, as most families do.
    pub fn encrypt_full(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
        rng.bytes(data.len() + 512)
    }

    /// Only the first 4 KiB encrypted (LockBit-style fast mode), the rest intact.
    pub fn encrypt_header(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
        let mut d = data.to_vec();
        let head = d.len().min(BLOCK);
        d[..head].copy_from_slice(&rng.bytes(head));
        d
    }

    /// LockFile: 16 of every 32 bytes encrypted, from the first (`skip_first` leaves the
    /// first 16 of each 32 and so the magic in place).
    pub fn encrypt_intermittent(rng: &mut Rng, data: &[u8], skip_first: bool) -> Vec<u8> {
        let mut d = data.to_vec();
        let start = if skip_first { 16 } else { 0 };
        for chunk in d.chunks_mut(32) {
            for b in chunk.iter_mut().skip(start).take(16) {
                *b = (rng.next_u64() >> 56) as u8;
            }
        }
        d
    }

    /// Encrypt, then base64 the ciphertext.
    pub fn encrypt_base64(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
        base64(&rng.bytes(data.len()))
    }

    /// The fingerprint the guard would compute for these bytes.
    pub fn fp(data: &[u8]) -> Fingerprint {
        let size = data.len() as u64;
        let blocks: Vec<&[u8]> = sample_offsets(size)
            .into_iter()
            .map(|(o, l)| &data[o as usize..o as usize + l])
            .collect();
        fingerprint(size, &blocks)
    }

    /// A generator of files of one kind.
    pub type Maker = fn(&mut Rng, usize) -> Vec<u8>;

    /// Document kinds a hospital keeps, with their extension.
    pub const DOCUMENTS: &[(&str, Maker)] = &[
        ("pdf", pdf),
        ("docx", docx),
        ("png", png),
        ("jpg", jpeg),
        ("dcm", dicom),
        ("sqlite", sqlite),
        ("txt", text),
    ];
}

#[cfg(test)]
mod tests {
    use super::testdata::*;
    use super::*;

    /// The counting shortcuts of `looks_like_text` agree with the character walk, on
    /// real files of every kind this machine has and on mixes of every byte class.
    #[test]
    fn text_shortcuts_agree_with_the_character_walk() {
        let by_walk = |head: &[u8]| {
            head.is_empty() || text_bytes(head) as f32 >= head.len() as f32 * TEXT_RATIO
        };
        let mut heads: Vec<Vec<u8>> = Vec::new();
        for root in [
            "/usr/share/locale",
            "/usr/share/doc",
            "/usr/lib/x86_64-linux-gnu",
            "/etc",
        ] {
            let mut stack = vec![std::path::PathBuf::from(root)];
            let mut taken = 0;
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in entries.flatten() {
                    let Ok(t) = e.file_type() else { continue };
                    if t.is_dir() {
                        stack.push(e.path());
                    } else if t.is_file() && taken < 400 {
                        if let Ok(mut f) = std::fs::File::open(e.path()) {
                            let mut head = vec![0u8; BLOCK];
                            let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
                            head.truncate(n);
                            heads.push(head);
                            taken += 1;
                        }
                    }
                }
            }
        }
        let mut rng = testdata::Rng::new(7);
        let classes: [&[u8]; 5] = [
            b"abc xyz\n",
            "é中文".as_bytes(),
            b"\x00\x01\x1b",
            b"\xc0\xff\xf5",
            b"\x80\xbf",
        ];
        for _ in 0..2000 {
            let mut head = Vec::new();
            let len = rng.below(600) as usize;
            while head.len() < len {
                // Mostly one class, some of the others, in varying shares.
                let class = if rng.below(100) < 90 {
                    0
                } else {
                    1 + rng.below(4) as usize
                };
                head.extend_from_slice(classes[class]);
            }
            heads.push(head);
        }
        assert!(heads.len() > 2000);
        for head in &heads {
            assert_eq!(
                looks_like_text(head, &histogram(head)),
                by_walk(head),
                "{head:?}"
            );
        }
    }

    fn check_offsets(size: u64) {
        let offsets = sample_offsets(size);
        if size == 0 {
            assert!(offsets.is_empty());
            return;
        }
        assert_eq!(offsets[0].0, 0, "head for {size}");
        let (last_off, last_len) = offsets[offsets.len() - 1];
        assert_eq!(last_off + last_len as u64, size, "tail for {size}");
        assert!(offsets.len() <= 2 + MIDDLE_BLOCKS as usize);
        for w in offsets.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "sorted, no repeat, for {size}: {offsets:?}"
            );
        }
        for (i, (o, l)) in offsets.iter().enumerate() {
            assert!(*l <= BLOCK && *l > 0);
            assert!(o + *l as u64 <= size);
            // Middle blocks never overlap their neighbours.
            if i > 0 && i + 1 < offsets.len() {
                assert!(offsets[i - 1].0 + offsets[i - 1].1 as u64 <= *o);
                assert!(o + *l as u64 <= offsets[i + 1].0);
            }
        }
        if size >= BLOCK as u64 {
            assert!(
                offsets.iter().all(|(_, l)| *l == BLOCK),
                "full blocks for {size}"
            );
        }
    }

    #[test]
    fn sample_offsets_cover_head_and_tail_sorted_and_bounded() {
        for size in [
            0,
            1,
            100,
            4095,
            4096,
            4097,
            8191,
            8192,
            8193,
            12_288,
            20_000,
            32_768,
            100_000,
            1 << 20,
            (1 << 30) + 17,
            10 << 30,
            u64::MAX,
        ] {
            check_offsets(size);
        }
        let mut rng = Rng::new(1);
        for _ in 0..2000 {
            check_offsets(rng.below(1 << 24));
        }
        assert_eq!(sample_offsets(1 << 30).len(), 8);
    }

    /// Every intermittent pattern in use that starts at offset 0 shows in a sampled block.
    #[test]
    fn sample_offsets_catch_intermittent_patterns() {
        let hit = |size: u64, encrypted: &dyn Fn(u64) -> bool| {
            sample_offsets(size)
                .iter()
                .any(|(o, l)| (*o..*o + *l as u64).any(encrypted))
        };
        let mut rng = Rng::new(2);
        for _ in 0..200 {
            let size = 4096 + rng.below(4 << 30);
            // LockFile: 16 of every 32 bytes.
            assert!(hit(size, &|b| b % 32 < 16));
            // Black Basta-like: 64 of every 192 bytes.
            assert!(hit(size, &|b| b % 192 < 64));
            // First N KiB only.
            let n = 1024 * (1 + rng.below(1024));
            assert!(hit(size, &|b| b < n));
            // One MiB every Nth MiB.
            let every = 1 + rng.below(64);
            assert!(hit(size, &|b| (b >> 20) % every == 0));
            // Fixed-size chunks spread over the file (percent mode), first at 0.
            let chunk = 1 << 20;
            let step = (size / 10).max(chunk);
            assert!(hit(size, &|b| b % step < chunk));
        }
    }

    #[test]
    fn detect_kind_recognises_every_magic() {
        let mut rng = Rng::new(3);
        let cases: Vec<(Vec<u8>, FileKind)> = vec![
            (pdf(&mut rng, 9000), FileKind::Pdf),
            (docx(&mut rng, 9000), FileKind::Zip),
            (b"PK\x05\x06\0\0\0\0".to_vec(), FileKind::Zip),
            (png(&mut rng, 9000), FileKind::Png),
            (jpeg(&mut rng, 9000), FileKind::Jpeg),
            (b"GIF87a\x01\x00".to_vec(), FileKind::Gif),
            (b"GIF89a\x01\x00".to_vec(), FileKind::Gif),
            (dicom(&mut rng, 9000), FileKind::Dicom),
            (sqlite(&mut rng, 9000), FileKind::Sqlite),
            (gzip(&mut rng, 9000), FileKind::Gzip),
            (xz(&mut rng, 9000), FileKind::Xz),
            (zstd(&mut rng, 9000), FileKind::Zstd),
            (b"BZh91AY&SY".to_vec(), FileKind::Bzip2),
            (b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec(), FileKind::SevenZip),
            (
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0".to_vec(),
                FileKind::Ole2,
            ),
            (elf(&mut rng, 9000), FileKind::Elf),
            (
                b"DIRC\x00\x00\x00\x02\x00\x00\x6e\x75".to_vec(),
                FileKind::GitIndex,
            ),
            (
                b"\xfe\xed\xfe\xed\x00\x00\x00\x02".to_vec(),
                FileKind::KeyStore,
            ),
            (
                b"-----BEGIN RSA PRIVATE KEY-----\nMIIBPAIBAAJBANPQbQ92nlbeg1Q5\n".to_vec(),
                FileKind::Pem,
            ),
            (
                b"\n-----BEGIN CERTIFICATE-----\r\nMIIB\r\n".to_vec(),
                FileKind::Pem,
            ),
            // gpg -c (2.2), as captured.
            (
                b"\x8c\x0d\x04\x09\x03\x02\xa4\x5b\x92\xe6\x8e\x37\x5b\xf6\xff\xd2\x3d\x01"
                    .to_vec(),
                FileKind::Pgp,
            ),
            // gpg -e to a cv25519 key, as captured.
            (
                b"\x84\x5e\x03\xd2\x0e\x75\x7f\xf8\x8d\xb3\xe9\x12\x01\x07\x40\x8c".to_vec(),
                FileKind::Pgp,
            ),
            // New-format symmetric-key packet (gpg 2.4, RFC 9580).
            (b"\xc3\x3d\x06\x26\x09\x02\x03".to_vec(), FileKind::Pgp),
            // gpg -s: compressed data, indeterminate length, ZIP.
            (b"\xa3\x01\x9b\xc0\xcc".to_vec(), FileKind::Pgp),
            (
                b"-----BEGIN PGP MESSAGE-----\n\nhF4DAAAA\n".to_vec(),
                FileKind::Pgp,
            ),
            (text(&mut rng, 4096), FileKind::Text),
            (
                "Überweisung an Frau Müller, 患者の記録, résumé\n"
                    .repeat(80)
                    .into_bytes(),
                FileKind::Text,
            ),
            (Vec::new(), FileKind::Text),
            (rng.bytes(4096), FileKind::Unknown),
            (structured(&mut rng, 4096), FileKind::Unknown),
        ];
        for (i, (data, kind)) in cases.iter().enumerate() {
            assert_eq!(detect_kind(data), *kind, "case {i}");
        }
        // DICOM needs its preamble: "DICM" at 128 of a shorter head is nothing.
        let d = dicom(&mut rng, 4096);
        assert_eq!(detect_kind(&d[..131]), FileKind::Unknown);
        assert_eq!(detect_kind(&d[..132]), FileKind::Dicom);
        // Truncated heads never panic.
        for data in cases.iter().map(|(d, _)| d) {
            for n in 0..data.len().min(40) {
                let _ = detect_kind(&data[..n]);
            }
        }
    }

    /// Ciphertext is seldom taken for a known format (which would make it not opaque).
    #[test]
    fn random_heads_are_rarely_a_known_kind() {
        let mut rng = Rng::new(4);
        let mut known = 0;
        for _ in 0..20_000 {
            let head = rng.bytes(64);
            if detect_kind(&head) != FileKind::Unknown {
                known += 1;
            }
        }
        // JPEG/PGP-like heads happen about once in several thousand.
        assert!(known <= 10, "{known} of 20000 random heads got a kind");
    }

    #[test]
    fn fingerprint_measures_encoded_text() {
        let mut rng = Rng::new(5);
        let b64 = base64(&rng.bytes(50_000));
        let f = fp(&b64);
        assert_eq!(f.kind, FileKind::Text);
        assert!(f.encoded_text_ratio > 0.99, "{}", f.encoded_text_ratio);
        assert!(
            (5.8..6.2).contains(&f.mean_entropy()),
            "{}",
            f.mean_entropy()
        );
        assert!(f.looks_encoded() && f.is_opaque());

        let prose = fp(&text(&mut rng, 50_000));
        assert!(
            prose.encoded_text_ratio < 0.9,
            "{}",
            prose.encoded_text_ratio
        );
        assert!(!prose.looks_encoded() && !prose.is_opaque());

        let hex: Vec<u8> = rng
            .bytes(20_000)
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect();
        assert!(fp(&hex).looks_encoded());

        let numbers: Vec<u8> = (0..10_000)
            .flat_map(|_| format!("{}\n", rng.below(100_000)).into_bytes())
            .collect();
        assert!(!fp(&numbers).looks_encoded(), "columns of numbers");

        let empty = fingerprint(0, &[]);
        assert_eq!(empty.encoded_text_ratio, 0.0);
        assert_eq!(empty.kind, FileKind::Unknown);
        assert!(!empty.is_opaque());
        assert!(fp(&rng.bytes(100_000)).is_opaque());
        assert!(!fp(&xz(&mut rng, 100_000)).is_opaque());
    }

    /// Every way of encrypting every document kind is told apart from the original.
    #[test]
    fn compare_flags_every_encryption_of_every_kind() {
        let mut rng = Rng::new(6);
        type Enc = fn(&mut Rng, &[u8]) -> Vec<u8>;
        let ways: &[(&str, Enc)] = &[
            ("full", encrypt_full),
            ("header", encrypt_header),
            ("intermittent", |r, d| encrypt_intermittent(r, d, false)),
            ("base64", encrypt_base64),
        ];
        for (ext, make) in DOCUMENTS {
            for size in [3000, 6000, 40_000, 300_000] {
                let original = make(&mut rng, size);
                let before = fp(&original);
                for (way, encrypt) in ways {
                    let after = fp(&encrypt(&mut rng, &original));
                    let why = compare(&before, &after);
                    assert!(
                        why.is_some(),
                        "{way} encryption of {ext} ({size} B): {after:?}"
                    );
                }
            }
        }
    }

    /// Intermittent encryption that leaves the first 16 bytes (and so the magic) in
    /// place still shows: the structured head block turns half random.
    #[test]
    fn compare_flags_intermittent_encryption_that_keeps_the_magic() {
        let mut rng = Rng::new(7);
        for make in [pdf as Maker, dicom, sqlite, text, structured] {
            let original = make(&mut rng, 200_000);
            let after = encrypt_intermittent(&mut rng, &original, true);
            let (b, a) = (fp(&original), fp(&after));
            if b.kind.has_magic() {
                assert_eq!(a.kind, b.kind);
            }
            assert!(compare(&b, &a).is_some(), "{b:?} -> {a:?}");
        }
    }

    /// Edits, re-saves, re-compressions and conversions are not encryption.
    #[test]
    fn compare_ignores_benign_rewrites() {
        let mut rng = Rng::new(8);
        let mut pairs: Vec<(&str, Vec<u8>, Vec<u8>)> = Vec::new();
        for size in [3000, 40_000, 300_000] {
            // A text edit.
            let t = text(&mut rng, size);
            let mut edited = t.clone();
            edited.extend_from_slice(b"\nAddendum: patient reviewed, stable.\n");
            pairs.push(("text edit", t.clone(), edited));
            // Rewritten entirely with other text.
            pairs.push(("text rewrite", t, text(&mut rng, size / 2)));
            // A docx re-saved: new zip, new deflate output.
            pairs.push((
                "docx re-save",
                docx(&mut rng, size),
                docx(&mut rng, size + 900),
            ));
            // Images re-compressed.
            pairs.push((
                "png re-compress",
                png(&mut rng, size),
                png(&mut rng, size / 2),
            ));
            pairs.push((
                "jpeg re-compress",
                jpeg(&mut rng, size),
                jpeg(&mut rng, size * 2),
            ));
            // A PDF re-saved by another producer.
            pairs.push((
                "pdf re-save",
                pdf(&mut rng, size),
                pdf(&mut rng, size + 4000),
            ));
            // DICOM transcoded to JPEG 2000: header kept, pixel data compressed.
            let d = dicom(&mut rng, size);
            let mut j2k = d[..d.len().min(1400)].to_vec();
            j2k.extend_from_slice(&rng.bytes(size / 3));
            pairs.push(("dicom transcode", d, j2k));
            // SQLite rows updated.
            pairs.push((
                "sqlite update",
                sqlite(&mut rng, size),
                sqlite(&mut rng, size + 4096),
            ));
            // An executable relinked, an object file rebuilt.
            pairs.push(("elf relink", elf(&mut rng, size), elf(&mut rng, size + 100)));
            pairs.push((
                "object rebuild",
                structured(&mut rng, size),
                structured(&mut rng, size),
            ));
            // A PEM/base64 file re-issued.
            pairs.push((
                "base64 rewrite",
                base64(&rng.bytes(size)),
                base64(&rng.bytes(size)),
            ));
            // A file emptied (not encryption; the tree's other signals judge it).
            pairs.push(("truncate", pdf(&mut rng, size), Vec::new()));
            // A compressed archive replaced by another.
            pairs.push(("xz rewrite", xz(&mut rng, size), xz(&mut rng, size)));
            // A document converted to pdf under the same name.
            pairs.push(("convert", text(&mut rng, size), pdf(&mut rng, size)));
        }
        // A git ref: a short text rewritten with a 40-digit commit id.
        pairs.push((
            "git ref",
            b"ref: refs/heads/master\n".to_vec(),
            b"4b825dc642cb6eb9a060e54bf8d69288fbee4904\n".to_vec(),
        ));
        for (what, before, after) in pairs {
            let (b, a) = (fp(&before), fp(&after));
            assert_eq!(compare(&b, &a), None, "{what}: {b:?} -> {a:?}");
        }
    }

    #[test]
    fn short_hex_is_bookkeeping_but_a_base64_document_is_encoded() {
        let mut rng = Rng::new(11);
        let id = fp(b"4b825dc642cb6eb9a060e54bf8d69288fbee4904\n");
        assert!(!id.looks_encoded(), "{id:?}");
        let encoded = fp(&base64(&rng.bytes(3000)));
        assert!(encoded.looks_encoded(), "{encoded:?}");
        let letter = fp(&text(&mut rng, 3000));
        assert!(compare(&letter, &encoded).is_some());
    }

    #[test]
    fn compare_survives_odd_fingerprints() {
        let weird = Fingerprint {
            size: 10,
            kind: FileKind::Unknown,
            block_entropy: vec![f32::NAN, f32::INFINITY, -1.0],
            encoded_text_ratio: f32::NAN,
            head_ok: Some(false),
            tail_ok: None,
        };
        let plain = Fingerprint {
            size: 10,
            kind: FileKind::Text,
            block_entropy: vec![],
            encoded_text_ratio: 0.0,
            head_ok: None,
            tail_ok: Some(true),
        };
        let _ = compare(&weird, &plain);
        let _ = compare(&plain, &weird);
        let _ = compare(&weird, &weird);
        assert!(weird.max_entropy().is_finite() || weird.max_entropy().is_infinite());
    }

    #[test]
    fn zlib_streams_as_git_writes_them_are_recognised() {
        // Default, best-speed and best-compression zlib headers.
        for head in [[0x78u8, 0x9c], [0x78, 0x01], [0x78, 0xda]] {
            let mut block = head.to_vec();
            block.extend_from_slice(&[0x4b, 0xca, 0xc9, 0x4f, 0x52, 0x30, 0x34]);
            assert_eq!(detect_kind(&block), FileKind::Zlib, "{head:?}");
        }
        assert!(FileKind::Zlib.is_compressed());
        assert_ne!(detect_kind(&[0x78, 0x9d, 1, 2, 3]), FileKind::Zlib);
    }
}
