//! `portal_sessions`: signed-in browsers, by the SHA-256 of their cookie's id.

use sqlx::PgExecutor;

pub(crate) async fn create(
    db: impl PgExecutor<'_>,
    id_hash: &[u8],
    email_key: &str,
    link_request: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into portal_sessions (id_hash, email_key, link_request) values ($1, $2, $3)",
    )
    .bind(id_hash)
    .bind(email_key)
    .bind(link_request)
    .execute(db)
    .await
    .map(|_| ())
}

/// The session's address when it is still alive (used within `idle_secs`, younger than
/// `absolute_secs`), marking it used now.
pub(crate) async fn touch(
    db: impl PgExecutor<'_>,
    id_hash: &[u8],
    idle_secs: i64,
    absolute_secs: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "update portal_sessions set last_seen_at = now() \
         where id_hash = $1 and last_seen_at > now() - make_interval(secs => $2) \
           and created_at > now() - make_interval(secs => $3) \
         returning email_key",
    )
    .bind(id_hash)
    .bind(idle_secs as f64)
    .bind(absolute_secs as f64)
    .fetch_optional(db)
    .await
}

/// Ends a session; returns its address when there was one.
pub(crate) async fn delete(
    db: impl PgExecutor<'_>,
    id_hash: &[u8],
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("delete from portal_sessions where id_hash = $1 returning email_key")
        .bind(id_hash)
        .fetch_optional(db)
        .await
}

/// Forgets sessions past their absolute lifetime.
pub(crate) async fn sweep(db: impl PgExecutor<'_>, absolute_secs: i64) -> sqlx::Result<u64> {
    sqlx::query("delete from portal_sessions where created_at < now() - make_interval(secs => $1)")
        .bind(absolute_secs as f64)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}
