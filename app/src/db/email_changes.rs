//! `license_email_changes`: a license moved to another address, with both blobs kept.

use sqlx::PgExecutor;

pub(crate) struct NewEmailChange<'a> {
    pub license_key: &'a str,
    pub old_email: &'a str,
    pub new_email: &'a str,
    pub reason: &'a str,
    pub old_key_id: &'a str,
    pub old_blob: &'a str,
    pub new_key_id: &'a str,
    pub new_blob: &'a str,
}

/// Records a change; returns its id.
pub(crate) async fn insert(
    db: impl PgExecutor<'_>,
    change: &NewEmailChange<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into license_email_changes (license_key, old_email, new_email, reason, \
             old_key_id, old_blob, new_key_id, new_blob) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
    )
    .bind(change.license_key)
    .bind(change.old_email)
    .bind(change.new_email)
    .bind(change.reason)
    .bind(change.old_key_id)
    .bind(change.old_blob)
    .bind(change.new_key_id)
    .bind(change.new_blob)
    .fetch_one(db)
    .await
}

/// Moves a license to `email` with its re-signed blob.
pub(crate) async fn set_email_and_blob(
    db: impl PgExecutor<'_>,
    license_key: &str,
    email: &str,
    key_id: &str,
    blob: &str,
) -> sqlx::Result<crate::api::LicenseRecord> {
    sqlx::query_as(
        "update licenses set email = $2, key_id = $3, blob = $4 where license_key = $1 \
         returning license_key, name, email, tier, source, source_ref, notes, issued_at, \
                   expires_at, revoked_at, revoke_reason, key_id, blob",
    )
    .bind(license_key)
    .bind(email)
    .bind(key_id)
    .bind(blob)
    .fetch_one(db)
    .await
}
