//! Processing one stored event: decode it, route it by what it is about, record how it ended.
//!
//! Every step is idempotent so a retry or a replay only finishes what is missing: minting goes
//! through `licenses.source_ref` (one license per sale, enforced by the database), a renewal
//! links the event to the license in the same transaction that extends it, and the email is
//! sent only while the event's `email_status` is not `sent`.

use super::error::ProcessError;
use super::outcome::{record, Outcome};
use super::ping::Ping;
use super::refs::{DISPUTE_REASON, REFUND_REASON};
use super::reversal::{reinstate, revoke};
use super::sale::sale;
use crate::api::Resource;
use crate::backoff::backoff;
use crate::db::gumroad_events::StoredEvent;
use crate::state::AppState;
use crate::text::LogSafe;

/// Processes an event the caller has claimed (status `processing`) and records how it ended.
/// A database outage becomes a retry; an inconsistency fails the event for a human.
pub(crate) async fn process(
    state: &AppState,
    event: StoredEvent,
) -> Result<StoredEvent, ProcessError> {
    let outcome = match route(state, &event).await {
        Ok(outcome) => outcome,
        Err(ProcessError::Db(e)) => {
            crate::db::note_error(&e);
            tracing::error!(event = event.id, error = %e, "gumroad event: database error; will retry");
            Outcome::Retry {
                outcome: String::new(),
                error: format!("database error: {e}"),
                after: backoff(event.attempts),
            }
        }
        Err(ProcessError::Inconsistent(why)) => {
            tracing::error!(event = event.id, error = %LogSafe(&why), "gumroad event: inconsistent data");
            Outcome::Failed(format!("inconsistent data: {why}"))
        }
    };
    record(state, &event, &outcome).await
}

async fn route(state: &AppState, event: &StoredEvent) -> Result<Outcome, ProcessError> {
    let ping = match Ping::parse(&event.content_type, &event.raw_body) {
        Ok(ping) => ping,
        Err(e) => return Ok(Outcome::Failed(format!("cannot decode the delivery: {e}"))),
    };
    if let Some(expected) = &state.config.gumroad.seller_id {
        let seller = ping.get("seller_id").unwrap_or("(none)");
        if seller != expected {
            return Ok(Outcome::Ignored(format!(
                "seller_id {seller} is not DATATOOLS_GUMROAD_SELLER_ID ({expected}); nothing done"
            )));
        }
    }
    match &event.resource_name {
        Resource::Sale => sale(state, event, &ping).await,
        Resource::Refund => revoke(state, event, REFUND_REASON).await,
        Resource::Dispute => revoke(state, event, DISPUTE_REASON).await,
        Resource::DisputeWon => reinstate(state, event).await,
        name @ (Resource::Cancellation
        | Resource::SubscriptionEnded
        | Resource::SubscriptionRestarted
        | Resource::SubscriptionUpdated) => Ok(Outcome::Ignored(format!(
            "{name}: nothing to do; the license runs to its expiry and each renewal charge \
             extends it"
        ))),
        other => Ok(Outcome::Ignored(format!(
            "resource_name {:?} is not one this server acts on; nothing done",
            other.as_str()
        ))),
    }
}
