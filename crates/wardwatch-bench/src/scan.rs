//! `wardwatch bench scan`: wardwatch's scanner against Debian's `yara -r` and
//! `clamscan -r` on the same tree, with the same rules and hash lists, in one run.
//!
//! Every engine, wardwatch included, runs as a child process and is measured the same
//! way: wall time around the child, and its CPU time and peak RSS from `wait4(2)`. One
//! untimed round warms the page cache first, then `repeat` rounds run every engine in
//! turn (so that a slow drift of the machine hits them all alike) and the median of
//! each figure is reported. A peer that is not installed, or that cannot load the
//! rules, is reported as such and the bench goes on.
//!
//! Start-up is measured apart: every engine also runs, the same number of times, on one
//! empty file with the same signatures, and the table shows that time beside the whole
//! run. wardwatch keeps its compiled rules (`STATE/rules-cache`), so its timed runs load
//! them; yara is run twice, compiling the rule files on every run as its usual command
//! line does, and with the rules compiled once by `yarac` (`yara -C`), its own way of
//! not compiling again.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Files larger than this are skipped by every engine (wardwatch's default).
const MAX_SIZE_MIB: u64 = 256;
/// Synthetic entries in the hash list generated when none is given.
const SYNTHETIC_HASHES: usize = 100_000;
/// A file every Debian system has; its real hash goes into the generated list, so that
/// the engines that take hash lists must report it.
const KNOWN_SAMPLE: &str = "/usr/bin/true";
/// Detections listed in the text report (all of them are in `--json`).
const LISTED_DETECTIONS: usize = 40;

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The wardwatch binary (`std::env::current_exe()`), run as `EXE scan …`.
    pub exe: PathBuf,
    /// A directory of `.yar` / `.yara` files.
    pub rules: PathBuf,
    /// The tree to scan.
    pub path: PathBuf,
    /// Hash lists; a list is generated when empty.
    pub hashes: Vec<PathBuf>,
    /// Scanner threads for wardwatch and yara (default: one per CPU).
    pub threads: Option<usize>,
    /// Timed runs of each engine; the median is reported.
    pub repeat: usize,
}

/// The engines compared, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// wardwatch with the rules and the hash lists.
    Wardwatch,
    /// wardwatch with the rules alone: the same work as yara's.
    WardwatchRulesOnly,
    Yara,
    /// yara with the rules compiled once by `yarac`.
    YaraCompiled,
    Clamscan,
}

impl EngineKind {
    const ALL: [EngineKind; 5] = [
        EngineKind::Wardwatch,
        EngineKind::WardwatchRulesOnly,
        EngineKind::Yara,
        EngineKind::YaraCompiled,
        EngineKind::Clamscan,
    ];

    fn label(self) -> &'static str {
        match self {
            EngineKind::Wardwatch => "wardwatch",
            EngineKind::WardwatchRulesOnly => "wardwatch (rules only)",
            EngineKind::Yara => "yara (rules only)",
            EngineKind::YaraCompiled => "yara -C (yarac'd rules)",
            EngineKind::Clamscan => "clamscan",
        }
    }
}

/// One timed run of one engine.
#[derive(Debug, Clone, Serialize)]
pub struct RunFigures {
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_kib: u64,
}

/// What an engine's output said it did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Parsed {
    /// Files scanned, when the engine reports it.
    pub files: Option<u64>,
    /// Bytes scanned, when the engine reports it.
    pub bytes: Option<u64>,
    /// Signatures loaded, when the engine reports it.
    pub signatures: Option<u64>,
    /// Flagged path → the names of what matched it.
    pub detections: BTreeMap<String, Vec<String>>,
    /// Files the engine says it could not scan.
    pub errors: u64,
}

impl Parsed {
    fn hits(&self) -> usize {
        self.detections.values().map(Vec::len).sum()
    }
}

/// One engine's line in the report.
#[derive(Debug, Clone, Serialize)]
pub struct EngineRow {
    pub engine: EngineKind,
    pub version: Option<String>,
    /// Why there are no figures (not installed, rules rejected, run failed).
    pub unavailable: Option<String>,
    /// Files and bytes are wardwatch's (rules only) count: the engine reports none.
    pub counts_borrowed: bool,
    pub runs: Vec<RunFigures>,
    pub median: Option<RunFigures>,
    /// Runs on one empty file with the same signatures: the start-up (loading or
    /// compiling the signatures) alone.
    pub startup_runs: Vec<RunFigures>,
    pub startup: Option<RunFigures>,
    /// The output of the last timed run.
    pub parsed: Parsed,
}

impl EngineRow {
    fn files(&self) -> Option<u64> {
        self.parsed.files
    }

    fn bytes(&self) -> Option<u64> {
        self.parsed.bytes
    }
}

/// Everything the bench measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub path: PathBuf,
    pub rules: PathBuf,
    pub rule_files: Vec<PathBuf>,
    /// The hash lists given, or a description of the generated one.
    pub hashes: Vec<String>,
    pub threads: usize,
    pub repeat: usize,
    pub max_size_mib: u64,
    /// Seconds wardwatch's start-up took when it compiled the rules (the first run), and
    /// yarac's compile: what the cached start-ups save.
    pub wardwatch_compile_seconds: Option<f64>,
    pub yarac_seconds: Option<f64>,
    pub rows: Vec<EngineRow>,
    pub notes: Vec<String>,
}

/// Runs the benchmark.
pub fn run(options: &BenchOptions) -> Result<BenchReport> {
    let repeat = options.repeat.max(1);
    let threads = options.threads.unwrap_or_else(default_threads).max(1);
    let work = tempfile::Builder::new()
        .prefix("wardwatch-bench-scan-")
        .tempdir()
        .context("creating the bench's temporary directory")?;
    let mut notes = Vec::new();
    let rule_files = rule_files(&options.rules)?;
    if rule_files.is_empty() {
        bail!("no .yar or .yara files in {}", options.rules.display());
    }
    let (hashes, hash_labels) = if options.hashes.is_empty() {
        let (path, label) = generate_hash_list(work.path())?;
        (vec![path], vec![label])
    } else {
        let labels = options.hashes.iter().map(|p| p.display().to_string());
        (options.hashes.clone(), labels.collect())
    };
    let empty = work.path().join("empty-file");
    File::create(&empty).context("creating the empty file for start-up runs")?;
    let state = work.path().join("wardwatch-state");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&state)
        .context("creating wardwatch's state folder")?;
    let setup = Setup {
        options,
        threads,
        rule_files: &rule_files,
        hashes: &hashes,
        work: work.path(),
        state: &state,
        empty: &empty,
    };
    let (mut engines, yarac_seconds) = prepare_engines(&setup, &mut notes)?;
    // The first wardwatch start compiles the rules and keeps them: timed apart.
    let wardwatch_compile_seconds = engines
        .iter_mut()
        .find(|e| e.row.engine == EngineKind::Wardwatch && e.command.is_some())
        .and_then(|e| match e.run_startup(work.path()) {
            Ok(figures) => Some(figures.wall_seconds),
            Err(e) => {
                notes.push(format!("wardwatch's first start-up failed: {e:#}"));
                None
            }
        });
    // Warm-up round: fills the page cache so that no engine pays for the first read.
    for engine in engines.iter_mut().filter(|e| e.command.is_some()) {
        if let Err(e) = engine.run_once(work.path()) {
            engine.fail(format!("warm-up run failed: {e:#}"));
        }
    }
    for _ in 0..repeat {
        for engine in engines.iter_mut().filter(|e| e.command.is_some()) {
            // wardwatch drops what it read from the page cache (a terminal's users keep
            // theirs): every engine starts from a warm cache, so none pays for that.
            warm_page_cache(&options.path);
            match engine.run_once(work.path()) {
                Ok((figures, parsed)) => {
                    engine.row.runs.push(figures);
                    engine.row.parsed = parsed;
                }
                Err(e) => engine.fail(format!("run failed: {e:#}")),
            }
        }
        for engine in engines.iter_mut().filter(|e| e.command.is_some()) {
            match engine.run_startup(work.path()) {
                Ok(figures) => engine.row.startup_runs.push(figures),
                Err(e) => engine.fail(format!("start-up run failed: {e:#}")),
            }
        }
    }
    let mut rows: Vec<EngineRow> = engines.into_iter().map(|e| e.row).collect();
    for row in &mut rows {
        row.median = median(&row.runs);
        row.startup = median(&row.startup_runs);
    }
    borrow_counts(&mut rows);
    notes.extend(standing_notes(threads, repeat));
    Ok(BenchReport {
        path: options.path.clone(),
        rules: options.rules.clone(),
        rule_files,
        hashes: hash_labels,
        threads,
        repeat,
        max_size_mib: MAX_SIZE_MIB,
        wardwatch_compile_seconds,
        yarac_seconds,
        rows,
        notes,
    })
}

/// Reads every regular file below `path` (links not followed, the size limit applied),
/// so that the next run finds them in the page cache.
fn warm_page_cache(path: &Path) {
    let mut stack = vec![path.to_path_buf()];
    let mut buf = vec![0u8; 1 << 20];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() && meta.len() <= MAX_SIZE_MIB << 20 {
            if let Ok(mut f) = File::open(&p) {
                while matches!(std::io::Read::read(&mut f, &mut buf), Ok(n) if n > 0) {}
            }
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What every engine's command line is built from.
struct Setup<'a> {
    options: &'a BenchOptions,
    threads: usize,
    rule_files: &'a [PathBuf],
    hashes: &'a [PathBuf],
    work: &'a Path,
    /// wardwatch's state folder: its compiled rules are kept there between runs.
    state: &'a Path,
    /// The one file start-up runs scan.
    empty: &'a Path,
}

/// An engine ready to run: its command (None when it cannot run) and its report line.
struct Engine {
    row: EngineRow,
    command: Option<Vec<std::ffi::OsString>>,
    /// The same command on the empty file: start-up alone.
    startup_command: Option<Vec<std::ffi::OsString>>,
}

impl Engine {
    fn new(engine: EngineKind, version: Option<String>) -> Engine {
        Engine {
            row: EngineRow {
                engine,
                version,
                unavailable: None,
                counts_borrowed: false,
                runs: Vec::new(),
                median: None,
                startup_runs: Vec::new(),
                startup: None,
                parsed: Parsed::default(),
            },
            command: None,
            startup_command: None,
        }
    }

    /// Sets the command; the start-up command is the same with `target` (its last
    /// argument, the tree to scan) replaced by the empty file.
    fn set_command(&mut self, argv: Vec<std::ffi::OsString>, empty: &Path) {
        let mut startup = argv.clone();
        if let Some(last) = startup.last_mut() {
            *last = empty.into();
        }
        self.command = Some(argv);
        self.startup_command = Some(startup);
    }

    fn run_startup(&self, work: &Path) -> Result<RunFigures> {
        let Some(argv) = &self.startup_command else {
            bail!("no command");
        };
        let output = measure(argv, work)?;
        let expected: &[i32] = match self.row.engine {
            EngineKind::Yara | EngineKind::YaraCompiled => &[0],
            _ => &[0, 1],
        };
        check_status(&output, expected)?;
        Ok(output.figures)
    }

    /// Takes the engine out of the bench with the reason; its figures so far are
    /// dropped so that a half-measured engine does not look like a measured one.
    fn fail(&mut self, why: String) {
        self.row.unavailable = Some(why);
        self.row.runs.clear();
        self.row.startup_runs.clear();
        self.command = None;
        self.startup_command = None;
    }

    fn run_once(&self, work: &Path) -> Result<(RunFigures, Parsed)> {
        let Some(argv) = &self.command else {
            bail!("no command");
        };
        let output = measure(argv, work)?;
        let parsed = match self.row.engine {
            EngineKind::Wardwatch | EngineKind::WardwatchRulesOnly => {
                check_status(&output, &[0, 1, 2])?;
                parse_wardwatch(&output.stdout)?
            }
            EngineKind::Yara | EngineKind::YaraCompiled => {
                check_status(&output, &[0])?;
                parse_yara(&output.stdout, &output.stderr)
            }
            EngineKind::Clamscan => {
                check_status(&output, &[0, 1])?;
                parse_clamscan(&output.stdout)?
            }
        };
        Ok((output.figures, parsed))
    }
}

/// Builds each engine's command line, or the reason it cannot run; and how long yarac
/// took to compile the rules.
fn prepare_engines(
    setup: &Setup<'_>,
    notes: &mut Vec<String>,
) -> Result<(Vec<Engine>, Option<f64>)> {
    let mut engines = Vec::new();
    let mut yarac_seconds = None;
    for kind in EngineKind::ALL {
        let engine = match kind {
            EngineKind::Wardwatch => wardwatch_engine(setup, kind, setup.hashes),
            EngineKind::WardwatchRulesOnly => wardwatch_engine(setup, kind, &[]),
            EngineKind::Yara => yara_engine(setup),
            EngineKind::YaraCompiled => {
                let (engine, seconds) = yara_compiled_engine(setup);
                yarac_seconds = seconds;
                engine
            }
            EngineKind::Clamscan => clamscan_engine(setup, notes)?,
        };
        engines.push(engine);
    }
    Ok((engines, yarac_seconds))
}

fn wardwatch_engine(setup: &Setup<'_>, kind: EngineKind, hashes: &[PathBuf]) -> Engine {
    let mut engine = Engine::new(kind, Some(env!("CARGO_PKG_VERSION").to_string()));
    let mut argv: Vec<std::ffi::OsString> = vec![
        setup.options.exe.clone().into(),
        "scan".into(),
        setup.options.path.clone().into(),
        "--rules".into(),
        setup.options.rules.clone().into(),
        "--state".into(),
        setup.state.into(),
    ];
    for list in hashes {
        argv.push("--hashes".into());
        argv.push(list.clone().into());
    }
    argv.extend(
        [
            "--format",
            "json",
            "--max-size",
            &MAX_SIZE_MIB.to_string(),
            "--threads",
            &setup.threads.to_string(),
        ]
        .map(Into::into),
    );
    // The tree last, where start-up runs put the empty file.
    let target = argv.remove(2);
    argv.push(target);
    engine.set_command(argv, setup.empty);
    engine
}

/// Debian's yara 4 takes rule files, not a directory: every file is passed as
/// `NAMESPACE:FILE`, the namespace being the file stem as in wardwatch, so that both
/// name a detection `namespace.rule`. `-N`: symbolic links are not followed, as in
/// wardwatch; `-z`: the same size limit.
fn yara_engine(setup: &Setup<'_>) -> Engine {
    let Some(version) = peer_version("yara", "--version") else {
        let mut engine = Engine::new(EngineKind::Yara, None);
        engine.fail("not installed (apt-get install yara)".into());
        return engine;
    };
    let mut engine = Engine::new(EngineKind::Yara, Some(version));
    let mut argv: Vec<std::ffi::OsString> =
        ["yara", "-r", "-N", "-e", "-w"].map(Into::into).to_vec();
    argv.push("-p".into());
    argv.push(setup.threads.to_string().into());
    argv.push("-z".into());
    argv.push((MAX_SIZE_MIB << 20).to_string().into());
    argv.extend(namespaced_rule_files(setup.rule_files));
    argv.push(setup.options.path.clone().into());
    engine.set_command(argv, setup.empty);
    engine
}

/// `NAMESPACE:FILE` for every rule file, as yara and yarac take them.
fn namespaced_rule_files(files: &[PathBuf]) -> Vec<std::ffi::OsString> {
    files
        .iter()
        .map(|file| {
            let mut arg = std::ffi::OsString::from(namespace_of(file));
            arg.push(":");
            arg.push(file);
            arg
        })
        .collect()
}

/// yara with the rules compiled once by Debian's `yarac` (timed), then `yara -C`.
fn yara_compiled_engine(setup: &Setup<'_>) -> (Engine, Option<f64>) {
    let Some(version) = peer_version("yara", "--version") else {
        let mut engine = Engine::new(EngineKind::YaraCompiled, None);
        engine.fail("not installed (apt-get install yara)".into());
        return (engine, None);
    };
    let mut engine = Engine::new(EngineKind::YaraCompiled, Some(version));
    let compiled = setup.work.join("rules.yarc");
    let mut yarac: Vec<std::ffi::OsString> = vec!["yarac".into(), "-w".into()];
    yarac.extend(namespaced_rule_files(setup.rule_files));
    yarac.push(compiled.clone().into());
    let seconds = match measure(&yarac, setup.work).and_then(|o| {
        check_status(&o, &[0])?;
        Ok(o.figures.wall_seconds)
    }) {
        Ok(s) => s,
        Err(e) => {
            engine.fail(format!("yarac failed: {e:#}"));
            return (engine, None);
        }
    };
    let mut argv: Vec<std::ffi::OsString> = ["yara", "-C", "-r", "-N", "-e", "-w"]
        .map(Into::into)
        .to_vec();
    argv.push("-p".into());
    argv.push(setup.threads.to_string().into());
    argv.push("-z".into());
    argv.push((MAX_SIZE_MIB << 20).to_string().into());
    argv.push(compiled.into());
    argv.push(setup.options.path.clone().into());
    engine.set_command(argv, setup.empty);
    (engine, Some(seconds))
}

/// clamscan gets a database directory of its own holding copies of the same hash lists
/// and the rule files it can load (so it never needs freshclam's main database), and
/// the same size limit for files and for what it unpacks from them.
fn clamscan_engine(setup: &Setup<'_>, notes: &mut Vec<String>) -> Result<Engine> {
    let Some(version) = peer_version("clamscan", "--version") else {
        let mut engine = Engine::new(EngineKind::Clamscan, None);
        engine.fail("not installed (apt-get install clamav)".into());
        return Ok(engine);
    };
    let mut engine = Engine::new(EngineKind::Clamscan, Some(version));
    let db = setup.work.join("clamav-db");
    std::fs::create_dir_all(&db).context("creating clamscan's database directory")?;
    let mut loaded = 0;
    for (i, file) in setup.rule_files.iter().enumerate() {
        match clamav_accepts(file, setup.work) {
            Ok(()) => {
                let name = format!("{i:03}-{}.yar", namespace_of(file));
                std::fs::copy(file, db.join(name))
                    .with_context(|| format!("copying {}", file.display()))?;
                loaded += 1;
            }
            Err(why) => notes.push(format!(
                "clamscan cannot load {} and scans without it: {why}",
                file.display()
            )),
        }
    }
    let mut lists = Vec::new();
    for path in setup.hashes {
        clamav_lists(path, &mut lists)?;
    }
    for (i, (list, ext)) in lists.iter().enumerate() {
        let stem = list.file_stem().map(|s| s.to_string_lossy().into_owned());
        let name = format!("{i:03}-{}.{ext}", stem.unwrap_or_default());
        std::fs::copy(list, db.join(name))
            .with_context(|| format!("copying {}", list.display()))?;
    }
    if loaded == 0 && lists.is_empty() {
        engine.fail("none of the rules or hash lists load in clamscan".into());
        return Ok(engine);
    }
    let limit = format!("{MAX_SIZE_MIB}M");
    let mut argv: Vec<std::ffi::OsString> = vec!["clamscan".into(), "-r".into(), "-i".into()];
    argv.push("-d".into());
    argv.push(db.into());
    argv.push(format!("--max-filesize={limit}").into());
    argv.push(format!("--max-scansize={limit}").into());
    argv.push(setup.options.path.clone().into());
    engine.set_command(argv, setup.empty);
    Ok(engine)
}

/// Whether clamscan loads one rule file: ClamAV's YARA support is partial, and one rule
/// it rejects would otherwise fail its whole database.
fn clamav_accepts(rule_file: &Path, work: &Path) -> std::result::Result<(), String> {
    let empty = work.join("empty");
    File::create(&empty).map_err(|e| e.to_string())?;
    let output = Command::new("clamscan")
        .arg("--no-summary")
        .arg("-d")
        .arg(rule_file)
        .arg(&empty)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().find(|l| !l.trim().is_empty());
    Err(first.unwrap_or("rejected").trim().to_string())
}

/// The hash lists clamscan reads, with the extension that tells it their layout; plain
/// lists and compiled wardwatch databases are wardwatch's own and left out.
fn clamav_lists(path: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            clamav_lists(&entry, out)?;
        }
        return Ok(());
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if let Some(ext) = ext.filter(|e| ["hdb", "hsb", "hdu", "hsu"].contains(&e.as_str())) {
        out.push((path.to_owned(), ext));
    }
    Ok(())
}

/// The rule files wardwatch compiles from the directory (`.yar` / `.yara` below it), in
/// the same order.
fn rule_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    collect_rule_files(dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn collect_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if path.is_dir() && !path.is_symlink() {
            collect_rule_files(&path, out)?;
        } else if path.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("yar") || e.eq_ignore_ascii_case("yara"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The namespace wardwatch gives a rule file: its stem.
fn namespace_of(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes a ClamAV `.hsb` list of synthetic SHA-256 entries (derived from a counter, so
/// the list is the same every run) plus the real hash of [`KNOWN_SAMPLE`], which every
/// engine given the list must then report. Returns its path and a description.
fn generate_hash_list(dir: &Path) -> Result<(PathBuf, String)> {
    let path = dir.join("bench.hsb");
    let mut out = std::io::BufWriter::new(
        File::create(&path).with_context(|| format!("creating {}", path.display()))?,
    );
    for i in 0..SYNTHETIC_HASHES {
        let digest = Sha256::digest(format!("wardwatch-bench-{i}").as_bytes());
        // Sizes spread over 1 KiB .. 8 MiB, as real malware samples are.
        let size = 1024 + (i as u64 * 7919) % (8 << 20);
        writeln!(
            out,
            "{}:{size}:Wardwatch.Bench.Synthetic.{i}",
            hex::encode(digest)
        )?;
    }
    let mut label = format!("generated: {SYNTHETIC_HASHES} synthetic SHA-256 entries (.hsb)",);
    match std::fs::read(KNOWN_SAMPLE) {
        Ok(bytes) => {
            let digest = hex::encode(Sha256::digest(&bytes));
            writeln!(out, "{digest}:{}:Wardwatch.Bench.KnownSample", bytes.len())?;
            label.push_str(&format!(" + {KNOWN_SAMPLE} as Wardwatch.Bench.KnownSample"));
        }
        Err(e) => label.push_str(&format!(" (no known sample: {KNOWN_SAMPLE}: {e})")),
    }
    out.flush()?;
    Ok((path, label))
}

/// A peer's version line, or None when it is not installed.
fn peer_version(program: &str, flag: &str) -> Option<String> {
    let output = Command::new(program)
        .arg(flag)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next()?.trim();
    // clamscan prints "ClamAV 1.4.6" or "ClamAV 1.4.6/27000/date" with a database.
    let line = line.strip_prefix("ClamAV ").unwrap_or(line);
    Some(line.split('/').next().unwrap_or(line).to_string())
}

/// A finished child: its measured figures and what it printed.
struct ChildOutput {
    figures: RunFigures,
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs a command to completion and measures it: wall time around the child, CPU time
/// and peak RSS of that child alone from `wait4(2)` (std's `wait` drops the rusage).
/// Output goes to files rather than pipes, so that no reader thread competes with the
/// engine for the CPU and a chatty engine never blocks on a full pipe.
fn measure(argv: &[std::ffi::OsString], work: &Path) -> Result<ChildOutput> {
    let Some((program, args)) = argv.split_first() else {
        bail!("empty command");
    };
    let out_path = work.join("stdout");
    let err_path = work.join("stderr");
    let stdout = File::create(&out_path).context("creating the stdout file")?;
    let stderr = File::create(&err_path).context("creating the stderr file")?;
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting {}", program.to_string_lossy()))?;
    let usage = wardwatch_os::process::wait_for(child.id()).context("wait4")?;
    let status = usage.code;
    let wall_seconds = started.elapsed().as_secs_f64();
    let figures = RunFigures {
        wall_seconds,
        cpu_seconds: (usage.user + usage.system).as_secs_f64(),
        peak_rss_kib: usage.max_rss_kib,
    };
    let read = |p: &Path| {
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .with_context(|| format!("reading {}", p.display()))
    };
    Ok(ChildOutput {
        figures,
        status,
        stdout: read(&out_path)?,
        stderr: read(&err_path)?,
    })
}

/// Fails unless the child exited with one of the expected codes; the error carries the
/// start of its stderr, which is where every engine says what went wrong.
fn check_status(output: &ChildOutput, expected: &[i32]) -> Result<()> {
    if output.status.is_some_and(|c| expected.contains(&c)) {
        return Ok(());
    }
    let said: Vec<&str> = output.stderr.lines().take(3).collect();
    match output.status {
        Some(code) => bail!("exit status {code}: {}", said.join(" / ")),
        None => bail!("killed by a signal: {}", said.join(" / ")),
    }
}

/// `wardwatch scan --format json`: the summary's counts and the infected files.
pub fn parse_wardwatch(stdout: &str) -> Result<Parsed> {
    let report: serde_json::Value =
        serde_json::from_str(stdout).context("wardwatch scan did not print JSON")?;
    let summary = &report["summary"];
    let count = |key: &str| summary[key].as_u64();
    let mut parsed = Parsed {
        files: count("files_scanned"),
        bytes: count("bytes_scanned"),
        signatures: None,
        detections: BTreeMap::new(),
        errors: count("errors").unwrap_or(0),
    };
    let signatures = &report["signatures"];
    if let (Some(r), Some(h)) = (
        signatures["rule_files"].as_u64(),
        signatures["hash_signatures"].as_u64(),
    ) {
        parsed.signatures = Some(r + h);
    }
    for infected in report["infected"].as_array().into_iter().flatten() {
        let Some(path) = infected["path"].as_str() else {
            continue;
        };
        let names = infected["detections"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["name"].as_str().map(str::to_string));
        parsed
            .detections
            .entry(path.to_string())
            .or_default()
            .extend(names);
    }
    Ok(parsed)
}

/// `yara -r -e`: one `namespace:rule path` line per match (the path may hold spaces;
/// the rule name cannot). yara prints no counts; a file it could not scan is an
/// `error scanning PATH: …` line on stderr. The name is given as `namespace.rule`, as
/// wardwatch names it.
pub fn parse_yara(stdout: &str, stderr: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for line in stdout.lines() {
        let Some((rule, path)) = line.split_once(' ') else {
            continue;
        };
        if rule.is_empty() || path.is_empty() {
            continue;
        }
        let name = rule.replacen(':', ".", 1);
        parsed
            .detections
            .entry(path.to_string())
            .or_default()
            .push(name);
    }
    parsed.errors = stderr
        .lines()
        .filter(|l| l.starts_with("error scanning"))
        .count() as u64;
    parsed
}

/// `clamscan -r -i`: `PATH: NAME FOUND` lines, then the `SCAN SUMMARY` block (files,
/// data scanned in MB, signatures loaded). Unreadable files are `PATH: … ERROR` lines.
pub fn parse_clamscan(stdout: &str) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut in_summary = false;
    for line in stdout.lines() {
        if line.starts_with("----------- SCAN SUMMARY") {
            in_summary = true;
            continue;
        }
        if in_summary {
            summary_line(line, &mut parsed);
        } else if let Some(found) = line.strip_suffix(" FOUND") {
            if let Some((path, name)) = found.rsplit_once(": ") {
                let entry = parsed.detections.entry(path.to_string()).or_default();
                entry.push(name.to_string());
            }
        } else if line.ends_with(" ERROR") {
            parsed.errors += 1;
        }
    }
    if !in_summary || parsed.files.is_none() {
        bail!("clamscan printed no scan summary");
    }
    Ok(parsed)
}

/// One `Key: value` line of clamscan's summary.
fn summary_line(line: &str, parsed: &mut Parsed) {
    let Some((key, value)) = line.split_once(':') else {
        return;
    };
    let value = value.trim();
    match key.trim() {
        "Known viruses" => parsed.signatures = value.parse().ok(),
        "Scanned files" => parsed.files = value.parse().ok(),
        "Data scanned" => parsed.bytes = parse_size(value),
        _ => {}
    }
}

/// clamscan's `0.03 MB` (decimal megabytes since ClamAV 0.103; binary units accepted
/// too) as bytes.
fn parse_size(value: &str) -> Option<u64> {
    let (number, unit) = value.split_once(' ').unwrap_or((value, "B"));
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * scale).round() as u64)
}

/// yara prints no counts: its row shows the count of wardwatch with the rules alone,
/// which walks the tree the same way (links not followed, the same size limit).
fn borrow_counts(rows: &mut [EngineRow]) {
    let reference = rows
        .iter()
        .find(|r| r.engine == EngineKind::WardwatchRulesOnly && r.median.is_some())
        .map(|r| (r.parsed.files, r.parsed.bytes));
    for row in rows
        .iter_mut()
        .filter(|r| matches!(r.engine, EngineKind::Yara | EngineKind::YaraCompiled))
    {
        if let Some((files, bytes)) = reference {
            row.parsed.files = files;
            row.parsed.bytes = bytes;
            row.counts_borrowed = true;
        }
    }
}

/// The median of each figure over the runs, taken separately.
fn median(runs: &[RunFigures]) -> Option<RunFigures> {
    if runs.is_empty() {
        return None;
    }
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    Some(RunFigures {
        wall_seconds: mid(runs.iter().map(|r| r.wall_seconds).collect()),
        cpu_seconds: mid(runs.iter().map(|r| r.cpu_seconds).collect()),
        peak_rss_kib: mid(runs.iter().map(|r| r.peak_rss_kib as f64).collect()) as u64,
    })
}

/// What a reader must know to read the table right.
fn standing_notes(threads: usize, repeat: usize) -> Vec<String> {
    vec![
        "page cache warmed by one untimed run of each engine, and the tree read again \
         before every timed run (wardwatch drops what it read from the cache, which would \
         make the next engine read from disk); figures are the median of each column over \
         the timed runs"
            .to_string(),
        format!(
            "each engine is a child process: wall time around it, CPU (user+sys) and peak \
             RSS from wait4(2); {repeat} timed run(s) each, engines taking turns"
        ),
        format!(
            "wardwatch and yara use {threads} thread(s) (--threads / -p); clamscan is \
             single-threaded"
        ),
        "yara takes no hash lists: compare it with `wardwatch (rules only)`; its files and \
         MB are that row's (yara reports no counts)"
            .to_string(),
        "clamscan also parses and unpacks what it scans (ELF, archives, documents), so its \
         files and MB are its own and include what it unpacked"
            .to_string(),
        format!(
            "files over {MAX_SIZE_MIB} MiB are skipped by all (--max-size, -z, \
             --max-filesize/--max-scansize); symbolic links are not followed by any"
        ),
    ]
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wardwatch bench scan: {}", self.path.display())?;
        writeln!(
            f,
            "  rules:  {} ({} files)",
            self.rules.display(),
            self.rule_files.len()
        )?;
        for list in &self.hashes {
            writeln!(f, "  hashes: {list}")?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<30} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>7} {:>9} {:>8} {:>6}",
            "engine",
            "files",
            "MB",
            "wall s",
            "start s",
            "scan s",
            "files/s",
            "MB/s",
            "CPU s",
            "RSS MiB",
            "flagged",
            "hits"
        )?;
        for row in &self.rows {
            write_row(f, row)?;
        }
        writeln!(f)?;
        if let Some(s) = self.wardwatch_compile_seconds {
            writeln!(
                f,
                "  * wardwatch's first start-up, compiling the rules and keeping them: {s:.2} s; \
                 later start-ups load the kept form (start s)"
            )?;
        }
        if let Some(s) = self.yarac_seconds {
            writeln!(f, "  * yarac compiling the same rules once: {s:.2} s")?;
        }
        writeln!(
            f,
            "  * start s: the same command on one empty file (loading the signatures); \
             scan s: wall s minus start s; files/s and MB/s are over wall s"
        )?;
        for note in &self.notes {
            writeln!(f, "  * {note}")?;
        }
        // A file an engine could not read is one it did not clear: said, not hidden.
        for row in self.rows.iter().filter(|r| r.parsed.errors > 0) {
            writeln!(
                f,
                "  * {} could not scan {} file(s)",
                row.engine.label(),
                row.parsed.errors
            )?;
        }
        write_detections(f, &self.rows)
    }
}

fn write_row(f: &mut fmt::Formatter<'_>, row: &EngineRow) -> fmt::Result {
    let label = match &row.version {
        Some(v) => format!("{} {v}", row.engine.label()),
        None => row.engine.label().to_string(),
    };
    let (Some(m), None) = (&row.median, &row.unavailable) else {
        let why = row.unavailable.as_deref().unwrap_or("no runs");
        return writeln!(f, "{label:<30} {why}");
    };
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let mb = row.bytes().map(|b| b as f64 / 1e6);
    let per_s = |v: Option<f64>| {
        v.map_or("-".to_string(), |v| {
            format!("{:.0}", v / m.wall_seconds.max(1e-9))
        })
    };
    let star = if row.counts_borrowed { "*" } else { "" };
    let start = row.startup.as_ref().map(|s| s.wall_seconds);
    let seconds = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    writeln!(
        f,
        "{label:<30} {:>8} {:>9} {:>8.2} {:>8} {:>8} {:>9} {:>8} {:>7.2} {:>9.1} {:>8} {:>6}",
        format!("{}{star}", opt(row.files())),
        mb.map_or("-".to_string(), |v| format!("{v:.1}{star}")),
        m.wall_seconds,
        seconds(start),
        seconds(start.map(|s| (m.wall_seconds - s).max(0.0))),
        per_s(row.files().map(|v| v as f64)),
        per_s(mb),
        m.cpu_seconds,
        m.peak_rss_kib as f64 / 1024.0,
        row.parsed.detections.len(),
        row.parsed.hits(),
    )
}

/// Every flagged file once, with what each engine called it.
fn write_detections(f: &mut fmt::Formatter<'_>, rows: &[EngineRow]) -> fmt::Result {
    let mut by_path: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.median.is_some()) {
        for (path, names) in &row.parsed.detections {
            by_path.entry(path).or_default().push(format!(
                "{}: {}",
                row.engine.label(),
                names.join(", ")
            ));
        }
    }
    writeln!(f)?;
    writeln!(
        f,
        "detections ({} files flagged by any engine):",
        by_path.len()
    )?;
    for (path, found) in by_path.iter().take(LISTED_DETECTIONS) {
        writeln!(f, "  {path}")?;
        for line in found {
            writeln!(f, "      {line}")?;
        }
    }
    if by_path.len() > LISTED_DETECTIONS {
        writeln!(
            f,
            "  … {} more (all of them with --json)",
            by_path.len() - LISTED_DETECTIONS
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `clamscan -r -i -d DB /tmp/sam` (ClamAV 1.4.6, Debian 12), with
    /// the bench's rules and generated hash list.
    const CLAMSCAN_OUTPUT: &str = "\
/tmp/sam/note.txt: YARA.RansomNoteText.UNOFFICIAL FOUND
/tmp/sam/sub dir/shell one.php: YARA.PhpEvalEncodedPayload.UNOFFICIAL FOUND
/tmp/sam/true: Wardwatch.Bench.KnownSample.UNOFFICIAL FOUND

----------- SCAN SUMMARY -----------
Known viruses: 13
Engine version: 1.4.6
Scanned directories: 2
Scanned files: 3
Infected files: 3
Data scanned: 0.03 MB
Data read: 0.03 MB (ratio 1.00:1)
Time: 0.048 sec (0 m 0 s)
Start Date: 2026:12:01 09:06:27
End Date:   2026:12:01 09:06:27
";

    /// Captured from `yara -r -N -e -w -p 2 webshells:… documents:… /tmp/sam` (yara 4.2.3).
    const YARA_OUTPUT: &str = "\
documents:RansomNoteText /tmp/sam/note.txt
webshells:PhpEvalEncodedPayload /tmp/sam/sub dir/shell one.php
";

    #[test]
    fn clamscan_summary_and_detections() {
        let parsed = parse_clamscan(CLAMSCAN_OUTPUT).expect("parses");
        assert_eq!(parsed.files, Some(3));
        assert_eq!(parsed.bytes, Some(30_000));
        assert_eq!(parsed.signatures, Some(13));
        assert_eq!(parsed.detections.len(), 3);
        assert_eq!(
            parsed.detections["/tmp/sam/sub dir/shell one.php"],
            ["YARA.PhpEvalEncodedPayload.UNOFFICIAL"]
        );
        assert_eq!(
            parsed.detections["/tmp/sam/true"],
            ["Wardwatch.Bench.KnownSample.UNOFFICIAL"]
        );
    }

    /// clamscan that could not load its database prints a summary of zeroes and no
    /// detections; without a summary at all the run is an error, not a clean scan.
    #[test]
    fn clamscan_without_summary_is_an_error() {
        assert!(parse_clamscan("").is_err());
        assert!(parse_clamscan("/x: Access denied. ERROR\n").is_err());
    }

    #[test]
    fn yara_lines_keep_paths_with_spaces() {
        let parsed = parse_yara(
            YARA_OUTPUT,
            "error scanning /root/x: could not open file\nwarning: rule \"R\" …\n",
        );
        assert_eq!(parsed.detections.len(), 2);
        assert_eq!(
            parsed.detections["/tmp/sam/sub dir/shell one.php"],
            ["webshells.PhpEvalEncodedPayload"]
        );
        assert_eq!(
            parsed.detections["/tmp/sam/note.txt"],
            ["documents.RansomNoteText"]
        );
        assert_eq!(parsed.errors, 1);
        assert_eq!(parsed.files, None);
    }

    #[test]
    fn wardwatch_json_summary() {
        let json = r#"{"signatures":{"rule_files":12,"hash_signatures":1},
            "infected":[{"result":"infected","path":"/usr/bin/true","size":35664,
              "detections":[{"kind":{"type":"hash","algorithm":"sha256"},
                             "name":"Wardwatch.Bench.KnownSample"}]}],
            "skipped":[],
            "summary":{"files_scanned":1230,"bytes_scanned":315300644,"infected":1,
              "skipped":436,"errors":0,"elapsed_ms":1831,"stopped":false}}"#;
        let parsed = parse_wardwatch(json).expect("parses");
        assert_eq!(parsed.files, Some(1230));
        assert_eq!(parsed.bytes, Some(315_300_644));
        assert_eq!(parsed.signatures, Some(13));
        assert_eq!(
            parsed.detections["/usr/bin/true"],
            ["Wardwatch.Bench.KnownSample"]
        );
        assert!(parse_wardwatch("error: cannot load").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("296.51 MB"), Some(296_510_000));
        assert_eq!(parse_size("0.00 MB"), Some(0));
        assert_eq!(parse_size("1.5 GiB"), Some(1_610_612_736));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn median_of_each_figure() {
        let run = |w, c, r| RunFigures {
            wall_seconds: w,
            cpu_seconds: c,
            peak_rss_kib: r,
        };
        let m = median(&[run(3.0, 1.0, 10), run(1.0, 3.0, 30), run(2.0, 2.0, 20)]).expect("runs");
        assert_eq!(
            (m.wall_seconds, m.cpu_seconds, m.peak_rss_kib),
            (2.0, 2.0, 20)
        );
        assert!(median(&[]).is_none());
    }
}
