//! How far the guard loop is behind: the readers of the two notification queues and the
//! loop count what they read and finish, and the open gate asks whether everything
//! queued has been scored. Shared by the readers (`fanotify`), the loop and the gate,
//! and so kept apart from all three.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::rest::Rest;
use super::GuardError;
use wardwatch_os::fd::{queued_bytes, Stopper};

/// The least an event of the two groups takes in a queue: `struct
/// fanotify_event_metadata` (24 bytes) and at least one file-handle record (its 4-byte
/// header, the 8-byte file system id and the 8-byte `struct file_handle`, before any
/// handle bytes). Both groups report file handles, so every event carries one; an
/// overflow event carries none, but there is never more than one queued.
const LEAST_EVENT_BYTES: u64 = 24 + 4 + 8 + 8;

/// How far the guard loop is behind the kernel's notification queues. The readers mark
/// themselves busy from before a `read(2)` until every event read is counted as sent;
/// the loop counts each event it has finished (verdict applied).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    busy_readers: [AtomicBool; 2],
    sent: AtomicU64,
    processed: AtomicU64,
    /// Set while the gate holds opens: the loop then wakes it after every event.
    pub(super) gate_waiting: AtomicBool,
    pub(super) wake: Option<Stopper>,
    /// The resting gate, once the gate has started (and if it can rest).
    rest: OnceLock<Arc<Rest>>,
}

/// The two notification queues the guard reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Queue {
    Content = 0,
    Names = 1,
}

impl Progress {
    pub(crate) fn new() -> Result<Self, GuardError> {
        Ok(Self {
            wake: Some(Stopper::new().map_err(|cause| GuardError::Thread {
                what: "eventfd",
                cause,
            })?),
            ..Self::default()
        })
    }

    pub(crate) fn set_rest(&self, rest: Arc<Rest>) {
        let _ = self.rest.set(rest);
    }

    /// A reader saw `pid` change a protected file: a resting gate wakes for a process
    /// not yet judged harmless.
    pub(crate) fn wrote(&self, pid: u32) {
        if let Some(rest) = self.rest.get() {
            rest.writer(pid);
        }
    }

    pub(crate) fn set_reading(&self, queue: Queue, busy: bool) {
        self.busy_readers[queue as usize].store(busy, Ordering::SeqCst);
    }

    /// Counts an event handed to the loop; call before sending it.
    pub(crate) fn sent(&self) {
        self.sent.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts an event the loop has finished with, and wakes a waiting gate.
    pub(crate) fn processed(&self) {
        self.processed.fetch_add(1, Ordering::SeqCst);
        if self.gate_waiting.load(Ordering::SeqCst) {
            self.wake_gate();
        }
    }

    /// Lets a reader's events gather for `pause` after a read, unless the gate holds
    /// an open: then every moment a reader sleeps is a moment the held program waits.
    pub(crate) fn pause_reader(&self, pause: std::time::Duration) {
        if !self.gate_waiting.load(Ordering::SeqCst) {
            std::thread::sleep(pause);
        }
    }

    pub(super) fn wake_gate(&self) {
        if let Some(w) = &self.wake {
            w.fire();
        }
    }

    /// Whether every event queued in `queues` has been read and finished by the loop.
    /// The order of the loads matters: an event read after the queue check was read
    /// by a reader marked busy before its read, and counted as sent before it turned
    /// idle again.
    pub(super) fn caught_up(&self, queues: &[Arc<OwnedFd>; 2]) -> bool {
        self.behind_at_most(queues, 0)
    }

    /// Whether at most `events` events are queued or with the loop and not finished.
    /// The kernel tells only bytes: bytes over the least an event takes bound the
    /// count from above.
    pub(super) fn behind_at_most(&self, queues: &[Arc<OwnedFd>; 2], events: u64) -> bool {
        let mut queued = 0u64;
        for q in queues {
            match queued_bytes(q.as_raw_fd()) {
                Ok(n) => queued += n as u64,
                Err(_) => return false,
            }
        }
        let queued = queued.div_ceil(LEAST_EVENT_BYTES);
        if queued > events || self.busy_readers.iter().any(|b| b.load(Ordering::SeqCst)) {
            return false;
        }
        let sent = self.sent.load(Ordering::SeqCst);
        let unfinished = sent.saturating_sub(self.processed.load(Ordering::SeqCst));
        queued + unfinished <= events
    }
}
