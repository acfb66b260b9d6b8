//! Planning: from the open findings the server holds to a [`PatchRequest`].
//!
//! Advisories name *source* packages and the source version that fixes them; a terminal
//! upgrades *binary* packages. Each finding is one installed binary package on one
//! terminal, so the plan keeps that binary and asks that its upgrade come from the
//! highest fixed source version among the findings it removes (in the package manager's
//! order, not bytewise: `3.0.11-1~deb12u2` is newer than `3.0.9-1`).

use std::collections::{BTreeMap, BTreeSet};

use wardwatch_vuln::matcher::Priority;
use wardwatch_vuln::version::Scheme;

use crate::request::{
    HostPlan, HostUpgrade, NotCovered, PackageNeed, PatchRequest, PlanFilterRecord, SystemNeed,
    REQUEST_FORMAT, REQUEST_KIND,
};

/// The ecosystem of end-of-life findings: the remedy is a release upgrade.
pub const OS_ECOSYSTEM: &str = "os";

/// One open finding, with what the plan needs of its terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub host_id: String,
    pub hostname: String,
    pub department: String,
    /// The matcher's ecosystem: `Debian:12` (OSV), `Debian:bookworm` (the Debian
    /// tracker), or [`OS_ECOSYSTEM`] for an end-of-life system.
    pub ecosystem: String,
    pub os_id: String,
    pub release: String,
    pub codename: String,
    /// The installed binary package, its architecture and version.
    pub package: String,
    pub arch: String,
    pub installed: String,
    pub source: String,
    /// `None` when no fixed version is known yet.
    pub fixed_version: Option<String>,
    pub advisory: String,
    pub priority: Priority,
    /// What the finding says to do (for end-of-life systems, the release upgrade).
    pub remedy: String,
}

/// A package version installed on some terminal of a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub os_id: String,
    pub codename: String,
    pub name: String,
    pub version: String,
}

/// Which findings to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFilter {
    /// This priority class and the more urgent ones.
    pub priority: Priority,
    pub department: Option<String>,
}

impl PlanFilter {
    fn admits(&self, c: &Candidate) -> bool {
        c.priority <= self.priority && self.department.as_ref().is_none_or(|d| *d == c.department)
    }
}

/// Systems whose upgrades apt can install from a bundle.
fn patchable(c: &Candidate) -> Result<(), &'static str> {
    let family = c.ecosystem.split(':').next().unwrap_or_default();
    match family {
        "Debian" | "Ubuntu" if !c.codename.is_empty() => Ok(()),
        "Debian" | "Ubuntu" => {
            Err("its os-release names no VERSION_CODENAME, so the suite to fetch from is unknown")
        }
        "Rocky Linux" | "AlmaLinux" | "Red Hat" | "openSUSE" | "SUSE" => {
            Err("rpm-based patching (dnf) is not built yet")
        }
        _ => Err("wardwatch cannot patch this system's packages yet"),
    }
}

/// The higher of two versions in dpkg's order (bytewise where one does not parse).
fn highest<'a>(a: &'a str, b: &'a str) -> &'a str {
    match Scheme::Dpkg.compare(a, b).unwrap_or_else(|_| a.cmp(b)) {
        std::cmp::Ordering::Less => b,
        _ => a,
    }
}

/// Keeps the higher of `current` (empty: none yet) and `version`.
fn raise(current: &mut String, version: &str) {
    if current.is_empty() || highest(current, version) != current.as_str() {
        *current = version.to_string();
    }
}

/// What one (system, package, arch) gathers while planning.
#[derive(Default)]
struct Gathered {
    source: String,
    fixed: String,
    installed: BTreeSet<String>,
    hosts: BTreeSet<String>,
    advisories: BTreeSet<String>,
    priority: Option<Priority>,
}

/// What one (host, package, arch) gathers.
#[derive(Default)]
struct HostGathered {
    installed: String,
    fixed: String,
    advisories: BTreeSet<String>,
}

/// A package and its architecture.
type PackageKey = (String, String);
/// os-release ID, release and codename.
type SystemKey = (String, String, String);

/// Plans the upgrades that remove the admitted findings among `candidates`.
/// `installed` gives each system's baseline: the lowest version of every package on any
/// of its terminals.
pub fn plan(
    candidates: &[Candidate],
    installed: &[Installed],
    filter: &PlanFilter,
    made_at: i64,
) -> PatchRequest {
    let mut systems: BTreeMap<SystemKey, BTreeMap<PackageKey, Gathered>> = BTreeMap::new();
    let mut hosts: BTreeMap<String, (HostPlan, BTreeMap<PackageKey, HostGathered>)> =
        BTreeMap::new();
    let mut not_covered: BTreeMap<String, NotCovered> = BTreeMap::new();
    let mut end_of_life: BTreeMap<String, NotCovered> = BTreeMap::new();
    let mut without_fix = 0u64;

    for c in candidates.iter().filter(|c| filter.admits(c)) {
        if c.ecosystem == OS_ECOSYSTEM {
            end_of_life
                .entry(c.host_id.clone())
                .or_insert_with(|| NotCovered {
                    host_id: c.host_id.clone(),
                    hostname: c.hostname.clone(),
                    ecosystem: c.package.clone(),
                    findings: 0,
                    reason: c.remedy.clone(),
                })
                .findings += 1;
            continue;
        }
        if let Err(reason) = patchable(c) {
            let entry = not_covered
                .entry(c.host_id.clone())
                .or_insert_with(|| NotCovered {
                    host_id: c.host_id.clone(),
                    hostname: c.hostname.clone(),
                    ecosystem: c.ecosystem.clone(),
                    findings: 0,
                    reason: reason.to_string(),
                });
            entry.findings += 1;
            continue;
        }
        let Some(fixed) = c.fixed_version.as_deref() else {
            without_fix += 1;
            continue;
        };
        let key = (c.os_id.clone(), c.release.clone(), c.codename.clone());
        let g = systems
            .entry(key)
            .or_default()
            .entry((c.package.clone(), c.arch.clone()))
            .or_default();
        g.source.clone_from(&c.source);
        raise(&mut g.fixed, fixed);
        g.installed.insert(c.installed.clone());
        g.hosts.insert(c.host_id.clone());
        g.advisories.insert(c.advisory.clone());
        g.priority = Some(g.priority.map_or(c.priority, |p| p.min(c.priority)));

        let (_, upgrades) = hosts.entry(c.host_id.clone()).or_insert_with(|| {
            (
                HostPlan {
                    host_id: c.host_id.clone(),
                    hostname: c.hostname.clone(),
                    department: c.department.clone(),
                    os_id: c.os_id.clone(),
                    codename: c.codename.clone(),
                    upgrades: Vec::new(),
                },
                BTreeMap::new(),
            )
        });
        let h = upgrades
            .entry((c.package.clone(), c.arch.clone()))
            .or_default();
        h.installed.clone_from(&c.installed);
        raise(&mut h.fixed, fixed);
        h.advisories.insert(c.advisory.clone());
    }

    let mut baselines: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for i in installed {
        let lowest = baselines
            .entry((i.os_id.clone(), i.codename.clone()))
            .or_default()
            .entry(i.name.clone())
            .or_default();
        if lowest.is_empty() || highest(lowest, &i.version) == lowest.as_str() {
            lowest.clone_from(&i.version);
        }
    }

    PatchRequest {
        kind: REQUEST_KIND.to_string(),
        format: REQUEST_FORMAT,
        made_at,
        filter: PlanFilterRecord {
            priority: filter.priority.as_str().to_string(),
            department: filter.department.clone(),
        },
        systems: systems
            .into_iter()
            .map(|((os_id, release, codename), packages)| {
                let architectures: BTreeSet<String> =
                    packages.keys().map(|(_, arch)| arch.clone()).collect();
                let baseline = baselines
                    .remove(&(os_id.clone(), codename.clone()))
                    .unwrap_or_default();
                SystemNeed {
                    os_id,
                    release,
                    codename,
                    architectures: architectures.into_iter().collect(),
                    packages: packages
                        .into_iter()
                        .map(|((name, arch), g)| PackageNeed {
                            name,
                            arch,
                            source: g.source,
                            fixed_source_version: g.fixed,
                            installed: g.installed.into_iter().collect(),
                            hosts: g.hosts.len() as u64,
                            advisories: g.advisories.into_iter().collect(),
                            priority: g.priority.unwrap_or(Priority::Other).as_str().to_string(),
                        })
                        .collect(),
                    baseline,
                }
            })
            .collect(),
        hosts: hosts
            .into_values()
            .map(|(mut host, upgrades)| {
                host.upgrades = upgrades
                    .into_iter()
                    .map(|((name, arch), h)| HostUpgrade {
                        name,
                        arch,
                        installed: h.installed,
                        fixed_source_version: h.fixed,
                        advisories: h.advisories.into_iter().collect(),
                    })
                    .collect();
                host
            })
            .collect(),
        not_covered: not_covered.into_values().collect(),
        end_of_life: end_of_life.into_values().collect(),
        without_fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(host: &str, package: &str, fixed: Option<&str>, priority: Priority) -> Candidate {
        Candidate {
            host_id: host.into(),
            hostname: format!("{host}.ward"),
            department: if host.starts_with("lab") {
                "lab"
            } else {
                "ward3"
            }
            .into(),
            ecosystem: "Debian:12".into(),
            os_id: "debian".into(),
            release: "12".into(),
            codename: "bookworm".into(),
            package: package.into(),
            arch: "amd64".into(),
            installed: "3.0.9-1".into(),
            source: "openssl".into(),
            fixed_version: fixed.map(str::to_string),
            advisory: format!("DSA-{}", fixed.unwrap_or("none")),
            priority,
            remedy: "upgrade".into(),
        }
    }

    #[test]
    fn one_package_per_system_with_the_highest_fixed_version_in_dpkg_order() {
        let candidates = vec![
            finding("ward-1", "libssl3", Some("3.0.9-2"), Priority::Exploited),
            finding(
                "ward-1",
                "libssl3",
                Some("3.0.11-1~deb12u2"),
                Priority::Severe,
            ),
            finding("lab-1", "libssl3", Some("3.0.9-2"), Priority::Ransomware),
            finding("lab-1", "openssl", None, Priority::Exploited),
            // The tracker names the same system by its codename.
            Candidate {
                ecosystem: "Debian:bookworm".into(),
                ..finding("lab-1", "libssl3", Some("3.0.9-1"), Priority::Severe)
            },
            Candidate {
                ecosystem: OS_ECOSYSTEM.into(),
                package: "Debian 12 (bookworm)".into(),
                remedy: "upgrade the OS".into(),
                ..finding("lab-1", "bookworm", None, Priority::Severe)
            },
        ];
        let filter = PlanFilter {
            priority: Priority::Other,
            department: None,
        };
        let installed = |version: &str| Installed {
            os_id: "debian".into(),
            codename: "bookworm".into(),
            name: "libc6".into(),
            version: version.into(),
        };
        let request = plan(
            &candidates,
            &[installed("2.36-9+deb12u10"), installed("2.36-9+deb12u4")],
            &filter,
            10,
        );
        assert_eq!(request.systems.len(), 1);
        assert_eq!(request.systems[0].baseline["libc6"], "2.36-9+deb12u4");
        let packages = &request.systems[0].packages;
        assert_eq!(packages.len(), 1, "{packages:?}");
        assert_eq!(packages[0].name, "libssl3");
        // Bytewise "3.0.9-2" sorts after "3.0.11-…"; dpkg's order puts it before.
        assert_eq!(packages[0].fixed_source_version, "3.0.11-1~deb12u2");
        assert_eq!(packages[0].hosts, 2);
        assert_eq!(packages[0].priority, "ransomware");
        assert_eq!(request.without_fix, 1);
        assert_eq!(request.end_of_life.len(), 1);
        assert_eq!(request.end_of_life[0].reason, "upgrade the OS");
        let lab = request.hosts.iter().find(|h| h.host_id == "lab-1").unwrap();
        assert_eq!(lab.upgrades[0].fixed_source_version, "3.0.9-2");
        PatchRequest::parse(request.to_json().as_bytes()).expect("the plan reads back");
    }

    #[test]
    fn the_filter_keeps_urgent_findings_of_one_department() {
        let candidates = vec![
            finding("ward-1", "libssl3", Some("3.0.9-2"), Priority::Severe),
            finding("ward-2", "libssl3", Some("3.0.9-2"), Priority::Exploited),
            finding("lab-1", "libssl3", Some("3.0.9-2"), Priority::Ransomware),
        ];
        let filter = PlanFilter {
            priority: Priority::Exploited,
            department: Some("ward3".into()),
        };
        let request = plan(&candidates, &[], &filter, 10);
        let hosts: Vec<&str> = request.hosts.iter().map(|h| h.host_id.as_str()).collect();
        assert_eq!(hosts, ["ward-2"]);
        assert_eq!(request.filter.department.as_deref(), Some("ward3"));
    }

    #[test]
    fn systems_apt_cannot_patch_are_named_with_the_reason() {
        let mut rocky = finding(
            "lab-9",
            "openssl-libs",
            Some("3.0.7-25.el9"),
            Priority::Exploited,
        );
        rocky.ecosystem = "Rocky Linux:9".into();
        let mut no_codename = finding("ward-7", "libssl3", Some("3.0.9-2"), Priority::Exploited);
        no_codename.codename = String::new();
        let filter = PlanFilter {
            priority: Priority::Other,
            department: None,
        };
        let request = plan(&[rocky, no_codename], &[], &filter, 10);
        assert!(request.systems.is_empty());
        assert_eq!(request.not_covered.len(), 2);
        assert!(
            request.not_covered[0].reason.contains("dnf"),
            "{:?}",
            request.not_covered
        );
        assert!(request.not_covered[1].reason.contains("VERSION_CODENAME"));
    }
}
