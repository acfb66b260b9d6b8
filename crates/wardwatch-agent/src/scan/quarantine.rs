//! The quarantine vault: a detected file is moved out of harm's way without destroying
//! the evidence. Its content is kept zstd-compressed (not runnable, and no program opens
//! it by accident), owner-only, beside a record of where it came from: path, owner, mode,
//! times, hashes and the signatures that matched. It can be restored exactly, or deleted.
//!
//! Moving is copy-then-unlink, never the other way round: the vault entry is complete and
//! on disk before the original goes, and if the original cannot be removed the entry is
//! taken back. The original is unlinked only if the path still names the file that was
//! read (a file swapped in meanwhile stays).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wardwatch_detect::signatures::{Algorithm, Detection, Digests};

use super::run::display_path;

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

    /// Moves `path` into the vault.
    pub fn quarantine(&self, path: &Path, detections: &[Detection]) -> Result<Record, VaultError> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(io(path))?;
        let meta = file.metadata().map_err(io(path))?;
        if meta.size() > MAX_QUARANTINE_SIZE {
            return Err(VaultError::TooLarge {
                path: display_path(path),
                size: meta.size(),
            });
        }
        let mut content = Vec::with_capacity(meta.size() as usize);
        file.read_to_end(&mut content).map_err(io(path))?;
        let digests = Digests::compute(&content, &Algorithm::ALL);
        let hex_of = |a| digests.get(a).map(hex::encode).unwrap_or_default();
        let id = new_id(&digests);
        let record = Record {
            id: id.clone(),
            path: display_path(path),
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
        // Only the file that was read goes: same inode, not changed since.
        let still = fs::symlink_metadata(path).map_err(io(path));
        let same = still.as_ref().is_ok_and(|now| {
            now.dev() == meta.dev()
                && now.ino() == meta.ino()
                && ns(now.ctime(), now.ctime_nsec()) == record.ctime_ns
        });
        let removed = if same {
            fs::remove_file(path).map_err(io(path))
        } else {
            Err(VaultError::Replaced {
                path: display_path(path),
            })
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
    /// removes it from the vault. Never overwrites.
    pub fn restore(&self, id: &str, to: Option<&Path>) -> Result<(Record, PathBuf), VaultError> {
        let record = self.record(id)?;
        let target = to
            .map(Path::to_owned)
            .unwrap_or_else(|| record.original_path());
        let content_path = self.content_path(id);
        let compressed = fs::read(&content_path).map_err(io(&content_path))?;
        let content =
            zstd::bulk::decompress(&compressed, MAX_QUARANTINE_SIZE as usize).map_err(|e| {
                VaultError::Damaged {
                    path: display_path(&content_path),
                    message: e.to_string(),
                }
            })?;
        let digest = Digests::compute(&content, &[Algorithm::Sha256]);
        if digest.get(Algorithm::Sha256).map(hex::encode).as_deref() != Some(&record.sha256) {
            return Err(VaultError::Damaged {
                path: display_path(&content_path),
                message: "the content does not match its SHA-256".into(),
            });
        }
        let dir = target.parent().unwrap_or(Path::new("/"));
        let mut tmp = tempfile::Builder::new()
            .prefix(".wardwatch-restore-")
            .tempfile_in(dir)
            .map_err(io(dir))?;
        tmp.write_all(&content).map_err(io(&target))?;
        tmp.as_file().sync_all().map_err(io(&target))?;
        let file = tmp.as_file();
        // Owner first: chown clears set-id bits, which the mode then restores.
        // SAFETY: fchown/fchmod on a descriptor this function owns.
        unsafe {
            libc::fchown(file_fd(file), record.uid, record.gid);
            libc::fchmod(file_fd(file), record.mode & 0o7777);
        }
        set_times(file, record.atime_ns, record.mtime_ns);
        // Into place without replacing anything that is there now.
        let tmp_path = tmp.into_temp_path();
        if let Err(e) = rename_noreplace(&tmp_path, &target) {
            return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
                VaultError::TargetExists {
                    path: display_path(&target),
                }
            } else {
                io(&target)(e)
            });
        }
        let _ = tmp_path.keep();
        self.remove(id)?;
        Ok((record, target))
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

/// Puts an audit event into the spool of an enrolled agent state directory, so that the
/// server's audit record gets it with the agent's next batch. False when this machine
/// has no enrolled agent (the action is then only logged here).
pub fn record_action(state: &crate::state::StateDir, event: &wardwatch_proto::EventBody) -> bool {
    if state.load_enrollment().is_err() {
        return false;
    }
    let spooled =
        crate::run::open_spool(state, crate::spool::SpoolLimits::default()).and_then(|mut s| {
            s.push(wardwatch_proto::now_millis(), event)
                .map_err(crate::AgentError::Spool)
        });
    match spooled {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "cannot spool the audit event of a quarantine action");
            false
        }
    }
}

fn file_fd(file: &File) -> i32 {
    std::os::fd::AsRawFd::as_raw_fd(file)
}

fn set_times(file: &File, atime_ns: i128, mtime_ns: i128) {
    let ts = |t: i128| libc::timespec {
        tv_sec: (t.div_euclid(1_000_000_000)) as libc::time_t,
        tv_nsec: (t.rem_euclid(1_000_000_000)) as libc::c_long,
    };
    let times = [ts(atime_ns), ts(mtime_ns)];
    // SAFETY: futimens on an owned descriptor with two live timespecs.
    unsafe {
        libc::futimens(file_fd(file), times.as_ptr());
    }
}

fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: renameat2 with two NUL-terminated paths.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Writes a new owner-only (0400) file durably.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .open(path)
        .map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
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

    #[test]
    fn quarantine_keeps_the_evidence_and_restore_puts_it_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let original = dir.path().join("report.exe");
        fs::write(&original, b"MZ evil bytes").unwrap();
        fs::set_permissions(&original, fs::Permissions::from_mode(0o751)).unwrap();
        let before = fs::metadata(&original).unwrap();

        let record = vault.quarantine(&original, &eicar()).unwrap();
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

        let (_, restored) = vault.restore(&record.id, None).unwrap();
        assert_eq!(restored, original);
        assert_eq!(fs::read(&original).unwrap(), b"MZ evil bytes");
        let after = fs::metadata(&original).unwrap();
        assert_eq!(after.permissions().mode() & 0o7777, 0o751);
        assert_eq!(after.mtime(), before.mtime());
        assert_eq!(after.mtime_nsec(), before.mtime_nsec());
        assert!(vault.list().unwrap().is_empty());
    }

    #[test]
    fn restore_never_overwrites_and_delete_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let original = dir.path().join("a.com");
        fs::write(&original, b"x").unwrap();
        let record = vault.quarantine(&original, &eicar()).unwrap();
        fs::write(&original, b"a new file with the old name").unwrap();
        let err = vault.restore(&record.id, None).unwrap_err();
        assert!(matches!(err, VaultError::TargetExists { .. }), "{err}");
        assert_eq!(
            fs::read(&original).unwrap(),
            b"a new file with the old name"
        );
        let elsewhere = dir.path().join("a.com.restored");
        let (_, at) = vault.restore(&record.id, Some(&elsewhere)).unwrap();
        assert_eq!(fs::read(at).unwrap(), b"x");

        fs::write(&original, b"y").unwrap();
        let again = vault.quarantine(&original, &eicar()).unwrap();
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
}
