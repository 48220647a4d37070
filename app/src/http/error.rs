//! The API's error type: one JSON shape ([`ErrorBody`]) for every failure, nothing internal in it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::ErrorBody;
use crate::email::MailError;
use crate::gumroad::ProcessError;
use crate::mint::{InvalidField, MintError};

pub(crate) type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("missing or wrong admin token")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    BadRequest(String),
    #[error("request body is larger than the limit")]
    PayloadTooLarge,
    #[error("{0}")]
    Conflict(String),
    #[error("email not sent: {0}")]
    Mail(MailError),
    #[error(transparent)]
    InvalidField(#[from] InvalidField),
    #[error("database error")]
    Db(#[from] sqlx::Error),
    /// Not answered within the route's deadline (a hung database, a slow provider).
    #[error("timed out")]
    Timeout,
    /// Our data contradicts itself: logged, a 500 for the client.
    #[error("internal error")]
    Internal(String),
    /// Not available right now, for the reason given (a 503 with `Retry-After`).
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    pub(crate) fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Mail(_) => StatusCode::BAD_GATEWAY,
            ApiError::InvalidField(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Db(_) | ApiError::Timeout | ApiError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorBody {
        let code = |error: &str| ErrorBody {
            error: error.into(),
            ..ErrorBody::default()
        };
        match self {
            ApiError::Unauthorized => ErrorBody {
                message: Some("send the admin token as `Authorization: Bearer <token>`".into()),
                ..code("unauthorized")
            },
            ApiError::NotFound => code("not_found"),
            ApiError::MethodNotAllowed => code("method_not_allowed"),
            ApiError::BadRequest(message) => ErrorBody {
                message: Some(message.clone()),
                ..code("bad_request")
            },
            ApiError::PayloadTooLarge => code("payload_too_large"),
            ApiError::Conflict(message) => ErrorBody {
                message: Some(message.clone()),
                ..code("conflict")
            },
            ApiError::Mail(e) => ErrorBody {
                class: Some(e.class().into()),
                message: Some(format!("{}: {e}", e.class())),
                ..code("email_not_sent")
            },
            ApiError::InvalidField(InvalidField { field, message }) => ErrorBody {
                field: Some((*field).into()),
                message: Some(message.clone()),
                ..code("invalid_field")
            },
            ApiError::Db(e) => {
                // The detail goes to the log only; clients learn that the database failed.
                crate::db::note_error(e);
                tracing::error!(error = %e, "database error");
                code("database_unavailable")
            }
            ApiError::Timeout => ErrorBody {
                message: Some("not answered in time; try again".into()),
                ..code("timeout")
            },
            ApiError::Internal(why) => {
                tracing::error!(error = %why, "internal error");
                code("internal_error")
            }
            ApiError::Unavailable(why) => ErrorBody {
                message: Some(why.clone()),
                ..code("unavailable")
            },
        }
    }
}

impl From<MintError> for ApiError {
    fn from(e: MintError) -> Self {
        match e {
            MintError::Invalid(field) => field.into(),
            MintError::Db(db) => db.into(),
            MintError::Inconsistent(why) => ApiError::Internal(why),
        }
    }
}

impl From<ProcessError> for ApiError {
    fn from(e: ProcessError) -> Self {
        match e {
            ProcessError::Db(db) => db.into(),
            ProcessError::Inconsistent(why) => ApiError::Internal(why),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status_code(), Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        if matches!(self, ApiError::Unavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, "60".parse().expect("static"));
        }
        response
    }
}
