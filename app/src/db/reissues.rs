//! Re-signing licenses with a new key: which licenses are active, and the swap of a blob with
//! the old one kept in `license_reissues`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// An active license (not revoked, not expired at `now`) as re-issuing needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ActiveLicense {
    pub license_key: String,
    pub email: String,
    pub key_id: String,
    pub blob: String,
}

/// Active licenses whose blob is signed by a key other than `key_id`, oldest first.
pub(crate) async fn active_not_signed_by(
    db: impl PgExecutor<'_>,
    key_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<ActiveLicense>> {
    sqlx::query_as(
        "select license_key, email, key_id, blob from licenses \
         where revoked_at is null and (expires_at is null or expires_at > $2) and key_id <> $1 \
         order by id",
    )
    .bind(key_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// How many active licenses already carry `key_id`.
pub(crate) async fn count_active_signed_by(
    db: impl PgExecutor<'_>,
    key_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from licenses \
         where revoked_at is null and (expires_at is null or expires_at > $2) and key_id = $1",
    )
    .bind(key_id)
    .bind(now)
    .fetch_one(db)
    .await
}

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

/// Records that the buyer was emailed the blob of re-issue `id`.
pub(crate) async fn mark_emailed(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query("update license_reissues set emailed_at = now() where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}
