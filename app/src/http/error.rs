//! The API's error type: one JSON shape for every failure, and nothing internal in it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::mint::{InvalidField, MintError};

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or wrong admin token")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("request body is larger than the limit")]
    PayloadTooLarge,
    #[error("{0}")]
    Conflict(String),
    #[error("email not sent: {0}")]
    Mail(crate::email::MailError),
    #[error(transparent)]
    InvalidField(#[from] InvalidField),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Mail(_) => StatusCode::BAD_GATEWAY,
            ApiError::InvalidField(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<MintError> for ApiError {
    fn from(e: MintError) -> Self {
        match e {
            MintError::Invalid(field) => field.into(),
            MintError::Db(db) => db.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self {
            ApiError::Unauthorized => json!({"error": "unauthorized",
                "message": "send the admin token as `Authorization: Bearer <token>`"}),
            ApiError::NotFound => json!({"error": "not_found"}),
            ApiError::BadRequest(message) => json!({"error": "bad_request", "message": message}),
            ApiError::PayloadTooLarge => json!({"error": "payload_too_large"}),
            ApiError::Conflict(message) => json!({"error": "conflict", "message": message}),
            ApiError::Mail(e) => json!({"error": "email_not_sent", "class": e.class(),
                "message": format!("{}: {e}", e.class())}),
            ApiError::InvalidField(InvalidField { field, message }) => {
                json!({"error": "invalid_field", "field": field, "message": message})
            }
            ApiError::Db(e) => {
                // The detail goes to the log only; clients learn that the database failed.
                tracing::error!(error = %e, "database error");
                json!({"error": "database_unavailable"})
            }
        };
        let mut response = (self.status_code(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        response
    }
}
