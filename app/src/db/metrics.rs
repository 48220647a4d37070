//! Counts for `GET /internal/metrics`, read at scrape time.

use sqlx::PgExecutor;

/// Gumroad deliveries per status word.
pub(crate) async fn events_by_status(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("select status, count(*) from gumroad_events group by status")
        .fetch_all(db)
        .await
}

/// Licenses ever minted (every source), and the ones revoked.
pub(crate) async fn licenses(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as("select count(*), count(revoked_at) from licenses")
        .fetch_one(db)
        .await
}

/// License emails per state: failed for good (not sent since) and waiting for a retry.
pub(crate) async fn emails(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select count(*) filter (where email_status = 'failed'), \
                count(*) filter (where email_status = 'retrying') \
         from gumroad_events where not test and duplicate_of is null",
    )
    .fetch_one(db)
    .await
}

/// Seconds the longest-waiting due delivery has waited for a worker (0 when none waits).
pub(crate) async fn queue_oldest_seconds(db: impl PgExecutor<'_>) -> sqlx::Result<f64> {
    sqlx::query_scalar(
        "select coalesce(extract(epoch from now() - min(next_attempt_at))::float8, 0) \
         from gumroad_events \
         where status in ('received', 'retrying', 'processing') and next_attempt_at <= now()",
    )
    .fetch_one(db)
    .await
}

/// Open problems: (not acknowledged, acknowledged).
pub(crate) async fn alerts_open(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select count(*) filter (where acknowledged_at is null), count(acknowledged_at) \
         from alerts where resolved_at is null",
    )
    .fetch_one(db)
    .await
}
