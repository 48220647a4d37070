//! A license's history: its revocations and reinstatements (`license_revocations`, written by
//! the database's trigger whoever changes `revoked_at`) and its moves to another address
//! (`license_email_changes`); and lifting a revocation with a reason the trigger records.

use sqlx::{PgPool, Postgres, Transaction};

use crate::api::{ChangeAction, LicenseChange, LicenseRecord};

/// One row of the history: when, what, why, and a move's addresses.
type Row = (
    chrono::DateTime<chrono::Utc>,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Everything that happened to `license_key`, oldest first.
pub(crate) async fn history(db: &PgPool, license_key: &str) -> sqlx::Result<Vec<LicenseChange>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select at, action, reason, null::text, null::text from license_revocations \
             where license_key = $1 \
             union all \
             select changed_at, 'address_changed', reason, old_email, new_email \
             from license_email_changes where license_key = $1 \
             order by 1",
    )
    .bind(license_key)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, action, reason, old_email, new_email)| LicenseChange {
            at,
            action: match action.as_str() {
                "revoked" => ChangeAction::Revoked,
                "reinstated" => ChangeAction::Reinstated,
                _ => ChangeAction::AddressChanged,
            },
            reason,
            old_email,
            new_email,
        })
        .collect())
}

/// Lifts the revocation of `license_key`, whatever made it, recording `reason` (the history
/// trigger reads it from this transaction's `datatools.reinstate_reason`). None when the
/// license is not revoked (or does not exist).
pub(crate) async fn reinstate(
    tx: &mut Transaction<'_, Postgres>,
    license_key: &str,
    reason: &str,
) -> sqlx::Result<Option<LicenseRecord>> {
    sqlx::query("select set_config('datatools.reinstate_reason', $1, true)")
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    sqlx::query_as(
        "update licenses set revoked_at = null, revoke_reason = null \
         where license_key = $1 and revoked_at is not null \
         returning license_key, name, email, tier, source, source_ref, notes, issued_at, \
                   expires_at, revoked_at, revoke_reason, key_id, blob",
    )
    .bind(license_key)
    .fetch_optional(&mut **tx)
    .await
}
