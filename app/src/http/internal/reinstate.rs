//! `POST /internal/licenses/{key}/reinstate`: lifts a revocation (a mistake, a dispute settled
//! outside Gumroad), with a reason the history keeps. The revocation feed drops the license at
//! once (its trigger follows `revoked_at`).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use crate::api::{LicenseRecord, ReinstateRequest};
use crate::db::{license_history, licenses};
use crate::http::error::{ApiError, Result};
use crate::http::extract::ApiPath;
use crate::http::json::ApiJson;
use crate::http::params;
use crate::mint::{self, InvalidField};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/licenses/{license_key}/reinstate", post(reinstate))
}

async fn reinstate(
    State(state): State<AppState>,
    ApiPath(license_key): ApiPath<String>,
    ApiJson(request): ApiJson<ReinstateRequest>,
) -> Result<Json<LicenseRecord>> {
    let key = params::license_key(&license_key)?;
    let reason = params::text("reason", Some(&request.reason))?
        .filter(|r| r.chars().count() <= mint::MAX_NOTES_LEN)
        .ok_or_else(|| InvalidField {
            field: "reason",
            message: format!(
                "must say why the license works again, in 1 to {} characters",
                mint::MAX_NOTES_LEN
            ),
        })?;
    let mut tx = state.db.begin().await?;
    let Some(record) = license_history::reinstate(&mut tx, key.as_str(), &reason).await? else {
        let current = licenses::find(&mut *tx, key.as_str())
            .await?
            .ok_or(ApiError::NotFound)?;
        return Err(ApiError::Conflict(format!(
            "license {} is not revoked; nothing to reinstate",
            current.license_key
        )));
    };
    tx.commit().await?;
    tracing::info!(license_key = %record.license_key, "reinstated license");
    Ok(Json(record))
}
