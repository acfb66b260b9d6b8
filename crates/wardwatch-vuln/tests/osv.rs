//! Hand-written OSV advisories: introduced/fixed, several spans in one range,
//! last_affected, limit, withdrawn, SEMVER and ECOSYSTEM ranges, listed versions, and
//! distribution ecosystems (Debian by source package, Alpine apk, Rocky rpm), loaded from
//! a directory and from a zip dump.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::io::Write;
use std::path::Path;

use support::{date, debian_host, host, owned, package_findings};
use wardwatch_vuln::feed::{FeedSet, FeedSources};
use wardwatch_vuln::matcher::{Finding, HostInventory, MatchIndex, Remedy};

const ADVISORIES: &[(&str, &str)] = &[
    (
        "GHSA-35jh-r3h4-6jhm.json",
        r#"{"id":"GHSA-35jh-r3h4-6jhm","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-23337"],
            "summary":"Command injection in lodash",
            "database_specific":{"severity":"HIGH"},
            "affected":[{"package":{"ecosystem":"npm","name":"lodash"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}"#,
    ),
    (
        "PYSEC-django.json",
        r#"{"id":"PYSEC-2022-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2022-22818"],
            "affected":[{"package":{"ecosystem":"PyPI","name":"django"},
              "ranges":[{"type":"ECOSYSTEM","events":[
                {"introduced":"4.0"},{"fixed":"4.0.2"},{"introduced":"3.2"},{"fixed":"3.2.12"}]}]}]}"#,
    ),
    (
        "RUSTSEC-smallvec.json",
        r#"{"id":"RUSTSEC-2021-0003","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"crates.io","name":"smallvec"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.6.0"}]}]}]}"#,
    ),
    (
        "GO-x-net.json",
        r#"{"id":"GO-2023-1571","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/net"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"limit":"0.7.0"}]},
                        {"type":"GIT","repo":"https://go.googlesource.com/net","events":[{"introduced":"0"},{"fixed":"abc123"}]}]}]}"#,
    ),
    (
        "GHSA-withdrawn.json",
        r#"{"id":"GHSA-withdrawn-lodash","modified":"2024-02-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"npm","name":"lodash"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}"#,
    ),
    (
        "GHSA-event-stream.json",
        r#"{"id":"GHSA-mh6f-8j2x-4483","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"npm","name":"event-stream"},"versions":["3.3.6"]}]}"#,
    ),
    (
        "DEBIAN-openssl.json",
        r#"{"id":"DSA-5764-1","modified":"2024-09-03T00:00:00Z","upstream":["CVE-2024-5535"],
            "affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.14-1~deb12u1"}]}]}]}"#,
    ),
    (
        "ALPINE-busybox.json",
        r#"{"id":"ALPINE-CVE-2023-42363","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"Alpine:v3.19","name":"busybox"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.36.1-r16"}]}]}]}"#,
    ),
    (
        "RLSA-openssl.json",
        r#"{"id":"RLSA-2024:2447","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"Rocky Linux:9","name":"openssl"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:3.0.7-27.el9"}]}]}]}"#,
    ),
    (
        "GHSA-maven.json",
        r#"{"id":"GHSA-jfh8-c2jp-5v3q","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-44228"],
            "affected":[{"package":{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0-beta9"},{"fixed":"2.15.0"}]}]}]}"#,
    ),
];

fn write_dir(dir: &Path) {
    for (name, text) in ADVISORIES {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn index_from(sources: FeedSources) -> (FeedSet, MatchIndex) {
    let feeds = FeedSet::import(&sources).unwrap();
    let index = MatchIndex::build(&feeds).with_today(date("2025-08-25"));
    (feeds, index)
}

fn dir_index() -> (tempfile::TempDir, FeedSet, MatchIndex) {
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path());
    let (feeds, index) = index_from(FeedSources {
        osv: vec![dir.path().to_path_buf()],
        ..FeedSources::default()
    });
    (dir, feeds, index)
}

fn lang(index: &MatchIndex, eco: &str, name: &str, version: &str) -> Vec<Finding<'static>> {
    owned(index.match_host(&host("debian", "12", &[(eco, name, version, None)])))
}

fn only(findings: Vec<Finding<'_>>, id: &str) -> Finding<'static> {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = findings.into_iter().next().unwrap().into_owned();
    assert_eq!(&*f.id, id);
    f
}

#[test]
fn semver_introduced_fixed() {
    let (_d, _f, index) = dir_index();
    let f = only(
        lang(&index, "npm", "lodash", "4.17.20"),
        "GHSA-35jh-r3h4-6jhm",
    );
    assert_eq!(
        f.remedy,
        Remedy::FixedIn {
            version: "4.17.21".into()
        }
    );
    assert_eq!(
        f.cves.iter().map(|c| &**c).collect::<Vec<_>>(),
        ["CVE-2021-23337"]
    );
    assert_eq!(f.severity.as_ref().map(|s| s.label.as_str()), Some("HIGH"));
    assert_eq!(&*f.why.range, "introduced 0, fixed 4.17.21");
    assert_eq!(
        f.why.comparison.to_string(),
        "installed 4.17.20 < fixed 4.17.21 (semver)"
    );
    assert_eq!(&*f.why.record, "OSV GHSA-35jh-r3h4-6jhm: lodash in npm");
    // As the server will store and send it.
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(
        json["why"]["comparison"],
        "installed 4.17.20 < fixed 4.17.21 (semver)"
    );
    assert_eq!(
        json["remedy"],
        serde_json::json!({"kind": "fixed-in", "version": "4.17.21"})
    );
    assert_eq!(json["subject"]["kind"], "package");
    assert_eq!(json["cves"], serde_json::json!(["CVE-2021-23337"]));
    assert!(lang(&index, "npm", "lodash", "4.17.21").is_empty());
    assert!(lang(&index, "npm", "lodash", "4.17.22").is_empty());
    assert!(lang(&index, "npm", "lodash-es", "4.17.20").is_empty());
}

#[test]
fn ecosystem_range_with_two_spans() {
    let (_d, _f, index) = dir_index();
    let f = only(lang(&index, "PyPI", "django", "3.2.11"), "PYSEC-2022-1");
    assert_eq!(
        f.remedy,
        Remedy::FixedIn {
            version: "3.2.12".into()
        }
    );
    assert_eq!(
        f.why.comparison.to_string(),
        "installed 3.2.11 >= introduced 3.2 and < fixed 3.2.12 (semver)"
    );
    let f = only(lang(&index, "PyPI", "django", "4.0"), "PYSEC-2022-1");
    assert_eq!(
        f.remedy,
        Remedy::FixedIn {
            version: "4.0.2".into()
        }
    );
    only(lang(&index, "PyPI", "django", "4.0.1"), "PYSEC-2022-1");
    assert!(lang(&index, "PyPI", "django", "3.2.12").is_empty());
    assert!(lang(&index, "PyPI", "django", "3.1.14").is_empty());
    assert!(lang(&index, "PyPI", "django", "4.0.2").is_empty());
    assert!(lang(&index, "PyPI", "django", "4.1").is_empty());
}

#[test]
fn last_affected() {
    let (_d, _f, index) = dir_index();
    let f = only(
        lang(&index, "crates.io", "smallvec", "1.6.0"),
        "RUSTSEC-2021-0003",
    );
    assert_eq!(
        f.remedy,
        Remedy::FixedAfter {
            version: "1.6.0".into()
        }
    );
    assert_eq!(
        f.why.comparison.to_string(),
        "installed 1.6.0 >= introduced 1.0.0 and <= last_affected 1.6.0 (semver)"
    );
    only(
        lang(&index, "crates.io", "smallvec", "1.0.0"),
        "RUSTSEC-2021-0003",
    );
    assert!(lang(&index, "crates.io", "smallvec", "1.6.1").is_empty());
    assert!(lang(&index, "crates.io", "smallvec", "0.6.14").is_empty());
}

#[test]
fn limit_and_git_ranges() {
    let (_d, feeds, index) = dir_index();
    assert_eq!(feeds.notes.git_ranges_skipped, 1);
    let f = only(
        lang(&index, "Go", "golang.org/x/net", "v0.6.0"),
        "GO-2023-1571",
    );
    assert_eq!(
        f.remedy,
        Remedy::FixedIn {
            version: "0.7.0".into()
        }
    );
    assert_eq!(
        f.why.comparison.to_string(),
        "installed v0.6.0 < limit 0.7.0 (semver)"
    );
    assert!(lang(&index, "Go", "golang.org/x/net", "v0.7.0").is_empty());
}

#[test]
fn withdrawn_advisories_are_kept_but_never_matched() {
    let (_d, feeds, index) = dir_index();
    assert!(feeds
        .advisories
        .iter()
        .any(|a| a.id == "GHSA-withdrawn-lodash" && a.withdrawn.is_some()));
    assert_eq!(feeds.notes.withdrawn, 1);
    assert_eq!(index.report().withdrawn_skipped, 1);
    // The withdrawn one would cover every version; only the live advisory matches.
    only(
        lang(&index, "npm", "lodash", "4.17.20"),
        "GHSA-35jh-r3h4-6jhm",
    );
    assert!(lang(&index, "npm", "lodash", "5.0.0").is_empty());
}

#[test]
fn listed_versions() {
    let (_d, _f, index) = dir_index();
    let f = only(
        lang(&index, "npm", "event-stream", "3.3.6"),
        "GHSA-mh6f-8j2x-4483",
    );
    assert_eq!(f.remedy, Remedy::NoFixYet);
    assert_eq!(
        f.why.comparison.to_string(),
        "installed 3.3.6 = listed 3.3.6 (semver)"
    );
    assert!(lang(&index, "npm", "event-stream", "3.3.5").is_empty());
    assert!(lang(&index, "npm", "event-stream", "4.0.0").is_empty());
}

#[test]
fn debian_ecosystem_by_source_package_and_release() {
    let (_d, _f, index) = dir_index();
    let libssl = |release: &str, version: &str| {
        package_findings(index.match_host(&debian_host(
            release,
            &[("libssl3", version, Some(("openssl", None)))],
        )))
    };
    let f = only(libssl("bookworm", "3.0.11-1~deb12u2"), "DSA-5764-1");
    assert_eq!(
        f.cves.iter().map(|c| &**c).collect::<Vec<_>>(),
        ["CVE-2024-5535"]
    );
    assert_eq!(
        f.remedy,
        Remedy::FixedIn {
            version: "3.0.14-1~deb12u1".into()
        }
    );
    assert!(libssl("bookworm", "3.0.14-1~deb12u1").is_empty());
    assert!(libssl("bullseye", "1.1.1w-0+deb11u1").is_empty());
}

#[test]
fn alpine_and_rocky() {
    let (_d, _f, index) = dir_index();
    let apk = |v: &str| {
        owned(index.match_host(&host("alpine", "3.19.1", &[("apk", "busybox", v, None)])))
    };
    let f = only(apk("1.36.1-r15"), "ALPINE-CVE-2023-42363");
    assert_eq!(
        f.why.comparison.to_string(),
        "installed 1.36.1-r15 < fixed 1.36.1-r16 (apk)"
    );
    assert!(apk("1.36.1-r16").is_empty());
    assert!(index
        .match_host(&host(
            "alpine",
            "3.18.4",
            &[("apk", "busybox", "1.36.1-r5", None)]
        ))
        .is_empty());

    let rpm = |name: &str, v: &str, source: Option<&str>| {
        owned(index.match_host(&host("rocky", "9.3", &[("rpm", name, v, source)])))
    };
    let f = only(rpm("openssl", "1:3.0.7-25.el9_3", None), "RLSA-2024:2447");
    assert_eq!(
        f.why.comparison.to_string(),
        "installed 1:3.0.7-25.el9_3 < fixed 1:3.0.7-27.el9 (rpm)"
    );
    only(
        rpm("openssl-libs", "1:3.0.7-25.el9_3", Some("openssl")),
        "RLSA-2024:2447",
    );
    assert!(rpm("openssl", "1:3.0.7-27.el9", None).is_empty());
}

#[test]
fn unsupported_ecosystems_are_kept_and_reported() {
    let (_d, feeds, index) = dir_index();
    assert!(feeds
        .advisories
        .iter()
        .any(|a| a.id == "GHSA-jfh8-c2jp-5v3q"));
    assert_eq!(feeds.notes.unsupported_ecosystems.get("Maven"), Some(&1));
    assert_eq!(index.report().unsupported_ecosystems.get("Maven"), Some(&1));
    assert!(lang(
        &index,
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "2.14.1"
    )
    .is_empty());
}

#[test]
fn a_zip_dump_gives_the_same_findings_as_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in ADVISORIES {
            zip.start_file(*name, opts).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.start_file("README.txt", opts).unwrap();
        zip.write_all(b"not an advisory").unwrap();
        zip.finish().unwrap();
    }
    let (zip_feeds, zip_index) = index_from(FeedSources {
        osv: vec![zip_path],
        ..FeedSources::default()
    });
    let (_d, dir_feeds, dir_index) = dir_index();
    assert_eq!(zip_feeds.advisories, dir_feeds.advisories);
    assert_eq!(zip_feeds.notes.files, ADVISORIES.len());
    let probe = HostInventory {
        packages: vec![],
        ..host(
            "debian",
            "12",
            &[
                ("npm", "lodash", "4.17.20", None),
                ("PyPI", "django", "4.0.1", None),
            ],
        )
    };
    let with_packages = host(
        "debian",
        "12",
        &[
            ("npm", "lodash", "4.17.20", None),
            ("PyPI", "django", "4.0.1", None),
        ],
    );
    assert_eq!(
        zip_index.match_host(&with_packages),
        dir_index.match_host(&with_packages)
    );
    assert_eq!(zip_index.match_host(&with_packages).len(), 2);
    assert!(zip_index.match_host(&probe).is_empty());
}

#[test]
fn a_single_file_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let older = dir.path().join("old.json");
    std::fs::write(
        &older,
        r#"{"id":"GHSA-dup","modified":"2023-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},
            "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}"#,
    )
    .unwrap();
    let newer = dir.path().join("new.json");
    std::fs::write(
        &newer,
        r#"{"id":"GHSA-dup","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},
            "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}"#,
    )
    .unwrap();
    // The later-modified copy wins whatever the order of the files.
    for order in [
        vec![older.clone(), newer.clone()],
        vec![newer.clone(), older.clone()],
    ] {
        let (feeds, index) = index_from(FeedSources {
            osv: order,
            ..FeedSources::default()
        });
        assert_eq!(feeds.advisories.len(), 1);
        assert_eq!(feeds.notes.duplicates_replaced, 1);
        let f = only(lang(&index, "npm", "a", "1.5.0"), "GHSA-dup");
        assert_eq!(
            f.remedy,
            Remedy::FixedIn {
                version: "2.0.0".into()
            }
        );
    }
}
