//! `bench_fleet` runs end to end and reports consistent figures. The full-size run
//! (10,000 hosts x 700 packages, 100,000 ranges) is `--ignored`: run it in release.

#![allow(clippy::unwrap_used)] // a test stops at the first thing that is not as expected

use wardwatch_bench::matching::bench_fleet;

#[test]
fn small_fleet() {
    let r = bench_fleet(40, 150, 3_000);
    assert_eq!(r.hosts, 40);
    assert!(r.ranges >= 3_000, "{}", r.ranges);
    assert!(r.build.entries > 0 && r.index_heap_bytes > 0);
    assert!(r.per_host_median <= r.per_host_p99 && r.per_host_p99 <= r.per_host_max);
    assert!(r.findings_total > 0);
    let shown = r.to_string();
    assert!(shown.contains("per host: median"), "{shown}");
    eprintln!("{shown}");
}

#[test]
#[ignore = "full size; run with --release -- --ignored"]
fn full_fleet() {
    // WARDWATCH_BENCH_HOSTS=200 for a shorter run (profiling).
    let hosts = std::env::var("WARDWATCH_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let r = bench_fleet(hosts, 700, 100_000);
    assert!(r.ranges >= 100_000);
    println!("{r}");
}
