//! `POST /webhooks/gumroad?secret=...`: Gumroad's Ping.
//!
//! Gumroad signs nothing; the URL secret is the only credential, compared in constant time.
//! A wrong or missing secret (or no secret configured) answers 404, as if the route did not
//! exist, and stores nothing; the attempt is logged (never the query string).
//!
//! An authenticated delivery is stored in `gumroad_events` first and acknowledged at once:
//! Gumroad gives up after 5 s and retries only on 5xx, so minting and email happen afterwards
//! in the worker, and an authenticated delivery never gets a 4xx (it would never be retried
//! and the sale would be lost). A database failure answers 503, which Gumroad retries.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use crate::db::event_inserts::NewEventRow;
use crate::gumroad::{Intake, MAX_WEBHOOK_BODY};
use crate::state::AppState;
use crate::text::LogSafe;

pub(super) fn router() -> Router<AppState> {
    // Any other method answers like an unknown route: the path says nothing to a prober.
    Router::new().route(
        "/webhooks/gumroad",
        post(receive).fallback(|| async { ApiError::NotFound }),
    )
}

async fn receive(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(secret) = &state.config.gumroad.webhook_secret else {
        tracing::warn!("gumroad webhook: no GUMROAD_WEBHOOK_SECRET_FILE configured; answered 404");
        return ApiError::NotFound.into_response();
    };
    let presented = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "secret")
            .map(|(_, v)| v.into_owned())
    });
    if !presented.is_some_and(|p| secret.matches(&p)) {
        let from = headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("direct");
        tracing::warn!(
            from,
            "gumroad webhook: missing or wrong secret; answered 404, nothing stored"
        );
        return ApiError::NotFound.into_response();
    }

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = declared.is_some_and(|n| n > MAX_WEBHOOK_BODY);
    let bytes = if too_large {
        Default::default()
    } else {
        match axum::body::to_bytes(body, MAX_WEBHOOK_BODY).await {
            Ok(bytes) => bytes,
            Err(e) => {
                // A broken connection, or a chunked body over the limit: 500 lets Gumroad retry.
                tracing::warn!(error = %e, "gumroad webhook: cannot read the body; answered 500");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    };
    let intake = Intake::read(&content_type, &bytes, too_large);
    let new = intake.new_event(&bytes);
    match state.writers.events.write(NewEventRow::from(&new)).await {
        Ok(stored) => {
            state.wake.notify_one();
            tracing::info!(
                event = stored.id,
                duplicate_of = stored.duplicate_of,
                sale_id = %LogSafe(new.sale_id.unwrap_or("")),
                resource = %LogSafe(new.resource_name.as_str()),
                test = new.test,
                retry_count = new.retry_count,
                "gumroad delivery stored"
            );
            Json(json!({"status": "received", "event": stored.id})).into_response()
        }
        Err(e) => {
            crate::db::note_error(&e);
            // 503: Gumroad retries 5xx (about 1, 3 and 10 minutes later).
            tracing::error!(error = %e, "gumroad webhook: cannot store the delivery; answered 503");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "database_unavailable"})),
            )
                .into_response()
        }
    }
}
