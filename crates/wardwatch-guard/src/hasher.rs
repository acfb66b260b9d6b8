//! Hashing rewritten files off the event path. The scorer needs only the sampled
//! fingerprint, which is quick; the SHA-256 that records what a file became (the
//! "before" of its next rewrite) may take a while for a large file, so one thread does
//! it through the descriptor the event came with, and the guard stores the result if
//! the file has not changed again since.

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

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
        done: UnboundedSender<HashDone>,
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

fn run(rx: Receiver<HashJob>, done: UnboundedSender<HashDone>) {
    while let Ok(job) = rx.recv() {
        match hash_file(&job.file, job.size) {
            Ok(hash) => {
                let sent = done.send(HashDone {
                    path: job.path,
                    size: job.size,
                    mtime_ms: job.mtime_ms,
                    hash,
                });
                if sent.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::debug!(path = %job.path.display(), error = %e, "cannot hash a rewrite")
            }
        }
    }
}
