//! This machine's real dpkg database against the shared tracker sample and KEV catalog:
//! parsing every package, matching by source, never panicking, and every finding carrying
//! its evidence. Then the same inventory through the agent's wire type.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

mod support;

use std::collections::BTreeMap;

use support::{package_findings, shared};
use wardwatch_vuln::feed::{parse_debian_tracker, FeedSet, FeedSources};
use wardwatch_vuln::matcher::{
    parse_dpkg_status, HostInventory, HostOs, MatchIndex, Remedy, Subject,
};

fn this_host() -> Option<HostInventory> {
    let status = std::fs::read_to_string("/var/lib/dpkg/status").ok()?;
    let os = std::fs::read_to_string("/etc/os-release")
        .map(|t| HostOs::from_os_release(&t))
        .unwrap_or_default();
    Some(HostInventory {
        os,
        packages: parse_dpkg_status(&status),
    })
}

#[test]
fn real_dpkg_status_against_the_tracker_sample() {
    let Some(host) = this_host() else {
        eprintln!("no /var/lib/dpkg/status on this machine; nothing to match");
        return;
    };
    assert!(
        host.packages.len() > 100,
        "{} packages",
        host.packages.len()
    );
    assert!(host
        .packages
        .iter()
        .all(|p| !p.name.is_empty() && !p.version.is_empty()));
    assert!(
        host.packages.iter().any(|p| p.source_version.is_some()),
        "some Source: name (version) fields"
    );

    let feeds = FeedSet::import(&FeedSources {
        debian_tracker: vec![shared("debian-tracker/debian-tracker-sample.json")],
        kev: Some(shared("kev/known_exploited_vulnerabilities.json")),
        ..FeedSources::default()
    })
    .unwrap();
    let index = MatchIndex::build(&feeds);
    let result = index.match_host_detailed(&host);
    for f in &result.findings {
        assert!(!f.why.record.is_empty(), "{f:?}");
        assert!(!f.why.range.is_empty(), "{f:?}");
        assert!(!f.why.comparison.to_string().is_empty(), "{f:?}");
    }
    eprintln!(
        "{} packages, {} findings, {} undecided",
        host.packages.len(),
        result.findings.len(),
        result.undecided
    );
}

#[test]
fn real_versions_against_verdicts_made_from_them() {
    let Some(host) = this_host() else {
        return;
    };
    if host.os.id != "debian" || host.os.codename.is_empty() {
        return;
    }
    // For each source package: one verdict fixed at the installed source version (not
    // affected) and one fixed just above it (affected), for this host's release.
    let mut by_source: BTreeMap<&str, &str> = BTreeMap::new();
    for p in &host.packages {
        by_source
            .entry(p.source_name())
            .or_insert(p.source_version());
    }
    let mut tracker = serde_json::Map::new();
    for (source, version) in &by_source {
        let verdict = |fixed: String| {
            serde_json::json!({"releases": {host.os.codename.as_str(): {
                "status": "resolved", "fixed_version": fixed, "urgency": "low"}}})
        };
        tracker.insert(
            (*source).to_owned(),
            serde_json::json!({
                "TEMP-AT": verdict((*version).to_owned()),
                "TEMP-ABOVE": verdict(format!("{version}+wardwatch1")),
            }),
        );
    }
    let bytes = serde_json::to_vec(&tracker).unwrap();
    let (advisories, _) = parse_debian_tracker(&bytes, "generated.json").unwrap();
    let feeds = FeedSet::new(
        advisories,
        Default::default(),
        Default::default(),
        wardwatch_vuln::feed::EolTable::builtin().unwrap(),
        Default::default(),
    );
    let index = MatchIndex::build(&feeds);
    let findings = package_findings(index.match_host(&host));
    assert!(findings.iter().all(|f| &*f.id == "DEBIAN-TEMP-ABOVE"));
    // Every binary whose source version is the one its verdicts were made from is affected
    // by TEMP-ABOVE, and by nothing else.
    let expected: Vec<&str> = host
        .packages
        .iter()
        .filter(|p| by_source[p.source_name()] == p.source_version())
        .map(|p| p.name.as_str())
        .collect();
    let got: Vec<&str> = findings
        .iter()
        .map(|f| match &f.subject {
            Subject::Package { name, .. } => &**name,
            other => panic!("{other:?}"),
        })
        .collect();
    let (mut expected, mut got) = (expected, got);
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    for f in &findings {
        let Subject::Package { source_version, .. } = &f.subject else {
            unreachable!()
        };
        assert_eq!(
            f.remedy,
            Remedy::FixedIn {
                version: format!("{source_version}+wardwatch1").into()
            }
        );
        assert_eq!(
            f.why.comparison.to_string(),
            format!("installed {source_version} < fixed {source_version}+wardwatch1 (dpkg)")
        );
    }
}

#[test]
fn the_agents_inventory_matches_the_same() {
    let Some(host) = this_host() else {
        return;
    };
    let wire = wardwatch_proto::inventory::Inventory {
        os: wardwatch_proto::inventory::OsInfo {
            os_id: host.os.id.clone(),
            os_version_id: host.os.version_id.clone(),
            os_codename: host.os.codename.clone(),
            os_pretty_name: host.os.name.clone(),
            ..Default::default()
        },
        packages: host
            .packages
            .iter()
            .map(|p| wardwatch_proto::inventory::Package {
                ecosystem: p.ecosystem.clone(),
                name: p.name.clone(),
                version: p.version.clone(),
                arch: "amd64".into(),
                source: p.source.clone(),
                source_version: p.source_version.clone(),
            })
            .collect(),
        ..Default::default()
    };
    assert_eq!(HostInventory::from(&wire), host);
}
