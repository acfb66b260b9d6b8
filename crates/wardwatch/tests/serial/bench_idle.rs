//! `wardwatch bench idle` measures a real agent (guard on, in this serial suite since the
//! guard marks whole file systems) and prints figures read from `/proc`.

use std::process::Command;

use crate::support::harness::BIN;

/// The number after `label` on the line that starts with it.
fn figure(report: &str, label: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label} line in:\n{report}"));
    line.trim_start()[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label} in: {line}"))
}

#[test]
fn the_idle_bench_measures_a_real_agent_guarding_a_real_tree() {
    let _one = crate::support::serial::one_at_a_time();
    let out = Command::new(BIN)
        .args([
            "bench",
            "idle",
            "--tree",
            "/usr/share/doc",
            "--settle",
            "3",
            "--seconds",
            "3",
        ])
        .output()
        .expect("run wardwatch bench idle");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(figure(&report, "guarded:") > 100.0, "{report}");
    let cpu = figure(&report, "CPU:");
    assert!((0.0..3.0).contains(&cpu), "{report}");
    // A live agent's resident memory, not a zero from a process that was gone.
    assert!(figure(&report, "memory:") > 2.0, "{report}");
    assert!(report.contains("% of one core"), "{report}");
}
