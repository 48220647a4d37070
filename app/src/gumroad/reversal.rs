//! Refunds and disputes revoke the sale's license; a won dispute reinstates it.

use super::error::ProcessError;
use super::outcome::Outcome;
use super::refs::{source_ref, DISPUTE_REASON};
use crate::api::Resource;
use crate::db::gumroad_events::{self as events, StoredEvent};
use crate::db::{event_links, licenses};
use crate::state::AppState;

/// The revoke reason a reversal resource stands for (None for a won dispute or anything else).
pub(crate) fn revoke_reason(resource: &Resource) -> Option<&'static str> {
    match resource {
        Resource::Refund => Some(super::refs::REFUND_REASON),
        Resource::Dispute => Some(DISPUTE_REASON),
        _ => None,
    }
}

/// The license of the event's sale: the one its sale event got, or the one minted for it.
async fn sale_license(state: &AppState, sale_id: &str) -> Result<Option<String>, ProcessError> {
    if let Some(key) = event_links::sale_license(&state.db, sale_id).await? {
        return Ok(Some(key));
    }
    Ok(
        licenses::find_by_source_ref(&state.db, &source_ref(sale_id))
            .await?
            .map(|l| l.license_key),
    )
}

pub(crate) async fn revoke(
    state: &AppState,
    event: &StoredEvent,
    reason: &str,
) -> Result<Outcome, ProcessError> {
    let Some(sale_id) = event.sale_id.as_deref() else {
        return Ok(Outcome::Failed("the delivery has no sale_id".into()));
    };
    if event.test {
        return Ok(Outcome::Done(format!(
            "test ping: would revoke the license of sale {sale_id} ({reason}); nothing changed"
        )));
    }
    let Some(key) = sale_license(state, sale_id).await? else {
        return Ok(Outcome::Done(format!(
            "no license was minted for sale {sale_id}; nothing to revoke (its sale, if it \
             arrives later, will not mint)"
        )));
    };
    let record = licenses::revoke(&state.db, &key, reason)
        .await?
        .ok_or_else(|| ProcessError::Inconsistent(format!("license {key} vanished")))?;
    events::set_license(&state.db, event.id, &key).await?;
    Ok(Outcome::Done(
        if record.revoke_reason.as_deref() == Some(reason) {
            format!("revoked {key} ({reason})")
        } else {
            format!(
                "{key} was already revoked ({}); kept as it was",
                record.revoke_reason.as_deref().unwrap_or("")
            )
        },
    ))
}

pub(crate) async fn reinstate(
    state: &AppState,
    event: &StoredEvent,
) -> Result<Outcome, ProcessError> {
    let Some(sale_id) = event.sale_id.as_deref() else {
        return Ok(Outcome::Failed("the delivery has no sale_id".into()));
    };
    if event.test {
        return Ok(Outcome::Done(format!(
            "test ping: would reinstate the license of sale {sale_id}; nothing changed"
        )));
    }
    let Some(key) = sale_license(state, sale_id).await? else {
        return Ok(Outcome::Done(format!(
            "no license was minted for sale {sale_id}; nothing to reinstate (replay the sale's \
             event to mint it)"
        )));
    };
    events::set_license(&state.db, event.id, &key).await?;
    match licenses::reinstate(&state.db, &key, DISPUTE_REASON).await? {
        Some(_) => Ok(Outcome::Done(format!("dispute won: reinstated {key}"))),
        None => {
            let current = licenses::find(&state.db, &key).await?;
            let why = match current.and_then(|l| l.revoke_reason) {
                Some(reason) => format!("it is revoked for {reason:?}, not for the dispute"),
                None => "it is not revoked".into(),
            };
            Ok(Outcome::Done(format!(
                "dispute won: {key} left as it is ({why})"
            )))
        }
    }
}
