//! WAL archiving as Postgres sees it (`[archive]` on the box): segments waiting for the archive
//! command more than five minutes mean the recovery point is falling behind (pgBackRest cannot
//! reach a repository, or fails), as a problem and as gauges. The off-site archive's lag and
//! the key escrow are the host report's: dtops reads pgBackRest's repositories on the host.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::prom_text::{Exposition, Type};
use crate::api::{AlertKind, Problem};
use crate::db::archiver::{self, Archiver};
use crate::state::AppState;

/// Segments close at least every `archive_timeout` (at most 60 s) and pgBackRest pushes one in
/// about a second: one waiting five minutes is no hiccup.
pub(crate) const ARCHIVE_STALL: Duration = Duration::from_secs(300);

pub(crate) async fn current(state: &AppState, now: DateTime<Utc>) -> sqlx::Result<Vec<Problem>> {
    Ok(match archiver::state(&state.db).await? {
        Some(archiver) => problems(&archiver, now),
        None => Vec::new(),
    })
}

fn problems(archiver: &Archiver, now: DateTime<Utc>) -> Vec<Problem> {
    let Some(oldest) = archiver.oldest_waiting_at else {
        return Vec::new();
    };
    let waited = now - oldest;
    if waited.to_std().unwrap_or_default() <= ARCHIVE_STALL {
        return Vec::new();
    }
    let failure = match (&archiver.last_failed_wal, archiver.last_failed_at) {
        (Some(wal), Some(at)) => format!(
            "; the archive command last failed at {} (segment {wal})",
            at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        _ => String::new(),
    };
    vec![Problem {
        key: AlertKind::ArchiveStalled.as_str().into(),
        kind: AlertKind::ArchiveStalled,
        summary: format!(
            "{} WAL segment{} waited {} minutes to be archived (the oldest was completed at \
             {}){failure}: the recovery point is that old and getting older. WAL piles up on \
             the box until [archive] queue_max_mib, then pgBackRest drops it (a gap in the \
             archive)",
            archiver.waiting,
            if archiver.waiting == 1 {
                " has"
            } else {
                "s have"
            },
            waited.num_minutes(),
            oldest.format("%Y-%m-%d %H:%M:%S UTC"),
        ),
        action: "`sudo dtops status` shows which repository is behind; `sudo dtops logs \
                 postgres` and the container's /var/log/pgbackrest say \
                 why (ADMIN.md \"When the box is gone\")"
            .into(),
    }]
}

/// The gauges: how long the oldest segment has waited (0: archiving keeps up), how many wait,
/// and the archive command's failures since the server started.
pub(crate) async fn metrics(
    state: &AppState,
    now: DateTime<Utc>,
    out: &mut Exposition,
) -> sqlx::Result<()> {
    let Some(archiver) = archiver::state(&state.db).await? else {
        return Ok(());
    };
    let waited = archiver.oldest_waiting_at.map_or(0.0, |at| {
        (now - at).num_milliseconds().max(0) as f64 / 1000.0
    });
    out.family(
        "datatools_wal_archive_waiting_seconds",
        Type::Gauge,
        "How long the oldest completed WAL segment has waited to be archived (0: none waits): \
         how far the recovery point is behind.",
    )
    .sample("datatools_wal_archive_waiting_seconds", &[], waited)
    .family(
        "datatools_wal_archive_waiting_segments",
        Type::Gauge,
        "Completed WAL segments waiting to be archived.",
    )
    .sample(
        "datatools_wal_archive_waiting_segments",
        &[],
        archiver.waiting as f64,
    )
    .family(
        "datatools_wal_archive_failures_total",
        Type::Counter,
        "Failed runs of the archive command since Postgres started (it retries).",
    )
    .sample(
        "datatools_wal_archive_failures_total",
        &[],
        archiver.failed_count as f64,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(minutes: i64, now: DateTime<Utc>) -> Archiver {
        Archiver {
            waiting: 3,
            oldest_waiting_at: Some(now - chrono::Duration::minutes(minutes)),
            last_archived_wal: Some("000000010000000000000004".into()),
            last_archived_at: Some(now - chrono::Duration::minutes(minutes + 1)),
            failed_count: 7,
            last_failed_wal: Some("000000010000000000000005".into()),
            last_failed_at: Some(now),
        }
    }

    #[test]
    fn wal_waiting_more_than_five_minutes_is_a_problem() {
        let now = Utc::now();
        assert!(problems(&waiting(4, now), now).is_empty());
        let stalled = problems(&waiting(6, now), now);
        assert_eq!(stalled.len(), 1);
        assert_eq!(stalled[0].kind, AlertKind::ArchiveStalled);
        let summary = &stalled[0].summary;
        assert!(
            summary.contains("3 WAL segments have waited 6 minutes"),
            "{summary}"
        );
        assert!(summary.contains("000000010000000000000005"), "{summary}");
        let idle = Archiver {
            waiting: 0,
            oldest_waiting_at: None,
            ..waiting(0, now)
        };
        assert!(problems(&idle, now).is_empty());
    }
}
