//! Keeps the risk-over-time record: today's open findings when a match changed them (at
//! most every [`AFTER_CHANGE`]) and at least every hour, and the past [`HISTORY_DAYS`]
//! filled in once from when findings were first seen and fixed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::storage::Storage;

/// Days the risk chart shows.
pub const HISTORY_DAYS: u32 = 30;
/// How often today's figures are recorded again when nothing changed.
const RECORD_EVERY: Duration = Duration::from_secs(3600);
/// How often the matcher's changes are looked for (and at most recorded).
const AFTER_CHANGE: Duration = Duration::from_secs(15);

/// Records at start, after the findings changed and every [`RECORD_EVERY`], until
/// shutdown.
pub async fn run_schedule(
    store: Arc<dyn Storage>,
    vuln: Arc<crate::vuln::VulnService>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backfilled = false;
    let mut recorded_generation = None;
    let mut recorded_at = std::time::Instant::now();
    loop {
        let generation = vuln.findings_generation();
        let due = recorded_generation != Some(generation) || recorded_at.elapsed() >= RECORD_EVERY;
        if !due {
            tokio::select! {
                _ = tokio::time::sleep(AFTER_CHANGE) => continue,
                _ = shutdown.changed() => return,
            }
        }
        let s = store.clone();
        let fill = !backfilled;
        let result = tokio::task::spawn_blocking(move || {
            let now = wardwatch_proto::now_millis();
            if fill {
                s.backfill_risk_days(now, HISTORY_DAYS)?;
            }
            s.record_risk_day(now)
        })
        .await;
        match result {
            Ok(Ok(())) => {
                backfilled = true;
                recorded_generation = Some(generation);
                recorded_at = std::time::Instant::now();
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot record the fleet's risk of today"),
            Err(e) => tracing::error!(error = %e, "recording the fleet's risk panicked"),
        }
        tokio::select! {
            _ = tokio::time::sleep(AFTER_CHANGE) => {}
            _ = shutdown.changed() => return,
        }
    }
}
