//! Storing a delivery Gumroad never got through to us (found by a sync of its sales list) into
//! `gumroad_events`, unless the server already has it.

use super::event_inserts::{bind_new, NewEvent, INSERT_INTO};
use crate::api::EventStatus;

/// Stores `new` as an event to process, unless a delivery of the same (sale_id, resource_name)
/// was ever stored (a real one for a real sale, a test one for a test sale): then nothing is
/// written and None comes back. A Ping arriving later is recorded as a duplicate of this event,
/// by the same unique index as any repeat.
pub(crate) async fn insert_missing(
    db: &sqlx::PgPool,
    new: &NewEvent<'_>,
) -> sqlx::Result<Option<i64>> {
    bind_new(
        sqlx::query_scalar(&format!(
            "{INSERT_INTO} \
             select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
             where not exists (select 1 from gumroad_events \
                               where sale_id = $3 and resource_name = $4 and test = $11) \
             on conflict (sale_id, resource_name) where duplicate_of is null and not test \
             do nothing returning id"
        )),
        new,
    )
    .bind(match new.failed {
        Some(_) => EventStatus::Failed,
        None => EventStatus::Received,
    })
    .bind(new.failed)
    .bind(None::<i64>)
    .fetch_optional(db)
    .await
}
