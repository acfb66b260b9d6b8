//! Checkpoints made at a fixed interval and on demand, and copied as they are made to a
//! file the database's admin does not control (on another mount: a write-once share, a
//! log host's NFS export). Syslog and the webhook receive them too, as the audit entries
//! that record them.
//!
//! The file is append-only JSON lines, one signed checkpoint each, synced before the next
//! one is written. If the file cannot be written (the mount is gone), the checkpoints wait
//! in the database and are copied, in order, once it can.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::checkpoint::{SignedCheckpoint, MAX_CHECKPOINT_LINE};
use super::signing::AuditKey;
use crate::storage::Storage;

/// Default interval between checkpoints (one is made only if something was recorded).
pub const DEFAULT_CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// Checkpoints copied to the file in one pass, at most.
const EXPORT_BATCH: u32 = 256;

/// How checkpoints are made and where they go.
#[derive(Debug, Clone)]
pub struct CheckpointSettings {
    pub every: Duration,
    /// The file checkpoints are appended to, if any.
    pub export_file: Option<PathBuf>,
}

impl Default for CheckpointSettings {
    fn default() -> Self {
        CheckpointSettings {
            every: DEFAULT_CHECKPOINT_EVERY,
            export_file: None,
        }
    }
}

/// Makes checkpoints and copies them to the export file.
pub struct Checkpointer {
    store: Arc<dyn Storage>,
    key: Arc<AuditKey>,
    export_file: Option<PathBuf>,
    /// The last checkpoint in the export file; `None` until the file was read.
    exported: Option<u64>,
}

impl Checkpointer {
    pub fn new(store: Arc<dyn Storage>, key: Arc<AuditKey>, export_file: Option<PathBuf>) -> Self {
        Checkpointer {
            store,
            key,
            export_file,
            exported: None,
        }
    }

    /// Makes every checkpoint due (a backlog takes several) and copies what the file
    /// lacks. Blocking: call off the async runtime.
    pub fn pass(&mut self, actor: &str) -> anyhow::Result<Option<SignedCheckpoint>> {
        let mut last = None;
        while let Some(made) = self.store.audit_checkpoint(self.key.signing_key(), actor)? {
            last = Some(made);
        }
        self.export()?;
        Ok(last)
    }

    fn export(&mut self) -> anyhow::Result<()> {
        let Some(path) = self.export_file.clone() else {
            return Ok(());
        };
        let mut exported = match self.exported {
            Some(seq) => seq,
            None => last_seq_in_file(&path)?,
        };
        loop {
            let lines = self.store.audit_checkpoints(exported, EXPORT_BATCH)?;
            let Some(&(newest, _)) = lines.last() else {
                break;
            };
            append_lines(&path, lines.iter().map(|(_, l)| l.as_str()))?;
            exported = newest;
            self.exported = Some(exported);
        }
        self.exported = Some(exported);
        Ok(())
    }

    pub fn key(&self) -> &AuditKey {
        &self.key
    }
}

/// The checkpointer shared by the schedule and the console's "checkpoint now".
pub type SharedCheckpointer = Arc<std::sync::Mutex<Checkpointer>>;

/// Makes a checkpoint now (and exports it); blocking.
pub fn checkpoint_now(
    shared: &SharedCheckpointer,
    actor: &str,
) -> anyhow::Result<Option<SignedCheckpoint>> {
    let mut checkpointer = shared.lock().map_err(|_| {
        anyhow::anyhow!("the audit checkpointer failed earlier; restart the server")
    })?;
    checkpointer.pass(actor)
}

/// Runs passes every `every` until shutdown; a failure is logged when it starts and when
/// it ends, not at every pass.
pub async fn run_schedule(
    shared: SharedCheckpointer,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut failing = false;
    loop {
        let pass = shared.clone();
        let result = tokio::task::spawn_blocking(move || checkpoint_now(&pass, "server"))
            .await
            .map_err(|e| anyhow::anyhow!("the checkpoint pass panicked: {e}"))
            .and_then(|r| r);
        match result {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("audit checkpoints are made and exported again");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::error!(error = %format!("{e:#}"), "cannot make or export an audit checkpoint; retrying every interval");
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The number of the last checkpoint in an export file (0 for a file not made yet).
/// Reads the file through; lines are bounded.
pub fn last_seq_in_file(path: &Path) -> anyhow::Result<u64> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => anyhow::bail!("cannot read the checkpoint file {}: {e}", path.display()),
    };
    let mut last = 0;
    for_each_line(file, path, MAX_CHECKPOINT_LINE, &mut |_, line| {
        // A line that is not a checkpoint (one torn by a crash while it was written) is
        // passed over here; `wardwatch audit verify` names it.
        if let Ok(c) = SignedCheckpoint::from_line(line).and_then(|s| s.unverified()) {
            last = last.max(c.seq);
        }
        Ok(())
    })?;
    Ok(last)
}

/// Calls `f` with each non-empty line (numbered from 1) of a file read from outside: a
/// line longer than any checkpoint is refused, not read into memory.
pub fn for_each_line(
    file: std::fs::File,
    path: &Path,
    max_line: usize,
    f: &mut dyn FnMut(usize, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut reader = std::io::BufReader::new(file);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        n += 1;
        let read = (&mut reader)
            .take(max_line as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        if read == 0 {
            return Ok(());
        }
        if buf.len() > max_line {
            anyhow::bail!(
                "{}: line {n} is longer than {max_line} bytes: not a file wardwatch wrote",
                path.display()
            );
        }
        let line = std::str::from_utf8(&buf)
            .map_err(|_| anyhow::anyhow!("{}: line {n} is not UTF-8 text", path.display()))?
            .trim();
        if !line.is_empty() {
            f(n, line)?;
        }
    }
}

/// Appends lines to the export file and syncs it; the file is made owner-only if new.
fn append_lines<'a>(path: &Path, lines: impl Iterator<Item = &'a str>) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open the checkpoint file {} for appending: {e}",
                path.display()
            )
        })?;
    let mut text = String::new();
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut last_byte = [b'\n'];
    if len > 0 {
        use std::os::unix::fs::FileExt;
        // Opened for appending only; read the last byte through a second descriptor.
        if let Ok(reader) = std::fs::File::open(path) {
            let _ = reader.read_at(&mut last_byte, len - 1);
        }
    }
    if last_byte[0] != b'\n' {
        text.push('\n');
    }
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(|e| anyhow::anyhow!("cannot write the checkpoint file {}: {e}", path.display()))
}

/// The checkpoints of an export file, each with its signature checked against the
/// server's public key. A line that is not a checkpoint, or not signed by that key, is
/// named in the second list (a torn last line too: a crash while it was written).
pub fn read_exported(
    path: &Path,
    key: &wardwatch_bundle::keys::PublicKey,
) -> anyhow::Result<(Vec<super::checkpoint::VerifiedCheckpoint>, Vec<String>)> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read the checkpoint file {}: {e}", path.display()))?;
    let mut checkpoints = Vec::new();
    let mut problems = Vec::new();
    for_each_line(file, path, MAX_CHECKPOINT_LINE, &mut |n, line| {
        match SignedCheckpoint::from_line(line).and_then(|s| s.verify(key)) {
            Ok(c) => checkpoints.push(c),
            Err(e) => problems.push(format!("{} line {n}: {e}", path.display())),
        }
        Ok(())
    })?;
    Ok((checkpoints, problems))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditStore;
    use crate::db::Store;

    #[test]
    fn checkpoints_wait_for_a_missing_mount_and_are_copied_in_order_once_it_is_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let store = Arc::new(Store::open(&data.join("wardwatch.db")).unwrap());
        let key = Arc::new(AuditKey::load_or_create(&data).unwrap());
        let mount = dir.path().join("mnt");
        let file = mount.join("checkpoints.jsonl");
        let mut checkpointer = Checkpointer::new(store.clone(), key.clone(), Some(file.clone()));

        store.audit("cli", "first", "a", "{}").unwrap();
        let e = checkpointer.pass("server").unwrap_err();
        assert!(format!("{e:#}").contains("checkpoints.jsonl"), "{e:#}");
        store.audit("cli", "second", "b", "{}").unwrap();
        assert!(checkpointer.pass("server").is_err());

        // The mount is back, with a torn line left by a crash: both checkpoints follow
        // it on lines of their own.
        std::fs::create_dir(&mount).unwrap();
        std::fs::write(&file, "{\"payload\":\"{\\\"form").unwrap();
        checkpointer.pass("server").unwrap();
        let (verified, problems) = read_exported(&file, key.public_key()).unwrap();
        let seqs: Vec<u64> = verified.iter().map(|c| c.checkpoint.seq).collect();
        assert_eq!(seqs, [1, 2]);
        assert_eq!(problems.len(), 1, "the torn line is named: {problems:?}");
        assert_eq!(last_seq_in_file(&file).unwrap(), 2);

        // Nothing new: nothing appended. A new entry: one more line.
        checkpointer.pass("server").unwrap();
        assert_eq!(read_exported(&file, key.public_key()).unwrap().0.len(), 2);
        store.audit("cli", "third", "c", "{}").unwrap();
        checkpointer.pass("server").unwrap();
        let (verified, _) = read_exported(&file, key.public_key()).unwrap();
        assert_eq!(verified.len(), 3);
        let report = store.audit_verify_with(verified).unwrap();
        assert!(report.holds(), "{report:?}");
    }
}
