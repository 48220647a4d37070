//! `portal_audit`: what buyers did in the portal.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// One of the actions migration 0005 allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    SignIn,
    SignOut,
    Resend,
    ResendToRecipient,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignOut => "sign_out",
            Action::Resend => "resend",
            Action::ResendToRecipient => "resend_to_recipient",
        }
    }
}

pub(crate) async fn record(
    db: impl PgExecutor<'_>,
    email_key: &str,
    action: Action,
    license_key: Option<&str>,
    detail: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into portal_audit (email_key, action, license_key, detail) values ($1, $2, $3, $4)",
    )
    .bind(email_key)
    .bind(action.as_str())
    .bind(license_key)
    .bind(detail)
    .execute(db)
    .await
    .map(|_| ())
}

/// Serialises re-sends of one license (the limit check, then the record) until the transaction
/// ends.
pub(crate) async fn lock_license(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    license_key: &str,
) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('portal-resend:' || $1, 0))")
        .bind(license_key)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// The latest portal re-send of a license and how many there were in 24 hours.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Resends {
    pub latest: Option<DateTime<Utc>>,
    pub day: i64,
    pub now: DateTime<Utc>,
}

pub(crate) async fn resends(db: impl PgExecutor<'_>, license_key: &str) -> sqlx::Result<Resends> {
    sqlx::query_as(
        "select max(at) as latest, \
                count(*) filter (where at > now() - interval '24 hours') as day, now() as now \
         from portal_audit where license_key = $1 and action in ('resend', 'resend_to_recipient')",
    )
    .bind(license_key)
    .fetch_one(db)
    .await
}
