//! The `gumroad_events` table: every authenticated Gumroad delivery, and the worker's queue.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::api::{EmailStatus, Event, EventStatus};

/// How long a worker owns an event it took. Processing is one mint and one email (the mail
/// client times out well before this), so an expired lease means the worker died.
pub(crate) const LEASE_SECONDS: i64 = 60;

/// A stored delivery: the event as the admin API shows it, and the body exactly as it arrived.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct StoredEvent {
    #[sqlx(flatten)]
    pub event: Event,
    /// The body exactly as it arrived (bytes: it may hold a NUL or invalid UTF-8).
    pub raw_body: Vec<u8>,
}

impl std::ops::Deref for StoredEvent {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.event
    }
}

/// Every column of [`Event`] (all but the body).
const EVENT_COLUMNS: &str = "id, received_at, content_type, sale_id, resource_name, \
    product_id, product_name, email, seller_id, subscription_id, is_recurring_charge, test, \
    retry_count, duplicate_of, status, attempts, next_attempt_at, lease_until, last_error, \
    outcome, license_key, email_status, email_to, email_message_id, email_error, emailed_at, \
    processed_at, email_sending_since, email_possibly_duplicated";

/// Takes the next due event for processing, or None. `skip locked` keeps workers (in this
/// process or another instance) from taking the same event; a lease that ran out (a worker
/// that died mid-way) makes the event due again.
pub(crate) async fn claim_next(db: impl PgExecutor<'_>) -> sqlx::Result<Option<StoredEvent>> {
    sqlx::query_as(&format!(
        "update gumroad_events \
         set status = 'processing', attempts = attempts + 1, \
             lease_until = now() + make_interval(secs => {LEASE_SECONDS}) \
         where id = ( \
             select id from gumroad_events \
             where status in ('received', 'retrying', 'processing') \
               and next_attempt_at <= now() \
               and (status <> 'processing' or lease_until < now()) \
             order by next_attempt_at, id \
             for update skip locked \
             limit 1) \
         returning raw_body, {EVENT_COLUMNS}"
    ))
    .fetch_optional(db)
    .await
}

/// Takes one event now for a replay, whatever its status, unless a live worker holds it, and
/// records the replay in its history (with the status it had) in the same statement. Returns
/// None when it is being processed right now.
pub(crate) async fn claim_for_replay(
    db: impl PgExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<StoredEvent>> {
    sqlx::query_as(&format!(
        "with before as ( \
             select id, status from gumroad_events \
             where id = $1 and duplicate_of is null \
               and (status <> 'processing' or lease_until < now()) \
             for update), \
         updated as ( \
             update gumroad_events \
             set status = 'processing', attempts = attempts + 1, \
                 lease_until = now() + make_interval(secs => {LEASE_SECONDS}) \
             where id = (select id from before) \
             returning raw_body, {EVENT_COLUMNS}), \
         logged as ( \
             insert into gumroad_event_history (event_id, step, status) \
             select id, 'replay', status from before) \
         select * from updated"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub(crate) struct Finish<'a> {
    /// done, failed, ignored, or retrying (with `retry_at`).
    pub status: EventStatus,
    pub outcome: Option<&'a str>,
    pub last_error: Option<&'a str>,
    pub retry_at: Option<DateTime<Utc>>,
}

pub(crate) async fn finish(
    db: impl PgExecutor<'_>,
    id: i64,
    finish: &Finish<'_>,
) -> sqlx::Result<Option<StoredEvent>> {
    // The attempt goes into the event's history in the same statement (one round trip).
    sqlx::query_as(&format!(
        "with updated as ( \
             update gumroad_events \
             set status = $2, outcome = coalesce($3, outcome), last_error = $4, \
                 next_attempt_at = coalesce($5, next_attempt_at), lease_until = null, \
                 processed_at = case when $2 = 'retrying' then processed_at else now() end, \
                 retrying_since = \
                     case when $2 = 'retrying' then coalesce(retrying_since, now()) end \
             where id = $1 \
             returning raw_body, {EVENT_COLUMNS}), \
         logged as ( \
             insert into gumroad_event_history (event_id, step, attempt, status, detail) \
             select id, 'attempt', attempts, status, concat_ws('; ', $3, $4) from updated) \
         select * from updated"
    ))
    .bind(id)
    .bind(finish.status)
    .bind(finish.outcome)
    .bind(finish.last_error)
    .bind(finish.retry_at)
    .fetch_optional(db)
    .await
}

/// Links the event to the license it minted, renewed, revoked or reinstated.
pub(crate) async fn set_license(
    db: impl PgExecutor<'_>,
    id: i64,
    license_key: &str,
) -> sqlx::Result<()> {
    sqlx::query("update gumroad_events set license_key = $2 where id = $1")
        .bind(id)
        .bind(license_key)
        .execute(db)
        .await?;
    Ok(())
}

/// Records an email attempt on the event.
#[derive(Debug, Clone)]
pub(crate) struct EmailResult<'a> {
    pub status: EmailStatus,
    pub to: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub error: Option<&'a str>,
    /// Why it was sent ("purchase", "resend by dtops", ...), for the event's history.
    pub purpose: Option<&'a str>,
}

pub(crate) async fn set_email(
    db: impl PgExecutor<'_>,
    id: i64,
    result: &EmailResult<'_>,
) -> sqlx::Result<()> {
    // The email goes into the event's history in the same statement (one round trip).
    sqlx::query(
        "with updated as ( \
             update gumroad_events \
             set email_status = $2, email_to = coalesce($3, email_to), \
                 email_message_id = coalesce($4, email_message_id), email_error = $5, \
                 emailed_at = case when $2 = 'sent' then now() else emailed_at end, \
                 email_sending_since = null \
             where id = $1 \
             returning id) \
         insert into gumroad_event_history \
             (event_id, step, status, detail, email_to, email_message_id, email_purpose) \
         select id, 'email', $2, $5, $3, $4, $6 from updated",
    )
    .bind(id)
    .bind(result.status)
    .bind(result.to)
    .bind(result.message_id)
    .bind(result.error)
    .bind(result.purpose)
    .execute(db)
    .await?;
    Ok(())
}

/// Records that the mail provider is about to be asked to send the event's email. Returns true
/// when an earlier send was started and never recorded (the process died during the
/// provider's call): that email may have gone out, so this one may be a second copy. The mark
/// is kept on the event for the operator.
pub(crate) async fn mark_sending(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "update gumroad_events \
         set email_possibly_duplicated = \
                 email_possibly_duplicated or email_sending_since is not null, \
             email_sending_since = now() \
         where id = $1 \
         returning email_sending_since is not null and email_possibly_duplicated",
    )
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|flag| flag.unwrap_or(false))
}

pub(crate) async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<StoredEvent>> {
    sqlx::query_as(&format!(
        "select raw_body, {EVENT_COLUMNS} from gumroad_events where id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Filters for the admin list; all optional.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter<'a> {
    /// Only events that need a look: failed, or retrying after an error.
    pub failed: bool,
    pub email: Option<&'a str>,
    pub sale_id: Option<&'a str>,
    pub limit: i64,
}

/// Newest first, without their bodies.
pub(crate) async fn list(
    db: impl PgExecutor<'_>,
    filter: &ListFilter<'_>,
) -> sqlx::Result<Vec<Event>> {
    sqlx::query_as(&format!(
        "select {EVENT_COLUMNS} from gumroad_events \
         where (not $1 or status in ('failed', 'retrying')) \
           and ($2::text is null or lower(email collate \"C\") = lower($2 collate \"C\")) \
           and ($3::text is null or sale_id = $3) \
         order by received_at desc, id desc limit $4"
    ))
    .bind(filter.failed)
    .bind(filter.email)
    .bind(filter.sale_id)
    .bind(filter.limit)
    .fetch_all(db)
    .await
}
