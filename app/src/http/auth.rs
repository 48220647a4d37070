//! Guards for `/internal/*`: the Bearer admin token, and a refusal of anything that came
//! through the public proxy.

use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;

/// Proof that the request carried the admin token. Take it as a handler argument.
pub struct AdminAuth;

impl<S> FromRequestParts<S> for AdminAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            Some(token) if state.config.admin_token.matches(token) => Ok(AdminAuth),
            _ => {
                tracing::warn!("admin API request with a missing or wrong token");
                Err(ApiError::Unauthorized)
            }
        }
    }
}

/// Headers a reverse proxy adds. nginx sets them on everything it forwards, so their presence
/// means the request came from the internet, where `/internal/*` must not exist.
const PROXY_HEADERS: [&str; 3] = ["x-forwarded-for", "x-real-ip", "forwarded"];

pub fn came_through_proxy(headers: &HeaderMap) -> bool {
    PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
}

/// Middleware for the admin router: answers 404 (as if the route did not exist) to proxied
/// requests, before authentication is even attempted.
pub async fn refuse_proxied(request: Request, next: Next) -> Response {
    if came_through_proxy(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "refused proxied request to the admin API");
        return ApiError::NotFound.into_response();
    }
    next.run(request).await
}
