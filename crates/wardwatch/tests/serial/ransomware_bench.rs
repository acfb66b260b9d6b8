//! Every encryptor of `wardwatch bench ransomware` against the real guard on a small
//! corpus of hospital files: each is stopped with at most ten files changed, and the
//! alert names the encryptor's process and user; no benign workload raises an alarm.
//!
//! The bench makes its corpus under a temporary directory of its own and runs the guard
//! with `--only-descendants-of` itself, so nothing outside its process tree can be
//! stopped. Needs root (fanotify file system marks and permission events).

use std::process::Command;

use crate::support::harness::BIN;
use serde_json::Value;

/// The bound: CryptoDrop's median loss.
const MOST_FILES_CHANGED: u64 = 10;

fn require_root() {
    // SAFETY: geteuid(2) has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the ransomware bench needs root: fanotify file system marks need CAP_SYS_ADMIN"
    );
}

/// One bench at a time: the timing of an attack should not depend on another's load.
fn run_bench(extra: &[&str]) -> Value {
    let _one = crate::support::serial::one_at_a_time();
    let out = Command::new(BIN)
        .args([
            "bench",
            "ransomware",
            "--per-kind",
            "8",
            "--repeat",
            "1",
            "--wards",
            "1",
            "--json",
        ])
        .args(extra)
        .output()
        .expect("run wardwatch bench ransomware");
    assert!(
        out.status.success(),
        "bench failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON report in the bench output:\n{stdout}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("bad bench JSON ({e}): {line}"))
}

#[test]
fn every_encryptor_is_stopped_within_ten_files_and_no_benign_workload_alarms() {
    require_root();
    let report = run_bench(&[]);
    let corpus_files = report["corpus"]["files"].as_u64().unwrap_or(0);
    assert!(corpus_files >= 50, "corpus too small: {report}");
    let outcomes = report["outcomes"].as_array().expect("outcomes");

    let malicious: Vec<&Value> = outcomes.iter().filter(|o| o["malicious"] == true).collect();
    let names: Vec<&str> = malicious
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    for wanted in [
        "in-place",
        "new-file-delete",
        "rename-extension",
        "header-only",
        "intermittent",
        "encrypt-base64",
        "eight-threads",
        "process-per-file",
        "slow-1-file-per-second",
        "slow-1-file-per-30-seconds",
        "keep-header-images-and-office",
    ] {
        assert!(
            names.contains(&wanted),
            "scenario {wanted} missing: {names:?}"
        );
    }
    let mut failures = Vec::new();
    for o in &malicious {
        let name = o["name"].as_str().unwrap_or("?");
        let changed = o["files_changed"].as_u64().unwrap_or(u64::MAX);
        if o["detected"] != true {
            failures.push(format!("{name}: not stopped ({changed} files changed)"));
        }
        if changed > MOST_FILES_CHANGED {
            failures.push(format!("{name}: {changed} files changed before the stop"));
        }
        if changed == 0 {
            failures.push(format!("{name}: no file changed: the encryptor never ran"));
        }
        if o["right_process"] != true {
            failures.push(format!("{name}: the alert does not name the encryptor"));
        }
        if o["right_user"] != true {
            failures.push(format!("{name}: the alert does not name the user"));
        }
    }

    let benign: Vec<&Value> = outcomes
        .iter()
        .filter(|o| o["malicious"] == false)
        .collect();
    assert!(benign.len() >= 10, "benign workloads missing: {benign:?}");
    for wanted in [
        "Debian trees: cp -r per ward",
        "Debian trees: tar pipe per ward",
        "Debian trees: rsync per ward",
        "certificates copied (PEM)",
    ] {
        assert!(
            benign.iter().any(|o| o["name"] == wanted),
            "workload {wanted} missing"
        );
    }
    for o in &benign {
        let name = o["name"].as_str().unwrap_or("?");
        if let Some(reason) = o["skipped"].as_str() {
            // A slim image may leave out documentation; a missing tool is ours to install.
            if !reason.ends_with("is not on this machine") {
                failures.push(format!(
                    "{name}: skipped ({reason}); .ci/run installs every tool"
                ));
            }
        }
        let alarms = o["alarms"].as_u64().unwrap_or(u64::MAX);
        if alarms > 0 {
            failures.push(format!("{name}: {alarms} false alarm(s)"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\nreport: {report:#}");
}

#[test]
fn without_the_open_gate_the_guard_still_stops_a_single_threaded_encryptor() {
    require_root();
    let report = run_bench(&["--no-open-gate", "--only", "rename-extension"]);
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    assert_eq!(outcomes.len(), 1, "{report:#}");
    let o = &outcomes[0];
    assert_eq!(o["detected"], true, "{report:#}");
    assert_eq!(o["right_process"], true, "{report:#}");
}
