//! Alerts and monitoring: the open problems (`GET /alerts`), acknowledging one
//! (`POST /alerts/{id}/ack`), the host's facts from dtops (`POST /host-report`), and the
//! Prometheus metrics (`GET /metrics`). Behind the /internal guard like every admin route
//! (Prometheus sends the token from a `bearer_token_file`).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::alerts::{render_metrics, METRICS_CONTENT_TYPE};
use crate::api::{AckResponse, AlertList, HostReport, Problem};
use crate::db::{alerts, host_reports};
use crate::http::error::{ApiError, Result};
use crate::http::extract::ApiPath;
use crate::http::json::ApiJson;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list_alerts))
        .route("/alerts/{id}/ack", post(acknowledge))
        .route("/host-report", post(host_report))
        .route("/metrics", get(metrics))
}

async fn list_alerts(State(state): State<AppState>) -> Result<Json<AlertList>> {
    let open = alerts::open(&state.db).await?;
    let host_report_at = host_reports::latest(&state.db).await?.map(|(at, _)| at);
    let checked_at = *state
        .alerts_checked_at
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    Ok(Json(AlertList {
        checked_at,
        server_started_at: state.started_at,
        check_every_seconds: state.config.alerts.check_every.as_secs(),
        email: state.config.alerts.email.clone(),
        host_report_at,
        open,
    }))
}

async fn acknowledge(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AckResponse>> {
    let alert = alerts::acknowledge(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(alert = alert.id, key = %crate::text::LogSafe(&alert.key), "alert acknowledged");
    Ok(Json(alert))
}

/// Stores the report (the sentinel judges it on its next pass) and answers the problems these
/// facts show now.
async fn host_report(
    State(state): State<AppState>,
    ApiJson(report): ApiJson<HostReport>,
) -> Result<Json<Vec<Problem>>> {
    host_reports::store(&state.db, &report).await?;
    Ok(Json(report.problems(chrono::Utc::now())))
}

async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse> {
    let text = render_metrics(&state).await?;
    Ok(([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text))
}
