//! Guards for `/internal/*`: a refusal of anything that came through the public proxy, and the
//! Bearer admin token.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::state::AppState;

/// Headers a reverse proxy adds. nginx sets them on everything it forwards, so their presence
/// means the request came from the internet, where `/internal/*` must not exist.
const PROXY_HEADERS: [&str; 3] = ["x-forwarded-for", "x-real-ip", "forwarded"];

fn came_through_proxy(headers: &HeaderMap) -> bool {
    PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
}

/// Answers 404 (as if the route did not exist) to proxied requests, before authentication is
/// even attempted.
pub(super) async fn refuse_proxied(request: Request, next: Next) -> Response {
    if came_through_proxy(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "refused proxied request to the admin API");
        return ApiError::NotFound.into_response();
    }
    next.run(request).await
}

/// 401 unless the request carries the admin token (compared in constant time).
pub(super) async fn require_admin_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(token) if state.config.admin_token.matches(token) => next.run(request).await,
        _ => {
            tracing::warn!("admin API request with a missing or wrong token");
            ApiError::Unauthorized.into_response()
        }
    }
}
