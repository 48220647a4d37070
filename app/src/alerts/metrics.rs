//! `GET /internal/metrics`: the numbers a monitor watches, read from the database at scrape
//! time (so every instance answers the same) in Prometheus' text format; the revocation feed's
//! numbers come from this instance's build of it.

use chrono::Utc;

use super::detect::WORKER_SILENT;
use super::prom_text::{Exposition, Type};
use crate::api::EventStatus;
use crate::db::{self, heartbeats, host_reports};
use crate::state::AppState;

pub(crate) async fn render(state: &AppState) -> sqlx::Result<String> {
    let db = &state.db;
    let now = Utc::now();
    let mut out = Exposition::new();

    let by_status = db::metrics::events_by_status(db).await?;
    out.family(
        "datatools_events",
        Type::Gauge,
        "Gumroad deliveries stored, by status (failed and retrying ones need a look).",
    );
    for status in EventStatus::ALL {
        let count = by_status
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        out.sample(
            "datatools_events",
            &[("status", status.as_str())],
            count as f64,
        );
    }

    let (minted, revoked) = db::metrics::licenses(db).await?;
    out.family(
        "datatools_licenses_minted_total",
        Type::Counter,
        "Licenses minted, from every source.",
    )
    .sample("datatools_licenses_minted_total", &[], minted as f64)
    .family(
        "datatools_licenses_revoked",
        Type::Gauge,
        "Licenses revoked.",
    )
    .sample("datatools_licenses_revoked", &[], revoked as f64);

    // Gauges, not counters: a re-send clears an event's failure, so the number can go down.
    let (failed, retrying) = db::metrics::emails(db).await?;
    out.family(
        "datatools_emails_failed",
        Type::Gauge,
        "License emails refused for good (bounced) and not sent since.",
    )
    .sample("datatools_emails_failed", &[], failed as f64)
    .family(
        "datatools_emails_retrying",
        Type::Gauge,
        "License emails waiting for another attempt.",
    )
    .sample("datatools_emails_retrying", &[], retrying as f64);

    out.family(
        "datatools_queue_oldest_seconds",
        Type::Gauge,
        "How long the longest-waiting due Gumroad delivery has waited for a worker (0: none).",
    )
    .sample(
        "datatools_queue_oldest_seconds",
        &[],
        db::metrics::queue_oldest_seconds(db).await?,
    );

    let beats = heartbeats::all(db).await?;
    let alive = beats
        .iter()
        .filter(|(_, at)| (now - *at).to_std().unwrap_or_default() < WORKER_SILENT)
        .count();
    out.family(
        "datatools_workers_alive",
        Type::Gauge,
        "Gumroad workers (all instances) whose heartbeat is recent.",
    )
    .sample("datatools_workers_alive", &[], alive as f64);

    if let Some((received_at, report)) = host_reports::latest(db).await? {
        out.family(
            "datatools_host_report_age_seconds",
            Type::Gauge,
            "Seconds since dtops last reported the host's backups and certificate.",
        )
        .sample(
            "datatools_host_report_age_seconds",
            &[],
            seconds(now - received_at),
        );
        if let Some(at) = report.as_ref().and_then(|r| r.backup.last_good_at) {
            out.family(
                "datatools_last_backup_age_seconds",
                Type::Gauge,
                "Seconds since the last verified database backup.",
            )
            .sample("datatools_last_backup_age_seconds", &[], seconds(now - at));
        }
        if let Some(archive) = report.as_ref().and_then(|r| r.archive.as_ref()) {
            if archive.error.is_none() {
                out.family(
                    "datatools_wal_offsite_lag_seconds",
                    Type::Gauge,
                    "How long the off-site WAL archive has gone without a segment the box's \
                     archive has, as dtops last saw (0: it has them all).",
                )
                .sample(
                    "datatools_wal_offsite_lag_seconds",
                    &[],
                    archive.offsite_lag(now).map_or(0.0, seconds),
                );
            }
        }
        if let Some(at) = report
            .as_ref()
            .and_then(|r| r.certificate.as_ref())
            .and_then(|c| c.not_after)
        {
            out.family(
                "datatools_certificate_expiry_seconds",
                Type::Gauge,
                "Seconds until the certificate expires (negative: expired).",
            )
            .sample(
                "datatools_certificate_expiry_seconds",
                &[],
                seconds(at - now),
            );
        }
    }

    let (open, acknowledged) = db::metrics::alerts_open(db).await?;
    out.family(
        "datatools_alerts_open",
        Type::Gauge,
        "Open problems that need the operator (acknowledged ones not counted).",
    )
    .sample("datatools_alerts_open", &[], open as f64)
    .family(
        "datatools_alerts_acknowledged",
        Type::Gauge,
        "Open problems the operator acknowledged.",
    )
    .sample("datatools_alerts_acknowledged", &[], acknowledged as f64);

    super::archive::metrics(state, now, &mut out).await?;
    if state.config.portal.enabled {
        portal(state, &mut out).await?;
    }
    if let Some(feeds) = state.feed.get() {
        feed(&feeds.info, &mut out);
    }

    let checked = *state
        .alerts_checked_at
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(at) = checked {
        out.family(
            "datatools_alert_check_age_seconds",
            Type::Gauge,
            "Seconds since this instance's alert sentinel last looked.",
        )
        .sample("datatools_alert_check_age_seconds", &[], seconds(now - at));
    }
    Ok(out.finish())
}

/// The portal's limits at work: refusals per limit in the last hour, links mailed and the budget.
async fn portal(state: &AppState, out: &mut Exposition) -> sqlx::Result<()> {
    let refused = crate::db::portal::links::refusals_last_hour(&state.db).await?;
    out.family(
        "datatools_portal_refused_last_hour",
        Type::Gauge,
        "Sign-in requests the portal's limits refused in the last hour, by limit (client: a \
         network's; address: one address from one network; budget: the day's mails).",
    );
    for kind in ["client", "address", "budget"] {
        let n = refused
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n);
        out.sample(
            "datatools_portal_refused_last_hour",
            &[("limit", kind)],
            n as f64,
        );
    }
    out.family(
        "datatools_portal_links_mailed_24h",
        Type::Gauge,
        "Sign-in links mailed in the last 24 hours (the day's budget counts these).",
    )
    .sample(
        "datatools_portal_links_mailed_24h",
        &[],
        crate::db::portal::links::mailed_day(&state.db).await? as f64,
    )
    .family(
        "datatools_portal_links_per_day",
        Type::Gauge,
        "The day's sign-in mail budget (DATATOOLS_PORTAL_LINKS_PER_DAY).",
    )
    .sample(
        "datatools_portal_links_per_day",
        &[],
        f64::from(state.config.portal.links_per_day),
    );
    Ok(())
}

/// This instance's revocation feed build (the only numbers here not read from the database: the
/// feed lives in memory).
fn feed(built: &crate::license::BuiltFeeds, out: &mut Exposition) {
    out.family(
        "datatools_revocation_feed_bytes",
        Type::Gauge,
        "Length of each revocation feed format; verifiers refuse one over \
         datatools_revocation_feed_limit_bytes (then it is not served).",
    )
    .sample(
        "datatools_revocation_feed_bytes",
        &[("format", "DTREV1")],
        built.v1_len as f64,
    )
    .sample(
        "datatools_revocation_feed_bytes",
        &[("format", "DTREV2")],
        built.v2_len as f64,
    )
    .family(
        "datatools_revocation_feed_limit_bytes",
        Type::Gauge,
        "The longest feed verifiers accept.",
    )
    .sample(
        "datatools_revocation_feed_limit_bytes",
        &[],
        crate::license::MAX_FEED_LEN as f64,
    )
    .family(
        "datatools_revocation_feed_listed",
        Type::Gauge,
        "Revoked licenses the feed lists (expired ones leave it after 30 days).",
    )
    .sample("datatools_revocation_feed_listed", &[], built.listed as f64)
    .family(
        "datatools_revocation_feed_skipped",
        Type::Gauge,
        "Revoked license rows that could not be listed (a malformed row; see the log).",
    )
    .sample(
        "datatools_revocation_feed_skipped",
        &[],
        built.skipped.len() as f64,
    );
}

fn seconds(duration: chrono::Duration) -> f64 {
    duration.num_milliseconds() as f64 / 1000.0
}
