//! Mailing new problems to the operator: one email for what a pass found new (a digest when it
//! is several), through the same mailer as license emails. Each problem is mailed once; while it
//! stays open it is listed by `dtops status` and `dtops alerts`, never mailed again.

use crate::api::{Alert, AlertKind};
use crate::db::alerts;
use crate::email::{Email, MailError};
use crate::state::AppState;
use crate::text::LogSafe;

/// The longest subject line (RFC 5322 recommends 78 characters per header line).
pub(crate) const MAX_SUBJECT_CHARS: usize = 78;

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
        [one] => format!("DataTools alert: {}", headline(one)),
        many => format!("DataTools alerts: {} problems need you", many.len()),
    };
    // RFC 5322's line length for a header, so no mail program folds or cuts the subject.
    let subject = shorten(&subject, MAX_SUBJECT_CHARS);
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
        reply_to: None,
        subject,
        text_body: body,
        attachment: None,
        tag: Some("alert".into()),
    }
}

/// What a subject says about one problem, in a few words: its kind and what it names (the
/// product, the event, the worker, the feed); the body says the rest.
pub(crate) fn headline(alert: &Alert) -> String {
    let named = alert.key.split_once(':').map_or("", |(_, named)| named);
    match alert.kind {
        AlertKind::UnknownProduct => format!("unknown Gumroad product {named}"),
        AlertKind::EmailBounced => format!("license email bounced (event {named})"),
        AlertKind::EventRetrying => format!("Gumroad delivery {named} keeps retrying"),
        AlertKind::EventFailed => format!("Gumroad delivery {named} failed"),
        AlertKind::QueueStalled => "no worker is processing sales".into(),
        AlertKind::WorkerStopped => format!("Gumroad worker {named} stopped"),
        AlertKind::BackupFailed => "the last backup failed".into(),
        AlertKind::BackupMissing => "no recent verified backup".into(),
        AlertKind::CertExpiring => "the certificate expires soon".into(),
        AlertKind::CertRenewal => "certificate renewals would fail".into(),
        AlertKind::HostReportStale => "the hourly status job is not reporting".into(),
        AlertKind::PortalFlooded => "the portal is being flooded".into(),
        AlertKind::PortalMailBudget => "the portal's daily mail budget is spent".into(),
        AlertKind::FeedTooLong => format!("revocation feed {named} too long to serve"),
        AlertKind::FeedNearLimit => format!("revocation feed {named} nears its size limit"),
        AlertKind::FeedRowSkipped => "a revoked license is missing from the feed".into(),
        AlertKind::ArchiveStalled => "WAL archiving has stalled".into(),
        AlertKind::ArchiveOffsiteBehind => "the off-site archive is falling behind".into(),
        AlertKind::EscrowStale => "the key escrow off the box is missing or stale".into(),
    }
}

/// `text` cut to `max` characters at most, the cut marked with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_fits_in_78_characters() {
        let now = chrono::Utc::now();
        for kind in AlertKind::ALL {
            let alert = Alert {
                id: 1,
                key: format!("{}:{}", kind.as_str(), "X".repeat(200)),
                kind: *kind,
                summary: "s".repeat(300),
                action: "a".into(),
                first_seen_at: now,
                last_seen_at: now,
                notified_at: None,
                notify_error: None,
                acknowledged_at: None,
            };
            let email = compose(
                std::slice::from_ref(&alert),
                0,
                "f@example.com",
                "t@example.com",
            );
            assert!(
                email.subject.chars().count() <= MAX_SUBJECT_CHARS,
                "{}",
                email.subject
            );
            assert!(
                email.text_body.contains(&alert.summary),
                "the body keeps the detail"
            );
        }
        let short = Alert {
            key: "unknown_product:NEW-PRODUCT==".into(),
            kind: AlertKind::UnknownProduct,
            ..alert_like()
        };
        assert_eq!(
            compose(&[short], 0, "f@example.com", "t@example.com").subject,
            "DataTools alert: unknown Gumroad product NEW-PRODUCT=="
        );
    }

    fn alert_like() -> Alert {
        let now = chrono::Utc::now();
        Alert {
            id: 2,
            key: String::new(),
            kind: AlertKind::QueueStalled,
            summary: String::new(),
            action: String::new(),
            first_seen_at: now,
            last_seen_at: now,
            notified_at: None,
            notify_error: None,
            acknowledged_at: None,
        }
    }
}
