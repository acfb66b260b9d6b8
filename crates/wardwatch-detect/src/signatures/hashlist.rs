//! Hash lists as signature feeds ship them: ClamAV `.hdb` (`MD5:size:name`), ClamAV `.hsb`
//! (`SHA1-or-SHA256:size:name[:flevel]`) and plain lists (one hex hash per line, optionally
//! followed by whitespace and a name: `sha256sum` output and most threat-intel feeds).
//!
//! Parsing is streaming and borrows names from the input, so a list of millions of lines
//! is never held twice. A malformed line stops the parse with an error naming the list,
//! the line and the problem: a half-loaded feed must not pass for a complete one.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest detection name accepted; ClamAV names stay under 100 bytes, a longer one is a
/// garbled line, not a name.
pub const MAX_NAME_LEN: usize = 255;

/// Digest algorithms a hash list may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
}

impl Algorithm {
    /// All algorithms, in the order of the compiled database's tables.
    pub const ALL: [Algorithm; 3] = [Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256];

    /// Digest length in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    /// The algorithm whose hex digest has `hex_len` characters.
    pub const fn from_hex_len(hex_len: usize) -> Option<Algorithm> {
        match hex_len {
            32 => Some(Algorithm::Md5),
            40 => Some(Algorithm::Sha1),
            64 => Some(Algorithm::Sha256),
            _ => None,
        }
    }

    /// Lower-case name, as in detection reports.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Layout of a hash list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// ClamAV `.hdb`: `MD5:size:name[:flevel]`.
    Hdb,
    /// ClamAV `.hsb`: `SHA1-or-SHA256:size:name[:flevel]`.
    Hsb,
    /// One hex hash (MD5, SHA-1 or SHA-256) per line, optionally followed by whitespace
    /// and a name; entries match files of any size.
    Plain,
    /// ClamAV `.mdb`: `SectionSize:MD5:name[:flevel[:flevel]]`, the hash of one section
    /// of a Windows executable.
    Mdb,
    /// ClamAV `.msb`: the same with SHA-1 or SHA-256.
    Msb,
}

impl ListFormat {
    /// The format a list's file name implies: `.hdb`, `.hsb`, anything else plain.
    pub fn from_name(name: &str) -> ListFormat {
        match SignatureFile::from_name(name) {
            SignatureFile::Detect(format)
            | SignatureFile::Allow(format)
            | SignatureFile::Sections(format) => format,
            _ => ListFormat::Plain,
        }
    }
}

/// What a signature file is for, from its name: ClamAV's database files are told apart
/// by extension, and each one wardwatch does not read is named in the scan's report
/// rather than misread as a plain hash list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFile {
    /// Hashes of malware: `.hdb`/`.hdu` (MD5), `.hsb`/`.hsu` (SHA-1, SHA-256), and plain
    /// lists (any other name).
    Detect(ListFormat),
    /// Hashes of one section of a Windows executable: `.mdb`/`.mdu` (MD5), `.msb`/`.msu`
    /// (SHA-1, SHA-256).
    Sections(ListFormat),
    /// ClamAV's false-positive lists, `.fp` (MD5) and `.sfp` (SHA-1, SHA-256): a file
    /// they list is not reported, whatever else matches it.
    Allow(ListFormat),
    /// A ClamAV database of a kind wardwatch does not read: what it holds.
    Unsupported(&'static str),
    /// Descriptions and settings (`.info`, `.cfg`, freshclam's `.dat`), nothing to match.
    Metadata,
}

impl SignatureFile {
    pub fn from_name(name: &str) -> SignatureFile {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("hdb" | "hdu") => SignatureFile::Detect(ListFormat::Hdb),
            Some("hsb" | "hsu") => SignatureFile::Detect(ListFormat::Hsb),
            Some("fp") => SignatureFile::Allow(ListFormat::Hdb),
            Some("sfp") => SignatureFile::Allow(ListFormat::Hsb),
            Some("mdb" | "mdu") => SignatureFile::Sections(ListFormat::Mdb),
            Some("msb" | "msu") => SignatureFile::Sections(ListFormat::Msb),
            Some("imp") => SignatureFile::Unsupported("PE import table hashes (.imp)"),
            Some("ndb" | "ndu") => SignatureFile::Unsupported("body signatures (.ndb)"),
            Some("ldb" | "ldu") => SignatureFile::Unsupported("logical signatures (.ldb)"),
            Some("cbc") => SignatureFile::Unsupported("bytecode signatures (.cbc)"),
            Some("cdb") => SignatureFile::Unsupported("container metadata signatures (.cdb)"),
            Some("idb") => SignatureFile::Unsupported("icon signatures (.idb)"),
            Some("pdb" | "gdb" | "wdb") => {
                SignatureFile::Unsupported("phishing URL lists (.pdb/.wdb)")
            }
            Some("ftm") => SignatureFile::Unsupported("file type magic (.ftm)"),
            Some("crb") => SignatureFile::Unsupported("certificate trust rules (.crb)"),
            Some("ign" | "ign2") => SignatureFile::Unsupported("signature ignore lists (.ign2)"),
            Some("yar" | "yara") => {
                SignatureFile::Unsupported("YARA rules inside a ClamAV database")
            }
            // freshclam's own state (freshclam.dat) sits beside the databases.
            Some("info" | "cfg" | "dat") => SignatureFile::Metadata,
            _ => SignatureFile::Detect(ListFormat::Plain),
        }
    }
}

/// A digest of one of the supported algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    bytes: [u8; 32],
}

impl Digest {
    /// A digest from raw bytes; `None` if the length does not fit the algorithm.
    pub fn new(algorithm: Algorithm, bytes: &[u8]) -> Option<Digest> {
        if bytes.len() != algorithm.digest_len() {
            return None;
        }
        let mut out = [0u8; 32];
        out[..bytes.len()].copy_from_slice(bytes);
        Some(Digest {
            algorithm,
            bytes: out,
        })
    }

    /// A digest from hex; the algorithm follows from the length.
    pub fn from_hex(hex: &str) -> Option<Digest> {
        let algorithm = Algorithm::from_hex_len(hex.len())?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex, &mut out[..algorithm.digest_len()]).ok()?;
        Some(Digest {
            algorithm,
            bytes: out,
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.algorithm.digest_len()]
    }
}

/// One signature from a hash list. The name borrows from the list's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEntry<'a> {
    pub digest: Digest,
    /// File size the signature applies to; `None` for any size (`*`, plain lists).
    pub size: Option<u64>,
    pub name: &'a str,
}

/// A malformed line in a hash list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{list}:{line}: {problem}")]
pub struct ListError {
    /// Name of the list as the caller gave it (usually its path).
    pub list: String,
    /// 1-based line number.
    pub line: usize,
    pub problem: LineProblem,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineProblem {
    #[error("line is not UTF-8")]
    NotUtf8,
    #[error("expected `HASH:size:name`, found {0} field(s)")]
    MissingFields(usize),
    #[error("too many fields ({0}); expected `HASH:size:name[:flevel]`")]
    TooManyFields(usize),
    #[error("hash is not hexadecimal: `{0}`")]
    NotHex(String),
    #[error("hash has {found} hex digits; {format} lists take {expected}")]
    HashLength {
        found: usize,
        format: &'static str,
        expected: &'static str,
    },
    #[error("size is neither a number nor `*`: `{0}`")]
    BadSize(String),
    #[error("functionality level is not a number: `{0}`")]
    BadLevel(String),
    #[error("empty name")]
    EmptyName,
    #[error("name is longer than {MAX_NAME_LEN} bytes")]
    NameTooLong,
    #[error("name contains a control character")]
    ControlInName,
}

/// Parses a whole list, calling `each` for every entry; stops at the first malformed line.
/// Returns the number of entries. `list` names the list in errors; unnamed entries of a
/// plain list take its file stem as name (hence the shared lifetime).
pub fn parse_list<'a>(
    list: &'a str,
    format: ListFormat,
    text: &'a [u8],
    mut each: impl FnMut(HashEntry<'a>),
) -> Result<usize, ListError> {
    let default_name = list_stem(list);
    let mut count = 0;
    for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let fail = |problem| ListError {
            list: list.to_owned(),
            line: index + 1,
            problem,
        };
        let line = std::str::from_utf8(raw).map_err(|_| fail(LineProblem::NotUtf8))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry = match format {
            ListFormat::Hdb | ListFormat::Hsb | ListFormat::Mdb | ListFormat::Msb => {
                parse_clamav(format, line)
            }
            ListFormat::Plain => parse_plain(line, default_name),
        }
        .map_err(fail)?;
        each(entry);
        count += 1;
    }
    Ok(count)
}

/// Parses a list into a vector (convenient for small lists and tests).
pub fn parse_list_vec<'a>(
    list: &'a str,
    format: ListFormat,
    text: &'a [u8],
) -> Result<Vec<HashEntry<'a>>, ListError> {
    let mut out = Vec::new();
    parse_list(list, format, text, |e| out.push(e))?;
    Ok(out)
}

/// `HASH:size:name[:flevel]` (`.hdb`, `.hsb`), or `size:HASH:name[:flevel[:flevel]]`
/// (`.mdb`, `.msb`: the size of the section).
fn parse_clamav(format: ListFormat, line: &str) -> Result<HashEntry<'_>, LineProblem> {
    let fields: Vec<&str> = line.split(':').collect();
    let sections = matches!(format, ListFormat::Mdb | ListFormat::Msb);
    let (hash_at, size_at, most) = if sections { (1, 0, 5) } else { (0, 1, 4) };
    if fields.len() < 3 {
        return Err(LineProblem::MissingFields(fields.len()));
    }
    if fields.len() > most {
        return Err(LineProblem::TooManyFields(fields.len()));
    }
    let hex = fields[hash_at].trim();
    let (format_name, allowed, expected): (_, &[Algorithm], _) = match format {
        ListFormat::Hdb => (".hdb", &[Algorithm::Md5], "32 (MD5)"),
        ListFormat::Mdb => (".mdb", &[Algorithm::Md5], "32 (MD5)"),
        ListFormat::Msb => (
            ".msb",
            &[Algorithm::Sha1, Algorithm::Sha256],
            "40 (SHA-1) or 64 (SHA-256)",
        ),
        _ => (
            ".hsb",
            &[Algorithm::Sha1, Algorithm::Sha256],
            "40 (SHA-1) or 64 (SHA-256)",
        ),
    };
    let digest = parse_hex(hex, allowed, format_name, expected)?;
    let size = match fields[size_at].trim() {
        "*" => None,
        s => Some(
            s.parse::<u64>()
                .map_err(|_| LineProblem::BadSize(clip(s)))?,
        ),
    };
    let name = check_name(fields[2].trim())?;
    for level in fields.iter().skip(3) {
        let level = level.trim();
        if level.parse::<u32>().is_err() {
            return Err(LineProblem::BadLevel(clip(level)));
        }
    }
    Ok(HashEntry { digest, size, name })
}

/// `HASH[<whitespace>name]`; a leading `*` on the name is `sha256sum`'s binary-mode mark.
fn parse_plain<'a>(line: &'a str, default_name: &'a str) -> Result<HashEntry<'a>, LineProblem> {
    let (hex, rest) = match line.split_once(|c: char| c.is_whitespace()) {
        Some((hex, rest)) => (hex, rest.trim()),
        None => (line, ""),
    };
    let digest = parse_hex(
        hex,
        &Algorithm::ALL,
        "plain",
        "32 (MD5), 40 (SHA-1) or 64 (SHA-256)",
    )?;
    let rest = rest.strip_prefix('*').unwrap_or(rest).trim();
    let name = if rest.is_empty() { default_name } else { rest };
    let name = check_name(name)?;
    Ok(HashEntry {
        digest,
        size: None,
        name,
    })
}

fn parse_hex(
    hex: &str,
    allowed: &[Algorithm],
    format: &'static str,
    expected: &'static str,
) -> Result<Digest, LineProblem> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LineProblem::NotHex(clip(hex)));
    }
    match Algorithm::from_hex_len(hex.len()) {
        Some(a) if allowed.contains(&a) => {
            Digest::from_hex(hex).ok_or_else(|| LineProblem::NotHex(clip(hex)))
        }
        _ => Err(LineProblem::HashLength {
            found: hex.len(),
            format,
            expected,
        }),
    }
}

fn check_name(name: &str) -> Result<&str, LineProblem> {
    if name.is_empty() {
        return Err(LineProblem::EmptyName);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(LineProblem::NameTooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(LineProblem::ControlInName);
    }
    Ok(name)
}

/// The file stem of a list's name: `/x/feeds/bazaar.txt` → `bazaar`.
fn list_stem(list: &str) -> &str {
    let file = list.rsplit(['/', '\\']).next().unwrap_or(list);
    let stem = file.split_once('.').map_or(file, |(s, _)| s);
    if stem.is_empty() {
        "hash-list"
    } else {
        stem
    }
}

/// Echoes at most 80 characters of a bad field, so that an error about a garbled
/// megabyte-long line stays readable.
fn clip(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5_EICAR: &str = "44d88612fea8a8f36de82e1278abb02f";
    const SHA1_EICAR: &str = "3395856ce81f2b7382dee72602f798b642f14140";
    const SHA256_EICAR: &str = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

    #[test]
    fn hdb_lines_parse_with_size_and_star() {
        let text = format!(
            "# comment\n\n{MD5_EICAR}:68:Eicar.Md5\r\n{}:*:Any.Size:73\n",
            "00".repeat(16)
        );
        let entries = parse_list_vec("main.hdb", ListFormat::Hdb, text.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].digest.algorithm(), Algorithm::Md5);
        assert_eq!(hex::encode(entries[0].digest.as_bytes()), MD5_EICAR);
        assert_eq!(entries[0].size, Some(68));
        assert_eq!(entries[0].name, "Eicar.Md5");
        assert_eq!(entries[1].size, None);
        assert_eq!(entries[1].name, "Any.Size");
    }

    #[test]
    fn hsb_takes_sha1_and_sha256_but_not_md5() {
        let text = format!("{SHA1_EICAR}:68:A\n{SHA256_EICAR}:*:B\n");
        let entries = parse_list_vec("x.hsb", ListFormat::Hsb, text.as_bytes()).unwrap();
        assert_eq!(entries[0].digest.algorithm(), Algorithm::Sha1);
        assert_eq!(entries[1].digest.algorithm(), Algorithm::Sha256);
        let err = parse_list_vec(
            "x.hsb",
            ListFormat::Hsb,
            format!("{MD5_EICAR}:68:C").as_bytes(),
        )
        .unwrap_err();
        assert_eq!(err.line, 1);
        assert!(matches!(
            err.problem,
            LineProblem::HashLength { found: 32, .. }
        ));
    }

    #[test]
    fn plain_lists_take_sha256sum_output_and_bare_hashes() {
        let text = format!(
            "{SHA256_EICAR}  eicar.com\n{SHA1_EICAR} *bin.exe\n  {MD5_EICAR}\n{}\tEmotet Loader\n",
            "AB".repeat(32)
        );
        let entries = parse_list_vec(
            "/feeds/bazaar.recent.txt",
            ListFormat::Plain,
            text.as_bytes(),
        )
        .unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.name).collect();
        assert_eq!(names, ["eicar.com", "bin.exe", "bazaar", "Emotet Loader"]);
        assert!(entries.iter().all(|e| e.size.is_none()));
        assert_eq!(entries[3].digest.as_bytes(), &[0xab; 32]);
    }

    #[test]
    fn malformed_lines_name_list_and_line() {
        let cases: &[(&str, ListFormat, LineProblem)] = &[
            (
                "abc:1:x",
                ListFormat::Hdb,
                LineProblem::HashLength {
                    found: 3,
                    format: ".hdb",
                    expected: "32 (MD5)",
                },
            ),
            (
                "44d88612fea8a8f36de82e1278abb02f:12x:n",
                ListFormat::Hdb,
                LineProblem::BadSize("12x".into()),
            ),
            (
                "44d88612fea8a8f36de82e1278abb02f:12",
                ListFormat::Hdb,
                LineProblem::MissingFields(2),
            ),
            (
                "44d88612fea8a8f36de82e1278abb02f:12::",
                ListFormat::Hdb,
                LineProblem::EmptyName,
            ),
            (
                "zz d88612fea8a8f36de82e1278abb02f",
                ListFormat::Plain,
                LineProblem::NotHex("zz".into()),
            ),
        ];
        for (line, format, problem) in cases {
            let text = format!("# header\n\n{line}\n");
            let err = parse_list_vec("sigs/daily.hdb", *format, text.as_bytes()).unwrap_err();
            assert_eq!(&err.problem, problem, "{line}");
            assert_eq!(err.line, 3);
            let shown = err.to_string();
            assert!(shown.starts_with("sigs/daily.hdb:3: "), "{shown}");
        }
    }

    #[test]
    fn non_utf8_line_is_an_error() {
        let err = parse_list_vec("l", ListFormat::Plain, b"\n\xff\xfe\n").unwrap_err();
        assert_eq!((err.line, err.problem), (2, LineProblem::NotUtf8));
    }

    #[test]
    fn format_from_name() {
        assert_eq!(ListFormat::from_name("a/main.HDB"), ListFormat::Hdb);
        assert_eq!(ListFormat::from_name("daily.hsb"), ListFormat::Hsb);
        assert_eq!(ListFormat::from_name("feed.sha256"), ListFormat::Plain);
    }

    /// Thousands of random and garbled lines: every outcome is an entry or an error
    /// with a plausible line number, never a panic.
    #[test]
    fn garbled_lines_never_panic() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let pieces: &[&[u8]] = &[
            MD5_EICAR.as_bytes(),
            SHA1_EICAR.as_bytes(),
            SHA256_EICAR.as_bytes(),
            b":",
            b"*",
            b"68",
            b"18446744073709551616",
            b"Win.Trojan.X",
            b" ",
            b"\t",
            b"#",
            b"\r",
            b"\xff",
            "é".as_bytes(),
            b"\0",
            b"g",
        ];
        let (mut ok, mut errors) = (0, 0);
        for _ in 0..4000 {
            let mut line = Vec::new();
            for _ in 0..(next() % 8) {
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                if next() % 4 == 0 {
                    // Garble: cut the piece short.
                    let cut = (next() % (piece.len() as u64 + 1)) as usize;
                    line.extend_from_slice(&piece[..cut]);
                } else {
                    line.extend_from_slice(piece);
                }
            }
            for format in [ListFormat::Hdb, ListFormat::Hsb, ListFormat::Plain] {
                let text = [b"# x\n".as_slice(), &line].concat();
                match parse_list_vec("fuzz.list", format, &text) {
                    Ok(entries) => {
                        ok += 1;
                        for e in entries {
                            assert!(!e.name.is_empty() && e.name.len() <= MAX_NAME_LEN);
                            assert_eq!(
                                e.digest.as_bytes().len(),
                                e.digest.algorithm().digest_len()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        assert!((2..=3).contains(&e.line), "{e}");
                    }
                }
            }
        }
        // The generator must exercise both paths.
        assert!(ok > 100 && errors > 1000, "ok {ok}, errors {errors}");
    }

    #[test]
    fn section_lists_put_the_size_first_and_take_two_levels() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let text = format!("4096:{md5}:Win.Trojan.Section-1\n*:{md5}:Win.Any.Size:73\n");
        let entries = parse_list_vec("main.mdb", ListFormat::Mdb, text.as_bytes()).unwrap();
        assert_eq!(entries[0].size, Some(4096));
        assert_eq!(entries[0].name, "Win.Trojan.Section-1");
        assert_eq!(entries[1].size, None);
        let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        let ok = format!("512:{sha1}:Win.Sha1.Section:73:255\n");
        assert_eq!(
            parse_list_vec("x.msb", ListFormat::Msb, ok.as_bytes())
                .unwrap()
                .len(),
            1
        );
        let six = format!("512:{sha1}:Win.Sha1.Section:73:255:1\n");
        let err = parse_list_vec("x.msb", ListFormat::Msb, six.as_bytes()).unwrap_err();
        assert_eq!(err.problem, LineProblem::TooManyFields(6));
        // The hash where the size belongs: named as such.
        let swapped = format!("{md5}:4096:Win.Swapped\n");
        assert!(parse_list_vec("y.mdb", ListFormat::Mdb, swapped.as_bytes()).is_err());
        assert_eq!(
            SignatureFile::from_name("daily.msu"),
            SignatureFile::Sections(ListFormat::Msb)
        );
        assert_eq!(
            SignatureFile::from_name("main.ndb"),
            SignatureFile::Unsupported("body signatures (.ndb)")
        );
        assert_eq!(
            SignatureFile::from_name("freshclam.dat"),
            SignatureFile::Metadata
        );
    }
}
