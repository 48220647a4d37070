//! This browser's CSRF token (the `__Host-dt_csrf` cookie), as the `csrf` layer leaves it in the
//! request's extensions for handlers and pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

use crate::portal::secrets::Token;

#[derive(Debug, Clone)]
pub(crate) struct Csrf(pub(super) Token);

impl Csrf {
    /// What the pages put in their forms' `csrf` field.
    pub(super) fn form_value(&self) -> &str {
        self.0.expose()
    }

    /// Identifies the browser (the short code works only there), without storing the token.
    pub(super) fn browser_hash(&self) -> [u8; 32] {
        self.0.hash()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Csrf {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Csrf>()
            .cloned()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}
