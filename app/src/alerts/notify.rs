//! Mailing new problems to the operator: one email for what a pass found new (a digest when it
//! is several), through the same mailer as license emails. Each problem is mailed once; while it
//! stays open it is listed by `dtops status` and `dtops alerts`, never mailed again.

use crate::api::Alert;
use crate::db::alerts;
use crate::email::{Email, MailError};
use crate::state::AppState;
use crate::text::LogSafe;

/// A claimed problem is not claimed again for this long: the send in progress, or after a
/// failed send the pause before the next try.
const HOLD_SECONDS: i64 = 600;

/// Mails the open problems nobody was told about. Nothing when no alert address is set.
pub(crate) async fn mail_new(state: &AppState) -> sqlx::Result<()> {
    let Some(to) = state.config.alerts.email.as_deref() else {
        return Ok(());
    };
    let claimed = alerts::claim_unnotified(&state.db, HOLD_SECONDS).await?;
    if claimed.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = claimed.iter().map(|a| a.id).collect();
    let still_open = alerts::open(&state.db)
        .await?
        .into_iter()
        .filter(|a| a.acknowledged_at.is_none() && a.notified_at.is_some())
        .count();
    let email = compose(&claimed, still_open, &state.config.email.from, to);
    let result = match &state.mailer {
        Some(mailer) => mailer.send(&email).await,
        None => Err(MailError::Configuration(
            "no mail provider is configured (POSTMARK_TOKEN_FILE, or DATATOOLS_OUTBOX_DIR)".into(),
        )),
    };
    match result {
        Ok(sent) => {
            alerts::mark_notified(&state.db, &ids).await?;
            tracing::info!(problems = ids.len(), message_id = %sent.message_id, "alert emailed");
        }
        Err(e) => {
            let error = format!("{}: {e}", e.class());
            alerts::mark_notify_failed(&state.db, &ids, &error).await?;
            tracing::warn!(
                problems = ids.len(),
                error = %LogSafe(&error),
                retry_in_seconds = HOLD_SECONDS,
                "alert email not sent"
            );
        }
    }
    Ok(())
}

/// The email: plain text, each problem with what is wrong and the command to run.
pub(crate) fn compose(new: &[Alert], still_open: usize, from: &str, to: &str) -> Email {
    let subject = match new {
        [one] => format!("DataTools alert: {}", shorten(&one.summary, 110)),
        many => format!("DataTools alerts: {} problems need you", many.len()),
    };
    let mut body = if new.len() == 1 {
        "The DataTools license server found a problem that needs you.\n\n".to_string()
    } else {
        format!(
            "The DataTools license server found {} problems that need you.\n\n",
            new.len()
        )
    };
    for (n, alert) in new.iter().enumerate() {
        body.push_str(&format!(
            "{}. {}\n   What to do: {}\n   (alert {}, first seen {})\n\n",
            n + 1,
            alert.summary,
            alert.action,
            alert.id,
            alert.first_seen_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if still_open > 0 {
        body.push_str(&format!(
            "Also still open, mailed before: {still_open} (`dtops alerts` lists them).\n\n"
        ));
    }
    body.push_str(
        "Each problem is mailed once. While it lasts, `sudo dtops status` lists it (and exits \
         1) and `dtops alerts` shows it; it closes by itself once fixed. To leave one as it is \
         without hearing of it in `dtops status` again: `dtops alerts --ack ID`.\n",
    );
    Email {
        from: from.to_string(),
        to: to.to_string(),
        subject,
        text_body: body,
        attachment: None,
        tag: Some("alert".into()),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}
