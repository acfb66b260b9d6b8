//! The normal form every importer produces, modelled on OSV (ossf/osv-schema) with the
//! one thing OSV cannot say: a distribution tracker's verdict for a release ("no DSA",
//! "postponed", "ignored"), which decides whether a fix will ever come.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One vulnerability as one source describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The source's identifier (`GHSA-…`, `DSA-…`, `DEBIAN-CVE-…`).
    pub id: String,
    /// Other identifiers of the same vulnerability, CVE ids among them.
    pub aliases: Vec<String>,
    /// When the source last changed it (RFC 3339, as given).
    pub modified: Option<String>,
    /// When the source withdrew it; a withdrawn advisory is kept but never matched.
    pub withdrawn: Option<String>,
    pub summary: Option<String>,
    /// Which importer produced it.
    pub origin: Origin,
    pub affected: Vec<Affected>,
}

impl Advisory {
    /// The CVE ids of this advisory: its own id if it is one, then its aliases.
    pub fn cve_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|id| is_cve_id(id))
    }
}

/// Whether `id` looks like a CVE id (`CVE-YYYY-NNNN…`).
pub fn is_cve_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|c| c.is_ascii_digit())
        && number.len() >= 4
        && number.bytes().all(|c| c.is_ascii_digit())
}

/// The importer an advisory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Osv,
    DebianTracker,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Osv => "OSV",
            Origin::DebianTracker => "Debian security tracker",
        })
    }
}

/// The versions of one package that a vulnerability affects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub package: PackageId,
    pub ranges: Vec<Range>,
    /// Versions listed one by one (OSV `versions`).
    pub versions: Vec<String>,
    pub severity: Option<Severity>,
    /// A distribution tracker's verdict for this release; `None` for OSV data.
    pub status: Option<TrackerStatus>,
}

/// A package in an ecosystem, as OSV names it (`Debian:12` / `openssl`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PackageId {
    pub ecosystem: String,
    pub name: String,
}

/// Versions between events, ordered by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    /// In the order the source gave them; the matcher sorts them by version.
    pub events: Vec<Event>,
}

/// How the versions of a range are ordered. OSV's GIT ranges are not kept: a terminal
/// reports package versions, not commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// The ordering of the package's ecosystem (dpkg for Debian, …).
    Ecosystem,
    /// SemVer 2.0.0 precedence whatever the ecosystem.
    Semver,
}

/// One boundary of a range (OSV `events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Affected from this version on; "0" means from the first version.
    Introduced(String),
    /// Not affected from this version on.
    Fixed(String),
    /// Affected up to and including this version; the fix is in some later one.
    LastAffected(String),
    /// Nothing at or after this version is affected by the range.
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }

    /// The OSV name of the event.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Introduced(_) => "introduced",
            Event::Fixed(_) => "fixed",
            Event::LastAffected(_) => "last_affected",
            Event::Limit(_) => "limit",
        }
    }
}

/// How bad a vulnerability is, on one scale for every feed, with the source's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    pub level: Level,
    /// As the source wrote it ("high**", "MODERATE", "CVSS_V3 9.8").
    pub label: String,
}

/// Severity levels. Declared from least to most severe; `Unknown` ranks between Low and
/// Medium (see [`Level::rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not rated yet ("not yet assigned").
    Unknown,
    /// Debian's "unimportant": not a security problem in practice.
    Unimportant,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// Position in the priority order: an unrated issue may still be serious, so it ranks
    /// above what is known to be low, and below what is known to be medium or worse.
    pub fn rank(self) -> u8 {
        match self {
            Level::Unimportant => 0,
            Level::Low => 1,
            Level::Unknown => 2,
            Level::Medium => 3,
            Level::High => 4,
            Level::Critical => 5,
        }
    }

    /// Reads the common words for a level (Debian urgencies, GHSA and Red Hat ratings).
    pub fn from_word(word: &str) -> Level {
        match word.trim().to_ascii_lowercase().as_str() {
            "unimportant" | "negligible" => Level::Unimportant,
            "low" => Level::Low,
            "medium" | "moderate" => Level::Medium,
            "high" | "important" => Level::High,
            "critical" => Level::Critical,
            _ => Level::Unknown,
        }
    }

    /// The CVSS v3/v4 qualitative rating of a base score.
    pub fn from_cvss(score: f64) -> Level {
        if score >= 9.0 {
            Level::Critical
        } else if score >= 7.0 {
            Level::High
        } else if score >= 4.0 {
            Level::Medium
        } else if score > 0.0 {
            Level::Low
        } else {
            Level::Unimportant
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Unknown => "unknown",
            Level::Unimportant => "unimportant",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        })
    }
}

/// What a distribution's security tracker says about one package in one release. These
/// are the distinctions the Debian tracker's JSON makes; they decide whether the operator
/// waits for a fix, applies one, or accepts the risk.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum TrackerStatus {
    /// Resolved: versions before this one are affected.
    Fixed { version: String },
    /// Resolved with fixed version "0": this release never had the flaw.
    NotAffected,
    /// Open: affected, a fix is expected.
    OpenUnfixed,
    /// Open, marked no-dsa: the security team will not issue an advisory; a fix may come
    /// through a point release. `reason` is the tracker's note ("Minor issue").
    NoDsa { reason: String },
    /// Open, no-dsa "postponed": a fix will ride along with a later update.
    Postponed { reason: String },
    /// Open, no-dsa "ignored": the security team decided not to fix it in this release.
    Ignored { reason: String },
    /// Open with urgency "unimportant": not treated as a security problem.
    Unimportant,
    /// Open with urgency "end-of-life": security support for this package in this release
    /// has ended; no fix will come.
    EndOfLife,
    /// Not yet known whether this release is affected.
    Undetermined,
}

impl fmt::Display for TrackerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_reason = |f: &mut fmt::Formatter<'_>, what: &str, reason: &str| {
            if reason.is_empty() {
                f.write_str(what)
            } else {
                write!(f, "{what} ({reason})")
            }
        };
        match self {
            TrackerStatus::Fixed { version } => write!(f, "resolved, fixed in {version}"),
            TrackerStatus::NotAffected => f.write_str("not affected"),
            TrackerStatus::OpenUnfixed => f.write_str("open"),
            TrackerStatus::NoDsa { reason } => with_reason(f, "open, no DSA", reason),
            TrackerStatus::Postponed { reason } => with_reason(f, "open, postponed", reason),
            TrackerStatus::Ignored { reason } => with_reason(f, "open, ignored", reason),
            TrackerStatus::Unimportant => f.write_str("open, unimportant"),
            TrackerStatus::EndOfLife => f.write_str("open, end of security support"),
            TrackerStatus::Undetermined => f.write_str("undetermined"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(is_cve_id("CVE-2021-1234567"));
        for bad in [
            "CVE-21-44228",
            "CVE-2021-123",
            "GHSA-jfh8-c2jp-5v3q",
            "CVE-2021-44228x",
        ] {
            assert!(!is_cve_id(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_ranks_between_low_and_medium() {
        assert!(Level::Low.rank() < Level::Unknown.rank());
        assert!(Level::Unknown.rank() < Level::Medium.rank());
        assert_eq!(Level::from_word("MODERATE"), Level::Medium);
        assert_eq!(Level::from_cvss(9.8), Level::Critical);
    }
}
