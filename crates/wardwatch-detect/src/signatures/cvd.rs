//! ClamAV's signature containers as freshclam and the mirrors ship them: `.cvd` (a
//! 512-byte text header, then a gzip-compressed tar of the database files) and `.cld`
//! (the same header over a plain tar, written by freshclam on the machine after applying
//! incremental updates).
//!
//! The header is `ClamAV-VDB:built:version:signatures:level:md5:dsig:builder:time`. For a
//! `.cvd` the MD5 of everything after the header must match, and the digital signature
//! must decode, with ClamAV's public key, to that MD5: ClamAV's own scheme, an RSA
//! operation over the signature read as base-64 digits, least significant first. A
//! `.cld` carries the header of the `.cvd` it came from, which no longer describes its
//! body, so it cannot be checked; it is reported as unsigned.
//!
//! Unpacking is bounded: members are plain file names (no folders, no links), and the
//! sizes unpacked are capped, so a hostile container cannot fill the disk or the memory.

use std::io::Read;

use md5::{Digest, Md5};
use num_bigint::BigUint;
use thiserror::Error;

/// Length of the header.
pub const HEADER_LEN: usize = 512;
/// Most bytes unpacked from one container (ClamAV's `main` unpacks to a few hundred MB).
pub const MAX_UNPACKED: u64 = 2 << 30;
/// Most members in one container.
const MAX_MEMBERS: usize = 10_000;

/// ClamAV's public key for `.cvd` signatures (decimal modulus and exponent), as in
/// libclamav's `dsig.c`.
const CLAMAV_N: &str = "118640995551645342603070001658453189751527774412027743746599405743243142607464144767361060640655844749760788890022283424922762488917565551002467771109669598189410434699034532232228621591089508178591428456220796841621637175567590476666928698770143328137383952820383197532047771780196576957695822641224262693037";
const CLAMAV_E: &str = "100001027";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CvdError {
    #[error("{0} bytes: shorter than ClamAV's 512-byte header")]
    Short(usize),
    #[error("the header does not start with ClamAV-VDB")]
    NotClamav,
    #[error("header field {field}: {problem}")]
    Header {
        field: &'static str,
        problem: String,
    },
    #[error("the MD5 of the body is {actual}, the header says {expected}: the file is damaged or was altered")]
    Md5Mismatch { expected: String, actual: String },
    #[error("the digital signature does not match the body's MD5 under the key(s) of {keys}: the file was not made by its publisher, or was altered")]
    BadSignature { keys: String },
    #[error("unpacking: {0}")]
    Unpack(String),
    #[error("member {name:?}: {problem}")]
    Member { name: String, problem: String },
}

/// The container's kind, from its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    Cvd,
    Cld,
}

impl Container {
    /// `.cvd`, or `.cld`/`.cud` (case-insensitive), else None.
    pub fn from_name(name: &str) -> Option<Container> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "cvd" => Some(Container::Cvd),
            // `.cud`: a container ClamAV ships unsigned; read as a `.cld` is.
            "cld" | "cud" => Some(Container::Cld),
            _ => None,
        }
    }
}

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CvdHeader {
    pub built: String,
    pub version: u64,
    pub signatures: u64,
    pub functionality_level: u32,
    pub md5: String,
    #[serde(skip)]
    pub dsig: String,
    pub builder: String,
    pub build_time: Option<u64>,
}

/// An RSA public key in ClamAV's scheme.
#[derive(Debug, Clone)]
pub struct SigningKey {
    name: String,
    n: BigUint,
    e: BigUint,
}

impl SigningKey {
    /// ClamAV's own key, which signs the official databases.
    pub fn clamav() -> SigningKey {
        SigningKey::from_decimal("ClamAV", CLAMAV_N, CLAMAV_E).unwrap_or_else(|| SigningKey {
            name: "ClamAV".into(),
            n: BigUint::from(1u8),
            e: BigUint::from(1u8),
        })
    }

    /// A key given as decimal modulus and exponent (a hospital's own mirror may sign its
    /// containers with its own key).
    pub fn from_decimal(name: &str, n: &str, e: &str) -> Option<SigningKey> {
        Some(SigningKey {
            name: name.to_owned(),
            n: BigUint::parse_bytes(n.as_bytes(), 10)?,
            e: BigUint::parse_bytes(e.as_bytes(), 10)?,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `dsig` decodes, under this key, to the 16 bytes of `md5_hex`.
    pub fn verifies(&self, md5_hex: &str, dsig: &str) -> bool {
        let Some(cipher) = decode_digits(dsig) else {
            return false;
        };
        if cipher >= self.n {
            return false;
        }
        let plain = cipher.modpow(&self.e, &self.n);
        // The low 16 bytes, most significant first; anything above must be zero.
        let bytes = plain.to_bytes_be();
        if bytes.len() > 16 {
            return false;
        }
        let mut digest = [0u8; 16];
        digest[16 - bytes.len()..].copy_from_slice(&bytes);
        hex::encode(digest) == md5_hex.to_ascii_lowercase()
    }
}

/// ClamAV's base-64 digits (a-z, A-Z, 0-9, +, /), least significant first.
fn decode_digits(text: &str) -> Option<BigUint> {
    if text.is_empty() || text.len() > 1024 {
        return None;
    }
    let mut value = BigUint::from(0u8);
    for (i, c) in text.bytes().enumerate() {
        let digit = match c {
            b'a'..=b'z' => c - b'a',
            b'A'..=b'Z' => c - b'A' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        value += BigUint::from(digit) << (6 * i);
    }
    Some(value)
}

/// ClamAV's base-64 digits of `value`, least significant first: how a signature is
/// written (tests and a hospital's own signing tool).
pub fn encode_digits(value: &BigUint) -> String {
    const DIGITS: &[u8; 64] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    let mut out = String::new();
    let mut rest = value.clone();
    let sixty_four = BigUint::from(64u8);
    loop {
        let digit = (&rest % &sixty_four)
            .to_u32_digits()
            .first()
            .copied()
            .unwrap_or(0);
        out.push(char::from(DIGITS[digit as usize]));
        rest /= &sixty_four;
        if rest == BigUint::from(0u8) {
            return out;
        }
    }
}

/// Reads the header.
pub fn parse_header(bytes: &[u8]) -> Result<CvdHeader, CvdError> {
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or(CvdError::Short(bytes.len()))?;
    let text = std::str::from_utf8(header)
        .map_err(|_| CvdError::Header {
            field: "header",
            problem: "not text".into(),
        })?
        .trim_end_matches(['\0', ' ', '\n', '\r']);
    let fields: Vec<&str> = text.split(':').collect();
    if fields.first() != Some(&"ClamAV-VDB") {
        return Err(CvdError::NotClamav);
    }
    let field = |i: usize, name: &'static str| {
        fields.get(i).copied().ok_or(CvdError::Header {
            field: name,
            problem: "missing".into(),
        })
    };
    let number = |i: usize, name: &'static str| -> Result<u64, CvdError> {
        let v = field(i, name)?;
        v.trim().parse().map_err(|_| CvdError::Header {
            field: name,
            problem: format!("{v:?} is not a number"),
        })
    };
    let md5 = field(5, "md5")?.to_ascii_lowercase();
    if md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CvdError::Header {
            field: "md5",
            problem: format!("{md5:?} is not an MD5"),
        });
    }
    Ok(CvdHeader {
        built: field(1, "built")?.to_owned(),
        version: number(2, "version")?,
        signatures: number(3, "signatures")?,
        functionality_level: u32::try_from(number(4, "functionality level")?).map_err(|_| {
            CvdError::Header {
                field: "functionality level",
                problem: "too large".into(),
            }
        })?,
        md5,
        dsig: field(6, "digital signature")?.to_owned(),
        builder: field(7, "builder")?.to_owned(),
        build_time: fields.get(8).and_then(|v| v.trim().parse().ok()),
    })
}

/// What a container held.
#[derive(Debug, Clone)]
pub struct Unpacked {
    pub container: Container,
    pub header: CvdHeader,
    /// The MD5 matched and the signature verified (always false for a `.cld`).
    pub signed: bool,
    /// The database files, by member name, in the container's order.
    pub members: Vec<(String, Vec<u8>)>,
}

/// Checks and unpacks a container. A `.cvd` must be signed by one of `keys`; a `.cld`
/// cannot be checked and is returned with `signed: false`.
pub fn unpack(
    bytes: &[u8],
    container: Container,
    keys: &[SigningKey],
) -> Result<Unpacked, CvdError> {
    let header = parse_header(bytes)?;
    let body = &bytes[HEADER_LEN..];
    let signed = match container {
        Container::Cvd => {
            let actual = hex::encode(Md5::digest(body));
            if actual != header.md5 {
                return Err(CvdError::Md5Mismatch {
                    expected: header.md5.clone(),
                    actual,
                });
            }
            if !keys.iter().any(|k| k.verifies(&header.md5, &header.dsig)) {
                let names: Vec<&str> = keys.iter().map(SigningKey::name).collect();
                return Err(CvdError::BadSignature {
                    keys: names.join(", "),
                });
            }
            true
        }
        Container::Cld => false,
    };
    // A .cvd is gzip-compressed; some .cld files are too (freshclam may keep them so).
    let members = if body.starts_with(&[0x1f, 0x8b]) {
        untar(flate2::read::GzDecoder::new(body))?
    } else {
        untar(body)?
    };
    Ok(Unpacked {
        container,
        header,
        signed,
        members,
    })
}

fn untar<R: Read>(reader: R) -> Result<Vec<(String, Vec<u8>)>, CvdError> {
    let unpack = |e: std::io::Error| CvdError::Unpack(e.to_string());
    let mut archive = tar::Archive::new(reader.take(MAX_UNPACKED + 1));
    let mut members = Vec::new();
    let mut total: u64 = 0;
    for entry in archive.entries().map_err(unpack)? {
        let mut entry = entry.map_err(unpack)?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let member = |problem: &str| CvdError::Member {
            name: name.clone(),
            problem: problem.to_owned(),
        };
        if !kind.is_file() {
            return Err(member("not a regular file"));
        }
        if name.is_empty()
            || name.contains('/')
            || name.contains('\\')
            || name.starts_with('.')
            || name.bytes().any(|b| b.is_ascii_control())
        {
            return Err(member("not a plain file name"));
        }
        if members.len() >= MAX_MEMBERS {
            return Err(CvdError::Unpack(format!("more than {MAX_MEMBERS} members")));
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if total > MAX_UNPACKED {
            return Err(CvdError::Unpack(format!(
                "more than {} MiB unpacked",
                MAX_UNPACKED >> 20
            )));
        }
        let mut data = Vec::with_capacity(usize::try_from(size.min(64 << 20)).unwrap_or(0));
        entry.read_to_end(&mut data).map_err(unpack)?;
        members.push((name, data));
    }
    Ok(members)
}

/// The private half of a key in ClamAV's scheme: what signs a hospital's own `.cvd`
/// (and the tests' containers).
#[derive(Debug, Clone)]
pub struct SigningSecret {
    n: BigUint,
    d: BigUint,
}

impl SigningSecret {
    /// From the two primes and the public exponent; None if `e` has no inverse.
    pub fn from_primes(p: &BigUint, q: &BigUint, e: &BigUint) -> Option<(SigningSecret, BigUint)> {
        let one = BigUint::from(1u8);
        let phi = (p - &one) * (q - &one);
        let d = e.modinv(&phi)?;
        let n = p * q;
        Some((SigningSecret { n: n.clone(), d }, n))
    }

    /// The signature of an MD5 (hex), in ClamAV's digits.
    pub fn sign(&self, md5_hex: &str) -> Option<String> {
        let digest = hex::decode(md5_hex).ok()?;
        let m = BigUint::from_bytes_be(&digest);
        Some(encode_digits(&m.modpow(&self.d, &self.n)))
    }
}

/// Builds a `.cvd`: the members as a gzip-compressed tar after a signed header, as
/// ClamAV's `sigtool --build` lays it out.
pub fn build(
    members: &[(&str, &[u8])],
    version: u64,
    signatures: u64,
    builder: &str,
    secret: &SigningSecret,
) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, *data)?;
    }
    let tar = tar.into_inner()?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar)?;
    let body = gz.finish()?;
    let md5 = hex::encode(Md5::digest(&body));
    let dsig = secret
        .sign(&md5)
        .ok_or_else(|| std::io::Error::other("cannot sign"))?;
    let mut header = format!(
        "ClamAV-VDB:05 Dec 2026 12-00 +0000:{version}:{signatures}:90:{md5}:{dsig}:{builder}:1796472000"
    )
    .into_bytes();
    if header.len() > HEADER_LEN {
        return Err(std::io::Error::other(
            "the header does not fit in 512 bytes",
        ));
    }
    header.resize(HEADER_LEN, b' ');
    header.extend_from_slice(&body);
    Ok(header)
}
