//! OSV advisories (ossf/osv-schema) into the normal form. What a terminal's package
//! versions cannot be matched against (GIT ranges, affected entries without a package) is
//! skipped and counted, so that the import says what it left out.

use serde::Deserialize;
use serde_json::Value;

use super::cvss;
use super::ecosystem::Ecosystem;
use super::error::{from_json, FeedError};
use super::model::{
    Advisory, Affected, Event, Level, Origin, PackageId, Range, RangeKind, Severity,
};
use super::ImportNotes;

#[derive(Deserialize)]
struct RawAdvisory {
    id: String,
    modified: String,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    upstream: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: RawRangeKind,
    events: Vec<Event>,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum RawRangeKind {
    Ecosystem,
    Semver,
    Git,
    #[serde(other)]
    Other,
}

/// Parses one OSV advisory (a single JSON object). `file` names it in errors.
pub fn parse_advisory(
    bytes: &[u8],
    file: &str,
    notes: &mut ImportNotes,
) -> Result<Advisory, FeedError> {
    let raw: RawAdvisory = from_json(bytes, file)?;
    let top_severity = severity_of(
        raw.database_specific.as_ref(),
        None,
        raw.severity.as_deref().unwrap_or(&[]),
    );
    let mut affected = Vec::new();
    for (i, a) in raw.affected.unwrap_or_default().into_iter().enumerate() {
        let Some(package) = a.package else {
            notes.affected_without_package += 1;
            continue;
        };
        if let Err(e) = Ecosystem::parse(&package.ecosystem) {
            *notes.unsupported_ecosystems.entry(e.0).or_default() += 1;
        }
        let mut ranges = Vec::new();
        for (j, r) in a.ranges.unwrap_or_default().into_iter().enumerate() {
            let kind = match r.kind {
                RawRangeKind::Ecosystem => RangeKind::Ecosystem,
                RawRangeKind::Semver => RangeKind::Semver,
                RawRangeKind::Git => {
                    notes.git_ranges_skipped += 1;
                    continue;
                }
                RawRangeKind::Other => {
                    notes.unknown_ranges_skipped += 1;
                    continue;
                }
            };
            if !r.events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                return Err(FeedError::Json {
                    file: file.to_owned(),
                    path: format!("affected[{i}].ranges[{j}].events"),
                    message: "a range needs an \"introduced\" event".to_owned(),
                });
            }
            ranges.push(Range {
                kind,
                events: r.events,
            });
        }
        let severity = severity_of(
            a.database_specific.as_ref(),
            a.ecosystem_specific.as_ref(),
            a.severity.as_deref().unwrap_or(&[]),
        )
        .or_else(|| top_severity.clone());
        affected.push(Affected {
            package: PackageId {
                ecosystem: package.ecosystem,
                name: package.name,
            },
            ranges,
            versions: a.versions.unwrap_or_default(),
            severity,
            status: None,
        });
    }
    if raw.withdrawn.is_some() {
        notes.withdrawn += 1;
    }
    let mut aliases = raw.aliases.unwrap_or_default();
    for up in raw.upstream.unwrap_or_default() {
        if !aliases.contains(&up) {
            aliases.push(up);
        }
    }
    Ok(Advisory {
        id: raw.id,
        aliases,
        modified: Some(raw.modified),
        withdrawn: raw.withdrawn,
        summary: raw.summary,
        origin: Origin::Osv,
        affected,
    })
}

/// The severity a source states most specifically: an ecosystem's own word first
/// (Debian's urgency, Red Hat's rating), then a database's word (GHSA), then a CVSS v3
/// vector; a vector of another version only as a label.
fn severity_of(
    database: Option<&Value>,
    ecosystem: Option<&Value>,
    scores: &[RawSeverity],
) -> Option<Severity> {
    let word = |v: Option<&Value>, key: &str| -> Option<String> {
        v?.get(key)?.as_str().map(str::to_owned)
    };
    let stated = word(ecosystem, "severity")
        .or_else(|| word(ecosystem, "urgency"))
        .or_else(|| word(database, "severity"));
    if let Some(label) = stated {
        return Some(Severity {
            level: Level::from_word(label.trim_end_matches('*')),
            label,
        });
    }
    if let Some((s, score)) = scores
        .iter()
        .find_map(|s| cvss::v3_base_score(&s.score).map(|score| (s, score)))
    {
        return Some(Severity {
            level: Level::from_cvss(score),
            label: format!("{} {score:.1}", s.kind),
        });
    }
    // Some databases put a word where a vector belongs ({"type": "Ubuntu", "score":
    // "medium"}); other vectors (CVSS v2, v4) are kept as words only.
    scores.first().map(|s| Severity {
        level: Level::from_word(&s.score),
        label: format!("{} {}", s.kind, s.score),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_ranges_are_counted_and_dropped() {
        let json = br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[
            {"package":{"ecosystem":"npm","name":"a"},"ranges":[
              {"type":"GIT","repo":"https://x","events":[{"introduced":"abc"}]},
              {"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}"#;
        let mut notes = ImportNotes::default();
        let adv = parse_advisory(json, "x.json", &mut notes).unwrap();
        assert_eq!(notes.git_ranges_skipped, 1);
        assert_eq!(adv.affected[0].ranges.len(), 1);
        assert_eq!(adv.affected[0].ranges[0].kind, RangeKind::Semver);
    }

    #[test]
    fn severity_sources() {
        let json = br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[
              {"package":{"ecosystem":"npm","name":"a"}},
              {"package":{"ecosystem":"Debian:12","name":"b"},"ecosystem_specific":{"urgency":"low**"}}]}"#;
        let adv = parse_advisory(json, "x.json", &mut ImportNotes::default()).unwrap();
        let sev = |i: usize| adv.affected[i].severity.clone().unwrap();
        assert_eq!(sev(0).level, Level::Critical);
        assert_eq!(sev(0).label, "CVSS_V3 9.8");
        assert_eq!(sev(1).level, Level::Low);
        assert_eq!(sev(1).label, "low**");
    }
}
