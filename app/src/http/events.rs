//! The admin API for Gumroad events and license emails:
//! `GET /internal/events`, `GET /internal/events/{id}`, `POST /internal/events/{id}/replay`,
//! `POST /internal/licenses/{key}/resend`.
//!
//! Same guards as the rest of `/internal/*`: the Bearer admin token, and 404 through the proxy.

use axum::extract::{Path, Query, State};
use axum::middleware;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::{refuse_proxied, AdminAuth};
use super::error::{ApiError, Result};
use super::params::{self, OptionalJson};
use super::AppState;
use crate::db::gumroad_events::{self as events, EventRecord, ListFilter};
use crate::db::licenses;
use crate::email::LicenseEmail;
use crate::gumroad::{process, Ping};
use crate::mint::{self, InvalidField};

const DEFAULT_LIST_LIMIT: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/internal/events", get(list_events))
        .route("/internal/events/{id}", get(show_event))
        .route("/internal/events/{id}/replay", post(replay_event))
        .route("/internal/licenses/{license_key}/resend", post(resend))
        .layer(middleware::from_fn(refuse_proxied))
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

/// An event without its raw body (lists stay readable; `show` has the body).
fn summary(event: &EventRecord) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("raw_body");
    }
    value
}

async fn list_events(
    _: AdminAuth,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Value>>> {
    let limit = params::list_limit(query.limit, DEFAULT_LIST_LIMIT)?;
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (email, sale) = (trimmed(&query.email), trimmed(&query.sale));
    let filter = ListFilter {
        failed: query.failed,
        email: email.as_deref(),
        sale_id: sale.as_deref(),
        limit,
    };
    let rows = events::list(&state.db, &filter).await?;
    Ok(Json(rows.iter().map(summary).collect()))
}

/// One event: every column, the decoded fields, and the later deliveries of the same sale.
#[derive(Serialize)]
struct EventDetail {
    #[serde(flatten)]
    event: EventRecord,
    fields: Value,
    duplicates: Vec<i64>,
}

async fn show_event(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<EventDetail>> {
    let event = events::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(detail(&state, event).await?))
}

async fn detail(state: &AppState, event: EventRecord) -> Result<EventDetail> {
    let fields = match Ping::parse(&event.content_type, event.raw_body.as_bytes()) {
        Ok(ping) => json!({"fields": ping.scalars, "nested": ping.nested}),
        Err(e) => json!({"error": e.to_string()}),
    };
    let duplicates =
        sqlx::query_scalar("select id from gumroad_events where duplicate_of = $1 order by id")
            .bind(event.id)
            .fetch_all(&state.db)
            .await?;
    Ok(EventDetail {
        event,
        fields,
        duplicates,
    })
}

/// Processes an event again now, whatever its status: finishes what is missing (mints if not
/// minted, emails if not emailed) and never mints a second license. A duplicate delivery
/// replays the event it duplicates.
async fn replay_event(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<EventDetail>> {
    let event = events::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let target = event.duplicate_of.unwrap_or(event.id);
    let claimed = events::claim(&state.db, target).await?.ok_or_else(|| {
        ApiError::Conflict(format!(
            "event {target} is being processed right now; look again in a minute"
        ))
    })?;
    tracing::info!(event = target, "replaying gumroad event");
    let done = process::process(&state, claimed).await?;
    Ok(Json(detail(&state, done).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResendRequest {
    to: Option<String>,
}

#[derive(Serialize)]
struct ResendResponse {
    license_key: String,
    to: String,
    message_id: String,
    /// The Gumroad event the delivery was recorded on, when the license came from one.
    event: Option<i64>,
}

/// Emails a license again, to its own address or a corrected one (`{"to": "..."}`). The
/// license itself is not changed. Waits for the provider's answer.
async fn resend(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(license_key): Path<String>,
    OptionalJson(request): OptionalJson<ResendRequest>,
) -> Result<Json<ResendResponse>> {
    let key = params::license_key(&license_key)?;
    let license = licenses::find(&state.db, key.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(reason) = &license.revoke_reason {
        return Err(InvalidField {
            field: "license_key",
            message: format!("the license is revoked ({reason}); it is not sent"),
        }
        .into());
    }
    let to = match request.to.as_deref().map(str::trim) {
        Some(to) => {
            mint::check_email(to).map_err(|mut e| {
                e.field = "to";
                e
            })?;
            to.to_string()
        }
        None => license.email.clone(),
    };
    let event = events::latest_for_license(&state.db, &license.license_key).await?;
    let product = match event {
        Some(id) => events::find(&state.db, id)
            .await?
            .and_then(|e| e.product_name),
        None => None,
    };
    let product = product.unwrap_or_else(|| state.config.products.tier_label(&license.tier));
    let sent = process::deliver(&state, event, &license, LicenseEmail::Resend, &product, &to)
        .await?
        .map_err(ApiError::Mail)?;
    tracing::info!(license_key = %license.license_key, "license re-sent");
    Ok(Json(ResendResponse {
        license_key: license.license_key,
        to,
        message_id: sent.message_id,
        event,
    }))
}
