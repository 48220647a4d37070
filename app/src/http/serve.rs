//! Serving connections: HTTP/1.1 (what nginx speaks upstream) with the time limits a public
//! server needs, and a graceful stop.
//!
//! `axum::serve` sets no timer, so a client could hold a connection open forever by never
//! finishing its headers (or by idling between keep-alive requests). Here every connection
//! must deliver a request's headers within [`HEADER_READ_TIMEOUT`] of starting to wait for them
//! (idle keep-alive included), and each request is answered within its route's deadline
//! (`router.rs`).
//!
//! The stop (SIGTERM from `docker stop` or dtops' blue/green switch) loses nothing it accepted:
//! the kernel completes handshakes into the listen backlog whether or not the server calls
//! `accept`, and closing the listener resets whatever waits there (a POST nginx already sent is
//! then a 502 it does not retry). So the backlog is accepted and served first; only then is the
//! listener closed, after which a connection is refused, which nginx retries on another server
//! even for a POST. Every accepted request is answered (keep-alive off), within
//! [`DRAIN_TIMEOUT`].

use std::future::Future;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::router::router;
use crate::state::AppState;

/// Longest wait for a request's headers, idle keep-alive time included.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// After the stop signal, accepted requests get this long to be answered (compose's
/// `stop_grace_period` leaves room for it and the background loops' last item).
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves until `shutdown` completes, then answers what it accepted (see the module comment).
pub(crate) async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    // Turns true at the stop; each connection holds a receiver, so `closed()` is "all done".
    let (stop, stopping) = watch::channel(false);
    let serve_one = |stream: TcpStream| {
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            builder.clone(),
            stream,
            app.clone(),
            stopping.clone(),
        ));
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => serve_one(stream),
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = &mut shutdown => break,
        }
    }
    let started = Instant::now();
    let queued = drain_backlog(listener, serve_one);
    drop(stopping);
    let open = stop.receiver_count();
    stop.send_replace(true);
    if tokio::time::timeout(DRAIN_TIMEOUT, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            open = stop.receiver_count(),
            "accepted requests still unanswered after {DRAIN_TIMEOUT:?}; stopping without them"
        );
    } else {
        tracing::info!(
            queued,
            open,
            took_ms = started.elapsed().as_millis() as u64,
            "drained: every accepted connection answered; the listener is closed"
        );
    }
    Ok(())
}

/// One connection until it ends. At the stop it finishes the request it is on and closes; a
/// connection that has not yet sent its first request (just taken from the backlog, its bytes
/// still on the way) is first given that request: closing it then would drop a request the
/// client already sent. A client that never sends one is closed by the header timeout.
async fn serve_connection(
    builder: http1::Builder,
    stream: TcpStream,
    app: Router,
    mut stopping: watch::Receiver<bool>,
) {
    let (asked, mut has_asked) = watch::channel(false);
    let inner = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |request| {
        asked.send_replace(true);
        inner.call(request)
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let stop_after_first_request = async {
        let _ = stopping.wait_for(|stop| *stop).await;
        let _ = has_asked.wait_for(|asked| *asked).await;
    };
    tokio::select! {
        // A client that hung up or timed out its headers: nothing to report.
        _ = connection.as_mut() => return,
        _ = stop_after_first_request => {}
    }
    // Answers the request in progress (keep-alive off), or closes an idle connection.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// Accepts every connection already waiting in the listen backlog (without waiting for more)
/// and hands each to `serve_one`; how many there were. The kernel is asked directly, until it
/// says the backlog is empty: tokio's `poll_accept` answers from the reactor's last readiness
/// event, which may not have seen the newest arrivals.
fn drain_backlog(listener: TcpListener, mut serve_one: impl FnMut(TcpStream)) -> usize {
    let listener = match listener.into_std() {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "cannot take the listener back to drain its backlog");
            return 0;
        }
    };
    let mut queued = 0;
    loop {
        let accepted = listener.accept().and_then(|(stream, _)| {
            stream.set_nonblocking(true)?;
            TcpStream::from_std(stream)
        });
        match accepted {
            Ok(stream) => {
                queued += 1;
                serve_one(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return queued,
            // Out of descriptors, say: nothing more can be taken from the backlog either.
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a queued connection while stopping");
                return queued;
            }
        }
    }
    // The listener closes here: from now on a connection is refused.
}
