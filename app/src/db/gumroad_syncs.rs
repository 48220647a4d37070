//! The `gumroad_syncs` table: one row per sync of Gumroad's sales list (migration 0007).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;

use crate::api::{GumroadSync, JobState, SyncSkipped, SyncedEvent};

/// A running sync whose heartbeat is older than this was interrupted (the server stopped).
const STALE_SECONDS: i64 = 120;

const COLUMNS: &str = "id, since, state, started_at, finished_at, pages, seen, already_had, \
    stored::text as stored, skipped::text as skipped, error";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    since: NaiveDate,
    state: JobState,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    pages: i32,
    seen: i32,
    already_had: i32,
    stored: String,
    skipped: String,
    error: Option<String>,
}

impl From<Row> for GumroadSync {
    fn from(row: Row) -> GumroadSync {
        GumroadSync {
            id: row.id,
            since: row.since,
            state: row.state,
            started_at: row.started_at,
            finished_at: row.finished_at,
            pages: row.pages,
            seen: row.seen,
            already_had: row.already_had,
            // Written by `progress` from these very types.
            stored: serde_json::from_str(&row.stored).unwrap_or_default(),
            skipped: serde_json::from_str(&row.skipped).unwrap_or_default(),
            error: row.error,
        }
    }
}

/// Syncs left running by a server that stopped are marked failed, so they neither block a new
/// one nor look alive.
pub(crate) async fn mark_interrupted(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "update gumroad_syncs \
         set state = 'failed', finished_at = now(), \
             error = 'interrupted: the server stopped during the sync; run it again (nothing \
                      is stored twice)' \
         where state = 'running' \
           and heartbeat_at < now() - make_interval(secs => {STALE_SECONDS})"
    ))
    .execute(db)
    .await
    .map(|_| ())
}

pub(crate) async fn running(db: impl PgExecutor<'_>) -> sqlx::Result<Option<GumroadSync>> {
    sqlx::query_as::<_, Row>(&format!(
        "select {COLUMNS} from gumroad_syncs where state = 'running' order by id limit 1"
    ))
    .fetch_optional(db)
    .await
    .map(|row| row.map(GumroadSync::from))
}

pub(crate) async fn create(db: impl PgExecutor<'_>, since: NaiveDate) -> sqlx::Result<i64> {
    sqlx::query_scalar("insert into gumroad_syncs (since) values ($1) returning id")
        .bind(since)
        .fetch_one(db)
        .await
}

/// How far a sync got.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    pub pages: i32,
    pub seen: i32,
    pub already_had: i32,
    pub stored: Vec<SyncedEvent>,
    pub skipped: Vec<SyncSkipped>,
}

/// Records `progress` (and that the sync is alive).
pub(crate) async fn progress(
    db: impl PgExecutor<'_>,
    id: i64,
    progress: &Progress,
) -> sqlx::Result<()> {
    sqlx::query(
        "update gumroad_syncs \
         set pages = $2, seen = $3, already_had = $4, found = $5, stored = $6::jsonb, \
             skipped = $7::jsonb, heartbeat_at = now() \
         where id = $1",
    )
    .bind(id)
    .bind(progress.pages)
    .bind(progress.seen)
    .bind(progress.already_had)
    .bind(i32::try_from(progress.stored.len()).unwrap_or(i32::MAX))
    .bind(json(&progress.stored))
    .bind(json(&progress.skipped))
    .execute(db)
    .await
    .map(|_| ())
}

/// Ends the sync: done, or failed with `error`.
pub(crate) async fn finish(
    db: impl PgExecutor<'_>,
    id: i64,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update gumroad_syncs \
         set state = case when $2::text is null then 'done' else 'failed' end, error = $2, \
             finished_at = now(), heartbeat_at = now() \
         where id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(db)
    .await
    .map(|_| ())
}

pub(crate) async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<GumroadSync>> {
    sqlx::query_as::<_, Row>(&format!(
        "select {COLUMNS} from gumroad_syncs where id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(GumroadSync::from))
}

/// The newest syncs first.
pub(crate) async fn list(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<GumroadSync>> {
    sqlx::query_as::<_, Row>(&format!(
        "select {COLUMNS} from gumroad_syncs order by id desc limit $1"
    ))
    .bind(limit)
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(GumroadSync::from).collect())
}

/// A list as JSON text (the crate's sqlx has no JSON type; the columns are `jsonb`).
fn json<T: serde::Serialize>(list: &[T]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}
