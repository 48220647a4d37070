//! Licenses: mint, list, show, revoke, and email one again.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::api::{
    LicenseRecord, MintRequest, MintResponse, ResendRequest, ResendResponse, RevokeRequest,
};
use crate::db::event_links;
use crate::db::gumroad_events as events;
use crate::db::licenses;
use crate::delivery::deliver;
use crate::email::LicenseEmail;
use crate::http::error::{ApiError, Result};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::json::ApiJson;
use crate::http::params::{self, OptionalJson};
use crate::mint::{self, InvalidField};
use crate::state::AppState;

const DEFAULT_LIST_LIMIT: i64 = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/mint", post(mint_license))
        .route("/licenses", get(list_licenses))
        .route("/licenses/{license_key}", get(show_license))
        .route("/licenses/{license_key}/revoke", post(revoke_license))
        .route("/licenses/{license_key}/resend", post(resend))
}

async fn mint_license(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<MintRequest>,
) -> Result<Json<MintResponse>> {
    let minted = mint::mint(
        &state.db,
        &state.writers,
        &state.config.products,
        &state.config.signing_key,
        &request,
        chrono::Utc::now(),
    )
    .await?;
    if !minted.created {
        // The same source_ref again: the same request gets the first license back; a different
        // one is almost surely a script about to email someone else's license.
        let fields = mint::differences(&request, &minted.record, &state.config.products)?;
        if !fields.is_empty() {
            return Err(ApiError::Conflict(format!(
                "source_ref {:?} already minted license {} with a different {}; use a new \
                 source_ref for a new license, or repeat the original request",
                request.source_ref.as_deref().unwrap_or(""),
                minted.record.license_key,
                fields.join(", ")
            )));
        }
    }
    tracing::info!(
        license_key = %minted.record.license_key,
        tier = %minted.record.tier,
        source = %minted.record.source,
        created = minted.created,
        "minted license"
    );
    Ok(Json(MintResponse {
        license: minted.record,
        created: minted.created,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    email: Option<String>,
    limit: Option<i64>,
}

async fn list_licenses(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<LicenseRecord>>> {
    let limit = params::list_limit(query.limit, DEFAULT_LIST_LIMIT)?;
    let email = params::text("email", query.email.as_deref())?;
    Ok(Json(
        licenses::list(&state.db, email.as_deref(), limit).await?,
    ))
}

async fn show_license(
    State(state): State<AppState>,
    ApiPath(license_key): ApiPath<String>,
) -> Result<Json<LicenseRecord>> {
    let key = params::license_key(&license_key)?;
    let record = licenses::find(&state.db, key.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record))
}

async fn revoke_license(
    State(state): State<AppState>,
    ApiPath(license_key): ApiPath<String>,
    OptionalJson(request): OptionalJson<RevokeRequest>,
) -> Result<Json<LicenseRecord>> {
    let key = params::license_key(&license_key)?;
    let reason = params::text("reason", request.reason.as_deref())?
        .unwrap_or_else(|| "revoked by admin".into());
    if reason.chars().count() > mint::MAX_NOTES_LEN {
        return Err(InvalidField {
            field: "reason",
            message: format!("is longer than {} characters", mint::MAX_NOTES_LEN),
        }
        .into());
    }
    let record = licenses::revoke(&state.db, key.as_str(), &reason)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(license_key = %record.license_key, "revoked license");
    Ok(Json(record))
}

/// Emails a license again, to its own address or a corrected one (`{"to": "..."}`). The
/// license itself is not changed. Waits for the provider's answer.
async fn resend(
    State(state): State<AppState>,
    ApiPath(license_key): ApiPath<String>,
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
    let event = event_links::latest_for_license(&state.db, &license.license_key).await?;
    let product = match event {
        Some(id) => events::find(&state.db, id)
            .await?
            .and_then(|e| e.event.product_name),
        None => None,
    };
    let product = product.unwrap_or_else(|| state.config.products.tier_label(&license.tier));
    // The first email of a license no purchase mailed (`dtops mint --send`) reads as a
    // delivery; anything else as a re-send.
    let (kind, purpose) = if request.first {
        (LicenseEmail::Delivery, "first delivery by dtops")
    } else {
        (LicenseEmail::Resend, "resend by dtops")
    };
    let sent = deliver(&state, event, &license, kind, purpose, &product, &to)
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
