//! Reading from a service that owes the screen nothing: every read has a deadline and
//! a size cap, so a silent, slow or endless peer costs one probe's time at most.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Most bytes kept from one answer.
pub const MAX_ANSWER: usize = 64 * 1024;

/// Reads until `complete` says the answer is whole, the peer closes, `max` bytes have
/// come, or `wait` has passed; returns what came. Bytes past `max` in the last read
/// are dropped: for an answer read once, not for a stream read on.
pub async fn read_answer(
    stream: &mut (impl AsyncRead + Unpin),
    wait: Duration,
    max: usize,
    complete: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < max && !complete(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                let take = n.min(max - got.len());
                got.extend_from_slice(&buf[..take]);
            }
        }
    }
    got
}

/// Writes a request within `wait`; false if the peer did not take it.
pub async fn send(stream: &mut (impl AsyncWrite + Unpin), wait: Duration, data: &[u8]) -> bool {
    matches!(
        tokio::time::timeout(wait, stream.write_all(data)).await,
        Ok(Ok(()))
    )
}

/// Whether a line-based answer holds a whole line.
pub fn has_line(data: &[u8]) -> bool {
    data.contains(&b'\n')
}

/// Printable text of at most `max` characters from what a service sent: control
/// characters and invalid UTF-8 replaced, so a hostile banner cannot write to the
/// operator's terminal.
pub fn printable(data: &[u8], max: usize) -> String {
    String::from_utf8_lossy(data)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}
