//! The routers merged into one, the body limit, the request log, and serving.

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::error::ApiError;
use super::{health, internal, portal, revocations, webhooks};
use crate::state::AppState;

/// Request bodies above this are refused with 413 (a mint request is well under 4 KiB).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Gumroad gives up after 5 s and then retries only a few times: the webhook answers (503 at
/// worst, which Gumroad retries) well within that, whatever the database does.
pub(crate) const WEBHOOK_DEADLINE: Duration = Duration::from_secs(3);
/// Everything else: long enough for a replay or a resend that waits for the mail provider.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .nest("/internal", internal::router(&state))
        .merge(portal::router(&state))
        .merge(revocations::router())
        .layer(middleware::from_fn_with_state(REQUEST_DEADLINE, deadline))
        .merge(webhooks::router().layer(middleware::from_fn_with_state(WEBHOOK_DEADLINE, deadline)))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Answers 503 (retry later) when the handler is not done by the deadline; reading the body is
/// part of the handler, so a client trickling its body is cut off too.
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit = ?limit, "request not answered in time; answered 503");
            ApiError::Timeout.into_response()
        }
    }
}

/// One log line per request. Logs the path only: query strings can carry secrets
/// (Gumroad's `?secret=`).
async fn log_request(request: Request, next: Next) -> Response {
    // Nothing to format or time when the line would not be written (DATATOOLS_LOG=warn).
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(request).await;
    }
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
