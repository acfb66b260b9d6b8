//! `wardwatch bench background`: what the agent's background work costs the person at
//! the terminal. A user's program (tar of real trees Debian installed, compressed by xz on
//! every core) runs alone, then beside the scheduled scan of a real tree at idle CPU and
//! I/O priority without a budget (all of one CPU, never waiting), then beside the same
//! scan under the agent's governor with its defaults (a quarter of one CPU, waiting while
//! other programs use more than half of the CPUs). The runs alternate; the report gives
//! the user's elapsed time (median and range) and how far the scan got meanwhile.

use std::fmt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use wardwatch_os::governor::{Budget, Governor, Waited};
use wardwatch_scan::schedule::{run_pass, ScanCache, ScheduleOptions};
use wardwatch_scan::signatures::{load, SignatureSources};
use wardwatch_scan::walk::WalkOptions;
use wardwatch_sim::corpus;

use crate::stats::{median, range};

/// The agent's defaults (`--scheduled-scan-cpu`, `--yield-to-user-above`).
const DEFAULT_SCAN_CPU: u32 = 25;
const DEFAULT_YIELD_ABOVE: u32 = 50;

#[derive(Debug, Clone)]
pub struct BackgroundOptions {
    /// The tree the scheduled scan reads.
    pub tree: PathBuf,
    /// YARA rules for the scan (none: hash lists only, which costs little CPU).
    pub rules: Option<PathBuf>,
    /// The trees the user's program archives and compresses.
    pub user_trees: Vec<PathBuf>,
    /// Runs of each variant.
    pub repeat: usize,
}

/// What ran beside the user's program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Beside {
    Nothing,
    ScanWithoutBudget,
    ScanGoverned,
}

impl Beside {
    fn label(self) -> &'static str {
        match self {
            Beside::Nothing => "nothing",
            Beside::ScanWithoutBudget => "scheduled scan, idle priority, no budget",
            Beside::ScanGoverned => "scheduled scan under the governor (defaults)",
        }
    }
}

/// One run of the user's program.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    user_seconds: f64,
    scanned: u64,
    scan_cpu_seconds: f64,
    waited: Waited,
}

#[derive(Debug)]
pub struct BackgroundReport {
    options: BackgroundOptions,
    rows: Vec<(Beside, Vec<Run>)>,
}

/// Runs the benchmark; each variant `repeat` times, alternated.
pub fn background(options: &BackgroundOptions) -> anyhow::Result<BackgroundReport> {
    for tool in ["tar", "xz"] {
        anyhow::ensure!(
            corpus::which(tool).is_some(),
            "{tool} is needed for the user's program and is not installed"
        );
    }
    let sources = SignatureSources {
        rules: options.rules.iter().cloned().collect(),
        ..SignatureSources::default()
    };
    let (engine, _) = load(&sources).context("load the scan's rules")?;
    let engine = Arc::new(engine);
    let scratch = tempfile::tempdir().context("a scratch folder")?;
    let variants = [
        Beside::Nothing,
        Beside::ScanWithoutBudget,
        Beside::ScanGoverned,
    ];
    // Once unmeasured: the trees in the page cache for every timed run alike.
    user_program(&options.user_trees)?;
    let mut rows: Vec<(Beside, Vec<Run>)> = variants.iter().map(|v| (*v, Vec::new())).collect();
    let mut n = 0;
    for _ in 0..options.repeat.max(1) {
        for (beside, runs) in rows.iter_mut() {
            n += 1;
            let cache = scratch.path().join(format!("scan-cache-{n}.db"));
            runs.push(one_run(*beside, options, &engine, cache)?);
        }
    }
    Ok(BackgroundReport {
        options: options.clone(),
        rows,
    })
}

fn one_run(
    beside: Beside,
    options: &BackgroundOptions,
    engine: &Arc<wardwatch_detect::signatures::Engine>,
    cache: PathBuf,
) -> anyhow::Result<Run> {
    if beside == Beside::Nothing {
        let user_seconds = user_program(&options.user_trees)?;
        return Ok(Run {
            user_seconds,
            ..Run::default()
        });
    }
    let (cpu_percent, budget) = match beside {
        Beside::ScanGoverned => (
            DEFAULT_SCAN_CPU,
            Budget {
                read_bytes_per_second: None,
                yield_above_percent: Some(DEFAULT_YIELD_ABOVE),
            },
        ),
        _ => (100, Budget::default()),
    };
    let done = Arc::new(AtomicBool::new(false));
    let scan = {
        let done = done.clone();
        let engine = engine.clone();
        let tree = options.tree.clone();
        std::thread::spawn(move || -> anyhow::Result<Run> {
            wardwatch_os::process::lower_thread_to_idle();
            let cache = ScanCache::open(&cache)?;
            let schedule = ScheduleOptions {
                paths: vec![tree],
                walk: WalkOptions::default(),
                max_size: 256 << 20,
                cpu_percent,
                governor: Governor::new(budget),
                signatures_id: "bench".into(),
            };
            let cpu = wardwatch_os::process::thread_cpu_time();
            let stop = || done.load(Ordering::Relaxed);
            let report = run_pass(&engine, &cache, &schedule, &stop, &mut |_| {})?;
            Ok(Run {
                scanned: report.scanned,
                scan_cpu_seconds: (wardwatch_os::process::thread_cpu_time() - cpu).as_secs_f64(),
                waited: report.waited,
                ..Run::default()
            })
        })
    };
    // The scan starts first, as a scheduled pass would already be running.
    std::thread::sleep(Duration::from_millis(500));
    let user_seconds = user_program(&options.user_trees);
    done.store(true, Ordering::Relaxed);
    let scanned = scan
        .join()
        .map_err(|_| anyhow::anyhow!("the scan thread panicked"))??;
    Ok(Run {
        user_seconds: user_seconds?,
        ..scanned
    })
}

/// The user's program: tar of the trees, compressed by xz on every core; its elapsed
/// seconds.
fn user_program(trees: &[PathBuf]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut tar = Command::new("tar")
        .arg("-cf")
        .arg("-")
        .args(trees)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start tar")?;
    let input = tar.stdout.take().context("tar's output")?;
    let xz = Command::new("xz")
        .args(["-T0", "-3", "-c"])
        .stdin(input)
        .stdout(Stdio::null())
        .status()
        .context("run xz")?;
    let tar = tar.wait().context("wait for tar")?;
    anyhow::ensure!(xz.success(), "xz failed: {xz}");
    // tar exits 1 when a file changed while it read it; that is not the user's failure.
    anyhow::ensure!(tar.code().is_some_and(|c| c <= 1), "tar failed: {tar}");
    Ok(started.elapsed().as_secs_f64())
}

impl fmt::Display for BackgroundReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let trees: Vec<String> = self
            .options
            .user_trees
            .iter()
            .map(|t| t.display().to_string())
            .collect();
        writeln!(
            f,
            "user's program: tar | xz -T0 -3 of {} ({} runs of each row, alternated)",
            trees.join(" "),
            self.options.repeat.max(1)
        )?;
        writeln!(
            f,
            "scheduled scan: {} with {}",
            self.options.tree.display(),
            if self.options.rules.is_some() {
                "the given rules"
            } else {
                "no rules (hash lists only)"
            }
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<46} {:>8} {:>15} {:>8} {:>11} {:>10} {:>12} {:>12}",
            "beside the user's program",
            "user s",
            "(range)",
            "slower",
            "files read",
            "scan CPU s",
            "waited user",
            "waited budg"
        )?;
        let alone = self
            .rows
            .iter()
            .find(|(b, _)| *b == Beside::Nothing)
            .map(|(_, runs)| median(&mut runs.iter().map(|r| r.user_seconds).collect::<Vec<_>>()))
            .unwrap_or(0.0);
        for (beside, runs) in &self.rows {
            let mut user: Vec<f64> = runs.iter().map(|r| r.user_seconds).collect();
            let (lo, hi) = range(&user).unwrap_or_default();
            let med = median(&mut user);
            let slower = if *beside == Beside::Nothing || alone <= 0.0 {
                "-".to_string()
            } else {
                format!("{:+.1} %", (med / alone - 1.0) * 100.0)
            };
            let (scanned, cpu, waited_user, waited_budget) = if *beside == Beside::Nothing {
                ("-".into(), "-".into(), "-".into(), "-".into())
            } else {
                let m =
                    |f: &dyn Fn(&Run) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
                (
                    format!("{:.0}", m(&|r| r.scanned as f64)),
                    format!("{:.2}", m(&|r| r.scan_cpu_seconds)),
                    format!("{:.1} s", m(&|r| r.waited.for_user_ms as f64 / 1000.0)),
                    format!("{:.1} s", m(&|r| r.waited.for_budget_ms as f64 / 1000.0)),
                )
            };
            writeln!(
                f,
                "{:<46} {:>8.2} {:>15} {:>8} {:>11} {:>10} {:>12} {:>12}",
                beside.label(),
                med,
                format!("({lo:.2}-{hi:.2})"),
                slower,
                scanned,
                cpu,
                waited_user,
                waited_budget
            )?;
        }
        writeln!(f)?;
        write!(
            f,
            "user s: elapsed seconds of the user's program, median (range: fastest-slowest); files read: files the scan read while it ran; waited: medians of the scan's waits for the user and for its CPU budget"
        )
    }
}
