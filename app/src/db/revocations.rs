//! What the revocation feed lists: every revoked license, and the feed's sequence number, read
//! together so the number always describes the list it is served with.

use sqlx::PgPool;

use crate::license::RevokedRow;

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    license_key: String,
    key_id: String,
    revoked_at: chrono::DateTime<chrono::Utc>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The sequence number (bumped by migration 0010's trigger on every revocation change).
pub(crate) async fn seq(db: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("select seq from revocation_feed")
        .fetch_one(db)
        .await
}

/// The sequence number and the revoked licenses, from one snapshot of the database.
pub(crate) async fn snapshot(db: &PgPool) -> sqlx::Result<(i64, Vec<RevokedRow>)> {
    let mut tx = db.begin().await?;
    sqlx::query("set transaction isolation level repeatable read read only")
        .execute(&mut *tx)
        .await?;
    let seq: i64 = sqlx::query_scalar("select seq from revocation_feed")
        .fetch_one(&mut *tx)
        .await?;
    let rows: Vec<Row> = sqlx::query_as(
        "select license_key, key_id, revoked_at, expires_at from licenses \
         where revoked_at is not null",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(|r| RevokedRow {
            license_key: r.license_key,
            key_id: r.key_id,
            revoked_at: r.revoked_at,
            expires_at: r.expires_at,
        })
        .collect();
    Ok((seq, rows))
}
