//! On-access scanning inside the agent: signatures from the installed `signatures`
//! bundle (`rules/` with YARA files, `hashes/` with hash lists) or given on the command
//! line, reloaded when a newer bundle is installed, and every detection turned into an
//! alert event for the spool.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};
use wardwatch_bundle::Kind;
use wardwatch_proto::EventBody;

use crate::state::StateDir;
use wardwatch_scan::alert::access_alert;
use wardwatch_scan::onaccess::{OnAccess, OnAccessOptions, Trigger};
use wardwatch_scan::quarantine::{detection_events, Vault};
use wardwatch_scan::signatures::{load, SignatureSources};

/// How often the installed signatures are checked for a newer bundle.
const RELOAD_CHECK: Duration = Duration::from_secs(30);

/// On-access scanning as configured for `agent run` and `up`.
#[derive(Debug, Clone, Default)]
pub struct OnAccessConfig {
    /// Directories to watch; none: off.
    pub paths: Vec<PathBuf>,
    /// Signatures given explicitly; `None`: the installed signatures bundle.
    pub sources: Option<SignatureSources>,
    pub block_exec: bool,
    pub max_size: u64,
    /// Move files found on write into the agent's quarantine vault.
    pub quarantine: bool,
}

/// The signatures of the installed bundle, where the bundle lays them out.
pub fn bundle_sources(state: &StateDir) -> (SignatureSources, PathBuf) {
    let dir = crate::bundles::bundles_dir(state).join(Kind::Signatures.as_str());
    let mut sources = SignatureSources {
        rule_cache: Some(state.rule_cache_dir()),
        ..SignatureSources::default()
    };
    if dir.join("rules").is_dir() {
        sources.rules.push(dir.join("rules"));
    }
    if dir.join("hashes").is_dir() {
        sources.hashes.push(dir.join("hashes"));
    }
    (sources, dir)
}

/// When the installed bundle last changed (its manifest is replaced with it).
fn installed_stamp(dir: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(dir.join("manifest.json"))
        .and_then(|m| m.modified())
        .ok()
}

/// Starts on-access scanning on its own thread; alert events arrive on the channel.
pub fn spawn(
    state: &StateDir,
    config: OnAccessConfig,
    shutdown: watch::Receiver<bool>,
) -> mpsc::Receiver<EventBody> {
    let (tx, rx) = mpsc::channel(256);
    let state = state.clone();
    std::thread::spawn(move || {
        let mut running: Option<OnAccess> = None;
        let mut loaded_stamp = None;
        loop {
            let (sources, dir) = match &config.sources {
                Some(s) => (
                    SignatureSources {
                        rule_cache: Some(state.rule_cache_dir()),
                        ..s.clone()
                    },
                    PathBuf::new(),
                ),
                None => bundle_sources(&state),
            };
            let stamp = installed_stamp(&dir);
            if running.is_none() || (config.sources.is_none() && stamp != loaded_stamp) {
                match start(&state, &config, &sources, tx.clone()) {
                    Ok(new) => {
                        // The new scanner is marked before the old one goes: no gap.
                        running = Some(new);
                        loaded_stamp = stamp;
                    }
                    Err(e) => tracing::error!(error = %e, "on-access scanning not (re)started"),
                }
            }
            for _ in 0..RELOAD_CHECK.as_secs() {
                if *shutdown.borrow() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    });
    rx
}

fn start(
    state: &StateDir,
    config: &OnAccessConfig,
    sources: &SignatureSources,
    tx: mpsc::Sender<EventBody>,
) -> anyhow::Result<OnAccess> {
    let (engine, loaded) = load(sources)?;
    let options = OnAccessOptions {
        paths: config.paths.clone(),
        block_exec: config.block_exec,
        max_size: config.max_size,
    };
    let vault = if config.quarantine {
        Some(Vault::open(&state.quarantine_dir())?)
    } else {
        None
    };
    let running = OnAccess::start(
        Arc::new(engine),
        options,
        Box::new(move |detection| {
            tracing::warn!(path = %detection.path.display(), pid = detection.pid, blocked = detection.blocked, "malware detected on access");
            let vault = match detection.trigger {
                Trigger::Written => vault.as_ref(),
                Trigger::Exec => None,
            };
            let (events, _) = detection_events(
                vault,
                &detection.path,
                &detection.scanned,
                &detection.detections,
                "agent",
                |id| access_alert(&detection, id),
            );
            for event in events {
                if tx.blocking_send(event).is_err() {
                    tracing::error!("the agent is stopping; a detection was not spooled");
                }
            }
        }),
    )?;
    tracing::info!(
        paths = ?config.paths,
        rule_files = loaded.rule_files,
        hash_signatures = loaded.hash_signatures,
        "on-access scanning started"
    );
    Ok(running)
}

/// The scheduled full scan as configured for `agent run` and `up`.
#[derive(Debug, Clone)]
pub struct ScheduledConfig {
    /// Trees to scan; none: off.
    pub paths: Vec<PathBuf>,
    /// Time between the start of one pass and the next.
    pub every: Duration,
    pub cpu_percent: u32,
    /// Signatures given explicitly; `None`: the installed signatures bundle.
    pub sources: Option<SignatureSources>,
    pub quarantine: bool,
}

/// Starts the scheduled scan on its own low-priority thread; alert and audit events
/// arrive on the channel. A pass interrupted by a stop resumes at the next start.
pub fn spawn_scheduled(
    state: &StateDir,
    config: ScheduledConfig,
    governor: std::sync::Arc<wardwatch_os::governor::Governor>,
    shutdown: watch::Receiver<bool>,
) -> mpsc::Receiver<EventBody> {
    use wardwatch_scan::schedule::{lower_thread_priority, run_pass, ScanCache, ScheduleOptions};
    let (tx, rx) = mpsc::channel(256);
    let state = state.clone();
    std::thread::spawn(move || {
        lower_thread_priority();
        let stop = || *shutdown.borrow();
        loop {
            let started = std::time::Instant::now();
            let sources = config
                .sources
                .clone()
                .unwrap_or_else(|| bundle_sources(&state).0);
            let pass = (|| -> anyhow::Result<wardwatch_scan::schedule::PassReport> {
                let (engine, _) = load(&sources)?;
                let cache = ScanCache::open(&state.root().join("scan-cache.db"))?;
                let vault = if config.quarantine {
                    Some(Vault::open(&state.quarantine_dir())?)
                } else {
                    None
                };
                let options = ScheduleOptions {
                    paths: config.paths.clone(),
                    walk: wardwatch_scan::walk::WalkOptions::default(),
                    max_size: 256 << 20,
                    cpu_percent: config.cpu_percent,
                    governor: governor.clone(),
                    signatures_id: wardwatch_scan::signatures::signatures_id(&sources),
                };
                Ok(run_pass(&engine, &cache, &options, &stop, &mut |found| {
                    let (events, _) = detection_events(
                        vault.as_ref(),
                        &found.path,
                        &found.scanned,
                        &found.detections,
                        "agent",
                        |id| {
                            wardwatch_scan::alert::scan_alert(
                                "scan.scheduled",
                                &found.path,
                                found.size,
                                &found.detections,
                                id,
                            )
                        },
                    );
                    for event in events {
                        let _ = tx.blocking_send(event);
                    }
                })?)
            })();
            match pass {
                Ok(report) => tracing::info!(?report, "scheduled scan pass"),
                Err(e) => tracing::error!(error = %e, "scheduled scan failed"),
            }
            while started.elapsed() < config.every {
                if stop() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    });
    rx
}
