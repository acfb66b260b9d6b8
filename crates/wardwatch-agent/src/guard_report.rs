//! The guard inside the agent: its alerts become spooled events of the highest priority,
//! so they reach the server first and survive an outage like every other event.

use std::path::PathBuf;

use tokio::sync::{mpsc, watch};
use wardwatch_detect::behaviour::Level;
use wardwatch_proto::{Alert, EventBody, Severity};

use crate::guard::{run_guard, GuardAlert, GuardConfig, Respond};

/// Where and how the agent runs the guard.
#[derive(Debug, Clone, Default)]
pub struct GuardOptions {
    pub paths: Vec<PathBuf>,
    pub respond: Respond,
    /// Act only on descendants of this pid (trials on shared machines, tests).
    pub scope: Option<u32>,
}

/// The spooled event for a guard alert.
pub fn alert_event(alert: &GuardAlert) -> EventBody {
    let severity = match alert.level {
        Level::Suspicious => Severity::Medium,
        Level::Suspend => Severity::High,
        Level::Kill => Severity::Critical,
    };
    let details = serde_json::to_value(alert).unwrap_or(serde_json::Value::Null);
    let action = details
        .pointer("/action/kind")
        .and_then(|v| v.as_str())
        .unwrap_or("reported")
        .to_string();
    let program = alert
        .process
        .exe
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("pid {}", alert.process.pid));
    EventBody::Alert(Alert {
        source: "guard.ransomware".into(),
        severity,
        title: format!(
            "ransomware behaviour by {program} (pid {}): {action}, {} files touched",
            alert.process.pid,
            alert.files.len() + alert.files_omitted
        ),
        details,
    })
}

/// Starts the guard; its alerts arrive on the returned channel. A guard that cannot
/// start (not root, no fanotify) is logged and leaves the rest of the agent running.
pub fn spawn(options: GuardOptions, shutdown: watch::Receiver<bool>) -> mpsc::Receiver<GuardAlert> {
    let (tx, rx) = mpsc::channel(256);
    let mut config = GuardConfig::new(options.paths);
    config.respond = options.respond;
    config.scope = options.scope;
    tokio::spawn(async move {
        if let Err(e) = run_guard(config, tx, shutdown).await {
            tracing::error!(error = %e, "the ransomware guard stopped; the agent goes on reporting without it");
        }
    });
    rx
}
