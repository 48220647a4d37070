//! The background workers of re-issue jobs: take due licenses from `reissue_items` and work on
//! them. The table is the queue, so nothing lives only in memory: a job created before a crash
//! or a restart continues on the next start, and an item held by a worker that died is taken
//! again when its lease runs out. Several instances on one database are safe (`skip locked`).

use std::time::Duration;

use tokio::sync::watch;

use super::item::process;
use crate::background::Background;
use crate::db::{reissue_items, reissue_jobs};
use crate::state::AppState;

/// Licenses worked on at once: each waits mostly for the mail provider, so a few in parallel
/// keep a slow provider from stretching a rotation (500 licenses at 0.4 s each: under a
/// minute, not three).
pub(crate) const WORKERS: usize = 4;
/// How often an idle worker looks at the table (a new job wakes them at once; due retries and
/// expired leases are found by polling).
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Back-off after a database error while looking for work.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// Starts the [`WORKERS`]; [`Background::stop`] lets each finish the license it is on.
pub(crate) fn spawn_workers(state: AppState) -> Background {
    Background::spawn(WORKERS, |n, stopped| run(state.clone(), stopped, n))
}

async fn run(state: AppState, mut stopped: watch::Receiver<bool>, n: usize) {
    let key_id = state.config.signing_key.key_id().to_string();
    if n == 0 {
        // A job for a key this server no longer signs with can never finish here.
        match reissue_jobs::supersede_other_keys(&state.db, &key_id).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "re-issue jobs for an older key superseded"),
            Err(e) => crate::db::note_error(&e),
        }
    }
    loop {
        if *stopped.borrow() {
            break;
        }
        let pause = match reissue_items::claim_next(&state.db, &key_id).await {
            Ok(Some(item)) => {
                let license_key = item.license_key.clone();
                if let Err(e) = process(&state, item).await {
                    // The lease runs out and the item is taken again.
                    crate::db::note_error(&e);
                    tracing::error!(license_key = %license_key, error = %e, "re-issue: cannot record the outcome");
                }
                continue;
            }
            Ok(None) => POLL_INTERVAL,
            Err(e) => {
                crate::db::note_error(&e);
                tracing::warn!(error = %e, "re-issue worker: cannot read the queue");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            _ = state.reissue_wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => {}
        }
    }
}
