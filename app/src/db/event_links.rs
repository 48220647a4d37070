//! Questions asked across the `gumroad_events` table: which license a sale or subscription got,
//! the reversal that applies to a sale, and the repeats of a delivery.

use sqlx::PgExecutor;

use crate::api::Resource;

/// The license an earlier real (non-test) sale of this subscription got: a renewal extends it.
pub(crate) async fn subscription_license(
    db: impl PgExecutor<'_>,
    subscription_id: &str,
    except_event: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "select license_key from gumroad_events \
         where subscription_id = $1 and id <> $2 and not test \
           and resource_name = 'sale' and license_key is not null \
         order by id limit 1",
    )
    .bind(subscription_id)
    .bind(except_event)
    .fetch_optional(db)
    .await
}

/// The license a real sale got (its own, or the subscription's for a renewal charge).
pub(crate) async fn sale_license(
    db: impl PgExecutor<'_>,
    sale_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "select license_key from gumroad_events \
         where sale_id = $1 and resource_name = 'sale' and not test \
           and license_key is not null \
         order by id limit 1",
    )
    .bind(sale_id)
    .fetch_optional(db)
    .await
}

/// The latest refund / dispute / dispute_won received for a real sale, if any.
pub(crate) async fn latest_reversal(
    db: impl PgExecutor<'_>,
    sale_id: &str,
) -> sqlx::Result<Option<Resource>> {
    sqlx::query_scalar(
        "select resource_name from gumroad_events \
         where sale_id = $1 and not test and duplicate_of is null \
           and resource_name in ('refund', 'dispute', 'dispute_won') \
         order by (resource_name = 'refund') desc, received_at desc, id desc limit 1",
    )
    .bind(sale_id)
    .fetch_optional(db)
    .await
}

/// The newest event linked to a license (for recording a re-send on it).
pub(crate) async fn latest_for_license(
    db: impl PgExecutor<'_>,
    license_key: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "select id from gumroad_events where license_key = $1 and resource_name = 'sale' \
         order by id desc limit 1",
    )
    .bind(license_key)
    .fetch_optional(db)
    .await
}

/// The later deliveries recorded as repeats of event `id`.
pub(crate) async fn duplicates_of(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("select id from gumroad_events where duplicate_of = $1 order by id")
        .bind(id)
        .fetch_all(db)
        .await
}
