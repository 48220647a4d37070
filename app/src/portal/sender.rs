//! Sending one queued sign-in link: the look-up the request page must not wait for (does the
//! address have licenses?), then, under the mailing rules, a fresh token and code, stored
//! hashed, and the email to the address our records hold (never the one typed: a look-alike
//! typed address must not receive a buyer's link).
//!
//! The mailing rules, decided under a lock per address and then the day's budget, so several
//! senders (and several server processes) never mail past them:
//! - mails to one address are spaced (`limits::mail_spacing`) while its newest link is live:
//!   the buyer already holds a working link, so a burst of requests is one mail, not five;
//! - the day's budget (`DATATOOLS_PORTAL_LINKS_PER_DAY`) counts links mailed, so requests for
//!   addresses without licenses cost nothing.

use std::time::Duration;

use chrono::Utc;

use super::licenses::{self, Entry, Role};
use super::limits::{mail_spacing, LINK_LIFETIME};
use super::secrets::{Code, Token};
use super::sign_in_email::sign_in_email;
use crate::db::portal::links::{self, Job};
use crate::email::MailError;
use crate::state::AppState;

/// Retryable mail errors get this many attempts, this far apart (the link lives 20 minutes).
const MAX_ATTEMPTS: i32 = 3;
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Takes one due request and finishes it; `false` when there was none.
pub(crate) async fn send_next(state: &AppState) -> sqlx::Result<bool> {
    let Some(job) = links::claim_next(&state.db).await? else {
        return Ok(false);
    };
    send(state, &job).await?;
    Ok(true)
}

/// Where a link for these licenses goes: the newest owned license's stored address, else the
/// giver's address as the gift sale recorded it.
fn recipient(entries: &[Entry]) -> Option<String> {
    entries
        .iter()
        .find(|e| e.role == Role::Owner)
        .map(|e| e.record.email.clone())
        .or_else(|| entries.iter().find_map(|e| e.purchase.gifter_email.clone()))
}

/// What the mailing rules decided for a request of an address with licenses.
enum Mailing {
    /// Secrets made and stored; mail this.
    Go { token: Token, code: Code },
    /// The address holds a live link mailed moments ago.
    Held,
    /// The day's budget is spent.
    OverBudget,
}

async fn send(state: &AppState, job: &Job) -> sqlx::Result<()> {
    let entries = licenses::for_address(state, &job.email_key).await?;
    let Some(to) = recipient(&entries) else {
        tracing::info!(
            request = job.id,
            "portal: no licenses for the address; no link sent"
        );
        return links::mark(&state.db, job.id, "no_licenses", None, None).await;
    };
    let (Some(mailer), Some(public_url)) = (&state.mailer, &state.config.portal.public_url) else {
        tracing::error!(
            request = job.id,
            "portal: no mail provider configured; link not sent"
        );
        return links::mark(&state.db, job.id, "failed", Some("no mail provider"), None).await;
    };
    let expires_at = Utc::now() + LINK_LIFETIME;
    let (token, code) = match decide_and_reserve(state, job, &to, expires_at).await? {
        Mailing::Go { token, code } => (token, code),
        Mailing::Held => {
            tracing::info!(
                request = job.id,
                "portal: a link mailed moments ago is still live; no second mail"
            );
            return links::mark(
                &state.db,
                job.id,
                "held",
                Some("this address holds a live link mailed moments ago"),
                None,
            )
            .await;
        }
        Mailing::OverBudget => {
            tracing::warn!(
                request = job.id,
                "portal: the day's sign-in mail budget is spent"
            );
            links::record_refusal(&state.db, "budget").await?;
            return links::mark(
                &state.db,
                job.id,
                "failed",
                Some("the day's sign-in mail budget (DATATOOLS_PORTAL_LINKS_PER_DAY) is spent"),
                None,
            )
            .await;
        }
    };
    let email = match sign_in_email(&state.config, public_url, &to, &token, &code, expires_at) {
        Ok(email) => email,
        Err(e) => {
            let error = format!("configuration: {e}");
            tracing::error!(request = job.id, %error, "portal: link not sent");
            return links::mark(&state.db, job.id, "failed", Some(&error), None).await;
        }
    };
    match mailer.send(&email).await {
        Ok(sent) => {
            tracing::info!(request = job.id, message_id = %sent.message_id, "portal: sign-in link sent");
            links::mark_sent(&state.db, job.id, &sent.message_id).await
        }
        Err(e @ MailError::Retryable(_)) if job.attempts < MAX_ATTEMPTS => {
            tracing::warn!(request = job.id, error = %e, "portal: sign-in link not sent; will retry");
            let retry_at = Utc::now() + RETRY_AFTER;
            let error = format!("{}: {e}", e.class());
            links::mark(&state.db, job.id, "queued", Some(&error), Some(retry_at)).await
        }
        Err(e) => {
            tracing::warn!(request = job.id, class = e.class(), error = %e, "portal: sign-in link not sent");
            let error = format!("{}: {e}", e.class());
            links::mark(&state.db, job.id, "failed", Some(&error), None).await
        }
    }
}

/// The mailing rules, and the reservation of the link when they allow it, in one transaction
/// under the address's and the budget's locks.
async fn decide_and_reserve(
    state: &AppState,
    job: &Job,
    to: &str,
    expires_at: chrono::DateTime<Utc>,
) -> sqlx::Result<Mailing> {
    let mut tx = state.db.begin().await?;
    links::lock_mailing(&mut tx, &job.email_key).await?;
    let mail = links::address_mail(&mut *tx, &job.email_key).await?;
    if let Some(since) = mail.live_since {
        let spacing = chrono::Duration::from_std(mail_spacing(mail.mailed_day)).unwrap_or_default();
        if mail.now - since < spacing {
            return Ok(Mailing::Held);
        }
    }
    if links::mailed_day(&mut *tx).await? >= i64::from(state.config.portal.links_per_day) {
        return Ok(Mailing::OverBudget);
    }
    let token = Token::generate();
    let code = Code::generate();
    links::reserve(
        &mut *tx,
        job.id,
        &token.hash(),
        &code.hash(),
        expires_at,
        to,
    )
    .await?;
    tx.commit().await?;
    Ok(Mailing::Go { token, code })
}
