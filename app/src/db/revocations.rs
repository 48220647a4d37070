//! What the revocation feed lists: every revoked license, and the feed's sequence number, read
//! together so the number always describes the list it is served with.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct RevokedLicense {
    pub license_key: String,
    pub key_id: String,
    pub revoked_at: DateTime<Utc>,
}

/// The sequence number (bumped by migration 0005's trigger on every revocation change) and the
/// revoked licenses, from one snapshot of the database.
pub(crate) async fn snapshot(db: &PgPool) -> sqlx::Result<(i64, Vec<RevokedLicense>)> {
    let mut tx = db.begin().await?;
    sqlx::query("set transaction isolation level repeatable read read only")
        .execute(&mut *tx)
        .await?;
    let seq: i64 = sqlx::query_scalar("select seq from revocation_feed")
        .fetch_one(&mut *tx)
        .await?;
    let revoked = sqlx::query_as(
        "select license_key, key_id, revoked_at from licenses \
         where revoked_at is not null order by license_key",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((seq, revoked))
}
