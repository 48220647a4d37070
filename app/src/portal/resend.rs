//! "Email it to me again" (and a giver's "send it to the recipient again"): the license's
//! current blob, to the license's own address only, a few times a day.

use super::licenses::{for_address, Role};
use super::limits::{wait, RESENDS_PER_DAY, RESEND_INTERVAL};
use super::purchase::mask;
use crate::db::portal::audit::{self, Action};
use crate::delivery::deliver;
use crate::email::LicenseEmail;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resent {
    /// Sent to this (masked) address.
    Sent(String),
    /// Sent less than a minute ago: seconds to wait.
    Wait(u64),
    DayLimit,
    /// The mail provider did not take it (logged); try again later.
    Failed,
    /// Not a license this address may have sent (or a revoked one).
    NotAvailable,
}

pub(crate) async fn email_again(
    state: &AppState,
    email_key: &str,
    license_key: &str,
) -> sqlx::Result<Resent> {
    let entries = for_address(state, email_key).await?;
    let Some(entry) = entries
        .iter()
        .find(|e| e.record.license_key == license_key && e.record.revoked_at.is_none())
    else {
        return Ok(Resent::NotAvailable);
    };
    let action = match entry.role {
        Role::Owner => Action::Resend,
        Role::Giver => Action::ResendToRecipient,
    };
    // The check and the record in one transaction under a lock on the license: of many
    // "email it again" clicks at once (or a giver's burst), one passes.
    let mut tx = state.db.begin().await?;
    audit::lock_license(&mut tx, license_key).await?;
    let counts = audit::resends(&mut *tx, license_key).await?;
    if counts.day >= RESENDS_PER_DAY {
        return Ok(Resent::DayLimit);
    }
    let secs = wait(counts.latest, counts.now, RESEND_INTERVAL);
    if secs > 0 {
        return Ok(Resent::Wait(secs));
    }
    audit::record(&mut *tx, email_key, action, Some(license_key), None).await?;
    tx.commit().await?;
    let to = &entry.record.email;
    let product = entry.product(state);
    let sent = deliver(
        state,
        entry.purchase.latest_event,
        &entry.record,
        LicenseEmail::Resend,
        "resend asked in the buyer portal",
        &product,
        to,
    )
    .await?;
    Ok(match sent {
        Ok(_) => Resent::Sent(mask(to)),
        Err(_) => Resent::Failed,
    })
}
