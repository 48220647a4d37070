//! Asking for a sign-in link: the limits are checked and the request is queued in one short
//! transaction that does the same work for every address, known or not. Whether the address has
//! licenses is looked up later, by the sender (`sender.rs`), after the answer has gone out.

use super::limits::{self, Decision};
use crate::db::portal::links;
use crate::state::AppState;

/// Queues a link for `email` (already checked as an address) asked from the browser whose CSRF
/// cookie hashes to `browser_hash`, unless a limit says no.
pub(crate) async fn request_link(
    state: &AppState,
    email: &str,
    browser_hash: &[u8; 32],
) -> sqlx::Result<Decision> {
    let email_key = email.to_lowercase();
    let mut tx = state.db.begin().await?;
    links::lock_address(&mut tx, &email_key).await?;
    let counts = links::counts(&mut *tx, &email_key).await?;
    let decision = limits::decide(&counts, state.config.portal.links_per_day);
    if decision == Decision::Allowed {
        links::insert(&mut *tx, email, &email_key, browser_hash).await?;
    }
    tx.commit().await?;
    if decision == Decision::Allowed {
        state.portal_wake.notify_one();
    }
    Ok(decision)
}
