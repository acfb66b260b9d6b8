//! A bandwidth limit on writes to any backend, so that a backup does not fill the
//! ward's network link: every write asks a [`Pacer`] first with its size (the agent's is
//! a token bucket of `wardwatch_os::governor`).

use std::sync::Arc;

use bytes::Bytes;
use rustic_core::{BytesList, FileType, Id, ReadBackend, RusticResult, WriteBackend};

use crate::pace::Pacer;

/// A backend whose writes wait for the pacer; reads and everything else pass straight
/// through.
pub struct Throttled {
    inner: Arc<dyn WriteBackend>,
    pacer: Arc<dyn Pacer>,
}

impl std::fmt::Debug for Throttled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttled")
            .field("location", &self.inner.location())
            .finish_non_exhaustive()
    }
}

impl Throttled {
    /// Writes through `inner`, each paced by `pacer` with its size before it is made.
    pub fn new(inner: Arc<dyn WriteBackend>, pacer: Arc<dyn Pacer>) -> Self {
        Self { inner, pacer }
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
        self.pacer.pace(content.size() as u64);
        self.inner.write_bytes(tpe, id, cacheable, content)
    }
    fn remove(&self, tpe: FileType, id: &Id, cacheable: bool) -> RusticResult<()> {
        self.inner.remove(tpe, id, cacheable)
    }
}
