//! A subscription's renewal charge extends the license its first sale got.

use chrono::{DateTime, SubsecRound, Utc};

use super::error::ProcessError;
use crate::api::LicenseRecord;
use crate::db::gumroad_events as events;
use crate::db::licenses;
use crate::license::{self, License, LicenseKey};
use crate::mint;
use crate::products::TermSpec;
use crate::state::AppState;

/// Extends the subscription's license by `term` from its current expiry (or from now when it
/// has lapsed), re-signs it, and links the event, all in one transaction.
pub(crate) async fn renew(
    state: &AppState,
    event_id: i64,
    license_key: &str,
    tier: &str,
    term: TermSpec,
    now: DateTime<Utc>,
) -> Result<LicenseRecord, ProcessError> {
    let mut tx = state.db.begin().await?;
    let current = licenses::find_for_update(&mut *tx, license_key)
        .await?
        .ok_or_else(|| {
            ProcessError::Inconsistent(format!(
                "license {license_key} of the subscription vanished"
            ))
        })?;
    let now = now.trunc_subsecs(0);
    let new_term = match (current.expires_at, term) {
        (None, _) => license::Term::Perpetual,
        (Some(until), term) => mint::expiry(until.max(now), term),
    };
    let key = &state.config.signing_key;
    let renewed = License {
        license_key: current.license_key.parse::<LicenseKey>().map_err(|e| {
            ProcessError::Inconsistent(format!("stored license key {license_key:?}: {e}"))
        })?,
        name: current.name.clone(),
        email: current.email.clone(),
        tier: tier.to_string(),
        issued_at: current.issued_at,
        term: new_term,
        source: current.source.clone(),
        key_id: key.key_id(),
    };
    let blob = license::sign(&renewed, key);
    let record = licenses::renew(
        &mut *tx,
        license_key,
        tier,
        renewed.expires_at(),
        &renewed.key_id.to_string(),
        &blob,
    )
    .await?;
    events::set_license(&mut *tx, event_id, license_key).await?;
    tx.commit().await?;
    Ok(record)
}
