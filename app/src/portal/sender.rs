//! Sending one queued sign-in link: the look-up the request page must not wait for (does the
//! address have licenses?), then a fresh token and code, stored hashed, and the email.

use std::time::Duration;

use chrono::Utc;

use super::licenses;
use super::limits::LINK_LIFETIME;
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

async fn send(state: &AppState, job: &Job) -> sqlx::Result<()> {
    if licenses::for_address(state, &job.email_key)
        .await?
        .is_empty()
    {
        tracing::info!(
            request = job.id,
            "portal: no licenses for the address; no link sent"
        );
        return links::mark(&state.db, job.id, "no_licenses", None, None).await;
    }
    let (Some(mailer), Some(public_url)) = (&state.mailer, &state.config.portal.public_url) else {
        tracing::error!(
            request = job.id,
            "portal: no mail provider configured; link not sent"
        );
        return links::mark(&state.db, job.id, "failed", Some("no mail provider"), None).await;
    };
    let token = Token::generate();
    let code = Code::generate();
    let expires_at = Utc::now() + LINK_LIFETIME;
    links::set_secrets(&state.db, job.id, &token.hash(), &code.hash(), expires_at).await?;
    let from = &state.config.email.from;
    let email = match sign_in_email(from, public_url, &job.email, &token, &code, expires_at) {
        Ok(email) => email,
        Err(e) => {
            let error = format!("the sign-in email template failed: {e:#}");
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
