//! `POST /internal/licenses/{key}/email`: moves a license to another address when its buyer
//! asks (address changes are not self-service in the portal), re-signed and recorded.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};

use crate::address_change::{self, MoveError};
use crate::api::{EmailChangeRequest, EmailChangeResponse};
use crate::db::event_links;
use crate::delivery::deliver;
use crate::email::LicenseEmail;
use crate::http::error::{ApiError, Result};
use crate::http::json::ApiJson;
use crate::http::params;
use crate::mint::{self, InvalidField};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/licenses/{license_key}/email", post(change_email))
}

async fn change_email(
    State(state): State<AppState>,
    Path(license_key): Path<String>,
    ApiJson(request): ApiJson<EmailChangeRequest>,
) -> Result<Json<EmailChangeResponse>> {
    let key = params::license_key(&license_key)?;
    let email = request.email.trim();
    mint::check_email(email)?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > mint::MAX_NOTES_LEN {
        return Err(InvalidField {
            field: "reason",
            message: format!(
                "must say why (how the buyer asked), in 1 to {} characters",
                mint::MAX_NOTES_LEN
            ),
        }
        .into());
    }
    let moved = address_change::move_license(
        &state.db,
        &state.config.signing_key,
        key.as_str(),
        email,
        reason,
    )
    .await
    .map_err(|e| match e {
        MoveError::NotFound => ApiError::NotFound,
        MoveError::Invalid(field) => field.into(),
        MoveError::Db(e) => e.into(),
        MoveError::Inconsistent(why) => ApiError::Internal(why),
    })?;
    tracing::info!(
        license_key = %moved.record.license_key,
        change = moved.change_id,
        "license moved to another address"
    );
    let message_id = if request.notify {
        let event = event_links::latest_for_license(&state.db, key.as_str()).await?;
        let product = state.config.products.tier_label(&moved.record.tier);
        let sent = deliver(
            &state,
            event,
            &moved.record,
            LicenseEmail::AddressChange,
            "address change",
            &product,
            email,
        )
        .await?
        .map_err(ApiError::Mail)?;
        Some(sent.message_id)
    } else {
        None
    };
    Ok(Json(EmailChangeResponse {
        license: moved.record,
        old_email: moved.old_email,
        change_id: moved.change_id,
        message_id,
    }))
}
