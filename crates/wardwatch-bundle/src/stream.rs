//! The byte pipeline under the tar reader: input file → zstd → a cap on decompressed
//! bytes. It remembers which layer failed, so a refusal says "truncated", "corrupt" or
//! "decompression bomb" rather than a tar parser's guess.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::rc::Rc;

use crate::error::BundleError;

/// Largest zstd window a reader accepts (8 MiB): bounds the decoder's memory. Writers
/// use [`crate::writer::ZSTD_WINDOW_LOG`].
pub const ZSTD_WINDOW_LOG_MAX: u32 = 23;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What the layers saw, shared between them and the code that reports errors.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    consumed: Cell<u64>,
    limit: Cell<u64>,
    limit_hit: Cell<bool>,
    input_error: RefCell<Option<(io::ErrorKind, String)>>,
    decode_error: RefCell<Option<(io::ErrorKind, String)>>,
}

impl StreamState {
    /// Decompressed bytes handed to the tar reader so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed.get()
    }

    /// Sets the most decompressed bytes the whole stream may have.
    pub(crate) fn set_limit(&self, limit: u64) {
        self.limit.set(limit);
    }

    /// Turns an error from the tar layer into the refusal of the layer that caused it.
    pub(crate) fn classify(&self, e: io::Error) -> BundleError {
        if self.limit_hit.get() {
            return BundleError::DecompressionBomb {
                limit: self.limit.get(),
            };
        }
        if let Some((kind, msg)) = self.input_error.borrow_mut().take() {
            return BundleError::Read(io::Error::new(kind, msg));
        }
        if let Some((kind, msg)) = self.decode_error.borrow_mut().take() {
            return if kind == io::ErrorKind::UnexpectedEof {
                BundleError::Truncated {
                    detail: "the compressed stream stops in the middle".into(),
                }
            } else {
                BundleError::Corrupt { detail: msg }
            };
        }
        if e.kind() == io::ErrorKind::UnexpectedEof {
            return BundleError::Truncated {
                detail: e.to_string(),
            };
        }
        BundleError::MalformedArchive {
            detail: e.to_string(),
        }
    }
}

/// Records errors of the input itself (a failing USB stick), as opposed to bad content.
pub(crate) struct Input<R> {
    inner: R,
    state: Rc<StreamState>,
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            *self.state.input_error.borrow_mut() = Some((e.kind(), e.to_string()));
        })
    }
}

/// The decompressed stream, cut off past the limit.
pub(crate) struct Capped<R> {
    inner: R,
    state: Rc<StreamState>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let consumed = self.state.consumed.get();
        // One byte past the limit tells "exactly the limit" from "more than the limit".
        let allowed = self
            .state
            .limit
            .get()
            .saturating_sub(consumed)
            .saturating_add(1);
        let len = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let n = match self.inner.read(&mut buf[..len]) {
            Ok(n) => n,
            Err(e) => {
                if self.state.input_error.borrow().is_none() {
                    *self.state.decode_error.borrow_mut() = Some((e.kind(), e.to_string()));
                }
                return Err(e);
            }
        };
        let total = consumed + n as u64;
        self.state.consumed.set(total);
        if total > self.state.limit.get() {
            self.state.limit_hit.set(true);
            return Err(io::Error::other("decompressed size limit reached"));
        }
        Ok(n)
    }
}

/// The decompressed, capped stream of a bundle file, after checking it starts like zstd.
pub(crate) type Decompressed<R> = Capped<
    zstd::stream::read::Decoder<'static, io::BufReader<io::Chain<io::Cursor<Vec<u8>>, Input<R>>>>,
>;

/// Opens the pipeline with an initial limit on decompressed bytes.
pub(crate) fn open<R: Read>(
    input: R,
    limit: u64,
) -> Result<(Decompressed<R>, Rc<StreamState>), BundleError> {
    let state = Rc::new(StreamState::default());
    state.set_limit(limit);
    let mut input = Input {
        inner: input,
        state: state.clone(),
    };
    let mut magic = Vec::with_capacity(4);
    (&mut input)
        .take(4)
        .read_to_end(&mut magic)
        .map_err(BundleError::Read)?;
    if magic.is_empty() {
        return Err(BundleError::Truncated {
            detail: "the file is empty".into(),
        });
    }
    if magic[..] != ZSTD_MAGIC[..magic.len()] {
        return Err(BundleError::NotZstd);
    }
    if magic.len() < 4 {
        return Err(BundleError::Truncated {
            detail: format!("the file is only {} bytes", magic.len()),
        });
    }
    let chained = io::Cursor::new(magic).chain(input);
    let mut decoder = zstd::stream::read::Decoder::new(chained).map_err(BundleError::Read)?;
    decoder
        .window_log_max(ZSTD_WINDOW_LOG_MAX)
        .map_err(BundleError::Read)?;
    let capped = Capped {
        inner: decoder,
        state: state.clone(),
    };
    Ok((capped, state))
}
