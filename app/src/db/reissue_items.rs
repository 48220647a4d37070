//! The `reissue_items` table: one license of a re-issue job, the workers' queue (migration 0006).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::api::ReissueStep;

/// How long a worker owns an item it took. One item is a signature and one email (the mail
/// client gives up after 10 s), so an expired lease means the worker died.
pub(crate) const LEASE_SECONDS: i64 = 30;

/// An item a worker took, with what it needs of its job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ClaimedItem {
    pub id: i64,
    pub job_id: i64,
    pub license_key: String,
    pub resign: bool,
    pub resigned_at: Option<DateTime<Utc>>,
    pub emailed_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    /// The job's: email the buyer.
    pub email: bool,
}

/// Takes the next due item of the running job for `key_id`, or None. `skip locked` keeps
/// workers (here or in another instance) apart; a lease that ran out makes an item due again.
pub(crate) async fn claim_next(
    db: impl PgExecutor<'_>,
    key_id: &str,
) -> sqlx::Result<Option<ClaimedItem>> {
    sqlx::query_as(&format!(
        "update reissue_items i \
         set status = 'processing', attempts = i.attempts + 1, \
             lease_until = now() + make_interval(secs => {LEASE_SECONDS}) \
         from reissue_jobs j \
         where j.id = i.job_id and i.id = ( \
             select c.id from reissue_items c join reissue_jobs cj on cj.id = c.job_id \
             where cj.state = 'running' and cj.key_id = $1 \
               and c.status in ('pending', 'processing') and c.next_attempt_at <= now() \
               and (c.status <> 'processing' or c.lease_until < now()) \
             order by c.next_attempt_at, c.id \
             for update of c skip locked \
             limit 1) \
         returning i.id, i.job_id, i.license_key, i.resign, i.resigned_at, i.emailed_at, \
                   i.attempts, j.email"
    ))
    .bind(key_id)
    .fetch_optional(db)
    .await
}

/// Records the re-signing (`reissue_id`: the `license_reissues` row, when there is one).
pub(crate) async fn mark_resigned(
    db: impl PgExecutor<'_>,
    id: i64,
    reissue_id: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update reissue_items set resigned_at = now(), reissue_id = coalesce($2, reissue_id) \
         where id = $1",
    )
    .bind(id)
    .bind(reissue_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Records that the mail provider is about to be asked. Returns true when an earlier send was
/// started and never recorded (the process died during the call): this one may be a second
/// copy, and the item keeps saying so.
pub(crate) async fn mark_sending(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "update reissue_items \
         set email_possibly_duplicated = \
                 email_possibly_duplicated or email_sending_since is not null, \
             email_sending_since = now() \
         where id = $1 \
         returning email_possibly_duplicated",
    )
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|flag| flag.unwrap_or(false))
}

/// The buyer was emailed: the item is done, and the re-issue's blob counts as delivered.
pub(crate) async fn mark_emailed(
    db: impl PgExecutor<'_>,
    id: i64,
    to: &str,
    message_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "with item as ( \
             update reissue_items \
             set emailed_at = now(), email_to = $2, email_message_id = $3, \
                 email_sending_since = null, status = 'done', lease_until = null, \
                 last_error = null, failed_step = null, finished_at = now() \
             where id = $1 returning reissue_id) \
         update license_reissues set emailed_at = now() \
         where id = (select reissue_id from item) and emailed_at is null",
    )
    .bind(id)
    .bind(to)
    .bind(message_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// How an attempt on an item ended, other than an email sent.
#[derive(Debug, Clone)]
pub(crate) enum Ending {
    /// Nothing left to do (re-signed, no email asked, or the email was already sent).
    Done,
    Failed(ReissueStep, String),
    /// Revoked or expired meanwhile: left alone.
    Skipped(String),
    Retry {
        step: ReissueStep,
        error: String,
        at: DateTime<Utc>,
    },
}

pub(crate) async fn end(db: impl PgExecutor<'_>, id: i64, ending: &Ending) -> sqlx::Result<()> {
    let (status, step, error, at) = match ending {
        Ending::Done => ("done", None, None, None),
        Ending::Failed(step, error) => ("failed", Some(*step), Some(error.as_str()), None),
        Ending::Skipped(why) => ("skipped", None, Some(why.as_str()), None),
        Ending::Retry { step, error, at } => {
            ("pending", Some(*step), Some(error.as_str()), Some(*at))
        }
    };
    sqlx::query(
        "update reissue_items \
         set status = $2, failed_step = $3, last_error = $4, \
             next_attempt_at = coalesce($5, next_attempt_at), lease_until = null, \
             email_sending_since = null, \
             finished_at = case when $2 = 'pending' then null else now() end \
         where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(step)
    .bind(error)
    .bind(at)
    .execute(db)
    .await
    .map(|_| ())
}
