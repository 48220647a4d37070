//! When to try again: backoff (`crate::backoff`) for retryable email failures, a slow steady pace
//! for configuration errors, and how an email's result ends the attempt.

use std::time::Duration;

use super::outcome::Outcome;
use crate::api::LicenseRecord;
use crate::backoff::{backoff, jitter};
use crate::email::{MailError, Sent};

/// Retryable email failures are tried this many times (about an hour with the backoff) before
/// the event is marked failed for a human.
pub(crate) const MAX_EMAIL_ATTEMPTS: i32 = 8;
/// A configuration error (bad token, unconfirmed sender) keeps the work queued and retries at
/// this pace until an operator fixes it.
const CONFIG_RETRY: Duration = Duration::from_secs(600);

/// Turns an email result into how the event ends.
pub(crate) fn email_outcome(
    outcome: String,
    license: &LicenseRecord,
    attempts: i32,
    result: Result<Sent, MailError>,
) -> Outcome {
    let key = &license.license_key;
    match result {
        Ok(sent) => Outcome::Done(format!("{outcome}; emailed ({})", sent.message_id)),
        Err(MailError::Retryable(e)) if attempts < MAX_EMAIL_ATTEMPTS => Outcome::Retry {
            outcome,
            error: format!("email (retryable, attempt {attempts}): {e}"),
            after: backoff(attempts),
        },
        Err(MailError::Retryable(e)) => Outcome::Failed(format!(
            "{outcome}; email failed {attempts} times, last: {e}; the license is kept: \
             `dtops resend {key}`"
        )),
        Err(MailError::Configuration(e)) => {
            tracing::error!(error = %e, "email configuration error: license emails are queued until it is fixed");
            Outcome::Retry {
                outcome,
                error: format!("email (configuration; queued until fixed): {e}"),
                after: jitter(CONFIG_RETRY),
            }
        }
        Err(MailError::Permanent(e)) => Outcome::Failed(format!(
            "{outcome}; email not delivered (permanent): {e}; the license is kept: \
             `dtops resend {key} --to ADDRESS`"
        )),
    }
}
