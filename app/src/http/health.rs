//! `GET /health`: is the server up, and can it reach its database?

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The probe answers within this even when the database hangs.
const DB_CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// The documented bodies, byte for byte (a JSON map would reorder the keys).
const OK_BODY: &str = r#"{"status":"ok","db":"ok"}"#;
const ERROR_BODY: &str = r#"{"status":"error","db":"error"}"#;

async fn health(State(state): State<AppState>) -> Response {
    let probe = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.db);
    match tokio::time::timeout(DB_CHECK_TIMEOUT, probe).await {
        Ok(Ok(_)) => json_body(StatusCode::OK, OK_BODY),
        outcome => {
            let reason = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_string(),
            };
            tracing::warn!(%reason, "health check: database unreachable");
            json_body(StatusCode::SERVICE_UNAVAILABLE, ERROR_BODY)
        }
    }
}

fn json_body(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
