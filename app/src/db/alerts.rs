//! The `alerts` table: one row per occurrence of a problem (see migration 0008).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::api::{Alert, Problem};

const COLUMNS: &str = "id, key, kind, summary, action, first_seen_at, last_seen_at, notified_at, \
    notify_error, acknowledged_at";

/// Records `problem` as seen now: a new open row, or the open one touched (its sentences kept
/// current). True when it is new.
pub(crate) async fn seen(db: impl PgExecutor<'_>, problem: &Problem) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "insert into alerts (key, kind, summary, action) values ($1, $2, $3, $4) \
         on conflict (key) where resolved_at is null do update \
         set last_seen_at = now(), summary = excluded.summary, action = excluded.action \
         returning xmax = 0",
    )
    .bind(&problem.key)
    .bind(problem.kind)
    .bind(&problem.summary)
    .bind(&problem.action)
    .fetch_one(db)
    .await
}

/// Resolves the open problems last seen before `before`; returns them.
pub(crate) async fn resolve_unseen(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<Alert>> {
    sqlx::query_as(&format!(
        "update alerts set resolved_at = now() \
         where resolved_at is null and last_seen_at < $1 returning {COLUMNS}"
    ))
    .bind(before)
    .fetch_all(db)
    .await
}

/// Takes the open problems nobody was told about yet (unacknowledged, due), and holds them for
/// `hold_seconds` so that no other pass or instance mails them meanwhile. Oldest first.
pub(crate) async fn claim_unnotified(
    db: impl PgExecutor<'_>,
    hold_seconds: i64,
) -> sqlx::Result<Vec<Alert>> {
    let mut claimed: Vec<Alert> = sqlx::query_as(&format!(
        "update alerts set notify_after = now() + make_interval(secs => $1) \
         where id in (select id from alerts \
             where resolved_at is null and notified_at is null and acknowledged_at is null \
               and notify_after <= now() \
             for update skip locked) \
         returning {COLUMNS}"
    ))
    .bind(hold_seconds as f64)
    .fetch_all(db)
    .await?;
    claimed.sort_by_key(|a| (a.first_seen_at, a.id));
    Ok(claimed)
}

/// The email naming `ids` was accepted.
pub(crate) async fn mark_notified(db: impl PgExecutor<'_>, ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query("update alerts set notified_at = now(), notify_error = null where id = any($1)")
        .bind(ids)
        .execute(db)
        .await?;
    Ok(())
}

/// Mailing `ids` failed: say why, and try again after the hold `claim_unnotified` set.
pub(crate) async fn mark_notify_failed(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query("update alerts set notify_error = $2 where id = any($1)")
        .bind(ids)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// The open problems, oldest first.
pub(crate) async fn open(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Alert>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from alerts where resolved_at is null order by first_seen_at, id"
    ))
    .fetch_all(db)
    .await
}

/// Marks open problem `id` acknowledged (idempotent); None when there is no such open problem.
pub(crate) async fn acknowledge(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Alert>> {
    sqlx::query_as(&format!(
        "update alerts set acknowledged_at = coalesce(acknowledged_at, now()) \
         where id = $1 and resolved_at is null returning {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}
