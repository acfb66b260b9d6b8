//! A hook on every read of a file being backed up, so that the caller can hold the
//! backup to a budget (the agent's CPU share on a ward PC). Reading is where rustic's
//! pipeline starts: while the reading threads wait, chunking, compression and upload
//! run dry behind them.

use std::io::Read;
use std::sync::Arc;

use rustic_core::{ReadSourceOpen, RusticResult};

/// Called before each read of file content; may sleep to keep a budget.
pub trait Pacer: Send + Sync + std::fmt::Debug {
    fn pace(&self);
}

/// A source entry whose reader asks the pacer before each read.
pub(crate) struct PacedOpen<O> {
    pub(crate) inner: O,
    pub(crate) pacer: Option<Arc<dyn Pacer>>,
}

impl<O: ReadSourceOpen> ReadSourceOpen for PacedOpen<O> {
    type Reader = PacedReader<O::Reader>;

    fn open(self) -> RusticResult<Self::Reader> {
        Ok(PacedReader {
            inner: self.inner.open()?,
            pacer: self.pacer,
        })
    }
}

pub(crate) struct PacedReader<R> {
    inner: R,
    pacer: Option<Arc<dyn Pacer>>,
}

impl<R: Read> Read for PacedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(p) = &self.pacer {
            p.pace();
        }
        self.inner.read(buf)
    }
}
