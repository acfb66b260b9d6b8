//! `manifest.json`: what a bundle is (kind, version, validity) and what it holds (each
//! member's name, size and SHA-256). The signature covers its exact bytes, so it is
//! written one way only: fields in a fixed order, times in canonical UTC.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::BundleError;
use crate::names;
use crate::timefmt::{format_time, parse_time, truncate};

/// The manifest format this crate reads and writes.
pub const FORMAT: u64 = 1;

/// What a bundle carries; a consumer installs each kind in its own place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Vulnerability data (OSV, KEV, EPSS, end-of-life dates).
    VulnFeed,
    /// Malware signatures (YARA rules, hash lists).
    Signatures,
    /// Configuration baselines and policies.
    Policies,
    /// Debian packages for the terminals, with Debian's signed indexes
    /// (`wardwatch patch fetch`): served to terminals file by file, never installed whole.
    Patches,
}

impl Kind {
    /// The name used in the manifest and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VulnFeed => "vuln-feed",
            Kind::Signatures => "signatures",
            Kind::Policies => "policies",
            Kind::Patches => "patches",
        }
    }

    /// Parses `vuln-feed`, `signatures`, `policies` or `patches`.
    pub fn parse(text: &str) -> Result<Kind, String> {
        match text {
            "vuln-feed" => Ok(Kind::VulnFeed),
            "signatures" => Ok(Kind::Signatures),
            "policies" => Ok(Kind::Policies),
            "patches" => Ok(Kind::Patches),
            _ => Err(format!(
                "{text:?} is not a bundle kind; use vuln-feed, signatures, policies or patches"
            )),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of the bundle as the manifest announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Relative path, `/`-separated, checked by [`names::check_name`].
    pub name: String,
    /// Exact size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
}

/// A manifest whose schema has been checked (not its signature: see [`crate::verify()`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub kind: Kind,
    /// Only goes up from one bundle of a kind to the next.
    pub version: u64,
    pub created: OffsetDateTime,
    pub expires: OffsetDateTime,
    /// Sorted by name, bytewise.
    pub members: Vec<Member>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    format: u64,
    kind: Kind,
    version: u64,
    created: String,
    expires: String,
    members: Vec<RawMember>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    name: String,
    size: u64,
    sha256: String,
}

/// Read first, alone, so that a newer format is reported as such and not as a schema error.
#[derive(Deserialize)]
struct FormatOnly {
    format: u64,
}

/// Read from an installed manifest to refuse a rollback.
#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

impl Manifest {
    /// Parses and checks manifest bytes: format 1, known fields only, valid times, safe,
    /// sorted, unique member names, at most `max_members` members, sizes that add up.
    pub fn parse(bytes: &[u8], max_members: usize) -> Result<Manifest, BundleError> {
        let invalid = |detail: String| BundleError::ManifestInvalid { detail };
        let format: FormatOnly =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("not a manifest ({e})")))?;
        if format.format != FORMAT {
            return Err(BundleError::UnsupportedFormat {
                found: format.format,
            });
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let raw: Raw = serde_path_to_error::deserialize(de)
            .map_err(|e| invalid(format!("{}: {}", e.path(), e.inner())))?;
        if raw.version == 0 {
            return Err(invalid("version: must be at least 1".into()));
        }
        let created = parse_time(&raw.created).map_err(|e| invalid(format!("created: {e}")))?;
        let expires = parse_time(&raw.expires).map_err(|e| invalid(format!("expires: {e}")))?;
        if expires <= created {
            return Err(invalid(format!(
                "expires ({}) is not after created ({})",
                raw.expires, raw.created
            )));
        }
        if raw.members.len() > max_members {
            return Err(BundleError::TooManyMembers {
                count: raw.members.len(),
                limit: max_members,
            });
        }
        names::check_list(raw.members.iter().map(|m| m.name.as_str()))?;
        let mut members = Vec::with_capacity(raw.members.len());
        let mut total: u64 = 0;
        for (i, m) in raw.members.into_iter().enumerate() {
            let sha256 = parse_sha256(&m.sha256).ok_or_else(|| {
                invalid(format!(
                    "members[{i}].sha256: {:?} is not 64 lowercase hex digits",
                    m.sha256
                ))
            })?;
            total = total.checked_add(m.size).ok_or(BundleError::TooLarge {
                total: u64::MAX,
                limit: u64::MAX,
            })?;
            members.push(Member {
                name: m.name,
                size: m.size,
                sha256,
            });
        }
        Ok(Manifest {
            kind: raw.kind,
            version: raw.version,
            created,
            expires,
            members,
        })
    }

    /// The canonical bytes: pretty JSON, fields in a fixed order, a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let raw = Raw {
            format: FORMAT,
            kind: self.kind,
            version: self.version,
            created: format_time(self.created),
            expires: format_time(self.expires),
            members: self
                .members
                .iter()
                .map(|m| RawMember {
                    name: m.name.clone(),
                    size: m.size,
                    sha256: hex::encode(m.sha256),
                })
                .collect(),
        };
        // Serialising plain strings and integers cannot fail.
        let mut bytes = serde_json::to_vec_pretty(&raw).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Sum of the announced member sizes.
    pub fn total_size(&self) -> u64 {
        self.members
            .iter()
            .fold(0u64, |acc, m| acc.saturating_add(m.size))
    }

    /// `created` as whole seconds since 1970, for tar headers (0 before 1970).
    pub fn mtime(&self) -> u64 {
        u64::try_from(truncate(self.created).unix_timestamp()).unwrap_or(0)
    }
}

/// The version in manifest bytes, without checking anything else (for the installed copy).
pub fn read_version(bytes: &[u8]) -> Result<u64, String> {
    serde_json::from_slice::<VersionOnly>(bytes)
        .map(|v| v.version)
        .map_err(|e| e.to_string())
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            kind: Kind::Signatures,
            version: 7,
            created: parse_time("2026-01-01T00:00:00Z").unwrap(),
            expires: parse_time("2026-02-01T00:00:00Z").unwrap(),
            members: vec![Member {
                name: "rules/a.yar".into(),
                size: 3,
                sha256: [0xab; 32],
            }],
        }
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let bytes = sample().to_bytes();
        let parsed = Manifest::parse(&bytes, 10).unwrap();
        assert_eq!(parsed, sample());
        assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn schema_errors_name_the_field() {
        let text = String::from_utf8(sample().to_bytes()).unwrap();
        let e = Manifest::parse(text.replace("\"ab", "\"AB").as_bytes(), 10).unwrap_err();
        assert!(e.to_string().contains("members[0].sha256"), "{e}");
        let e = Manifest::parse(
            text.replace("\"format\": 1", "\"format\": 2").as_bytes(),
            10,
        )
        .unwrap_err();
        assert!(
            matches!(e, BundleError::UnsupportedFormat { found: 2 }),
            "{e}"
        );
        let e = Manifest::parse(
            text.replace("\"version\"", "\"extra\": 1, \"version\"")
                .as_bytes(),
            10,
        )
        .unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
        let e = Manifest::parse(&sample().to_bytes(), 0).unwrap_err();
        assert!(matches!(e, BundleError::TooManyMembers { .. }), "{e}");
    }
}
