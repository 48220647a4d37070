//! The problems that exist right now, each as one [`Problem`] with a stable key: events in
//! trouble (from `gumroad_events`), workers that stopped beating, and what dtops reported about
//! the host. Nothing here writes; the sentinel records what this finds.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::api::{AlertKind, Problem};
use crate::db::event_problems::{self, Troubled};
use crate::db::{heartbeats, host_reports};
use crate::gumroad::UNKNOWN_PRODUCT;
use crate::state::AppState;
use crate::text::clean_name;

/// A worker whose heartbeat (every 15 s) is older than this has stopped or is stuck: longer than
/// the slowest event (a 60 s lease) plus a missed beat or two.
pub(crate) const WORKER_SILENT: Duration = Duration::from_secs(120);
/// A due delivery no worker took for this long: nothing is processing. Workers take a due
/// event within a second, so five minutes is no hiccup.
pub(crate) const QUEUE_STALL: Duration = Duration::from_secs(300);
/// dtops reports hourly (and on every `dtops status`): three missed reports mean its cron file
/// is not running, and the backups and the certificate are unwatched.
pub(crate) const HOST_REPORT_STALE: Duration = Duration::from_secs(3 * 3600);
/// Most event ids named in one sentence.
const MAX_IDS: usize = 10;

/// Every problem that exists at `now`.
pub(crate) async fn current(state: &AppState, now: DateTime<Utc>) -> sqlx::Result<Vec<Problem>> {
    let db = &state.db;
    let mut out = Vec::new();
    for unknown in event_problems::unknown_products(db, UNKNOWN_PRODUCT).await? {
        out.push(unknown_product(&unknown));
    }
    for event in event_problems::bounced(db).await? {
        out.push(bounced(&event));
    }
    let retry_after = secs(state.config.alerts.retry_after);
    for event in event_problems::retrying_longer_than(db, retry_after).await? {
        out.push(retrying(&event, now));
    }
    for event in event_problems::failed_otherwise(db, UNKNOWN_PRODUCT).await? {
        out.push(failed(&event));
    }
    if let (waiting @ 1.., Some(oldest)) = event_problems::stalled(db, secs(QUEUE_STALL)).await? {
        out.push(Problem {
            key: AlertKind::QueueStalled.as_str().into(),
            kind: AlertKind::QueueStalled,
            summary: format!(
                "{waiting} Gumroad deliver{} waited more than {} minutes with no worker taking \
                 {} (the oldest is due since {}): buyers are waiting for their licenses",
                if waiting == 1 { "y has" } else { "ies have" },
                QUEUE_STALL.as_secs() / 60,
                if waiting == 1 { "it" } else { "them" },
                when(oldest)
            ),
            action: "`sudo dtops status` names the api slot that serves; restart it (`docker \
                     compose restart api-<slot>` in the app directory) and read its log \
                     (`sudo dtops logs api`)"
                .into(),
        });
    }
    for (worker, beat_at) in heartbeats::all(db).await? {
        if now - beat_at > chrono::Duration::from_std(WORKER_SILENT).unwrap_or_default() {
            out.push(Problem {
                key: format!("{}:{worker}", AlertKind::WorkerStopped),
                kind: AlertKind::WorkerStopped,
                summary: format!(
                    "Gumroad worker {worker} has not run since {} (stopped or stuck): new \
                     sales may wait",
                    when(beat_at)
                ),
                action: "restart the api slot that serves (`sudo dtops status` names it; \
                         `docker compose restart api-<slot>` in the app directory); its log \
                         (`sudo dtops logs api`) says why it stopped"
                    .into(),
            });
        }
    }
    if let Some((received_at, report)) = host_reports::latest(db).await? {
        if let Some(report) = report {
            out.extend(report.problems(now));
        }
        if now - received_at > chrono::Duration::from_std(HOST_REPORT_STALE).unwrap_or_default() {
            out.push(Problem {
                key: AlertKind::HostReportStale.as_str().into(),
                kind: AlertKind::HostReportStale,
                summary: format!(
                    "dtops has not reported the host's backups and certificate since {}: its \
                     hourly cron job (`dtops status --quiet`) is not running, so they are \
                     unwatched",
                    when(received_at)
                ),
                action: "`sudo dtops status` (it reports too); `sudo dtops provision` installs \
                         the cron file again"
                    .into(),
            });
        }
    }
    out.extend(super::detect_public::current(state).await?);
    out.extend(super::archive::current(state, now).await?);
    Ok(out)
}

fn unknown_product(unknown: &event_problems::UnknownProduct) -> Problem {
    let ids = &unknown.event_ids;
    let name = unknown
        .product_name
        .as_deref()
        .map(|n| format!(" ({})", one_line(n, 80)))
        .unwrap_or_default();
    Problem {
        key: format!("{}:{}", AlertKind::UnknownProduct, unknown.product_id),
        kind: AlertKind::UnknownProduct,
        summary: format!(
            "{} sale{} of Gumroad product {:?}{name}, which products.toml does not have: no \
             license was minted and the buyer{} got nothing",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            one_line(&unknown.product_id, 80),
            if ids.len() == 1 { "" } else { "s" },
        ),
        action: format!(
            "add the product to products.toml (ADMIN.md \"Adding a product to products.toml\"), \
             deploy it with `sudo dtops upgrade`, then {} (look first: `dtops event {}`)",
            commands("dtops replay", ids),
            ids[0]
        ),
    }
}

fn bounced(event: &Troubled) -> Problem {
    Problem {
        key: format!("{}:{}", AlertKind::EmailBounced, event.id),
        kind: AlertKind::EmailBounced,
        summary: format!(
            "the license email for {} to {} was not delivered: {}",
            sale(event),
            one_line(event.email_to.as_deref().unwrap_or("(no address)"), 120),
            one_line(
                event
                    .email_error
                    .as_deref()
                    .unwrap_or("(no error recorded)"),
                300
            )
        ),
        action: format!(
            "`dtops event {}` shows it; ask the buyer for an address that works, then `dtops \
             resend {} --to ADDRESS`",
            event.id,
            event.license_key.as_deref().unwrap_or("LICENSE_KEY")
        ),
    }
}

fn retrying(event: &Troubled, now: DateTime<Utc>) -> Problem {
    let minutes = event
        .retrying_since
        .map_or(0, |since| (now - since).num_minutes());
    Problem {
        key: format!("{}:{}", AlertKind::EventRetrying, event.id),
        kind: AlertKind::EventRetrying,
        summary: format!(
            "event {} ({}) has been retrying for {minutes} minutes ({} attempts); last error: {}",
            event.id,
            sale(event),
            event.attempts,
            one_line(event.last_error.as_deref().unwrap_or("(none)"), 300)
        ),
        action: format!(
            "`dtops event {}` shows it; once the cause is fixed (the error says), `dtops replay \
             {}` finishes it at once",
            event.id, event.id
        ),
    }
}

fn failed(event: &Troubled) -> Problem {
    Problem {
        key: format!("{}:{}", AlertKind::EventFailed, event.id),
        kind: AlertKind::EventFailed,
        summary: format!(
            "event {} ({}) failed: {}",
            event.id,
            sale(event),
            one_line(
                event.last_error.as_deref().unwrap_or("(no error recorded)"),
                300
            )
        ),
        action: format!(
            "`dtops event {}` shows it; once the cause is fixed, `dtops replay {}`",
            event.id, event.id
        ),
    }
}

/// "sale X (product), a refund" and the like.
fn sale(event: &Troubled) -> String {
    let what = match event.resource_name.as_str() {
        "sale" => String::new(),
        other => format!("{other} of "),
    };
    let product = event
        .product_name
        .as_deref()
        .map(|n| format!(", {}", one_line(n, 80)))
        .unwrap_or_default();
    match &event.sale_id {
        Some(id) => format!("{what}sale {}{product}", one_line(id, 80)),
        None => format!("{what}a delivery without a sale id{product}"),
    }
}

/// `dtops replay 1`, `dtops replay 2`, ... (at most MAX_IDS, then "and N more").
fn commands(command: &str, ids: &[i64]) -> String {
    let mut text = ids
        .iter()
        .take(MAX_IDS)
        .map(|id| format!("`{command} {id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > MAX_IDS {
        text.push_str(&format!(" and {} more", ids.len() - MAX_IDS));
    }
    text
}

/// Text from outside (a product name, an error quoting Postmark) as one line of at most `max`
/// characters: an email or a terminal shows it as it is, nothing more.
fn one_line(text: &str, max: usize) -> String {
    let clean = clean_name(text);
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max).collect();
    cut.push('…');
    cut
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_or_odd_text_becomes_one_short_line() {
        assert_eq!(one_line("a\nb\u{202E}c", 10), "a bc");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(
            commands("dtops replay", &(1..=12).collect::<Vec<_>>()),
            "`dtops replay 1`, `dtops replay 2`, `dtops replay 3`, `dtops replay 4`, \
             `dtops replay 5`, `dtops replay 6`, `dtops replay 7`, `dtops replay 8`, \
             `dtops replay 9`, `dtops replay 10` and 2 more"
        );
    }
}
