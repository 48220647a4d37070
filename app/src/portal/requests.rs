//! Asking for a sign-in link: the limits are checked and the request is queued in one short
//! transaction that does the same work for every address, known or not. Whether the address has
//! licenses is looked up later, by the sender (`sender.rs`), after the answer has gone out.

use super::limits::{self, Decision};
use crate::address;
use crate::db::portal::links;
use crate::state::AppState;

/// Queues a link for `email` (already checked as an address) asked from the browser whose CSRF
/// cookie hashes to `browser_hash`, from client network `client_key` (`client.rs`), unless a
/// limit says no. A refusal is counted for the metric and the alert.
pub(crate) async fn request_link(
    state: &AppState,
    email: &str,
    browser_hash: &[u8; 32],
    client_key: Option<&str>,
) -> sqlx::Result<Decision> {
    let email_key = address::key(email);
    let mut tx = state.db.begin().await?;
    links::lock_client(&mut tx, client_key).await?;
    let counts = links::counts(&mut *tx, &email_key, client_key).await?;
    let decision = limits::decide(&counts, state.config.portal.links_per_day);
    match decision.limit_kind() {
        None => {
            links::insert(&mut *tx, email, &email_key, browser_hash, client_key).await?;
        }
        Some(kind) => links::record_refusal(&mut *tx, kind).await?,
    }
    tx.commit().await?;
    match decision {
        Decision::Allowed => state.portal_wake.notify_one(),
        refused => tracing::info!(
            ?refused,
            client = client_key.unwrap_or("-"),
            "portal: sign-in request refused by a limit"
        ),
    }
    Ok(decision)
}
