//! The Debian security tracker's JSON export (security-tracker.debian.org/tracker/data/json)
//! in its native shape: source package → issue → release codename → verdict. Each verdict
//! becomes an [`Affected`] entry for `Debian:<release>` carrying the tracker's status, so
//! that "fixed in", "not affected", "no DSA", "postponed", "ignored", "unimportant",
//! "end of life" and "undetermined" stay distinct.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::ecosystem::debian_number;
use super::error::{from_json, FeedError};
use super::model::{
    is_cve_id, Advisory, Affected, Event, Level, Origin, PackageId, Range, RangeKind, Severity,
    TrackerStatus,
};
use super::ImportNotes;
use crate::version::{Dpkg, VersionScheme};

#[derive(Deserialize)]
struct RawIssue {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    releases: Releases,
}

/// The tracker writes `"releases": []` for an issue without releases (a PHP-style empty
/// map), and an object otherwise.
#[derive(Default)]
struct Releases(BTreeMap<String, RawRelease>);

#[derive(Deserialize)]
struct RawRelease {
    status: RawStatus,
    #[serde(default)]
    #[allow(dead_code)] // checked for shape; the suites' versions are not needed to match
    repositories: Option<BTreeMap<String, String>>,
    #[serde(default)]
    fixed_version: Option<DebVersion>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum RawStatus {
    Resolved,
    Open,
    Undetermined,
}

/// A version that dpkg accepts, refused at its JSON path otherwise.
struct DebVersion(String);

impl<'de> Deserialize<'de> for DebVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = String::deserialize(d)?;
        Dpkg.validate(&v).map_err(de::Error::custom)?;
        Ok(DebVersion(v))
    }
}

impl<'de> Deserialize<'de> for Releases {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Releases;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of release codenames to verdicts, or an empty list")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Releases, A::Error> {
                BTreeMap::deserialize(de::value::MapAccessDeserializer::new(map)).map(Releases)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Releases, A::Error> {
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(Releases::default()),
                    Some(_) => Err(de::Error::invalid_length(1, &"an empty list")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses the tracker JSON. Advisories are keyed `DEBIAN-<issue>` (`DEBIAN-CVE-2023-0001`),
/// with one affected entry per source package and release.
pub fn parse(
    bytes: &[u8],
    file: &str,
    notes: &mut ImportNotes,
) -> Result<Vec<Advisory>, FeedError> {
    let raw: BTreeMap<String, BTreeMap<String, RawIssue>> = from_json(bytes, file)?;
    let mut advisories: BTreeMap<String, Advisory> = BTreeMap::new();
    for (source, issues) in raw {
        for (issue_id, issue) in issues {
            let advisory = advisories
                .entry(issue_id.clone())
                .or_insert_with(|| Advisory {
                    id: format!("DEBIAN-{issue_id}"),
                    aliases: if is_cve_id(&issue_id) {
                        vec![issue_id.clone()]
                    } else {
                        Vec::new()
                    },
                    modified: None,
                    withdrawn: None,
                    summary: None,
                    origin: Origin::DebianTracker,
                    affected: Vec::new(),
                });
            if advisory.summary.is_none() {
                advisory.summary = issue.description.filter(|d| !d.is_empty());
            }
            for (codename, release) in issue.releases.0 {
                let status = status_of(&release, notes);
                advisory.affected.push(Affected {
                    package: PackageId {
                        ecosystem: match debian_number(&codename) {
                            Some(n) => format!("Debian:{n}"),
                            None => format!("Debian:{codename}"),
                        },
                        name: source.clone(),
                    },
                    ranges: ranges_of(&status),
                    versions: Vec::new(),
                    severity: release.urgency.map(|label| Severity {
                        level: Level::from_word(label.trim_end_matches('*')),
                        label,
                    }),
                    status: Some(status),
                });
            }
        }
    }
    Ok(advisories.into_values().collect())
}

/// The tracker's verdict for one release. Open issues are told apart by what the
/// tracker says will happen: end of support and "unimportant" come from the urgency,
/// "ignored" and "postponed" from `nodsa_reason`, plain no-DSA from `nodsa`.
fn status_of(r: &RawRelease, notes: &mut ImportNotes) -> TrackerStatus {
    let urgency = r.urgency.as_deref().map(|u| u.trim_end_matches('*'));
    let reason = || r.nodsa.clone().unwrap_or_default();
    match r.status {
        RawStatus::Resolved => match &r.fixed_version {
            Some(DebVersion(v)) if v == "0" => TrackerStatus::NotAffected,
            Some(DebVersion(v)) => TrackerStatus::Fixed { version: v.clone() },
            None => {
                // Not produced by the tracker today; treated as unknown rather than safe.
                notes.tracker_resolved_without_version += 1;
                TrackerStatus::Undetermined
            }
        },
        RawStatus::Open if urgency == Some("end-of-life") => TrackerStatus::EndOfLife,
        RawStatus::Open if urgency == Some("unimportant") => TrackerStatus::Unimportant,
        RawStatus::Open => match r.nodsa_reason.as_deref() {
            Some("ignored") => TrackerStatus::Ignored { reason: reason() },
            Some("postponed") => TrackerStatus::Postponed { reason: reason() },
            _ if r.nodsa.is_some() => TrackerStatus::NoDsa { reason: reason() },
            _ => TrackerStatus::OpenUnfixed,
        },
        RawStatus::Undetermined => TrackerStatus::Undetermined,
    }
}

/// The versions a verdict covers: before the fix, none, or all.
fn ranges_of(status: &TrackerStatus) -> Vec<Range> {
    let events = match status {
        TrackerStatus::NotAffected => return Vec::new(),
        TrackerStatus::Fixed { version } => vec![
            Event::Introduced("0".to_owned()),
            Event::Fixed(version.clone()),
        ],
        _ => vec![Event::Introduced("0".to_owned())],
    };
    vec![Range {
        kind: RangeKind::Ecosystem,
        events,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(release: &str) -> TrackerStatus {
        let json =
            format!(r#"{{"pkg":{{"CVE-2024-0001":{{"releases":{{"bookworm":{release}}}}}}}}}"#);
        let advs = parse(json.as_bytes(), "t.json", &mut ImportNotes::default()).unwrap();
        advs[0].affected[0].status.clone().unwrap()
    }

    #[test]
    fn open_issues_keep_their_kind() {
        assert_eq!(
            one(
                r#"{"status":"open","urgency":"low","nodsa":"Minor issue","nodsa_reason":"postponed"}"#
            ),
            TrackerStatus::Postponed {
                reason: "Minor issue".into()
            }
        );
        assert_eq!(
            one(
                r#"{"status":"open","urgency":"low","nodsa":"contrib not built","nodsa_reason":"ignored"}"#
            ),
            TrackerStatus::Ignored {
                reason: "contrib not built".into()
            }
        );
        assert_eq!(
            one(r#"{"status":"open","urgency":"low","nodsa":"Minor issue","nodsa_reason":""}"#),
            TrackerStatus::NoDsa {
                reason: "Minor issue".into()
            }
        );
        assert_eq!(
            one(r#"{"status":"open","urgency":"unimportant"}"#),
            TrackerStatus::Unimportant
        );
        assert_eq!(
            one(r#"{"status":"open","urgency":"medium**"}"#),
            TrackerStatus::OpenUnfixed
        );
        assert_eq!(
            one(r#"{"status":"undetermined","urgency":"not yet assigned"}"#),
            TrackerStatus::Undetermined
        );
    }
}
