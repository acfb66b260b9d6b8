//! `wardwatch scan PATH…`: an on-demand malware scan of this machine's files with YARA
//! rules and hash lists (EICAR always), reporting like clamscan does: exit status 0 when
//! clean, 1 when something was found, 2 when something could not be scanned or the scan
//! could not run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::{Args, ValueEnum};
use wardwatch_agent::state::record_action;
use wardwatch_scan::quarantine::{action_event, refused_event, Vault};
use wardwatch_scan::rule_cache::RulesOrigin;
use wardwatch_scan::run::{display_path, scan_paths, ScanEvent, ScanOptions, ScanSummary};
use wardwatch_scan::signatures::SigningKey;
use wardwatch_scan::signatures::{load, Loaded, SignatureSources};
use wardwatch_scan::skip::SkipReason;
use wardwatch_scan::walk::WalkOptions;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// A directory of YARA rules (`.yar`, `.yara`), each file in its own namespace.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// A hash list (ClamAV `.hdb` / `.hsb`, or one hash per line), a directory of them,
    /// or a compiled wardwatch hash database (repeatable).
    #[arg(long)]
    pub hashes: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Files larger than this many MiB are reported as skipped.
    #[arg(long, default_value_t = 256)]
    pub max_size: u64,
    /// Directories deeper than this are reported as skipped.
    #[arg(long, default_value_t = 256)]
    pub max_depth: usize,
    /// Stay on the file system of each path given.
    #[arg(long)]
    pub one_file_system: bool,
    /// Scanner threads (default: one per CPU).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also list clean files and every skipped link and special file (text format).
    #[arg(long)]
    pub verbose: bool,
    /// Do not scan now: watch the paths and scan each file written there, and each
    /// program started from there before it runs, until stopped (needs root).
    #[arg(long)]
    pub watch: bool,
    /// With --watch: report known-bad programs but let them start.
    #[arg(long, requires = "watch")]
    pub no_block_exec: bool,
    /// Move each file found into the quarantine vault (see `wardwatch quarantine`).
    #[arg(long, conflicts_with = "watch")]
    pub quarantine: bool,
    /// The vault for --quarantine (default: the agent's, STATE/quarantine).
    #[arg(long)]
    pub vault: Option<PathBuf>,
    /// A key besides ClamAV's own that a `.cvd` among --hashes may be signed with, as
    /// `MODULUS:EXPONENT` in decimal (a hospital's own mirror; repeatable).
    #[arg(long, value_parser = parse_cvd_key)]
    pub cvd_key: Vec<SigningKey>,
    /// Compile the YARA rules even if their compiled form is kept (in STATE/rules-cache,
    /// when the agent's state folder exists).
    #[arg(long)]
    pub no_rule_cache: bool,
    #[command(flatten)]
    pub state: super::agent::StateArg,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Exit status: found something.
const FOUND: u8 = 1;
/// Exit status: could not scan something, or at all.
const ERROR: u8 = 2;

pub fn parse_cvd_key(text: &str) -> Result<SigningKey, String> {
    let (n, e) = text
        .split_once(':')
        .ok_or("expected MODULUS:EXPONENT in decimal")?;
    SigningKey::from_decimal("--cvd-key", n.trim(), e.trim())
        .ok_or_else(|| "the modulus and exponent must be decimal numbers".to_string())
}

/// The agent's folder of compiled rules, when the agent's state folder exists (a scan
/// never creates the state folder).
fn rule_cache(args: &ScanArgs) -> Option<PathBuf> {
    if args.no_rule_cache {
        return None;
    }
    let state = args.state.dir();
    state.root().is_dir().then(|| state.rule_cache_dir())
}

pub fn run(args: ScanArgs) -> ExitCode {
    let sources = SignatureSources {
        rules: args.rules.iter().cloned().collect(),
        hashes: args.hashes.clone(),
        rule_cache: rule_cache(&args),
        cvd_keys: args.cvd_key.clone(),
    };
    let (engine, loaded) = match load(&sources) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: cannot load the signatures: {e}");
            return ExitCode::from(ERROR);
        }
    };
    if args.watch {
        return watch(engine, &args);
    }
    let mut options = ScanOptions {
        walk: WalkOptions {
            max_depth: args.max_depth,
            one_file_system: args.one_file_system,
        },
        max_size: args.max_size.saturating_mul(1 << 20),
        ..ScanOptions::default()
    };
    if let Some(n) = args.threads {
        options.threads = n.max(1);
    }
    let vault = if args.quarantine {
        let dir = args
            .vault
            .clone()
            .unwrap_or_else(|| args.state.dir().quarantine_dir());
        match Vault::open(&dir) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("error: cannot open the quarantine vault: {e}");
                return ExitCode::from(ERROR);
            }
        }
    } else {
        None
    };
    let state = args.state.dir();
    let stop = AtomicBool::new(false);
    let mut infected = Vec::new();
    let mut skipped = Vec::new();
    let format = args.format;
    let verbose = args.verbose;
    let summary = scan_paths(&engine, &args.paths, &options, &stop, &mut |event| {
        let moved = vault.as_ref().and_then(|v| quarantine(v, &state, event));
        if let Some(note) = &moved {
            if format == Format::Text {
                println!("{note}");
            }
        }
        if format == Format::Text {
            print_event(event, verbose);
        } else {
            match event {
                ScanEvent::Infected { .. } => {
                    let mut value = event_json(event);
                    value["quarantine"] = moved.clone().into();
                    infected.push(value)
                }
                ScanEvent::Skipped { .. } => skipped.push(event_json(event)),
                ScanEvent::Clean { .. } => {}
            }
        }
    });
    match format {
        Format::Text => print_summary(&summary, &loaded),
        Format::Json => {
            let report = serde_json::json!({
                "signatures": loaded,
                "infected": infected,
                "skipped": skipped,
                "summary": summary,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
    }
    if summary.infected > 0 {
        ExitCode::from(FOUND)
    } else if summary.errors > 0 {
        ExitCode::from(ERROR)
    } else {
        ExitCode::SUCCESS
    }
}

/// Moves an infected file into the vault and spools the audit event; what happened, in
/// words.
fn quarantine(
    vault: &Vault,
    state: &wardwatch_agent::state::StateDir,
    event: &ScanEvent,
) -> Option<String> {
    let ScanEvent::Infected {
        path,
        detections,
        scanned,
        ..
    } = event
    else {
        return None;
    };
    Some(match vault.quarantine(path, scanned, detections) {
        Ok(record) => {
            record_action(state, &action_event("quarantine.add", &record, "scan"));
            format!(
                "{}: moved to quarantine as {}",
                display_path(path),
                record.id
            )
        }
        Err(e) => {
            record_action(state, &refused_event(path, scanned, detections, &e, "scan"));
            format!("{}: NOT quarantined: {e}", display_path(path))
        }
    })
}

/// The event as JSON with its path shown safely (not UTF-8 bytes as `\xNN`).
fn event_json(event: &ScanEvent) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    let path = match event {
        ScanEvent::Infected { path, .. }
        | ScanEvent::Skipped { path, .. }
        | ScanEvent::Clean { path, .. } => path,
    };
    value["path"] = display_path(path).into();
    if let ScanEvent::Skipped { reason, .. } = event {
        value["why"] = reason.to_string().into();
    }
    value
}

/// Links and special files are everywhere in a system tree; listed only with --verbose.
fn routine(reason: &SkipReason) -> bool {
    matches!(
        reason,
        SkipReason::Symlink | SkipReason::Socket | SkipReason::Device | SkipReason::Vanished
    )
}

fn print_event(event: &ScanEvent, verbose: bool) {
    match event {
        ScanEvent::Infected {
            path, detections, ..
        } => {
            for d in detections {
                println!("{}: {} FOUND", display_path(path), d.name);
            }
        }
        ScanEvent::Skipped { path, reason } if verbose || !routine(reason) => {
            println!("{}: skipped ({reason})", display_path(path));
        }
        ScanEvent::Clean { path, .. } if verbose => println!("{}: OK", display_path(path)),
        _ => {}
    }
}

fn print_summary(summary: &ScanSummary, loaded: &Loaded) {
    println!();
    println!("----------- SCAN SUMMARY -----------");
    let from = match loaded.rules_from {
        Some(RulesOrigin::Cached) => " (compiled form kept from an earlier run)",
        Some(RulesOrigin::Compiled) => " (compiled, and kept for the next run)",
        Some(RulesOrigin::CompiledUncached) => " (compiled)",
        None => "",
    };
    println!("YARA rule files: {}{from}", loaded.rule_files);
    println!("Hash signatures: {}", loaded.hash_signatures);
    if loaded.section_signatures > 0 {
        println!(
            "Section hash signatures (Windows executables): {}",
            loaded.section_signatures
        );
    }
    if loaded.allowed_hashes > 0 {
        println!("False-positive hashes: {}", loaded.allowed_hashes);
    }
    for c in &loaded.containers {
        let check = if c.signed {
            "ClamAV's signature checked"
        } else {
            "not signed (.cld)"
        };
        println!(
            "ClamAV database: {} version {} built {} ({check})",
            c.path, c.version, c.built
        );
    }
    for (what, files) in &loaded.not_supported {
        println!(
            "Not supported, not used: {what}: {} file(s) ({})",
            files.len(),
            files.join(", ")
        );
    }
    println!(
        "Signatures loaded in: {:.3} s",
        loaded.load_ms as f64 / 1000.0
    );
    println!("Scanned files: {}", summary.files_scanned);
    println!("Infected files: {}", summary.infected);
    let kinds: Vec<String> = summary
        .skipped_by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    if kinds.is_empty() {
        println!("Skipped: 0");
    } else {
        println!("Skipped: {} ({})", summary.skipped, kinds.join(", "));
    }
    println!(
        "Data scanned: {:.2} MB",
        summary.bytes_scanned as f64 / 1_000_000.0
    );
    println!("Time: {:.3} s", summary.elapsed_ms as f64 / 1000.0);
}

/// `--watch`: on-access scanning until the process is stopped. Detections are printed as
/// they happen, one line each (JSON lines with `--format json`).
fn watch(engine: wardwatch_scan::Engine, args: &ScanArgs) -> ExitCode {
    use wardwatch_scan::onaccess::{OnAccess, OnAccessOptions, Trigger};
    let mut paths = Vec::new();
    for p in &args.paths {
        match std::fs::canonicalize(p) {
            Ok(p) => paths.push(p),
            Err(e) => {
                eprintln!("error: cannot watch {}: {e}", p.display());
                return ExitCode::from(ERROR);
            }
        }
    }
    let options = OnAccessOptions {
        paths: paths.clone(),
        block_exec: !args.no_block_exec,
        max_size: args.max_size.saturating_mul(1 << 20),
    };
    let format = args.format;
    let sink = Box::new(move |d: wardwatch_scan::onaccess::AccessDetection| {
        use std::io::Write;
        let line = match format {
            Format::Json => serde_json::json!({
                "path": display_path(&d.path),
                "trigger": d.trigger,
                "pid": d.pid,
                "blocked": d.blocked,
                "detections": d.detections,
            })
            .to_string(),
            Format::Text => {
                let names: Vec<&str> = d.detections.iter().map(|x| x.name.as_str()).collect();
                let what = match (d.trigger, d.blocked) {
                    (Trigger::Exec, true) => format!("BLOCKED (started by pid {})", d.pid),
                    (Trigger::Exec, false) => format!("FOUND (started by pid {})", d.pid),
                    (Trigger::Written, _) => format!("FOUND (written by pid {})", d.pid),
                };
                format!("{}: {} {what}", display_path(&d.path), names.join(", "))
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    });
    let engine = std::sync::Arc::new(engine);
    let _running = match OnAccess::start(engine, options, sink) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(ERROR);
        }
    };
    let shown: Vec<String> = paths.iter().map(|p| display_path(p)).collect();
    eprintln!("watching {} on access; stop with Ctrl-C", shown.join(", "));
    loop {
        std::thread::park();
    }
}
