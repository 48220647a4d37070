//! Moving a license to another address: the blob is re-signed with the new address (the desktop
//! app shows the address it carries), with the same license key, tier and dates, and the change
//! is recorded with both blobs in `license_email_changes`, all in one transaction.

use sqlx::PgPool;

use crate::api::LicenseRecord;
use crate::db::email_changes::{self, NewEmailChange};
use crate::db::licenses;
use crate::license::{self, License, LicenseKey, SigningKeyPair, Term};
use crate::mint::InvalidField;

/// The moved license, where it was, and the change's id.
#[derive(Debug, Clone)]
pub(crate) struct Moved {
    pub record: LicenseRecord,
    pub old_email: String,
    pub change_id: i64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum MoveError {
    #[error("no such license")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
}

/// Moves `license_key` to `new_email` (already checked as an address), re-signed with `key`.
pub(crate) async fn move_license(
    db: &PgPool,
    key: &SigningKeyPair,
    license_key: &str,
    new_email: &str,
    reason: &str,
) -> Result<Moved, MoveError> {
    let mut tx = db.begin().await?;
    let current = licenses::find_for_update(&mut *tx, license_key)
        .await?
        .ok_or(MoveError::NotFound)?;
    if current.email.eq_ignore_ascii_case(new_email) {
        return Err(InvalidField {
            field: "email",
            message: format!("{new_email:?} is already the license's address"),
        }
        .into());
    }
    let moved = License {
        license_key: current.license_key.parse::<LicenseKey>().map_err(|e| {
            MoveError::Inconsistent(format!("stored license key {license_key:?}: {e}"))
        })?,
        name: current.name.clone(),
        email: new_email.to_string(),
        tier: current.tier.clone(),
        issued_at: current.issued_at,
        term: match current.expires_at {
            Some(at) => Term::Until(at),
            None => Term::Perpetual,
        },
        source: current.source.clone(),
        key_id: key.key_id(),
    };
    let blob = license::sign(&moved, key);
    let new_key_id = key.key_id().to_string();
    let record =
        email_changes::set_email_and_blob(&mut *tx, license_key, new_email, &new_key_id, &blob)
            .await?;
    let change_id = email_changes::insert(
        &mut *tx,
        &NewEmailChange {
            license_key,
            old_email: &current.email,
            new_email,
            reason,
            old_key_id: &current.key_id,
            old_blob: &current.blob,
            new_key_id: &new_key_id,
            new_blob: &blob,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Moved {
        record,
        old_email: current.email,
        change_id,
    })
}
