//! Finding licenses (`GET /internal/licenses/search`, paged past any size) and one license's
//! history (`GET /internal/licenses/{key}/history`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};

use crate::api::{LicenseHistory, LicensePage, LicenseSearch, MAX_PAGE};
use crate::db::license_history;
use crate::db::license_search::{self, Filter};
use crate::http::error::{ApiError, Result};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::params;
use crate::license::LicenseKey;
use crate::mint::InvalidField;
use crate::state::AppState;

const DEFAULT_PAGE: u32 = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/licenses/search", get(search))
        .route("/licenses/{license_key}/history", get(history))
}

async fn search(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LicenseSearch>,
) -> Result<Json<LicensePage>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(invalid(
            "limit",
            format!("{limit} is out of range; use 1 to {MAX_PAGE} (`next` pages past it)"),
        ));
    }
    let text = params::text("q", query.q.as_deref())?;
    let key = match params::text("key", query.key.as_deref())? {
        Some(key) => Some(params::license_key(&key)?),
        None => None,
    };
    let email = params::text("email", query.email.as_deref())?;
    let name = params::text("name", query.name.as_deref())?;
    let order = params::text("order", query.order.as_deref())?;
    let sale = params::text("sale", query.sale.as_deref())?;
    let after = match params::text("after", query.after.as_deref())? {
        Some(cursor) => Some(decode_cursor(&cursor)?),
        None => None,
    };
    // Free text that reads as a license key also finds it as one (any spelling of it).
    let text_key = text
        .as_deref()
        .and_then(|t| t.parse::<LicenseKey>().ok())
        .map(|k| k.as_str().to_string());
    let filter = Filter {
        text: text.as_deref(),
        text_key: text_key.as_deref(),
        key: key.as_ref().map(LicenseKey::as_str),
        email: email.as_deref(),
        name: name.as_deref(),
        order: order.as_deref(),
        sale: sale.as_deref(),
        status: query.status,
        after,
    };
    let mut found = license_search::search(&state.db, &filter, i64::from(limit) + 1).await?;
    let next = if found.len() > limit as usize {
        found.truncate(limit as usize);
        found
            .last()
            .map(|last| encode_cursor(last.license.issued_at, last.id))
    } else {
        None
    };
    Ok(Json(LicensePage {
        licenses: found.into_iter().map(|f| f.into_match()).collect(),
        next,
    }))
}

async fn history(
    State(state): State<AppState>,
    ApiPath(license_key): ApiPath<String>,
) -> Result<Json<LicenseHistory>> {
    let key = params::license_key(&license_key)?;
    let filter = Filter {
        key: Some(key.as_str()),
        ..Filter::default()
    };
    let found = license_search::search(&state.db, &filter, 1)
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    let history = license_history::history(&state.db, key.as_str()).await?;
    Ok(Json(LicenseHistory {
        license: found.into_match(),
        history,
    }))
}

/// `<issue time in microseconds>_<row id>`: where the next page starts.
fn encode_cursor(issued_at: DateTime<Utc>, id: i64) -> String {
    format!("{}_{id}", issued_at.timestamp_micros())
}

fn decode_cursor(text: &str) -> Result<(DateTime<Utc>, i64)> {
    let bad = || {
        invalid(
            "after",
            format!("{text:?} is not a page cursor; pass the `next` of the previous page as it is"),
        )
    };
    let (micros, id) = text.split_once('_').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

fn invalid(field: &'static str, message: String) -> ApiError {
    InvalidField { field, message }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_named() {
        let at: DateTime<Utc> = "2026-01-02T03:04:05.123456Z".parse().unwrap();
        let cursor = encode_cursor(at, 42);
        assert_eq!(decode_cursor(&cursor).unwrap(), (at, 42));
        let error = decode_cursor("x_1").unwrap_err().to_string();
        assert!(error.contains("page cursor"), "{error}");
    }
}
