//! The `licenses` table.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::api::LicenseRecord;

/// A license to store (owned: it may wait in a batch, `db::batch`).
#[derive(Debug, Clone)]
pub(crate) struct NewLicense {
    pub license_key: String,
    pub name: String,
    pub email: String,
    pub tier: String,
    pub source: String,
    pub source_ref: Option<String>,
    pub notes: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub key_id: String,
    pub blob: String,
}

const COLUMNS: &str = "license_key, name, email, tier, source, source_ref, notes, issued_at, \
                       expires_at, revoked_at, revoke_reason, key_id, blob";

/// Inserts a license. Returns `None` when `source_ref` is already taken: the caller then
/// returns the existing license (an idempotent repeat, not an error).
pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    new: &NewLicense,
) -> sqlx::Result<Option<LicenseRecord>> {
    sqlx::query_as(&format!(
        "insert into licenses (license_key, name, email, tier, source, source_ref, notes, \
                               issued_at, expires_at, key_id, blob) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         on conflict (source_ref) do nothing \
         returning {COLUMNS}"
    ))
    .bind(&new.license_key)
    .bind(&new.name)
    .bind(&new.email)
    .bind(&new.tier)
    .bind(&new.source)
    .bind(&new.source_ref)
    .bind(&new.notes)
    .bind(new.issued_at)
    .bind(new.expires_at)
    .bind(&new.key_id)
    .bind(&new.blob)
    .fetch_optional(db)
    .await
}

/// Inserts several licenses in one statement; for each, in order, what [`insert`] would have
/// answered (None: its `source_ref` was taken, before or earlier in the same batch).
pub(crate) async fn insert_all(
    db: impl PgExecutor<'_>,
    rows: &[NewLicense],
) -> sqlx::Result<Vec<Option<LicenseRecord>>> {
    fn column<'a, T: 'a>(rows: &'a [NewLicense], f: impl Fn(&'a NewLicense) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    let inserted: Vec<LicenseRecord> = sqlx::query_as(&format!(
        "insert into licenses (license_key, name, email, tier, source, source_ref, notes, \
                               issued_at, expires_at, key_id, blob) \
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
                              $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[], \
                              $10::text[], $11::text[]) \
         on conflict (source_ref) do nothing \
         returning {COLUMNS}"
    ))
    .bind(column(rows, |r| r.license_key.as_str()))
    .bind(column(rows, |r| r.name.as_str()))
    .bind(column(rows, |r| r.email.as_str()))
    .bind(column(rows, |r| r.tier.as_str()))
    .bind(column(rows, |r| r.source.as_str()))
    .bind(column(rows, |r| r.source_ref.as_deref()))
    .bind(column(rows, |r| r.notes.as_str()))
    .bind(column(rows, |r| r.issued_at))
    .bind(column(rows, |r| r.expires_at))
    .bind(column(rows, |r| r.key_id.as_str()))
    .bind(column(rows, |r| r.blob.as_str()))
    .fetch_all(db)
    .await?;
    let mut by_key: std::collections::HashMap<String, LicenseRecord> = inserted
        .into_iter()
        .map(|r| (r.license_key.clone(), r))
        .collect();
    Ok(rows.iter().map(|r| by_key.remove(&r.license_key)).collect())
}

pub(crate) async fn find_by_source_ref(
    db: impl PgExecutor<'_>,
    source_ref: &str,
) -> sqlx::Result<Option<LicenseRecord>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from licenses where source_ref = $1"
    ))
    .bind(source_ref)
    .fetch_optional(db)
    .await
}

pub(crate) async fn find(
    db: impl PgExecutor<'_>,
    license_key: &str,
) -> sqlx::Result<Option<LicenseRecord>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from licenses where license_key = $1"
    ))
    .bind(license_key)
    .fetch_optional(db)
    .await
}

/// Licenses for an address (compared by [`crate::address::key`]), newest first; every license
/// when `email` is None.
pub(crate) async fn list(
    db: impl PgExecutor<'_>,
    email: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<LicenseRecord>> {
    // Two statements rather than `$1 is null or ...`, so the address one uses its index.
    let filter = match email {
        Some(_) => "where lower(email collate \"C\") = lower($1 collate \"C\")",
        None => "where $1::text is null",
    };
    sqlx::query_as(&format!(
        "select {COLUMNS} from licenses {filter} order by issued_at desc, id desc limit $2"
    ))
    .bind(email)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Marks a license revoked. Revoking twice keeps the first time and reason.
pub(crate) async fn revoke(
    db: impl PgExecutor<'_>,
    license_key: &str,
    reason: &str,
) -> sqlx::Result<Option<LicenseRecord>> {
    sqlx::query_as(&format!(
        "update licenses \
         set revoked_at = coalesce(revoked_at, now()), \
             revoke_reason = coalesce(revoke_reason, $2) \
         where license_key = $1 \
         returning {COLUMNS}"
    ))
    .bind(license_key)
    .bind(reason)
    .fetch_optional(db)
    .await
}

/// Lifts a revocation, but only one made for `reason` (a won dispute reinstates a license the
/// dispute revoked, never one revoked by hand or for a refund). Returns the license when it was
/// reinstated.
pub(crate) async fn reinstate(
    db: impl PgExecutor<'_>,
    license_key: &str,
    reason: &str,
) -> sqlx::Result<Option<LicenseRecord>> {
    sqlx::query_as(&format!(
        "update licenses set revoked_at = null, revoke_reason = null \
         where license_key = $1 and revoked_at is not null and revoke_reason = $2 \
         returning {COLUMNS}"
    ))
    .bind(license_key)
    .bind(reason)
    .fetch_optional(db)
    .await
}

/// Locks a license row for the rest of the transaction (a renewal reads, re-signs, writes).
pub(crate) async fn find_for_update(
    db: impl PgExecutor<'_>,
    license_key: &str,
) -> sqlx::Result<Option<LicenseRecord>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from licenses where license_key = $1 for update"
    ))
    .bind(license_key)
    .fetch_optional(db)
    .await
}

/// A renewal: the same license key with a new expiry, tier and re-signed blob.
pub(crate) async fn renew(
    db: impl PgExecutor<'_>,
    license_key: &str,
    tier: &str,
    expires_at: Option<DateTime<Utc>>,
    key_id: &str,
    blob: &str,
) -> sqlx::Result<LicenseRecord> {
    sqlx::query_as(&format!(
        "update licenses set tier = $2, expires_at = $3, key_id = $4, blob = $5 \
         where license_key = $1 returning {COLUMNS}"
    ))
    .bind(license_key)
    .bind(tier)
    .bind(expires_at)
    .bind(key_id)
    .bind(blob)
    .fetch_one(db)
    .await
}
