//! rustic reports progress through its own traits, to a `'static` sink: this adapter
//! counts bytes into shared atomics that the calling thread forwards to a
//! [`crate::BackupProgress`], which need not live that long.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustic_core::{Progress, ProgressBars, ProgressType, RusticProgress};

/// The bytes-done and bytes-total of the running backup.
#[derive(Debug, Default)]
pub(crate) struct ByteCounter {
    done: AtomicU64,
    total: AtomicU64,
}

impl ByteCounter {
    /// Starts over for a new run.
    pub(crate) fn reset(&self) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(0, Ordering::Relaxed);
    }

    /// (done, total) as last reported by rustic.
    pub(crate) fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// Hands rustic a counting progress for byte progress, hidden ones otherwise.
#[derive(Debug, Clone)]
pub(crate) struct CountingBars(pub(crate) Arc<ByteCounter>);

impl ProgressBars for CountingBars {
    fn progress(&self, progress_type: ProgressType, _prefix: &str) -> Progress {
        match progress_type {
            ProgressType::Bytes => Progress::new(Counting(self.0.clone())),
            ProgressType::Spinner | ProgressType::Counter => Progress::hidden(),
        }
    }
}

/// One byte progress of rustic's, counted.
#[derive(Debug)]
struct Counting(Arc<ByteCounter>);

impl RusticProgress for Counting {
    fn is_hidden(&self) -> bool {
        // Not hidden: rustic only measures the total size for a visible progress.
        false
    }
    fn set_length(&self, len: u64) {
        self.0.total.store(len, Ordering::Relaxed);
    }
    fn set_title(&self, _title: &str) {}
    fn inc(&self, inc: u64) {
        self.0.done.fetch_add(inc, Ordering::Relaxed);
    }
    fn finish(&self) {}
}
