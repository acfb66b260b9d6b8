//! Which ecosystem an advisory's package belongs to, and so which version ordering its
//! ranges use. OSV names ecosystems by strings ("Debian:12", "Alpine:v3.19", "npm"); a
//! terminal names its OS by os-release fields. Both are brought to one [`Ecosystem`] so
//! that an advisory meets exactly the hosts of its distribution release.

use std::fmt;

use crate::version::Scheme;

/// An ecosystem that wardwatch can match. Distribution releases are normalised: Debian by
/// codename ("bookworm"), Ubuntu by "YY.MM", Alpine by "3.19", the Red Hat family by major
/// version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ecosystem {
    Distro { distro: Distro, release: String },
    Language(Language),
}

/// Distributions whose advisories wardwatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Distro {
    Debian,
    Ubuntu,
    Alpine,
    /// Red Hat Enterprise Linux (mainline `enterprise_linux` streams only).
    RedHat,
    Rocky,
    Alma,
}

/// Language package ecosystems, compared as SemVer where their versions are SemVer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Npm,
    CratesIo,
    PyPI,
    Go,
}

/// An ecosystem string that wardwatch keeps but cannot match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ecosystem {0:?} is not supported for matching")]
pub struct UnsupportedEcosystem(pub String);

/// Debian's release numbers and codenames; the tracker uses codenames, OSV numbers.
const DEBIAN_RELEASES: [(&str, &str); 9] = [
    ("7", "wheezy"),
    ("8", "jessie"),
    ("9", "stretch"),
    ("10", "buster"),
    ("11", "bullseye"),
    ("12", "bookworm"),
    ("13", "trixie"),
    ("14", "forky"),
    ("15", "duke"),
];

/// The codename of a Debian release number, if known.
pub fn debian_codename(number: &str) -> Option<&'static str> {
    let major = number.split('.').next().unwrap_or(number);
    DEBIAN_RELEASES
        .iter()
        .find(|(n, _)| *n == major)
        .map(|(_, c)| *c)
}

/// The release number of a Debian codename, if known.
pub fn debian_number(codename: &str) -> Option<&'static str> {
    DEBIAN_RELEASES
        .iter()
        .find(|(_, c)| *c == codename)
        .map(|(n, _)| *n)
}

impl Ecosystem {
    /// Reads an OSV ecosystem string.
    pub fn parse(s: &str) -> Result<Ecosystem, UnsupportedEcosystem> {
        let unsupported = || UnsupportedEcosystem(s.to_owned());
        let mut parts = s.split(':');
        let name = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        let distro = |distro, release: Option<String>| {
            release
                .filter(|r| !r.is_empty())
                .map(|release| Ecosystem::Distro { distro, release })
                .ok_or_else(unsupported)
        };
        match name {
            "npm" if rest.is_empty() => Ok(Ecosystem::Language(Language::Npm)),
            "crates.io" if rest.is_empty() => Ok(Ecosystem::Language(Language::CratesIo)),
            "PyPI" if rest.is_empty() => Ok(Ecosystem::Language(Language::PyPI)),
            "Go" if rest.is_empty() => Ok(Ecosystem::Language(Language::Go)),
            "Debian" => distro(Distro::Debian, rest.first().map(|r| debian_release(r))),
            "Ubuntu" => {
                // "Ubuntu:22.04:LTS"; "Ubuntu:Pro:…" needs a subscription the host may
                // not have, so its fixes are not the host's fixes.
                if rest.first() == Some(&"Pro") {
                    return Err(unsupported());
                }
                distro(
                    Distro::Ubuntu,
                    rest.first()
                        .filter(|r| is_ubuntu_release(r))
                        .map(|r| r.to_string()),
                )
            }
            "Alpine" => distro(
                Distro::Alpine,
                rest.first().map(|r| r.trim_start_matches('v').to_owned()),
            ),
            "Red Hat" => {
                // "Red Hat:enterprise_linux:9::appstream" or "Red Hat:9". EUS/AUS/E4S
                // streams carry their own version lines and are not matched.
                let release = match rest.as_slice() {
                    [major] => Some(*major),
                    ["enterprise_linux", major, ..] => Some(*major),
                    _ => None,
                };
                distro(Distro::RedHat, release.and_then(major_number))
            }
            "Rocky Linux" => distro(Distro::Rocky, rest.first().and_then(|r| major_number(r))),
            "AlmaLinux" => distro(Distro::Alma, rest.first().and_then(|r| major_number(r))),
            _ => Err(unsupported()),
        }
    }

    /// The ecosystem of a host's OS packages, from os-release `ID`, `VERSION_ID` and
    /// `VERSION_CODENAME`. CentOS is matched against Red Hat's data: it rebuilds RHEL's
    /// sources with the same versions. (Debian unstable reports the testing codename in
    /// os-release, so a sid host is matched as testing.)
    pub fn for_host(os_id: &str, version_id: &str, codename: &str) -> Option<Ecosystem> {
        let (distro, release) = match os_id {
            "debian" => {
                let release = if codename.is_empty() {
                    debian_codename(version_id)?.to_owned()
                } else {
                    codename.to_owned()
                };
                (Distro::Debian, release)
            }
            "ubuntu" => (Distro::Ubuntu, version_id.to_owned()),
            "alpine" => {
                let mut it = version_id.split('.');
                let (major, minor) = (it.next()?, it.next()?);
                (Distro::Alpine, format!("{major}.{minor}"))
            }
            "rhel" | "centos" => (Distro::RedHat, major_number(version_id)?),
            "rocky" => (Distro::Rocky, major_number(version_id)?),
            "almalinux" => (Distro::Alma, major_number(version_id)?),
            _ => return None,
        };
        (!release.is_empty()).then_some(Ecosystem::Distro { distro, release })
    }

    /// The ecosystem of a language package as an inventory names it ("npm", "pypi").
    pub fn for_language(name: &str) -> Option<Ecosystem> {
        let language = match name.to_ascii_lowercase().as_str() {
            "npm" => Language::Npm,
            "crates.io" | "cargo" => Language::CratesIo,
            "pypi" => Language::PyPI,
            "go" | "golang" => Language::Go,
            _ => return None,
        };
        Some(Ecosystem::Language(language))
    }

    /// The version ordering of the ecosystem's ECOSYSTEM ranges.
    pub fn scheme(&self) -> Scheme {
        match self {
            Ecosystem::Distro { distro, .. } => match distro {
                Distro::Debian | Distro::Ubuntu => Scheme::Dpkg,
                Distro::Alpine => Scheme::Apk,
                Distro::RedHat | Distro::Rocky | Distro::Alma => Scheme::Rpm,
            },
            Ecosystem::Language(_) => Scheme::Semver,
        }
    }

    /// Whether the ecosystem's versions are only SemVer-like (a "v" prefix, a missing
    /// patch number), so that comparison should first bring them to SemVer.
    pub fn lenient_semver(&self) -> bool {
        matches!(self, Ecosystem::Language(_))
    }
}

/// "12" → "bookworm"; a codename stays a codename.
fn debian_release(r: &str) -> String {
    match debian_codename(r) {
        Some(codename) => codename.to_owned(),
        None => r.to_ascii_lowercase(),
    }
}

fn is_ubuntu_release(r: &str) -> bool {
    let b = r.as_bytes();
    b.len() == 5 && b[2] == b'.' && r.bytes().filter(u8::is_ascii_digit).count() == 4
}

/// "9", "9.3", "8.10" → "9", "9", "8".
fn major_number(r: &str) -> Option<String> {
    let major = r.split('.').next()?;
    (!major.is_empty() && major.bytes().all(|c| c.is_ascii_digit())).then(|| major.to_owned())
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ecosystem::Distro { distro, release } => match distro {
                Distro::Debian => write!(f, "Debian:{release}"),
                Distro::Ubuntu => write!(f, "Ubuntu:{release}"),
                Distro::Alpine => write!(f, "Alpine:v{release}"),
                Distro::RedHat => write!(f, "Red Hat:{release}"),
                Distro::Rocky => write!(f, "Rocky Linux:{release}"),
                Distro::Alma => write!(f, "AlmaLinux:{release}"),
            },
            Ecosystem::Language(l) => f.write_str(match l {
                Language::Npm => "npm",
                Language::CratesIo => "crates.io",
                Language::PyPI => "PyPI",
                Language::Go => "Go",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(distro: Distro, release: &str) -> Ecosystem {
        Ecosystem::Distro {
            distro,
            release: release.to_owned(),
        }
    }

    #[test]
    fn osv_names() {
        let ok = |s: &str| Ecosystem::parse(s).unwrap();
        assert_eq!(ok("Debian:12"), distro(Distro::Debian, "bookworm"));
        assert_eq!(ok("Debian:sid"), distro(Distro::Debian, "sid"));
        assert_eq!(ok("Alpine:v3.19"), distro(Distro::Alpine, "3.19"));
        assert_eq!(ok("Ubuntu:22.04:LTS"), distro(Distro::Ubuntu, "22.04"));
        assert_eq!(
            ok("Red Hat:enterprise_linux:9::appstream"),
            distro(Distro::RedHat, "9")
        );
        assert_eq!(ok("Rocky Linux:9"), distro(Distro::Rocky, "9"));
        assert_eq!(ok("AlmaLinux:8"), distro(Distro::Alma, "8"));
        assert_eq!(ok("npm"), Ecosystem::Language(Language::Npm));
        assert_eq!(ok("Go").scheme(), Scheme::Semver);
        assert_eq!(ok("Debian:11").scheme(), Scheme::Dpkg);
        assert_eq!(ok("Alpine:v3.18").scheme(), Scheme::Apk);
        assert_eq!(ok("AlmaLinux:9").scheme(), Scheme::Rpm);
        for bad in [
            "Debian",
            "Maven",
            "Ubuntu:Pro:18.04:LTS",
            "Red Hat:rhel_aus:8.4::appstream",
            "npm:x",
            "",
        ] {
            assert!(Ecosystem::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            Ecosystem::for_host("debian", "12", ""),
            Some(distro(Distro::Debian, "bookworm"))
        );
        assert_eq!(
            Ecosystem::for_host("debian", "", "trixie"),
            Some(distro(Distro::Debian, "trixie"))
        );
        assert_eq!(
            Ecosystem::for_host("alpine", "3.19.1", ""),
            Some(distro(Distro::Alpine, "3.19"))
        );
        assert_eq!(
            Ecosystem::for_host("rhel", "9.3", ""),
            Some(distro(Distro::RedHat, "9"))
        );
        assert_eq!(Ecosystem::for_host("windows", "10", ""), None);
        assert_eq!(ok_display("Debian:12"), "Debian:bookworm");
    }

    fn ok_display(s: &str) -> String {
        Ecosystem::parse(s).unwrap().to_string()
    }
}
