//! `wardwatch vuln scan` on an unpacked file system: packages from its dpkg status file,
//! the release from its os-release, matched against the shared Debian tracker sample
//! and the CISA KEV catalog.

use std::path::Path;
use std::process::Command;

use crate::support::harness::BIN;

const TRACKER: &str = "../../../shared/data/debian-tracker/debian-tracker-sample.json";
const KEV: &str = "../../../shared/data/kev/known_exploited_vulnerabilities.json";

fn shared(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A bullseye root with chromium below the bullseye fix and txt2man at its fix.
fn bullseye_root(dir: &Path) {
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    std::fs::create_dir_all(dir.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        dir.join("etc/os-release"),
        "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("var/lib/dpkg/status"),
        "Package: chromium\nStatus: install ok installed\nArchitecture: amd64\nVersion: 97.0.4692.99-1~deb11u2\n\n\
         Package: txt2man\nStatus: install ok installed\nArchitecture: all\nVersion: 1.5.5-4.1\n\n",
    )
    .unwrap();
}

#[test]
fn scan_of_an_unpacked_root_finds_what_the_tracker_says_and_only_that() {
    let tmp = tempfile::tempdir().unwrap();
    bullseye_root(tmp.path());
    let out = Command::new(BIN)
        .args(["vuln", "scan", "--root"])
        .arg(tmp.path())
        .arg("--feed")
        .arg(shared(TRACKER))
        .arg("--feed")
        .arg(shared(KEV))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["packages"], 2, "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    let chromium: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["subject"]["name"] == "chromium")
        .collect();
    let fixed_in_bullseye = chromium
        .iter()
        .find(|f| {
            f["cves"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c == "CVE-2022-0456"))
        })
        .unwrap_or_else(|| panic!("CVE-2022-0456 not found: {report:#}"));
    assert_eq!(fixed_in_bullseye["remedy"]["kind"], "fixed-in");
    assert_eq!(
        fixed_in_bullseye["remedy"]["version"],
        "98.0.4758.80-1~deb11u1"
    );
    assert!(
        fixed_in_bullseye["why"]["comparison"]
            .as_str()
            .is_some_and(|w| w.contains("97.0.4692.99-1~deb11u2") && w.contains("<")),
        "{fixed_in_bullseye:#}"
    );
    // txt2man is at its fixed version: not vulnerable to CVE-2013-1444.
    assert!(
        !findings.iter().any(|f| f["subject"]["name"] == "txt2man"
            && f["cves"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c == "CVE-2013-1444"))),
        "{report:#}"
    );
}

#[test]
fn a_malformed_feed_is_refused_with_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    bullseye_root(tmp.path());
    let bad = tmp.path().join("tracker.json");
    std::fs::write(
        &bad,
        "{\"chromium\": {\"CVE-2022-0456\": {\"releases\": 7}}}",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["vuln", "scan", "--root"])
        .arg(tmp.path())
        .arg("--feed")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tracker.json"), "{err}");
    assert!(err.contains("releases"), "{err}");
}
