//! One license of a re-issue job: re-sign it (exactly once) and email its buyer (at least once).
//!
//! Every step is recorded on the item before the next starts, so a retry after a crash or a
//! timeout only does what is missing: a license re-signed earlier is not signed again (its blob
//! swap and the item's mark are one transaction), and an email is sent while the item has no
//! `emailed_at`.

use std::time::Duration;

use chrono::Utc;

use crate::api::{LicenseRecord, ReissueStep};
use crate::backoff::{backoff, jitter};
use crate::db::reissue_items::{self as items, ClaimedItem, Ending};
use crate::db::{licenses, reissues};
use crate::delivery::deliver;
use crate::email::{LicenseEmail, MailError};
use crate::license;
use crate::state::AppState;
use crate::text::LogSafe;

/// Retryable email failures are tried this many times (about an hour with the backoff) before
/// the license is listed as failed; the next job tries it again.
const MAX_EMAIL_ATTEMPTS: i32 = 8;
/// A mail configuration error (bad token, unconfirmed sender) keeps the emails waiting and
/// retries at this pace until an operator fixes it.
const CONFIG_RETRY: Duration = Duration::from_secs(600);

/// Works on an item a worker took, records how it ended, and finishes the job when it was the
/// last. A database error leaves the item to its lease (it is taken again).
pub(crate) async fn process(state: &AppState, item: ClaimedItem) -> sqlx::Result<()> {
    let (id, job) = (item.id, item.job_id);
    let ending = work(state, &item).await?;
    if let Some(ending) = ending {
        log(&item, &ending);
        items::end(&state.db, id, &ending).await?;
    }
    if crate::db::reissue_jobs::finish_if_complete(&state.db, job).await? {
        tracing::info!(job, "re-issue job finished");
    }
    Ok(())
}

/// None: the item was already recorded (emailed).
async fn work(state: &AppState, item: &ClaimedItem) -> sqlx::Result<Option<Ending>> {
    let Some(license) = licenses::find(&state.db, &item.license_key).await? else {
        return Ok(Some(failed(
            ReissueStep::Resign,
            "the license no longer exists",
        )));
    };
    if license.revoked_at.is_some() {
        return Ok(Some(Ending::Skipped(
            "revoked since the job started".into(),
        )));
    }
    if license.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Ok(Some(Ending::Skipped(
            "expired since the job started".into(),
        )));
    }
    if item.resign && item.resigned_at.is_none() {
        match resign(state, item, &license).await? {
            Resigned::Yes => {}
            Resigned::Failed(why) => return Ok(Some(failed(ReissueStep::Resign, why))),
            Resigned::Changed => {
                return Ok(Some(Ending::Retry {
                    step: ReissueStep::Resign,
                    error: "the license changed while it was re-signed; trying again".into(),
                    at: Utc::now(),
                }))
            }
        }
    }
    if !item.email || item.emailed_at.is_some() {
        return Ok(Some(Ending::Done));
    }
    // The record as it now is: the new blob.
    let Some(license) = licenses::find(&state.db, &item.license_key).await? else {
        return Ok(Some(failed(
            ReissueStep::Email,
            "the license no longer exists",
        )));
    };
    email(state, item, &license).await
}

enum Resigned {
    Yes,
    Failed(String),
    /// Its blob changed between reading and swapping (an address change): read it again.
    Changed,
}

async fn resign(
    state: &AppState,
    item: &ClaimedItem,
    license: &LicenseRecord,
) -> sqlx::Result<Resigned> {
    let key = &state.config.signing_key;
    let key_id = key.key_id().to_string();
    if license.key_id == key_id {
        // Signed with this key meanwhile (an address change, or a job before this one).
        let earlier = reissues::to_key(&state.db, &license.license_key, &key_id).await?;
        items::mark_resigned(&state.db, item.id, earlier).await?;
        return Ok(Resigned::Yes);
    }
    // Only what this service really issued is re-signed: the old blob must verify against a
    // key the server trusts, and name this license.
    let mut content = match license::verify_signature(&license.blob, &state.config.trusted_keys) {
        Ok(content) if content.license_key.as_str() == license.license_key => content,
        Ok(_) => {
            return Ok(Resigned::Failed(
                "not re-signed: the blob names another license key".into(),
            ))
        }
        Err(e) => {
            return Ok(Resigned::Failed(format!(
                "not re-signed: the blob does not verify with a trusted key ({e}); it was left \
                 as it is"
            )))
        }
    };
    content.key_id = key.key_id();
    let blob = license::sign(&content, key);
    let mut tx = state.db.begin().await?;
    let swapped = reissues::replace_blob(
        &mut *tx,
        &license.license_key,
        &license.key_id,
        &key_id,
        &blob,
    )
    .await?;
    let Some(reissue_id) = swapped else {
        return Ok(Resigned::Changed);
    };
    items::mark_resigned(&mut *tx, item.id, Some(reissue_id)).await?;
    tx.commit().await?;
    Ok(Resigned::Yes)
}

async fn email(
    state: &AppState,
    item: &ClaimedItem,
    license: &LicenseRecord,
) -> sqlx::Result<Option<Ending>> {
    let twice = items::mark_sending(&state.db, item.id).await?;
    if twice {
        tracing::warn!(license_key = %license.license_key, "re-issue email: an earlier send was interrupted; the buyer may receive it twice");
    }
    let product = state.config.products.tier_label(&license.tier);
    let result = deliver(
        state,
        None,
        license,
        LicenseEmail::Reissue,
        LicenseEmail::Reissue.purpose(),
        &product,
        &license.email,
    )
    .await?;
    let attempts = item.attempts;
    Ok(Some(match result {
        Ok(sent) => {
            items::mark_emailed(&state.db, item.id, &license.email, &sent.message_id).await?;
            return Ok(None);
        }
        Err(MailError::Retryable(e)) if attempts < MAX_EMAIL_ATTEMPTS => retry(
            format!("email (retryable, attempt {attempts}): {e}"),
            backoff(attempts),
        ),
        Err(MailError::Retryable(e)) => failed(
            ReissueStep::Email,
            format!("email failed {attempts} times, last: {e}; the next `dtops keys reissue --email` tries again"),
        ),
        Err(MailError::Configuration(e)) => retry(
            format!("email (configuration; waiting until it is fixed): {e}"),
            jitter(CONFIG_RETRY),
        ),
        Err(MailError::Permanent(e)) => failed(
            ReissueStep::Email,
            format!(
                "email not delivered (permanent): {e}; correct the address with `dtops resend {} --to ADDRESS`",
                license.license_key
            ),
        ),
    }))
}

fn failed(step: ReissueStep, why: impl Into<String>) -> Ending {
    Ending::Failed(step, why.into())
}

fn retry(error: String, after: Duration) -> Ending {
    Ending::Retry {
        step: ReissueStep::Email,
        error,
        at: Utc::now() + chrono::Duration::from_std(after).unwrap_or_default(),
    }
}

fn log(item: &ClaimedItem, ending: &Ending) {
    let key = &item.license_key;
    match ending {
        Ending::Done => tracing::debug!(license_key = %key, "re-issued"),
        Ending::Skipped(why) => tracing::info!(license_key = %key, why = %why, "re-issue skipped"),
        Ending::Failed(step, why) => {
            tracing::warn!(license_key = %key, step = %step, error = %LogSafe(why), "re-issue failed")
        }
        Ending::Retry { error, .. } => {
            tracing::warn!(license_key = %key, error = %LogSafe(error), "re-issue will retry")
        }
    }
}
