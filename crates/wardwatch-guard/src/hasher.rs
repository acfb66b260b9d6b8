//! Hashing written files while the protected folders are quiet. The scorer needs only
//! the sampled fingerprint, taken on the event path; the SHA-256 that records what a
//! file became (the "before" named in the alert of its next rewrite, by which a restore
//! finds the right version) waits until file activity dies down. A bulk copy of tens of
//! thousands of files so costs no hashing while it runs: hashing every file as it
//! arrived was a third of the guard's CPU, taken from the copy on a two-core terminal.
//!
//! The guard loop notes every file written, and hands the hashing thread a batch when
//! few events came in the last second. The thread opens each file by name without
//! following a symbolic link on the way (the name is outside data: any folder on it
//! may have been swapped since), and hashes it only if it is still the regular file of
//! the size and modification time the index holds; a file changed since has a newer
//! event and is noted again.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

use tokio::sync::mpsc::UnboundedSender;

use super::index::mtime_ms;
use super::sample::{fingerprint_file, hash_file, ContentHash};
use super::GuardError;
use wardwatch_detect::content::Fingerprint;
use wardwatch_os::fsat::{open_at, open_parent};

/// Files waiting for a hash; past this, newly written files go without one (a flood of
/// writes must not grow the guard's memory without bound).
const WAITING_LIMIT: usize = 100_000;
/// Files handed to the thread at a time: small enough that a burst of activity starting
/// meanwhile waits for at most one batch of hashing.
const BATCH: usize = 256;
/// Events in the last second at or above which the folders are busy and hashing waits.
pub(crate) const BUSY_EVENTS: u64 = 200;
/// Nice value of the hashing thread: the record of what a file became is worth only
/// spare CPU, never the terminal's work.
const HASH_NICE: i32 = 19;

/// A file to hash if it is still what the index holds.
pub(crate) struct HashJob {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ms: i64,
    /// The index holds no fingerprint for it (a trusted program wrote it).
    pub fingerprint: bool,
}

/// A finished hash, for [`super::index::Index::record_hash`].
#[derive(Debug)]
pub struct HashDone {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ms: i64,
    pub hash: ContentHash,
    /// Read with the hash where the job asked for it: the "before" of a file a trusted
    /// program wrote, whose event came without one.
    pub fingerprint: Option<Fingerprint>,
}

/// The files waiting to be hashed, owned by the guard loop, and the way to the thread.
pub(crate) struct Hasher {
    /// Oldest first; a path may wait twice (the second finds it hashed and is skipped),
    /// only a repeat of the last one is not added.
    waiting: VecDeque<PathBuf>,
    tx: SyncSender<Vec<HashJob>>,
    in_flight: bool,
    dropped: u64,
}

impl Hasher {
    /// Starts the hashing thread; it ends when the hasher is dropped.
    pub(crate) fn start(
        done: UnboundedSender<Vec<HashDone>>,
    ) -> Result<(Self, JoinHandle<()>), GuardError> {
        let (tx, rx) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("guard-hash".into())
            .spawn(move || run(rx, done))
            .map_err(|cause| GuardError::Thread {
                what: "cannot start the hashing thread",
                cause,
            })?;
        let hasher = Self {
            waiting: VecDeque::new(),
            tx,
            in_flight: false,
            dropped: 0,
        };
        Ok((hasher, thread))
    }

    /// Notes a file written (or renamed) that the index holds without a hash.
    pub(crate) fn note(&mut self, path: &Path) {
        // Bytes, not components: this runs for every file written.
        if self
            .waiting
            .back()
            .is_some_and(|last| last.as_os_str() == path.as_os_str())
        {
            return;
        }
        if self.waiting.len() >= WAITING_LIMIT {
            self.dropped += 1;
            if self.dropped == 1 {
                tracing::warn!(
                    limit = WAITING_LIMIT,
                    "too many files written to hash them all; some keep no record of their content"
                );
            }
            return;
        }
        self.waiting.push_back(path.to_path_buf());
    }

    /// A batch came back from the thread.
    pub(crate) fn finished(&mut self) {
        self.in_flight = false;
    }

    /// Hands the thread the next batch, unless one is still being hashed. `unhashed`
    /// gives the size and modification time the index holds for a path still without
    /// a hash, and whether it lacks a fingerprint too (None: gone, renamed or hashed
    /// meanwhile, nothing to do).
    pub(crate) fn dispatch(&mut self, unhashed: impl Fn(&Path) -> Option<(u64, i64, bool)>) {
        if self.in_flight {
            return;
        }
        let mut batch = Vec::new();
        while batch.len() < BATCH {
            let Some(path) = self.waiting.pop_front() else {
                break;
            };
            if let Some((size, mtime_ms, fingerprint)) = unhashed(&path) {
                batch.push(HashJob {
                    path,
                    size,
                    mtime_ms,
                    fingerprint,
                });
            }
        }
        if batch.is_empty() {
            return;
        }
        match self.tx.try_send(batch) {
            Ok(()) => self.in_flight = true,
            // Full cannot happen with one batch in flight; a thread that ended has
            // logged why.
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

fn run(rx: Receiver<Vec<HashJob>>, done: UnboundedSender<Vec<HashDone>>) {
    wardwatch_os::process::set_thread_nice(HASH_NICE, "guard-hash");
    while let Ok(jobs) = rx.recv() {
        let batch: Vec<HashDone> = jobs.into_iter().filter_map(hash_job).collect();
        // An empty answer still tells the loop the batch is done.
        if done.send(batch).is_err() {
            return;
        }
    }
}

/// Hashes the file of `job` if it is still the regular file the index holds.
fn hash_job(job: HashJob) -> Option<HashDone> {
    let file = open_unswapped(&job.path)?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() != job.size || mtime_ms(&meta) != job.mtime_ms {
        return None;
    }
    let fingerprint = || {
        job.fingerprint
            .then(|| fingerprint_file(&file, job.size))
            .transpose()
    };
    match hash_file(&file, job.size).and_then(|h| Ok((h, fingerprint()?))) {
        Ok((hash, fingerprint)) => Some(HashDone {
            path: job.path,
            size: job.size,
            mtime_ms: job.mtime_ms,
            hash,
            fingerprint,
        }),
        Err(e) => {
            tracing::debug!(path = %job.path.display(), error = %e, "cannot hash a written file");
            None
        }
    }
}

/// Opens `path` for reading with no symbolic link followed anywhere on it, never
/// blocking on a FIFO put in its place.
fn open_unswapped(path: &Path) -> Option<File> {
    let (dir, name) = open_parent(path).ok()?;
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOATIME;
    match open_at(&dir, &name, flags, 0) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            open_at(&dir, &name, flags & !libc::O_NOATIME, 0).ok()
        }
        other => other.ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[tokio::test]
    async fn files_are_hashed_only_if_still_what_the_index_holds() {
        let dir = tempfile::tempdir().unwrap();
        let same = dir.path().join("same.txt");
        let changed = dir.path().join("changed.txt");
        let gone = dir.path().join("gone.txt");
        for p in [&same, &changed, &gone] {
            std::fs::File::create(p).unwrap().write_all(b"abc").unwrap();
        }
        let held = |p: &Path, fingerprint: bool| {
            let meta = std::fs::metadata(p).unwrap();
            (meta.len(), mtime_ms(&meta), fingerprint)
        };
        let index = [
            (same.clone(), held(&same, true)),
            (changed.clone(), held(&changed, false)),
            (gone.clone(), held(&gone, false)),
        ];
        std::fs::File::create(&changed)
            .unwrap()
            .write_all(b"abcd")
            .unwrap();
        std::fs::remove_file(&gone).unwrap();

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (mut hasher, _thread) = Hasher::start(tx).unwrap();
        for p in [&same, &same, &changed, &gone, &same] {
            hasher.note(p);
        }
        assert_eq!(
            hasher.waiting(),
            4,
            "a repeat of the last path is not added"
        );
        let lookup = |p: &Path| index.iter().find(|(q, _)| q == p).map(|(_, h)| *h);
        hasher.dispatch(lookup);
        let done = rx.recv().await.unwrap();
        assert_eq!(done.len(), 2, "{done:?}");
        assert!(done.iter().all(|d| d.path == same));
        assert_eq!(
            done[0].hash.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // The index lacked its fingerprint: read with the hash.
        assert!(done.iter().all(|d| d.fingerprint.is_some()), "{done:?}");
        hasher.finished();
        assert_eq!(hasher.waiting(), 0);
    }

    #[test]
    fn a_folder_swapped_for_a_symbolic_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("f"), b"secret").unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        assert!(open_unswapped(&real.join("f")).is_some());
        assert!(open_unswapped(&dir.path().join("link/f")).is_none());
    }
}
