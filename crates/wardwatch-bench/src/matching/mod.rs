//! Whole-fleet measurements of the matcher, for `wardwatch bench match` and for the
//! criterion bench: how long re-matching every host takes after a feed update, how long
//! one host takes (median, p99), and how much memory the index holds.

mod workload;

use std::fmt;
use std::time::{Duration, Instant};

use crate::proc_figures::{cpu_seconds, status_kib, Process};

use serde::Serialize;

use wardwatch_vuln::matcher::{BuildReport, MatchIndex};
pub use workload::Workload;

/// The figures of one [`bench_fleet`] run. `Display` prints them for people.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub hosts: usize,
    pub packages_per_host: usize,
    /// Where package names and versions came from.
    pub package_origin: String,
    pub advisories: usize,
    /// `Range` values in the feed.
    pub ranges: usize,
    pub feed_generation: Duration,
    pub index_build: Duration,
    pub build: BuildReport,
    /// The index's heap, counted structure by structure.
    pub index_heap_bytes: usize,
    /// Growth of the process's resident memory while the index was built (VmRSS), where
    /// /proc is readable.
    pub index_rss_growth_bytes: Option<u64>,
    pub threads: usize,
    /// Wall time to match every host, on `threads` threads (host inventories are
    /// generated on the fly and that time is included; see `host_generation`).
    pub fleet_wall: Duration,
    /// Sum over hosts of the time spent in `match_host` alone.
    pub match_total: Duration,
    /// Sum over hosts of the time spent generating their inventories.
    pub host_generation: Duration,
    /// CPU time (user + system) the process spent during the fleet run, from
    /// /proc/self/stat; unlike wall times it does not grow when other work shares the CPUs.
    pub fleet_cpu: Option<Duration>,
    pub per_host_median: Duration,
    pub per_host_p99: Duration,
    pub per_host_max: Duration,
    pub findings_total: u64,
    pub findings_per_host_median: usize,
}

/// Generates a feed of at least `ranges` ranges and `hosts` hosts of `packages_per_host`
/// packages each, compiles the index and matches every host, timing each.
pub fn bench_fleet(hosts: usize, packages_per_host: usize, ranges: usize) -> FleetReport {
    let t = Instant::now();
    let workload = Workload::new(packages_per_host, ranges, 0x5EED_F1EE);
    let feed_generation = t.elapsed();

    let rss_before = status_kib(Process::This, "VmRSS").map(|kib| kib * 1024);
    let t = Instant::now();
    let index = MatchIndex::build(workload.feed());
    let index_build = t.elapsed();
    let rss_after = status_kib(Process::This, "VmRSS").map(|kib| kib * 1024);

    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(hosts.max(1));
    let cpu_before = cpu_seconds(Process::This).map(Duration::from_secs_f64);
    let t = Instant::now();
    let per_thread: Vec<Vec<(Duration, Duration, usize)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                let (index, workload) = (&index, &workload);
                scope.spawn(move || {
                    (w..hosts)
                        .step_by(threads)
                        .map(|h| {
                            let g = Instant::now();
                            let host = workload.host(h);
                            let generated = g.elapsed();
                            let m = Instant::now();
                            let findings = index.match_host(&host);
                            (m.elapsed(), generated, findings.len())
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let fleet_wall = t.elapsed();
    let fleet_cpu = cpu_seconds(Process::This)
        .map(Duration::from_secs_f64)
        .zip(cpu_before)
        .map(|(a, b)| a.saturating_sub(b));

    let samples: Vec<(Duration, Duration, usize)> = per_thread.into_iter().flatten().collect();
    let mut times: Vec<Duration> = samples.iter().map(|s| s.0).collect();
    times.sort_unstable();
    let mut counts: Vec<usize> = samples.iter().map(|s| s.2).collect();
    counts.sort_unstable();
    let pct = |p: usize| {
        times
            .get((times.len() * p / 100).min(times.len().saturating_sub(1)))
            .copied()
    };
    FleetReport {
        hosts,
        packages_per_host,
        package_origin: workload.package_origin.clone(),
        advisories: workload.feed().advisories.len(),
        ranges: workload.ranges,
        feed_generation,
        index_build,
        build: index.report().clone(),
        index_heap_bytes: index.heap_bytes(),
        index_rss_growth_bytes: rss_before.zip(rss_after).map(|(b, a)| a.saturating_sub(b)),
        threads,
        fleet_wall,
        match_total: samples.iter().map(|s| s.0).sum(),
        host_generation: samples.iter().map(|s| s.1).sum(),
        fleet_cpu,
        per_host_median: pct(50).unwrap_or_default(),
        per_host_p99: pct(99).unwrap_or_default(),
        per_host_max: times.last().copied().unwrap_or_default(),
        findings_total: counts.iter().map(|&c| c as u64).sum(),
        findings_per_host_median: counts.get(counts.len() / 2).copied().unwrap_or(0),
    }
}

impl fmt::Display for FleetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        writeln!(
            f,
            "feed: {} advisories, {} ranges (packages from {}), generated in {:.2?}",
            self.advisories, self.ranges, self.package_origin, self.feed_generation
        )?;
        writeln!(
            f,
            "index: built in {:.2?}; {} entries, {} spans, {} distinct versions; heap {:.1} MiB counted{}",
            self.index_build,
            self.build.entries,
            self.build.spans,
            self.build.versions,
            mib(self.index_heap_bytes as u64),
            match self.index_rss_growth_bytes {
                Some(b) => format!(", RSS +{:.1} MiB", mib(b)),
                None => String::new(),
            }
        )?;
        writeln!(
            f,
            "fleet: {} hosts x {} packages re-matched in {:.2?} on {} threads{} \
             (match_host total {:.2?}, inventory generation {:.2?})",
            self.hosts,
            self.packages_per_host,
            self.fleet_wall,
            self.threads,
            match self.fleet_cpu {
                Some(cpu) => format!(", {cpu:.2?} CPU"),
                None => String::new(),
            },
            self.match_total,
            self.host_generation
        )?;
        writeln!(
            f,
            "per host: median {:.3?}, p99 {:.3?}, max {:.3?}",
            self.per_host_median, self.per_host_p99, self.per_host_max
        )?;
        write!(
            f,
            "findings: {} in all, median {} per host",
            self.findings_total, self.findings_per_host_median
        )
    }
}
