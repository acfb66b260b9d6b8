//! Commands from the console, run on the terminal: a scan now, restoring or deleting a
//! quarantined file, and restores from backups (a guard alert's files, or what an admin
//! chose of a snapshot). The server cannot reach a terminal, so the agent fetches them when
//! it polls (see `run.rs`); this module only runs one and says how it went. Everything
//! here blocks (files, signatures); call it off the async runtime.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use serde_json::{json, Value};
use wardwatch_proto::{Command, CommandKind, EventBody, PendingCommand, ScanArgs, VaultArgs};

use crate::state::StateDir;
use wardwatch_scan::alert::scan_alert;
use wardwatch_scan::quarantine::{action_event, detection_events, Vault};
use wardwatch_scan::run::{scan_paths, ScanEvent, ScanOptions};
use wardwatch_scan::signatures::{load, SignatureSources};

/// Who the audit record names for actions the console asked for.
const ACTOR: &str = "console";

/// What commands need to know of the agent's configuration.
#[derive(Debug, Clone)]
pub struct CommandContext {
    pub state: StateDir,
    /// Scanned when a scan command names no paths: the scheduled-scan trees, else the
    /// on-access directories.
    pub default_scan_paths: Vec<PathBuf>,
    /// Signatures given explicitly; `None`: the installed signatures bundle.
    pub sources: Option<SignatureSources>,
    /// Move what a scan finds into the quarantine vault.
    pub quarantine: bool,
    /// The client restores from backups go through; `None`: not connected.
    pub backup_client: Option<crate::client::ServerClient>,
    /// How `patch.install` runs apt.
    pub patches: crate::patches::PatchOptions,
}

/// Runs one command. `emit` receives the alert and audit events to spool. The error is a
/// sentence for the console.
pub fn run_command(
    context: &CommandContext,
    command: &PendingCommand,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(EventBody),
) -> Result<Value, String> {
    // The kind is checked on its own so that an unknown one is told apart from bad
    // arguments by the typed kinds, not by serde's wording.
    if CommandKind::parse(&command.kind).is_none() {
        return Err(format!(
            "this agent does not know the command {:?} (not supported by this agent); update it to the server's version",
            command.kind
        ));
    }
    let typed = command
        .command()
        .map_err(|_| format!("malformed {} arguments {}", command.kind, command.args))?;
    match typed {
        Command::Scan(ScanArgs { paths }) => scan(
            context,
            paths.into_iter().map(PathBuf::from).collect(),
            stop,
            emit,
        ),
        Command::QuarantineRestore(VaultArgs { id }) => {
            let vault = open_vault(context)?;
            // A refusal is the vault's sentence: what is wrong and what to do.
            let restored = vault.restore(&id, None).map_err(|e| e.to_string())?;
            let record = &restored.record;
            emit(action_event("quarantine.restore", record, ACTOR));
            tracing::info!(id = %record.id, path = %record.path, "quarantined file restored on request of the console");
            let mut result = serde_json::to_value(record).map_err(|e| e.to_string())?;
            result["restored_to"] = json!(wardwatch_scan::run::display_path(&restored.path));
            if let Some(warning) = &restored.warning {
                result["warning"] = json!(warning);
            }
            Ok(result)
        }
        Command::BackupRestore(args) => backup_restore(context, &args, emit),
        Command::BackupRestoreSnapshot(args) => backup_restore_snapshot(context, &args, stop, emit),
        Command::Isolate(args) => isolate(context, &args, emit),
        Command::FetchFile(args) => {
            let (bytes, sha256) = crate::fetch::read_evidence(&args)?;
            let size = bytes.len();
            let client = context
                .backup_client
                .as_ref()
                .ok_or("this agent is not connected to a server to send the file to")?;
            let runtime = tokio::runtime::Handle::try_current()
                .map_err(|_| "no runtime to reach the server on".to_string())?;
            let stored = runtime
                .block_on(client.upload_evidence(command.id, &sha256, bytes))
                .map_err(|e| format!("the file could not be sent to the server: {e}"))?;
            emit(EventBody::Action(wardwatch_proto::HostAction {
                action: "file.fetch".into(),
                target: args.path.clone(),
                actor: ACTOR.into(),
                detail: json!({ "size": size, "sha256": sha256 }),
            }));
            tracing::info!(path = %args.path, size, "file sent to the evidence store on request of the console");
            Ok(json!({ "path": args.path, "size": size, "sha256": sha256, "stored": stored }))
        }
        Command::Kill(args) => {
            let result = crate::kill::kill(&args)?;
            emit(EventBody::Action(wardwatch_proto::HostAction {
                action: "process.kill".into(),
                target: format!("pid {}", args.pid),
                actor: ACTOR.into(),
                detail: result.clone(),
            }));
            tracing::warn!(pid = args.pid, "process killed on request of the console");
            Ok(result)
        }
        Command::SmbBlock(args) | Command::SmbUnblock(args) => {
            let blocking = command.kind == CommandKind::SmbBlock.as_str();
            let now = if blocking {
                crate::smb_block::block(&args)?
            } else {
                crate::smb_block::unblock(&args)?
            };
            let action = if blocking { "smb.block" } else { "smb.unblock" };
            let result = json!({ "address": args.address, "port": args.port, "blocked": now });
            emit(EventBody::Action(wardwatch_proto::HostAction {
                action: action.into(),
                target: args.address.to_string(),
                actor: ACTOR.into(),
                detail: result.clone(),
            }));
            tracing::warn!(address = %args.address, action, "file-server client block changed on request of the console");
            Ok(result)
        }
        Command::PatchInstall(args) => {
            if args.scheduled {
                if let Some(why) = crate::patches::busy_now() {
                    return Err(format!(
                        "deferred: {why}; the maintenance window asks again"
                    ));
                }
            }
            let client = context
                .backup_client
                .clone()
                .ok_or("this agent is not connected to a server to take patches from")?;
            let runtime = tokio::runtime::Handle::try_current()
                .map_err(|_| "no runtime to reach the server on".to_string())?;
            let options = crate::patches::PatchOptions {
                dry_run: args.dry_run,
                ..context.patches.clone()
            };
            let sync = crate::bundles::BundleSync::new(&context.state, client);
            let report = runtime
                .block_on(crate::patches::install(&sync, &context.state, &options))
                .map_err(|e| e.to_string())?;
            let result = serde_json::to_value(&report).map_err(|e| e.to_string())?;
            if !report.dry_run {
                emit(EventBody::Action(wardwatch_proto::HostAction {
                    action: "patch.install".into(),
                    target: format!("{} package(s)", report.upgrades.len()),
                    actor: ACTOR.into(),
                    detail: result.clone(),
                }));
            }
            tracing::info!(
                upgrades = report.upgrades.len(),
                dry_run = report.dry_run,
                reboot_required = report.reboot_required,
                "patches installed on request of the console"
            );
            Ok(result)
        }
        Command::IsolateConfirm(_) => {
            crate::isolation::confirm()?;
            emit(isolation_event("isolate.confirm", json!({})));
            tracing::warn!("isolation confirmed by the console: it holds until released");
            Ok(json!({ "state": "confirmed" }))
        }
        Command::IsolateRelease(_) => {
            let released = crate::isolation::release()?;
            let _ = std::fs::remove_file(isolation_marker(context));
            emit(isolation_event(
                "isolate.release",
                json!({ "was_isolated": released }),
            ));
            tracing::warn!(released, "isolation released by the console");
            Ok(json!({ "state": "none", "was_isolated": released }))
        }
        Command::QuarantineDelete(VaultArgs { id }) => {
            let vault = open_vault(context)?;
            let record = vault
                .delete(&id)
                .map_err(|e| format!("delete failed: {e}"))?;
            emit(action_event("quarantine.delete", &record, ACTOR));
            tracing::info!(id = %record.id, path = %record.path, "quarantined file deleted on request of the console");
            serde_json::to_value(&record).map_err(|e| e.to_string())
        }
    }
}

/// Opens the terminal's repository on the server with a key the server grants.
fn open_repository(context: &CommandContext) -> Result<wardwatch_backup::Repository, String> {
    let client = context
        .backup_client
        .as_ref()
        .ok_or("this agent is not connected to a server with its backups")?;
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "no runtime to reach the server on".to_string())?;
    let (password, path) = crate::backup::repository_password(&context.state, client, &runtime)
        .map_err(|e| format!("the backup repository cannot be reached: {e:#}"))?;
    let backend = std::sync::Arc::new(crate::backup::rest_backend::RestBackend::new(
        client.clone(),
        runtime,
        &path,
    ));
    wardwatch_backup::Repository::open(backend, &password)
        .map_err(|e| format!("the backup repository cannot be opened: {e}"))
}

/// Puts back the files of a guard alert from the terminal's backups, and reports each.
fn backup_restore(
    context: &CommandContext,
    args: &wardwatch_proto::BackupRestoreArgs,
    emit: &mut dyn FnMut(EventBody),
) -> Result<Value, String> {
    let repo = open_repository(context)?;
    let outcomes = crate::backup::restore::restore_files(&repo, &args.files, args.before_ms);
    let restored = outcomes.iter().filter(|o| o.restored).count();
    let failed = outcomes.len() - restored;
    emit(EventBody::Action(wardwatch_proto::HostAction {
        action: "backup.restore".into(),
        target: format!("alert {}", args.alert_id),
        actor: ACTOR.into(),
        detail: json!({ "alert_id": args.alert_id, "restored": restored, "failed": failed }),
    }));
    tracing::info!(
        alert = args.alert_id,
        restored,
        failed,
        "files restored from backup on request of the console"
    );
    Ok(json!({
        "alert_id": args.alert_id,
        "restored": restored,
        "failed": failed,
        "files": outcomes,
    }))
}

/// Puts back what an admin chose of one snapshot, and reports the counts and the
/// files that failed.
fn backup_restore_snapshot(
    context: &CommandContext,
    args: &wardwatch_proto::SnapshotRestoreArgs,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(EventBody),
) -> Result<Value, String> {
    // Checked before the repository is reached: nothing hostile gets that far.
    args.check()?;
    let repo = open_repository(context)?;
    let report = crate::backup::snapshot_restore::restore_snapshot(&repo, args, stop)?;
    emit(snapshot_restore_event(&report, args));
    tracing::info!(
        snapshot = %report.snapshot,
        restored = report.restored,
        unchanged = report.unchanged,
        failed = report.failed,
        "snapshot restored on request of the console"
    );
    serde_json::to_value(&report).map_err(|e| e.to_string())
}

/// The audit event of a snapshot restore: which snapshot, where, and the counts.
fn snapshot_restore_event(
    report: &crate::backup::snapshot_restore::SnapshotRestoreReport,
    args: &wardwatch_proto::SnapshotRestoreArgs,
) -> EventBody {
    EventBody::Action(wardwatch_proto::HostAction {
        action: "backup.restore".into(),
        target: format!("snapshot {}", report.snapshot),
        actor: ACTOR.into(),
        detail: json!({
            "snapshot": report.snapshot,
            "paths": args.paths.len(),
            "target": report.target,
            "restored": report.restored,
            "unchanged": report.unchanged,
            "failed": report.failed,
            "stopped": report.stopped,
        }),
    })
}

fn open_vault(context: &CommandContext) -> Result<Vault, String> {
    Vault::open(&context.state.quarantine_dir())
        .map_err(|e| format!("the quarantine vault cannot be opened: {e}"))
}

/// A scan of `paths` (or the configured ones) with the agent's signatures; one alert per
/// infected file, which is quarantined when the agent is set to.
fn scan(
    context: &CommandContext,
    paths: Vec<PathBuf>,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(EventBody),
) -> Result<Value, String> {
    let paths = if paths.is_empty() {
        context.default_scan_paths.clone()
    } else {
        paths
    };
    if paths.is_empty() {
        return Err(
            "no paths to scan: name them, or start the agent with --scheduled-scan-path or --scan-path"
                .into(),
        );
    }
    let sources = context
        .sources
        .clone()
        .unwrap_or_else(|| crate::scan_service::bundle_sources(&context.state).0);
    let sources = SignatureSources {
        rule_cache: sources
            .rule_cache
            .or_else(|| Some(context.state.rule_cache_dir())),
        ..sources
    };
    let (engine, _) = load(&sources).map_err(|e| format!("signatures not loaded: {e}"))?;
    let vault = if context.quarantine {
        Some(open_vault(context)?)
    } else {
        None
    };
    tracing::info!(?paths, "scan requested by the console");
    let mut events = Vec::new();
    let mut quarantined = 0u64;
    let mut report = |event: &ScanEvent| {
        let ScanEvent::Infected {
            path,
            size,
            detections,
            scanned,
        } = event
        else {
            return;
        };
        tracing::warn!(path = %path.display(), "malware found by a scan the console asked for");
        let (alert_and_audit, moved) =
            detection_events(vault.as_ref(), path, scanned, detections, ACTOR, |id| {
                scan_alert("scan.on-demand", path, *size, detections, id)
            });
        quarantined += u64::from(moved);
        events.extend(alert_and_audit);
    };
    let summary = scan_paths(&engine, &paths, &ScanOptions::default(), stop, &mut report);
    for event in events {
        emit(event);
    }
    let mut result = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
    result["paths"] = json!(paths
        .iter()
        .map(|p| wardwatch_scan::run::display_path(p))
        .collect::<Vec<_>>());
    result["quarantined"] = json!(quarantined);
    Ok(result)
}

/// Present while this agent has an isolation in place, so that only then the agent asks
/// nftables whether it ran out.
fn isolation_marker(context: &CommandContext) -> PathBuf {
    context.state.root().join("isolated")
}

fn isolation_event(action: &str, detail: Value) -> EventBody {
    EventBody::Action(wardwatch_proto::HostAction {
        action: action.into(),
        target: "network".into(),
        actor: ACTOR.into(),
        detail,
    })
}

/// Cuts the terminal off but for its server and the clinical systems named.
fn isolate(
    context: &CommandContext,
    args: &wardwatch_proto::isolation::IsolateArgs,
    emit: &mut dyn FnMut(EventBody),
) -> Result<Value, String> {
    // Checked again here: the list comes over the network.
    let allowed = wardwatch_proto::isolation::check(args)?;
    let enrollment = context
        .state
        .load_enrollment()
        .map_err(|e| format!("cannot read which server to keep: {e}"))?;
    let (servers, resolvers) = crate::isolation::server_addresses(&enrollment.server_url)?;
    let plan = crate::isolation::IsolationPlan {
        servers,
        resolvers,
        allowed,
        confirm_within: Some(std::time::Duration::from_secs(args.confirm_within_secs)),
    };
    std::fs::write(isolation_marker(context), b"")
        .map_err(|e| format!("cannot note the isolation in the state directory: {e}"))?;
    crate::isolation::isolate(&plan)?;
    let detail = json!({
        "servers": plan.servers.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "allowed": args.allow,
        "confirm_within_secs": args.confirm_within_secs,
    });
    emit(isolation_event("isolate", detail.clone()));
    tracing::warn!(allowed = ?args.allow, confirm_within_secs = args.confirm_within_secs, "terminal isolated on request of the console");
    let mut result = detail;
    result["state"] = json!("unconfirmed");
    Ok(result)
}

/// Removes an isolation nobody confirmed in time (the kernel already stopped dropping);
/// the event to record, if one was removed.
pub fn tidy_isolation(context: &CommandContext) -> Option<EventBody> {
    let marker = isolation_marker(context);
    if !marker.exists() {
        return None;
    }
    match crate::isolation::state() {
        Ok(crate::isolation::IsolationState::None) => {
            let _ = std::fs::remove_file(&marker);
            None
        }
        Ok(crate::isolation::IsolationState::Expired) => match crate::isolation::tidy() {
            Ok(_) => {
                let _ = std::fs::remove_file(&marker);
                tracing::warn!("the isolation was not confirmed in time and released itself");
                Some(EventBody::Action(wardwatch_proto::HostAction {
                    action: "isolate.expired".into(),
                    target: "network".into(),
                    actor: "agent".into(),
                    detail: json!({ "reason": "not confirmed in time" }),
                }))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot remove an expired isolation");
                None
            }
        },
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(error = %e, "cannot read the isolation's state");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

    fn command(kind: &str, args: Value) -> PendingCommand {
        PendingCommand {
            id: 1,
            kind: kind.into(),
            args,
        }
    }

    #[test]
    fn a_scan_quarantines_and_a_restore_brings_the_file_back() {
        let state_dir = tempfile::tempdir().unwrap();
        let files = tempfile::tempdir().unwrap();
        let infected = files.path().join("eicar.com");
        std::fs::write(&infected, EICAR).unwrap();
        let context = CommandContext {
            state: StateDir::new(state_dir.path()),
            default_scan_paths: vec![files.path().to_owned()],
            sources: Some(SignatureSources::default()),
            quarantine: true,
            backup_client: None,
            patches: crate::patches::PatchOptions::default(),
        };
        let stop = AtomicBool::new(false);
        let mut events = Vec::new();
        let result = run_command(&context, &command("scan", json!({})), &stop, &mut |e| {
            events.push(e)
        })
        .unwrap();
        assert_eq!(result["infected"], 1, "{result}");
        assert_eq!(result["quarantined"], 1, "{result}");
        assert!(!infected.exists());
        assert_eq!(events.len(), 2);
        let Some(EventBody::Action(added)) = events.get(1) else {
            panic!("no quarantine.add event: {events:?}");
        };
        let id = added.detail["id"].as_str().unwrap().to_owned();

        let restored = run_command(
            &context,
            &command("quarantine.restore", json!({ "id": id })),
            &stop,
            &mut |e| events.push(e),
        )
        .unwrap();
        assert_eq!(restored["id"], json!(id));
        assert_eq!(std::fs::read(&infected).unwrap(), EICAR);

        let again = run_command(
            &context,
            &command("quarantine.delete", json!({ "id": id })),
            &stop,
            &mut |e| events.push(e),
        )
        .unwrap_err();
        assert!(again.contains("no quarantined file"), "{again}");
        let unknown =
            run_command(&context, &command("reboot", json!({})), &stop, &mut |_| {}).unwrap_err();
        assert!(unknown.contains("does not know"), "{unknown}");
    }
}
