//! `GET /health`: is the server up, and can it reach its database?

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::state::AppState;

/// The probe answers within this even when the database hangs.
const DB_CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let probe = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.db);
    match tokio::time::timeout(DB_CHECK_TIMEOUT, probe).await {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({"status": "ok", "db": "ok"}))),
        outcome => {
            let reason = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_string(),
            };
            tracing::warn!(%reason, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "error", "db": "error"})),
            )
        }
    }
}
