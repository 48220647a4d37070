//! Guards for `/internal/*`: a refusal of anything that came through the public proxy, and the
//! Bearer admin token.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::state::AppState;

/// Headers proxies and CDNs add to what they forward (besides every `x-forwarded-*` and
/// `cf-*`). nginx sets some on everything it forwards and Cloudflare adds its own, so any of
/// them means the request came from the internet, where `/internal/*` must not exist.
const PROXY_HEADERS: [&str; 10] = [
    "forwarded",
    "via",
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "x-original-forwarded-for",
    "x-proxyuser-ip",
    "client-ip",
];

fn came_through_proxy(headers: &HeaderMap) -> bool {
    headers.keys().any(|name| {
        let name = name.as_str(); // always lowercase
        name.starts_with("x-forwarded-") || name.starts_with("cf-") || PROXY_HEADERS.contains(&name)
    })
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 9110 §11.1).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
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
    match bearer_token(request.headers()) {
        Some(token) if state.config.admin_token.matches(token) => next.run(request).await,
        _ => {
            tracing::warn!("admin API request with a missing or wrong token");
            ApiError::Unauthorized.into_response()
        }
    }
}
