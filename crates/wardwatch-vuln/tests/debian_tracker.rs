//! Every package, issue and release of the shared Debian tracker sample, matched case by
//! case: a host of that release with the source package below, at and above the fixed
//! version (or at the versions the tracker lists, for verdicts without one). Expectations
//! are written out by hand; where a version relation is asserted, dpkg itself confirms it.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::sync::OnceLock;

use support::{date, debian_host, dpkg_holds, package_findings, shared};
use wardwatch_vuln::feed::{FeedSet, FeedSources, Level, TrackerStatus};
use wardwatch_vuln::matcher::{Finding, MatchIndex, Remedy, Subject};

fn index() -> &'static MatchIndex {
    static INDEX: OnceLock<MatchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let feeds = FeedSet::import(&FeedSources {
            debian_tracker: vec![shared("debian-tracker/debian-tracker-sample.json")],
            ..FeedSources::default()
        })
        .expect("the shared tracker sample imports");
        MatchIndex::build(&feeds).with_today(date("2025-08-25"))
    })
}

/// Package findings on a host of `release` with source package `source` at `installed`.
fn matched(release: &str, source: &str, installed: &str) -> Vec<Finding<'static>> {
    package_findings(index().match_host(&debian_host(release, &[(source, installed, None)])))
}

/// Exactly one finding: `id`, fixed in `fixed`, with the tracker's urgency.
fn fixed(
    release: &str,
    source: &str,
    installed: &str,
    id: &str,
    fixed: &str,
    level: Level,
    label: &str,
) {
    assert!(
        dpkg_holds(installed, "lt", fixed).unwrap_or(true),
        "dpkg: {installed} < {fixed}"
    );
    let f = matched(release, source, installed);
    assert_eq!(f.len(), 1, "{release} {source} {installed}: {f:#?}");
    let f = &f[0];
    assert_eq!(&*f.id, id);
    assert_eq!(
        f.remedy,
        Remedy::FixedIn {
            version: fixed.into()
        }
    );
    assert_eq!(
        f.status.as_deref(),
        Some(&TrackerStatus::Fixed {
            version: fixed.into()
        })
    );
    let sev = f.severity.as_ref().expect("urgency");
    assert_eq!((sev.level, sev.label.as_str()), (level, label));
    assert_eq!(
        f.why.comparison.to_string(),
        format!("installed {installed} < fixed {fixed} (dpkg)")
    );
}

/// No finding, the installed version being at or above `fixed` (as dpkg confirms).
fn clean_at_or_above(release: &str, source: &str, installed: &str, fixed: &str) {
    assert!(
        dpkg_holds(installed, "ge", fixed).unwrap_or(true),
        "dpkg: {installed} >= {fixed}"
    );
    let f = matched(release, source, installed);
    assert!(f.is_empty(), "{release} {source} {installed}: {f:#?}");
}

/// No finding at all.
fn clean(release: &str, source: &str, installed: &str) {
    let f = matched(release, source, installed);
    assert!(f.is_empty(), "{release} {source} {installed}: {f:#?}");
}

/// Exactly one finding: `id`, open with end of security support.
fn end_of_life(release: &str, source: &str, installed: &str, id: &str) {
    let f = matched(release, source, installed);
    assert_eq!(f.len(), 1, "{release} {source} {installed}: {f:#?}");
    let f = &f[0];
    assert_eq!(&*f.id, id);
    assert_eq!(f.status.as_deref(), Some(&TrackerStatus::EndOfLife));
    assert_eq!(
        f.remedy,
        Remedy::WillNotFix {
            reason: "end of security support for this package".into()
        }
    );
    let sev = f.severity.as_ref().expect("urgency");
    assert_eq!(
        (sev.level, sev.label.as_str()),
        (Level::Unknown, "end-of-life")
    );
    assert_eq!(
        f.why.comparison.to_string(),
        format!("installed {installed}: every version is affected; no fixed version")
    );
}

// prototypejs: CVE-2008-7220 resolved in 1.6.0.2-1 (high**) in stretch, jessie, buster
// and sid; CVE-2007-2383 resolved with "0" (never affected, unimportant) in the same.

#[test]
fn prototypejs_stretch() {
    fixed(
        "stretch",
        "prototypejs",
        "1.6.0.1-1",
        "DEBIAN-CVE-2008-7220",
        "1.6.0.2-1",
        Level::High,
        "high**",
    );
    clean_at_or_above("stretch", "prototypejs", "1.6.0.2-1", "1.6.0.2-1");
    clean_at_or_above("stretch", "prototypejs", "1.7.1-3", "1.6.0.2-1");
}

#[test]
fn prototypejs_jessie() {
    fixed(
        "jessie",
        "prototypejs",
        "1.6.0.1-1",
        "DEBIAN-CVE-2008-7220",
        "1.6.0.2-1",
        Level::High,
        "high**",
    );
    clean_at_or_above("jessie", "prototypejs", "1.6.0.2-1", "1.6.0.2-1");
    clean_at_or_above("jessie", "prototypejs", "1.7.1-3", "1.6.0.2-1");
}

#[test]
fn prototypejs_buster() {
    fixed(
        "buster",
        "prototypejs",
        "1.6.0.1-1",
        "DEBIAN-CVE-2008-7220",
        "1.6.0.2-1",
        Level::High,
        "high**",
    );
    clean_at_or_above("buster", "prototypejs", "1.6.0.2-1", "1.6.0.2-1");
    clean_at_or_above("buster", "prototypejs", "1.7.1-3", "1.6.0.2-1");
}

#[test]
fn prototypejs_sid() {
    fixed(
        "sid",
        "prototypejs",
        "1.6.0.1-1",
        "DEBIAN-CVE-2008-7220",
        "1.6.0.2-1",
        Level::High,
        "high**",
    );
    clean_at_or_above("sid", "prototypejs", "1.6.0.2-1", "1.6.0.2-1");
    clean_at_or_above("sid", "prototypejs", "1.7.1-3", "1.6.0.2-1");
}

#[test]
fn prototypejs_not_affected_by_cve_2007_2383_even_at_ancient_versions() {
    // "0" = never affected: no version, however old, is reported for CVE-2007-2383.
    for release in ["stretch", "jessie", "buster", "sid"] {
        let f = matched(release, "prototypejs", "1.0-1");
        assert_eq!(
            f.iter().map(|f| &*f.id).collect::<Vec<_>>(),
            ["DEBIAN-CVE-2008-7220"],
            "{release}"
        );
    }
}

#[test]
fn prototypejs_releases_without_verdicts() {
    clean("bookworm", "prototypejs", "1.6.0.1-1");
    clean("bullseye", "prototypejs", "1.6.0.1-1");
    clean("trixie", "prototypejs", "1.6.0.1-1");
}

// txt2man: CVE-2013-1444 resolved in 1.5.5-4.1 (low**) in stretch, jessie, buster, sid.

#[test]
fn txt2man_stretch() {
    fixed(
        "stretch",
        "txt2man",
        "1.5.5-4",
        "DEBIAN-CVE-2013-1444",
        "1.5.5-4.1",
        Level::Low,
        "low**",
    );
    clean_at_or_above("stretch", "txt2man", "1.5.5-4.1", "1.5.5-4.1");
    clean_at_or_above("stretch", "txt2man", "1.6.0-1", "1.5.5-4.1");
}

#[test]
fn txt2man_jessie() {
    fixed(
        "jessie",
        "txt2man",
        "1.5.5-4",
        "DEBIAN-CVE-2013-1444",
        "1.5.5-4.1",
        Level::Low,
        "low**",
    );
    clean_at_or_above("jessie", "txt2man", "1.5.5-4.1", "1.5.5-4.1");
    clean_at_or_above("jessie", "txt2man", "1.6.0-1", "1.5.5-4.1");
}

#[test]
fn txt2man_buster() {
    fixed(
        "buster",
        "txt2man",
        "1.5.5-2",
        "DEBIAN-CVE-2013-1444",
        "1.5.5-4.1",
        Level::Low,
        "low**",
    );
    clean_at_or_above("buster", "txt2man", "1.5.5-4.1", "1.5.5-4.1");
    clean_at_or_above("buster", "txt2man", "1.6.0-3", "1.5.5-4.1");
}

#[test]
fn txt2man_sid() {
    fixed(
        "sid",
        "txt2man",
        "1.5.5-4",
        "DEBIAN-CVE-2013-1444",
        "1.5.5-4.1",
        Level::Low,
        "low**",
    );
    clean_at_or_above("sid", "txt2man", "1.5.5-4.1", "1.5.5-4.1");
    clean_at_or_above("sid", "txt2man", "1.6.0-3", "1.5.5-4.1");
}

// backupninja: CVE-2005-3111 resolved in 0.8-2 (medium) in stretch, jessie, buster, sid.

#[test]
fn backupninja_stretch() {
    fixed(
        "stretch",
        "backupninja",
        "0.8-1",
        "DEBIAN-CVE-2005-3111",
        "0.8-2",
        Level::Medium,
        "medium",
    );
    clean_at_or_above("stretch", "backupninja", "0.8-2", "0.8-2");
    clean_at_or_above("stretch", "backupninja", "1.0.1-2", "0.8-2");
}

#[test]
fn backupninja_jessie() {
    fixed(
        "jessie",
        "backupninja",
        "0.7-1",
        "DEBIAN-CVE-2005-3111",
        "0.8-2",
        Level::Medium,
        "medium",
    );
    clean_at_or_above("jessie", "backupninja", "0.8-2", "0.8-2");
    clean_at_or_above("jessie", "backupninja", "1.0.1-2", "0.8-2");
}

#[test]
fn backupninja_buster() {
    fixed(
        "buster",
        "backupninja",
        "0.8-1",
        "DEBIAN-CVE-2005-3111",
        "0.8-2",
        Level::Medium,
        "medium",
    );
    clean_at_or_above("buster", "backupninja", "0.8-2", "0.8-2");
    clean_at_or_above("buster", "backupninja", "1.1.0-2", "0.8-2");
}

#[test]
fn backupninja_sid() {
    fixed(
        "sid",
        "backupninja",
        "0.8-1",
        "DEBIAN-CVE-2005-3111",
        "0.8-2",
        Level::Medium,
        "medium",
    );
    clean_at_or_above("sid", "backupninja", "0.8-2", "0.8-2");
    clean_at_or_above("sid", "backupninja", "1.1.0-2", "0.8-2");
}

// chromium: CVE-2022-0456 resolved in bookworm (98.0.4758.80-1), bullseye
// (98.0.4758.80-1~deb11u1) and sid (98.0.4758.80-1), "not yet assigned"; open with
// urgency end-of-life in buster and stretch.

#[test]
fn chromium_bookworm() {
    let nya = Level::Unknown;
    fixed(
        "bookworm",
        "chromium",
        "97.0.4692.99-1",
        "DEBIAN-CVE-2022-0456",
        "98.0.4758.80-1",
        nya,
        "not yet assigned",
    );
    fixed(
        "bookworm",
        "chromium",
        "98.0.4758.80-1~deb12u1",
        "DEBIAN-CVE-2022-0456",
        "98.0.4758.80-1",
        nya,
        "not yet assigned",
    );
    clean_at_or_above("bookworm", "chromium", "98.0.4758.80-1", "98.0.4758.80-1");
    clean_at_or_above("bookworm", "chromium", "98.0.4758.102-1", "98.0.4758.80-1");
}

#[test]
fn chromium_bullseye() {
    let nya = Level::Unknown;
    fixed(
        "bullseye",
        "chromium",
        "90.0.4430.212-1",
        "DEBIAN-CVE-2022-0456",
        "98.0.4758.80-1~deb11u1",
        nya,
        "not yet assigned",
    );
    clean_at_or_above(
        "bullseye",
        "chromium",
        "98.0.4758.80-1~deb11u1",
        "98.0.4758.80-1~deb11u1",
    );
    clean_at_or_above(
        "bullseye",
        "chromium",
        "98.0.4758.102-1~deb11u1",
        "98.0.4758.80-1~deb11u1",
    );
}

#[test]
fn chromium_sid() {
    let nya = Level::Unknown;
    fixed(
        "sid",
        "chromium",
        "97.0.4692.99-1",
        "DEBIAN-CVE-2022-0456",
        "98.0.4758.80-1",
        nya,
        "not yet assigned",
    );
    clean_at_or_above("sid", "chromium", "98.0.4758.80-1", "98.0.4758.80-1");
    clean_at_or_above("sid", "chromium", "99.0.4844.51-1", "98.0.4758.80-1");
}

#[test]
fn chromium_buster_end_of_life() {
    end_of_life(
        "buster",
        "chromium",
        "89.0.4389.114-1~deb10u1",
        "DEBIAN-CVE-2022-0456",
    );
    end_of_life(
        "buster",
        "chromium",
        "90.0.4430.212-1~deb10u1",
        "DEBIAN-CVE-2022-0456",
    );
    // Even a version above every fix of other releases: support has ended, nothing is fixed.
    end_of_life(
        "buster",
        "chromium",
        "99.0.4844.51-1",
        "DEBIAN-CVE-2022-0456",
    );
}

#[test]
fn chromium_stretch_end_of_life() {
    end_of_life(
        "stretch",
        "chromium",
        "73.0.3683.75-1~deb9u1",
        "DEBIAN-CVE-2022-0456",
    );
    end_of_life(
        "stretch",
        "chromium",
        "99.0.4844.51-1",
        "DEBIAN-CVE-2022-0456",
    );
}

#[test]
fn chromium_releases_without_verdicts() {
    clean("trixie", "chromium", "90.0.4430.212-1");
    clean("jessie", "chromium", "73.0.3683.75-1~deb9u1");
}

// sope: CVE-2025-53603 resolved in bookworm (5.8.0-1+deb12u1, DSA-5970-1), bullseye
// (5.0.1-2+deb11u1), sid and trixie (5.12.1-2), all "not yet assigned".

#[test]
fn sope_bookworm() {
    let nya = Level::Unknown;
    fixed(
        "bookworm",
        "sope",
        "5.8.0-1",
        "DEBIAN-CVE-2025-53603",
        "5.8.0-1+deb12u1",
        nya,
        "not yet assigned",
    );
    clean_at_or_above("bookworm", "sope", "5.8.0-1+deb12u1", "5.8.0-1+deb12u1");
    clean_at_or_above("bookworm", "sope", "5.8.0-2", "5.8.0-1+deb12u1");
}

#[test]
fn sope_bullseye() {
    let nya = Level::Unknown;
    fixed(
        "bullseye",
        "sope",
        "5.0.1-2",
        "DEBIAN-CVE-2025-53603",
        "5.0.1-2+deb11u1",
        nya,
        "not yet assigned",
    );
    clean_at_or_above("bullseye", "sope", "5.0.1-2+deb11u1", "5.0.1-2+deb11u1");
    clean_at_or_above("bullseye", "sope", "5.0.1-3", "5.0.1-2+deb11u1");
}

#[test]
fn sope_sid() {
    let nya = Level::Unknown;
    fixed(
        "sid",
        "sope",
        "5.12.1-1",
        "DEBIAN-CVE-2025-53603",
        "5.12.1-2",
        nya,
        "not yet assigned",
    );
    clean_at_or_above("sid", "sope", "5.12.1-2", "5.12.1-2");
    clean_at_or_above("sid", "sope", "5.12.2-1", "5.12.1-2");
}

#[test]
fn sope_trixie() {
    let nya = Level::Unknown;
    fixed(
        "trixie",
        "sope",
        "5.8.0-1",
        "DEBIAN-CVE-2025-53603",
        "5.12.1-2",
        nya,
        "not yet assigned",
    );
    clean_at_or_above("trixie", "sope", "5.12.1-2", "5.12.1-2");
    clean_at_or_above("trixie", "sope", "5.12.1-2+b1", "5.12.1-2");
}

#[test]
fn sope_releases_without_verdicts() {
    clean("buster", "sope", "5.0.1-1");
    clean("stretch", "sope", "3.2.6-1");
}

// chromium-browser: CVE-2022-0358 with "releases": [] — no verdict anywhere.

#[test]
fn chromium_browser_has_no_releases() {
    for release in ["bookworm", "bullseye", "buster", "stretch", "sid", "trixie"] {
        clean(release, "chromium-browser", "97.0.4692.71-0.1");
    }
}

// Matching goes by source package and source version.

#[test]
fn binary_packages_are_matched_by_their_source_version() {
    // A binNMU of the vulnerable source: binary 5.8.0-1+b1, source 5.8.0-1.
    let host = debian_host(
        "bookworm",
        &[
            ("libsope1", "5.8.0-1+b1", Some(("sope", Some("5.8.0-1")))),
            // A binary with its own version: only the source version counts.
            ("sope-tools", "9.9-1", Some(("sope", Some("5.8.0-1")))),
            // Binary version below the fix, source version at it: not affected.
            (
                "libsope-appserver",
                "5.8.0-1",
                Some(("sope", Some("5.8.0-1+deb12u1"))),
            ),
            // `Source:` without a version: the binary version is the source version.
            ("libsope-xml", "5.8.0-1", Some(("sope", None))),
            // A binary named like no source in the tracker and without `Source:`.
            ("sope-unrelated", "1.0-1", None),
        ],
    );
    let findings = package_findings(index().match_host(&host));
    let got: Vec<(String, String, String, String)> = findings
        .iter()
        .map(|f| match &f.subject {
            Subject::Package {
                name,
                version,
                source,
                source_version,
                ..
            } => (
                name.to_string(),
                version.to_string(),
                source.to_string(),
                source_version.to_string(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())
    };
    assert_eq!(
        got,
        vec![
            row("libsope-xml", "5.8.0-1", "sope", "5.8.0-1"),
            row("libsope1", "5.8.0-1+b1", "sope", "5.8.0-1"),
            row("sope-tools", "9.9-1", "sope", "5.8.0-1"),
        ]
    );
    for f in &findings {
        assert_eq!(&*f.id, "DEBIAN-CVE-2025-53603");
        assert_eq!(
            f.cves.iter().map(|c| &**c).collect::<Vec<_>>(),
            ["CVE-2025-53603"]
        );
        assert_eq!(
            &*f.why.record,
            "Debian security tracker DEBIAN-CVE-2025-53603: sope in Debian:bookworm: resolved, fixed in 5.8.0-1+deb12u1"
        );
        assert_eq!(&*f.why.range, "introduced 0, fixed 5.8.0-1+deb12u1");
        assert_eq!(
            f.why.comparison.to_string(),
            "installed 5.8.0-1 < fixed 5.8.0-1+deb12u1 (dpkg)"
        );
    }
}

#[test]
fn the_release_is_found_from_version_id_when_the_codename_is_missing() {
    let mut host = debian_host("bookworm", &[("sope", "5.8.0-1", None)]);
    host.os.codename.clear();
    let f = package_findings(index().match_host(&host));
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].remedy,
        Remedy::FixedIn {
            version: "5.8.0-1+deb12u1".into()
        }
    );
}

#[test]
fn the_importer_keeps_every_verdict_of_the_sample() {
    let feeds = FeedSet::import(&FeedSources {
        debian_tracker: vec![shared("debian-tracker/debian-tracker-sample.json")],
        ..FeedSources::default()
    })
    .unwrap();
    let ids: Vec<&str> = feeds.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "DEBIAN-CVE-2005-3111",
            "DEBIAN-CVE-2007-2383",
            "DEBIAN-CVE-2008-7220",
            "DEBIAN-CVE-2013-1444",
            "DEBIAN-CVE-2022-0358",
            "DEBIAN-CVE-2022-0456",
            "DEBIAN-CVE-2025-53603",
        ]
    );
    let verdicts: usize = feeds.advisories.iter().map(|a| a.affected.len()).sum();
    // prototypejs x2, txt2man, backupninja: 4 releases each; chromium-browser: none;
    // chromium: 5; sope: 4.
    assert_eq!(verdicts, 4 * 4 + 5 + 4);
    let not_affected = feeds
        .advisories
        .iter()
        .flat_map(|a| &a.affected)
        .filter(|a| a.status == Some(TrackerStatus::NotAffected))
        .count();
    assert_eq!(not_affected, 4);
    let eol = feeds
        .advisories
        .iter()
        .flat_map(|a| &a.affected)
        .filter(|a| a.status == Some(TrackerStatus::EndOfLife))
        .map(|a| a.package.ecosystem.as_str())
        .collect::<Vec<_>>();
    assert_eq!(eol, ["Debian:10", "Debian:9"]);
    assert_eq!(index().report().not_affected, 4);
}
