//! `wardwatch bench idle`: what the agent costs a terminal while nothing happens, the
//! figure an old ward PC feels all day. A real agent (the same binary) is enrolled with
//! a loopback server, guards a copy of a real tree Debian installed (and, when rules are
//! given, scans it on access), and is left alone: after it has settled (inventory sent,
//! index built, rules loaded) its CPU time and resident memory are read from `/proc`
//! over a quiet spell.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;
use wardwatch_agent::enroll::{enroll, EnrollOptions};
use wardwatch_agent::state::StateDir;
use wardwatch_agent::AgentError;

use crate::ingest::create_token;
use crate::proc_figures::{cpu_seconds, status_kib, Process};
use crate::server_process;
use wardwatch_sim::corpus;

/// The goals of the agent on an old ward PC.
const GOAL_RSS_MIB: f64 = 30.0;
const GOAL_CPU_PERCENT: f64 = 1.0;

#[derive(Debug, Clone)]
pub struct IdleOptions {
    /// A tree copied into the guarded folder (a real one, e.g. /usr/share/doc).
    pub tree: PathBuf,
    /// YARA rules for on-access scanning of the guarded folder; none: no scanning.
    pub rules: Option<PathBuf>,
    /// How long the agent is left to settle before the measurement.
    pub settle: Duration,
    /// How long the quiet spell measured lasts.
    pub measure: Duration,
}

#[derive(Debug)]
pub struct IdleReport {
    pub options: IdleOptions,
    pub files_guarded: usize,
    pub cpu_seconds: f64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

impl IdleReport {
    pub fn cpu_percent(&self) -> f64 {
        100.0 * self.cpu_seconds / self.options.measure.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for IdleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        let mib = |kib: u64| kib as f64 / 1024.0;
        let verdict = |ok: bool| if ok { "within" } else { "OVER" };
        writeln!(f, "wardwatch bench idle")?;
        writeln!(
            f,
            "  guarded:       {} files copied from {}",
            self.files_guarded,
            o.tree.display()
        )?;
        match &o.rules {
            Some(r) => writeln!(
                f,
                "  on-access:     scanned with the rules in {}",
                r.display()
            )?,
            None => writeln!(f, "  on-access:     off (give --rules DIR to scan)")?,
        }
        writeln!(
            f,
            "  measured:      {} s, after {} s to settle",
            o.measure.as_secs(),
            o.settle.as_secs()
        )?;
        writeln!(
            f,
            "  CPU:           {:.2} s, {:.3} % of one core ({} the {GOAL_CPU_PERCENT} % goal)",
            self.cpu_seconds,
            self.cpu_percent(),
            verdict(self.cpu_percent() < GOAL_CPU_PERCENT)
        )?;
        write!(
            f,
            "  memory:        {:.1} MiB resident, {:.1} MiB at peak ({} the {GOAL_RSS_MIB} MiB goal when idle)",
            mib(self.rss_kib),
            mib(self.peak_rss_kib),
            verdict(mib(self.rss_kib) < GOAL_RSS_MIB)
        )
    }
}

/// Runs the benchmark: a server, one real agent, a quiet spell.
pub async fn idle(exe: &Path, options: &IdleOptions) -> Result<IdleReport, AgentError> {
    let tmp = tempfile::tempdir().map_err(|e| AgentError::io(Path::new("/tmp"), e))?;
    let data = tmp.path().join("server");
    let server = server_process::start(exe, &data, Duration::from_secs(60)).await?;
    let token = create_token(exe, &data, 1).await?;
    let state_dir = tmp.path().join("agent");
    let state = StateDir::new(&state_dir);
    let enroll_options = EnrollOptions {
        server_url: server.agent_url.clone(),
        token,
        ca_fingerprint: server.ca_fingerprint.clone(),
        hostname: "bench-idle".into(),
        force: true,
    };
    enroll(&state, &enroll_options).await?;

    let guarded = tmp.path().join("guarded");
    let tree = options.tree.clone();
    let target = guarded.clone();
    let files_guarded = tokio::task::spawn_blocking(move || {
        corpus::copy_tree(&tree, &target).map(|()| corpus::walk(&target).len())
    })
    .await
    .map_err(|e| AgentError::Internal(e.to_string()))?
    .map_err(|e| AgentError::Internal(format!("copying {}: {e:#}", options.tree.display())))?;

    let mut command = Command::new(exe);
    command
        .args(["agent", "run", "--state"])
        .arg(&state_dir)
        .arg("--guard-path")
        .arg(&guarded)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(rules) = &options.rules {
        command
            .arg("--scan-path")
            .arg(&guarded)
            .arg("--scan-rules")
            .arg(rules);
    }
    let agent = command.spawn().map_err(|e| AgentError::io(exe, e))?;
    let pid = agent
        .id()
        .ok_or_else(|| AgentError::Internal("the agent exited at once".into()))?;
    tokio::time::sleep(options.settle).await;
    let before = cpu_seconds(Process::Pid(pid))
        .ok_or_else(|| AgentError::Internal("the agent exited while settling".into()))?;
    let started = Instant::now();
    tokio::time::sleep(options.measure).await;
    let after = cpu_seconds(Process::Pid(pid))
        .ok_or_else(|| AgentError::Internal("the agent exited while measured".into()))?;
    let elapsed = started.elapsed();
    let report = IdleReport {
        options: IdleOptions {
            measure: elapsed,
            ..options.clone()
        },
        files_guarded,
        cpu_seconds: after - before,
        rss_kib: status_kib(Process::Pid(pid), "VmRSS").unwrap_or(0),
        peak_rss_kib: status_kib(Process::Pid(pid), "VmHWM").unwrap_or(0),
    };
    drop(agent);
    drop(server);
    Ok(report)
}
