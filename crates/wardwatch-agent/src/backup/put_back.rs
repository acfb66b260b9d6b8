//! One file of a snapshot written back into a folder, for every kind of restore: the
//! copy is written beside the file through the folder's descriptor (so no link planted on
//! the way redirects root), checked, and renamed into place. A current file with other
//! content is kept beside under a new name, never overwritten: the team decides when it
//! goes. A current file that already holds the snapshot's content is left alone.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use sha2::{Digest, Sha256};
use wardwatch_backup::Reader;
use wardwatch_os::fsat;

/// How one try to put a file back from one snapshot went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The snapshot's copy is in place; what was there before is kept under this path.
    Restored { kept_as: Option<String> },
    /// The file there already holds the snapshot's content: nothing was written.
    Unchanged,
    /// This snapshot cannot give the file (not in it, not the expected content); an
    /// older one may.
    Unusable(String),
    /// The file cannot be put back at all.
    Failed {
        note: String,
        kept_as: Option<String>,
    },
}

/// Where a copy goes: the open folder, the name in it, and the path shown in reports.
pub struct Destination<'a> {
    pub dir: &'a File,
    pub name: &'a OsStr,
    pub shown: &'a Path,
}

/// Writes `source` of `snapshot` to `to`, checked against `expected` (SHA-256, hex)
/// when given.
pub fn put_back(
    reader: &Reader<'_>,
    snapshot: &str,
    source: &Path,
    to: &Destination<'_>,
    expected: Option<&str>,
) -> Attempt {
    let dir = to.dir;
    let tmp_name = OsString::from(format!(".wardwatch-restore-{}", short(snapshot, 12)));
    let _ = fsat::unlink_at(dir, &tmp_name);
    let mut tmp = match fsat::open_at(
        dir,
        &tmp_name,
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        0o600,
    ) {
        Ok(f) => f,
        Err(e) => return failed(format!("cannot write in its folder: {e}"), None),
    };
    let read = reader.read_file(snapshot, source, &mut tmp).and_then(|r| {
        tmp.flush()
            .and_then(|_| tmp.sync_all())
            .map(|_| r)
            .map_err(|e| wardwatch_backup::BackupError::Io {
                what: "cannot write",
                path: to.shown.to_path_buf(),
                source: e,
            })
    });
    let read = match read {
        Ok(r) => r,
        Err(e) => {
            let _ = fsat::unlink_at(dir, &tmp_name);
            return Attempt::Unusable(format!("not in the backup of {}: {e}", short(snapshot, 8)));
        }
    };
    if expected.is_some_and(|sha| sha != read.sha256) {
        let _ = fsat::unlink_at(dir, &tmp_name);
        return Attempt::Unusable(format!(
            "the copy in backup {} does not match the hash from before the change",
            short(snapshot, 8)
        ));
    }
    let like = fsat::stat_at(dir, to.name).ok();
    if like.is_some() && current_sha256(dir, to.name).as_deref() == Some(read.sha256.as_str()) {
        let _ = fsat::unlink_at(dir, &tmp_name);
        return Attempt::Unchanged;
    }
    // Owner and mode of what is there now, else owner-readable by all as a default.
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
            to.name.to_string_lossy(),
            wardwatch_proto::now_millis()
        ));
        if let Err(e) = fsat::rename_noreplace_at(dir, to.name, &aside) {
            let _ = fsat::unlink_at(dir, &tmp_name);
            return failed(format!("the current file cannot be moved aside: {e}"), None);
        }
        kept_as = Some(
            to.shown
                .with_file_name(OsStr::from_bytes(aside.as_bytes()))
                .display()
                .to_string(),
        );
    }
    if let Err(e) = fsat::rename_noreplace_at(dir, &tmp_name, to.name) {
        let _ = fsat::unlink_at(dir, &tmp_name);
        return failed(
            format!("the restored copy cannot be put in place: {e}"),
            kept_as,
        );
    }
    let _ = dir.sync_all();
    Attempt::Restored { kept_as }
}

fn failed(note: String, kept_as: Option<String>) -> Attempt {
    Attempt::Failed { note, kept_as }
}

/// SHA-256 of the regular file `name` in `dir`, not following a link; `None` for
/// anything else or when it cannot be read (it is then treated as different).
fn current_sha256(dir: &File, name: &OsStr) -> Option<String> {
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let mut file = fsat::open_at(dir, name, flags, 0).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(hex::encode(hasher.finalize()))
}

/// The first `n` characters of a snapshot id, as people see it.
pub fn short(id: &str, n: usize) -> &str {
    id.get(..n.min(id.len())).unwrap_or(id)
}
