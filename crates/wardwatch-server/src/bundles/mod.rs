//! Offline bundles on the server: the publisher keys it trusts, importing a bundle file,
//! and reading what is installed for the agents and the console.
//!
//! Layout in the data directory:
//!
//! - `trusted-keys/<KEY ID>.pub`: minisign public keys of the publishers (the server's
//!   configuration, changed with `wardwatch bundle trust`, each change audited);
//! - `bundles/<kind>/`: the installed bundle of each kind (members, `manifest.json`,
//!   `manifest.json.minisig`), only ever replaced whole by one directory exchange;
//! - `bundles/.import.lock`: held while an import runs, so the command line and the
//!   console never import at the same time (readers do not need it).
//!
//! An import checks everything (trusted signature, manifest, newer than both the installed
//! directory and every version the database has recorded, not expired, every member's
//! size and SHA-256) while unpacking into a staging directory beside the target; only
//! then is the staging directory exchanged with the installed one, and the import is
//! recorded in the database together with its audit entry. A refusal leaves the installed
//! directory and the `bundles` table as they were and is itself audited with its reason.
//!
//! Beside the import: the console's bundle pages (`api`) and the `bundles`,
//! `host_bundles` and settings tables (`sqlite`, behind [`BundleStore`]). The agent API
//! serves the installed bundles to terminals.

pub mod api;
pub mod freshness;
pub mod sqlite;

pub use sqlite::{BundleRecord, HostBundleVersions, ImportedBundle, ReportedBundle};

use crate::incidents::signal::Signal;
use crate::incidents::IncidentStore;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wardwatch_bundle::time::OffsetDateTime;
use wardwatch_bundle::{
    BundleError, KeyError, Kind, Limits, Manifest, Policy, PublicKey, TrustedKeys,
};

use crate::audit::AuditStore;
use crate::db::{StoreError, StoreResult};

/// Where an installed bundle's signed manifest and its signature are kept.
const MANIFEST_NAME: &str = "manifest.json";
const SIGNATURE_NAME: &str = "manifest.json.minisig";
/// Prefix of staging directories below `bundles/`; removed under the import lock.
const STAGING_PREFIX: &str = ".staging-";

/// Every kind of bundle, in the order the console shows them.
pub const KINDS: [Kind; 4] = [
    Kind::VulnFeed,
    Kind::Signatures,
    Kind::Policies,
    Kind::Patches,
];

/// Fails to compile when the bundle crate gains a kind that [`KINDS`] lacks.
#[allow(dead_code)]
fn all_kinds_listed(kind: Kind) {
    match kind {
        Kind::VulnFeed | Kind::Signatures | Kind::Policies | Kind::Patches => {}
    }
}

/// `DATA/trusted-keys`.
pub fn trusted_keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("trusted-keys")
}

/// `DATA/bundles`.
pub fn bundles_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("bundles")
}

/// `DATA/bundles/KIND`: where the installed bundle of a kind lives.
pub fn kind_dir(data_dir: &Path, kind: Kind) -> PathBuf {
    bundles_dir(data_dir).join(kind.as_str())
}

/// `DATA/bundles/.uploads`: console uploads wait here (same file system) until imported.
pub fn uploads_dir(data_dir: &Path) -> PathBuf {
    bundles_dir(data_dir).join(".uploads")
}

fn create_private_dir(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

use wardwatch_os::sync_dir;

// ---------------------------------------------------------------------------------------
// Trusted publisher keys
// ---------------------------------------------------------------------------------------

/// Why a trusted key could not be read, added or removed.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot read the trusted keys in {}: {cause}", path.display())]
    ReadDir { path: PathBuf, cause: io::Error },
    #[error("cannot write {}: {cause}", path.display())]
    Write { path: PathBuf, cause: io::Error },
    #[error("a different key with the same key id {key_id} is already trusted ({}); remove it first with `wardwatch bundle trust remove {key_id}`", path.display())]
    Conflict { key_id: String, path: PathBuf },
    #[error("{0:?} is not a key id; give it as `wardwatch bundle trust list` prints it, e.g. 0x1A2B3C4D5E6F7081")]
    BadKeyId(String),
    #[error("no trusted key has the id {0} (see `wardwatch bundle trust list`)")]
    NoSuchKey(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A trusted publisher key as listed.
#[derive(Debug, Clone, Serialize)]
pub struct TrustedKeyInfo {
    /// As minisign prints it: `0x` and 16 hex digits.
    pub key_id: String,
    pub file: PathBuf,
}

/// What adding a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAdded {
    pub key_id: String,
    /// False when the very same key was already trusted.
    pub added: bool,
}

fn key_file_name(key: &PublicKey) -> String {
    format!("{:016X}.pub", u64::from_le_bytes(key.key_id().0))
}

/// Every `*.pub` file of the trusted-keys directory, read; one that is not a public key
/// is an error rather than skipped, so a damaged configuration is noticed.
fn read_keys(data_dir: &Path) -> Result<Vec<(PathBuf, PublicKey)>, TrustError> {
    let dir = trusted_keys_dir(data_dir);
    let entries = match fs::read_dir(&dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(cause) => return Err(TrustError::ReadDir { path: dir, cause }),
        Ok(entries) => entries,
    };
    let mut keys = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|cause| TrustError::ReadDir {
            path: dir.clone(),
            cause,
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || !name.ends_with(".pub") {
            continue;
        }
        let path = entry.path();
        let key = PublicKey::from_file(&path)?;
        keys.push((path, key));
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keys)
}

/// The trusted keys, for listing.
pub fn list_trusted_keys(data_dir: &Path) -> Result<Vec<TrustedKeyInfo>, TrustError> {
    Ok(read_keys(data_dir)?
        .into_iter()
        .map(|(file, key)| TrustedKeyInfo {
            key_id: key.key_id().to_string(),
            file,
        })
        .collect())
}

/// The trusted keys, for verifying, and how many there are.
pub fn load_trusted_keys(data_dir: &Path) -> Result<(TrustedKeys, usize), TrustError> {
    let keys = read_keys(data_dir)?;
    let count = keys.len();
    let mut trusted = TrustedKeys::new();
    for (_, key) in keys {
        trusted.add(key)?;
    }
    Ok((trusted, count))
}

/// Trusts the publisher key in `file` (a minisign `.pub` file) from now on. The same key
/// twice is not an error; a different key with the same id is. Audited.
pub fn add_trusted_key<S: BundleStore + AuditStore + ?Sized>(
    store: &S,
    data_dir: &Path,
    file: &Path,
    actor: &str,
) -> Result<KeyAdded, TrustError> {
    let key = PublicKey::from_file(file)?;
    let key_id = key.key_id().to_string();
    for (path, existing) in read_keys(data_dir)? {
        if existing.key_id() == key.key_id() {
            if existing.to_file_text() == key.to_file_text() {
                return Ok(KeyAdded {
                    key_id,
                    added: false,
                });
            }
            return Err(TrustError::Conflict { key_id, path });
        }
    }
    let dir = trusted_keys_dir(data_dir);
    let write_err = |path: &Path| {
        let path = path.to_owned();
        move |cause| TrustError::Write { path, cause }
    };
    create_private_dir(&dir).map_err(write_err(&dir))?;
    let path = dir.join(key_file_name(&key));
    wardwatch_os::write_private(&path, key.to_file_text().as_bytes()).map_err(write_err(&path))?;
    sync_dir(&dir).map_err(write_err(&dir))?;
    let detail = serde_json::json!({ "from": file.display().to_string() }).to_string();
    if let Err(e) = store.audit(actor, "bundle.key_add", &key_id, &detail) {
        // Unrecorded, the change must not stand.
        let _ = fs::remove_file(&path);
        return Err(e.into());
    }
    Ok(KeyAdded {
        key_id,
        added: true,
    })
}

/// Parses `0x1A2B…`, `1a2b…` (16 hex digits) into minisign's printed form.
fn normalize_key_id(text: &str) -> Result<String, TrustError> {
    let bad = || TrustError::BadKeyId(text.to_string());
    let digits = text
        .trim()
        .strip_prefix("0x")
        .or_else(|| text.trim().strip_prefix("0X"))
        .unwrap_or(text.trim());
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let value = u64::from_str_radix(digits, 16).map_err(|_| bad())?;
    Ok(format!("0x{value:016X}"))
}

/// Stops trusting a key. Audited; the key file is put back if the audit entry cannot be
/// written.
pub fn remove_trusted_key<S: BundleStore + AuditStore + ?Sized>(
    store: &S,
    data_dir: &Path,
    key_id: &str,
    actor: &str,
) -> Result<String, TrustError> {
    let wanted = normalize_key_id(key_id)?;
    let (path, key) = read_keys(data_dir)?
        .into_iter()
        .find(|(_, k)| k.key_id().to_string() == wanted)
        .ok_or_else(|| TrustError::NoSuchKey(wanted.clone()))?;
    let write_err = |cause| TrustError::Write {
        path: path.clone(),
        cause,
    };
    fs::remove_file(&path).map_err(write_err)?;
    let dir = trusted_keys_dir(data_dir);
    let _ = sync_dir(&dir);
    let detail = serde_json::json!({ "file": path.display().to_string() }).to_string();
    if let Err(e) = store.audit(actor, "bundle.key_remove", &wanted, &detail) {
        let _ = wardwatch_os::write_private(&path, key.to_file_text().as_bytes());
        return Err(e.into());
    }
    Ok(wanted)
}

// ---------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------

/// Why an import did not happen (or, for [`ImportError::NotRecorded`], was not recorded).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The bundle was refused: the bundle library's sentence says why.
    #[error(transparent)]
    Refused(BundleError),
    #[error("no publisher key is trusted yet, so no bundle can be accepted; add the publisher's public key with `wardwatch bundle trust add KEY.pub` (kept in {})", dir.display())]
    NoTrustedKeys { dir: PathBuf },
    #[error("the bundle file changed while it was being read (first {first}, then {second}); copy it again")]
    Changed { first: String, second: String },
    #[error(
        "bundle version {version} is larger than this server can record (at most {})",
        i64::MAX
    )]
    VersionTooLarge { version: u64 },
    #[error("another bundle import is running (from the console or `wardwatch bundle import`); try again when it has finished")]
    Busy,
    #[error("the trusted publisher keys cannot be used: {0}")]
    Keys(#[from] TrustError),
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("cannot write {}: {cause}", path.display())]
    Write { path: PathBuf, cause: io::Error },
    #[error("the vuln-feed bundle is signed, but its data cannot be used: {0}; nothing was installed, the previous feed stays active")]
    Feed(wardwatch_vuln::feed::FeedError),
    #[error("the patches bundle is signed, but its content does not hold together: {0}; nothing was installed")]
    Patches(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{kind} version {version} was installed in {}, but recording it in the database failed ({source}); it will be recorded at the next import or server start", dir.display())]
    NotRecorded {
        kind: Kind,
        version: u64,
        dir: PathBuf,
        source: StoreError,
    },
}

impl ImportError {
    /// Whether the bundle itself is at fault (HTTP 422), not the server.
    pub fn is_refusal(&self) -> bool {
        match self {
            ImportError::Refused(e) => !matches!(
                e,
                BundleError::Write { .. }
                    | BundleError::StagingExists { .. }
                    | BundleError::InstalledUnreadable { .. }
            ),
            ImportError::NoTrustedKeys { .. }
            | ImportError::Feed(_)
            | ImportError::Patches(_)
            | ImportError::Changed { .. }
            | ImportError::VersionTooLarge { .. } => true,
            _ => false,
        }
    }
}

/// A bundle that was installed and recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub bundle: ImportedBundle,
    /// The version it replaced, if one was installed.
    pub replaced_version: Option<u64>,
    pub installed_in: PathBuf,
}

/// Held while an import runs; released when dropped (the lock goes with the descriptor,
/// so a crashed importer never leaves it held).
struct ImportLock {
    _file: File,
}

impl ImportLock {
    fn acquire(data_dir: &Path) -> Result<ImportLock, ImportError> {
        let dir = bundles_dir(data_dir);
        create_private_dir(&dir).map_err(|cause| ImportError::Write {
            path: dir.clone(),
            cause,
        })?;
        let path = dir.join(".import.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|cause| ImportError::Write {
                path: path.clone(),
                cause,
            })?;
        match wardwatch_os::fd::try_lock_exclusive(&file) {
            Ok(true) => {}
            Ok(false) => return Err(ImportError::Busy),
            Err(cause) => return Err(ImportError::Write { path, cause }),
        }
        Ok(ImportLock { _file: file })
    }
}

/// Reads through to a SHA-256 of everything read, so the audit can name the exact file.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// What the audit says about an import, filled in as it becomes known.
#[derive(Default)]
struct Facts {
    kind: Option<Kind>,
    file_sha256: Option<String>,
}

/// Imports the bundle in `file`: verified in full, then installed atomically in
/// `DATA/bundles/KIND`, then recorded (with its audit entry). `label` names the file in
/// the audit record; `actor` is who asked (an admin's name, or "cli").
pub fn import_file<S: BundleStore + AuditStore + IncidentStore + ?Sized>(
    store: &S,
    data_dir: &Path,
    file: &Path,
    label: &str,
    actor: &str,
) -> Result<ImportOutcome, ImportError> {
    import_file_at(
        store,
        data_dir,
        file,
        label,
        actor,
        OffsetDateTime::now_utc(),
    )
}

/// [`import_file`] with this machine's time given (tests).
pub fn import_file_at<S: BundleStore + AuditStore + IncidentStore + ?Sized>(
    store: &S,
    data_dir: &Path,
    file: &Path,
    label: &str,
    actor: &str,
    now: OffsetDateTime,
) -> Result<ImportOutcome, ImportError> {
    let _lock = ImportLock::acquire(data_dir)?;
    recover_locked(store, data_dir)?;
    let mut facts = Facts::default();
    let result = import_locked(store, data_dir, file, label, actor, now, &mut facts);
    if let Err(error) = &result {
        // Not audited: nothing was read (busy, no such file) or the database itself failed.
        let audited = !matches!(
            error,
            ImportError::Busy
                | ImportError::Read { .. }
                | ImportError::Store(_)
                | ImportError::NotRecorded { .. }
        );
        if audited {
            let detail = serde_json::json!({
                "file": label,
                "file_sha256": facts.file_sha256,
                "kind": facts.kind.map(Kind::as_str),
                "reason": error.to_string(),
            })
            .to_string();
            if let Err(e) = store.audit(actor, "bundle.refuse", label, &detail) {
                tracing::error!(error = %e, "cannot write the refusal of a bundle to the audit record");
            }
        }
        // A bundle refused for what it is (a bad signature, a corrupt or altered file)
        // may be a forged update or a downgrade: an incident to look at. A server with no
        // trusted key yet, a file still being copied, or the installed version imported
        // again is not.
        let suspicious = match error {
            ImportError::Refused(BundleError::Rollback { bundle, installed }) => bundle < installed,
            ImportError::Refused(_) => error.is_refusal(),
            _ => false,
        };
        if suspicious {
            let signal = Signal::bundle_refused(
                label,
                &error.to_string(),
                actor,
                wardwatch_proto::now_millis(),
            );
            if let Err(e) = store.record_signal(&signal) {
                tracing::error!(error = %e, "cannot record the refused bundle as an incident");
            }
        }
    }
    result
}

fn import_locked<S: BundleStore + AuditStore + ?Sized>(
    store: &S,
    data_dir: &Path,
    file: &Path,
    label: &str,
    actor: &str,
    now: OffsetDateTime,
    facts: &mut Facts,
) -> Result<ImportOutcome, ImportError> {
    let (trusted, count) = load_trusted_keys(data_dir)?;
    if count == 0 {
        return Err(ImportError::NoTrustedKeys {
            dir: trusted_keys_dir(data_dir),
        });
    }
    let read_err = |cause| ImportError::Read {
        path: file.to_owned(),
        cause,
    };
    let mut input = File::open(file).map_err(read_err)?;
    // The kind decides the target and the installed version to compare with; it is
    // taken from the manifest here and checked again once the signature was verified.
    let kind = claimed_kind(&mut input, &trusted, now)?;
    facts.kind = Some(kind);
    input.seek(SeekFrom::Start(0)).map_err(read_err)?;

    let target = kind_dir(data_dir, kind);
    let on_disk = wardwatch_bundle::installed_version(&target).map_err(ImportError::Refused)?;
    let recorded = store
        .bundle_max_version(kind.as_str())?
        .and_then(|v| u64::try_from(v).ok());
    let policy = Policy::new(&trusted, on_disk.max(recorded), now);

    remove_stale_staging(data_dir)?;
    let staging =
        bundles_dir(data_dir).join(format!("{STAGING_PREFIX}{kind}-{}", std::process::id()));
    let mut hashing = Hashing {
        inner: input,
        hasher: Sha256::new(),
    };
    let staged = wardwatch_bundle::unpack(&mut hashing, &policy, &staging);
    // The rest of the file too, so that the hash names the whole file even on refusal.
    if io::copy(&mut hashing, &mut io::sink()).is_ok() {
        facts.file_sha256 = Some(hex::encode(hashing.hasher.finalize()));
    }
    let staged = staged.map_err(ImportError::Refused)?;

    let verified = staged.verified().clone();
    let manifest = &verified.manifest;
    if manifest.kind != kind {
        return Err(ImportError::Changed {
            first: kind.to_string(),
            second: manifest.kind.to_string(),
        });
    }
    let version = i64::try_from(manifest.version).map_err(|_| ImportError::VersionTooLarge {
        version: manifest.version,
    })?;
    if kind == Kind::VulnFeed {
        // A feed the server could not match with must not replace one it can.
        crate::vuln::feed::load(staged.path(), manifest).map_err(ImportError::Feed)?;
    }
    if kind == Kind::Patches {
        // Terminals fetch these files by what the fetch recorded: each must be there.
        crate::patches::bundle::check(staged.path(), manifest).map_err(ImportError::Patches)?;
    }
    let installed =
        wardwatch_bundle::install_atomically(staged, &target).map_err(ImportError::Refused)?;

    let record = BundleRecord {
        kind: kind.as_str().to_string(),
        version,
        created: millis(manifest.created),
        expires: millis(manifest.expires),
        key_id: verified.key_id.to_string(),
        manifest_sha256: hex::encode(Sha256::digest(&verified.manifest_bytes)),
        file_sha256: facts.file_sha256.clone(),
        members: manifest
            .members
            .iter()
            .map(|m| (m.name.clone(), m.size, hex::encode(m.sha256)))
            .collect(),
    };
    let detail = serde_json::json!({
        "file": label,
        "file_sha256": facts.file_sha256,
        "key_id": record.key_id,
        "manifest_sha256": record.manifest_sha256,
        "replaced_version": installed.replaced_version,
        "members": manifest.members.len(),
        "total_size": manifest.total_size(),
    })
    .to_string();
    let bundle = store
        .record_bundle(&record, actor, "bundle.import", &detail)
        .map_err(|source| ImportError::NotRecorded {
            kind,
            version: manifest.version,
            dir: target.clone(),
            source,
        })?;
    tracing::info!(%kind, version, %actor, "bundle imported");
    Ok(ImportOutcome {
        bundle,
        replaced_version: installed.replaced_version,
        installed_in: target,
    })
}

/// The kind the bundle's manifest claims. A manifest that does not parse is reported as
/// verification reports it (an unsigned or forged bundle is that first).
fn claimed_kind(
    input: &mut File,
    trusted: &TrustedKeys,
    now: OffsetDateTime,
) -> Result<Kind, ImportError> {
    let found =
        wardwatch_bundle::inspect(&mut *input, &Limits::default()).map_err(ImportError::Refused)?;
    match found.manifest {
        Ok(manifest) => Ok(manifest.kind),
        Err(parse_error) => {
            input
                .seek(SeekFrom::Start(0))
                .map_err(|cause| ImportError::Refused(BundleError::Read(cause)))?;
            match wardwatch_bundle::verify(&mut *input, &Policy::new(trusted, None, now)) {
                Err(e) => Err(ImportError::Refused(e)),
                Ok(_) => Err(ImportError::Refused(parse_error)),
            }
        }
    }
}

/// Staging directories left by a crashed import (only under the import lock).
fn remove_stale_staging(data_dir: &Path) -> Result<(), ImportError> {
    let dir = bundles_dir(data_dir);
    let entries = fs::read_dir(&dir).map_err(|cause| ImportError::Read {
        path: dir.clone(),
        cause,
    })?;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
        {
            let path = entry.path();
            fs::remove_dir_all(&path).map_err(|cause| ImportError::Write { path, cause })?;
        }
    }
    Ok(())
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Records installed bundles the database does not know of: a crash between the
/// directory exchange and the database commit leaves one. Under the import lock.
fn recover_locked<S: BundleStore + AuditStore + ?Sized>(
    store: &S,
    data_dir: &Path,
) -> Result<(), ImportError> {
    let shelf = InstalledBundles::new(data_dir);
    for kind in KINDS {
        let installed = match shelf.get(kind) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(%kind, error = %e, "cannot read the installed bundle");
                continue;
            }
        };
        let Ok(version) = i64::try_from(installed.manifest.version) else {
            continue;
        };
        let recorded = store.bundle_max_version(kind.as_str())?;
        if recorded.is_some_and(|r| r >= version) {
            continue;
        }
        let record = BundleRecord {
            kind: kind.as_str().to_string(),
            version,
            created: millis(installed.manifest.created),
            expires: millis(installed.manifest.expires),
            key_id: installed.key_id.clone().unwrap_or_default(),
            manifest_sha256: installed.manifest_sha256.clone(),
            file_sha256: None,
            members: installed
                .manifest
                .members
                .iter()
                .map(|m| (m.name.clone(), m.size, hex::encode(m.sha256)))
                .collect(),
        };
        let detail = serde_json::json!({
            "reason": "installed in the data directory but not recorded (an import was interrupted)",
        })
        .to_string();
        store.record_bundle(
            &record,
            "server",
            "bundle.recorded_after_interruption",
            &detail,
        )?;
        tracing::warn!(%kind, version, "recorded a bundle whose import was interrupted");
    }
    Ok(())
}

/// At server start: the bundle directories exist, uploads a crash left are gone, and
/// interrupted imports are recorded (skipped if an import is running right now).
pub fn prepare<S: BundleStore + AuditStore + ?Sized>(
    store: &S,
    data_dir: &Path,
) -> Result<(), ImportError> {
    let uploads = uploads_dir(data_dir);
    if uploads.exists() {
        let _ = fs::remove_dir_all(&uploads);
    }
    create_private_dir(&uploads).map_err(|cause| ImportError::Write {
        path: uploads.clone(),
        cause,
    })?;
    match ImportLock::acquire(data_dir) {
        Ok(_lock) => recover_locked(store, data_dir),
        Err(ImportError::Busy) => Ok(()),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// Reading what is installed
// ---------------------------------------------------------------------------------------

/// What identifies one installed directory: an import replaces the directory itself, so
/// the same identity before and after a read means the read saw one version only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DirIdentity {
    dev: u64,
    ino: u64,
    ctime: i64,
    ctime_nsec: i64,
}

fn identity(dir: &Path) -> io::Result<Option<DirIdentity>> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
        Ok(m) => Ok(Some(DirIdentity {
            dev: m.dev(),
            ino: m.ino(),
            ctime: m.ctime(),
            ctime_nsec: m.ctime_nsec(),
        })),
    }
}

/// An installed bundle as read from its directory.
#[derive(Debug)]
pub struct InstalledBundle {
    pub kind: Kind,
    pub manifest: Manifest,
    /// The exact signed bytes, for agents to verify themselves.
    pub manifest_bytes: Vec<u8>,
    pub manifest_sha256: String,
    /// The minisign signature file's text.
    pub signature: String,
    /// The key id the signature names, if it parses.
    pub key_id: Option<String>,
    identity: DirIdentity,
}

/// Reads installed bundles, remembering each until its directory is replaced.
pub struct InstalledBundles {
    data_dir: PathBuf,
    cache: Mutex<HashMap<Kind, Arc<InstalledBundle>>>,
}

/// How often a read is tried again when an import replaced the directory meanwhile.
const READ_ATTEMPTS: usize = 5;

impl InstalledBundles {
    pub fn new(data_dir: &Path) -> InstalledBundles {
        InstalledBundles {
            data_dir: data_dir.to_owned(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The installed bundle of a kind, if any.
    pub fn get(&self, kind: Kind) -> io::Result<Option<Arc<InstalledBundle>>> {
        let dir = kind_dir(&self.data_dir, kind);
        for _ in 0..READ_ATTEMPTS {
            let Some(before) = identity(&dir)? else {
                return Ok(None);
            };
            if let Some(cached) = self.cached(kind).filter(|c| c.identity == before) {
                return Ok(Some(cached));
            }
            let read = read_installed(&dir, kind, before);
            if identity(&dir)? != Some(before) {
                continue;
            }
            match read {
                Ok(bundle) => {
                    let bundle = Arc::new(bundle);
                    if let Ok(mut cache) = self.cache.lock() {
                        cache.insert(kind, bundle.clone());
                    }
                    return Ok(Some(bundle));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(io::Error::other(format!(
                        "{} holds no complete bundle ({e}); import the bundle again",
                        dir.display()
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "the installed bundle kept changing while it was read; try again",
        ))
    }

    /// Every installed bundle, in [`KINDS`] order.
    pub fn all(&self) -> io::Result<Vec<Arc<InstalledBundle>>> {
        let mut out = Vec::new();
        for kind in KINDS {
            if let Some(b) = self.get(kind)? {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// The installed member of `kind` whose content has this SHA-256, opened, with its
    /// size; the file is from the same installed version as the manifest that lists it.
    pub fn open_member(&self, kind: Kind, sha256: &[u8; 32]) -> io::Result<Option<(File, u64)>> {
        let dir = kind_dir(&self.data_dir, kind);
        for _ in 0..READ_ATTEMPTS {
            let Some(bundle) = self.get(kind)? else {
                return Ok(None);
            };
            let Some(member) = bundle.manifest.members.iter().find(|m| m.sha256 == *sha256) else {
                return Ok(None);
            };
            let opened = File::open(dir.join(&member.name));
            if identity(&dir)? != Some(bundle.identity) {
                // Replaced meanwhile: look the hash up in the new version.
                continue;
            }
            let file = opened.map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot open the installed {}: {e}; import the bundle again",
                        dir.join(&member.name).display()
                    ),
                )
            })?;
            let size = file.metadata()?.len();
            if size != member.size {
                return Err(io::Error::other(format!(
                    "the installed file {} is {size} bytes, not the {} its manifest says; it was changed on disk (import the bundle again)",
                    dir.join(&member.name).display(),
                    member.size
                )));
            }
            return Ok(Some((file, size)));
        }
        Err(io::Error::other(
            "the installed bundle kept changing while it was read; try again",
        ))
    }

    fn cached(&self, kind: Kind) -> Option<Arc<InstalledBundle>> {
        self.cache.lock().ok()?.get(&kind).cloned()
    }
}

fn read_installed(dir: &Path, kind: Kind, identity: DirIdentity) -> io::Result<InstalledBundle> {
    let limits = Limits::default();
    let mut manifest_bytes = Vec::new();
    File::open(dir.join(MANIFEST_NAME))?
        .take(limits.max_manifest_size)
        .read_to_end(&mut manifest_bytes)?;
    let mut signature = String::new();
    File::open(dir.join(SIGNATURE_NAME))?
        .take(wardwatch_bundle::signature::MAX_SIGNATURE_LEN)
        .read_to_string(&mut signature)?;
    let manifest = Manifest::parse(&manifest_bytes, limits.max_members).map_err(|e| {
        io::Error::other(format!(
            "the installed {} is invalid: {e}",
            dir.join(MANIFEST_NAME).display()
        ))
    })?;
    if manifest.kind != kind {
        return Err(io::Error::other(format!(
            "{} holds a {} bundle",
            dir.display(),
            manifest.kind
        )));
    }
    let key_id = wardwatch_bundle::signature::parse(signature.as_bytes())
        .ok()
        .map(|s| s.key_id.to_string());
    Ok(InstalledBundle {
        kind,
        manifest_sha256: hex::encode(Sha256::digest(&manifest_bytes)),
        manifest,
        manifest_bytes,
        signature,
        key_id,
        identity,
    })
}

/// Imported bundles, the versions terminals report, and the console's bundle settings.
pub trait BundleStore: Send + Sync {
    /// Records an installed bundle and its audit entry (`action`, `detail`) together.
    fn record_bundle(
        &self,
        record: &BundleRecord,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> StoreResult<ImportedBundle>;

    /// The highest version of `kind` ever imported: a bundle must be newer, even if the
    /// installed directory was removed or replaced by hand.
    fn bundle_max_version(&self, kind: &str) -> StoreResult<Option<i64>>;

    /// The import record of one version.
    fn bundle_record(&self, kind: &str, version: i64) -> StoreResult<Option<ImportedBundle>>;

    /// The newest imports, newest first.
    fn bundle_history(&self, limit: u32) -> StoreResult<Vec<ImportedBundle>>;

    /// Replaces what a host said it runs: (kind, version) pairs.
    fn report_host_bundles(&self, host_id: &str, bundles: &[(String, i64)]) -> StoreResult<()>;

    /// Every host that is not revoked, with the bundle versions it reported.
    fn host_bundle_versions(&self) -> StoreResult<Vec<HostBundleVersions>>;

    /// A server setting changed from the console, if it was ever set.
    fn setting(&self, key: &str) -> StoreResult<Option<String>>;

    /// Changes a server setting, with its audit entry.
    fn set_setting(&self, key: &str, value: &str, actor: &str) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Store;
    use wardwatch_bundle::time::Duration;
    use wardwatch_bundle::{BuildOptions, SigningKey};

    struct Fx {
        dir: tempfile::TempDir,
        data: PathBuf,
        store: Store,
        key: SigningKey,
        now: OffsetDateTime,
    }

    impl Fx {
        fn new() -> Fx {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            fs::create_dir_all(&data).unwrap();
            let store = Store::open(&data.join("wardwatch.db")).unwrap();
            let key = SigningKey::generate().unwrap();
            let pubfile = dir.path().join("publisher.pub");
            fs::write(&pubfile, key.public_key().to_file_text()).unwrap();
            let added = add_trusted_key(&store, &data, &pubfile, "cli").unwrap();
            assert!(added.added);
            Fx {
                now: OffsetDateTime::now_utc(),
                dir,
                data,
                store,
                key,
            }
        }

        fn bundle(&self, version: u64, content: &str, key: &SigningKey) -> PathBuf {
            let src = self.dir.path().join(format!("src-{version}-{content}"));
            fs::create_dir_all(src.join("rules")).unwrap();
            fs::write(src.join("rules/a.yar"), content).unwrap();
            fs::write(src.join("README"), "signatures\n").unwrap();
            let out = self.dir.path().join(format!("b-{version}-{content}.wwb"));
            let options = BuildOptions {
                kind: Kind::Signatures,
                version,
                created: self.now - Duration::hours(1),
                expires: self.now + Duration::days(30),
            };
            wardwatch_bundle::build_file(&src, &options, Some(key), &out).unwrap();
            out
        }

        fn import(&self, file: &Path) -> Result<ImportOutcome, ImportError> {
            import_file_at(&self.store, &self.data, file, "test", "cli", self.now)
        }
    }

    #[test]
    fn stale_signatures_and_terminals_left_behind_are_incidents_once() {
        let fx = Fx::new();
        crate::testing::enroll_hosts(&fx.store, &[("h-1", "ward3")]);
        let shelf = InstalledBundles::new(&fx.data);
        let now = freshness::millis(fx.now);
        const DAY: i64 = freshness::DAY_MILLIS;
        assert_eq!(
            freshness::check_signatures(&fx.store, &shelf, now).unwrap(),
            0,
            "nothing installed"
        );
        fx.import(&fx.bundle(1, "one", &fx.key)).unwrap();
        fx.store
            .report_host_bundles("h-1", &[("signatures".into(), 1)])
            .unwrap();
        fx.import(&fx.bundle(2, "two", &fx.key)).unwrap();
        // Within a day of the import the terminal may still be fetching.
        assert_eq!(
            freshness::check_signatures(&fx.store, &shelf, now + DAY / 2).unwrap(),
            0
        );
        assert_eq!(
            freshness::check_signatures(&fx.store, &shelf, now + 2 * DAY).unwrap(),
            1
        );
        assert_eq!(
            freshness::check_signatures(&fx.store, &shelf, now + 3 * DAY).unwrap(),
            0
        );
        // Past the default of 7 days the signatures themselves are stale: once.
        assert_eq!(
            freshness::check_signatures(&fx.store, &shelf, now + 9 * DAY).unwrap(),
            1
        );
        assert_eq!(
            freshness::check_signatures(&fx.store, &shelf, now + 10 * DAY).unwrap(),
            0
        );
        let titles: Vec<String> = fx
            .store
            .incidents(None, 10)
            .unwrap()
            .into_iter()
            .map(|i| i.title)
            .collect();
        assert!(
            titles
                .iter()
                .any(|t| t.contains("still scans with signatures version 1")),
            "{titles:?}"
        );
        assert!(
            titles
                .iter()
                .any(|t| t.contains("(version 2) are 9 days old")),
            "{titles:?}"
        );
    }

    #[test]
    fn import_installs_records_and_refuses_the_same_version() {
        let fx = Fx::new();
        let v1 = fx.bundle(1, "one", &fx.key);
        let out = fx.import(&v1).unwrap();
        assert_eq!((out.bundle.version, out.replaced_version), (1, None));
        let installed = kind_dir(&fx.data, Kind::Signatures);
        assert_eq!(
            fs::read_to_string(installed.join("rules/a.yar")).unwrap(),
            "one"
        );
        let e = fx.import(&v1).unwrap_err();
        assert!(e.is_refusal());
        assert!(e.to_string().contains("not newer"), "{e}");
        let audit = fx.store.audit_entries(1).unwrap();
        assert_eq!(audit[0].action, "bundle.refuse");
        assert!(audit[0].detail.contains("not newer"), "{}", audit[0].detail);
        assert!(
            fx.store.incidents(None, 5).unwrap().is_empty(),
            "the installed version imported again is no incident"
        );

        let shelf = InstalledBundles::new(&fx.data);
        let b = shelf.get(Kind::Signatures).unwrap().unwrap();
        assert_eq!(b.manifest.version, 1);
        let member = &b.manifest.members[1];
        assert_eq!(member.name, "rules/a.yar");
        let (mut file, size) = shelf
            .open_member(Kind::Signatures, &member.sha256)
            .unwrap()
            .unwrap();
        let mut content = String::new();
        file.read_to_string(&mut content).unwrap();
        assert_eq!((content.as_str(), size), ("one", 3));
        assert!(shelf
            .open_member(Kind::Signatures, &[0; 32])
            .unwrap()
            .is_none());

        // A newer version replaces it; the cache notices the new directory.
        let v2 = fx.bundle(2, "two", &fx.key);
        assert_eq!(fx.import(&v2).unwrap().replaced_version, Some(1));
        assert_eq!(
            shelf
                .get(Kind::Signatures)
                .unwrap()
                .unwrap()
                .manifest
                .version,
            2
        );
        assert!(shelf
            .open_member(Kind::Signatures, &member.sha256)
            .unwrap()
            .is_none());
        assert_eq!(fx.store.audit_verify().unwrap(), None);
    }

    #[test]
    fn a_recorded_version_is_a_floor_even_if_the_directory_is_gone() {
        let fx = Fx::new();
        fx.import(&fx.bundle(2, "two", &fx.key)).unwrap();
        fs::remove_dir_all(kind_dir(&fx.data, Kind::Signatures)).unwrap();
        let e = fx.import(&fx.bundle(1, "one", &fx.key)).unwrap_err();
        assert!(e.to_string().contains("rollback"), "{e}");
        assert!(!kind_dir(&fx.data, Kind::Signatures).exists());
    }

    #[test]
    fn untrusted_keys_and_no_keys_are_refused() {
        let fx = Fx::new();
        let other = SigningKey::generate().unwrap();
        let e = fx.import(&fx.bundle(1, "one", &other)).unwrap_err();
        assert!(e.to_string().contains("unknown key"), "{e}");
        let id = fx.key.public_key().key_id().to_string();
        remove_trusted_key(&fx.store, &fx.data, &id.to_lowercase(), "cli").unwrap();
        let e = fx.import(&fx.bundle(1, "one", &fx.key)).unwrap_err();
        assert!(matches!(e, ImportError::NoTrustedKeys { .. }), "{e}");
        assert!(!kind_dir(&fx.data, Kind::Signatures).exists());
        let actions: Vec<String> = fx
            .store
            .audit_entries(10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "bundle.refuse",
                "bundle.key_remove",
                "incident.open",
                "bundle.refuse",
                "bundle.key_add"
            ]
        );
        // Signed by a key nobody trusts: an incident. No key trusted at all: not one.
        let incidents = fx.store.incidents(None, 5).unwrap();
        assert_eq!(incidents.len(), 1, "{incidents:#?}");
        assert!(
            incidents[0].title.contains("unknown key"),
            "{}",
            incidents[0].title
        );
        assert_eq!(incidents[0].signals, 1);
    }

    #[test]
    fn the_same_key_twice_is_fine_a_different_one_with_its_id_is_not() {
        let fx = Fx::new();
        let pubfile = fx.dir.path().join("publisher.pub");
        let again = add_trusted_key(&fx.store, &fx.data, &pubfile, "cli").unwrap();
        assert!(!again.added);
        let other = SigningKey::from_seed(fx.key.key_id(), &[7; 32]).unwrap();
        let otherfile = fx.dir.path().join("other.pub");
        fs::write(&otherfile, other.public_key().to_file_text()).unwrap();
        let e = add_trusted_key(&fx.store, &fx.data, &otherfile, "cli").unwrap_err();
        assert!(matches!(e, TrustError::Conflict { .. }), "{e}");
        assert_eq!(list_trusted_keys(&fx.data).unwrap().len(), 1);
        assert!(matches!(
            remove_trusted_key(&fx.store, &fx.data, "nonsense", "cli"),
            Err(TrustError::BadKeyId(_))
        ));
    }

    #[test]
    fn a_second_import_at_the_same_time_is_refused_as_busy() {
        let fx = Fx::new();
        let _held = ImportLock::acquire(&fx.data).unwrap();
        let e = fx.import(&fx.bundle(1, "one", &fx.key)).unwrap_err();
        assert!(matches!(e, ImportError::Busy), "{e}");
    }

    #[test]
    fn an_interrupted_import_is_recorded_later() {
        let fx = Fx::new();
        // Installed by the library alone, as if the process died before the database commit.
        let (trusted, _) = load_trusted_keys(&fx.data).unwrap();
        let file = File::open(fx.bundle(1, "one", &fx.key)).unwrap();
        fs::create_dir_all(bundles_dir(&fx.data)).unwrap();
        wardwatch_bundle::install(
            file,
            &Policy::new(&trusted, None, fx.now),
            &kind_dir(&fx.data, Kind::Signatures),
        )
        .unwrap();
        prepare(&fx.store, &fx.data).unwrap();
        let record = fx.store.bundle_record("signatures", 1).unwrap().unwrap();
        assert_eq!(record.imported_by, "server");
        assert_eq!(record.key_id, fx.key.public_key().key_id().to_string());
        prepare(&fx.store, &fx.data).unwrap();
        assert_eq!(fx.store.bundle_history(10).unwrap().len(), 1);
    }
}
