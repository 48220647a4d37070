//! The admin API under `/internal/`: mint, list, show and revoke licenses.
//!
//! Reached only over an SSH tunnel to 127.0.0.1: every route needs the Bearer admin token and
//! refuses proxied requests (see [`super::auth`]).

use axum::extract::{Path, Query, State};
use axum::middleware;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::{refuse_proxied, AdminAuth};
use super::error::{ApiError, Result};
use super::json::ApiJson;
use super::params::{self, OptionalJson};
use super::AppState;
use crate::db::licenses::{self, LicenseRecord};
use crate::mint::{self, InvalidField, MintRequest};

const DEFAULT_LIST_LIMIT: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/internal/mint", post(mint_license))
        .route("/internal/licenses", get(list_licenses))
        .route("/internal/licenses/{license_key}", get(show_license))
        .route(
            "/internal/licenses/{license_key}/revoke",
            post(revoke_license),
        )
        .layer(middleware::from_fn(refuse_proxied))
}

/// A license as the admin API returns it; `created` only on mint.
#[derive(Serialize)]
pub struct LicenseResponse {
    #[serde(flatten)]
    license: LicenseRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
}

async fn mint_license(
    _: AdminAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<MintRequest>,
) -> Result<Json<LicenseResponse>> {
    let minted = mint::mint(
        &state.db,
        &state.config.products,
        &state.config.signing_key,
        &request,
        chrono::Utc::now(),
    )
    .await?;
    tracing::info!(
        license_key = %minted.record.license_key,
        tier = %minted.record.tier,
        source = %minted.record.source,
        created = minted.created,
        "minted license"
    );
    Ok(Json(LicenseResponse {
        license: minted.record,
        created: Some(minted.created),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    email: Option<String>,
    limit: Option<i64>,
}

async fn list_licenses(
    _: AdminAuth,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<LicenseRecord>>> {
    let limit = params::list_limit(query.limit, DEFAULT_LIST_LIMIT)?;
    let email = query
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    Ok(Json(licenses::list(&state.db, email, limit).await?))
}

async fn show_license(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(license_key): Path<String>,
) -> Result<Json<LicenseRecord>> {
    let key = params::license_key(&license_key)?;
    let record = licenses::find(&state.db, key.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    reason: Option<String>,
}

async fn revoke_license(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(license_key): Path<String>,
    OptionalJson(request): OptionalJson<RevokeRequest>,
) -> Result<Json<LicenseRecord>> {
    let key = params::license_key(&license_key)?;
    let reason = request.reason.unwrap_or_else(|| "revoked by admin".into());
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
