//! How one attempt at an event ended, and recording that on the event.

use std::time::Duration;

use chrono::Utc;

use super::error::ProcessError;
use crate::api::EventStatus;
use crate::db::gumroad_events::{self as events, Finish, StoredEvent};
use crate::state::AppState;
use crate::text::LogSafe;

/// How one attempt ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done(String),
    Ignored(String),
    Failed(String),
    Retry {
        outcome: String,
        error: String,
        after: Duration,
    },
}

/// Records how the attempt on `event` ended and returns the event as it now is.
pub(crate) async fn record(
    state: &AppState,
    event: &StoredEvent,
    outcome: &Outcome,
) -> Result<StoredEvent, ProcessError> {
    let finish = match outcome {
        Outcome::Done(outcome) => Finish {
            status: EventStatus::Done,
            outcome: Some(outcome),
            last_error: None,
            retry_at: None,
        },
        Outcome::Ignored(outcome) => Finish {
            status: EventStatus::Ignored,
            outcome: Some(outcome),
            last_error: None,
            retry_at: None,
        },
        Outcome::Failed(error) => Finish {
            status: EventStatus::Failed,
            outcome: None,
            last_error: Some(error),
            retry_at: None,
        },
        Outcome::Retry {
            outcome,
            error,
            after,
        } => Finish {
            status: EventStatus::Retrying,
            outcome: (!outcome.is_empty()).then_some(outcome.as_str()),
            last_error: Some(error),
            retry_at: Some(Utc::now() + chrono::Duration::from_std(*after).unwrap_or_default()),
        },
    };
    tracing::info!(
        event = event.id,
        sale_id = %LogSafe(event.sale_id.as_deref().unwrap_or("")),
        resource = %LogSafe(event.resource_name.as_str()),
        test = event.test,
        status = %finish.status,
        detail = %LogSafe(finish.last_error.or(finish.outcome).unwrap_or("")),
        "gumroad event processed"
    );
    events::finish(&state.db, event.id, &finish)
        .await?
        .ok_or_else(|| ProcessError::Inconsistent(format!("event {} vanished", event.id)))
}
