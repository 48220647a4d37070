//! Request pieces several admin routes share: an optional JSON body, a license key in the
//! path, a list limit.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::{ApiError, Result};
use crate::license::LicenseKey;
use crate::mint::InvalidField;

/// Most rows a list returns.
pub(super) const MAX_LIST_LIMIT: i64 = 1000;

/// A JSON body that may be left out: an empty (or blank) body is `T::default()`, so
/// `curl -X POST .../revoke` works without `-d '{}'`.
pub(crate) struct OptionalJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                _ => ApiError::BadRequest(rejection.body_text()),
            }
        })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        serde_json::from_slice(&body)
            .map(OptionalJson)
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// A license key as a person typed it, normalised; 422 naming `license_key` otherwise.
pub(super) fn license_key(text: &str) -> Result<LicenseKey> {
    text.parse().map_err(|message| {
        InvalidField {
            field: "license_key",
            message,
        }
        .into()
    })
}

/// `?limit=`, defaulting to `default`, within 1..=MAX_LIST_LIMIT.
pub(super) fn list_limit(limit: Option<i64>, default: i64) -> Result<i64> {
    let limit = limit.unwrap_or(default);
    if (1..=MAX_LIST_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(InvalidField {
            field: "limit",
            message: format!("{limit} is out of range; use 1 to {MAX_LIST_LIMIT}"),
        }
        .into())
    }
}

/// An optional text filter or field from a person: trimmed, empty means absent, and refused
/// (422 naming `field`) when it holds a NUL or another control character, which no address,
/// sale id or reason has (and Postgres text cannot hold a NUL).
pub(super) fn text(field: &'static str, value: Option<&str>) -> Result<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().any(char::is_control) {
        return Err(InvalidField {
            field,
            message: "contains a control character (a NUL, a newline, an escape...); remove it"
                .into(),
        }
        .into());
    }
    Ok(Some(value.to_string()))
}
