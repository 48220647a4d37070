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
    let probe = async {
        match select_one(&state).await {
            // The pool's connection died with a database restart: one more try gets a new one.
            Err(e) if crate::db::is_connection_loss(&e) => {
                crate::db::note_error(&e);
                select_one(&state).await
            }
            other => other,
        }
    };
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

async fn select_one(state: &AppState) -> sqlx::Result<i32> {
    sqlx::query_scalar("select 1").fetch_one(&state.db).await
}

fn json_body(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
