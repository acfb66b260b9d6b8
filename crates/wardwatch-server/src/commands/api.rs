//! The console's side of the command channel: an admin queues a command for a terminal,
//! which takes it the next time it polls (the server cannot reach terminals), and the
//! console shows its state and the terminal's quarantine.
//!
//! - `POST /api/hosts/{id}/commands`   queue `{kind, args}` (admins only; audited)
//! - `GET  /api/hosts/{id}/commands`   the host's commands, newest first
//! - `GET  /api/hosts/{id}/quarantine` the files the host holds in quarantine

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use wardwatch_proto::{Command, CommandKind, ScanArgs, VaultArgs};

use crate::api_error::{blocking, parse_json, ApiError, ApiPath};
use crate::auth::session::{require_json, ConsoleApi, Session};
use crate::auth::Permission;

/// How many commands the console lists per host.
const COMMAND_LIST: u32 = 50;
/// Most paths one scan command may name, and the longest path.
const MAX_SCAN_PATHS: usize = 64;
const MAX_PATH_BYTES: usize = 4096;

pub fn routes() -> Router<ConsoleApi> {
    Router::new()
        .route(
            "/api/hosts/{id}/commands",
            get(list_commands).post(create_command),
        )
        .route("/api/hosts/{id}/quarantine", get(quarantine))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandRequest {
    kind: String,
    #[serde(default)]
    args: Value,
}

/// Checks a command from the console and returns it typed, or the sentence that says
/// what is wrong.
pub fn validate_command(kind: &str, args: &Value) -> Result<Command, String> {
    let no_args = Map::new();
    let fields = match args {
        Value::Null => &no_args,
        Value::Object(fields) => fields,
        _ => return Err("args must be a JSON object".into()),
    };
    let Some(kind) = CommandKind::parse(kind) else {
        return Err(format!(
            "unknown command kind {kind:?}: use {}",
            kind_list()
        ));
    };
    match kind {
        CommandKind::Scan => Ok(Command::Scan(scan_args(fields)?)),
        CommandKind::QuarantineRestore => Ok(Command::QuarantineRestore(vault_args(kind, fields)?)),
        CommandKind::QuarantineDelete => Ok(Command::QuarantineDelete(vault_args(kind, fields)?)),
        CommandKind::BackupRestore => Err(
            "a restore from backup is made from a guard alert: use the alert's Restore button (POST /api/alerts/{id}/restore) or `wardwatch backup restore --alert ID`"
                .into(),
        ),
        CommandKind::Isolate => {
            let args: wardwatch_proto::isolation::IsolateArgs =
                serde_json::from_value(Value::Object(fields.clone())).map_err(|e| {
                    format!("isolate takes allow (a list of addresses to keep reachable) and confirm_within_secs: {e}")
                })?;
            wardwatch_proto::isolation::check(&args)?;
            Ok(Command::Isolate(args))
        }
        CommandKind::Kill => {
            let args: wardwatch_proto::KillArgs = serde_json::from_value(Value::Object(fields.clone()))
                .map_err(|e| format!("process.kill takes pid and start_ticks or exe: {e}"))?;
            if args.pid <= 1 {
                return Err(format!("pid {} is never killed", args.pid));
            }
            if args.start_ticks.is_none() && args.exe.as_deref().is_none_or(|e| !e.starts_with('/')) {
                return Err("name the process by start_ticks (from /proc/PID/stat) or its executable's absolute path as well as its pid, so that a reused pid is never killed".into());
            }
            if args.exe.as_ref().is_some_and(|e| e.len() > MAX_PATH_BYTES) {
                return Err("the executable's path is too long".into());
            }
            Ok(Command::Kill(args))
        }
        CommandKind::FetchFile => {
            let args: wardwatch_proto::FetchFileArgs = serde_json::from_value(Value::Object(fields.clone()))
                .map_err(|e| format!("file.fetch takes path and max_bytes: {e}"))?;
            if !args.path.starts_with('/') || args.path.len() > MAX_PATH_BYTES || args.path.contains('\0') {
                return Err(format!("file.fetch needs an absolute path on the terminal, like /home/nurse/Downloads/x.pdf; {:?} is not", args.path));
            }
            if args.max_bytes == 0 || args.max_bytes > wardwatch_proto::MAX_FETCH_BYTES {
                return Err(format!("max_bytes must be 1 to {} (64 MiB)", wardwatch_proto::MAX_FETCH_BYTES));
            }
            Ok(Command::FetchFile(args))
        }
        CommandKind::SmbBlock | CommandKind::SmbUnblock => {
            let args: wardwatch_proto::SmbBlockArgs = serde_json::from_value(Value::Object(fields.clone()))
                .map_err(|e| format!("{kind} takes address (the client's IP address) and optionally port (the server's SMB port, 1 to 65535; none: 445 and 139): {e}"))?;
            wardwatch_proto::check_smb_client_address(&args.address)?;
            if args.port == Some(0) {
                return Err("port 0 is no SMB port".into());
            }
            Ok(if kind == CommandKind::SmbBlock {
                Command::SmbBlock(args)
            } else {
                Command::SmbUnblock(args)
            })
        }
        CommandKind::IsolateConfirm | CommandKind::IsolateRelease => {
            if let Some(extra) = fields.keys().next() {
                return Err(format!("{kind} takes no arguments, not {extra:?}"));
            }
            let none = wardwatch_proto::isolation::NoArgs {};
            Ok(if kind == CommandKind::IsolateConfirm {
                Command::IsolateConfirm(none)
            } else {
                Command::IsolateRelease(none)
            })
        }
        CommandKind::PatchInstall => {
            let args: wardwatch_proto::PatchInstallArgs =
                serde_json::from_value(Value::Object(fields.clone()))
                    .map_err(|e| format!("patch.install takes only dry_run (true or false): {e}"))?;
            Ok(Command::PatchInstall(args))
        }
        CommandKind::BackupRestoreSnapshot => Err(
            "a restore of a snapshot is checked against the snapshots the server keeps: use the Backups page's Restore button (POST /api/hosts/{id}/backup/restore)"
                .into(),
        ),
    }
}

/// Every kind, as a person reads a list: `a, b or c`.
fn kind_list() -> String {
    let names: Vec<&str> = CommandKind::ALL.iter().map(|k| k.as_str()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A scan's arguments: at most [`MAX_SCAN_PATHS`] absolute paths, none of them longer
/// than [`MAX_PATH_BYTES`]; none given means the terminal's configured ones.
fn scan_args(fields: &Map<String, Value>) -> Result<ScanArgs, String> {
    if let Some(extra) = fields.keys().find(|k| *k != "paths") {
        return Err(format!("a scan takes only paths, not {extra:?}"));
    }
    let paths = match fields.get("paths") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|p| match p.as_str() {
                Some(p) if p.starts_with('/') && p.len() <= MAX_PATH_BYTES => Ok(p.to_owned()),
                _ => Err(format!(
                    "scan paths must be absolute paths on the terminal, like /home; {p} is not"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err("paths must be a list of absolute paths".into()),
    };
    if paths.len() > MAX_SCAN_PATHS {
        return Err(format!("a scan takes at most {MAX_SCAN_PATHS} paths"));
    }
    Ok(ScanArgs { paths })
}

/// A quarantine command's arguments: the vault id of one file.
fn vault_args(kind: CommandKind, fields: &Map<String, Value>) -> Result<VaultArgs, String> {
    if let Some(extra) = fields.keys().find(|k| *k != "id") {
        return Err(format!("{kind} takes only id, not {extra:?}"));
    }
    let id = fields.get("id").and_then(Value::as_str).unwrap_or_default();
    if !is_vault_id(id) {
        return Err(format!(
            "{kind} needs the id of a quarantined file (1 to 64 of 0-9, a-f and -), as listed under the host's quarantine"
        ));
    }
    Ok(VaultArgs { id: id.to_owned() })
}

/// A quarantine vault id: `[0-9a-f-]{1,64}`.
fn is_vault_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
}

/// `POST /api/hosts/{id}/commands`: queue a command. Admins only.
async fn create_command(
    session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(host_id): ApiPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    session.require(Permission::Act, "send commands to terminals")?;
    require_json(&headers)?;
    let request: CommandRequest = parse_json(&body, "command")?;
    let command = validate_command(&request.kind, &request.args).map_err(ApiError::bad_request)?;
    let store = state.store.clone();
    let actor = session.user.username.clone();
    let lookup = host_id.clone();
    let created = blocking(move || {
        match store.host(&lookup)? {
            // A revoked terminal never polls again; its command would wait forever.
            Some(host) if host.revoked_at.is_none() => {}
            _ => return Ok(None),
        }
        let now = wardwatch_proto::now_millis();
        store
            .create_command(&lookup, &command, &actor, now)
            .map(Some)
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no enrolled terminal with id {host_id}")))?;
    tracing::info!(user = %session.user.username, host = %host_id, kind = %created.kind, "command queued");
    Ok(Json(json!({ "command": created })))
}

/// `GET /api/hosts/{id}/commands`: newest first.
async fn list_commands(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(host_id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let commands = blocking(move || store.host_commands(&host_id, COMMAND_LIST)).await?;
    Ok(Json(json!({ "commands": commands })))
}

/// `GET /api/hosts/{id}/quarantine`: as the terminal's audit entries tell it.
async fn quarantine(
    _session: Session,
    State(state): State<ConsoleApi>,
    ApiPath(host_id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let files = blocking(move || store.host_quarantine(&host_id)).await?;
    Ok(Json(json!({ "files": files })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_checked() {
        assert_eq!(
            validate_command("scan", &Value::Null).unwrap().args(),
            json!({ "paths": [] })
        );
        assert_eq!(
            validate_command("scan", &json!({ "paths": ["/srv"] })).unwrap(),
            Command::Scan(ScanArgs {
                paths: vec!["/srv".into()]
            })
        );
        assert!(validate_command("scan", &json!({ "paths": ["relative"] })).is_err());
        assert!(validate_command("scan", &json!({ "paths": "/srv" })).is_err());
        assert!(validate_command("scan", &json!({ "path": [] })).is_err());
        assert!(validate_command("quarantine.restore", &json!({ "id": "18a-3f" })).is_ok());
        assert!(validate_command("quarantine.delete", &json!({ "id": "../x" })).is_err());
        assert!(validate_command("quarantine.delete", &json!({ "id": "" })).is_err());
        assert!(validate_command("quarantine.delete", &json!({ "id": "A1" })).is_err());
        let long = "a".repeat(65);
        assert!(validate_command("quarantine.delete", &json!({ "id": long })).is_err());
        let unknown = validate_command("reboot", &json!({})).unwrap_err();
        assert_eq!(
            unknown,
            "unknown command kind \"reboot\": use scan, quarantine.restore, quarantine.delete, backup.restore, backup.restore-snapshot, isolate, isolate.confirm, isolate.release, process.kill, file.fetch, smb.block, smb.unblock or patch.install"
        );
        assert_eq!(
            validate_command("smb.block", &json!({ "address": "10.20.3.41" })).unwrap(),
            Command::SmbBlock(wardwatch_proto::SmbBlockArgs {
                address: "10.20.3.41".parse().unwrap(),
                port: None
            })
        );
        assert!(validate_command(
            "smb.unblock",
            &json!({ "address": "fd00::41", "port": 445 })
        )
        .is_ok());
        for bad in [
            json!({ "address": "0.0.0.0" }),
            json!({ "address": "255.255.255.255" }),
            json!({ "address": "224.0.0.1" }),
            json!({ "address": "10.20.3.41", "port": 0 }),
            json!({ "address": "10.20.3.41", "port": 70000 }),
            json!({ "address": "ward-3" }),
            json!({}),
        ] {
            assert!(validate_command("smb.block", &bad).is_err(), "{bad}");
        }
        // A restore from backup is made from an alert, never from free-form arguments.
        let restore = validate_command("backup.restore", &json!({ "alert_id": 1 })).unwrap_err();
        assert!(restore.contains("/api/alerts/{id}/restore"), "{restore}");
        // A snapshot restore goes through its own route, which checks the snapshot.
        let snapshot = validate_command("backup.restore-snapshot", &json!({})).unwrap_err();
        assert!(snapshot.contains("/backup/restore"), "{snapshot}");
        let many: Vec<String> = (0..=MAX_SCAN_PATHS).map(|i| format!("/p{i}")).collect();
        assert!(validate_command("scan", &json!({ "paths": many })).is_err());
        // Isolation: the clinical list is checked, and the time to confirm bounded.
        let ok = json!({ "allow": ["10.1.2.0/24", "10.1.3.4:104"], "confirm_within_secs": 900 });
        assert!(matches!(
            validate_command("isolate", &ok),
            Ok(Command::Isolate(_))
        ));
        for bad in [
            json!({ "allow": ["10.0.0.1; flush ruleset"], "confirm_within_secs": 900 }),
            json!({ "allow": [], "confirm_within_secs": 0 }),
            json!({ "allow": ["0.0.0.0/0"], "confirm_within_secs": 900 }),
            json!({ "allow": [] }),
        ] {
            assert!(validate_command("isolate", &bad).is_err(), "{bad}");
        }
        assert!(validate_command("isolate.release", &json!({})).is_ok());
        assert!(validate_command("isolate.confirm", &json!({ "x": 1 })).is_err());
        assert!(
            validate_command("process.kill", &json!({ "pid": 4242, "start_ticks": 77 })).is_ok()
        );
        assert!(validate_command("process.kill", &json!({ "pid": 4242 })).is_err());
        assert!(validate_command("process.kill", &json!({ "pid": 1, "start_ticks": 7 })).is_err());
    }
}
