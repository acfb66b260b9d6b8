//! A response body read from a file as it is sent: bundle members and backup packs can
//! be large, and never need to be whole in memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Bytes, HttpBody};
use tokio::io::{AsyncRead, ReadBuf};

/// A file sent in chunks as it is read, never whole in memory; exactly `remaining` bytes.
pub struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
    buf: Vec<u8>,
}

impl FileBody {
    /// Sends `remaining` bytes of `file` from where it stands now.
    pub fn new(file: std::fs::File, remaining: u64) -> Self {
        FileBody {
            file: tokio::fs::File::from_std(file),
            remaining,
            buf: Vec::new(),
        }
    }
}

/// Bytes read per chunk.
const FILE_CHUNK: usize = 64 * 1024;

impl HttpBody for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining)
            .unwrap_or(FILE_CHUNK)
            .min(FILE_CHUNK);
        this.buf.resize(want, 0);
        let mut read = ReadBuf::new(&mut this.buf[..want]);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file ended early",
                    ))));
                }
                this.remaining -= n as u64;
                let chunk = Bytes::copy_from_slice(read.filled());
                Poll::Ready(Some(Ok(hyper::body::Frame::data(chunk))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}
