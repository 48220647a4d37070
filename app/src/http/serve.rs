//! Serving connections: HTTP/1.1 (what nginx speaks upstream) with the time limits a public
//! server needs, and a graceful stop.
//!
//! `axum::serve` sets no timer, so a client could hold a connection open forever by never
//! finishing its headers (or by idling between keep-alive requests). Here every connection
//! must deliver a request's headers within [`HEADER_READ_TIMEOUT`] of starting to wait for them
//! (idle keep-alive included), and each request is answered within its route's deadline
//! (`router.rs`).

use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::router::router;
use crate::state::AppState;

/// Longest wait for a request's headers, idle keep-alive time included.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// After the stop signal, in-flight requests get this long to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves until `shutdown` completes, then finishes in-flight requests.
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
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that hung up or timed out its headers: nothing to report.
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}; stopping");
    }
    Ok(())
}
