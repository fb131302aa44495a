//! The HTTP server: our own accept loop over hyper, because `axum::serve` offers no timeouts
//! and a half-sent request could hold a connection forever (slowloris). Each connection gets:
//!
//! - a header timeout (`HTTP_HEADER_TIMEOUT_SECS`): the whole request head must arrive within
//!   it, counted from when the server starts waiting for a request, so it also closes
//!   kept-alive connections that sit idle between requests;
//! - a body timeout (`HTTP_BODY_TIMEOUT_SECS`) between pieces of a request body, reset by each
//!   piece, so a slow upload that keeps moving is never cut off but a stalled one is;
//! - an idle timeout (`HTTP_IDLE_TIMEOUT_SECS`): a connection on which no byte moves either way
//!   for that long is closed (a client that stops reading a download, say). The live event
//!   stream sends heartbeats well within it;
//! - a cap on connections served at once (`HTTP_MAX_CONNECTIONS`): past it the server stops
//!   accepting until one closes, and new connections wait in the kernel's queue.
//!
//! Graceful shutdown works as with `axum::serve`: no new connections, requests under way finish,
//! idle connections close, and `serve` returns when the last connection has.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, Request},
};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::Semaphore,
    time::Instant,
};
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use crate::config::HttpLimits;

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then lets the open
/// connections finish. Handlers see the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let room = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned_full = false;

    loop {
        // Room first, then accept: past the cap the kernel holds new connections.
        let permit = if let Ok(permit) = room.clone().try_acquire_owned() {
            warned_full = false;
            permit
        } else {
            if !warned_full {
                warned_full = true;
                tracing::warn!(
                    max = limits.max_connections,
                    "HTTP_MAX_CONNECTIONS reached; new connections wait until one closes"
                );
            }
            tokio::select! {
                permit = room.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break, // the semaphore is never closed
                },
                () = &mut shutdown => break,
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Per-connection failures (reset before accept) are normal; running out
                    // of file descriptors is not, and must not spin.
                    if !is_connection_error(&e) {
                        tracing::error!(error = %e, "accepting a connection failed; pausing");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (io, progress) = IdleIo::new(stream);
        let router = app.clone();
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request: Request =
                request.map(|b| Body::new(TimeoutBody::new(body_timeout, b)));
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(io), service));
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                () = progress.stalled_for(idle_timeout) => {
                    tracing::debug!(%peer, "closed a connection that moved no data for HTTP_IDLE_TIMEOUT_SECS");
                }
            }
        });
    }

    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Errors of one connection that the accept loop just skips.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// When a connection last moved a byte, in milliseconds since it opened.
#[derive(Clone)]
struct Progress {
    opened: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Progress {
    fn touch(&self) {
        let now = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// Resolves once no byte has moved for `limit`.
    async fn stalled_for(&self, limit: Duration) {
        loop {
            let last = self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A TCP stream that records when it last read or wrote a byte.
struct IdleIo {
    inner: TcpStream,
    progress: Progress,
}

impl IdleIo {
    fn new(inner: TcpStream) -> (Self, Progress) {
        let progress = Progress {
            opened: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        };
        (
            IdleIo {
                inner,
                progress: progress.clone(),
            },
            progress,
        )
    }
}

impl AsyncRead for IdleIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.progress.touch();
        }
        polled
    }
}

impl AsyncWrite for IdleIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.progress.touch();
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
            self.progress.touch();
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
