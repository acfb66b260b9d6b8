//! Putting back, in place, the files a stopped process changed: for each file, the
//! newest snapshot taken before the process's first write whose copy matches the hash
//! from before (an older one when a newer copy is already damaged), written next to the
//! file through its directory's descriptor and renamed into place. The damaged file is
//! kept beside it under a new name, never overwritten: the team decides when it goes.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::Serialize;
use wardwatch_backup::{Reader, Repository, SnapshotSummary};
use wardwatch_os::fsat;
use wardwatch_proto::RestoreFile;

/// How one file went.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileOutcome {
    pub path: String,
    pub restored: bool,
    /// The snapshot the content came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// Where the damaged file was moved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged_kept_as: Option<String>,
    /// Why it was not restored, or what to know about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn millis(s: &SnapshotSummary) -> i64 {
    s.time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Restores each file from the snapshots written before `before_ms`, newest first.
pub fn restore_files(repo: &Repository, files: &[RestoreFile], before_ms: i64) -> Vec<FileOutcome> {
    let snapshots = match repo.snapshots() {
        Ok(s) => s,
        Err(e) => {
            return files
                .iter()
                .map(|f| failed(&f.path, format!("the snapshots cannot be listed: {e}")))
                .collect()
        }
    };
    let reader = match repo.reader() {
        Ok(r) => r,
        Err(e) => {
            return files
                .iter()
                .map(|f| failed(&f.path, format!("the backup index cannot be read: {e}")))
                .collect()
        }
    };
    let mut before: Vec<&SnapshotSummary> =
        snapshots.iter().filter(|s| millis(s) < before_ms).collect();
    before.sort_by_key(|s| std::cmp::Reverse(millis(s)));
    files
        .iter()
        .map(|file| {
            if before.is_empty() {
                return failed(
                    &file.path,
                    "no backup was taken before the process started writing".into(),
                );
            }
            restore_one(&reader, file, &before)
        })
        .collect()
}

fn failed(path: &str, note: String) -> FileOutcome {
    FileOutcome {
        path: path.to_string(),
        restored: false,
        snapshot: None,
        damaged_kept_as: None,
        note: Some(note),
    }
}

fn restore_one(
    reader: &Reader<'_>,
    file: &RestoreFile,
    snapshots: &[&SnapshotSummary],
) -> FileOutcome {
    let path = Path::new(&file.path);
    let (dir, name) = match fsat::open_parent(path) {
        Ok(found) => found,
        Err(e) => {
            return failed(
                &file.path,
                format!("its folder cannot be opened safely: {e}"),
            )
        }
    };
    let mut last_problem = String::from("no backup before the change holds this file");
    for snapshot in snapshots {
        let tmp_name = OsString::from(format!(
            ".wardwatch-restore-{}",
            &snapshot.id[..12.min(snapshot.id.len())]
        ));
        let _ = fsat::unlink_at(&dir, &tmp_name);
        let mut tmp = match fsat::open_at(
            &dir,
            &tmp_name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o600,
        ) {
            Ok(f) => f,
            Err(e) => return failed(&file.path, format!("cannot write in its folder: {e}")),
        };
        let read = reader.read_file(&snapshot.id, path, &mut tmp);
        let read = match read.and_then(|r| {
            tmp.flush()
                .and_then(|_| tmp.sync_all())
                .map(|_| r)
                .map_err(|e| wardwatch_backup::BackupError::Io {
                    what: "cannot write",
                    path: path.to_path_buf(),
                    source: e,
                })
        }) {
            Ok(r) => r,
            Err(e) => {
                let _ = fsat::unlink_at(&dir, &tmp_name);
                last_problem = format!("not in the backup of {}: {e}", short(&snapshot.id));
                continue;
            }
        };
        if let Some(expected) = &file.sha256 {
            if read.sha256 != *expected {
                let _ = fsat::unlink_at(&dir, &tmp_name);
                last_problem = format!(
                    "the copy in backup {} does not match the hash from before the change",
                    short(&snapshot.id)
                );
                continue;
            }
        }
        // Owner and mode of what is there now (the damaged file), else the folder's.
        let like = fsat::stat_at(&dir, &name).ok();
        if let Some(st) = &like {
            let _ = wardwatch_os::fd::set_owner(&tmp, st.uid, st.gid);
            let _ = wardwatch_os::fd::set_mode(&tmp, st.mode & 0o7777);
        } else {
            let _ = wardwatch_os::fd::set_mode(&tmp, 0o644);
        }
        let mut kept_as = None;
        if like.is_some() {
            let aside = OsString::from(format!(
                "{}.wardwatch-damaged-{}",
                name.to_string_lossy(),
                wardwatch_proto::now_millis()
            ));
            if let Err(e) = fsat::rename_noreplace_at(&dir, &name, &aside) {
                let _ = fsat::unlink_at(&dir, &tmp_name);
                return failed(
                    &file.path,
                    format!("the damaged file cannot be moved aside: {e}"),
                );
            }
            kept_as = Some(
                path.with_file_name(std::ffi::OsStr::from_bytes(aside.as_bytes()))
                    .display()
                    .to_string(),
            );
        }
        if let Err(e) = fsat::rename_noreplace_at(&dir, &tmp_name, &name) {
            let _ = fsat::unlink_at(&dir, &tmp_name);
            return FileOutcome {
                damaged_kept_as: kept_as,
                ..failed(
                    &file.path,
                    format!("the restored copy cannot be put in place: {e}"),
                )
            };
        }
        let _ = dir.sync_all();
        return FileOutcome {
            path: file.path.clone(),
            restored: true,
            snapshot: Some(snapshot.id.clone()),
            damaged_kept_as: kept_as,
            note: file.sha256.is_none().then(|| {
                "only sampled blocks were hashed before the change: restored from the newest backup before it, not checked in full".to_string()
            }),
        };
    }
    failed(&file.path, last_problem)
}

fn short(id: &str) -> &str {
    &id[..8.min(id.len())]
}
