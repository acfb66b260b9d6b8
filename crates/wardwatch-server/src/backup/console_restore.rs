//! Restore chosen in the console: an admin picks a terminal, one of its snapshots (the
//! newest by default) and paths inside it; the terminal is told to put them back, in
//! place or below a folder. The server checks the arguments and that the snapshot is one
//! it received from that terminal and still keeps, and stores the snapshot's full id in
//! the command, so the terminal restores exactly what the admin saw.
//!
//! - `GET  /api/hosts/{id}/backup/snapshots` the snapshots the server keeps, newest first
//! - `POST /api/hosts/{id}/backup/restore`   queue `{snapshot?, paths, target?}` (admins
//!   only; audited with the other commands)

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use wardwatch_proto::{Command, SnapshotRestoreArgs};

use super::ReceivedSnapshot;
use crate::api_error::{blocking, parse_json, ApiError, ApiPath};
use crate::auth::session::{require_json, ConsoleApi, Session};
use crate::auth::Permission;
use crate::commands::HostCommand;
use crate::db::StoreError;
use crate::storage::Storage;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route("/api/hosts/{id}/backup/snapshots", get(snapshots))
        .route("/api/hosts/{id}/backup/restore", post(restore))
}

/// Why a snapshot restore is not queued, as the console shows it.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotRestoreRefusal {
    #[error("{0}")]
    BadArguments(String),
    #[error("no enrolled terminal with id {0}")]
    NoHost(String),
    #[error("terminal {0} is revoked; it no longer polls and cannot take the restore")]
    Revoked(String),
    #[error(
        "terminal {0} has no backup on this server yet (its agent makes the first one on schedule)"
    )]
    NoBackups(String),
    #[error("terminal {host} has no snapshot {snapshot} that the server keeps (forgotten by retention, or never received); pick one from the list")]
    NoSnapshot { host: String, snapshot: String },
    #[error(
        "{snapshot} is the start of {count} snapshots of terminal {host}: give more of the id"
    )]
    Ambiguous {
        host: String,
        snapshot: String,
        count: usize,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The snapshot a restore names (an id or its start) among those the server keeps;
/// `None`: the newest received.
pub fn pick_snapshot<'a>(
    host: &str,
    kept: &'a [ReceivedSnapshot],
    wanted: Option<&str>,
) -> Result<&'a ReceivedSnapshot, SnapshotRestoreRefusal> {
    let Some(wanted) = wanted else {
        return kept
            .last()
            .ok_or_else(|| SnapshotRestoreRefusal::NoBackups(host.to_string()));
    };
    let matching: Vec<&ReceivedSnapshot> = kept
        .iter()
        .filter(|s| s.snapshot_id.starts_with(wanted))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(SnapshotRestoreRefusal::NoSnapshot {
            host: host.to_string(),
            snapshot: wanted.to_string(),
        }),
        many => Err(SnapshotRestoreRefusal::Ambiguous {
            host: host.to_string(),
            snapshot: wanted.to_string(),
            count: many.len(),
        }),
    }
}

/// Checks a restore for a host and queues it under the snapshot's full id, audited as
/// the actor's.
pub fn queue_snapshot_restore(
    store: &dyn Storage,
    host_id: &str,
    mut args: SnapshotRestoreArgs,
    actor: &str,
) -> Result<HostCommand, SnapshotRestoreRefusal> {
    args.check().map_err(SnapshotRestoreRefusal::BadArguments)?;
    match store.host(host_id)? {
        None => return Err(SnapshotRestoreRefusal::NoHost(host_id.to_string())),
        Some(h) if h.revoked_at.is_some() => {
            return Err(SnapshotRestoreRefusal::Revoked(host_id.to_string()))
        }
        Some(_) => {}
    }
    if !store.repository_hosts()?.iter().any(|h| h == host_id) {
        return Err(SnapshotRestoreRefusal::NoBackups(host_id.to_string()));
    }
    let kept = store.received_snapshots(host_id)?;
    let snapshot = pick_snapshot(host_id, &kept, args.snapshot.as_deref())?;
    args.snapshot = Some(snapshot.snapshot_id.clone());
    let command = Command::BackupRestoreSnapshot(args);
    Ok(store.create_command(host_id, &command, actor, wardwatch_proto::now_millis())?)
}

/// `GET /api/hosts/{id}/backup/snapshots`: newest received first.
async fn snapshots(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(host_id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let mut kept = blocking(move || store.received_snapshots(&host_id)).await?;
    kept.reverse();
    Ok(Json(json!({ "snapshots": kept })))
}

/// `POST /api/hosts/{id}/backup/restore`: queue a restore of a snapshot. Admins only.
async fn restore(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(host_id): ApiPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    session.require(Permission::Act, "restore files from backups")?;
    require_json(&headers)?;
    let args: SnapshotRestoreArgs = parse_json(&body, "restore")?;
    let store = state.store.clone();
    let actor = session.user.username.clone();
    let host = host_id.clone();
    let queued = tokio::task::spawn_blocking(move || {
        queue_snapshot_restore(store.as_ref(), &host, args, &actor)
    })
    .await?;
    match queued {
        Ok(command) => {
            tracing::info!(user = %session.user.username, host = %host_id, id = command.id, "snapshot restore queued");
            Ok(Json(json!({ "command": command })))
        }
        Err(SnapshotRestoreRefusal::Store(e)) => Err(e.into()),
        Err(e @ SnapshotRestoreRefusal::BadArguments(_)) => {
            Err(ApiError::bad_request(e.to_string()))
        }
        Err(e @ SnapshotRestoreRefusal::NoHost(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e) => Err(ApiError::new(StatusCode::CONFLICT, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::BackupStore;
    use crate::commands::CommandStore;
    use crate::hosts::HostStore;
    use crate::testing::store_with_hosts;

    const OLD: &str = "aa11000000000000000000000000000000000000000000000000000000000000";
    const NEW: &str = "aa22000000000000000000000000000000000000000000000000000000000000";

    fn args(snapshot: Option<&str>, paths: &[&str]) -> SnapshotRestoreArgs {
        SnapshotRestoreArgs {
            snapshot: snapshot.map(str::to_owned),
            paths: paths.iter().map(|p| p.to_string()).collect(),
            target: None,
        }
    }

    #[test]
    fn a_restore_is_queued_only_for_a_kept_snapshot_of_a_live_host() {
        let (_dir, store) = store_with_hosts(&[("h1", "ward-pc"), ("h2", "desk"), ("h3", "x")]);
        let refused = |host: &str, a| queue_snapshot_restore(&store, host, a, "admin");

        assert!(matches!(
            refused("h1", args(None, &[])),
            Err(SnapshotRestoreRefusal::NoBackups(_))
        ));
        store.note_repository("h1", 1).unwrap();
        assert!(matches!(
            refused("h1", args(None, &[])),
            Err(SnapshotRestoreRefusal::NoBackups(_))
        ));
        store.record_snapshot("h1", OLD, 10, 100).unwrap();
        store.record_snapshot("h1", NEW, 10, 200).unwrap();

        // Newest by default, stored under its full id; a unique prefix is completed.
        let newest = refused("h1", args(None, &["/srv/records"])).unwrap();
        assert_eq!(newest.kind, "backup.restore-snapshot");
        let listed = store.host_commands("h1", 10).unwrap();
        assert_eq!(listed[0].args["snapshot"], NEW, "{:?}", listed[0]);
        assert_eq!(listed[0].args["paths"], json!(["/srv/records"]));
        refused("h1", args(Some("aa11"), &[])).unwrap();
        assert_eq!(
            store.host_commands("h1", 10).unwrap()[0].args["snapshot"],
            OLD
        );

        let ambiguous = refused("h1", args(Some("aa"), &[])).unwrap_err();
        assert!(
            ambiguous.to_string().contains("start of 2 snapshots"),
            "{ambiguous}"
        );
        assert!(matches!(
            refused("h1", args(Some("bb"), &[])),
            Err(SnapshotRestoreRefusal::NoSnapshot { .. })
        ));
        store.mark_forgotten("h1", &[OLD.to_string()], 300).unwrap();
        assert!(matches!(
            refused("h1", args(Some("aa11"), &[])),
            Err(SnapshotRestoreRefusal::NoSnapshot { .. })
        ));

        for hostile in [
            args(Some("AA22"), &[]),
            args(None, &["../etc/shadow"]),
            args(None, &["/srv/../etc"]),
            args(None, &["/srv/a\0b"]),
        ] {
            assert!(matches!(
                refused("h1", hostile),
                Err(SnapshotRestoreRefusal::BadArguments(_))
            ));
        }
        let many: Vec<String> = (0..1001).map(|i| format!("/p{i}")).collect();
        let too_many = SnapshotRestoreArgs {
            paths: many,
            ..Default::default()
        };
        assert!(matches!(
            refused("h1", too_many),
            Err(SnapshotRestoreRefusal::BadArguments(_))
        ));

        assert!(matches!(
            refused("nobody", args(None, &[])),
            Err(SnapshotRestoreRefusal::NoHost(_))
        ));
        store.note_repository("h2", 1).unwrap();
        store.record_snapshot("h2", NEW, 10, 100).unwrap();
        store.revoke_host("h2", "admin").unwrap();
        assert!(matches!(
            refused("h2", args(None, &[])),
            Err(SnapshotRestoreRefusal::Revoked(_))
        ));
        // Only the two accepted restores were queued, all for h1.
        assert_eq!(store.host_commands("h1", 10).unwrap().len(), 2);
        assert!(store.host_commands("h2", 10).unwrap().is_empty());
    }
}
