//! `portal_link_requests`: every sign-in link asked for, the queue the portal's background task
//! sends from, and the redeeming of a link or its short code.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, Transaction};

/// How long the sender owns a request it took; after that another attempt may take it over.
pub(crate) const LEASE_SECONDS: i64 = 60;

/// Serialises requests for one address (the limit check, then the insert) until the
/// transaction ends.
pub(crate) async fn lock_address(
    tx: &mut Transaction<'_, Postgres>,
    email_key: &str,
) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('portal:' || $1, 0))")
        .bind(email_key)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// What the limits look at: the address's latest request and its count in 24 hours, and every
/// request in 24 hours.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct RequestCounts {
    pub address_latest: Option<DateTime<Utc>>,
    pub address_day: i64,
    pub all_day: i64,
    pub now: DateTime<Utc>,
}

pub(crate) async fn counts(
    db: impl PgExecutor<'_>,
    email_key: &str,
) -> sqlx::Result<RequestCounts> {
    sqlx::query_as(
        "select \
           (select max(requested_at) from portal_link_requests where email_key = $1) \
             as address_latest, \
           (select count(*) from portal_link_requests \
             where email_key = $1 and requested_at > now() - interval '24 hours') as address_day, \
           (select count(*) from portal_link_requests \
             where requested_at > now() - interval '24 hours') as all_day, \
           now() as now",
    )
    .bind(email_key)
    .fetch_one(db)
    .await
}

pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    email: &str,
    email_key: &str,
    browser_hash: &[u8],
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into portal_link_requests (email, email_key, browser_hash) \
         values ($1, $2, $3) returning id",
    )
    .bind(email)
    .bind(email_key)
    .bind(browser_hash)
    .fetch_one(db)
    .await
}

/// A request taken for sending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Job {
    pub id: i64,
    pub email: String,
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
         returning id, email, email_key, attempts"
    ))
    .fetch_optional(db)
    .await
}

/// Stores the hashes of the link's token and code before the mail goes out; the link works
/// once [`mark_sent`] has run.
pub(crate) async fn set_secrets(
    db: impl PgExecutor<'_>,
    id: i64,
    token_hash: &[u8],
    code_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update portal_link_requests set token_hash = $2, code_hash = $3, expires_at = $4, \
             code_attempts = 0 where id = $1",
    )
    .bind(id)
    .bind(token_hash)
    .bind(code_hash)
    .bind(expires_at)
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

/// Ends a request without a link: `no_licenses`, `failed`, or `queued` again at `retry_at`.
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

/// A link as the confirm page and the redeeming see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LinkState {
    pub id: i64,
    pub email: String,
    pub used: bool,
    pub expired: bool,
    /// A newer link was sent to the same address.
    pub superseded: bool,
}

const STATE: &str = "select r.id, r.email, r.used_at is not null as used, \
       r.expires_at <= now() as expired, \
       exists (select 1 from portal_link_requests n where n.email_key = r.email_key \
               and n.status = 'sent' and n.id > r.id) as superseded \
     from portal_link_requests r";

/// The sent link whose token hashes to `token_hash`, in whatever state; nothing is changed.
pub(crate) async fn by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<LinkState>> {
    sqlx::query_as(&format!(
        "{STATE} where r.token_hash = $1 and r.status = 'sent'"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Uses the link once: only when it is unused, unexpired and the newest sent to its address.
/// Returns the link when this call used it.
pub(crate) async fn redeem(
    db: impl PgExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(
        "update portal_link_requests r set used_at = now() \
         where r.id = $1 and r.status = 'sent' and r.used_at is null and r.expires_at > now() \
           and not exists (select 1 from portal_link_requests n where n.email_key = r.email_key \
                           and n.status = 'sent' and n.id > r.id) \
         returning r.id, r.email_key",
    )
    .bind(id)
    .fetch_optional(db)
    .await
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

/// The newest link sent for a request this browser made, locked for a code attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CodeTarget {
    pub id: i64,
    pub code_hash: Vec<u8>,
}

pub(crate) async fn code_target(
    db: impl PgExecutor<'_>,
    browser_hash: &[u8],
) -> sqlx::Result<Option<CodeTarget>> {
    sqlx::query_as(
        "select id, code_hash from portal_link_requests \
         where browser_hash = $1 and status = 'sent' and code_hash is not null \
           and used_at is null and expires_at > now() \
         order by id desc limit 1 for update",
    )
    .bind(browser_hash)
    .fetch_optional(db)
    .await
}

/// A wrong code: counts the attempt, and burns the link at `max` attempts.
pub(crate) async fn code_failed(db: impl PgExecutor<'_>, id: i64, max: i32) -> sqlx::Result<()> {
    sqlx::query(
        "update portal_link_requests set code_attempts = code_attempts + 1, \
             used_at = case when code_attempts + 1 >= $2 then now() else used_at end \
         where id = $1",
    )
    .bind(id)
    .bind(max)
    .execute(db)
    .await
    .map(|_| ())
}

/// Forgets requests older than a week (the limits look back 24 hours).
pub(crate) async fn sweep(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    sqlx::query(
        "delete from portal_link_requests r where requested_at < now() - interval '7 days' \
           and not exists (select 1 from portal_sessions s where s.link_request = r.id)",
    )
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}
