//! `portal_link_requests` as a queue: every sign-in link asked for, the counts the limits look
//! at, and the sender's taking, mailing and finishing of each request. Using a sent link or its
//! short code is in `link_use.rs`.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, Transaction};

/// How long the sender owns a request it took; after that another attempt may take it over.
pub(crate) const LEASE_SECONDS: i64 = 60;

/// A transaction-scoped advisory lock on `name` (released at commit or rollback).
async fn lock(tx: &mut Transaction<'_, Postgres>, name: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(name)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Serialises requests from one client (the limit check, then the insert) until the
/// transaction ends; requests that came without a client address share one lock.
pub(crate) async fn lock_client(
    tx: &mut Transaction<'_, Postgres>,
    client_key: Option<&str>,
) -> sqlx::Result<()> {
    lock(tx, &format!("portal-client:{}", client_key.unwrap_or(""))).await
}

/// Serialises the mailing decisions for one address, and then the day's budget, until the
/// transaction ends (always in this order, so two senders never wait on each other in a cycle).
pub(crate) async fn lock_mailing(
    tx: &mut Transaction<'_, Postgres>,
    email_key: &str,
) -> sqlx::Result<()> {
    lock(tx, &format!("portal-mail:{email_key}")).await?;
    lock(tx, "portal-mail-budget").await
}

/// A link counts as mailed from the moment the sender made its secrets (`mailed_at`) while it
/// is being sent or once it was: a failed or re-queued attempt drops its secrets.
const MAILED: &str = "mailed_at > now() - interval '24 hours' \
     and (status = 'sent' or (status = 'processing' and token_hash is not null))";

/// What the limits look at.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct RequestCounts {
    /// This client's latest request for the address, and their number in 24 hours.
    pub address_latest: Option<DateTime<Utc>>,
    pub address_day: i64,
    /// This client's requests (any address) in the last hour and 24 hours, with the oldest of
    /// each window (when it leaves the window, there is room again).
    pub client_hour: i64,
    pub client_hour_oldest: Option<DateTime<Utc>>,
    pub client_day: i64,
    pub client_day_oldest: Option<DateTime<Utc>>,
    /// Links mailed (to any address) in 24 hours: the day's budget.
    pub mailed_day: i64,
    pub now: DateTime<Utc>,
}

/// The counts for `email_key` asked by `client_key`. Without a client address (the request did
/// not come through nginx: `dtops dev`, a process on the box) no client is counted.
pub(crate) async fn counts(
    db: impl PgExecutor<'_>,
    email_key: &str,
    client_key: Option<&str>,
) -> sqlx::Result<RequestCounts> {
    sqlx::query_as(&format!(
        "with pair as ( \
           select requested_at from portal_link_requests \
           where email_key = $1 and client_key is not distinct from $2 \
             and requested_at > now() - interval '24 hours'), \
         client as ( \
           select requested_at from portal_link_requests \
           where $2::text is not null and client_key = $2 \
             and requested_at > now() - interval '24 hours') \
         select \
           (select max(requested_at) from pair) as address_latest, \
           (select count(*) from pair) as address_day, \
           (select count(*) from client where requested_at > now() - interval '1 hour') \
             as client_hour, \
           (select min(requested_at) from client where requested_at > now() - interval '1 hour') \
             as client_hour_oldest, \
           (select count(*) from client) as client_day, \
           (select min(requested_at) from client) as client_day_oldest, \
           (select count(*) from portal_link_requests where {MAILED}) as mailed_day, \
           now() as now"
    ))
    .bind(email_key)
    .bind(client_key)
    .fetch_one(db)
    .await
}

/// Links mailed (to any address) in 24 hours.
pub(crate) async fn mailed_day(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!(
        "select count(*) from portal_link_requests where {MAILED}"
    ))
    .fetch_one(db)
    .await
}

pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    email: &str,
    email_key: &str,
    browser_hash: &[u8],
    client_key: Option<&str>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into portal_link_requests (email, email_key, browser_hash, client_key) \
         values ($1, $2, $3, $4) returning id",
    )
    .bind(email)
    .bind(email_key)
    .bind(browser_hash)
    .bind(client_key)
    .fetch_one(db)
    .await
}

/// Counts a refused request under its limit (`client`, `address` or `budget`) in this minute.
pub(crate) async fn record_refusal(db: impl PgExecutor<'_>, limit_kind: &str) -> sqlx::Result<()> {
    sqlx::query(
        "insert into portal_refusals (minute, limit_kind, refused) \
         values (date_trunc('minute', now()), $1, 1) \
         on conflict (minute, limit_kind) do update set refused = portal_refusals.refused + 1",
    )
    .bind(limit_kind)
    .execute(db)
    .await
    .map(|_| ())
}

/// Refused requests per limit in the last hour (to the minute).
pub(crate) async fn refusals_last_hour(
    db: impl PgExecutor<'_>,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "select limit_kind, sum(refused)::bigint from portal_refusals \
         where minute > now() - interval '1 hour' group by limit_kind order by limit_kind",
    )
    .fetch_all(db)
    .await
}

/// A request taken for sending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Job {
    pub id: i64,
    pub email_key: String,
    pub attempts: i32,
}

/// Takes the next due request (or one whose sender died), or None.
pub(crate) async fn claim_next(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Job>> {
    sqlx::query_as(&format!(
        "update portal_link_requests \
         set status = 'processing', attempts = attempts + 1, \
             lease_until = now() + make_interval(secs => {LEASE_SECONDS}) \
         where id = ( \
             select id from portal_link_requests \
             where status in ('queued', 'processing') and next_attempt_at <= now() \
               and (status <> 'processing' or lease_until < now()) \
             order by next_attempt_at, id for update skip locked limit 1) \
         returning id, email_key, attempts"
    ))
    .fetch_optional(db)
    .await
}

/// The links mailed to an address in 24 hours, for the spacing of mails to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AddressMail {
    pub mailed_day: i64,
    /// The newest one's mailing time, when it still works (unused, not superseded, unexpired).
    pub live_since: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

pub(crate) async fn address_mail(
    db: impl PgExecutor<'_>,
    email_key: &str,
) -> sqlx::Result<AddressMail> {
    sqlx::query_as(&format!(
        "with mailed as ( \
           select mailed_at, used_at is null and superseded_at is null and expires_at > now() \
                  as live \
           from portal_link_requests where email_key = $1 and {MAILED}) \
         select (select count(*) from mailed) as mailed_day, \
                (select mailed_at from mailed where live order by mailed_at desc limit 1) \
                  as live_since, \
                now() as now"
    ))
    .bind(email_key)
    .fetch_one(db)
    .await
}

/// Stores the hashes of the link's token and code, where it goes and when it stops working,
/// before the mail goes out: from here on it counts as mailed. The link works once
/// [`mark_sent`] has run.
pub(crate) async fn reserve(
    db: impl PgExecutor<'_>,
    id: i64,
    token_hash: &[u8],
    code_hash: &[u8],
    expires_at: DateTime<Utc>,
    sent_to: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update portal_link_requests set token_hash = $2, code_hash = $3, expires_at = $4, \
             sent_to = $5, mailed_at = now(), code_attempts = 0 where id = $1",
    )
    .bind(id)
    .bind(token_hash)
    .bind(code_hash)
    .bind(expires_at)
    .bind(sent_to)
    .execute(db)
    .await
    .map(|_| ())
}

pub(crate) async fn mark_sent(
    db: impl PgExecutor<'_>,
    id: i64,
    message_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update portal_link_requests set status = 'sent', message_id = $2, last_error = null, \
             lease_until = null, processed_at = now() where id = $1",
    )
    .bind(id)
    .bind(message_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Ends a request without a link: `no_licenses`, `held`, `failed`, or `queued` again at
/// `retry_at`.
pub(crate) async fn mark(
    db: impl PgExecutor<'_>,
    id: i64,
    status: &str,
    error: Option<&str>,
    retry_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update portal_link_requests set status = $2, last_error = $3, lease_until = null, \
             token_hash = null, code_hash = null, \
             next_attempt_at = coalesce($4, next_attempt_at), \
             processed_at = case when $2 = 'queued' then null else now() end \
         where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .bind(retry_at)
    .execute(db)
    .await
    .map(|_| ())
}

/// The newest request this browser made (for the "link sent" page and its short code).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct BrowserRequest {
    pub email: String,
}

pub(crate) async fn newest_for_browser(
    db: impl PgExecutor<'_>,
    browser_hash: &[u8],
) -> sqlx::Result<Option<BrowserRequest>> {
    sqlx::query_as(
        "select email from portal_link_requests where browser_hash = $1 order by id desc limit 1",
    )
    .bind(browser_hash)
    .fetch_optional(db)
    .await
}

/// Forgets requests older than a week (the limits look back 24 hours) and refusal counts as
/// old.
pub(crate) async fn sweep(db: impl PgExecutor<'_> + Copy) -> sqlx::Result<u64> {
    let requests = sqlx::query(
        "delete from portal_link_requests r where requested_at < now() - interval '7 days' \
           and not exists (select 1 from portal_sessions s where s.link_request = r.id)",
    )
    .execute(db)
    .await?
    .rows_affected();
    sqlx::query("delete from portal_refusals where minute < now() - interval '7 days'")
        .execute(db)
        .await?;
    Ok(requests)
}
