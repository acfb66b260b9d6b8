//! The quarantine vault: a detected file is moved out of harm's way without destroying
//! the evidence. Its content is kept zstd-compressed (not runnable, and no program opens
//! it by accident), owner-only, beside a record of where it came from: path, owner, mode,
//! times, hashes and the signatures that matched. It can be restored exactly, or deleted.
//!
//! Moving is copy-then-unlink, never the other way round: the vault entry is complete and
//! on disk before the original goes, and if the original cannot be removed the entry is
//! taken back.
//!
//! The agent runs as root on paths that users control, so both directions go through
//! descriptors (see [`wardwatch_os::fsat`]): the folder is opened once without following any
//! symbolic link, and the file is taken only if it is still the inode that was scanned,
//! with the content that was scanned, and unlinked only if its name still leads to it. A
//! restore writes into a folder opened the same way, only if just root and the file's
//! owner can write there and (back at the original place) it is the folder the file came
//! from; it never replaces anything, and set-id bits come back only with the owner.

use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wardwatch_detect::signatures::{Algorithm, Detection, Digests};

use super::read::ScannedFile;
use super::run::display_path;
use wardwatch_os::fd;
use wardwatch_os::fsat::{self, FsatError};

/// Largest file the vault takes (larger ones are reported, not moved).
pub const MAX_QUARANTINE_SIZE: u64 = 1 << 30;

/// What the vault keeps about one file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub id: String,
    /// The original path for people (bytes that are not UTF-8 as `\xNN`).
    pub path: String,
    /// The original path's exact bytes, hex-encoded, for restoring.
    pub path_hex: String,
    pub size: u64,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub atime_ns: i128,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    pub detections: Vec<Detection>,
    /// Unix milliseconds.
    pub quarantined_at: i64,
    /// The folder the file was taken from (device, inode), so that a restore to the
    /// original place goes into that folder and no other. Absent in older records.
    #[serde(default)]
    pub parent_dev: Option<u64>,
    #[serde(default)]
    pub parent_ino: Option<u64>,
}

impl Record {
    pub fn original_path(&self) -> PathBuf {
        hex::decode(&self.path_hex)
            .map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(&b)))
            .unwrap_or_else(|_| PathBuf::from(&self.path))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no quarantined file with id {0} (see `wardwatch quarantine list`)")]
    NoSuchId(String),
    #[error("{path} exists; restore to another place with --to PATH")]
    TargetExists { path: String },
    #[error("{path} changed or was replaced while it was quarantined; it was left in place")]
    Replaced { path: String },
    #[error("{path} is {size} bytes, more than the vault takes ({MAX_QUARANTINE_SIZE})")]
    TooLarge { path: String, size: u64 },
    #[error("the vault record {path} is damaged: {message}")]
    Damaged { path: String, message: String },
    #[error(transparent)]
    Path(#[from] FsatError),
    #[error("{path} is no longer the file that was scanned (it or a folder on the way was replaced after the scan); nothing was moved: scan it again")]
    NotScanned { path: String },
    #[error("{path} changed after it was scanned (its SHA-256 is not the one scanned); nothing was moved: scan it again")]
    ChangedSinceScan { path: String },
    #[error("{path}: a folder on the way is a symbolic link, so the file cannot be moved safely; nothing was moved: scan its real path")]
    LinkOnPath { path: String },
    #[error("cannot restore to {path}: a folder on the way is a symbolic link (it may have been put there to send the file elsewhere); nothing was written: restore with --to PATH to a path without symbolic links")]
    RestoreThroughLink { path: String },
    #[error("cannot restore to {path}: its folder is not the one the file was quarantined from (it was moved or replaced); nothing was written: restore with --to PATH into a folder only root and the owner can write")]
    FolderReplaced { path: String },
    #[error("cannot restore to {path}: the folder is writable by other users ({why}); nothing was written: restore with --to PATH into a folder only root and the owner can write")]
    FolderWritableByOthers { path: String, why: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io {
        path: display_path(path),
        source,
    }
}

fn ns(secs: i64, nsec: i64) -> i128 {
    i128::from(secs) * 1_000_000_000 + i128::from(nsec)
}

/// A quarantine vault directory.
pub struct Vault {
    dir: PathBuf,
}

impl Vault {
    /// Opens the vault, creating it owner-only if needed.
    pub fn open(dir: &Path) -> Result<Vault, VaultError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        Ok(Vault {
            dir: dir.to_owned(),
        })
    }

    fn content_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.zst"))
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Moves `path` into the vault if it is still the file that was scanned: the same
    /// inode, reached without symbolic links, with the same SHA-256.
    pub fn quarantine(
        &self,
        path: &Path,
        scanned: &ScannedFile,
        detections: &[Detection],
    ) -> Result<Record, VaultError> {
        let path = &std::path::absolute(path).map_err(io(path))?;
        let shown = || display_path(path);
        let (parent, name) = fsat::open_parent(path).map_err(|e| match e {
            FsatError::Symlink(_) => VaultError::LinkOnPath { path: shown() },
            e => e.into(),
        })?;
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK;
        let mut file = fsat::open_at(&parent, &name, flags, 0).map_err(|e| {
            match e.raw_os_error() {
                // A symbolic link where the file was.
                Some(libc::ELOOP) => VaultError::NotScanned { path: shown() },
                _ => io(path)(e),
            }
        })?;
        let meta = file.metadata().map_err(io(path))?;
        if !meta.is_file() || (meta.dev(), meta.ino()) != (scanned.dev, scanned.ino) {
            return Err(VaultError::NotScanned { path: shown() });
        }
        if meta.size() > MAX_QUARANTINE_SIZE {
            return Err(VaultError::TooLarge {
                path: shown(),
                size: meta.size(),
            });
        }
        let mut content = Vec::with_capacity(meta.size() as usize);
        (&mut file)
            .take(MAX_QUARANTINE_SIZE + 1)
            .read_to_end(&mut content)
            .map_err(io(path))?;
        let digests = Digests::compute(&content, &Algorithm::ALL);
        if digests.get(Algorithm::Sha256) != Some(&scanned.sha256[..]) {
            return Err(VaultError::ChangedSinceScan { path: shown() });
        }
        let folder = parent.metadata().map_err(io(path))?;
        let hex_of = |a| digests.get(a).map(hex::encode).unwrap_or_default();
        let id = new_id(&digests);
        let record = Record {
            id: id.clone(),
            path: shown(),
            path_hex: hex::encode(path.as_os_str().as_bytes()),
            size: content.len() as u64,
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode(),
            atime_ns: ns(meta.atime(), meta.atime_nsec()),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            sha256: hex_of(Algorithm::Sha256),
            sha1: hex_of(Algorithm::Sha1),
            md5: hex_of(Algorithm::Md5),
            detections: detections.to_vec(),
            quarantined_at: wardwatch_proto::now_millis(),
            parent_dev: Some(folder.dev()),
            parent_ino: Some(folder.ino()),
        };
        let compressed = zstd::bulk::compress(&content, 3).map_err(io(path))?;
        write_private(&self.content_path(&id), &compressed)?;
        let json = serde_json::to_vec_pretty(&record).map_err(|e| VaultError::Damaged {
            path: display_path(&self.record_path(&id)),
            message: e.to_string(),
        })?;
        if let Err(e) = write_private(&self.record_path(&id), &json) {
            let _ = fs::remove_file(self.content_path(&id));
            return Err(e);
        }
        // Only the file that was read goes: its name in the folder that was opened still
        // leads to the same inode, not changed since.
        let same = fsat::stat_at(&parent, &name).is_ok_and(|now| {
            (now.dev, now.ino, now.ctime_ns) == (meta.dev(), meta.ino(), record.ctime_ns)
        });
        let removed = if same {
            fsat::unlink_at(&parent, &name).map_err(io(path))
        } else {
            Err(VaultError::Replaced { path: shown() })
        };
        if let Err(e) = removed {
            let _ = fs::remove_file(self.record_path(&id));
            let _ = fs::remove_file(self.content_path(&id));
            return Err(e);
        }
        Ok(record)
    }

    /// Every record, oldest first. A damaged record is reported, not skipped.
    pub fn list(&self) -> Result<Vec<Record>, VaultError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            out.push(self.record(id)?);
        }
        out.sort_by(|a, b| (a.quarantined_at, &a.id).cmp(&(b.quarantined_at, &b.id)));
        Ok(out)
    }

    /// One record.
    pub fn record(&self, id: &str) -> Result<Record, VaultError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(VaultError::NoSuchId(id.to_owned()));
        }
        let path = self.record_path(id);
        let bytes = match fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(VaultError::NoSuchId(id.to_owned()))
            }
            other => other.map_err(io(&path))?,
        };
        serde_json::from_slice(&bytes).map_err(|e| VaultError::Damaged {
            path: display_path(&path),
            message: e.to_string(),
        })
    }

    /// Puts the file back where it was (or at `to`), with its owner, mode and times, and
    /// removes it from the vault. Never overwrites, never follows a symbolic link, and
    /// refuses a folder other users can write to or (at the original place) a folder
    /// other than the one the file came from.
    pub fn restore(&self, id: &str, to: Option<&Path>) -> Result<Restored, VaultError> {
        let record = self.record(id)?;
        let target = match to {
            Some(to) => std::path::absolute(to).map_err(io(to))?,
            None => record.original_path(),
        };
        let content = self.content(&record)?;
        let shown = || display_path(&target);
        let (parent, name) = fsat::open_parent(&target).map_err(|e| match e {
            FsatError::Symlink(_) => VaultError::RestoreThroughLink { path: shown() },
            e => e.into(),
        })?;
        let folder = parent.metadata().map_err(io(&target))?;
        let came_from = record.parent_dev.zip(record.parent_ino);
        if to.is_none() && came_from.is_some_and(|id| id != (folder.dev(), folder.ino())) {
            return Err(VaultError::FolderReplaced { path: shown() });
        }
        if let Some(why) = writable_by_others(&folder, record.uid) {
            return Err(VaultError::FolderWritableByOthers { path: shown(), why });
        }
        match fsat::stat_at(&parent, &name) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Ok(_) => return Err(VaultError::TargetExists { path: shown() }),
            Err(e) => return Err(io(&target)(e)),
        }
        let (tmp_name, file) = create_temp(&parent).map_err(io(&target))?;
        let placed = write_restored(&file, &content, &record, &target).and_then(|warning| {
            fsat::rename_noreplace_at(&parent, &tmp_name, &name).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    VaultError::TargetExists { path: shown() }
                } else {
                    io(&target)(e)
                }
            })?;
            Ok(warning)
        });
        let warning = match placed {
            Ok(warning) => warning,
            Err(e) => {
                let _ = fsat::unlink_at(&parent, &tmp_name);
                return Err(e);
            }
        };
        // The new name on disk before the vault copy goes (where the file system can).
        if let Err(e) = parent.sync_all() {
            tracing::warn!(path = %shown(), error = %e, "cannot sync the folder of a restored file");
        }
        if let Some(w) = &warning {
            tracing::warn!(id = %record.id, path = %shown(), "{w}");
        }
        self.remove(id)?;
        Ok(Restored {
            record,
            path: target,
            warning,
        })
    }

    /// The stored content of a record, checked against its SHA-256.
    fn content(&self, record: &Record) -> Result<Vec<u8>, VaultError> {
        let content_path = self.content_path(&record.id);
        let compressed = fs::read(&content_path).map_err(io(&content_path))?;
        let damaged = |message: String| VaultError::Damaged {
            path: display_path(&content_path),
            message,
        };
        let content = zstd::bulk::decompress(&compressed, MAX_QUARANTINE_SIZE as usize)
            .map_err(|e| damaged(e.to_string()))?;
        let digest = Digests::compute(&content, &[Algorithm::Sha256]);
        if digest.get(Algorithm::Sha256).map(hex::encode).as_deref() != Some(&record.sha256) {
            return Err(damaged("the content does not match its SHA-256".into()));
        }
        Ok(content)
    }

    /// Deletes a quarantined file for good.
    pub fn delete(&self, id: &str) -> Result<Record, VaultError> {
        let record = self.record(id)?;
        self.remove(id)?;
        Ok(record)
    }

    fn remove(&self, id: &str) -> Result<(), VaultError> {
        let content = self.content_path(id);
        fs::remove_file(&content).map_err(io(&content))?;
        let record = self.record_path(id);
        fs::remove_file(&record).map_err(io(&record))
    }
}

/// A vault id: the time and the start of the content's SHA-256, so ids sort by time and
/// two quarantines of one file at different times differ.
fn new_id(digests: &Digests) -> String {
    let sha = digests
        .get(Algorithm::Sha256)
        .map(|d| hex::encode(&d[..6]))
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}-{sha}")
}

/// The audit event for a vault action (`quarantine.add`, `.restore`, `.delete`).
pub fn action_event(action: &str, record: &Record, actor: &str) -> wardwatch_proto::EventBody {
    wardwatch_proto::EventBody::Action(wardwatch_proto::HostAction {
        action: action.into(),
        target: record.path.clone(),
        actor: actor.into(),
        detail: serde_json::json!({
            "id": record.id,
            "sha256": record.sha256,
            "size": record.size,
            "detections": record.detections.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        }),
    })
}

/// The audit event for a detected file the vault did not take (`quarantine.refused`):
/// where it is, what was scanned there, and why it stayed.
pub fn refused_event(
    path: &Path,
    scanned: &ScannedFile,
    detections: &[Detection],
    error: &VaultError,
    actor: &str,
) -> wardwatch_proto::EventBody {
    wardwatch_proto::EventBody::Action(wardwatch_proto::HostAction {
        action: "quarantine.refused".into(),
        target: display_path(path),
        actor: actor.into(),
        detail: serde_json::json!({
            "reason": error.to_string(),
            "sha256": hex::encode(scanned.sha256),
            "detections": detections.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        }),
    })
}

/// The audit event for a restore the vault refused (`quarantine.restore-refused`).
/// `target` is where the file was to go, as far as known.
pub fn restore_refused_event(
    id: &str,
    target: &str,
    error: &VaultError,
    actor: &str,
) -> wardwatch_proto::EventBody {
    wardwatch_proto::EventBody::Action(wardwatch_proto::HostAction {
        action: "quarantine.restore-refused".into(),
        target: target.into(),
        actor: actor.into(),
        detail: serde_json::json!({ "id": id, "reason": error.to_string() }),
    })
}

/// The events a detection leaves: its alert, built by `alert` with the vault id when the
/// file could be moved into `vault`, then the vault's audit event (`quarantine.add`, or
/// `quarantine.refused` with the reason). True when the file was quarantined. A file that
/// cannot be moved is still alerted on, without an id.
pub fn detection_events(
    vault: Option<&Vault>,
    path: &Path,
    scanned: &ScannedFile,
    detections: &[Detection],
    actor: &str,
    alert: impl FnOnce(Option<&str>) -> wardwatch_proto::EventBody,
) -> (Vec<wardwatch_proto::EventBody>, bool) {
    let outcome = vault.map(|v| v.quarantine(path, scanned, detections));
    let id = match &outcome {
        Some(Ok(record)) => Some(record.id.as_str()),
        _ => None,
    };
    let mut events = vec![alert(id)];
    match &outcome {
        Some(Ok(record)) => events.push(action_event("quarantine.add", record, actor)),
        Some(Err(e)) => {
            tracing::error!(error = %e, "a detected file could not be quarantined");
            events.push(refused_event(path, scanned, detections, e, actor));
        }
        None => {}
    }
    (events, matches!(outcome, Some(Ok(_))))
}

/// A restored file.
#[derive(Debug)]
pub struct Restored {
    pub record: Record,
    /// Where it is now.
    pub path: PathBuf,
    /// Said when the file came back with less than its record: the owner could not be
    /// set (and set-id bits were therefore dropped), or the times.
    pub warning: Option<String>,
}

/// Why a folder is no place for root to put a file owned by `uid`; `None` when only root
/// and that owner can write there.
fn writable_by_others(folder: &Metadata, uid: u32) -> Option<String> {
    let mode = folder.mode();
    if folder.uid() != 0 && folder.uid() != uid {
        Some(format!(
            "it belongs to uid {}, not to root or the file's owner, uid {uid}",
            folder.uid()
        ))
    } else if mode & 0o002 != 0 {
        Some("anyone can write there".into())
    } else if mode & 0o020 != 0 && folder.gid() != 0 {
        Some(format!("group {} can write there", folder.gid()))
    } else {
        None
    }
}

/// The mode a restored file gets: set-id and sticky bits only on a file that has its
/// original owner again, never on one that stayed root's.
fn restored_mode(mode: u32, owner_applied: bool) -> u32 {
    if owner_applied {
        mode & 0o7777
    } else {
        mode & 0o777
    }
}

/// A new, empty, root-only file with a name of its own in `dir`.
fn create_temp(dir: &File) -> std::io::Result<(OsString, File)> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    let mut last = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
    for attempt in 0..16u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = OsString::from(format!(
            ".wardwatch-restore-{}-{nanos:x}-{attempt}",
            std::process::id()
        ));
        match fsat::open_at(dir, &name, flags, 0o600) {
            Ok(file) => return Ok((name, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Writes the content, then owner, mode and times, then syncs. A warning when the owner
/// or the times could not be applied.
fn write_restored(
    file: &File,
    content: &[u8],
    record: &Record,
    path: &Path,
) -> Result<Option<String>, VaultError> {
    let mut writer = file;
    writer.write_all(content).map_err(io(path))?;
    // Owner first: chown clears set-id bits, which the mode then restores.
    let owner = fd::set_owner(file, record.uid, record.gid);
    let owner_applied = owner.is_ok();
    let mut warnings = Vec::new();
    if let Err(e) = owner {
        let dropped = record.mode & 0o7000;
        warnings.push(format!(
            "the owner uid {} gid {} could not be set ({e}); the file belongs to the restoring user{}",
            record.uid,
            record.gid,
            if dropped != 0 {
                format!(" and its set-id/sticky bits {dropped:o} were not restored")
            } else {
                String::new()
            }
        ));
    }
    let mode = restored_mode(record.mode, owner_applied);
    fd::set_mode(file, mode).map_err(io(path))?;
    if let Err(e) = fd::set_times(file, record.atime_ns, record.mtime_ns) {
        warnings.push(format!("the original times could not be set ({e})"));
    }
    file.sync_all().map_err(io(path))?;
    Ok((!warnings.is_empty()).then(|| warnings.join("; ")))
}

/// Writes a new owner-only (0400) file durably.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    wardwatch_os::write_new(path, bytes, 0o400).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardwatch_detect::signatures::DetectionKind;

    fn eicar() -> Vec<Detection> {
        vec![Detection {
            kind: DetectionKind::Eicar,
            name: "Eicar-Test-Signature".into(),
        }]
    }

    /// What a scan of `path` now would report.
    fn scan(path: &Path) -> ScannedFile {
        let meta = fs::symlink_metadata(path).unwrap();
        ScannedFile::new(meta.dev(), meta.ino(), &fs::read(path).unwrap())
    }

    /// Scans and quarantines `path`.
    fn quarantine(vault: &Vault, path: &Path) -> Result<Record, VaultError> {
        vault.quarantine(path, &scan(path), &eicar())
    }

    /// A temporary directory with a vault, and the file `name` (`content`) quarantined
    /// from it.
    fn quarantined(name: &str, content: &[u8]) -> (tempfile::TempDir, Vault, PathBuf, Record) {
        let tmp = tempfile::tempdir().unwrap();
        let vault = Vault::open(&tmp.path().join("vault")).unwrap();
        let original = tmp.path().join(name);
        fs::write(&original, content).unwrap();
        let record = quarantine(&vault, &original).unwrap();
        (tmp, vault, original, record)
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        found.sort();
        found
    }

    #[test]
    fn quarantine_keeps_the_evidence_and_restore_puts_it_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let original = dir.path().join("report.exe");
        fs::write(&original, b"MZ evil bytes").unwrap();
        fs::set_permissions(&original, fs::Permissions::from_mode(0o751)).unwrap();
        let before = fs::metadata(&original).unwrap();

        let record = quarantine(&vault, &original).unwrap();
        assert!(!original.exists(), "moved out of place");
        assert_eq!(record.size, 13);
        assert_eq!(record.mode & 0o777, 0o751);
        use sha2::Digest;
        assert_eq!(
            record.sha256,
            hex::encode(sha2::Sha256::digest(b"MZ evil bytes"))
        );
        let stored = vault.content_path(&record.id);
        let mode = fs::metadata(&stored).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o400, "owner-read-only, not runnable");
        assert_ne!(
            fs::read(&stored).unwrap(),
            b"MZ evil bytes",
            "not stored as is"
        );
        assert_eq!(vault.list().unwrap(), vec![record.clone()]);

        let restored = vault.restore(&record.id, None).unwrap();
        assert_eq!(restored.path, original);
        assert_eq!(restored.warning, None);
        assert_eq!(fs::read(&original).unwrap(), b"MZ evil bytes");
        let after = fs::metadata(&original).unwrap();
        assert_eq!(after.permissions().mode() & 0o7777, 0o751);
        assert_eq!(after.mtime(), before.mtime());
        assert_eq!(after.mtime_nsec(), before.mtime_nsec());
        assert!(vault.list().unwrap().is_empty());
    }

    #[test]
    fn restore_never_overwrites_and_delete_forgets() {
        let (dir, vault, original, record) = quarantined("a.com", b"x");
        fs::write(&original, b"a new file with the old name").unwrap();
        let err = vault.restore(&record.id, None).unwrap_err();
        assert!(matches!(err, VaultError::TargetExists { .. }), "{err}");
        assert_eq!(
            fs::read(&original).unwrap(),
            b"a new file with the old name"
        );
        let elsewhere = dir.path().join("a.com.restored");
        let restored = vault.restore(&record.id, Some(&elsewhere)).unwrap();
        assert_eq!(fs::read(restored.path).unwrap(), b"x");

        fs::write(&original, b"y").unwrap();
        let again = quarantine(&vault, &original).unwrap();
        vault.delete(&again.id).unwrap();
        assert!(matches!(
            vault.restore(&again.id, None),
            Err(VaultError::NoSuchId(_))
        ));
        assert!(matches!(
            vault.record("../etc/passwd"),
            Err(VaultError::NoSuchId(_))
        ));
    }

    #[test]
    fn a_restore_through_a_symlinked_folder_is_refused_and_writes_nothing_there() {
        let tmp = tempfile::tempdir().unwrap();
        let vault = Vault::open(&tmp.path().join("vault")).unwrap();
        let userdir = tmp.path().join("userdir");
        let privileged = tmp.path().join("privileged");
        fs::create_dir(&userdir).unwrap();
        fs::create_dir(&privileged).unwrap();
        let original = userdir.join("evil.sh");
        fs::write(&original, b"MZ evil bytes").unwrap();
        let record = quarantine(&vault, &original).unwrap();

        // The attack: the user's folder becomes a link to a root-only one.
        fs::rename(&userdir, tmp.path().join("userdir.old")).unwrap();
        std::os::unix::fs::symlink(&privileged, &userdir).unwrap();
        let err = vault.restore(&record.id, None).unwrap_err();
        assert!(
            matches!(err, VaultError::RestoreThroughLink { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("--to PATH"), "{err}");
        assert_eq!(entries(&privileged), Vec::<PathBuf>::new());
        assert_eq!(
            vault.list().unwrap(),
            vec![record.clone()],
            "still in the vault"
        );

        // A real folder of the same name is not the one the file came from either.
        fs::remove_file(&userdir).unwrap();
        fs::create_dir(&userdir).unwrap();
        let err = vault.restore(&record.id, None).unwrap_err();
        assert!(matches!(err, VaultError::FolderReplaced { .. }), "{err}");
        assert_eq!(entries(&userdir), Vec::<PathBuf>::new());

        // The folder it came from, wherever it is now, takes it (chosen with --to).
        let back = tmp.path().join("userdir.old/evil.sh");
        let restored = vault.restore(&record.id, Some(&back)).unwrap();
        assert_eq!(restored.path, back);
        assert_eq!(fs::read(&back).unwrap(), b"MZ evil bytes");
        assert!(vault.list().unwrap().is_empty());
    }

    #[test]
    fn a_restore_into_a_folder_others_can_write_is_refused() {
        use std::os::unix::fs::chown;
        let (tmp, vault, _, record) = quarantined("a.exe", b"MZ");
        let owner = record.uid;
        let stranger = if owner == 4321 { 4322 } else { 4321 };

        let folder = |name: &str, uid: u32, gid: u32, mode: u32| {
            let dir = tmp.path().join(name);
            fs::create_dir(&dir).unwrap();
            chown(&dir, Some(uid), Some(gid)).unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
            dir
        };
        for (dir, why) in [
            (folder("world", owner, 0, 0o777), "anyone can write"),
            (folder("sticky", 0, 0, 0o1777), "anyone can write"),
            (folder("group", owner, 100, 0o770), "group 100"),
            (folder("strangers", stranger, 0, 0o755), "belongs to uid"),
        ] {
            let err = vault
                .restore(&record.id, Some(&dir.join("a.exe")))
                .unwrap_err();
            assert!(
                matches!(err, VaultError::FolderWritableByOthers { .. }),
                "{err}"
            );
            assert!(err.to_string().contains(why), "{err}");
            assert!(err.to_string().contains("--to PATH"), "{err}");
            assert_eq!(entries(&dir), Vec::<PathBuf>::new(), "nothing written");
        }
        assert_eq!(vault.list().unwrap().len(), 1);
        // Root's group may write; root and the owner may own the folder.
        let fine = folder("fine", 0, 0, 0o770);
        vault
            .restore(&record.id, Some(&fine.join("a.exe")))
            .unwrap();
        assert_eq!(fs::read(fine.join("a.exe")).unwrap(), b"MZ");
    }

    #[test]
    fn a_folder_swapped_between_scan_and_quarantine_is_refused_and_both_files_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let vault = Vault::open(&tmp.path().join("vault")).unwrap();
        let a = tmp.path().join("A");
        fs::create_dir(&a).unwrap();
        let path = a.join("shadow");
        fs::write(&path, b"MZ evil bytes").unwrap();
        let scanned = scan(&path);

        // After the verdict, the folder is moved away and another file takes the name.
        fs::rename(&a, tmp.path().join("A.old")).unwrap();
        fs::create_dir(&a).unwrap();
        fs::write(&path, b"root:secret").unwrap();
        let err = vault.quarantine(&path, &scanned, &eicar()).unwrap_err();
        assert!(matches!(err, VaultError::NotScanned { .. }), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"root:secret");
        assert_eq!(
            fs::read(tmp.path().join("A.old/shadow")).unwrap(),
            b"MZ evil bytes"
        );

        // The same with a link to the folder the scanned file is in now.
        fs::remove_dir_all(&a).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("A.old"), &a).unwrap();
        let err = vault.quarantine(&path, &scanned, &eicar()).unwrap_err();
        assert!(matches!(err, VaultError::LinkOnPath { .. }), "{err}");
        assert_eq!(
            fs::read(tmp.path().join("A.old/shadow")).unwrap(),
            b"MZ evil bytes"
        );
        assert!(vault.list().unwrap().is_empty(), "nothing in the vault");
    }

    #[test]
    fn a_content_change_after_the_scan_is_refused_and_audited() {
        let tmp = tempfile::tempdir().unwrap();
        let vault = Vault::open(&tmp.path().join("vault")).unwrap();
        let path = tmp.path().join("report.doc");
        fs::write(&path, b"MZ evil bytes").unwrap();
        let scanned = scan(&path);
        // Rewritten in place: same inode, other content.
        fs::write(&path, b"the ward's rota").unwrap();
        assert_eq!(scan(&path).ino, scanned.ino);
        let err = vault.quarantine(&path, &scanned, &eicar()).unwrap_err();
        assert!(matches!(err, VaultError::ChangedSinceScan { .. }), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"the ward's rota");
        assert!(vault.list().unwrap().is_empty());

        // As a detection: the alert without a vault id, and the refusal for the audit.
        let alert = |id: Option<&str>| wardwatch_proto::EventBody::Test {
            note: format!("alert, vault id {id:?}"),
        };
        let (events, moved) =
            detection_events(Some(&vault), &path, &scanned, &eicar(), "agent", alert);
        assert!(!moved);
        assert!(
            matches!(&events[0], wardwatch_proto::EventBody::Test { note } if note.ends_with("None"))
        );
        let Some(wardwatch_proto::EventBody::Action(refused)) = events.get(1) else {
            panic!("no audit event: {events:?}");
        };
        assert_eq!(refused.action, "quarantine.refused");
        assert_eq!(refused.target, display_path(&path));
        let reason = refused.detail["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("changed after it was scanned"), "{reason}");
        assert_eq!(fs::read(&path).unwrap(), b"the ward's rota");
    }

    /// The uid the child restores as (the quarantined file's owner, not in group root).
    const CHILD_UID: u32 = 4321;
    const CHILD_ENV: &str = "WARDWATCH_TEST_RESTORE_AS_CHILD";

    #[test]
    fn setid_bits_are_not_restored_when_the_owner_cannot_be_applied() {
        assert_eq!(restored_mode(0o100_4755, true), 0o4755);
        assert_eq!(restored_mode(0o100_6755, false), 0o755);
        assert_eq!(restored_mode(0o100_1640, false), 0o640);

        if let Ok(dir) = std::env::var(CHILD_ENV) {
            // The child, as CHILD_UID: chown to group root fails, so no set-uid bit.
            let vault = Vault::open(&Path::new(&dir).join("vault")).unwrap();
            let record = vault.list().unwrap().remove(0);
            let restored = vault.restore(&record.id, None).unwrap();
            let warning = restored.warning.unwrap_or_default();
            assert!(warning.contains("could not be set"), "{warning}");
            assert!(warning.contains("set-id"), "{warning}");
            return;
        }
        if !wardwatch_os::process::is_root() {
            eprintln!("part skipped: needs root to set up another user's file");
            return;
        }
        use std::os::unix::fs::chown;
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let home = tmp.path().join("home");
        fs::create_dir(&home).unwrap();
        chown(&home, Some(CHILD_UID), Some(CHILD_UID)).unwrap();
        let tool = home.join("tool");
        fs::write(&tool, b"MZ set-uid tool").unwrap();
        chown(&tool, Some(CHILD_UID), Some(0)).unwrap();
        fs::set_permissions(&tool, fs::Permissions::from_mode(0o4755)).unwrap();
        let vault_dir = tmp.path().join("vault");
        let vault = Vault::open(&vault_dir).unwrap();
        let record = quarantine(&vault, &tool).unwrap();
        assert_eq!(record.mode & 0o7777, 0o4755);
        for path in [vault_dir.clone()].into_iter().chain(entries(&vault_dir)) {
            chown(&path, Some(CHILD_UID), Some(CHILD_UID)).unwrap();
        }

        let out = std::process::Command::new("setpriv")
            .arg(format!("--reuid={CHILD_UID}"))
            .arg(format!("--regid={CHILD_UID}"))
            .arg("--clear-groups")
            .arg(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "quarantine::tests::setid_bits_are_not_restored_when_the_owner_cannot_be_applied",
                "--nocapture",
            ])
            .env(CHILD_ENV, tmp.path())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("1 passed"), "the child ran the test: {said}");
        let meta = fs::metadata(&tool).unwrap();
        assert_eq!(fs::read(&tool).unwrap(), b"MZ set-uid tool");
        assert_eq!(meta.uid(), CHILD_UID);
        assert_eq!(meta.mode() & 0o7777, 0o755, "no set-uid bit on it");
    }
}
