//! The portal's error type: what went wrong on our side, as a plain HTML page. Database and
//! internal errors are logged; the page says only to try again.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub(super) type Result<T, E = PageError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub(super) enum PageError {
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("internal error")]
    Internal(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = match &self {
            PageError::Db(e) => {
                tracing::error!(error = %e, "portal: database error");
                StatusCode::SERVICE_UNAVAILABLE
            }
            PageError::Internal(why) => {
                tracing::error!(error = %why, "portal: internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
            <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
            <title>Something went wrong · DataTools licenses</title></head><body><main>\
            <h1>Something went wrong on our side</h1><p>Nothing was changed. Please try again \
            in a few minutes.</p><p><a href=\"/portal/\">Back to the start</a></p></main>\
            </body></html>";
        (status, Html(page)).into_response()
    }
}
