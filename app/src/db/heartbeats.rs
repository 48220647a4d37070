//! The `worker_heartbeats` table: each Gumroad worker's last sign of life.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// `worker` is alive now.
pub(crate) async fn beat(db: impl PgExecutor<'_>, worker: &str) -> sqlx::Result<()> {
    sqlx::query(
        "insert into worker_heartbeats (worker, beat_at) values ($1, now()) \
         on conflict (worker) do update set beat_at = now()",
    )
    .bind(worker)
    .execute(db)
    .await?;
    Ok(())
}

/// `worker` stopped on purpose.
pub(crate) async fn remove(db: impl PgExecutor<'_>, worker: &str) -> sqlx::Result<()> {
    sqlx::query("delete from worker_heartbeats where worker = $1")
        .bind(worker)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets the rows of workers this server no longer runs (an earlier process with more
/// workers that did not stop cleanly); a live instance's worker writes its row again at once.
pub(crate) async fn forget_except(db: impl PgExecutor<'_>, workers: &[String]) -> sqlx::Result<()> {
    sqlx::query("delete from worker_heartbeats where not (worker = any($1))")
        .bind(workers)
        .execute(db)
        .await?;
    Ok(())
}

/// Every worker's last beat.
pub(crate) async fn all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, DateTime<Utc>)>> {
    sqlx::query_as("select worker, beat_at from worker_heartbeats order by worker")
        .fetch_all(db)
        .await
}
