//! What the matcher reports, and in which order: what attackers use now first (ransomware,
//! then any known exploitation), then what they are likely to use (EPSS), then severity.
//!
//! A finding borrows its words from the index and the host it was matched from, so that a
//! host with thousands of findings costs no allocation per finding; [`Finding::into_owned`]
//! detaches one for storage.

use std::borrow::Cow;
use std::cmp::{Ordering, Reverse};
use std::fmt;

use serde::Serialize;

use crate::feed::{Date, Epss, Level, Severity, TrackerStatus};

/// One vulnerability (or an end-of-life OS) on one host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding<'a> {
    /// The advisory's id (`DEBIAN-CVE-…`, `GHSA-…`), or `EOL-<os>-<version>`.
    pub id: Cow<'a, str>,
    pub cves: Cow<'a, [Box<str>]>,
    pub subject: Subject<'a>,
    pub remedy: Remedy<'a>,
    pub severity: Option<Cow<'a, Severity>>,
    /// The distribution tracker's verdict, when the advisory came from one.
    pub status: Option<Cow<'a, TrackerStatus>>,
    pub exploitation: Exploitation,
    /// The record, range and comparison that produced the finding.
    pub why: Why<'a>,
}

/// What is vulnerable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Subject<'a> {
    Package {
        /// Where the advisory applies ("Debian:bookworm").
        ecosystem: Cow<'a, str>,
        /// The installed (binary) package and its version.
        name: Cow<'a, str>,
        version: Cow<'a, str>,
        /// The source package and version that were compared (equal to the binary ones
        /// when the package has no separate source).
        source: Cow<'a, str>,
        source_version: Cow<'a, str>,
    },
    OperatingSystem {
        os_id: Cow<'a, str>,
        version_id: Cow<'a, str>,
        name: Cow<'a, str>,
    },
}

/// What the operator can do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Remedy<'a> {
    /// Upgrade to this version or later.
    FixedIn { version: Cow<'a, str> },
    /// Upgrade past this version (the source names the last affected one).
    FixedAfter { version: Cow<'a, str> },
    /// No fixed version yet.
    NoFixYet,
    /// The distribution has decided not to fix it in this release (no-DSA, postponed,
    /// ignored, end of support for the package); mitigate or accept.
    WillNotFix { reason: Cow<'a, str> },
    /// Upgrade the operating system to a supported release.
    UpgradeOs {
        /// Until when extended support (LTS, ESM, ESU) still delivers fixes, if at all.
        extended_until: Option<Date>,
    },
}

impl Remedy<'_> {
    /// The same remedy, borrowing its words from `self`.
    pub fn reborrow(&self) -> Remedy<'_> {
        match self {
            Remedy::FixedIn { version } => Remedy::FixedIn {
                version: Cow::Borrowed(version),
            },
            Remedy::FixedAfter { version } => Remedy::FixedAfter {
                version: Cow::Borrowed(version),
            },
            Remedy::NoFixYet => Remedy::NoFixYet,
            Remedy::WillNotFix { reason } => Remedy::WillNotFix {
                reason: Cow::Borrowed(reason),
            },
            Remedy::UpgradeOs { extended_until } => Remedy::UpgradeOs {
                extended_until: *extended_until,
            },
        }
    }

    /// The same remedy, owning its words.
    pub fn into_owned(self) -> Remedy<'static> {
        match self {
            Remedy::FixedIn { version } => Remedy::FixedIn {
                version: own(version),
            },
            Remedy::FixedAfter { version } => Remedy::FixedAfter {
                version: own(version),
            },
            Remedy::NoFixYet => Remedy::NoFixYet,
            Remedy::WillNotFix { reason } => Remedy::WillNotFix {
                reason: own(reason),
            },
            Remedy::UpgradeOs { extended_until } => Remedy::UpgradeOs { extended_until },
        }
    }
}

impl fmt::Display for Remedy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::FixedIn { version } => write!(f, "fixed in {version}"),
            Remedy::FixedAfter { version } => write!(f, "fixed after {version}"),
            Remedy::NoFixYet => f.write_str("no fix yet"),
            Remedy::WillNotFix { reason } => write!(f, "will not fix ({reason})"),
            Remedy::UpgradeOs {
                extended_until: Some(d),
            } => {
                write!(f, "upgrade the OS (extended support until {d})")
            }
            Remedy::UpgradeOs {
                extended_until: None,
            } => f.write_str("upgrade the OS"),
        }
    }
}

/// How attackers use the vulnerability, from KEV and EPSS, over all its CVE ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Exploitation {
    /// In CISA's KEV catalog.
    pub known_exploited: bool,
    /// KEV says ransomware campaigns use it.
    pub ransomware: bool,
    /// Earliest KEV `dateAdded` of its CVEs.
    pub kev_date_added: Option<Date>,
    /// Highest EPSS score of its CVEs.
    pub epss: Option<Epss>,
}

/// The evidence for a finding, in words an operator can check by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why<'a> {
    /// The feed record ("Debian security tracker DEBIAN-CVE-2025-53603: sope in
    /// Debian:bookworm: resolved, fixed in 5.8.0-1+deb12u1").
    pub record: Cow<'a, str>,
    /// The range that matched ("introduced 0, fixed 5.8.0-1+deb12u1").
    pub range: Cow<'a, str>,
    /// The comparison made; displays as "installed 5.8.0-1 < fixed 5.8.0-1+deb12u1 (dpkg)".
    pub comparison: Comparison<'a>,
}

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; range {}; {}",
            self.record, self.range, self.comparison
        )
    }
}

/// A comparison of an installed version with the bounds of a range, kept as parts and
/// put into words only when shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison<'a> {
    /// `installed >= introduced` (when there is a lower bound) and below or at `bound`,
    /// in `scheme`'s order.
    InRange {
        installed: Cow<'a, str>,
        introduced: Option<Cow<'a, str>>,
        bound: UpperBound<'a>,
        scheme: &'static str,
    },
    /// The installed version is one the advisory lists.
    Listed {
        installed: Cow<'a, str>,
        listed: Cow<'a, str>,
        scheme: &'static str,
    },
    /// Not a version comparison (the OS's end of life): the words themselves.
    Text(Cow<'a, str>),
}

/// The upper end of the range that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpperBound<'a> {
    /// No fixed version.
    None,
    Fixed(Cow<'a, str>),
    LastAffected(Cow<'a, str>),
    Limit(Cow<'a, str>),
}

impl fmt::Display for Comparison<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comparison::InRange {
                installed,
                introduced,
                bound,
                scheme,
            } => {
                let upper = match bound {
                    UpperBound::None => None,
                    UpperBound::Fixed(v) => Some(("<", "fixed", v)),
                    UpperBound::LastAffected(v) => Some(("<=", "last_affected", v)),
                    UpperBound::Limit(v) => Some(("<", "limit", v)),
                };
                match (introduced, upper) {
                    (Some(lo), Some((op, what, at))) => write!(
                        f,
                        "installed {installed} >= introduced {lo} and {op} {what} {at} ({scheme})"
                    ),
                    (None, Some((op, what, at))) => {
                        write!(f, "installed {installed} {op} {what} {at} ({scheme})")
                    }
                    (Some(lo), None) => write!(
                        f,
                        "installed {installed} >= introduced {lo} ({scheme}); no fixed version"
                    ),
                    (None, None) => write!(
                        f,
                        "installed {installed}: every version is affected; no fixed version"
                    ),
                }
            }
            Comparison::Listed {
                installed,
                listed,
                scheme,
            } => write!(f, "installed {installed} = listed {listed} ({scheme})"),
            Comparison::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for Comparison<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn own<T: ToOwned + ?Sized>(c: Cow<'_, T>) -> Cow<'static, T> {
    Cow::Owned(c.into_owned())
}

impl Finding<'_> {
    /// Orders findings most urgent first: known ransomware use, then known exploitation,
    /// then EPSS score, then severity (unrated counts as [`Level::Unknown`]); ties by id
    /// and package for a stable list.
    pub fn priority_cmp(&self, other: &Finding<'_>) -> Ordering {
        self.rank_key()
            .cmp(&other.rank_key())
            .then_with(|| self.id.cmp(&other.id))
            .then_with(|| self.subject_name().cmp(other.subject_name()))
    }

    /// The part of the priority that is not a name: smaller is more urgent.
    fn rank_key(&self) -> (Reverse<bool>, Reverse<bool>, Reverse<u64>, Reverse<u8>) {
        (
            Reverse(self.exploitation.ransomware),
            Reverse(self.exploitation.known_exploited),
            // Scores are in 0..=1, where the bits of an f32 order like the numbers.
            Reverse(
                self.exploitation
                    .epss
                    .map_or(0, |e| u64::from(e.score.to_bits()) + 1),
            ),
            Reverse(
                self.severity
                    .as_ref()
                    .map_or(Level::Unknown.rank(), |s| s.level.rank()),
            ),
        )
    }

    fn subject_name(&self) -> &str {
        match &self.subject {
            Subject::Package { name, .. } | Subject::OperatingSystem { name, .. } => name,
        }
    }

    /// The same finding, owning all its data (to keep beyond the index or the host).
    pub fn into_owned(self) -> Finding<'static> {
        Finding {
            id: own(self.id),
            cves: own(self.cves),
            subject: match self.subject {
                Subject::Package {
                    ecosystem,
                    name,
                    version,
                    source,
                    source_version,
                } => Subject::Package {
                    ecosystem: own(ecosystem),
                    name: own(name),
                    version: own(version),
                    source: own(source),
                    source_version: own(source_version),
                },
                Subject::OperatingSystem {
                    os_id,
                    version_id,
                    name,
                } => Subject::OperatingSystem {
                    os_id: own(os_id),
                    version_id: own(version_id),
                    name: own(name),
                },
            },
            remedy: self.remedy.into_owned(),
            severity: self.severity.map(own),
            status: self.status.map(own),
            exploitation: self.exploitation,
            why: Why {
                record: own(self.why.record),
                range: own(self.why.range),
                comparison: match self.why.comparison {
                    Comparison::InRange {
                        installed,
                        introduced,
                        bound,
                        scheme,
                    } => Comparison::InRange {
                        installed: own(installed),
                        introduced: introduced.map(own),
                        bound: match bound {
                            UpperBound::None => UpperBound::None,
                            UpperBound::Fixed(v) => UpperBound::Fixed(own(v)),
                            UpperBound::LastAffected(v) => UpperBound::LastAffected(own(v)),
                            UpperBound::Limit(v) => UpperBound::Limit(own(v)),
                        },
                        scheme,
                    },
                    Comparison::Listed {
                        installed,
                        listed,
                        scheme,
                    } => Comparison::Listed {
                        installed: own(installed),
                        listed: own(listed),
                        scheme,
                    },
                    Comparison::Text(t) => Comparison::Text(own(t)),
                },
            },
        }
    }
}

/// Sorts findings most urgent first (see [`Finding::priority_cmp`]). Sorts keys and
/// moves each finding once: findings are large and hosts may have thousands.
pub fn sort_by_priority(findings: &mut [Finding<'_>]) {
    findings.sort_by_cached_key(|f| {
        let name = match &f.subject {
            Subject::Package { name, .. } | Subject::OperatingSystem { name, .. } => name.clone(),
        };
        // Borrowed words cost nothing to copy into the key; owned ones are few (EOL).
        (f.rank_key(), f.id.clone(), name)
    });
}

/// The urgency class of a finding, for counting and filtering: the first of the priority
/// rules (see [`Finding::priority_cmp`]) that applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    /// KEV says ransomware campaigns use it.
    Ransomware,
    /// In KEV: exploited in the wild.
    Exploited,
    /// EPSS gives at least [`LIKELY_EPSS`] probability of exploitation within 30 days.
    Likely,
    /// Rated high or critical.
    Severe,
    /// Everything else.
    Other,
}

/// The EPSS score from which a finding counts as likely to be exploited: about the top
/// 2 % of scored CVEs.
pub const LIKELY_EPSS: f32 = 0.1;

impl Priority {
    /// Every class, most urgent first.
    pub const ALL: [Priority; 5] = [
        Priority::Ransomware,
        Priority::Exploited,
        Priority::Likely,
        Priority::Severe,
        Priority::Other,
    ];

    /// The name used in the API and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Ransomware => "ransomware",
            Priority::Exploited => "exploited",
            Priority::Likely => "likely",
            Priority::Severe => "severe",
            Priority::Other => "other",
        }
    }

    /// Parses [`Priority::as_str`]'s names.
    pub fn parse(text: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// How much a finding of this class weighs when upgrades are ranked by the risk they
    /// remove: one ransomware finding outweighs any number of ordinary ones a fleet has.
    pub fn weight(self) -> f64 {
        match self {
            Priority::Ransomware => 1_000_000.0,
            Priority::Exploited => 10_000.0,
            Priority::Likely => 100.0,
            Priority::Severe => 10.0,
            Priority::Other => 1.0,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Finding<'_> {
    /// The finding's urgency class.
    pub fn priority(&self) -> Priority {
        let e = &self.exploitation;
        let level = self.severity.as_ref().map(|s| s.level);
        if e.ransomware {
            Priority::Ransomware
        } else if e.known_exploited {
            Priority::Exploited
        } else if e.epss.is_some_and(|s| s.score >= LIKELY_EPSS) {
            Priority::Likely
        } else if matches!(level, Some(Level::High | Level::Critical)) {
            Priority::Severe
        } else {
            Priority::Other
        }
    }

    /// The subject's name: the installed package, or the OS.
    pub fn subject_label(&self) -> &str {
        self.subject_name()
    }
}
