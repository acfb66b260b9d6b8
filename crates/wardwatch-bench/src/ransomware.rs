//! `wardwatch bench ransomware`: the guard against simulated encryptors and benign
//! workloads on a corpus of hospital files, one fresh copy of the corpus per scenario.
//!
//! Every process here is a child of the bench: the guard runs with
//! `--only-descendants-of <bench pid>`, so it can never act on anything else on the
//! machine, and every scenario works only in its own copy under the temporary directory.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::fresh_fs::FreshFs;
use crate::proc_figures::{cpu_seconds, Process};
use crate::stats::{median, range};
use wardwatch_sim::corpus;
use wardwatch_sim::encrypt::{self, Mode};

/// How the bench runs.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The `wardwatch` binary (the guard and the encryptors are run from it).
    pub exe: PathBuf,
    /// Files of each kind in the corpus.
    pub per_kind: usize,
    /// Only scenarios whose name contains one of these.
    pub only: Vec<String>,
    /// Runs of each benign workload with and without the guard; the median is reported,
    /// since sub-second workloads vary more run to run than the guard costs.
    pub repeat: usize,
    /// Run the guard without its open gate (to measure what the gate costs and gives).
    pub no_open_gate: bool,
    /// Copies of Debian's trees each real-tree workload makes (`$WARDS` in its script).
    pub wards: usize,
}

/// One encryptor scenario.
#[derive(Debug, Clone)]
pub struct Encryptor {
    pub name: String,
    pub mode: Mode,
    pub threads: usize,
    pub process_per_file: bool,
    pub delay_ms: u64,
    pub max_files: usize,
    /// Only files with these extensions (empty: all).
    pub only_ext: &'static [&'static str],
}

/// The encryptor scenarios of the bench.
pub fn encryptors() -> Vec<Encryptor> {
    let mut list: Vec<Encryptor> = Mode::ALL
        .into_iter()
        .map(|mode| Encryptor {
            name: mode.name().to_string(),
            mode,
            threads: 1,
            process_per_file: false,
            delay_ms: 0,
            max_files: 0,
            only_ext: &[],
        })
        .collect();
    list.push(Encryptor {
        name: "eight-threads".into(),
        mode: Mode::InPlace,
        threads: 8,
        process_per_file: false,
        delay_ms: 0,
        max_files: 0,
        only_ext: &[],
    });
    list.push(Encryptor {
        name: "process-per-file".into(),
        mode: Mode::InPlace,
        threads: 1,
        process_per_file: true,
        delay_ms: 0,
        max_files: 0,
        only_ext: &[],
    });
    list.push(Encryptor {
        name: "slow-1-file-per-second".into(),
        mode: Mode::InPlace,
        threads: 1,
        process_per_file: false,
        delay_ms: 1000,
        max_files: 30,
        only_ext: &[],
    });
    // Slower than the minute's window allows Kill: the long window must.
    list.push(Encryptor {
        name: "slow-1-file-per-30-seconds".into(),
        mode: Mode::InPlace,
        threads: 1,
        process_per_file: true,
        delay_ms: 30_000,
        max_files: 12,
        only_ext: &[],
    });
    // Only the formats random inside by design, their magic bytes kept.
    list.push(Encryptor {
        name: "keep-header-images-and-office".into(),
        mode: Mode::KeepHeader,
        threads: 1,
        process_per_file: false,
        delay_ms: 0,
        max_files: 0,
        only_ext: &["png", "jpg", "jpeg", "docx", "xlsx", "pptx", "odt", "zip"],
    });
    list
}

/// A benign workload: a shell command run in the corpus copy.
#[derive(Debug, Clone)]
pub struct Benign {
    pub name: &'static str,
    pub needs: &'static [&'static str],
    /// Directories of this machine the workload reads (skipped when one is missing).
    pub reads: &'static [&'static str],
    pub script: &'static str,
}

/// Trees Debian installs, made by nobody here: documentation (a `copyright` and a
/// `changelog.Debian.gz` in each of thousands of folders), translations (the same
/// `LC_MESSAGES/*.mo` names in every language), manual pages, a Python library (an
/// `__init__.py` in every package, many empty) and the time zone database.
pub const DEBIAN_TREES: &[&str] = &[
    "/usr/share/doc",
    "/usr/share/locale",
    "/usr/share/man",
    "/usr/lib/python3",
    "/usr/share/zoneinfo",
];

/// The benign workloads of the bench; each must raise no alarm.
pub fn benign_workloads() -> Vec<Benign> {
    vec![
        Benign {
            name: "tar+zstd backup",
            reads: &[],
            needs: &["tar", "zstd"],
            script: "tar -I zstd -cf backup.tar.zst radiology outpatient ward3 lab billing",
        },
        Benign {
            name: "xz in place",
            reads: &[],
            needs: &["xz"],
            script: "find . -name '*.csv' -exec xz {} +",
        },
        Benign {
            name: "zip archive",
            reads: &[],
            needs: &["zip"],
            script: "zip -qr export.zip radiology outpatient",
        },
        Benign {
            name: "gpg 3 files, originals kept",
            reads: &[],
            needs: &["gpg"],
            script: "export GNUPGHOME=$(mktemp -d); for f in $(find . -name '*.pdf' | head -n 3); do gpg --batch --yes --pinentry-mode loopback --passphrase secret --symmetric \"$f\"; done; rm -rf \"$GNUPGHOME\"",
        },
        Benign {
            name: "7z 3 files, originals kept",
            reads: &[],
            needs: &["7z"],
            script: "for f in $(find . -name '*.pdf' | head -n 3); do 7z a -bd -y -psecret -mhe=on \"$f.7z\" \"$f\" >/dev/null; done",
        },
        Benign {
            name: "image conversion",
            reads: &[],
            needs: &["mogrify"],
            script: "mkdir -p thumbs && find . -name 'photo-*.png' | head -n 20 | xargs -r mogrify -path thumbs -format jpg -resize 50% && find . -path ./thumbs -prune -o -name 'photo-*.jpg' -print | head -n 20 | xargs -r mogrify -resize 80%",
        },
        Benign {
            name: "DICOM decompression (dcmtk)",
            reads: &[],
            needs: &["dcmdjpeg"],
            script: "for f in $(find . -name 'ct-*.dcm' | head -n 20); do dcmdjpeg \"$f\" \"$f.tmp\" && mv \"$f.tmp\" \"$f\"; done",
        },
        Benign {
            name: "copy tree",
            reads: &[],
            needs: &["cp"],
            script: "cp -r radiology radiology-copy && cp -r lab lab-copy",
        },
        Benign {
            name: "one folder copied to 3 wards",
            reads: &[],
            needs: &["cp"],
            script: "for d in ward-a ward-b ward-c; do cp -r outpatient \"$d\"; done",
        },
        Benign {
            name: "rsync mirror",
            reads: &[],
            needs: &["rsync"],
            script: "rsync -a ward3/ ward3-mirror/",
        },
        Benign {
            name: "git commit and checkout",
            reads: &[],
            needs: &["git"],
            script: "git init -q repo && cp -r billing repo/ && cd repo && git add -A && git -c user.name=t -c user.email=t@t commit -qm one && for f in $(find billing -type f | head -n 20); do echo extra >> \"$f\"; done && git add -A && git -c user.name=t -c user.email=t@t commit -qm two && git checkout -q HEAD~1 -- .",
        },
        Benign {
            name: "build (cc)",
            reads: &[],
            needs: &["cc"],
            script: "mkdir -p build && cd build && for i in $(seq 1 20); do printf 'int f%s(int x){return x*%s;}\\n' $i $i > m$i.c; cc -O1 -c m$i.c -o m$i.o; done",
        },
        Benign {
            name: "gzip logs",
            reads: &[],
            needs: &["gzip"],
            script: "mkdir -p logs && for i in $(seq 1 30); do seq 1 2000 | sed \"s/^/2026-11-23 ward3 event /\" > logs/app$i.log; done && gzip logs/*.log",
        },
        // Real trees, each copied to `$WARDS` wards (6 by default): tens of thousands of
        // small files per copy, folders holding files of one name and size, long enough
        // (10 s and more) for the overhead to stand out of the noise.
        Benign {
            name: "Debian trees: cp -r per ward",
            reads: DEBIAN_TREES,
            needs: &["cp"],
            script: "for w in $(seq 1 \"$WARDS\"); do mkdir copy$w && cp -r /usr/share/doc /usr/share/locale /usr/share/man /usr/lib/python3 /usr/share/zoneinfo copy$w/; done",
        },
        Benign {
            name: "Debian trees: tar pipe per ward",
            reads: DEBIAN_TREES,
            needs: &["tar"],
            script: "for w in $(seq 1 \"$WARDS\"); do mkdir copy$w && tar -C / -cf - usr/share/doc usr/share/locale usr/share/man usr/lib/python3 usr/share/zoneinfo | tar -C copy$w -xf -; done",
        },
        Benign {
            name: "Debian trees: rsync per ward",
            reads: DEBIAN_TREES,
            needs: &["rsync"],
            script: "for w in $(seq 1 \"$WARDS\"); do rsync -a /usr/share/doc /usr/share/locale /usr/share/man /usr/lib/python3 /usr/share/zoneinfo copy$w/; done",
        },
        Benign {
            name: "Debian trees: zip, then unzip twice",
            reads: DEBIAN_TREES,
            needs: &["zip", "unzip"],
            script: "zip -qr trees.zip /usr/share/doc /usr/share/locale /usr/share/man /usr/lib/python3 /usr/share/zoneinfo && for w in 1 2; do mkdir unzipped$w && (cd unzipped$w && unzip -q ../trees.zip); done",
        },
        Benign {
            name: "Debian docs: git commit, remove, check out",
            reads: &["/usr/share/doc", "/usr/share/man"],
            needs: &["git"],
            script: "git init -q repo && cp -r /usr/share/doc /usr/share/man repo/ && cd repo && git add -A && git -c user.name=t -c user.email=t@t commit -qm docs && git rm -rq doc man && git -c user.name=t -c user.email=t@t commit -qm gone && git checkout -q HEAD~1 -- . && git checkout -q -b again && git status --short | wc -l",
        },
        Benign {
            name: "certificates copied (PEM)",
            reads: &["/etc/ssl/certs"],
            needs: &["cp"],
            script: "for w in 1 2 3; do cp -rL /etc/ssl/certs certs$w; done",
        },
    ]
}

/// What one scenario gave.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub name: String,
    pub malicious: bool,
    pub skipped: Option<String>,
    pub detected: bool,
    pub files_changed: usize,
    pub first_write_to_alert_ms: Option<i64>,
    pub first_write_to_stop_ms: Option<i64>,
    pub right_process: Option<bool>,
    pub right_user: Option<bool>,
    pub alarms: usize,
    pub seconds_with_guard: f64,
    pub seconds_without_guard: Option<f64>,
    /// Fastest and slowest run, with and without the guard: the spread the medians
    /// hide.
    pub range_with_guard: Option<(f64, f64)>,
    pub range_without_guard: Option<(f64, f64)>,
    /// CPU seconds (user + system) of the workload itself, median, with and without
    /// the guard: the gate's waits and the kernel's event work show here, and CPU time
    /// varies far less than elapsed time on a busy machine.
    pub workload_cpu_with_guard: Option<f64>,
    pub workload_cpu_without_guard: Option<f64>,
    /// CPU seconds the guard spent during the workload, median.
    pub guard_cpu: Option<f64>,
}

/// A running guard and the alert lines it printed.
struct Guard {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Guard {
    fn start(options: &BenchOptions, dir: &Path) -> anyhow::Result<Guard> {
        let mut child = Command::new(&options.exe)
            .arg("guard")
            .arg("--path")
            .arg(dir)
            .args(options.no_open_gate.then_some("--no-open-gate"))
            .args(["--respond", "kill", "--only-descendants-of"])
            .arg(std::process::id().to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("start the guard")?;
        let stdout = child.stdout.take().context("guard stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .context("the guard did not report ready within 60 s")?;
            if line.contains("\"ready\"") {
                break;
            }
        }
        Ok(Guard { child, lines: rx })
    }

    /// Stops the guard (SIGTERM: it removes its canaries) and returns the alerts it
    /// printed.
    fn finish(mut self) -> Vec<serde_json::Value> {
        std::thread::sleep(Duration::from_millis(800));
        self.stop();
        self.lines
            .try_iter()
            .filter_map(|l| serde_json::from_str(&l).ok())
            .filter(|v: &serde_json::Value| v.get("ready").is_none())
            .collect()
    }

    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = wardwatch_os::process::terminate_child(&self.child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Guard {
    /// A scenario that fails early must not leave its guard running.
    fn drop(&mut self) {
        self.stop();
    }
}

fn current_user() -> String {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_default();
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
            })
        })
        .unwrap_or(uid)
}

/// Files of the pristine corpus that are missing or different in `work`.
fn changed_files(pristine: &corpus::Snapshot, work: &Path) -> usize {
    let now = corpus::snapshot(work);
    pristine
        .iter()
        .filter(|(path, hash)| now.get(*path) != Some(hash))
        .count()
}

fn run_encryptor(
    options: &BenchOptions,
    pristine_dir: &Path,
    pristine: &corpus::Snapshot,
    scenario: &Encryptor,
    scratch: &Path,
) -> anyhow::Result<Outcome> {
    let work = scratch.join(format!("enc-{}", scenario.name));
    corpus::copy_tree(pristine_dir, &work)?;
    encrypt::mark(&work)?;
    let guard = Guard::start(options, &work)?;
    let started = Instant::now();
    let mut child = Command::new(&options.exe)
        .args(["simulate", "encrypt", "--dir"])
        .arg(&work)
        .args(["--mode", scenario.mode.name()])
        .args(["--threads", &scenario.threads.to_string()])
        .args(["--delay-ms", &scenario.delay_ms.to_string()])
        .args(["--max-files", &scenario.max_files.to_string()])
        .args(if scenario.only_ext.is_empty() {
            Vec::new()
        } else {
            vec!["--only-ext".to_string(), scenario.only_ext.join(",")]
        })
        .args(if scenario.process_per_file {
            &["--process-per-file"][..]
        } else {
            &[][..]
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start the encryptor")?;
    let encryptor_pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(420);
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let seconds = started.elapsed().as_secs_f64();
    let alerts = guard.finish();
    let files_changed = changed_files(pristine, &work);
    let acted: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| {
            a.pointer("/action/kind")
                .and_then(|v| v.as_str())
                .is_some_and(|k| k == "killed" || k == "suspended")
        })
        .collect();
    let first = acted.first().copied().or(alerts.first());
    let timing = |field: &str| -> Option<i64> {
        let a = first?;
        Some(
            a.pointer(&format!("/times/{field}"))?.as_i64()?
                - a.pointer("/times/first_event")?.as_i64()?,
        )
    };
    let user = current_user();
    let outcome = Outcome {
        name: scenario.name.clone(),
        malicious: true,
        skipped: None,
        detected: !acted.is_empty(),
        files_changed,
        first_write_to_alert_ms: timing("alert"),
        first_write_to_stop_ms: timing("action"),
        right_process: first.map(|a| {
            a.pointer("/process/pid").and_then(|v| v.as_u64()) == Some(u64::from(encryptor_pid))
        }),
        right_user: first
            .map(|a| a.pointer("/process/user").and_then(|v| v.as_str()) == Some(user.as_str())),
        alarms: alerts.len(),
        seconds_with_guard: seconds,
        seconds_without_guard: None,
        range_with_guard: None,
        range_without_guard: None,
        workload_cpu_with_guard: None,
        workload_cpu_without_guard: None,
        guard_cpu: None,
    };
    let _ = std::fs::remove_dir_all(&work);
    Ok(outcome)
}

/// CPU seconds (user + system) of the children this process has waited for.
fn children_cpu_seconds() -> f64 {
    wardwatch_os::process::children_cpu_time()
        .map(|t| t.as_secs_f64())
        .unwrap_or(0.0)
}

/// Runs a workload script; returns (elapsed seconds, CPU seconds of the workload).
fn run_script(dir: &Path, script: &str, wards: usize) -> anyhow::Result<(f64, f64)> {
    // The writeback of the run before (and of its removal) must not fall on this one:
    // on a terminal's disk it made the same copy take from 11 to 44 s.
    settle_disk();
    let cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("WARDS", wards.max(1).to_string())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status.success(),
        "workload failed ({}): {script}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    Ok((seconds, children_cpu_seconds() - cpu_before))
}

/// Writes every dirty page to disk (untimed), so each run starts from a clean cache.
fn settle_disk() {
    // Without sync the runs are only noisier, never wrong: its failure is not fatal.
    let _ = Command::new("sync").status();
}

/// Where one timed run works: the folder `name` on a file system made for the run when
/// `fresh_fs`, else in the scratch folder. The file system, if any, lives as long as
/// the returned guard.
fn run_place(
    scratch: &Path,
    name: &str,
    fresh_fs: bool,
) -> anyhow::Result<(PathBuf, Option<FreshFs>)> {
    if fresh_fs {
        let fs = FreshFs::create(scratch, name)?;
        Ok((fs.path().join("corpus"), Some(fs)))
    } else {
        Ok((scratch.join(name), None))
    }
}

fn run_benign(
    options: &BenchOptions,
    pristine_dir: &Path,
    workload: &Benign,
    scratch: &Path,
    fresh_fs: bool,
) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome {
        name: workload.name.to_string(),
        malicious: false,
        skipped: None,
        detected: false,
        files_changed: 0,
        first_write_to_alert_ms: None,
        first_write_to_stop_ms: None,
        right_process: None,
        right_user: None,
        alarms: 0,
        seconds_with_guard: 0.0,
        seconds_without_guard: None,
        range_with_guard: None,
        range_without_guard: None,
        workload_cpu_with_guard: None,
        workload_cpu_without_guard: None,
        guard_cpu: None,
    };
    if let Some(missing) = workload.needs.iter().find(|t| corpus::which(t).is_none()) {
        outcome.skipped = Some(format!("{missing} is not installed"));
        return Ok(outcome);
    }
    if let Some(missing) = workload.reads.iter().find(|d| !Path::new(d).is_dir()) {
        outcome.skipped = Some(format!("{missing} is not on this machine"));
        return Ok(outcome);
    }
    // Alternate runs without and with the guard, each on a fresh copy, so that cache
    // warmth and background load fall on both sides alike.
    let mut plain_times = Vec::new();
    let mut guarded_times = Vec::new();
    let mut plain_cpu = Vec::new();
    let mut guarded_cpu = Vec::new();
    let mut guard_cpu = Vec::new();
    for _ in 0..options.repeat.max(1) {
        let (plain, plain_fs) = run_place(scratch, "benign-plain", fresh_fs)?;
        corpus::copy_tree(pristine_dir, &plain)?;
        let (seconds, cpu) = run_script(&plain, workload.script, options.wards)?;
        plain_times.push(seconds);
        plain_cpu.push(cpu);
        let _ = std::fs::remove_dir_all(&plain);
        drop(plain_fs);

        let (work, work_fs) = run_place(scratch, "benign-guarded", fresh_fs)?;
        corpus::copy_tree(pristine_dir, &work)?;
        encrypt::mark(&work)?;
        let guard = Guard::start(options, &work)?;
        let guard_cpu_before = cpu_seconds(Process::Pid(guard.child.id()));
        let (seconds, cpu) = run_script(&work, workload.script, options.wards)?;
        // The guard finishes with what the workload queued before it is measured.
        std::thread::sleep(Duration::from_millis(300));
        if let (Some(before), Some(after)) = (
            guard_cpu_before,
            cpu_seconds(Process::Pid(guard.child.id())),
        ) {
            guard_cpu.push(after - before);
        }
        guarded_times.push(seconds);
        guarded_cpu.push(cpu);
        let alerts = guard.finish();
        outcome.alarms += alerts.len();
        let _ = std::fs::remove_dir_all(&work);
        drop(work_fs);
    }
    outcome.detected = outcome.alarms > 0;
    outcome.range_without_guard = range(&plain_times);
    outcome.range_with_guard = range(&guarded_times);
    outcome.seconds_without_guard = Some(median(&mut plain_times));
    outcome.seconds_with_guard = median(&mut guarded_times);
    outcome.workload_cpu_without_guard = Some(median(&mut plain_cpu));
    outcome.workload_cpu_with_guard = Some(median(&mut guarded_cpu));
    outcome.guard_cpu = (!guard_cpu.is_empty()).then(|| median(&mut guard_cpu));
    Ok(outcome)
}

/// What a run of the bench found, and where its benign workloads ran.
pub struct BenchReport {
    pub corpus: corpus::CorpusSummary,
    pub outcomes: Vec<Outcome>,
    /// `None` when each timed run had a file system of its own; else why not.
    pub shared_fs: Option<String>,
}

/// Runs the whole bench and returns one outcome per scenario.
pub fn run(options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let scratch = tempfile::tempdir()?;
    let pristine_dir = scratch.path().join("pristine");
    std::fs::create_dir_all(&pristine_dir)?;
    let summary = corpus::build(&pristine_dir, options.per_kind)?;
    let pristine = corpus::snapshot(&pristine_dir);
    let wanted = |name: &str| {
        options.only.is_empty() || options.only.iter().any(|o| name.contains(o.as_str()))
    };
    let mut outcomes = Vec::new();
    for scenario in encryptors().iter().filter(|s| wanted(&s.name)) {
        outcomes.push(run_encryptor(
            options,
            &pristine_dir,
            &pristine,
            scenario,
            scratch.path(),
        )?);
    }
    let benign: Vec<Benign> = benign_workloads()
        .into_iter()
        .filter(|w| wanted(w.name))
        .collect();
    let shared_fs = if benign.is_empty() {
        None
    } else {
        FreshFs::available(scratch.path())
            .err()
            .map(|e| format!("{e:#}"))
    };
    for workload in &benign {
        outcomes.push(run_benign(
            options,
            &pristine_dir,
            workload,
            scratch.path(),
            shared_fs.is_none(),
        )?);
    }
    Ok(BenchReport {
        corpus: summary,
        outcomes,
        shared_fs,
    })
}

/// The table the bench prints.
pub fn render(report: &BenchReport) -> String {
    let (summary, outcomes) = (&report.corpus, &report.outcomes);
    let mut out = String::new();
    let kinds: Vec<String> = summary
        .by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        out,
        "corpus: {} files, {:.1} MiB ({})",
        summary.files,
        summary.bytes as f64 / 1048576.0,
        kinds.join(", ")
    );
    let _ = writeln!(
        out,
        "\n{:<26} {:>8} {:>8} {:>10} {:>10} {:>8} {:>6}",
        "encryptor", "stopped", "changed", "alert ms", "stop ms", "process", "user"
    );
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "right",
        Some(false) => "WRONG",
        None => "-",
    };
    let ms = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    for o in outcomes.iter().filter(|o| o.malicious) {
        let _ = writeln!(
            out,
            "{:<26} {:>8} {:>8} {:>10} {:>10} {:>8} {:>6}",
            o.name,
            if o.detected { "yes" } else { "NO" },
            o.files_changed,
            ms(o.first_write_to_alert_ms),
            ms(o.first_write_to_stop_ms),
            yes_no(o.right_process),
            yes_no(o.right_user)
        );
    }
    let _ = writeln!(
        out,
        "\n{:<44} {:>6} {:>9} {:>15} {:>9} {:>15} {:>9} {:>9} {:>9} {:>9}",
        "benign workload",
        "alarms",
        "s guard",
        "(range)",
        "s none",
        "(range)",
        "overhead",
        "cpu guard",
        "cpu none",
        "guard cpu"
    );
    let secs = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
    let spread = |v: Option<(f64, f64)>| {
        v.map(|(a, b)| format!("({a:.2}-{b:.2})"))
            .unwrap_or_else(|| "-".into())
    };
    for o in outcomes.iter().filter(|o| !o.malicious) {
        if let Some(reason) = &o.skipped {
            let _ = writeln!(out, "{:<44} skipped: {reason}", o.name);
            continue;
        }
        let overhead = o
            .seconds_without_guard
            .filter(|s| *s > 0.0)
            .map(|s| format!("{:+.1} %", (o.seconds_with_guard / s - 1.0) * 100.0))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<44} {:>6} {:>9.3} {:>15} {:>9.3} {:>15} {:>9} {:>9} {:>9} {:>9}",
            o.name,
            o.alarms,
            o.seconds_with_guard,
            spread(o.range_with_guard),
            o.seconds_without_guard.unwrap_or(0.0),
            spread(o.range_without_guard),
            overhead,
            secs(o.workload_cpu_with_guard),
            secs(o.workload_cpu_without_guard),
            secs(o.guard_cpu),
        );
    }
    let _ = writeln!(
        out,
        "\ns: elapsed seconds, median of the runs (range: fastest-slowest), runs with and without the guard alternated; cpu: user + system seconds of the workload; guard cpu: seconds the guard used meanwhile (medians)"
    );
    if outcomes.iter().any(|o| !o.malicious && o.skipped.is_none()) {
        let _ = match &report.shared_fs {
            None => writeln!(out, "each timed run on a new ext4 file system of its own"),
            Some(why) => writeln!(
                out,
                "the timed runs share the scratch folder's file system, so each follows the removal of the one before and they vary more (a file system per run needs: {why})"
            ),
        };
    }
    out
}
