//! Using a sent sign-in link (`portal_link_requests`): looking at it, redeeming it once, and the
//! short code's attempts.

use sqlx::PgExecutor;

/// A link as the confirm page and the redeeming see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LinkState {
    pub id: i64,
    /// The address the link was mailed to.
    pub email: String,
    pub used: bool,
    pub expired: bool,
    /// The address signed in with another of its links since.
    pub superseded: bool,
}

/// The sent link whose token hashes to `token_hash`, in whatever state; nothing is changed.
pub(crate) async fn by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<LinkState>> {
    sqlx::query_as(
        "select id, coalesce(sent_to, email) as email, used_at is not null as used, \
                expires_at <= now() as expired, superseded_at is not null as superseded \
         from portal_link_requests where token_hash = $1 and status = 'sent'",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Uses the link once: only when it is unused, unexpired and not superseded; then every other
/// live link of the address stops working. Returns the link's id and address key when this call
/// used it.
pub(crate) async fn redeem(
    tx: &mut sqlx::PgConnection,
    id: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    let used: Option<(i64, String)> = sqlx::query_as(
        "update portal_link_requests set used_at = now() \
         where id = $1 and status = 'sent' and used_at is null and superseded_at is null \
           and expires_at > now() \
         returning id, email_key",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((id, email_key)) = &used {
        sqlx::query(
            "update portal_link_requests set superseded_at = now() \
             where email_key = $1 and id <> $2 and status in ('sent', 'processing') \
               and used_at is null and superseded_at is null",
        )
        .bind(email_key)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(used)
}

/// The newest request this browser made, locked for a code attempt: the code of its link, when
/// it is a live sent link whose code still works.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CodeTarget {
    pub id: i64,
    pub code_hash: Option<Vec<u8>>,
}

pub(crate) async fn code_target(
    db: impl PgExecutor<'_>,
    browser_hash: &[u8],
) -> sqlx::Result<Option<CodeTarget>> {
    sqlx::query_as(
        "select id, case when status = 'sent' and used_at is null and superseded_at is null \
                          and expires_at > now() then code_hash end as code_hash \
         from portal_link_requests where browser_hash = $1 \
         order by id desc limit 1 for update",
    )
    .bind(browser_hash)
    .fetch_optional(db)
    .await
}

/// A wrong code: counts the attempt on the request, and ends the code (never the link) at `max`.
/// Every wrong code writes the same row, so the answer takes as long whether or not the asked
/// address had licenses (and so a link and a code).
pub(crate) async fn code_failed(db: impl PgExecutor<'_>, id: i64, max: i32) -> sqlx::Result<()> {
    sqlx::query(
        "update portal_link_requests set code_attempts = code_attempts + 1, \
             code_hash = case when code_attempts + 1 >= $2 then null else code_hash end \
         where id = $1",
    )
    .bind(id)
    .bind(max)
    .execute(db)
    .await
    .map(|_| ())
}
