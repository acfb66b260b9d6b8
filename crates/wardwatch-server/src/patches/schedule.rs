//! The maintenance-window job: every minute, each terminal inside its department's open
//! window that the installed `patches` bundle has upgrades for gets a `patch.install`
//! command, once per opening. A terminal at work puts a scheduled install off (its
//! result starts with [`DEFERRED`]); the job asks again after [`RETRY_DEFERRED`] while
//! the window stays open.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use wardwatch_proto::{Command, PatchInstallArgs};

use super::view;
use crate::bundles::InstalledBundles;
use crate::db::StoreError;
use crate::storage::Storage;

/// How the agent's result of a scheduled install it put off begins.
pub const DEFERRED: &str = "deferred";
/// How long after a deferral the window asks again.
pub const RETRY_DEFERRED: Duration = Duration::from_secs(600);
/// Who the audit record names for the commands the job queues.
pub const ACTOR: &str = "maintenance window";
const EVERY: Duration = Duration::from_secs(60);

/// Queues what is due at `now`; returns how many commands.
pub fn queue_due(
    store: &dyn Storage,
    bundles: &InstalledBundles,
    data_dir: &std::path::Path,
    now: i64,
) -> Result<usize, StoreError> {
    let windows = store.patch_windows()?;
    if windows.is_empty() {
        return Ok(0);
    }
    let current = view::load(store, bundles, data_dir, now)?;
    let retry = RETRY_DEFERRED.as_millis() as i64;
    let mut queued = 0;
    for host in current.hosts.iter().filter(|h| h.available > 0) {
        let Some(opening) = windows
            .iter()
            .find(|w| w.department == host.department)
            .and_then(|w| w.opening(now))
        else {
            continue;
        };
        let due = match &host.last_install {
            None => true,
            Some(last) if last.queued_at < opening => true,
            Some(last) => {
                last.state == "failed"
                    && last.summary.starts_with(DEFERRED)
                    && now - last.at >= retry
            }
        };
        if due {
            let command = Command::PatchInstall(PatchInstallArgs {
                dry_run: false,
                scheduled: true,
            });
            store.create_command(&host.host_id, &command, ACTOR, now)?;
            tracing::info!(host = %host.host_id, department = %host.department, "patch installation queued by the maintenance window");
            queued += 1;
        }
    }
    Ok(queued)
}

/// Runs [`queue_due`] every minute until shutdown; a failure is logged when it starts.
pub async fn run_schedule(
    store: Arc<dyn Storage>,
    bundles: Arc<InstalledBundles>,
    data_dir: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut failing = false;
    loop {
        let (s, b, d) = (store.clone(), bundles.clone(), data_dir.clone());
        let result = tokio::task::spawn_blocking(move || {
            queue_due(s.as_ref(), &b, &d, wardwatch_proto::now_millis())
        })
        .await;
        match result {
            Ok(Ok(_)) => failing = false,
            Ok(Err(e)) if !failing => {
                failing = true;
                tracing::error!(error = %e, "cannot queue the maintenance windows' patch installations");
            }
            Ok(Err(_)) => {}
            Err(e) => tracing::error!(error = %e, "the maintenance-window job panicked"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}
