//! The Gumroad events that need a human, as the alert sentinel asks for them. Test pings and
//! repeats of a delivery are never problems of their own.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Failed sales whose error says the product is unknown, grouped by product.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UnknownProduct {
    pub product_id: String,
    pub product_name: Option<String>,
    pub event_ids: Vec<i64>,
}

/// `error_prefix`: how `gumroad::sale` starts that error. An event being replayed right now
/// (processing, its last error still the unknown product) still counts.
pub(crate) async fn unknown_products(
    db: impl PgExecutor<'_>,
    error_prefix: &str,
) -> sqlx::Result<Vec<UnknownProduct>> {
    sqlx::query_as(
        "select coalesce(product_id, '') as product_id, max(product_name) as product_name, \
                array_agg(id order by id) as event_ids \
         from gumroad_events \
         where status in ('failed', 'processing') and resource_name = 'sale' and not test \
           and duplicate_of is null and starts_with(last_error, $1) \
         group by coalesce(product_id, '') order by min(id)",
    )
    .bind(error_prefix)
    .fetch_all(db)
    .await
}

/// An event in trouble: enough to name it and say what to do.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Troubled {
    pub id: i64,
    pub sale_id: Option<String>,
    pub resource_name: String,
    pub product_name: Option<String>,
    pub license_key: Option<String>,
    pub email_to: Option<String>,
    pub email_error: Option<String>,
    pub last_error: Option<String>,
    pub retrying_since: Option<DateTime<Utc>>,
    pub attempts: i32,
}

const TROUBLED: &str = "select id, sale_id, resource_name, product_name, license_key, \
    coalesce(email_to, email) as email_to, email_error, last_error, retrying_since, attempts \
    from gumroad_events";

/// License emails the provider refused for good (`email_status` failed: inactive recipient,
/// invalid address) and not sent since.
pub(crate) async fn bounced(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Troubled>> {
    sqlx::query_as(&format!(
        "{TROUBLED} where email_status = 'failed' and not test and duplicate_of is null \
         order by id"
    ))
    .fetch_all(db)
    .await
}

/// Events waiting for another attempt for longer than `seconds`.
pub(crate) async fn retrying_longer_than(
    db: impl PgExecutor<'_>,
    seconds: i64,
) -> sqlx::Result<Vec<Troubled>> {
    sqlx::query_as(&format!(
        "{TROUBLED} where status in ('retrying', 'processing') and not test \
           and retrying_since < now() - make_interval(secs => $1) \
         order by id"
    ))
    .bind(seconds as f64)
    .fetch_all(db)
    .await
}

/// Failed events that are neither an unknown product nor a bounced email, and whose license
/// was not emailed since (`dtops resend` after the failure settles it).
pub(crate) async fn failed_otherwise(
    db: impl PgExecutor<'_>,
    unknown_product_prefix: &str,
) -> sqlx::Result<Vec<Troubled>> {
    sqlx::query_as(&format!(
        "{TROUBLED} where status = 'failed' and not test and duplicate_of is null \
           and coalesce(email_status, '') not in ('failed', 'sent') \
           and not (resource_name = 'sale' and starts_with(coalesce(last_error, ''), $1)) \
         order by id"
    ))
    .bind(unknown_product_prefix)
    .fetch_all(db)
    .await
}

/// Deliveries due for longer than `seconds` that no worker took (or whose worker's lease ran
/// out that long ago): how many, and since when the oldest has waited.
pub(crate) async fn stalled(
    db: impl PgExecutor<'_>,
    seconds: i64,
) -> sqlx::Result<(i64, Option<DateTime<Utc>>)> {
    sqlx::query_as(
        "select count(*), min(next_attempt_at) from gumroad_events \
         where ((status in ('received', 'retrying') \
                 and next_attempt_at < now() - make_interval(secs => $1)) \
             or (status = 'processing' and lease_until < now() - make_interval(secs => $1)))",
    )
    .bind(seconds as f64)
    .fetch_one(db)
    .await
}
