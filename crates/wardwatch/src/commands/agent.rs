//! `wardwatch agent enroll | run | status | test-events`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use tokio::sync::watch;
use wardwatch_agent::enroll::{enroll, EnrollOptions};
use wardwatch_guard::report::GuardOptions;

use super::guard::RespondArg;
use wardwatch_agent::run::RunOptions;
use wardwatch_agent::spool::SpoolLimits;
use wardwatch_agent::state::StateDir;
use wardwatch_proto::EventBody;

#[derive(Args, Debug, Clone)]
pub struct StateArg {
    /// Agent state directory (identity, spool). Default: /var/lib/wardwatch-agent as
    /// root, ~/.local/share/wardwatch-agent otherwise.
    #[arg(long, env = "WARDWATCH_AGENT_STATE")]
    pub state: Option<PathBuf>,
}

impl StateArg {
    pub fn dir(&self) -> StateDir {
        StateDir::new(
            self.state
                .clone()
                .unwrap_or_else(crate::paths::default_agent_state),
        )
    }
}

#[derive(Subcommand, Debug)]
// Parsed once at start and moved into its command: the size of the largest variant costs
// nothing.
#[allow(clippy::large_enum_variant)]
pub enum AgentCommand {
    /// Enroll this terminal with a server, using a one-time token.
    Enroll {
        #[command(flatten)]
        state: StateArg,
        /// The server's agent API, e.g. https://wardwatch.hospital.local:8444
        #[arg(long)]
        server: String,
        /// One-time token from `wardwatch token create`.
        #[arg(long, env = "WARDWATCH_TOKEN")]
        token: String,
        /// The server CA's fingerprint, printed by `wardwatch token create`.
        #[arg(long)]
        ca_fingerprint: String,
        /// Name to report for this terminal. Default: its hostname.
        #[arg(long)]
        hostname: Option<String>,
        /// Replace an existing enrollment.
        #[arg(long)]
        force: bool,
        /// Trust bundles signed with this publisher key (minisign .pub; repeatable).
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<PathBuf>,
    },
    /// Run the agent: report the inventory and its changes, never losing an event.
    Run {
        #[command(flatten)]
        state: StateArg,
        #[command(flatten)]
        tuning: RunTuning,
    },
    /// Install this terminal's upgrades from the server's patches bundle: only the files
    /// it needs, Debian's signatures checked again by apt, packages upgraded and never
    /// removed, a dry run first.
    Patch {
        #[command(flatten)]
        state: StateArg,
        /// Upgrade the system laid out in this folder (with `dpkg --root`) instead of
        /// this machine: for trials.
        #[arg(long)]
        root: Option<PathBuf>,
        /// The keys apt checks the suites' signatures with.
        #[arg(long, default_value = wardwatch_agent::patches::DEBIAN_KEYRING)]
        keyring: PathBuf,
        /// Stop after apt's dry run and print what would be upgraded.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show the enrollment and the spool.
    Status {
        #[command(flatten)]
        state: StateArg,
    },
    /// Put N test events into the spool, to check the path to the server end to end.
    TestEvents {
        #[command(flatten)]
        state: StateArg,
        #[arg(long, default_value_t = 1)]
        count: u64,
    },
}

#[derive(Args, Debug, Clone)]
pub struct RunTuning {
    /// How often the inventory is collected again.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse_duration)]
    pub interval: Duration,
    /// How often the agent tells the server it is alive.
    #[arg(long, default_value = "30s", value_parser = crate::duration::parse_duration)]
    pub heartbeat: Duration,
    /// Most events per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Most events the spool holds before it drops the oldest low-priority ones.
    #[arg(long, default_value_t = 1_000_000)]
    pub spool_max_events: u64,
    /// Only send spooled events; do not collect the inventory.
    #[arg(long)]
    pub no_inventory: bool,
    /// Send at most this many events per second (for slow links); 0 for no limit.
    #[arg(long, default_value_t = 0)]
    pub max_events_per_second: u32,
    #[command(flatten)]
    pub guard: GuardFlags,
    #[command(flatten)]
    pub scan: ScanFlags,
    #[command(flatten)]
    pub backup: BackupFlags,
    #[command(flatten)]
    pub background: BackgroundFlags,
    /// How often to ask the server for newer bundles; 0s for never.
    #[arg(long, default_value = "5m", value_parser = crate::duration::parse_duration)]
    pub bundle_interval: Duration,
    /// Trust bundles signed with this publisher key (minisign .pub, copied into the
    /// state directory; repeatable). The agent checks signatures itself, whatever the
    /// server trusts.
    #[arg(long = "trusted-key")]
    pub trusted_keys: Vec<PathBuf>,
    /// The keys apt checks the suites of patches with (`patch.install` commands).
    #[arg(long, default_value = wardwatch_agent::patches::DEBIAN_KEYRING)]
    pub patch_keyring: PathBuf,
    /// Treat the system laid out in this folder as this terminal, for trials: its
    /// inventory is reported and `patch.install` upgrades it (with `dpkg --root`).
    #[arg(long)]
    pub trial_root: Option<PathBuf>,
}

/// The ransomware guard inside the agent (`agent run` and `up`).
#[derive(Args, Debug, Clone)]
pub struct GuardFlags {
    /// Protect this directory with the ransomware guard (repeatable; needs root).
    #[arg(long = "guard-path")]
    pub guard_paths: Vec<PathBuf>,
    /// How the guard responds: suspend, kill or report.
    #[arg(long, value_enum, default_value_t = RespondArg::Suspend)]
    pub guard_respond: RespondArg,
    /// The guard acts only on descendants of this pid (trials on shared machines).
    #[arg(long)]
    pub guard_only_descendants_of: Option<u32>,
}

/// On-access malware scanning inside the agent (`agent run` and `up`).
#[derive(Args, Debug, Clone)]
pub struct ScanFlags {
    /// Scan every file written under this directory, and every program started from it
    /// before it runs (repeatable; needs root): downloads, temp, shared folders, mounts
    /// of removable media.
    #[arg(long = "scan-path")]
    pub scan_paths: Vec<PathBuf>,
    /// YARA rules to use instead of the installed signatures bundle.
    #[arg(long = "scan-rules")]
    pub scan_rules: Option<PathBuf>,
    /// Hash lists to use instead of the installed signatures bundle (repeatable).
    #[arg(long = "scan-hashes")]
    pub scan_hashes: Vec<PathBuf>,
    /// Report known-bad programs but let them start.
    #[arg(long)]
    pub scan_no_block_exec: bool,
    /// Report files found on write but leave them in place (default: move them into the
    /// quarantine vault, see `wardwatch quarantine`).
    #[arg(long)]
    pub scan_no_quarantine: bool,
    /// Scan this tree in full on a schedule, at idle CPU and I/O priority (repeatable).
    /// A pass stopped by a restart resumes where it was; unchanged files are not read
    /// again.
    #[arg(long = "scheduled-scan-path")]
    pub scheduled_scan_paths: Vec<PathBuf>,
    /// Time between the starts of two scheduled passes.
    #[arg(long, default_value = "24h", value_parser = crate::duration::parse_duration)]
    pub scheduled_scan_every: Duration,
    /// Percent of one CPU the scheduled scan may use.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub scheduled_scan_cpu: u32,
}

/// What the background work (scheduled scan, backups, inventory) may take on the
/// terminal (`agent run` and `up`).
#[derive(Args, Debug, Clone)]
pub struct BackgroundFlags {
    /// Bytes per second the scheduled scan and backups together may read from disk
    /// (suffixes k, M, G: powers of 1024); unlimited when absent.
    #[arg(long, value_parser = parse_bandwidth)]
    pub background_read_rate: Option<u64>,
    /// Background work waits (up to 5 s at a time) while other programs use more than
    /// this percent of all CPUs: the user works. 100 never waits.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub yield_to_user_above: u32,
}

impl BackgroundFlags {
    pub fn budget(&self) -> wardwatch_os::governor::Budget {
        wardwatch_os::governor::Budget {
            read_bytes_per_second: self.background_read_rate,
            yield_above_percent: (self.yield_to_user_above < 100)
                .then_some(self.yield_to_user_above),
        }
    }
}

/// Scheduled backups to the server (`agent run` and `up`).
#[derive(Args, Debug, Clone)]
pub struct BackupFlags {
    /// Back up this tree to the terminal's append-only repository on the server
    /// (repeatable). The guard's canary files and the agent's own state are left out.
    #[arg(long = "backup-path")]
    pub backup_paths: Vec<PathBuf>,
    /// Time between the starts of two backups.
    #[arg(long, default_value = "24h", value_parser = crate::duration::parse_duration)]
    pub backup_every: Duration,
    /// Upload limit in bytes per second (suffixes k, M, G: powers of 1024); unlimited
    /// when absent.
    #[arg(long, value_parser = parse_bandwidth)]
    pub backup_bandwidth: Option<u64>,
    /// Percent of one CPU a backup may use, averaged over the run (it also runs at idle
    /// CPU and I/O priority).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub backup_cpu: u32,
}

impl BackupFlags {
    pub fn config(&self) -> Option<wardwatch_agent::backup::BackupConfig> {
        (!self.backup_paths.is_empty()).then(|| wardwatch_agent::backup::BackupConfig {
            paths: self
                .backup_paths
                .iter()
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
                .collect(),
            every: self.backup_every,
            bandwidth: self.backup_bandwidth,
            cpu_percent: self.backup_cpu,
        })
    }
}

/// `500k`, `10M`, `1G` or a number of bytes, per second.
fn parse_bandwidth(text: &str) -> Result<u64, String> {
    parse_bytes(text, "a rate", "500k, 10M or 1G (bytes per second)")
}

/// `500k`, `10M`, `1G`, `2T` or a number of bytes (powers of 1024), above zero.
pub(crate) fn parse_bytes(text: &str, what: &str, examples: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, factor) = match text.chars().last() {
        Some('k' | 'K') => (&text[..text.len() - 1], 1u64 << 10),
        Some('M') => (&text[..text.len() - 1], 1 << 20),
        Some('G') => (&text[..text.len() - 1], 1 << 30),
        Some('T') => (&text[..text.len() - 1], 1 << 40),
        _ => (text, 1),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not {what}: write e.g. {examples}"))?;
    match n.checked_mul(factor) {
        Some(0) | None => Err(format!("{text:?}: give {what} above zero and below 2^64")),
        Some(bytes) => Ok(bytes),
    }
}

impl ScanFlags {
    pub fn scheduled(&self) -> Option<wardwatch_agent::scan_service::ScheduledConfig> {
        (!self.scheduled_scan_paths.is_empty()).then(|| {
            wardwatch_agent::scan_service::ScheduledConfig {
                paths: self.scheduled_scan_paths.clone(),
                every: self.scheduled_scan_every,
                cpu_percent: self.scheduled_scan_cpu,
                sources: self.options().sources,
                quarantine: !self.scan_no_quarantine,
            }
        })
    }

    pub fn options(&self) -> wardwatch_agent::scan_service::OnAccessConfig {
        let explicit = self.scan_rules.is_some() || !self.scan_hashes.is_empty();
        wardwatch_agent::scan_service::OnAccessConfig {
            paths: self
                .scan_paths
                .iter()
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
                .collect(),
            sources: explicit.then(|| wardwatch_scan::signatures::SignatureSources {
                rules: self.scan_rules.iter().cloned().collect(),
                hashes: self.scan_hashes.clone(),
                // The agent keeps them in its state folder (scan_service).
                rule_cache: None,
                cvd_keys: Vec::new(),
            }),
            block_exec: !self.scan_no_block_exec,
            max_size: 256 << 20,
            quarantine: !self.scan_no_quarantine,
        }
    }
}

impl GuardFlags {
    pub fn options(&self) -> GuardOptions {
        GuardOptions {
            paths: self.guard_paths.clone(),
            respond: self.guard_respond.into(),
            scope: self.guard_only_descendants_of,
        }
    }
}

impl RunTuning {
    pub fn options(&self) -> RunOptions {
        RunOptions {
            inventory_interval: self.interval,
            heartbeat_interval: self.heartbeat,
            batch_size: self.batch_size,
            spool_limits: SpoolLimits {
                max_events: self.spool_max_events,
                ..SpoolLimits::default()
            },
            collect: !self.no_inventory,
            max_events_per_second: self.max_events_per_second,
            guard: self.guard.options(),
            bundle_interval: self.bundle_interval,
            on_access: self.scan.options(),
            scheduled: self.scan.scheduled(),
            backup: self.backup.config(),
            background: self.background.budget(),
            patches: wardwatch_agent::patches::PatchOptions {
                root: self.trial_root.clone(),
                keyring: self.patch_keyring.clone(),
                dry_run: false,
            },
        }
    }
}

/// Copies publisher keys into the agent's own trusted keys.
fn trust_keys(dir: &StateDir, files: &[PathBuf]) -> anyhow::Result<()> {
    for file in files {
        let (id, added) = wardwatch_agent::bundles::add_trusted_key(dir, file)
            .with_context(|| format!("cannot trust the publisher key {}", file.display()))?;
        if added {
            println!("trusted publisher key {id}");
        }
    }
    Ok(())
}

/// This machine's hostname.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

pub async fn run(command: AgentCommand) -> anyhow::Result<()> {
    match command {
        AgentCommand::Enroll {
            state,
            server,
            token,
            ca_fingerprint,
            hostname: name,
            force,
            trusted_keys,
        } => {
            let enrollment = enroll(
                &state.dir(),
                &EnrollOptions {
                    server_url: server,
                    token,
                    ca_fingerprint,
                    hostname: name.unwrap_or_else(hostname),
                    force,
                },
            )
            .await?;
            println!(
                "enrolled as {} with {}; start reporting with `wardwatch agent run`",
                enrollment.host_id, enrollment.server_url
            );
            trust_keys(&state.dir(), &trusted_keys)?;
            Ok(())
        }
        AgentCommand::Run { state, tuning } => {
            trust_keys(&state.dir(), &tuning.trusted_keys)?;
            let (stop, stopped) = watch::channel(false);
            tokio::spawn(async move {
                super::shutdown_signal().await;
                let _ = stop.send(true);
            });
            wardwatch_agent::run::run(&state.dir(), tuning.options(), stopped).await?;
            Ok(())
        }
        AgentCommand::Patch {
            state,
            root,
            keyring,
            dry_run,
        } => {
            let dir = state.dir();
            let enrollment = dir.load_enrollment()?;
            let client =
                wardwatch_agent::client::ServerClient::from_state(&dir, &enrollment.server_url)?;
            let sync = wardwatch_agent::bundles::BundleSync::new(&dir, client);
            let options = wardwatch_agent::patches::PatchOptions {
                root,
                keyring,
                dry_run,
            };
            let report = wardwatch_agent::patches::install(&sync, &dir, &options).await?;
            if report.upgrades.is_empty() {
                println!("nothing to upgrade on this terminal");
            }
            for u in &report.upgrades {
                let verb = if report.dry_run {
                    "would upgrade"
                } else {
                    "upgraded"
                };
                println!("{verb} {} {} -> {}", u.name, u.from, u.to);
            }
            if report.reboot_required {
                println!("the system asks for a reboot");
            }
            Ok(())
        }
        AgentCommand::Status { state } => {
            let dir = state.dir();
            let enrollment = dir.load_enrollment()?;
            let spool = dir.open_spool(SpoolLimits::default())?;
            println!("host id:        {}", enrollment.host_id);
            println!("server:         {}", enrollment.server_url);
            println!("CA fingerprint: {}", enrollment.ca_fingerprint);
            println!("spooled events: {}", spool.pending_count()?);
            Ok(())
        }
        AgentCommand::TestEvents { state, count } => {
            let dir = state.dir();
            let mut spool = dir
                .open_spool(SpoolLimits::default())
                .with_context(|| format!("cannot open the spool in {}", dir.root.display()))?;
            let mut written = 0;
            while written < count {
                let chunk: Vec<EventBody> = (written..count.min(written + 1000))
                    .map(|n| EventBody::Test {
                        note: format!("test event {}", n + 1),
                    })
                    .collect();
                spool.push_many(wardwatch_proto::now_millis(), &chunk)?;
                written += chunk.len() as u64;
            }
            println!("{count} test events spooled; `wardwatch agent run` sends them");
            Ok(())
        }
    }
}
