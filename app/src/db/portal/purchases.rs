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

/// Sales whose body mentions a giver (through migration 0005's partial index); the caller
/// decodes each and keeps the ones given by its address.
pub(crate) async fn gift_sales(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<SaleEvent>> {
    sqlx::query_as(&format!(
        "select {SALE_COLUMNS} from gumroad_events \
         where position('gifter_email'::bytea in raw_body) > 0 and resource_name = 'sale' \
           and not test and duplicate_of is null and license_key is not null order by id"
    ))
    .fetch_all(db)
    .await
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
