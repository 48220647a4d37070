//! Emailing a license: render, send through the configured mailer, and record the attempt on
//! the Gumroad event it belongs to (when there is one). Used by the Gumroad worker, the admin
//! API's resend, and key-rotation re-issues.

use crate::api::{EmailStatus, LicenseRecord};
use crate::db::gumroad_events::{self as events, EmailResult};
use crate::email::{license_email, Letterhead, LicenseEmail, LicenseLetter, MailError, Sent};
use crate::state::AppState;
use crate::text::LogSafe;

/// Sends `license` to `to` and records the attempt on `event_id` (when given), with `purpose`
/// (why it is sent, as the event's history says it: "purchase", "resend (dtops resend)", ...). With no mail
/// provider configured this is a configuration error. The outer error is the database's (the
/// attempt could not be recorded); the inner one is the mail's.
///
/// Delivery is at least once: Postmark has no idempotency key, so when the process dies during
/// the provider's call nobody knows whether the email left. The retry sends it again and the
/// event is marked `email_possibly_duplicated` (ADMIN.md says what the operator sees).
pub(crate) async fn deliver(
    state: &AppState,
    event_id: Option<i64>,
    license: &LicenseRecord,
    kind: LicenseEmail,
    purpose: &str,
    product: &str,
    to: &str,
) -> sqlx::Result<Result<Sent, MailError>> {
    let catalogue = &state.config.products;
    let edition = catalogue.tier_label(&license.tier);
    let links = catalogue.links(&license.tier, None);
    let letter = LicenseLetter {
        kind,
        license,
        product,
        edition: &edition,
        download_url: links.download_url.as_deref(),
        to,
    };
    let result = match (
        &state.mailer,
        license_email(&Letterhead::of(&state.config), &letter),
    ) {
        // An email text on the box that does not render: ours to fix, so the email waits
        // (retried like a bad token) and the event names the file and line.
        (_, Err(e)) => Err(MailError::Configuration(e.to_string())),
        (None, _) => Err(MailError::Configuration(
            "no mail provider is configured (set POSTMARK_TOKEN_FILE, or DATATOOLS_OUTBOX_DIR)"
                .into(),
        )),
        (Some(mailer), Ok(email)) => {
            // At least once: marked before the call, cleared when its result is recorded. A
            // mark left behind means the process died mid-call, and the retry says so.
            if let Some(id) = event_id {
                events::mark_sending(&state.db, id).await?;
            }
            mailer.send(&email).await
        }
    };
    if let Some(id) = event_id {
        let (status, message_id, error) = match &result {
            Ok(sent) => (EmailStatus::Sent, Some(sent.message_id.clone()), None),
            Err(e @ MailError::Permanent(_)) => (
                EmailStatus::Failed,
                None,
                Some(format!("{}: {e}", e.class())),
            ),
            Err(e) => (
                EmailStatus::Retrying,
                None,
                Some(format!("{}: {e}", e.class())),
            ),
        };
        events::set_email(
            &state.db,
            id,
            &EmailResult {
                status,
                to: Some(to),
                message_id: message_id.as_deref(),
                error: error.as_deref(),
                purpose: Some(purpose),
            },
        )
        .await?;
    }
    match &result {
        Ok(sent) => {
            tracing::info!(license_key = %license.license_key, message_id = %sent.message_id, "license emailed")
        }
        Err(e) => {
            tracing::warn!(license_key = %license.license_key, class = e.class(), error = %LogSafe(&e.to_string()), "license email not sent")
        }
    }
    Ok(result)
}
