//! Vulnerability management on the server, end to end: a signed vuln-feed bundle
//! imported, terminals' inventories sent through the agent API, the fleet matched and
//! ranked, a host matched again when it upgrades (history kept), accepted risks by role
//! and in the audit record, exports, and a feed that cannot be used refused while the
//! previous one stays active.

use crate::support::harness::*;
use crate::support::vulnfleet::*;
use reqwest::Method;
use serde_json::{json, Value};
use wardwatch_proto::{EventBody, Package};

fn priority<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["by_priority"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["priority"] == name))
        .unwrap_or_else(|| panic!("no priority {name} in {summary:#}"))
}

fn findings_of(page: &Value) -> Vec<Value> {
    page["findings"].as_array().cloned().unwrap_or_default()
}

fn upgraded(name: &str, from: &str, to: &str, source: Option<&str>) -> EventBody {
    EventBody::PackageUpgraded {
        package: Package {
            ecosystem: "dpkg".into(),
            name: name.into(),
            version: to.into(),
            arch: "amd64".into(),
            source: source.map(str::to_string),
            source_version: None,
        },
        previous_version: from.into(),
    }
}

fn error_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

fn audit_actions(fleet: &VulnFleet) -> Vec<(String, String, String)> {
    fleet.get_json("/api/audit?limit=1000")["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["target"].as_str().unwrap_or_default().to_string(),
                e["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_fleet_is_matched_ranked_and_its_history_kept() {
    let fleet = VulnFleet::start();
    let nurse = fleet.host("Ward 3 nurse station");
    let desk = fleet.host("Outpatient desk 1");
    let lab = fleet.host("Lab analyser PC");
    let summary = fleet.get_json("/api/vuln/summary");

    assert_eq!(summary["feed"]["version"], 1, "{summary:#}");
    assert_eq!(summary["totals"]["hosts"], 3);
    // openssl and libssl3 come from one source: one finding, not two.
    assert_eq!(
        priority(&summary, "ransomware")["findings"],
        1,
        "{summary:#}"
    );
    assert_eq!(priority(&summary, "ransomware")["hosts"], 1);
    assert_eq!(priority(&summary, "exploited")["findings"], 2);
    assert_eq!(priority(&summary, "exploited")["hosts"], 2);

    let upgrades = summary["upgrades"].as_array().unwrap();
    assert_eq!(upgrades[0]["source"], "openssl", "{summary:#}");
    assert_eq!(upgrades[0]["target_version"], "3.0.17-1~deb12u2");
    assert_eq!(upgrades[0]["hosts"], 1);
    assert_eq!(upgrades[1]["source"], "git");
    assert_eq!(upgrades[1]["target_version"], "1:2.39.5-0+deb12u2");
    assert_eq!(upgrades[1]["hosts"], 2);
    assert!(
        upgrades
            .iter()
            .any(|u| u["source"] == "sope" && u["target_version"] == "5.8.0-1+deb12u1"),
        "the tracker's bookworm fix for sope: {summary:#}"
    );

    // Debian 10 is past every support; Debian 12's regular support ended in June 2026
    // and LTS carries it on, which the remedy says.
    let eol = summary["eol_hosts"].as_array().unwrap();
    let lab_eol = eol
        .iter()
        .find(|e| e["host_id"] == lab.id.as_str())
        .unwrap_or_else(|| panic!("the lab PC is on an end-of-life OS: {summary:#}"));
    assert_eq!(lab_eol["os"], "Debian 10 (buster)");
    assert_eq!(lab_eol["remedy"], "upgrade the OS");
    for e in eol.iter().filter(|e| e["host_id"] != lab.id.as_str()) {
        assert!(
            e["remedy"]
                .as_str()
                .unwrap_or_default()
                .contains("extended support until"),
            "{e:#}"
        );
    }

    let cardiology = summary["by_department"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["department"] == "Cardiology")
        .expect("Cardiology");
    assert_eq!(cardiology["hosts"], 1);
    assert_eq!(cardiology["hosts_with_findings"], 1);
    assert_eq!(cardiology["by_priority"]["ransomware"], 1);

    // The CVE page: the advisory that carries it, why it matched, the host.
    let page = fleet.get_json(&format!("/api/vuln/advisories/{RANSOMWARE_CVE}"));
    let rows = findings_of(&page);
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["host_id"] == nurse.id.as_str()),
        "{page:#}"
    );
    let why = page["advisories"]["WW-2025-0001"]["why"]["comparison"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.contains("3.0.15-1~deb12u1") && why.contains("fixed 3.0.17-1~deb12u2"),
        "{page:#}"
    );
    assert_eq!(
        page["advisories"]["WW-2025-0001"]["exploitation"]["ransomware"],
        true
    );

    // Export: the CSV has a header and one line per finding of the JSON list.
    let open = fleet.get_json("/api/vuln/findings?state=open&limit=1000");
    let (status, csv) = fleet.get("/api/vuln/findings?state=open&format=csv");
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("host,hostname,department,priority,advisory"),
        "{csv}"
    );
    assert_eq!(
        lines.len() as u64 - 1,
        open["total"].as_u64().unwrap(),
        "{csv}"
    );
    assert!(csv.contains("WW-2025-0001") && csv.contains("Ward 3 nurse station"));
    let (status, body) = fleet.get("/api/vuln/findings?format=xml");
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("csv or json"), "{body}");

    // The nurse station upgrades openssl: matched again, the finding is fixed, and the
    // history says so.
    nurse.send(
        &fleet.server,
        &fleet.rt,
        vec![
            upgraded("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2", None),
            upgraded(
                "libssl3",
                "3.0.15-1~deb12u1",
                "3.0.17-1~deb12u2",
                Some("openssl"),
            ),
        ],
    );
    let after = fleet.wait_matched(|s| priority(s, "ransomware")["findings"] == 0);
    assert_eq!(priority(&after, "exploited")["findings"], 2);
    let host = fleet.get_json(&format!("/api/hosts/{}/findings", nurse.id));
    let fixed: Vec<&Value> = host["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["advisory"] == "WW-2025-0001")
        .collect();
    assert_eq!(fixed.len(), 2, "openssl and libssl3: {host:#}");
    assert!(fixed.iter().all(|f| f["fixed_at"].is_i64()), "{host:#}");
    let history = host["history"].as_array().unwrap();
    let changes: Vec<(&str, &str, &str)> = history
        .iter()
        .filter(|h| h["advisory"] == "WW-2025-0001")
        .map(|h| {
            (
                h["change"].as_str().unwrap(),
                h["package"].as_str().unwrap(),
                h["cause"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        changes.contains(&("fixed", "openssl", "inventory")),
        "{changes:?}"
    );
    assert!(
        changes.contains(&("fixed", "libssl3", "inventory")),
        "{changes:?}"
    );
    assert_eq!(
        changes.iter().filter(|c| c.0 == "appeared").count(),
        2,
        "{changes:?}"
    );

    // Accepting a risk: an admin may, for one host, with a reason and an expiry.
    let request = |cookie: &str, body: Value| {
        fleet.request(Method::POST, "/api/vuln/suppressions", Some(body), cookie)
    };
    let (status, body) = request(
        &fleet.cookie,
        json!({ "advisory": EXPLOITED_CVE, "host_id": desk.id, "reason": "", "expires": in_30_days() }),
    );
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("reason"), "{body}");
    let (status, body) = request(
        &fleet.cookie,
        json!({ "advisory": EXPLOITED_CVE, "host_id": desk.id, "reason": "x", "expires": "2020-01-01" }),
    );
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("later day"), "{body}");

    let password = fleet.server.add_user("auditor", "viewer");
    let viewer = console_login(
        &fleet.rt,
        &fleet.console,
        &fleet.server,
        "auditor",
        &password,
    )
    .expect("viewer logs in");
    let (status, body) = request(
        &viewer,
        json!({ "advisory": EXPLOITED_CVE, "host_id": desk.id, "reason": "vendor says so", "expires": in_30_days() }),
    );
    assert_eq!(status, 403, "{body}");
    assert!(error_of(&body).contains("only an admin"), "{body}");
    let (status, _) = fleet.request(Method::GET, "/api/vuln/summary", None, &viewer);
    assert_eq!(status, 200, "a viewer sees the fleet");

    let reason = "Git on the outpatient desk is never used to clone; the vendor patches in the March release";
    let (status, body) = request(
        &fleet.cookie,
        json!({ "advisory": EXPLOITED_CVE, "host_id": desk.id, "reason": reason, "expires": in_30_days() }),
    );
    assert_eq!(status, 200, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created["suppression"]["id"].as_i64().unwrap();
    assert_eq!(created["suppression"]["role"], "admin");
    let accepted = fleet.wait_matched(|s| priority(s, "exploited")["hosts"] == 1);
    assert_eq!(accepted["totals"]["suppressed_findings"], 1, "{accepted:#}");
    let listed = fleet.get_json("/api/vuln/findings?state=suppressed");
    let rows = findings_of(&listed);
    assert_eq!(rows.len(), 1, "{listed:#}");
    assert_eq!(rows[0]["host_id"], desk.id.as_str());
    assert_eq!(rows[0]["suppression_id"], id);
    let audit = audit_actions(&fleet);
    assert!(
        audit
            .iter()
            .any(|(action, target, detail)| action == "finding.suppress"
                && target == EXPLOITED_CVE
                && detail.contains("March release")),
        "{audit:?}"
    );

    // Lifting it (admins only) makes the finding open again, and is audited too.
    let (status, _) = fleet.request(
        Method::DELETE,
        &format!("/api/vuln/suppressions/{id}"),
        None,
        &viewer,
    );
    assert_eq!(status, 403);
    let (status, body) = fleet.request(
        Method::DELETE,
        &format!("/api/vuln/suppressions/{id}"),
        None,
        &fleet.cookie,
    );
    assert_eq!(status, 200, "{body}");
    fleet.wait_matched(|s| priority(s, "exploited")["hosts"] == 2);
    assert!(audit_actions(&fleet)
        .iter()
        .any(|(action, target, _)| action == "finding.unsuppress" && target == EXPLOITED_CVE));
    let store = wardwatch_server::store::Store::open(&fleet.server.data.join("wardwatch.db"))
        .expect("open the server database");
    assert_eq!(store.audit_verify().unwrap(), None, "the audit chain holds");
}

#[test]
fn a_feed_that_cannot_be_used_is_refused_and_the_previous_one_stays_active() {
    let fleet = VulnFleet::start();
    let nurse = fleet.host("Ward 3 nurse station");
    let before = fleet.get_json("/api/vuln/findings?state=all&limit=1000");

    // Signed by the trusted publisher, but one OSV file has the wrong shape.
    let broken = br#"{"id":"WW-BROKEN-1","modified":"2025-07-01T00:00:00Z",
        "affected":[{"package":{"ecosystem":"Debian:12","name":"bash"},
          "ranges":[{"type":"ECOSYSTEM","events":"not a list"}]}]}"#;
    let bundle = feed_bundle(
        fleet.tmp.path(),
        &fleet.publisher,
        2,
        &[("osv/WW-BROKEN-1.json", broken.to_vec())],
    );
    let out = wardwatch(&[
        "bundle",
        "import",
        &bundle.to_string_lossy(),
        "--data",
        &fleet.data_arg(),
    ]);
    assert!(!out.status.success(), "imported: {}", text(&out));
    let message = text(&out);
    assert!(
        message.contains("WW-BROKEN-1.json") && message.contains("affected[0].ranges[0].events"),
        "the file and the JSON path: {message}"
    );
    assert!(message.contains("previous feed stays active"), "{message}");

    // Nothing changed: the feed in use, the installed bundle, the findings.
    std::thread::sleep(std::time::Duration::from_secs(6));
    let summary = fleet.get_json("/api/vuln/summary");
    assert_eq!(summary["feed"]["version"], 1, "{summary:#}");
    assert!(summary["feed"]["error"].is_null(), "{summary:#}");
    let after = fleet.get_json("/api/vuln/findings?state=all&limit=1000");
    assert_eq!(before["findings"], after["findings"]);
    let installed: i64 = fleet
        .server
        .db()
        .query_row(
            "SELECT MAX(version) FROM bundles WHERE kind = 'vuln-feed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(installed, 1);
    assert!(audit_actions(&fleet).iter().any(
        |(action, _, detail)| action == "bundle.refuse" && detail.contains("WW-BROKEN-1.json")
    ));

    // A usable version 3, uploaded in the console: the fleet is matched again at once,
    // and the new finding's history says the feed brought it.
    let bash = br#"{"id":"WW-2025-0003","modified":"2025-07-02T00:00:00Z",
        "database_specific":{"severity":"MEDIUM"},
        "affected":[{"package":{"ecosystem":"Debian:12","name":"bash"},
          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"5.2.15-2+b3"}]}]}]}"#;
    let v3 = feed_bundle(
        fleet.tmp.path(),
        &fleet.publisher,
        3,
        &[("osv/WW-2025-0003.json", bash.to_vec())],
    );
    let bytes = std::fs::read(&v3).unwrap();
    let status = fleet.rt.block_on(async {
        fleet
            .console
            .post(format!("{}/api/bundles", fleet.server.console_url))
            .header("cookie", &fleet.cookie)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);
    let summary = fleet.wait_matched(|s| s["feed"]["last_fleet_match"]["feed_version"] == 3);
    assert_eq!(summary["feed"]["version"], 3);
    let host = fleet.get_json(&format!("/api/hosts/{}/findings", nurse.id));
    assert!(
        host["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["advisory"] == "WW-2025-0003"
                && h["change"] == "appeared"
                && h["cause"] == "feed"),
        "{host:#}"
    );
}
