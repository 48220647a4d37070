//! Gumroad deliveries: list, show one in full, replay one.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::api::{EventDetail, EventList};
use crate::db::gumroad_events::{self as events, ListFilter, StoredEvent};
use crate::db::{event_history, event_links};
use crate::gumroad::{self, Ping};
use crate::http::error::{ApiError, Result};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::params;
use crate::state::AppState;

const DEFAULT_LIST_LIMIT: i64 = 50;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/events", get(list_events))
        .route("/events/{id}", get(show_event))
        .route("/events/{id}/replay", post(replay_event))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    failed: bool,
    email: Option<String>,
    sale: Option<String>,
    limit: Option<i64>,
}

async fn list_events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<EventList>> {
    let limit = params::list_limit(query.limit, DEFAULT_LIST_LIMIT)?;
    let email = params::text("email", query.email.as_deref())?;
    let sale = params::text("sale", query.sale.as_deref())?;
    let filter = ListFilter {
        failed: query.failed,
        email: email.as_deref(),
        sale_id: sale.as_deref(),
        limit,
    };
    Ok(Json(events::list(&state.db, &filter).await?))
}

async fn show_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EventDetail>> {
    let event = events::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(detail(&state, event).await?))
}

/// One event: every column, the decoded fields, the later deliveries of the same sale, and its
/// history.
async fn detail(state: &AppState, stored: StoredEvent) -> Result<EventDetail> {
    let fields = match Ping::parse(&stored.content_type, &stored.raw_body) {
        Ok(ping) => json!({"fields": ping.scalars, "nested": ping.nested}),
        Err(e) => json!({"error": e.to_string()}),
    };
    let duplicates = event_links::duplicates_of(&state.db, stored.id).await?;
    let history = event_history::list(&state.db, stored.id).await?;
    Ok(EventDetail {
        event: stored.event,
        raw_body: String::from_utf8_lossy(&stored.raw_body).into_owned(),
        fields,
        duplicates,
        history,
    })
}

/// Processes an event again now, whatever its status: finishes what is missing (mints if not
/// minted, emails if not emailed) and never mints a second license. A duplicate delivery
/// replays the event it duplicates.
async fn replay_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EventDetail>> {
    let event = events::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let target = event.duplicate_of.unwrap_or(event.id);
    let claimed = events::claim_for_replay(&state.db, target)
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "event {target} is being processed right now; look again in a minute"
            ))
        })?;
    tracing::info!(event = target, "replaying gumroad event");
    let done = gumroad::process(&state, claimed).await?;
    Ok(Json(detail(&state, done).await?))
}
