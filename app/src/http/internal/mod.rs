//! The admin API under `/internal/`, reached only over an SSH tunnel to 127.0.0.1.
//!
//! One nested router: every route behind it is refused (404) when it came through the public
//! proxy, before anything else, and needs the Bearer admin token (see `guard`). A route added
//! here cannot forget either.
//!
//! - `licenses`: mint, list, show, revoke, resend; `search`: find (paged) and a license's
//!   history; `reinstate`: lift a revocation;
//! - `keys`: the public keys the server signs with and trusts;
//! - `email_preview`: each email a buyer can get, rendered with sample data;
//! - `events`: Gumroad deliveries: list, show, replay;
//! - `reissue`: re-sign every active license with the current key (a background job);
//! - `email_change`: move a license to another address (a buyer's request), recorded;
//! - `gumroad_sync`: after an outage, store the sales Gumroad lists that never arrived;
//! - `alerts`: the open problems, the host's facts from dtops, the Prometheus metrics;
//! - `version`: the commit the server was built from (also a header on every answer).

mod alerts;
mod email_change;
mod email_preview;
mod events;
mod guard;
mod gumroad_sync;
mod keys;
mod licenses;
mod reinstate;
mod reissue;
mod search;
mod version;

use axum::{middleware, Router};

use crate::state::AppState;

pub(super) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(licenses::router())
        .merge(search::router())
        .merge(reinstate::router())
        .merge(keys::router())
        .merge(email_preview::router())
        .merge(events::router())
        .merge(reissue::router())
        .merge(email_change::router())
        .merge(gumroad_sync::router())
        .merge(alerts::router())
        .merge(version::router())
        // Inside the token check: only an admin's answers say which build serves.
        .route_layer(middleware::from_fn(version::build_header))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_admin_token,
        ))
        // Outermost: runs before the token check.
        .layer(middleware::from_fn(guard::refuse_proxied))
}
