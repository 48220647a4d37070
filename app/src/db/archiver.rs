//! Postgres' own view of WAL archiving (`[archive]` on the box): the segments waiting for the
//! archive command in `pg_wal/archive_status`, and `pg_stat_archiver`. Nothing here when
//! archiving is off (tests, the native runtime, a box without `[archive]`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// What the archiver is doing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Archiver {
    /// Completed segments the archive command has not taken yet (`.ready`), and when the oldest
    /// of them was completed. None waiting: archiving keeps up.
    pub waiting: i64,
    pub oldest_waiting_at: Option<DateTime<Utc>>,
    pub last_archived_wal: Option<String>,
    pub last_archived_at: Option<DateTime<Utc>>,
    pub failed_count: i64,
    pub last_failed_wal: Option<String>,
    pub last_failed_at: Option<DateTime<Utc>>,
}

/// The archiver's state; `None` when archiving is off, or when this role may not list
/// `pg_wal/archive_status` (it needs pg_monitor or superuser; the compose stack's role has it).
pub(crate) async fn state(db: impl PgExecutor<'_> + Copy) -> sqlx::Result<Option<Archiver>> {
    let mode: String = sqlx::query_scalar("select current_setting('archive_mode')")
        .fetch_one(db)
        .await?;
    if mode == "off" {
        return Ok(None);
    }
    let row = sqlx::query_as::<_, (i64, Option<DateTime<Utc>>, Option<String>, Option<DateTime<Utc>>, i64, Option<String>, Option<DateTime<Utc>>)>(
        "select (select count(*) from pg_ls_archive_statusdir() where name like '%.ready'), \
                (select min(modification) from pg_ls_archive_statusdir() where name like '%.ready'), \
                last_archived_wal, last_archived_time, failed_count, last_failed_wal, \
                last_failed_time \
         from pg_stat_archiver",
    )
    .fetch_one(db)
    .await;
    match row {
        Ok((waiting, oldest, wal, at, failed, failed_wal, failed_at)) => Ok(Some(Archiver {
            waiting,
            oldest_waiting_at: oldest,
            last_archived_wal: wal,
            last_archived_at: at,
            failed_count: failed,
            last_failed_wal: failed_wal,
            last_failed_at: failed_at,
        })),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => Ok(None),
        Err(e) => Err(e),
    }
}
