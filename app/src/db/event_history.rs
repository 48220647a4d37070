//! `gumroad_event_history`: what happened to an event, in order. Entries are written by the
//! statements that change the event (`gumroad_events::finish`, `set_email`,
//! `claim_for_replay`), so an event never changes without its history.

use sqlx::PgExecutor;

use crate::api::HistoryEntry;

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
