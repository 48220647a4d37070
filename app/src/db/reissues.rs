//! Re-signing a license with a new key: the swap of its blob, the old one kept in
//! `license_reissues` (the jobs that drive it are `reissue_jobs.rs` and `reissue_items.rs`).

use sqlx::PgExecutor;

/// Replaces the blob of `license_key` if it is still signed by `old_key_id`, keeping the old
/// blob in `license_reissues`, in one statement. `None` when the license changed meanwhile (a
/// concurrent re-issue): nothing was written.
pub(crate) async fn replace_blob(
    db: impl PgExecutor<'_>,
    license_key: &str,
    old_key_id: &str,
    new_key_id: &str,
    new_blob: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "with old as ( \
             select license_key, key_id, blob from licenses \
             where license_key = $1 and key_id = $2 for update \
         ), swapped as ( \
             update licenses l set key_id = $3, blob = $4 \
             from old where l.license_key = old.license_key \
             returning l.license_key \
         ) \
         insert into license_reissues (license_key, old_key_id, old_blob, new_key_id, new_blob) \
         select old.license_key, old.key_id, old.blob, $3, $4 \
         from old join swapped using (license_key) \
         returning id",
    )
    .bind(license_key)
    .bind(old_key_id)
    .bind(new_key_id)
    .bind(new_blob)
    .fetch_optional(db)
    .await
}

/// The re-issue that gave `license_key` a blob signed by `key_id`, if one did.
pub(crate) async fn to_key(
    db: impl PgExecutor<'_>,
    license_key: &str,
    key_id: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "select id from license_reissues where license_key = $1 and new_key_id = $2 \
         order by id desc limit 1",
    )
    .bind(license_key)
    .bind(key_id)
    .fetch_optional(db)
    .await
}
