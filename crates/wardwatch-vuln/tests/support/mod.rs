//! Shared by the feed and matcher tests: the real data in /work/shared/data, and hosts
//! built from (binary, version, source) triples.

#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;

use wardwatch_vuln::feed::{debian_number, Date};
use wardwatch_vuln::matcher::{Finding, HostInventory, HostOs, InstalledPackage, Subject};

/// A file of the shared data directory (`/work/shared/data/<rel>`).
pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

pub fn date(s: &str) -> Date {
    s.parse().expect("test date")
}

/// A dpkg package: `(binary, version, Some((source, Some(source_version))))`.
pub type Dpkg<'a> = (&'a str, &'a str, Option<(&'a str, Option<&'a str>)>);

/// A Debian host of release `codename` with dpkg packages.
pub fn debian_host(codename: &str, packages: &[Dpkg<'_>]) -> HostInventory {
    HostInventory {
        os: HostOs {
            id: "debian".into(),
            version_id: debian_number(codename).unwrap_or("").into(),
            codename: codename.into(),
            name: format!("Debian GNU/Linux ({codename})"),
        },
        packages: packages
            .iter()
            .map(|(name, version, source)| InstalledPackage {
                ecosystem: "dpkg".into(),
                name: (*name).into(),
                version: (*version).into(),
                source: source.map(|(s, _)| s.to_owned()),
                source_version: source.and_then(|(_, v)| v.map(str::to_owned)),
            })
            .collect(),
    }
}

/// A host of any OS with packages `(ecosystem, name, version, source)`.
pub fn host(
    id: &str,
    version_id: &str,
    packages: &[(&str, &str, &str, Option<&str>)],
) -> HostInventory {
    HostInventory {
        os: HostOs {
            id: id.into(),
            version_id: version_id.into(),
            codename: String::new(),
            name: format!("{id} {version_id}"),
        },
        packages: packages
            .iter()
            .map(|(eco, name, version, source)| InstalledPackage {
                ecosystem: (*eco).into(),
                name: (*name).into(),
                version: (*version).into(),
                source: source.map(str::to_owned),
                source_version: None,
            })
            .collect(),
    }
}

/// The findings about packages (not the OS's end of life), detached from the host.
pub fn package_findings(findings: Vec<Finding<'_>>) -> Vec<Finding<'static>> {
    findings
        .into_iter()
        .filter(|f| matches!(f.subject, Subject::Package { .. }))
        .map(Finding::into_owned)
        .collect()
}

/// Findings detached from the host they were matched on.
pub fn owned(findings: Vec<Finding<'_>>) -> Vec<Finding<'static>> {
    findings.into_iter().map(Finding::into_owned).collect()
}

/// Whether `dpkg --compare-versions a op b` holds, or `None` without dpkg.
pub fn dpkg_holds(a: &str, op: &str, b: &str) -> Option<bool> {
    let status = std::process::Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}
