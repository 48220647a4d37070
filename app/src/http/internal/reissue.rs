//! Re-issuing every active license with the server's current signing key, after
//! `dtops keys rotate`: a background job (`crate::reissue`). Admin only, like the rest of
//! `/internal/`.
//!
//! - `POST /internal/reissue` (`{"email": true}` to email each buyer the new blob) creates the
//!   job for what is missing and answers at once with it; while a job runs, the same request
//!   resumes following it (`"resumed": true`).
//! - `GET /internal/reissue/{id}` and `GET /internal/reissue/current` (the newest job): its exact
//!   counts, every failed license and why, and some of those waiting for another try.
//!
//! Each old blob is first verified against the keys this server trusts (the current one and
//! DATATOOLS_TRUSTED_PUBKEYS), so only what this service really issued is re-signed; the
//! license's content (key, licensee, tier, dates, source) is carried over unchanged and only the
//! signing key changes. The old blob is kept in `license_reissues`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::api::{ReissueJob, ReissueRequest};
use crate::http::error::{ApiError, Result};
use crate::http::extract::ApiPath;
use crate::http::params::OptionalJson;
use crate::reissue::{self, Started};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/reissue", post(start))
        .route("/reissue/current", get(current))
        .route("/reissue/{id}", get(show))
}

async fn start(
    State(state): State<AppState>,
    // Optional: an empty POST re-issues without emailing.
    OptionalJson(request): OptionalJson<ReissueRequest>,
) -> Result<Json<ReissueJob>> {
    if request.email && state.mailer.is_none() {
        return Err(ApiError::BadRequest(
            "email was asked for but no mail provider is configured (POSTMARK_TOKEN_FILE or \
             DATATOOLS_OUTBOX_DIR); nothing was re-issued"
                .into(),
        ));
    }
    let (id, resumed) = match reissue::start(&state, request.email).await? {
        Started::New(id) => (id, false),
        Started::Resumed(id) => (id, true),
        Started::Conflict(job) => {
            return Err(ApiError::Conflict(format!(
                "re-issue job {} is still running {} emailing buyers; wait for it to finish \
                 (`dtops keys reissue` follows it) and ask again",
                job.id,
                if job.email { "and" } else { "without" }
            )))
        }
    };
    let mut job = reissue::status(&state, id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("re-issue job {id} vanished")))?;
    job.resumed = resumed;
    Ok(Json(job))
}

async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReissueJob>> {
    Ok(Json(
        reissue::status(&state, id)
            .await?
            .ok_or(ApiError::NotFound)?,
    ))
}

async fn current(State(state): State<AppState>) -> Result<Json<ReissueJob>> {
    Ok(Json(
        reissue::current(&state).await?.ok_or(ApiError::NotFound)?,
    ))
}
