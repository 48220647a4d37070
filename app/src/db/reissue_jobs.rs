//! The `reissue_jobs` table: a re-issue job, the licenses it takes when it is created, and its
//! counts (migration 0006).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::api::{ItemStatus, JobState, ReissueProblem};

/// Serialises job creation: two requests at once agree on one running job.
const CREATE_LOCK: i64 = 0x0072_6569_7373_7565; // "reissue" in ASCII

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct JobRow {
    pub id: i64,
    pub key_id: String,
    pub email: bool,
    pub state: JobState,
    pub already_current: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const JOB_COLUMNS: &str = "id, key_id, email, state, already_current, created_at, finished_at";

/// The items of a job, counted.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub(crate) struct Counts {
    pub total: i64,
    pub to_resign: i64,
    pub resigned: i64,
    pub emailed: i64,
    pub possibly_duplicated: i64,
    pub pending: i64,
    pub failed: i64,
    pub skipped: i64,
}

/// Takes the creation lock for the rest of the transaction.
pub(crate) async fn lock(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(CREATE_LOCK)
        .execute(tx)
        .await
        .map(|_| ())
}

/// Running jobs for another key will never be finished by this server (it signs with
/// `key_id`): they are superseded. Returns how many.
pub(crate) async fn supersede_other_keys(
    db: impl PgExecutor<'_>,
    key_id: &str,
) -> sqlx::Result<u64> {
    sqlx::query(
        "update reissue_jobs set state = 'superseded', finished_at = now() \
         where state = 'running' and key_id <> $1",
    )
    .bind(key_id)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

pub(crate) async fn running(db: impl PgExecutor<'_>) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(&format!(
        "select {JOB_COLUMNS} from reissue_jobs where state = 'running'"
    ))
    .fetch_optional(db)
    .await
}

pub(crate) async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(&format!(
        "select {JOB_COLUMNS} from reissue_jobs where id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The newest job, if any.
pub(crate) async fn latest(db: impl PgExecutor<'_>) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(&format!(
        "select {JOB_COLUMNS} from reissue_jobs order by id desc limit 1"
    ))
    .fetch_optional(db)
    .await
}

/// Active: not revoked, not expired at the transaction's start.
const ACTIVE: &str = "l.revoked_at is null and (l.expires_at is null or l.expires_at > now())";

/// Creates a job for what is missing now: every active license not signed by `key_id`, and,
/// when `email`, every active license an earlier re-issue signed with `key_id` whose buyer was
/// never emailed that blob. Finished at once when there is nothing to do. Run it inside the
/// transaction holding [`lock`].
pub(crate) async fn create(tx: &mut PgConnection, key_id: &str, email: bool) -> sqlx::Result<i64> {
    let id: i64 =
        sqlx::query_scalar("insert into reissue_jobs (key_id, email) values ($1, $2) returning id")
            .bind(key_id)
            .bind(email)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(&format!(
        "insert into reissue_items (job_id, license_key, resign) \
         select $1, l.license_key, true from licenses l \
         where {ACTIVE} and l.key_id <> $2 order by l.id"
    ))
    .bind(id)
    .bind(key_id)
    .execute(&mut *tx)
    .await?;
    if email {
        sqlx::query(&format!(
            "insert into reissue_items (job_id, license_key, resign, reissue_id, resigned_at) \
             select distinct on (l.license_key) $1, l.license_key, false, r.id, r.reissued_at \
             from license_reissues r join licenses l using (license_key) \
             where r.new_key_id = $2 and l.key_id = $2 and {ACTIVE} \
               and not exists (select 1 from license_reissues e \
                               where e.license_key = l.license_key and e.new_key_id = $2 \
                                 and e.emailed_at is not null) \
             order by l.license_key, r.id desc \
             on conflict (job_id, license_key) do nothing"
        ))
        .bind(id)
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&format!(
        "update reissue_jobs set already_current = ( \
             select count(*) from licenses l where {ACTIVE} and l.key_id = $2 \
               and not exists (select 1 from reissue_items i \
                               where i.job_id = $1 and i.license_key = l.license_key)) \
         where id = $1"
    ))
    .bind(id)
    .bind(key_id)
    .execute(&mut *tx)
    .await?;
    finish_if_complete(&mut *tx, id).await?;
    Ok(id)
}

/// Marks the job done when none of its items is left. Returns whether it did now.
pub(crate) async fn finish_if_complete(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    sqlx::query(
        "update reissue_jobs set state = 'done', finished_at = now() \
         where id = $1 and state = 'running' \
           and not exists (select 1 from reissue_items \
                           where job_id = $1 and status in ('pending', 'processing'))",
    )
    .bind(id)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

pub(crate) async fn counts(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Counts> {
    sqlx::query_as(
        "select count(*) as total, \
             count(*) filter (where resign) as to_resign, \
             count(*) filter (where resign and resigned_at is not null) as resigned, \
             count(*) filter (where emailed_at is not null) as emailed, \
             count(*) filter (where email_possibly_duplicated) as possibly_duplicated, \
             count(*) filter (where status in ('pending', 'processing')) as pending, \
             count(*) filter (where status = 'failed') as failed, \
             count(*) filter (where status = 'skipped') as skipped \
         from reissue_items where job_id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await
}

/// The job's items in `status` that carry an error, oldest first, at most `limit`.
pub(crate) async fn problems(
    db: impl PgExecutor<'_>,
    id: i64,
    status: &[ItemStatus],
    limit: i64,
) -> sqlx::Result<Vec<ReissueProblem>> {
    let status: Vec<&str> = status.iter().map(|s| s.as_str()).collect();
    sqlx::query_as::<
        _,
        (
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            DateTime<Utc>,
        ),
    >(
        "select i.license_key, l.email, i.failed_step, i.last_error, i.status, \
                i.next_attempt_at \
         from reissue_items i join licenses l using (license_key) \
         where i.job_id = $1 and i.status = any($2) and i.last_error is not null \
         order by i.id limit $3",
    )
    .bind(id)
    .bind(&status)
    .bind(limit)
    .fetch_all(db)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|(license_key, email, step, error, status, next)| {
                let waiting = status == ItemStatus::Pending.as_str();
                ReissueProblem {
                    license_key,
                    email,
                    step: step
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(crate::api::ReissueStep::Email),
                    error: error.unwrap_or_default(),
                    next_attempt_at: waiting.then_some(next),
                }
            })
            .collect()
    })
}
