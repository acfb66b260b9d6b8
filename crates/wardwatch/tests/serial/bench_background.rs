//! `wardwatch bench background` runs a real user's program (tar | xz of a real tree)
//! alone and beside a real scheduled scan, with and without the governor, and prints a
//! row for each. Serial: it keeps every core busy on purpose.

use std::process::Command;

use crate::support::harness::BIN;

/// The columns of the row that starts with `label`.
fn row<'a>(report: &'a str, label: &str) -> Vec<&'a str> {
    report
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no row {label:?} in:\n{report}"))[label.len()..]
        .split_whitespace()
        .collect()
}

#[test]
fn the_background_bench_times_a_users_program_beside_the_scheduled_scan() {
    let _one = crate::support::serial::one_at_a_time();
    let out = Command::new(BIN)
        .args([
            "bench",
            "background",
            "--tree",
            "/usr/share/doc",
            "--user-tree",
            "/usr/share/zoneinfo",
            "--repeat",
            "1",
        ])
        .output()
        .expect("run wardwatch bench background");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alone = row(&report, "nothing");
    let seconds: f64 = alone[0].parse().unwrap();
    assert!(seconds > 0.0, "{report}");
    for label in [
        "scheduled scan, idle priority, no budget",
        "scheduled scan under the governor (defaults)",
    ] {
        let cols = row(&report, label);
        assert!(cols[0].parse::<f64>().unwrap() > 0.0, "{report}");
        // The scan ran beside the user's program: it read files.
        assert!(cols[4].parse::<u64>().unwrap() > 0, "{report}");
    }
}
