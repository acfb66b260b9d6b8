//! A hook after every read of a file being backed up, so that the caller can hold the
//! backup to a budget (the agent's CPU share on a ward PC). Reading is where rustic's
//! pipeline starts: while the reading threads wait, chunking, compression and upload
//! run dry behind them.

use std::io::Read;
use std::sync::Arc;

use rustic_core::{ReadSourceOpen, RusticResult};

/// Told of bytes read (file content) or about to be written (the upload limit); may
/// sleep to keep a budget.
pub trait Pacer: Send + Sync + std::fmt::Debug {
    fn pace(&self, bytes_read: u64);
}

/// A source entry whose reader asks the pacer after each read.
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
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.pacer {
            p.pace(n as u64);
        }
        Ok(n)
    }
}
