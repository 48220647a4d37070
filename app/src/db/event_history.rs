//! `gumroad_event_history`: what happened to an event, in order. Attempts and emails are
//! written by `gumroad_events::finish` and `set_email` in the statement that records them; a
//! replay request is written here.

use sqlx::PgExecutor;

use crate::api::{EventStatus, HistoryEntry};

/// Records that a replay of `event_id` was asked for, and the status the event had then.
pub(crate) async fn record_replay(
    db: impl PgExecutor<'_>,
    event_id: i64,
    status_before: EventStatus,
    asked_by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into gumroad_event_history (event_id, step, status, detail) \
         values ($1, 'replay', $2, $3)",
    )
    .bind(event_id)
    .bind(status_before)
    .bind(asked_by)
    .execute(db)
    .await?;
    Ok(())
}

/// The history of `event_id`, oldest first.
pub(crate) async fn list(
    db: impl PgExecutor<'_>,
    event_id: i64,
) -> sqlx::Result<Vec<HistoryEntry>> {
    sqlx::query_as(
        "select at, step, attempt, status, detail, email_to, email_message_id, email_purpose \
         from gumroad_event_history where event_id = $1 order by id",
    )
    .bind(event_id)
    .fetch_all(db)
    .await
}
