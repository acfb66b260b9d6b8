//! The patch request: what the fleet needs, carried out of the hospital to a machine
//! with internet (the fleet's `apt-offline set`).
//!
//! The file crosses the air gap on removable media and comes back to nobody's control:
//! [`PatchRequest::parse`] checks every name, architecture and version in it before a
//! download is built from it, and names the place of the first thing that is wrong.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wardwatch_vuln::version::Scheme;

/// The `kind` every request file carries.
pub const REQUEST_KIND: &str = "wardwatch-patch-request";
/// The format this build writes and reads.
pub const REQUEST_FORMAT: u32 = 1;
/// Largest request file read: a fleet of 50,000 terminals needing a few hundred
/// packages stays far below this.
pub const MAX_REQUEST_BYTES: usize = 64 << 20;

/// What the fleet needs, per system and per host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    pub kind: String,
    pub format: u32,
    /// Unix seconds when the server planned it.
    pub made_at: i64,
    /// Which findings were planned.
    pub filter: PlanFilterRecord,
    /// One entry per operating system release: what to download for it.
    pub systems: Vec<SystemNeed>,
    /// One entry per terminal: what it will upgrade.
    pub hosts: Vec<HostPlan>,
    /// Terminals with open findings that this plan cannot patch, and why.
    pub not_covered: Vec<NotCovered>,
    /// Terminals on a release past its end of support: a release upgrade, which
    /// package upgrades do not make.
    pub end_of_life: Vec<NotCovered>,
    /// Open findings left out because no fixed version is known yet.
    pub without_fix: u64,
}

/// The filter a request was planned with, as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFilterRecord {
    /// Findings of this priority class and the more urgent ones.
    pub priority: String,
    /// Only terminals of this department, when set.
    pub department: Option<String>,
}

/// What one operating system release needs from its mirrors. Advisories of several
/// feeds (OSV's `Debian:12`, the tracker's `Debian:bookworm`) meet here by the
/// terminals' os-release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemNeed {
    /// `ID` from os-release, e.g. `debian`.
    pub os_id: String,
    /// `VERSION_ID`, e.g. `12`.
    pub release: String,
    /// `VERSION_CODENAME`, e.g. `bookworm`: names the suites on the mirror.
    pub codename: String,
    /// Architectures of the packages below.
    pub architectures: Vec<String>,
    pub packages: Vec<PackageNeed>,
    /// Every package installed on the system's terminals, with the lowest version any
    /// of them has: a dependency this version already meets is not downloaded.
    #[serde(default)]
    pub baseline: BTreeMap<String, String>,
}

/// One binary package to download for a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageNeed {
    pub name: String,
    pub arch: String,
    /// Its source package, the one advisories name.
    pub source: String,
    /// The upgrade must come from this source version or a later one: the highest
    /// fixed version of the findings it removes.
    pub fixed_source_version: String,
    /// Versions installed across the fleet.
    pub installed: Vec<String>,
    /// Terminals that need it.
    pub hosts: u64,
    /// Advisories it removes.
    pub advisories: Vec<String>,
    /// The most urgent priority class among them.
    pub priority: String,
}

/// What one terminal will upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostPlan {
    pub host_id: String,
    pub hostname: String,
    pub department: String,
    /// Its system, as in `systems`.
    pub os_id: String,
    pub codename: String,
    pub upgrades: Vec<HostUpgrade>,
}

/// One package upgrade on one terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostUpgrade {
    pub name: String,
    pub arch: String,
    pub installed: String,
    pub fixed_source_version: String,
    pub advisories: Vec<String>,
}

/// A terminal the plan leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotCovered {
    pub host_id: String,
    pub hostname: String,
    pub ecosystem: String,
    pub findings: u64,
    pub reason: String,
}

/// Why a request file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("the patch request is {0} bytes; at most {MAX_REQUEST_BYTES} are read")]
    TooLarge(usize),
    #[error("the patch request is not valid: {0}")]
    Json(String),
    #[error("the patch request is not valid: {place}: {what}")]
    Invalid { place: String, what: String },
}

fn invalid(place: impl Into<String>, what: impl Into<String>) -> RequestError {
    RequestError::Invalid {
        place: place.into(),
        what: what.into(),
    }
}

impl PatchRequest {
    /// Reads and checks a request file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<PatchRequest, RequestError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(RequestError::TooLarge(bytes.len()));
        }
        let request: PatchRequest =
            serde_json::from_slice(bytes).map_err(|e| RequestError::Json(e.to_string()))?;
        request.check()?;
        Ok(request)
    }

    /// Checks every name, architecture and version against what Debian allows.
    pub fn check(&self) -> Result<(), RequestError> {
        if self.kind != REQUEST_KIND {
            return Err(invalid(
                "kind",
                format!("{:?} is not {REQUEST_KIND:?}", self.kind),
            ));
        }
        if self.format != REQUEST_FORMAT {
            return Err(invalid(
                "format",
                format!(
                    "format {} is not the {REQUEST_FORMAT} this wardwatch reads",
                    self.format
                ),
            ));
        }
        for (i, system) in self.systems.iter().enumerate() {
            let at = format!("systems[{i}]");
            check_word(&format!("{at}.os_id"), &system.os_id)?;
            check_word(&format!("{at}.codename"), &system.codename)?;
            check_version_id(&format!("{at}.release"), &system.release)?;
            for (j, arch) in system.architectures.iter().enumerate() {
                check_arch(&format!("{at}.architectures[{j}]"), arch)?;
            }
            for (j, p) in system.packages.iter().enumerate() {
                let at = format!("{at}.packages[{j}]");
                check_package_name(&format!("{at}.name"), &p.name)?;
                check_package_name(&format!("{at}.source"), &p.source)?;
                check_arch(&format!("{at}.arch"), &p.arch)?;
                check_version(
                    &format!("{at}.fixed_source_version"),
                    &p.fixed_source_version,
                )?;
                for (k, v) in p.installed.iter().enumerate() {
                    check_version(&format!("{at}.installed[{k}]"), v)?;
                }
            }
            for (name, version) in &system.baseline {
                check_package_name(&format!("{at}.baseline"), name)?;
                check_version(&format!("{at}.baseline.{name}"), version)?;
            }
        }
        for (i, host) in self.hosts.iter().enumerate() {
            let at = format!("hosts[{i}]");
            for (j, u) in host.upgrades.iter().enumerate() {
                let at = format!("{at}.upgrades[{j}]");
                check_package_name(&format!("{at}.name"), &u.name)?;
                check_arch(&format!("{at}.arch"), &u.arch)?;
                check_version(&format!("{at}.installed"), &u.installed)?;
                check_version(
                    &format!("{at}.fixed_source_version"),
                    &u.fixed_source_version,
                )?;
            }
        }
        Ok(())
    }

    /// The request as the file holds it.
    pub fn to_json(&self) -> String {
        // Only strings, numbers and lists: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// An os-release `ID` or a codename: lower-case letters and digits.
fn check_word(place: &str, text: &str) -> Result<(), RequestError> {
    if is_token(text, 32, |b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(
            place,
            format!("{text:?} is not 1 to 32 lower-case letters and digits"),
        ))
    }
}

/// Whether `text` is 1 to `max` bytes, each one `allowed` takes.
pub(crate) fn is_token(text: &str, max: usize, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(allowed)
}

/// An os-release `VERSION_ID`: digits and dots.
fn check_version_id(place: &str, text: &str) -> Result<(), RequestError> {
    if is_token(text, 16, |b| b.is_ascii_digit() || b == b'.') {
        Ok(())
    } else {
        Err(invalid(place, format!("{text:?} is not a release number")))
    }
}

/// A Debian architecture (`amd64`, `arm64`, `all`, `armhf`, `i386`, …).
fn check_arch(place: &str, text: &str) -> Result<(), RequestError> {
    if is_token(text, 32, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
    }) {
        Ok(())
    } else {
        Err(invalid(place, format!("{text:?} is not an architecture")))
    }
}

/// A Debian package name (Policy 5.6.1): lower-case letters, digits, `+`, `-` and `.`,
/// at least two long, starting with a letter or digit. It becomes part of a file name and
/// a URL, so nothing else gets through.
pub fn check_package_name(place: &str, text: &str) -> Result<(), RequestError> {
    let bytes = text.as_bytes();
    let ok = (2..=128).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            place,
            format!("{text:?} is not a Debian package name"),
        ))
    }
}

/// A version dpkg can order.
fn check_version(place: &str, text: &str) -> Result<(), RequestError> {
    let ok = !text.is_empty() && text.len() <= 128 && Scheme::Dpkg.scheme().validate(text).is_ok();
    if ok {
        Ok(())
    } else {
        Err(invalid(
            place,
            format!("{text:?} is not a Debian package version"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PatchRequest {
        PatchRequest {
            kind: REQUEST_KIND.into(),
            format: REQUEST_FORMAT,
            made_at: 1_700_000_000,
            filter: PlanFilterRecord {
                priority: "exploited".into(),
                department: None,
            },
            systems: vec![SystemNeed {
                os_id: "debian".into(),
                release: "12".into(),
                codename: "bookworm".into(),
                architectures: vec!["amd64".into()],
                packages: vec![PackageNeed {
                    name: "libssl3".into(),
                    arch: "amd64".into(),
                    source: "openssl".into(),
                    fixed_source_version: "3.0.15-1~deb12u1".into(),
                    installed: vec!["3.0.11-1~deb12u2".into()],
                    hosts: 1,
                    advisories: vec!["DSA-5764-1".into()],
                    priority: "exploited".into(),
                }],
                baseline: BTreeMap::from([("libc6".into(), "2.36-9+deb12u10".into())]),
            }],
            hosts: Vec::new(),
            not_covered: Vec::new(),
            end_of_life: Vec::new(),
            without_fix: 0,
        }
    }

    #[test]
    fn a_request_reads_back_as_written() {
        let r = request();
        assert_eq!(PatchRequest::parse(r.to_json().as_bytes()).unwrap(), r);
    }

    #[test]
    fn hostile_names_and_versions_are_refused_with_their_place() {
        type Change = fn(&mut PatchRequest);
        let cases: Vec<(&str, Change)> = vec![
            ("systems[0].packages[0].name", |r| {
                r.systems[0].packages[0].name = "../../etc/passwd".into()
            }),
            ("systems[0].packages[0].source", |r| {
                r.systems[0].packages[0].source = "Openssl".into()
            }),
            ("systems[0].codename", |r| {
                r.systems[0].codename = "bookworm/../x".into()
            }),
            ("systems[0].architectures[0]", |r| {
                r.systems[0].architectures[0] = "amd64 ".into()
            }),
            ("systems[0].packages[0].fixed_source_version", |r| {
                r.systems[0].packages[0].fixed_source_version = "".into()
            }),
            ("systems[0].packages[0].installed[0]", |r| {
                r.systems[0].packages[0].installed[0] = "1:".into()
            }),
            ("systems[0].release", |r| {
                r.systems[0].release = "12; rm".into()
            }),
            ("kind", |r| r.kind = "wardwatch-bundle".into()),
        ];
        for (place, change) in cases {
            let mut r = request();
            change(&mut r);
            let err = PatchRequest::parse(r.to_json().as_bytes()).unwrap_err();
            assert!(err.to_string().contains(place), "{place}: {err}");
        }
    }

    #[test]
    fn truncated_unknown_and_oversized_files_are_refused() {
        let json = request().to_json();
        let err = PatchRequest::parse(&json.as_bytes()[..json.len() / 2]).unwrap_err();
        assert!(matches!(err, RequestError::Json(_)), "{err}");
        let extra = json.replacen("{", "{\"surprise\": 1,", 1);
        let err = PatchRequest::parse(extra.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("surprise"), "{err}");
        let huge = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(matches!(
            PatchRequest::parse(&huge),
            Err(RequestError::TooLarge(_))
        ));
    }
}
