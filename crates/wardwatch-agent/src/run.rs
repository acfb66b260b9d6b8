//! The agent's main loop: collect the inventory, spool what changed, send the spool,
//! beat the heart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use wardwatch_proto::{EventBody, Inventory};

use crate::client::{SendError, ServerClient};
use crate::spool::{Spool, SpoolLimits};
use crate::state::StateDir;
use crate::AgentError;
use wardwatch_inventory::{collect_inventory, diff_inventory};

/// Key of the last reported inventory in the spool's state table.
const INVENTORY_STATE: &str = "inventory";
/// Longest pause between two attempts to reach an unreachable server.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often the server is asked for commands from the console (and at start).
const COMMAND_POLL: Duration = Duration::from_secs(10);
/// Attempts to report a command's outcome before it is left for the server to offer
/// again.
const RESULT_ATTEMPTS: u32 = 6;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How often the inventory is collected again.
    pub inventory_interval: Duration,
    pub heartbeat_interval: Duration,
    /// Most events in one batch.
    pub batch_size: usize,
    pub spool_limits: SpoolLimits,
    /// Collect and report the inventory (off for load tests that only send events).
    pub collect: bool,
    /// Upper bound on events sent per second, for slow links to remote sites; 0 for none.
    pub max_events_per_second: u32,
    /// The ransomware guard, when it has directories to protect.
    pub guard: wardwatch_guard::report::GuardOptions,
    /// How often the server is asked for newer bundles (and at start); zero for never.
    pub bundle_interval: Duration,
    /// On-access malware scanning, when it has directories to watch.
    pub on_access: crate::scan_service::OnAccessConfig,
    /// The scheduled full scan, when it has trees to scan.
    pub scheduled: Option<crate::scan_service::ScheduledConfig>,
    /// Scheduled backups to the server, when there are paths to back up.
    pub backup: Option<crate::backup::BackupConfig>,
    /// How `patch.install` commands run apt (keyring, and the trial root below).
    pub patches: crate::patches::PatchOptions,
    /// What the background work (scheduled scan, backups, inventory) may take.
    pub background: wardwatch_os::governor::Budget,
}

impl RunOptions {
    /// A system laid out in a folder that stands for this terminal (trials): its
    /// inventory is reported and its packages are the ones patched.
    fn trial_root(&self) -> Option<PathBuf> {
        self.patches.root.clone()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            inventory_interval: Duration::from_secs(60),
            heartbeat_interval: Duration::from_secs(30),
            batch_size: 500,
            spool_limits: SpoolLimits::default(),
            collect: true,
            max_events_per_second: 0,
            guard: wardwatch_guard::report::GuardOptions::default(),
            bundle_interval: Duration::from_secs(300),
            on_access: crate::scan_service::OnAccessConfig::default(),
            scheduled: None,
            backup: None,
            patches: crate::patches::PatchOptions::default(),
            background: wardwatch_os::governor::Budget::default(),
        }
    }
}

type SharedSpool = Arc<Mutex<Spool>>;

/// Runs a spool operation off the async runtime (SQLite waits for the disk).
async fn with_spool<T: Send + 'static>(
    spool: &SharedSpool,
    f: impl FnOnce(&mut Spool) -> Result<T, crate::spool::SpoolError> + Send + 'static,
) -> Result<T, AgentError> {
    let spool = spool.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = spool.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|e| AgentError::Internal(e.to_string()))?
    .map_err(AgentError::Spool)
}

/// Runs the agent until `shutdown` turns true or the server shuts the terminal out.
pub async fn run(
    state: &StateDir,
    options: RunOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), AgentError> {
    let enrollment = state.load_enrollment()?;
    let client = Arc::new(ServerClient::from_state(state, &enrollment.server_url)?);
    let spool: SharedSpool = Arc::new(Mutex::new(state.open_spool(options.spool_limits)?));
    let wake = Arc::new(Notify::new());
    let governor = wardwatch_os::governor::Governor::new(options.background);
    tracing::info!(host_id = %enrollment.host_id, server = %enrollment.server_url, "agent running");

    if options.collect {
        report_inventory(&spool, true, options.trial_root(), &governor).await?;
    }
    let collector = {
        let spool = spool.clone();
        let wake = wake.clone();
        let governor = governor.clone();
        let mut shutdown = shutdown.clone();
        let options = options.clone();
        tokio::spawn(async move {
            if !options.collect {
                return;
            }
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(options.inventory_interval) => {}
                    _ = shutdown.changed() => return,
                }
                match report_inventory(&spool, false, options.trial_root(), &governor).await {
                    Ok(true) => wake.notify_one(),
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "inventory collection failed"),
                }
            }
        })
    };
    let guard = (!options.guard.paths.is_empty()).then(|| {
        let mut alerts = wardwatch_guard::report::spawn(options.guard.clone(), shutdown.clone());
        let spool = spool.clone();
        let wake = wake.clone();
        tokio::spawn(async move {
            while let Some(alert) = alerts.recv().await {
                let event = wardwatch_guard::report::alert_event(&alert);
                tracing::warn!(pid = alert.process.pid, "ransomware guard alert");
                match with_spool(&spool, move |s| {
                    s.push(wardwatch_proto::now_millis(), &event)
                })
                .await
                {
                    Ok(_) => wake.notify_one(),
                    Err(e) => tracing::error!(error = %e, "cannot spool a guard alert"),
                }
            }
        })
    });
    let mut scan_events = Vec::new();
    if !options.on_access.paths.is_empty() {
        scan_events.push(crate::scan_service::spawn(
            state,
            options.on_access.clone(),
            shutdown.clone(),
        ));
    }
    if let Some(scheduled) = options.scheduled.clone().filter(|s| !s.paths.is_empty()) {
        scan_events.push(crate::scan_service::spawn_scheduled(
            state,
            scheduled,
            governor.clone(),
            shutdown.clone(),
        ));
    }
    if let Some(backup) = options.backup.clone().filter(|b| !b.paths.is_empty()) {
        scan_events.push(crate::backup::spawn_scheduled(
            state,
            (*client).clone(),
            backup,
            governor.clone(),
            shutdown.clone(),
        ));
    }
    let scan_forwarders: Vec<_> = scan_events
        .into_iter()
        .map(|mut events| {
            let spool = spool.clone();
            let wake = wake.clone();
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    match with_spool(&spool, move |s| {
                        s.push(wardwatch_proto::now_millis(), &event)
                    })
                    .await
                    {
                        Ok(_) => wake.notify_one(),
                        Err(e) => {
                            tracing::error!(error = %e, "cannot spool a detection or backup report")
                        }
                    }
                }
            })
        })
        .collect();
    let bundles = (!options.bundle_interval.is_zero()).then(|| {
        spawn_bundle_sync(
            state,
            (*client).clone(),
            options.bundle_interval,
            spool.clone(),
            wake.clone(),
            shutdown.clone(),
        )
    });
    let command_stop = Arc::new(AtomicBool::new(false));
    let commands = spawn_commands(
        client.clone(),
        command_context(state, &options, &client),
        command_stop.clone(),
        spool.clone(),
        wake.clone(),
        shutdown.clone(),
    );
    let mut heart = {
        let spool = spool.clone();
        let client = client.clone();
        let mut shutdown = shutdown.clone();
        let interval = options.heartbeat_interval;
        let guard_folders = u32::try_from(options.guard.paths.len()).unwrap_or(u32::MAX);
        tokio::spawn(async move {
            loop {
                let counts =
                    with_spool(&spool, |s| Ok((s.pending_count()?, s.dropped_total()))).await;
                if let Ok((pending, dropped)) = counts {
                    match client.heartbeat(pending, dropped, guard_folders).await {
                        Ok(()) => {}
                        Err(SendError::Refused { status, message }) => {
                            return Err(AgentError::Refused { status, message })
                        }
                        Err(e) => tracing::debug!(error = %e, "heartbeat not delivered"),
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
            }
        })
    };
    // A refusal seen by the heartbeat (revoked while idle) stops the agent as well.
    let result = tokio::select! {
        result = send_loop(&client, &spool, &wake, &options, &mut shutdown) => result,
        joined = &mut heart => match joined {
            Ok(Err(e)) => Err(e),
            _ => Ok(()),
        },
    };
    collector.abort();
    heart.abort();
    // A scan in progress sees the flag and ends early.
    command_stop.store(true, Ordering::Relaxed);
    commands.abort();
    if let Some(bundles) = bundles {
        bundles.abort();
    }
    for forwarder in scan_forwarders {
        forwarder.abort();
    }
    if let Some(guard) = guard {
        // The alert forwarder ends when the guard has stopped (removing its canaries).
        let _ = tokio::time::timeout(Duration::from_secs(10), guard).await;
    }
    result
}
/// What console commands use of the agent's configuration: a scan with no paths covers
/// the scheduled-scan trees, else the on-access directories, with the same signatures.
fn command_context(
    state: &StateDir,
    options: &RunOptions,
    client: &ServerClient,
) -> crate::commands::CommandContext {
    let scheduled = options.scheduled.as_ref().filter(|s| !s.paths.is_empty());
    crate::commands::CommandContext {
        state: state.clone(),
        default_scan_paths: scheduled
            .map(|s| s.paths.clone())
            .unwrap_or_else(|| options.on_access.paths.clone()),
        sources: options
            .on_access
            .sources
            .clone()
            .or_else(|| scheduled.and_then(|s| s.sources.clone())),
        quarantine: options.on_access.quarantine || scheduled.is_some_and(|s| s.quarantine),
        backup_client: Some(client.clone()),
        patches: options.patches.clone(),
    }
}

/// Asks the server for console commands at start and every [`COMMAND_POLL`], runs each
/// off the async runtime, spools the events it produced and reports its outcome.
fn spawn_commands(
    client: Arc<ServerClient>,
    context: crate::commands::CommandContext,
    stop: Arc<AtomicBool>,
    spool: SharedSpool,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match client.take_commands().await {
                Ok(commands) => {
                    for command in commands {
                        if *shutdown.borrow() {
                            return;
                        }
                        run_one_command(&client, &context, &stop, &spool, &wake, command).await;
                    }
                }
                Err(e) => tracing::debug!(error = %e, "cannot fetch commands from the server"),
            }
            let tidy_context = context.clone();
            if let Ok(Some(event)) =
                tokio::task::spawn_blocking(move || crate::commands::tidy_isolation(&tidy_context))
                    .await
            {
                let spooled = with_spool(&spool, move |s| {
                    s.push(wardwatch_proto::now_millis(), &event)
                })
                .await;
                if spooled.is_ok() {
                    wake.notify_one();
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(COMMAND_POLL) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

async fn run_one_command(
    client: &ServerClient,
    context: &crate::commands::CommandContext,
    stop: &Arc<AtomicBool>,
    spool: &SharedSpool,
    wake: &Notify,
    command: wardwatch_proto::PendingCommand,
) {
    let id = command.id;
    tracing::info!(id, kind = %command.kind, "running a command from the console");
    let job = {
        let context = context.clone();
        let stop = stop.clone();
        tokio::task::spawn_blocking(move || {
            let mut events = Vec::new();
            let outcome =
                crate::commands::run_command(&context, &command, &stop, &mut |e| events.push(e));
            (outcome, events)
        })
    };
    let (outcome, events) = match job.await {
        Ok(done) => done,
        Err(e) => (
            Err(format!("the command failed inside the agent: {e}")),
            Vec::new(),
        ),
    };
    if !events.is_empty() {
        // Spooled before the outcome is reported: a finished command's alerts and audit
        // entries are already on their way.
        let spooled = with_spool(spool, move |s| {
            let now = wardwatch_proto::now_millis();
            for event in &events {
                s.push(now, event)?;
            }
            Ok(())
        })
        .await;
        match spooled {
            Ok(()) => wake.notify_one(),
            Err(e) => tracing::error!(error = %e, "cannot spool the events of a command"),
        }
    }
    let (ok, result) = match outcome {
        Ok(result) => (true, result),
        Err(sentence) => {
            tracing::warn!(id, error = %sentence, "a command from the console failed");
            (false, serde_json::Value::String(sentence))
        }
    };
    let mut pause = Duration::from_secs(1);
    for attempt in 1..=RESULT_ATTEMPTS {
        match client.finish_command(id, ok, &result).await {
            Ok(()) => return,
            Err(SendError::Transient(e)) if attempt < RESULT_ATTEMPTS => {
                tracing::debug!(id, error = %e, "command outcome not delivered; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "the outcome of a command was not accepted");
                return;
            }
        }
    }
}

/// Fetches bundles at start and every `interval`; a refused bundle becomes a spooled
/// alert, since it may mean the server pushes what the publisher never signed.
fn spawn_bundle_sync(
    state: &StateDir,
    client: ServerClient,
    interval: Duration,
    spool: SharedSpool,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let mut sync = crate::bundles::BundleSync::new(state, client);
    tokio::spawn(async move {
        loop {
            match sync.run_once().await {
                Ok(report) => {
                    for outcome in report.outcomes {
                        if let crate::bundles::Outcome::Refused {
                            kind,
                            version,
                            reason,
                            new: true,
                        } = outcome
                        {
                            let event = crate::bundles::refusal_event(&kind, version, &reason);
                            match with_spool(&spool, move |s| {
                                s.push(wardwatch_proto::now_millis(), &event)
                            })
                            .await
                            {
                                Ok(_) => wake.notify_one(),
                                Err(e) => {
                                    tracing::error!(error = %e, "cannot spool a bundle refusal")
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "bundle check with the server failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

/// Collects the inventory and spools it: the whole inventory at start, the changes
/// after. Returns whether anything was spooled.
async fn report_inventory(
    spool: &SharedSpool,
    full: bool,
    trial_root: Option<PathBuf>,
    governor: &Arc<wardwatch_os::governor::Governor>,
) -> Result<bool, AgentError> {
    let governor = governor.clone();
    let current = tokio::task::spawn_blocking(move || {
        // A collection is short, but the ones after the first wait a moment while the
        // user works.
        if !full {
            governor.wait_for_user(&|| false);
        }
        match &trial_root {
            Some(root) => wardwatch_inventory::collect_inventory_at(root),
            None => collect_inventory(),
        }
    })
    .await
    .map_err(|e| AgentError::Internal(e.to_string()))?
    .map_err(|e| AgentError::Collect(e.to_string()))?;
    with_spool(spool, move |s| {
        let previous: Option<Inventory> = s
            .state(INVENTORY_STATE)?
            .and_then(|json| serde_json::from_str(&json).ok());
        let events = match (&previous, full) {
            (Some(previous), false) => diff_inventory(previous, &current),
            _ => vec![EventBody::Inventory(current.clone())],
        };
        if events.is_empty() {
            return Ok(false);
        }
        let snapshot = serde_json::to_string(&current).unwrap_or_default();
        let count = events.len();
        s.push_with_state(
            wardwatch_proto::now_millis(),
            &events,
            INVENTORY_STATE,
            &snapshot,
        )?;
        if !full {
            tracing::info!(changes = count, "inventory changed");
        }
        Ok(true)
    })
    .await
}

/// Sends the spool to the server until shutdown; never drops an event it cannot send.
async fn send_loop(
    client: &ServerClient,
    spool: &SharedSpool,
    wake: &Notify,
    options: &RunOptions,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), AgentError> {
    let batch_size = options.batch_size;
    let mut backoff = Duration::from_millis(250);
    let mut limit = batch_size.max(1);
    let mut failing_since: Option<std::time::Instant> = None;
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let pending = with_spool(spool, move |s| s.peek(limit)).await?;
        if pending.events.is_empty() {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => return Ok(()),
            }
            continue;
        }
        let seqs: Vec<u64> = pending.events.iter().map(|e| e.seq).collect();
        let sent = seqs.len();
        let outcome = tokio::select! {
            outcome = client.send_batch(pending.events) => outcome,
            _ = shutdown.changed() => return Ok(()),
        };
        match outcome {
            Ok(ack) => {
                with_spool(spool, move |s| s.acknowledge(&seqs)).await?;
                if failing_since.take().is_some() {
                    tracing::info!("server reachable again; sending the spooled events");
                }
                tracing::debug!(
                    stored = ack.stored,
                    duplicates = ack.duplicates,
                    "batch acknowledged"
                );
                backoff = Duration::from_millis(250);
                limit = batch_size.max(1);
                if options.max_events_per_second > 0 {
                    let pause = Duration::from_secs_f64(
                        sent as f64 / f64::from(options.max_events_per_second),
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.changed() => return Ok(()),
                    }
                }
            }
            Err(SendError::Transient(detail)) => {
                let since = failing_since.get_or_insert_with(std::time::Instant::now);
                tracing::warn!(
                    error = %detail,
                    retry_in_ms = backoff.as_millis() as u64,
                    failing_for_s = since.elapsed().as_secs(),
                    "cannot deliver events; they stay in the spool"
                );
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(SendError::Refused { status, message }) => {
                return Err(AgentError::Refused { status, message });
            }
            Err(SendError::Rejected { status, message }) if seqs.len() > 1 => {
                // Narrow down the one bad event instead of blocking everything behind it.
                tracing::warn!(status, error = %message, events = seqs.len(), "batch rejected; retrying in smaller batches");
                limit = (seqs.len() / 2).max(1);
            }
            Err(SendError::Rejected { status, message }) => {
                tracing::error!(status, error = %message, seq = seqs[0], "the server rejects this event; it is set aside in the spool");
                let seq = seqs[0];
                with_spool(spool, move |s| s.set_aside_rejected(seq, &message)).await?;
                limit = batch_size.max(1);
            }
        }
    }
}
