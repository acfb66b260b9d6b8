//! Wire types shared by the wardwatch agent and server.
//!
//! This crate depends on nothing of ours and does no I/O: it is the contract between a
//! terminal and its server. Every request body that crosses the agent API is one of these
//! types, serialised as JSON (event batches additionally zstd-compressed).
//!
//! # Versions: what [`PROTOCOL_VERSION`] promises
//!
//! The golden files in `tests/golden/` pin every body as it crosses the wire. A change
//! that an agent and a server one release apart still both understand is compatible and
//! keeps the version:
//!
//! - adding an optional field with a default (`#[serde(default)]`), which the older peer
//!   ignores when reading and does without when writing; except in a body read with
//!   `deny_unknown_fields` ([`CommandOutcome`]), where a new field needs a new version;
//! - adding a variant to an enum that the older peer already answers as "not supported":
//!   a [`Command`] kind (an agent reports a kind it does not know as a failed command
//!   saying so, and the list of the other commands still reads, see [`PendingCommand`]);
//! - adding an endpoint.
//!
//! A change that either side would misread needs `PROTOCOL_VERSION` raised: removing or
//! renaming a field, making an optional field required, changing a field's type, unit or
//! meaning, a new variant of an enum read strictly ([`EventBody`], [`Severity`],
//! [`Priority`]), or a new encoding of a body.
//!
//! On a mismatch the server answers every versioned body (enrollment, event batch,
//! heartbeat, bundle status) with `400` and an [`ErrorBody`] naming both versions; it
//! reads a batch's `protocol` before the rest, so the refusal names the version rather
//! than whatever field a newer agent added. The agent sends its own version and takes
//! the `400` as the server's refusal of that content: enrollment stops with the server's
//! sentence; an event batch is retried in halves down to single events, which are then
//! set aside in the spool with the sentence (kept, not sent again); a heartbeat refusal
//! is only logged. So the fix on a mismatch is always the one the sentence gives: run the
//! same wardwatch version on the server and its agents.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

pub mod alert_details;
#[cfg(feature = "golden")]
pub mod golden;
pub mod inventory;
pub mod isolation;

pub use inventory::{Account, Inventory, Listener, OsInfo, Package};

/// Version of the agent ↔ server protocol. A server refuses enrollments, batches,
/// heartbeats and bundle statuses of any other version with a message naming both, so a
/// mismatched agent is found at once rather than half-understood. What needs a new
/// version is in the crate documentation.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest compressed event batch the server accepts, in bytes.
pub const MAX_BATCH_COMPRESSED_BYTES: usize = 8 * 1024 * 1024;

/// Largest decompressed event batch the server accepts, in bytes (guards against
/// decompression bombs).
pub const MAX_BATCH_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// Most events one batch may carry.
pub const MAX_BATCH_EVENTS: usize = 5_000;

/// How urgently an event must reach the server. Lower sorts first: the spool sends
/// alerts before inventory changes, and drops bulk data before alerts when it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Security alerts: detections, guard incidents.
    Alert = 0,
    /// Inventory changes: a package, port or account appeared or went away.
    Change = 1,
    /// Full inventories and diagnostics, which the next one supersedes.
    Bulk = 2,
}

impl Priority {
    /// The number stored in the agent's spool.
    pub fn as_i64(self) -> i64 {
        self as i64
    }

    /// The priority for a number stored in the agent's spool.
    pub fn from_i64(value: i64) -> Option<Self> {
        match value {
            0 => Some(Self::Alert),
            1 => Some(Self::Change),
            2 => Some(Self::Bulk),
            _ => None,
        }
    }
}

/// One event from an agent. `seq` is the agent's own sequence number, never reused;
/// the server stores each (host, seq) exactly once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    /// When the agent observed it, Unix milliseconds.
    pub time: i64,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum EventBody {
    /// The whole inventory of the terminal; replaces what the server knew.
    Inventory(Inventory),
    /// Operating system facts changed (kernel after a reboot, addresses, hostname).
    OsChanged(OsInfo),
    PackageInstalled(Package),
    PackageRemoved(Package),
    PackageUpgraded {
        package: Package,
        previous_version: String,
    },
    ListenerOpened(Listener),
    ListenerClosed(Listener),
    AccountAdded(Account),
    AccountRemoved(Account),
    AccountChanged(Account),
    /// A security alert raised on the terminal.
    Alert(Alert),
    /// Something done on the terminal that belongs in the audit record (a file
    /// quarantined, restored or deleted).
    Action(HostAction),
    /// A synthetic event used to check the pipeline end to end (`wardwatch agent test-events`).
    Test {
        note: String,
    },
}

impl EventBody {
    /// The short name stored and shown for this kind of event.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Inventory(_) => "inventory",
            Self::OsChanged(_) => "os_changed",
            Self::PackageInstalled(_) => "package_installed",
            Self::PackageRemoved(_) => "package_removed",
            Self::PackageUpgraded { .. } => "package_upgraded",
            Self::ListenerOpened(_) => "listener_opened",
            Self::ListenerClosed(_) => "listener_closed",
            Self::AccountAdded(_) => "account_added",
            Self::AccountRemoved(_) => "account_removed",
            Self::AccountChanged(_) => "account_changed",
            Self::Alert(_) => "alert",
            Self::Action(_) => "action",
            Self::Test { .. } => "test",
        }
    }

    /// How urgently this kind of event must travel.
    pub fn priority(&self) -> Priority {
        match self {
            Self::Alert(_) => Priority::Alert,
            Self::Inventory(_) | Self::Test { .. } => Priority::Bulk,
            _ => Priority::Change,
        }
    }
}

/// An action on a terminal, for the audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostAction {
    /// `quarantine.add`, `quarantine.restore`, `quarantine.delete`.
    pub action: String,
    /// What it was done to (a path, a vault id).
    pub target: String,
    /// Who did it on the terminal: a user name, or `agent` for automatic actions.
    pub actor: String,
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// A security alert raised on a terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Which detector raised it, e.g. `guard.ransomware` or `scan.yara`.
    pub source: String,
    pub severity: Severity,
    pub title: String,
    /// Detector-specific facts (process, files, rule); read them with
    /// [`alert_details::AlertData::read`].
    #[serde(default)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// Body of `POST /api/v1/events`: zstd-compressed JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub protocol: u32,
    pub events: Vec<Event>,
}

/// The server's answer to a batch: every event in it is durably stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchAck {
    /// Events stored for the first time.
    pub stored: u32,
    /// Events the server already had (a resend after a lost acknowledgement).
    pub duplicates: u32,
    /// Highest sequence number the server holds for this terminal.
    pub highest_seq: u64,
}

/// Body of `POST /api/v1/enroll`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub protocol: u32,
    pub token: String,
    /// PKCS#10 request for the key the agent made on the terminal; the key never leaves it.
    pub csr_pem: String,
    pub hostname: String,
}

/// The server's answer to a successful enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub host_id: String,
    pub certificate_pem: String,
    pub ca_pem: String,
}

/// Body of `POST /api/v1/heartbeat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub protocol: u32,
    pub agent_version: String,
    /// Events waiting in the agent's spool.
    pub spool_pending: u64,
    /// Events the spool had to drop because it was full, since the agent started.
    pub spool_dropped: u64,
    /// Folders the agent's ransomware guard protects (0: the guard is off). Absent from
    /// agents before it was added, which reads as 0.
    #[serde(default)]
    pub guard_folders: u32,
    /// The agent's clock when it sent the heartbeat, Unix milliseconds: the server keeps
    /// how far it is off its own, so the console can say which terminals' clocks are wrong
    /// (their events carry times from those clocks). Absent from older agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_time: Option<i64>,
}

/// The server's answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAnswer {
    /// The server's clock, Unix milliseconds, so an agent can tell how far its own is off.
    pub server_time: i64,
}

/// `GET /api/v1/bundles`: the bundles installed on the server, as an agent needs them to
/// decide what to fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleListing {
    pub bundles: Vec<BundleOffer>,
}

/// One installed bundle. Only `manifest` and `signature` are to be trusted, and only
/// after the signature verified with the agent's own trusted keys; `kind` and `version`
/// repeat the manifest for a quick look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleOffer {
    pub kind: String,
    pub version: u64,
    /// SHA-256 (hex) of the manifest bytes.
    #[serde(default)]
    pub manifest_sha256: String,
    /// The exact signed `manifest.json`, base64 (standard alphabet, padded).
    pub manifest: String,
    /// The `manifest.json.minisig` text.
    pub signature: String,
}

/// Body of `POST /api/v1/bundles/status`: the bundle versions an agent runs now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleStatus {
    pub protocol: u32,
    pub bundles: Vec<RunningBundle>,
}

/// A bundle kind and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningBundle {
    pub kind: String,
    pub version: u64,
}

/// The server's answer to a bundle status: the versions it has installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleStatusAnswer {
    pub installed: Vec<RunningBundle>,
}

/// A command from the console for a terminal: `{"kind": …, "args": {…}}`. The kind
/// strings are spelled here only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "args")]
pub enum Command {
    /// Scan files now; no paths: the terminal's configured ones.
    #[serde(rename = "scan")]
    Scan(ScanArgs),
    /// Put a quarantined file back where it was.
    #[serde(rename = "quarantine.restore")]
    QuarantineRestore(VaultArgs),
    /// Delete a quarantined file for good.
    #[serde(rename = "quarantine.delete")]
    QuarantineDelete(VaultArgs),
    /// Put back files a stopped process changed, from the backup taken before it
    /// started, each checked against its hash from before.
    #[serde(rename = "backup.restore")]
    BackupRestore(BackupRestoreArgs),
    /// Put back files and folders of one snapshot an admin chose in the console, in
    /// place or below a folder on the terminal.
    #[serde(rename = "backup.restore-snapshot")]
    BackupRestoreSnapshot(SnapshotRestoreArgs),
    /// Cut the terminal off the network but for its server and the clinical systems
    /// named; released by itself unless a person confirms it in time.
    #[serde(rename = "isolate")]
    Isolate(isolation::IsolateArgs),
    /// A person confirms the isolation: it holds until released.
    #[serde(rename = "isolate.confirm")]
    IsolateConfirm(isolation::NoArgs),
    /// End the isolation: exactly what it added is removed.
    #[serde(rename = "isolate.release")]
    IsolateRelease(isolation::NoArgs),
    /// Kill one process, named by its pid and its start time or executable.
    #[serde(rename = "process.kill")]
    Kill(KillArgs),
    /// Copy one file into the server's evidence store (size-limited, hashed).
    #[serde(rename = "file.fetch")]
    FetchFile(FetchFileArgs),
    /// Close this file server's SMB ports to one client (one the guard caught
    /// encrypting a share), so it cannot simply connect again.
    #[serde(rename = "smb.block")]
    SmbBlock(SmbBlockArgs),
    /// Open them to that client again.
    #[serde(rename = "smb.unblock")]
    SmbUnblock(SmbBlockArgs),
    /// Install this terminal's upgrades from the server's `patches` bundle now.
    #[serde(rename = "patch.install")]
    PatchInstall(PatchInstallArgs),
}

/// Arguments of [`Command::PatchInstall`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchInstallArgs {
    /// Only apt's dry run: say what would be upgraded, change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Queued by a maintenance window rather than a person: a terminal at work puts it
    /// off (the result starts with "deferred") and the window asks again later.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scheduled: bool,
}

/// Arguments of [`Command::SmbBlock`] and [`Command::SmbUnblock`]: the client's address
/// and the server port; no port means Samba's two (445 and 139).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmbBlockArgs {
    pub address: std::net::IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// Whether `address` can be a client to block: not an unspecified, broadcast or
/// multicast address, which would block nobody or everybody.
pub fn check_smb_client_address(address: &std::net::IpAddr) -> Result<(), String> {
    let bad = address.is_unspecified()
        || address.is_multicast()
        || matches!(address, std::net::IpAddr::V4(v4) if v4.is_broadcast());
    if bad {
        return Err(format!("{address} is not the address of one client"));
    }
    Ok(())
}

/// Most bytes a fetched file may have, whatever the console asks.
pub const MAX_FETCH_BYTES: u64 = 64 * 1024 * 1024;

/// Arguments of [`Command::FetchFile`]: an absolute path on the terminal (no symbolic
/// link on the way is followed) and the most bytes to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchFileArgs {
    pub path: String,
    pub max_bytes: u64,
}

/// Arguments of [`Command::Kill`]: the pid, and at least one of the start time (clock
/// ticks since boot, field 22 of `/proc/PID/stat`) and the executable, so that a pid
/// reused by another process is never killed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillArgs {
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ticks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
}

/// The kinds of [`Command`], for code that must name one before it has the arguments
/// (the console's check of a new command). Each spells its kind as the wire does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    Scan,
    QuarantineRestore,
    QuarantineDelete,
    BackupRestore,
    BackupRestoreSnapshot,
    Isolate,
    IsolateConfirm,
    IsolateRelease,
    Kill,
    FetchFile,
    SmbBlock,
    SmbUnblock,
    PatchInstall,
}

impl CommandKind {
    /// Every kind, in the order a person is told them.
    pub const ALL: [CommandKind; 13] = [
        CommandKind::Scan,
        CommandKind::QuarantineRestore,
        CommandKind::QuarantineDelete,
        CommandKind::BackupRestore,
        CommandKind::BackupRestoreSnapshot,
        CommandKind::Isolate,
        CommandKind::IsolateConfirm,
        CommandKind::IsolateRelease,
        CommandKind::Kill,
        CommandKind::FetchFile,
        CommandKind::SmbBlock,
        CommandKind::SmbUnblock,
        CommandKind::PatchInstall,
    ];

    /// The `kind` string on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scan => "scan",
            Self::QuarantineRestore => "quarantine.restore",
            Self::QuarantineDelete => "quarantine.delete",
            Self::BackupRestore => "backup.restore",
            Self::BackupRestoreSnapshot => "backup.restore-snapshot",
            Self::Isolate => "isolate",
            Self::IsolateConfirm => "isolate.confirm",
            Self::IsolateRelease => "isolate.release",
            Self::Kill => "process.kill",
            Self::FetchFile => "file.fetch",
            Self::SmbBlock => "smb.block",
            Self::SmbUnblock => "smb.unblock",
            Self::PatchInstall => "patch.install",
        }
    }

    /// The kind a `kind` string names, if this version knows it.
    pub fn parse(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == kind)
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Command {
    /// Which kind of command this is.
    pub fn kind(&self) -> CommandKind {
        match self {
            Self::Scan(_) => CommandKind::Scan,
            Self::QuarantineRestore(_) => CommandKind::QuarantineRestore,
            Self::QuarantineDelete(_) => CommandKind::QuarantineDelete,
            Self::BackupRestore(_) => CommandKind::BackupRestore,
            Self::BackupRestoreSnapshot(_) => CommandKind::BackupRestoreSnapshot,
            Self::Isolate(_) => CommandKind::Isolate,
            Self::IsolateConfirm(_) => CommandKind::IsolateConfirm,
            Self::IsolateRelease(_) => CommandKind::IsolateRelease,
            Self::Kill(_) => CommandKind::Kill,
            Self::FetchFile(_) => CommandKind::FetchFile,
            Self::SmbBlock(_) => CommandKind::SmbBlock,
            Self::SmbUnblock(_) => CommandKind::SmbUnblock,
            Self::PatchInstall(_) => CommandKind::PatchInstall,
        }
    }

    /// The arguments as they travel in `args`.
    pub fn args(&self) -> serde_json::Value {
        let args = match self {
            Self::Scan(args) => serde_json::to_value(args),
            Self::QuarantineRestore(args) | Self::QuarantineDelete(args) => {
                serde_json::to_value(args)
            }
            Self::BackupRestore(args) => serde_json::to_value(args),
            Self::BackupRestoreSnapshot(args) => serde_json::to_value(args),
            Self::Isolate(args) => serde_json::to_value(args),
            Self::IsolateConfirm(args) | Self::IsolateRelease(args) => serde_json::to_value(args),
            Self::Kill(args) => serde_json::to_value(args),
            Self::FetchFile(args) => serde_json::to_value(args),
            Self::SmbBlock(args) | Self::SmbUnblock(args) => serde_json::to_value(args),
            Self::PatchInstall(args) => serde_json::to_value(args),
        };
        // Plain structs of strings always serialise.
        args.unwrap_or_default()
    }

    /// The command as the terminal gets it, under the id it was stored with.
    pub fn pending(&self, id: i64) -> PendingCommand {
        PendingCommand {
            id,
            kind: self.kind().as_str().to_owned(),
            args: self.args(),
        }
    }
}

/// Arguments of [`Command::Scan`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScanArgs {
    #[serde(default)]
    pub paths: Vec<String>,
}

/// Arguments of the quarantine commands: the vault id of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultArgs {
    pub id: String,
}

/// Arguments of [`Command::BackupRestore`], made by the server from a guard alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRestoreArgs {
    /// The alert the files come from, for the report.
    pub alert_id: i64,
    /// The first write of the stopped process, by the terminal's clock (Unix
    /// milliseconds): only snapshots taken before it are used.
    pub before_ms: i64,
    pub files: Vec<RestoreFile>,
}

/// One file to put back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreFile {
    /// Absolute path on the terminal.
    pub path: String,
    /// SHA-256 of the whole content before the change; `None` when only sampled blocks
    /// were hashed (the file is then restored from the newest snapshot before, unchecked).
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Most files one restore command carries.
pub const MAX_RESTORE_FILES: usize = 100_000;

/// Most paths one snapshot restore names.
pub const MAX_SNAPSHOT_RESTORE_PATHS: usize = 1000;
/// Longest path a snapshot restore takes, in bytes (Linux's `PATH_MAX`).
pub const MAX_RESTORE_PATH_BYTES: usize = 4096;
/// Longest snapshot id or prefix (a full restic id is 64 hex digits).
pub const MAX_SNAPSHOT_ID_CHARS: usize = 64;

/// Arguments of [`Command::BackupRestoreSnapshot`], chosen by an admin in the console.
/// Both sides check them with [`SnapshotRestoreArgs::check`]: the server before it
/// queues the command, the terminal before it writes anything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SnapshotRestoreArgs {
    /// Snapshot id or unique prefix (hex); `None`: the newest.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// Absolute paths inside the snapshot, files or folders; empty: the whole snapshot.
    #[serde(default)]
    pub paths: Vec<String>,
    /// `None`: put the files back where they were. An absolute folder on the terminal:
    /// restore below it, keeping the snapshot's full paths under it.
    #[serde(default)]
    pub target: Option<String>,
}

impl SnapshotRestoreArgs {
    /// What is wrong with these arguments, as a sentence for the console; they come from
    /// a browser and end up as paths root writes to.
    pub fn check(&self) -> Result<(), String> {
        if let Some(id) = &self.snapshot {
            check_snapshot_id(id)?;
        }
        if self.paths.len() > MAX_SNAPSHOT_RESTORE_PATHS {
            return Err(format!(
                "a restore names at most {MAX_SNAPSHOT_RESTORE_PATHS} paths, not {}; restore a folder that holds them instead",
                self.paths.len()
            ));
        }
        for path in &self.paths {
            check_restore_path("path", path)?;
        }
        if let Some(target) = &self.target {
            check_restore_path("target folder", target)?;
            if target == "/" {
                return Err("the target folder cannot be / (that is a restore in place)".into());
            }
        }
        Ok(())
    }
}

/// A snapshot id or prefix: 1 to [`MAX_SNAPSHOT_ID_CHARS`] lowercase hex digits.
pub fn check_snapshot_id(id: &str) -> Result<(), String> {
    let hex = id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if id.is_empty() || id.len() > MAX_SNAPSHOT_ID_CHARS || !hex {
        return Err(format!(
            "a snapshot is named by its id or the start of it: 1 to {MAX_SNAPSHOT_ID_CHARS} of 0-9 and a-f"
        ));
    }
    Ok(())
}

/// An absolute path with no `.` or `..` component, no NUL, at most
/// [`MAX_RESTORE_PATH_BYTES`] bytes. `what` names it in the sentence.
pub fn check_restore_path(what: &str, path: &str) -> Result<(), String> {
    let shown: String = path.chars().take(80).collect();
    if !path.starts_with('/') {
        return Err(format!(
            "the {what} {shown:?} is not an absolute path (it must start with /)"
        ));
    }
    if path.len() > MAX_RESTORE_PATH_BYTES {
        return Err(format!(
            "the {what} {shown:?}… is longer than {MAX_RESTORE_PATH_BYTES} bytes"
        ));
    }
    if path.contains('\0') {
        return Err(format!("the {what} {shown:?} holds a NUL character"));
    }
    if path.split('/').any(|c| c == ".." || c == ".") {
        return Err(format!("the {what} {shown:?} holds a . or .. component"));
    }
    Ok(())
}

/// One command as `GET /api/v1/commands` lists it. Kind and arguments stay raw here so
/// that one command this agent does not know spoils only itself, not the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCommand {
    pub id: i64,
    pub kind: String,
    #[serde(default)]
    pub args: serde_json::Value,
}

impl PendingCommand {
    /// The command, or why it cannot be read: a kind this version does not know, or
    /// arguments of the wrong shape (serde's sentence, which names the known kinds).
    pub fn command(&self) -> Result<Command, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "kind": self.kind, "args": self.args }))
    }
}

/// Body of `GET /api/v1/commands`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCommands {
    pub commands: Vec<PendingCommand>,
}

/// Body of `POST /api/v1/commands/{id}`: how a command went. `result` is the command's
/// report, or the sentence that says why it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandOutcome {
    pub ok: bool,
    #[serde(default)]
    pub result: serde_json::Value,
}

/// The server's answer to a command outcome: the outcome of this command is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecorded {
    /// The id of the command whose outcome was recorded.
    pub recorded: i64,
}

/// Every error the server returns has this shape, with a sentence meant for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `SHA256:<lowercase hex>` of a DER certificate: how the server prints its CA and how
/// an agent pins it, so both sides must compute it the same way.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    format!("SHA256:{}", hex::encode(sha2::Sha256::digest(der)))
}

/// Current time as Unix milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_with_kind_tag() {
        let event = Event {
            seq: 7,
            time: 1_700_000_000_000,
            body: EventBody::PackageUpgraded {
                package: Package {
                    ecosystem: "dpkg".into(),
                    name: "openssl".into(),
                    version: "3.0.15-1~deb12u1".into(),
                    arch: "amd64".into(),
                    source: Some("openssl".into()),
                    source_version: Some("3.0.15-1~deb12u1".into()),
                },
                previous_version: "3.0.14-1~deb12u2".into(),
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "package_upgraded");
        assert_eq!(json["seq"], 7);
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn command_kinds_are_spelled_as_serde_tags_them() {
        let commands = [
            Command::Scan(ScanArgs {
                paths: vec!["/home".into()],
            }),
            Command::QuarantineRestore(VaultArgs { id: "a-1".into() }),
            Command::QuarantineDelete(VaultArgs { id: "a-2".into() }),
            Command::BackupRestore(BackupRestoreArgs {
                alert_id: 3,
                before_ms: 1,
                files: vec![],
            }),
            Command::BackupRestoreSnapshot(SnapshotRestoreArgs {
                snapshot: Some("ab12".into()),
                paths: vec!["/srv/records".into()],
                target: None,
            }),
            Command::Isolate(isolation::IsolateArgs {
                allow: vec!["10.1.2.0/24".into()],
                confirm_within_secs: 900,
            }),
            Command::IsolateConfirm(isolation::NoArgs {}),
            Command::IsolateRelease(isolation::NoArgs {}),
            Command::Kill(KillArgs {
                pid: 4242,
                start_ticks: Some(987_654),
                exe: None,
            }),
            Command::FetchFile(FetchFileArgs {
                path: "/home/nurse/Downloads/invoice.pdf.exe".into(),
                max_bytes: 1 << 20,
            }),
            Command::SmbBlock(SmbBlockArgs {
                address: "10.20.3.41".parse().unwrap(),
                port: None,
            }),
            Command::SmbUnblock(SmbBlockArgs {
                address: "fd00::41".parse().unwrap(),
                port: Some(445),
            }),
            Command::PatchInstall(PatchInstallArgs {
                dry_run: true,
                scheduled: false,
            }),
        ];
        assert_eq!(commands.len(), CommandKind::ALL.len());
        for (command, kind) in commands.iter().zip(CommandKind::ALL) {
            assert_eq!(command.kind(), kind);
            assert_eq!(CommandKind::parse(kind.as_str()), Some(kind));
            let wire = serde_json::to_value(command).unwrap();
            assert_eq!(wire["kind"], kind.as_str());
            assert_eq!(wire["args"], command.args());
            assert_eq!(command.pending(7).command().unwrap(), *command);
        }
        assert_eq!(CommandKind::parse("reboot"), None);
    }

    #[test]
    fn snapshot_restore_arguments_are_checked() {
        let ok = SnapshotRestoreArgs {
            snapshot: Some("0123456789abcdef".into()),
            paths: vec!["/srv/records".into(), "/home/a b/ü.txt".into()],
            target: Some("/var/tmp/restored".into()),
        };
        assert_eq!(ok.check(), Ok(()));
        assert_eq!(SnapshotRestoreArgs::default().check(), Ok(()));
        let with = |f: &dyn Fn(&mut SnapshotRestoreArgs)| {
            let mut args = ok.clone();
            f(&mut args);
            args.check()
        };
        for bad_id in ["", "ABCDEF", "12g4", "../x", &"a".repeat(65)] {
            let snapshot = Some(bad_id.to_string());
            assert!(
                with(&|a| a.snapshot = snapshot.clone()).is_err(),
                "{bad_id:?}"
            );
        }
        assert_eq!(with(&|a| a.snapshot = Some("a".repeat(64))), Ok(()));
        for bad in [
            "relative/x",
            "",
            "/srv/../etc/shadow",
            "/srv/..",
            "/srv/./x",
            "/srv/a\0b",
            &format!("/{}", "a".repeat(MAX_RESTORE_PATH_BYTES)),
        ] {
            let path = bad.to_string();
            assert!(with(&|a| a.paths.push(path.clone())).is_err(), "{bad:?}");
            assert!(with(&|a| a.target = Some(path.clone())).is_err(), "{bad:?}");
        }
        assert!(with(&|a| a.target = Some("/".into())).is_err());
        let too_many: Vec<String> = (0..=MAX_SNAPSHOT_RESTORE_PATHS)
            .map(|i| format!("/p{i}"))
            .collect();
        let err = with(&|a| a.paths = too_many.clone()).unwrap_err();
        assert!(err.contains("at most 1000"), "{err}");
        let most = too_many[..MAX_SNAPSHOT_RESTORE_PATHS].to_vec();
        assert_eq!(with(&|a| a.paths = most.clone()), Ok(()));
        // Fields left out read as their defaults: the newest snapshot, whole, in place.
        let read: SnapshotRestoreArgs = serde_json::from_str("{}").unwrap();
        assert_eq!(read, SnapshotRestoreArgs::default());
    }

    #[test]
    fn priorities_order_alerts_first() {
        assert!(Priority::Alert < Priority::Change);
        assert!(Priority::Change < Priority::Bulk);
        for p in [Priority::Alert, Priority::Change, Priority::Bulk] {
            assert_eq!(Priority::from_i64(p.as_i64()), Some(p));
        }
        assert_eq!(Priority::from_i64(9), None);
    }
}

/// Where a terminal's backups go. The agent asks for it with `POST
/// /api/v1/backup/repository`; the server creates the terminal's repository on first
/// use and issues a new key for it each time.
pub mod backup {
    use serde::{Deserialize, Serialize};

    /// The path of the terminal's own repository on the agent API, under which restic's
    /// REST protocol is served (`config`, `data/`, `keys/`, `locks/`, `snapshots/`,
    /// `index/`). The server picks the repository by the client certificate: every
    /// terminal uses the same path.
    pub const REPOSITORY_PATH: &str = "/api/v1/backup/repo/";

    /// The server's answer: the password of a key it added for this terminal.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RepositoryGrant {
        pub path: String,
        pub password: String,
        /// True when the repository was created by this request.
        pub created: bool,
    }

    /// Largest file a terminal may upload into its repository, in bytes: restic's and
    /// rustic's packs stay far below it.
    pub const MAX_REPOSITORY_FILE: u64 = 256 * 1024 * 1024;
}
