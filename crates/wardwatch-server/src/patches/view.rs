//! The console's Patches view, computed from what the server holds: per terminal the
//! upgrades its open findings call for (planned), how many of them the installed
//! `patches` bundle holds (available), its latest `patch.install` (installed or failed),
//! and the risk the upgrades remove; the same summed per department.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use wardwatch_patch::fetch::FetchManifest;
use wardwatch_patch::request::HostPlan;
use wardwatch_patch::{plan, Candidate, PlanFilter};
use wardwatch_vuln::matcher::Priority;

use super::LastPatchInstall;
use crate::commands::HostCommand;

/// The installed `patches` bundle, as the view shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BundleSummary {
    pub version: u64,
    pub created: i64,
    pub expires: i64,
    /// `os_id codename` and how many packages it holds for that system.
    pub systems: Vec<(String, usize)>,
}

/// One upgrade of one terminal.
#[derive(Debug, Clone, Serialize)]
pub struct UpgradeView {
    pub name: String,
    pub installed: String,
    pub fixed: String,
    /// The version the bundle holds for it, when it holds one new enough.
    pub available: Option<String>,
}

/// A terminal's latest `patch.install`.
#[derive(Debug, Clone, Serialize)]
pub struct LastInstall {
    pub command_id: i64,
    /// When it was queued.
    pub queued_at: i64,
    /// `queued`, `running`, `installed` or `failed`.
    pub state: &'static str,
    /// When it was queued, or finished.
    pub at: i64,
    /// What it did or why it failed, as text.
    pub summary: String,
}

/// One terminal.
#[derive(Debug, Clone, Serialize)]
pub struct HostView {
    pub host_id: String,
    pub hostname: String,
    pub department: String,
    pub upgrades: Vec<UpgradeView>,
    pub available: usize,
    /// Advisories the upgrades remove, by the most urgent class first.
    pub ransomware: usize,
    pub exploited: usize,
    pub advisories: usize,
    /// The fleet ranking's weight of those advisories, for the order.
    pub risk: f64,
    pub last_install: Option<LastInstall>,
}

/// One department.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DepartmentView {
    pub department: String,
    pub hosts: usize,
    pub upgrades: usize,
    pub available: usize,
    pub installed: usize,
    pub failed: usize,
    /// Advisories the planned upgrades remove: used by ransomware, known exploited, all.
    pub ransomware: usize,
    pub exploited: usize,
    pub advisories: usize,
    pub risk: f64,
}

/// The whole view.
#[derive(Debug, Clone, Serialize)]
pub struct PatchesView {
    pub bundle: Option<BundleSummary>,
    pub departments: Vec<DepartmentView>,
    pub hosts: Vec<HostView>,
    /// Terminals with open findings that no patch bundle can fix, and why.
    pub not_covered: Vec<(String, String)>,
}

/// Builds the view; `weights` gives each priority class its weight, as the fleet
/// ranking does.
pub fn build(
    candidates: &[Candidate],
    bundle: Option<(BundleSummary, &FetchManifest)>,
    last_installs: &[LastPatchInstall],
    weights: &[(&str, f64)],
    now: i64,
) -> PatchesView {
    let filter = PlanFilter {
        priority: Priority::Other,
        department: None,
    };
    let request = plan(candidates, &[], &filter, now);
    let weight = |p: Priority| {
        weights
            .iter()
            .find(|(name, _)| *name == p.as_str())
            .map_or(1.0, |(_, w)| *w)
    };
    // Per host, the most urgent class of each advisory an upgrade removes.
    let mut advisories: BTreeMap<&str, BTreeMap<&str, Priority>> = BTreeMap::new();
    for c in candidates.iter().filter(|c| c.fixed_version.is_some()) {
        let class = advisories
            .entry(c.host_id.as_str())
            .or_default()
            .entry(c.advisory.as_str())
            .or_insert(c.priority);
        *class = (*class).min(c.priority);
    }
    let last: BTreeMap<&str, &HostCommand> = last_installs
        .iter()
        .map(|l| (l.command.host_id.as_str(), &l.command))
        .collect();
    let fetched = bundle.as_ref().map(|(_, m)| *m);
    let mut hosts: Vec<HostView> = request
        .hosts
        .iter()
        .map(|h| {
            let planned: BTreeSet<&str> = h
                .upgrades
                .iter()
                .flat_map(|u| u.advisories.iter().map(String::as_str))
                .collect();
            let classes: Vec<Priority> = advisories
                .get(h.host_id.as_str())
                .map(|a| {
                    a.iter()
                        .filter(|(id, _)| planned.contains(*id))
                        .map(|(_, p)| *p)
                        .collect()
                })
                .unwrap_or_default();
            let upgrades = upgrades_of(h, fetched);
            HostView {
                available: upgrades.iter().filter(|u| u.available.is_some()).count(),
                upgrades,
                ransomware: classes
                    .iter()
                    .filter(|p| **p == Priority::Ransomware)
                    .count(),
                exploited: classes
                    .iter()
                    .filter(|p| **p == Priority::Exploited)
                    .count(),
                advisories: classes.len(),
                risk: classes.iter().map(|p| weight(*p)).sum(),
                last_install: last.get(h.host_id.as_str()).map(|c| last_install(c)),
                host_id: h.host_id.clone(),
                hostname: h.hostname.clone(),
                department: h.department.clone(),
            }
        })
        .collect();
    // Terminals patched until nothing is left to plan still show their installation.
    let planned: BTreeSet<String> = hosts.iter().map(|h| h.host_id.clone()).collect();
    hosts.extend(
        last_installs
            .iter()
            .filter(|l| !planned.contains(&l.command.host_id))
            .map(|l| HostView {
                host_id: l.command.host_id.clone(),
                hostname: l.hostname.clone(),
                department: l.department.clone(),
                upgrades: Vec::new(),
                available: 0,
                ransomware: 0,
                exploited: 0,
                advisories: 0,
                risk: 0.0,
                last_install: Some(last_install(&l.command)),
            }),
    );
    let mut departments: BTreeMap<String, DepartmentView> = BTreeMap::new();
    for h in &hosts {
        let d = departments.entry(h.department.clone()).or_default();
        d.department.clone_from(&h.department);
        d.hosts += 1;
        d.upgrades += h.upgrades.len();
        d.available += h.available;
        d.ransomware += h.ransomware;
        d.exploited += h.exploited;
        d.advisories += h.advisories;
        d.risk += h.risk;
        match h.last_install.as_ref().map(|l| l.state) {
            Some("installed") => d.installed += 1,
            Some("failed") => d.failed += 1,
            _ => {}
        }
    }
    hosts.sort_by(|a, b| b.risk.total_cmp(&a.risk).then(a.hostname.cmp(&b.hostname)));
    PatchesView {
        bundle: bundle.map(|(b, _)| b),
        departments: departments.into_values().collect(),
        hosts,
        not_covered: request
            .not_covered
            .iter()
            .chain(request.end_of_life.iter())
            .map(|n| (n.hostname.clone(), n.reason.clone()))
            .collect(),
    }
}

/// A host's upgrades, each with the version the bundle holds for its system.
fn upgrades_of(host: &HostPlan, fetched: Option<&FetchManifest>) -> Vec<UpgradeView> {
    let system = fetched.and_then(|m| {
        m.systems
            .iter()
            .find(|s| s.os_id == host.os_id && s.codename == host.codename)
    });
    host.upgrades
        .iter()
        .map(|u| UpgradeView {
            available: system.and_then(|s| {
                s.packages
                    .iter()
                    .find(|p| {
                        p.name == u.name
                            && wardwatch_patch::dpkg_order(
                                &p.source_version,
                                &u.fixed_source_version,
                            )
                            .is_some_and(|o| o != std::cmp::Ordering::Less)
                    })
                    .map(|p| p.version.clone())
            }),
            name: u.name.clone(),
            installed: u.installed.clone(),
            fixed: u.fixed_source_version.clone(),
        })
        .collect()
}

fn last_install(c: &HostCommand) -> LastInstall {
    let (state, at) = match (c.done_at, c.ok, c.picked_at) {
        (Some(done), Some(true), _) => ("installed", done),
        (Some(done), _, _) => ("failed", done),
        (None, _, Some(_)) => ("running", c.created_at),
        (None, _, None) => ("queued", c.created_at),
    };
    let summary = match (&c.result, state) {
        (Some(r), "installed") => {
            let n = r["upgrades"].as_array().map_or(0, Vec::len);
            let reboot = if r["reboot_required"] == true {
                "; asks for a reboot"
            } else {
                ""
            };
            format!("{n} package(s) upgraded{reboot}")
        }
        (Some(serde_json::Value::String(why)), _) => why.clone(),
        (Some(r), _) => r.to_string(),
        (None, _) => String::new(),
    };
    LastInstall {
        command_id: c.id,
        queued_at: c.created_at,
        state,
        at,
        summary,
    }
}

/// The view of what storage and the installed `patches` bundle hold now.
pub fn load(
    store: &dyn crate::storage::Storage,
    bundles: &crate::bundles::InstalledBundles,
    data_dir: &std::path::Path,
    now: i64,
) -> Result<PatchesView, crate::db::StoreError> {
    use crate::db::StoreError;
    let candidates = store.patch_candidates(now)?;
    let last = store.last_patch_installs()?;
    let installed = match bundles
        .get(wardwatch_bundle::Kind::Patches)
        .map_err(|e| StoreError::Corrupt(format!("the installed patches bundle: {e}")))?
    {
        None => None,
        Some(b) => {
            let dir = crate::bundles::kind_dir(data_dir, wardwatch_bundle::Kind::Patches);
            let fetched = super::bundle::read_manifest(&dir)
                .map_err(|e| StoreError::Corrupt(format!("the installed patches bundle: {e}")))?;
            Some((b, fetched))
        }
    };
    let bundle = installed.as_ref().map(|(b, fetched)| {
        (
            BundleSummary {
                version: b.manifest.version,
                created: crate::bundles::freshness::millis(b.manifest.created),
                expires: crate::bundles::freshness::millis(b.manifest.expires),
                systems: fetched
                    .systems
                    .iter()
                    .map(|s| (format!("{} {}", s.os_id, s.codename), s.packages.len()))
                    .collect(),
            },
            fetched,
        )
    });
    let weights = crate::vuln::upgrades::weights();
    Ok(build(&candidates, bundle, &last, &weights, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(host: &str, package: &str, advisory: &str, priority: Priority) -> Candidate {
        Candidate {
            host_id: host.into(),
            hostname: host.into(),
            department: if host.starts_with("lab") {
                "Lab"
            } else {
                "Ward 3"
            }
            .into(),
            ecosystem: "Debian:12".into(),
            os_id: "debian".into(),
            release: "12".into(),
            codename: "bookworm".into(),
            package: package.into(),
            arch: "amd64".into(),
            installed: "1.0-1".into(),
            source: package.into(),
            fixed_version: Some("1.0-2".into()),
            advisory: advisory.into(),
            priority,
            remedy: String::new(),
        }
    }

    fn command(host: &str, ok: Option<bool>, result: serde_json::Value) -> LastPatchInstall {
        let command = HostCommand {
            id: 7,
            host_id: host.into(),
            kind: "patch.install".into(),
            args: serde_json::json!({}),
            created_by: "admin".into(),
            created_at: 100,
            picked_at: Some(110),
            done_at: ok.map(|_| 120),
            ok,
            result: Some(result),
        };
        LastPatchInstall {
            command,
            hostname: host.into(),
            department: "Ward 3".into(),
        }
    }

    #[test]
    fn hosts_rank_by_risk_and_departments_count_installs_and_failures() {
        let candidates = vec![
            candidate("ward-1", "ward-tool", "A-1", Priority::Ransomware),
            candidate("ward-1", "ward-tool", "A-2", Priority::Severe),
            candidate("lab-1", "ward-lib", "A-3", Priority::Other),
        ];
        let weights = [("ransomware", 100.0), ("severe", 5.0), ("other", 1.0)];
        let last = [
            command(
                "ward-1",
                Some(false),
                serde_json::json!("apt install failed: x"),
            ),
            command(
                "lab-1",
                Some(true),
                serde_json::json!({"upgrades": [{}], "reboot_required": true}),
            ),
        ];
        let view = build(&candidates, None, &last, &weights, 0);
        assert_eq!(view.hosts[0].host_id, "ward-1");
        assert_eq!(view.hosts[0].risk, 105.0);
        assert_eq!(view.hosts[0].ransomware, 1);
        assert_eq!(view.hosts[0].available, 0);
        let ward = view
            .departments
            .iter()
            .find(|d| d.department == "Ward 3")
            .unwrap();
        assert_eq!((ward.hosts, ward.failed, ward.installed), (1, 1, 0));
        let lab = &view.hosts[1].last_install.as_ref().unwrap();
        assert_eq!(lab.state, "installed");
        assert_eq!(lab.summary, "1 package(s) upgraded; asks for a reboot");

        // Patched until nothing is planned: still listed with its installation.
        let view = build(&candidates[..2], None, &last, &weights, 0);
        let lab = view.hosts.iter().find(|h| h.host_id == "lab-1").unwrap();
        assert!(lab.upgrades.is_empty());
        assert_eq!(lab.last_install.as_ref().unwrap().state, "installed");
    }
}
