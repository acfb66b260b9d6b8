//! Time limits inside one connection, beyond what hyper enforces itself (the header read
//! timeout): a minimum rate for request bodies, and the idle timeout.
//!
//! A slow client costs the server a connection for as long as it stays slow; these make
//! sure "as long" is bounded whatever the client does, without cutting off a large
//! upload that is merely long.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Bytes, HttpBody};
use axum::BoxError;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The error a request body returns once it was too slow.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
pub struct BodyTooSlow;

/// A request body that must deliver at least `min_bytes` (or end) within every `period`,
/// counted from the first time the handler reads it. Slower, it fails with
/// [`BodyTooSlow`] and sets `tripped`, so that the connection can answer 408 whatever
/// the handler made of the error.
pub struct MinRateBody<B> {
    inner: B,
    period: Duration,
    min_bytes: u64,
    received: u64,
    deadline: Option<Pin<Box<Sleep>>>,
    tripped: Arc<AtomicBool>,
}

impl<B> MinRateBody<B> {
    pub fn new(inner: B, period: Duration, min_bytes: u64, tripped: Arc<AtomicBool>) -> Self {
        MinRateBody {
            inner,
            period,
            min_bytes,
            received: 0,
            deadline: None,
            tripped,
        }
    }
}

impl<B> HttpBody for MinRateBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.tripped.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(BodyTooSlow.into())));
        }
        let period = this.period;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(period)));
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    if this.received >= this.min_bytes {
                        // This period's quota is met: the next one starts now.
                        this.received = 0;
                        deadline
                            .as_mut()
                            .reset(tokio::time::Instant::now() + period);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if deadline.as_mut().poll(cx).is_ready() {
                    this.tripped.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(BodyTooSlow.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// When a connection last moved a byte, and how many of its requests are being handled.
pub struct Activity {
    start: Instant,
    /// Milliseconds after `start`.
    last: AtomicU64,
    handling: AtomicUsize,
}

/// A request being handled; dropping it (response ready, or the request abandoned)
/// counts as activity.
pub struct Handling(Arc<Activity>);

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last: AtomicU64::new(0),
            handling: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.fetch_max(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// Marks a request as being handled until the returned value is dropped.
    pub fn handling(self: &Arc<Self>) -> Handling {
        self.handling.fetch_add(1, Ordering::Relaxed);
        self.touch();
        Handling(self.clone())
    }

    /// Resolves once the connection has been idle for `idle`: nothing read or written
    /// and no request being handled. A handler may take as long as it needs (a bundle
    /// import); the clock runs again when it has answered.
    pub async fn idle(self: Arc<Self>, idle: Duration) {
        loop {
            let wait = if self.handling.load(Ordering::Relaxed) > 0 {
                idle
            } else {
                match idle.checked_sub(self.quiet_for()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.touch();
        self.0.handling.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that records every byte read or written in its [`Activity`].
pub struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        activity.touch();
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    /// A body fed by the test, one chunk at a time.
    struct Fed(mpsc::Receiver<Bytes>);

    impl HttpBody for Fed {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.0
                .poll_recv(cx)
                .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
        }
    }

    async fn next(body: &mut MinRateBody<Fed>) -> Option<Result<Frame<Bytes>, BoxError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
    }

    #[tokio::test]
    async fn a_trickling_body_fails_and_trips_the_flag() {
        let (tx, rx) = mpsc::channel(4);
        let tripped = Arc::new(AtomicBool::new(false));
        let mut body = MinRateBody::new(Fed(rx), Duration::from_millis(200), 10, tripped.clone());
        tx.send(Bytes::from_static(b"abc")).await.unwrap();
        assert!(next(&mut body).await.unwrap().is_ok());
        // 3 of 10 bytes in the period, then nothing: too slow.
        let err = next(&mut body).await.unwrap().unwrap_err();
        assert!(err.is::<BodyTooSlow>(), "{err}");
        assert!(tripped.load(Ordering::Relaxed));
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_that_keeps_its_rate_gets_through_however_long() {
        let (tx, rx) = mpsc::channel(4);
        let tripped = Arc::new(AtomicBool::new(false));
        let mut body = MinRateBody::new(Fed(rx), Duration::from_millis(300), 4, tripped.clone());
        let feeder = tokio::spawn(async move {
            // Four periods' worth of time, each period's quota delivered.
            for _ in 0..8 {
                tokio::time::sleep(Duration::from_millis(150)).await;
                tx.send(Bytes::from_static(b"abcd")).await.unwrap();
            }
        });
        let mut total = 0;
        while let Some(frame) = next(&mut body).await {
            total += frame.unwrap().into_data().unwrap().len();
        }
        assert_eq!(total, 32);
        assert!(!tripped.load(Ordering::Relaxed));
        feeder.await.unwrap();
    }

    #[tokio::test]
    async fn idle_waits_for_handlers_and_for_quiet() {
        let activity = Activity::new();
        let handling = activity.handling();
        let idle = tokio::spawn(activity.clone().idle(Duration::from_millis(100)));
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(!idle.is_finished(), "a request is being handled");
        drop(handling);
        tokio::time::timeout(Duration::from_secs(5), idle)
            .await
            .expect("idle after the handler answered")
            .unwrap();
    }
}
