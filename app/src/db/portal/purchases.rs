//! The Gumroad deliveries behind a buyer's licenses: the sales linked to each license, the gifts
//! an address gave, and the latest state of each membership.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::api::LicenseRecord;

/// A real (non-test, non-duplicate) sale delivery linked to a license.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SaleEvent {
    pub id: i64,
    pub license_key: String,
    pub received_at: DateTime<Utc>,
    pub content_type: String,
    /// The delivery as it arrived (bytes; see migration 0004).
    pub raw_body: Vec<u8>,
    pub sale_id: Option<String>,
    pub product_name: Option<String>,
    pub subscription_id: Option<String>,
    pub is_recurring_charge: bool,
}

const SALE_COLUMNS: &str = "id, license_key, received_at, content_type, raw_body, sale_id, \
    product_name, subscription_id, is_recurring_charge";

/// The sales linked to these licenses, oldest first.
pub(crate) async fn sales_of(
    db: impl PgExecutor<'_>,
    license_keys: &[String],
) -> sqlx::Result<Vec<SaleEvent>> {
    sqlx::query_as(&format!(
        "select {SALE_COLUMNS} from gumroad_events \
         where license_key = any($1) and resource_name = 'sale' and not test \
           and duplicate_of is null order by id"
    ))
    .bind(license_keys)
    .fetch_all(db)
    .await
}

/// The gift sales given by `gifter_key`, found by the column the webhook fills
/// (migration 0010), plus any gift delivery not yet keyed (stored by an older release during an
/// upgrade, before the portal sweep keys it): the caller decodes each and keeps the ones given by
/// its address.
pub(crate) async fn gift_sales_by(
    db: impl PgExecutor<'_>,
    gifter_key: &str,
) -> sqlx::Result<Vec<SaleEvent>> {
    sqlx::query_as(&format!(
        "select {SALE_COLUMNS} from gumroad_events \
         where (gifter_key = $1 \
                or (gifter_key is null and position('gifter_email'::bytea in raw_body) > 0)) \
           and resource_name = 'sale' and not test and duplicate_of is null \
           and license_key is not null order by id"
    ))
    .bind(gifter_key)
    .fetch_all(db)
    .await
}

/// Deliveries that mention a giver but were stored before their giver was keyed: id, content
/// type and body, at most `limit`.
pub(crate) async fn unkeyed_gifts(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String, Vec<u8>)>> {
    sqlx::query_as(
        "select id, content_type, raw_body from gumroad_events \
         where gifter_key is null and position('gifter_email'::bytea in raw_body) > 0 \
         order by id limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Records a delivery's giver key ("" when it is not a gift after all).
pub(crate) async fn set_gifter_key(
    db: impl PgExecutor<'_>,
    id: i64,
    gifter_key: &str,
) -> sqlx::Result<()> {
    sqlx::query("update gumroad_events set gifter_key = $2 where id = $1 and gifter_key is null")
        .bind(id)
        .bind(gifter_key)
        .execute(db)
        .await
        .map(|_| ())
}

/// The newest cancellation / subscription_ended / subscription_restarted delivery of a
/// membership.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct MembershipEvent {
    pub subscription_id: String,
    pub resource_name: String,
    pub content_type: String,
    /// The delivery as it arrived (bytes; see migration 0004).
    pub raw_body: Vec<u8>,
}

pub(crate) async fn membership_states(
    db: impl PgExecutor<'_>,
    subscription_ids: &[String],
) -> sqlx::Result<Vec<MembershipEvent>> {
    sqlx::query_as(
        "select distinct on (subscription_id) subscription_id, resource_name, content_type, \
                raw_body \
         from gumroad_events \
         where subscription_id = any($1) and not test \
           and resource_name in ('cancellation', 'subscription_ended', 'subscription_restarted') \
         order by subscription_id, received_at desc, id desc",
    )
    .bind(subscription_ids)
    .fetch_all(db)
    .await
}

/// Licenses by key (the gifts an address gave belong to their recipients).
pub(crate) async fn licenses_by_key(
    db: impl PgExecutor<'_>,
    license_keys: &[String],
) -> sqlx::Result<Vec<LicenseRecord>> {
    sqlx::query_as(
        "select license_key, name, email, tier, source, source_ref, notes, issued_at, \
                expires_at, revoked_at, revoke_reason, key_id, blob \
         from licenses where license_key = any($1) order by issued_at desc, id desc",
    )
    .bind(license_keys)
    .fetch_all(db)
    .await
}
