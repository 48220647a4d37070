//! `POST /internal/reissue`: re-sign every active license with the server's current signing
//! key, after `dtops keys rotate`. Admin only, like the rest of `/internal/`.
//!
//! Each old blob is first verified against the keys this server trusts (the current one and
//! DATATOOLS_TRUSTED_PUBKEYS), so only what this service really issued is re-signed; the
//! license's content (key, licensee, tier, dates, source) is carried over unchanged and only the
//! signing key changes. The old blob is kept in `license_reissues`. Running it again re-issues
//! nothing.
//!
//! With `{"email": true}` each buyer is emailed the new blob through the configured mailer
//! (Postmark, or the outbox in development) and `license_reissues.emailed_at` is set; a failed
//! send is listed in the report and can be repeated with `dtops resend KEY`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use crate::api::{ReissueReport, ReissueRequest, Reissued, Unverifiable};
use crate::db::{licenses, reissues};
use crate::delivery::deliver;
use crate::email::LicenseEmail;
use crate::http::error::{ApiError, Result};
use crate::http::params::OptionalJson;
use crate::license;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/reissue", post(reissue_all))
}

async fn reissue_all(
    State(state): State<AppState>,
    // Optional: an empty POST re-issues without emailing.
    OptionalJson(request): OptionalJson<ReissueRequest>,
) -> Result<Json<ReissueReport>> {
    if request.email && state.mailer.is_none() {
        return Err(ApiError::BadRequest(
            "email was asked for but no mail provider is configured (POSTMARK_TOKEN_FILE or \
             DATATOOLS_OUTBOX_DIR); nothing was re-issued"
                .into(),
        ));
    }
    let key = &state.config.signing_key;
    let key_id = key.key_id().to_string();
    let now = chrono::Utc::now();
    let mut report = ReissueReport {
        key_id: key_id.clone(),
        reissued: Vec::new(),
        already_current: 0,
        unverifiable: Vec::new(),
        emailed: 0,
        email_failures: Vec::new(),
    };
    for active in reissues::active_not_signed_by(&state.db, &key_id, now).await? {
        let mut content = match license::verify_signature(&active.blob, &state.config.trusted_keys)
        {
            Ok(content) if content.license_key.as_str() == active.license_key => content,
            Ok(_) => {
                report.unverifiable.push(Unverifiable {
                    license_key: active.license_key,
                    reason: "the blob names another license key".into(),
                });
                continue;
            }
            Err(e) => {
                report.unverifiable.push(Unverifiable {
                    license_key: active.license_key,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        content.key_id = key.key_id();
        let blob = license::sign(&content, key);
        let swapped = reissues::replace_blob(
            &state.db,
            &active.license_key,
            &active.key_id,
            &key_id,
            &blob,
        )
        .await?;
        if let Some(reissue_id) = swapped {
            if request.email {
                email_buyer(&state, reissue_id, &active.license_key, &mut report).await?;
            }
            report.reissued.push(Reissued {
                license_key: active.license_key,
                email: active.email,
                old_key_id: active.key_id,
                blob,
            });
        }
    }
    report.already_current = reissues::count_active_signed_by(&state.db, &key_id, now).await?
        - report.reissued.len() as i64;
    tracing::info!(
        key_id = %key_id,
        reissued = report.reissued.len(),
        unverifiable = report.unverifiable.len(),
        "re-issued licenses with the current key"
    );
    Ok(Json(report))
}

/// Emails one re-issued license to its buyer; a failure is reported, not fatal.
async fn email_buyer(
    state: &AppState,
    reissue_id: i64,
    license_key: &str,
    report: &mut ReissueReport,
) -> Result<()> {
    let Some(license) = licenses::find(&state.db, license_key).await? else {
        return Ok(());
    };
    let product = state.config.products.tier_label(&license.tier);
    let sent = deliver(
        state,
        None,
        &license,
        LicenseEmail::Reissue,
        &product,
        &license.email,
    )
    .await?;
    match sent {
        Ok(_) => {
            reissues::mark_emailed(&state.db, reissue_id).await?;
            report.emailed += 1;
        }
        Err(e) => report.email_failures.push(Unverifiable {
            license_key: license.license_key.clone(),
            reason: format!("{}: {e}", e.class()),
        }),
    }
    Ok(())
}
