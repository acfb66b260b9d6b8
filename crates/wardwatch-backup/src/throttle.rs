//! A bandwidth limit on writes to any backend, so that a backup does not fill the
//! ward's network link.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustic_core::{BytesList, FileType, Id, ReadBackend, RusticResult, WriteBackend};

/// A backend whose writes are held to a number of bytes per second; reads and
/// everything else pass straight through.
pub struct Throttled {
    inner: Arc<dyn WriteBackend>,
    bucket: Mutex<(Bucket, Instant)>,
}

impl std::fmt::Debug for Throttled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttled")
            .field("location", &self.inner.location())
            .finish_non_exhaustive()
    }
}

impl Throttled {
    /// Limits writes through `inner` to `bytes_per_second` (at least 1), with up to one
    /// second's worth of bytes in a burst.
    pub fn new(inner: Arc<dyn WriteBackend>, bytes_per_second: u64) -> Self {
        Self {
            inner,
            bucket: Mutex::new((Bucket::new(bytes_per_second), Instant::now())),
        }
    }

    /// Takes `n` bytes from the bucket and sleeps the calling thread as long as it asks.
    fn pace(&self, n: u64) {
        let delay = {
            let mut guard = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
            let (bucket, last) = &mut *guard;
            let now = Instant::now();
            let delay = bucket.take(now.duration_since(*last), n);
            *last = now;
            delay
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }
}

/// A token bucket counted in bytes, without a clock of its own (so it can be tested
/// without sleeping).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bucket {
    rate: f64,
    /// Bytes that may be written now; negative: debt to wait off.
    tokens: f64,
}

impl Bucket {
    /// A full bucket for `bytes_per_second`.
    pub(crate) fn new(bytes_per_second: u64) -> Self {
        let rate = bytes_per_second.max(1) as f64;
        Self { rate, tokens: rate }
    }

    /// Refills for the time `elapsed` since the last call (up to one second's worth),
    /// takes `n` bytes, and returns how long the caller must wait to stay in the rate.
    pub(crate) fn take(&mut self, elapsed: Duration, n: u64) -> Duration {
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.rate);
        self.tokens -= n as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

impl ReadBackend for Throttled {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        self.inner.list_with_size(tpe)
    }
    fn list(&self, tpe: FileType) -> RusticResult<Vec<Id>> {
        self.inner.list(tpe)
    }
    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        self.inner.read_full(tpe, id)
    }
    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        self.inner.read_partial(tpe, id, cacheable, offset, length)
    }
    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.inner.warmup_path(tpe, id)
    }
    fn needs_warm_up(&self) -> bool {
        self.inner.needs_warm_up()
    }
    fn warm_up(&self, tpe: FileType, id: &Id) -> RusticResult<()> {
        self.inner.warm_up(tpe, id)
    }
}

impl WriteBackend for Throttled {
    fn create(&self) -> RusticResult<()> {
        self.inner.create()
    }
    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        self.pace(content.size() as u64);
        self.inner.write_bytes(tpe, id, cacheable, content)
    }
    fn remove(&self, tpe: FileType, id: &Id, cacheable: bool) -> RusticResult<()> {
        self.inner.remove(tpe, id, cacheable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_lets_one_second_through_without_waiting() {
        let mut b = Bucket::new(1000);
        assert_eq!(b.take(Duration::ZERO, 1000), Duration::ZERO);
    }

    #[test]
    fn debt_is_waited_off_at_the_rate() {
        let mut b = Bucket::new(1000);
        // 3000 bytes at 1000 B/s with 1000 in the bucket: 2 s of debt.
        assert_eq!(b.take(Duration::ZERO, 3000), Duration::from_secs(2));
        // Half a second later, 500 more bytes: the debt is 2000 - 500 + 500.
        assert_eq!(
            b.take(Duration::from_millis(500), 500),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn idle_time_refills_only_up_to_one_second() {
        let mut b = Bucket::new(1000);
        assert_eq!(b.take(Duration::ZERO, 1000), Duration::ZERO);
        // An hour idle still gives one second's worth.
        assert_eq!(b.take(Duration::from_secs(3600), 1000), Duration::ZERO);
        assert_eq!(b.take(Duration::ZERO, 500), Duration::from_millis(500));
    }

    #[test]
    fn a_zero_rate_is_one_byte_per_second_not_a_division_by_zero() {
        let mut b = Bucket::new(0);
        assert_eq!(b.take(Duration::ZERO, 3), Duration::from_secs(2));
    }
}
