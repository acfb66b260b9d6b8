//! Restore from a guard alert: the alert names every file the stopped process changed,
//! with its hash from before; the terminal is told to put exactly those back from the
//! newest snapshot taken before the first write, each checked against that hash.

use wardwatch_proto::{BackupRestoreArgs, Command, RestoreFile, MAX_RESTORE_FILES};

use crate::alerts::AlertDetail;
use crate::commands::HostCommand;
use crate::db::StoreError;
use crate::storage::Storage;

/// Why an alert cannot be restored from.
#[derive(Debug, thiserror::Error)]
pub enum RestoreRefusal {
    #[error("no alert {0}")]
    NoAlert(i64),
    #[error("alert {id} comes from {from}, not the ransomware guard: only the guard's alerts list the files a process changed")]
    NotGuard { id: i64, from: String },
    #[error("alert {0} names no changed file whose content from before is known (files the process only created have nothing to restore)")]
    NothingToRestore(i64),
    #[error(
        "alert {0} does not say when the process started writing, so no snapshot can be chosen"
    )]
    NoTime(i64),
    #[error("terminal {0} is revoked or gone; it cannot take the restore")]
    HostGone(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The restore command an alert asks for: its files with a hash from before, the
/// canaries left out, and the time of the first write.
pub fn restore_command(alert: &AlertDetail) -> Result<Command, RestoreRefusal> {
    let id = alert.summary.id;
    let source = alert.summary.source.clone().unwrap_or_default();
    if !source.starts_with("guard.") {
        return Err(RestoreRefusal::NotGuard { id, from: source });
    }
    let before_ms = alert
        .times
        .first_event
        .or(alert.summary.alert_time)
        .or(alert.summary.time)
        .ok_or(RestoreRefusal::NoTime(id))?;
    let mut files: Vec<RestoreFile> = alert
        .files
        .iter()
        .filter_map(|f| {
            let path = f.path.clone()?;
            let before = f.before.as_ref()?;
            let name = path.rsplit('/').next().unwrap_or_default();
            if !path.starts_with('/')
                || name.starts_with(".0000-wardwatch-canary")
                || name.starts_with(".zzzz-wardwatch-canary")
            {
                return None;
            }
            let sha256 =
                (!before.sampled && before.sha256.len() == 64).then(|| before.sha256.clone());
            Some(RestoreFile { path, sha256 })
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    files.truncate(MAX_RESTORE_FILES);
    if files.is_empty() {
        return Err(RestoreRefusal::NothingToRestore(id));
    }
    Ok(Command::BackupRestore(BackupRestoreArgs {
        alert_id: id,
        before_ms,
        files,
    }))
}

/// Queues the restore of an alert's files for its terminal, audited as the actor's.
pub fn queue_restore(
    store: &dyn Storage,
    alert_id: i64,
    actor: &str,
) -> Result<HostCommand, RestoreRefusal> {
    let alert = store
        .alert(alert_id)?
        .ok_or(RestoreRefusal::NoAlert(alert_id))?;
    let command = restore_command(&alert)?;
    let host_id = alert.summary.host_id.clone();
    match store.host(&host_id)? {
        Some(h) if !h.revoked => {}
        _ => return Err(RestoreRefusal::HostGone(host_id)),
    }
    Ok(store.create_command(&host_id, &command, actor, wardwatch_proto::now_millis())?)
}
