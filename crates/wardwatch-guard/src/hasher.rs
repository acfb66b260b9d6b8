//! Hashing rewritten files off the event path. The scorer needs only the sampled
//! fingerprint, which is quick; the SHA-256 that records what a file became (the
//! "before" of its next rewrite) may take a while for a large file, so one thread does
//! it through the descriptor the event came with, and the guard stores the result if
//! the file has not changed again since.

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::sample::{hash_file, ContentHash};
use super::GuardError;

/// Rewrites waiting to be hashed before new ones are dropped (each holds a descriptor).
const QUEUE: usize = 256;

pub(crate) struct HashJob {
    pub path: PathBuf,
    pub file: File,
    pub size: u64,
    pub mtime_ms: i64,
}

/// A finished hash, for [`super::index::Index::record_hash`].
#[derive(Debug)]
pub struct HashDone {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ms: i64,
    pub hash: ContentHash,
}

#[derive(Clone)]
pub(crate) struct HashQueue {
    tx: SyncSender<HashJob>,
}

impl HashQueue {
    /// Starts the hashing thread; it ends when every queue handle is dropped.
    pub(crate) fn start(
        done: UnboundedSender<Vec<HashDone>>,
    ) -> Result<(Self, JoinHandle<()>), GuardError> {
        let (tx, rx) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("guard-hash".into())
            .spawn(move || run(rx, done))
            .map_err(|cause| GuardError::Thread {
                what: "cannot start the hashing thread",
                cause,
            })?;
        Ok((Self { tx }, thread))
    }

    /// Queues a job; under a flood the job is dropped and the file keeps no hash.
    pub(crate) fn offer(&self, job: HashJob) {
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => {
                tracing::debug!(path = %job.path.display(), "hash queue full; not hashing this rewrite");
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// How long the hashing thread lets jobs gather after a batch: a bulk copy then wakes
/// it, and the guard loop it answers, once per batch instead of once per file.
const LINGER: Duration = Duration::from_millis(2);

/// Nice value of the hashing thread: the record of what a file became is worth only
/// spare CPU, never the terminal's work (a bulk copy of many small files otherwise
/// spends a fifth of the guard's time here). Under a flood its queue fills and
/// rewrites go unhashed, as they would anyway.
const HASH_NICE: i32 = 19;

fn run(rx: Receiver<HashJob>, done: UnboundedSender<Vec<HashDone>>) {
    wardwatch_os::process::set_thread_nice(HASH_NICE, "guard-hash");
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next {
            match hash_file(&job.file, job.size) {
                Ok(hash) => batch.push(HashDone {
                    path: job.path,
                    size: job.size,
                    mtime_ms: job.mtime_ms,
                    hash,
                }),
                Err(e) => {
                    tracing::debug!(path = %job.path.display(), error = %e, "cannot hash a rewrite")
                }
            }
            next = rx.try_recv().ok();
        }
        if !batch.is_empty() && done.send(batch).is_err() {
            return;
        }
        std::thread::sleep(LINGER);
    }
}
