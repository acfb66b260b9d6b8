//! `wardwatch patch plan` against a real server holding a matched fleet: the request lists
//! exactly the upgrades that close open findings, filters by priority and department,
//! leaves accepted risks out, and can be read back as a request.

use std::path::Path;

use crate::support::harness::*;
use crate::support::vulnfleet::*;
use reqwest::Method;
use serde_json::{json, Value};
use wardwatch_patch::PatchRequest;

fn plan(fleet: &VulnFleet, out: &Path, extra: &[&str]) -> PatchRequest {
    let data = fleet.tmp.path().join("server");
    let mut args = vec![
        "patch",
        "plan",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = wardwatch(&args);
    assert!(run.status.success(), "patch plan: {}", text(&run));
    assert!(text(&run).contains("request written to"), "{}", text(&run));
    PatchRequest::parse(&std::fs::read(out).unwrap()).expect("the request reads back")
}

fn upgrades_of<'a>(request: &'a PatchRequest, host_id: &str) -> Vec<(&'a str, &'a str)> {
    request
        .hosts
        .iter()
        .filter(|h| h.host_id == host_id)
        .flat_map(|h| h.upgrades.iter())
        .map(|u| (u.name.as_str(), u.fixed_source_version.as_str()))
        .collect()
}

#[test]
fn the_plan_lists_what_closes_the_open_findings_and_nothing_else() {
    let fleet = VulnFleet::start();
    let ward = &fleet.hosts[0];
    let desk = &fleet.hosts[1];
    let out = fleet.tmp.path().join("request.json");
    let request = plan(&fleet, &out, &[]);

    // Every open finding with a fixed version is in its terminal's plan, and every
    // planned upgrade closes at least one open finding.
    let open = fleet.get_json("/api/vuln/findings?state=open&limit=1000");
    let findings: Vec<&Value> = open["findings"].as_array().unwrap().iter().collect();
    let fixable: Vec<&&Value> = findings
        .iter()
        .filter(|f| f["fixed_version"].is_string() && f["ecosystem"] != "os")
        .collect();
    assert!(!fixable.is_empty(), "{open:#}");
    for f in &fixable {
        let host = f["host_id"].as_str().unwrap();
        let package = f["package"].as_str().unwrap();
        let advisory = f["advisory"].as_str().unwrap();
        let planned = request
            .hosts
            .iter()
            .filter(|h| h.host_id == host)
            .flat_map(|h| h.upgrades.iter())
            .find(|u| u.name == package)
            .unwrap_or_else(|| panic!("{host} {package} is not planned: {request:#?}"));
        assert!(
            planned.advisories.iter().any(|a| a == advisory),
            "{planned:?}"
        );
    }
    for host in &request.hosts {
        for u in &host.upgrades {
            assert!(
                findings
                    .iter()
                    .any(|f| f["host_id"] == host.host_id.as_str()
                        && f["package"] == u.name.as_str()),
                "{} {} closes no open finding",
                host.host_id,
                u.name
            );
        }
    }
    // End of life is a release upgrade, not a package: counted apart.
    let end_of_life = |f: &&&Value| f["ecosystem"] == "os";
    let unfixed = findings
        .iter()
        .filter(|f| !f["fixed_version"].is_string())
        .filter(|f| !end_of_life(f))
        .count();
    assert_eq!(request.without_fix, unfixed as u64);
    let eol_hosts: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter(end_of_life)
        .map(|f| f["host_id"].as_str().unwrap())
        .collect();
    assert!(!eol_hosts.is_empty());
    let planned_eol: std::collections::BTreeSet<&str> = request
        .end_of_life
        .iter()
        .map(|h| h.host_id.as_str())
        .collect();
    assert_eq!(planned_eol, eol_hosts);

    // The ward's openssl is older than the ransomware advisory's fix; the desk's is not.
    let ward_plan = upgrades_of(&request, &ward.id);
    assert!(
        ward_plan.contains(&("libssl3", "3.0.17-1~deb12u2")),
        "{ward_plan:?}"
    );
    assert!(
        ward_plan.contains(&("openssl", "3.0.17-1~deb12u2")),
        "{ward_plan:?}"
    );
    assert!(
        ward_plan.contains(&("git", "1:2.39.5-0+deb12u2")),
        "{ward_plan:?}"
    );
    let desk_plan = upgrades_of(&request, &desk.id);
    assert!(
        desk_plan.contains(&("git", "1:2.39.5-0+deb12u2")),
        "{desk_plan:?}"
    );
    assert!(
        !desk_plan.iter().any(|(name, _)| *name == "openssl"),
        "{desk_plan:?}"
    );
    let bookworm = request
        .systems
        .iter()
        .find(|s| s.codename == "bookworm")
        .expect("a bookworm system");
    assert_eq!(bookworm.release, "12");
    assert_eq!(bookworm.architectures, ["amd64"]);
    let libssl = bookworm
        .packages
        .iter()
        .find(|p| p.name == "libssl3")
        .unwrap();
    assert_eq!(libssl.source, "openssl");
    assert_eq!(libssl.priority, "ransomware");

    // Only ransomware: the openssl packages alone.
    let urgent = plan(&fleet, &out, &["--priority", "ransomware"]);
    let names: Vec<&str> = urgent
        .systems
        .iter()
        .flat_map(|s| s.packages.iter())
        .map(|p| p.source.as_str())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|s| *s == "openssl"),
        "{names:?}"
    );
    assert_eq!(urgent.filter.priority, "ransomware");

    // One department: only its terminals.
    let outpatients = plan(&fleet, &out, &["--department", &desk.department]);
    assert!(!outpatients.hosts.is_empty());
    assert!(outpatients.hosts.iter().all(|h| h.host_id == desk.id));

    // An accepted risk is not planned.
    let (status, body) = fleet.request(
        Method::POST,
        "/api/vuln/suppressions",
        Some(json!({ "advisory": "WW-2025-0001", "host_id": ward.id, "reason": "replaced next week", "expires": in_30_days() })),
        &fleet.cookie,
    );
    assert_eq!(status, 200, "{body}");
    let accepted = plan(&fleet, &out, &[]);
    let ward_advisories: Vec<&str> = accepted
        .hosts
        .iter()
        .filter(|h| h.host_id == ward.id)
        .flat_map(|h| h.upgrades.iter())
        .flat_map(|u| u.advisories.iter().map(String::as_str))
        .collect();
    assert!(!ward_advisories.is_empty());
    assert!(
        !ward_advisories.contains(&"WW-2025-0001"),
        "{ward_advisories:?}"
    );
}

#[test]
fn a_wrong_priority_or_a_missing_database_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("request.json");
    let run = wardwatch(&[
        "patch",
        "plan",
        "--data",
        tmp.path().to_str().unwrap(),
        "--priority",
        "urgent",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(
        text(&run).contains("ransomware, exploited"),
        "{}",
        text(&run)
    );
    let run = wardwatch(&[
        "patch",
        "plan",
        "--data",
        tmp.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(
        text(&run).contains("holds no wardwatch database"),
        "{}",
        text(&run)
    );
    assert!(!out.exists());
}
