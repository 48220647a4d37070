//! When to try again: exponential backoff for retryable email failures, a slow steady pace for
//! configuration errors, and how an email's result ends the attempt.

use std::time::Duration;

use super::outcome::Outcome;
use crate::api::LicenseRecord;
use crate::email::{MailError, Sent};

/// Retryable email failures are tried this many times (about an hour with the backoff) before
/// the event is marked failed for a human.
pub(crate) const MAX_EMAIL_ATTEMPTS: i32 = 8;
const BACKOFF_BASE: Duration = Duration::from_secs(30);
const BACKOFF_MAX: Duration = Duration::from_secs(3600);
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

/// Exponential backoff from 30 s, doubling per attempt, at most an hour, with ±20% jitter so
/// queued events do not all retry at the same instant.
pub(crate) fn backoff(attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
    jitter(BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX))
}

fn jitter(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::getrandom(&mut byte);
    // 0.8 .. 1.2
    let factor = 0.8 + 0.4 * f64::from(byte[0]) / 255.0;
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let secs = |a| backoff(a).as_secs_f64();
        assert!((24.0..=36.0).contains(&secs(1)), "{}", secs(1));
        assert!((48.0..=72.0).contains(&secs(2)));
        assert!(secs(30) <= 3600.0 * 1.2);
        assert!(secs(30) >= 3600.0 * 0.8);
    }
}
