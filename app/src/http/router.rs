//! The routers merged into one, the body limit, the request log, and serving.

use std::future::Future;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;

use super::error::ApiError;
use super::{health, internal, portal, revocations, webhooks};
use crate::state::AppState;

/// Request bodies above this are refused with 413 (a mint request is well under 4 KiB).
const MAX_BODY_BYTES: usize = 64 * 1024;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .nest("/internal", internal::router(&state))
        .merge(webhooks::router())
        .merge(portal::router(&state))
        .merge(revocations::router())
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub(crate) async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// One log line per request. Logs the path only: query strings can carry secrets
/// (Gumroad's `?secret=`).
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
