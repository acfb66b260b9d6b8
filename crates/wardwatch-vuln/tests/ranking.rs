//! Exploitation data from the shared KEV catalog (real CVEs: Log4Shell, used by
//! ransomware; Baron Samedit in sudo, exploited but not known in ransomware) and EPSS
//! scores order the findings: ransomware, then known exploited, then EPSS, then severity.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::path::Path;

use support::{date, debian_host, owned, package_findings, shared};
use wardwatch_vuln::feed::{FeedSet, FeedSources, KevCatalog, Level, RansomwareUse};
use wardwatch_vuln::matcher::{MatchIndex, Remedy};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn osv(id: &str, alias: &str, package: &str, fixed: &str, severity: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","aliases":["{alias}"],
            "affected":[{{"package":{{"ecosystem":"Debian:11","name":"{package}"}},
              "ecosystem_specific":{{"urgency":"{severity}"}},
              "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

#[test]
fn kev_catalog_flags_from_the_shared_file() {
    let path = shared("kev/known_exploited_vulnerabilities.json");
    let kev = KevCatalog::parse(&std::fs::read(&path).unwrap(), "kev.json").unwrap();
    assert_eq!(kev.catalog_version, "2025.08.25");
    assert_eq!(kev.entries.len(), 1404);
    let known = kev
        .entries
        .values()
        .filter(|e| e.ransomware == RansomwareUse::Known)
        .count();
    assert_eq!(known, 293);
    let log4shell = kev.get("CVE-2021-44228").unwrap();
    assert_eq!(log4shell.ransomware, RansomwareUse::Known);
    assert_eq!(
        (
            log4shell.vendor_project.as_str(),
            log4shell.product.as_str()
        ),
        ("Apache", "Log4j2")
    );
    assert_eq!(log4shell.date_added, date("2021-12-10"));
    assert_eq!(log4shell.due_date, date("2021-12-24"));
    let samedit = kev.get("CVE-2021-3156").unwrap();
    assert_eq!(samedit.ransomware, RansomwareUse::Unknown);
    assert_eq!(samedit.date_added, date("2022-04-06"));
    assert!(kev.get("CVE-2025-53603").is_none());
}

#[test]
fn findings_carry_kev_and_epss_and_come_in_priority_order() {
    let dir = tempfile::tempdir().unwrap();
    let advisories = dir.path().join("osv");
    std::fs::create_dir(&advisories).unwrap();
    write(
        &advisories,
        "log4j.json",
        &osv(
            "DLA-2842-1",
            "CVE-2021-44228",
            "apache-log4j2",
            "2.15.0-1~deb11u1",
            "high",
        ),
    );
    write(
        &advisories,
        "sudo.json",
        &osv("DSA-4839-1", "CVE-2021-3156", "sudo", "1.9.5p2-1", "high"),
    );
    // Not in KEV; a high EPSS score, low severity.
    write(
        &advisories,
        "curl.json",
        &osv(
            "DEBIAN-CVE-2023-38545",
            "CVE-2023-38545",
            "curl",
            "7.74.0-1.3+deb11u10",
            "low",
        ),
    );
    // Not in KEV, no EPSS score, critical severity.
    write(
        &advisories,
        "expat.json",
        &osv(
            "DEBIAN-CVE-2022-25235",
            "CVE-2022-25235",
            "expat",
            "2.2.10-2+deb11u2",
            "critical",
        ),
    );
    // Not in KEV, no EPSS, unrated.
    write(
        &advisories,
        "zlib.json",
        &osv(
            "DEBIAN-CVE-2022-37434",
            "CVE-2022-37434",
            "zlib",
            "1:1.2.11.dfsg-2+deb11u2",
            "not yet assigned",
        ),
    );
    let epss = write(
        dir.path(),
        "epss.csv",
        "#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\n\
         cve,epss,percentile\n\
         CVE-2021-44228,0.94358,0.99957\n\
         CVE-2021-3156,0.93567,0.99823\n\
         CVE-2023-38545,0.25130,0.96000\n",
    );
    let feeds = FeedSet::import(&FeedSources {
        osv: vec![advisories],
        kev: Some(shared("kev/known_exploited_vulnerabilities.json")),
        epss: Some(epss),
        ..FeedSources::default()
    })
    .unwrap();
    assert_eq!(feeds.epss.model_version.as_deref(), Some("v2025.03.14"));
    let index = MatchIndex::build(&feeds).with_today(date("2025-08-25"));
    let host = debian_host(
        "bullseye",
        &[
            ("zlib1g", "1:1.2.11.dfsg-2+deb11u1", Some(("zlib", None))),
            ("libexpat1", "2.2.10-2+deb11u1", Some(("expat", None))),
            ("curl", "7.74.0-1.3+deb11u7", None),
            ("sudo", "1.9.5p1-1.1", None),
            ("liblog4j2-java", "2.13.3-1", Some(("apache-log4j2", None))),
        ],
    );
    let findings = package_findings(index.match_host(&host));
    let ids: Vec<&str> = findings.iter().map(|f| &*f.id).collect();
    assert_eq!(
        ids,
        [
            "DLA-2842-1",
            "DSA-4839-1",
            "DEBIAN-CVE-2023-38545",
            "DEBIAN-CVE-2022-25235",
            "DEBIAN-CVE-2022-37434"
        ]
    );

    let log4j = &findings[0];
    assert!(log4j.exploitation.known_exploited);
    assert!(log4j.exploitation.ransomware);
    assert_eq!(log4j.exploitation.kev_date_added, Some(date("2021-12-10")));
    assert_eq!(log4j.exploitation.epss.map(|e| e.score), Some(0.94358));
    assert_eq!(
        log4j.remedy,
        Remedy::FixedIn {
            version: "2.15.0-1~deb11u1".into()
        }
    );

    let sudo = &findings[1];
    assert!(sudo.exploitation.known_exploited);
    assert!(!sudo.exploitation.ransomware);
    assert_eq!(sudo.exploitation.kev_date_added, Some(date("2022-04-06")));

    let curl = &findings[2];
    assert!(!curl.exploitation.known_exploited && !curl.exploitation.ransomware);
    assert_eq!(curl.exploitation.epss.map(|e| e.percentile), Some(0.96));
    assert_eq!(curl.severity.as_ref().map(|s| s.level), Some(Level::Low));

    let expat = &findings[3];
    assert_eq!(expat.exploitation.epss, None);
    assert_eq!(
        expat.severity.as_ref().map(|s| s.level),
        Some(Level::Critical)
    );
    assert_eq!(
        findings[4].severity.as_ref().map(|s| s.level),
        Some(Level::Unknown)
    );
}

#[test]
fn an_end_of_life_os_is_a_finding() {
    let feeds = FeedSet::import(&FeedSources::default()).unwrap();
    let index = MatchIndex::build(&feeds).with_today(date("2025-08-25"));
    let eol = |codename: &str| owned(index.match_host(&debian_host(codename, &[])));

    // Debian 12 in regular support: nothing.
    assert!(eol("bookworm").is_empty());
    // Debian 11: past security support (2024-08-14), within LTS (2026-08-31).
    let f = eol("bullseye");
    assert_eq!(f.len(), 1);
    assert_eq!(&*f[0].id, "EOL-debian-11");
    assert_eq!(
        f[0].remedy,
        Remedy::UpgradeOs {
            extended_until: Some(date("2026-08-31"))
        }
    );
    assert_eq!(f[0].severity.as_ref().map(|s| s.level), Some(Level::Medium));
    assert_eq!(
        f[0].why.comparison.to_string(),
        "today 2025-08-25 > support end 2024-08-14 (extended support until 2026-08-31)"
    );
    // Debian 10: past LTS too (2024-06-30).
    let f = eol("buster");
    assert_eq!(
        f[0].remedy,
        Remedy::UpgradeOs {
            extended_until: None
        }
    );
    assert_eq!(f[0].severity.as_ref().map(|s| s.level), Some(Level::High));
    assert_eq!(
        f[0].why.comparison.to_string(),
        "today 2025-08-25 > end of all support 2024-06-30"
    );

    // Windows 7 and CentOS 7 by os-release-like ids.
    let other = |id: &str, v: &str| owned(index.match_host(&support::host(id, v, &[])));
    assert_eq!(&*other("windows", "7")[0].id, "EOL-windows-7");
    assert_eq!(&*other("centos", "7")[0].id, "EOL-centos-7");
    assert_eq!(&*other("rhel", "7.9")[0].id, "EOL-rhel-7");
    assert!(other("rhel", "9.4").is_empty());
    assert!(other("ubuntu", "24.04").is_empty());
    assert_eq!(&*other("ubuntu", "20.04")[0].id, "EOL-ubuntu-20.04");
}

#[test]
fn an_updated_eol_table_replaces_the_builtin_one() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(
        dir.path(),
        "eol.json",
        r#"{"schema":1,"updated":"2025-09-01","systems":[
            {"os_id":"debian","version":"12","codename":"bookworm","name":"Debian 12 (bookworm)","support_end":"2025-01-01"}]}"#,
    );
    let feeds = FeedSet::import(&FeedSources {
        eol: Some(table),
        ..FeedSources::default()
    })
    .unwrap();
    let index = MatchIndex::build(&feeds).with_today(date("2025-08-25"));
    let f = owned(index.match_host(&debian_host("bookworm", &[])));
    assert_eq!(&*f[0].id, "EOL-debian-12");
    assert!(index.match_host(&debian_host("bullseye", &[])).is_empty());
}

#[test]
fn epss_is_read_gzipped_as_first_publishes_it() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("epss_scores-2025-08-25.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        b"#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\n\
          cve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\n",
    )
    .unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let feeds = FeedSet::import(&FeedSources {
        epss: Some(path),
        ..FeedSources::default()
    })
    .unwrap();
    assert_eq!(
        feeds.epss.score_date.as_deref(),
        Some("2025-08-25T00:00:00+0000")
    );
    assert_eq!(
        feeds.epss.get("CVE-2021-44228").map(|e| e.score),
        Some(0.94358)
    );
}
