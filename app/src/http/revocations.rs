//! `GET /revocations`: the public revocation feed (`DTREV1:`, docs/license-format.md §13), for
//! the desktop app. Signed with the license signing key, so a copy from any cache or mirror is as
//! good as ours; `seq` grows with every change, so an older copy cannot pass for a newer one.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{SubsecRound, Utc};

use super::error::ApiError;
use crate::db::revocations;
use crate::license::{sign_feed, LicenseKey, RevocationFeed, RevocationId, Revoked};
use crate::state::AppState;

pub(crate) const PATH: &str = "/revocations";
/// Caches (nginx, the app) may keep a copy this long.
const MAX_AGE: &str = "public, max-age=300";

pub(super) fn router() -> Router<AppState> {
    Router::new().route(PATH, get(feed))
}

async fn feed(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (seq, rows) = revocations::snapshot(&state.db).await?;
    let key = &state.config.signing_key;
    let etag = format!("W/\"{seq}-{}\"", key.key_id());
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok(with_caching(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
        ));
    }
    let mut revoked = Vec::with_capacity(rows.len());
    for row in rows {
        let license_key: LicenseKey = row
            .license_key
            .parse()
            .map_err(|e| ApiError::Internal(format!("stored license key: {e}")))?;
        revoked.push(Revoked {
            id: RevocationId::of(&license_key),
            key_id: row
                .key_id
                .parse()
                .map_err(|e| ApiError::Internal(format!("stored key id: {e}")))?,
            revoked_at: row.revoked_at.trunc_subsecs(0),
        });
    }
    let feed = RevocationFeed {
        key_id: key.key_id(),
        seq: u64::try_from(seq).map_err(|_| ApiError::Internal("negative seq".into()))?,
        issued_at: Utc::now().trunc_subsecs(0),
        revoked,
    };
    let body = sign_feed(&feed, key);
    let response = ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    Ok(with_caching(response, &etag))
}

fn with_caching(mut response: Response, etag: &str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(MAX_AGE));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}
