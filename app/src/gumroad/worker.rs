//! The background worker: takes due events from `gumroad_events` and processes them.
//!
//! The table is the queue, so nothing lives only in memory: events stored before a crash or a
//! restart are taken on the next start, and a worker that died mid-event loses its lease
//! (`LEASE_SECONDS`) so another takes the event over. Several instances on one database are
//! safe: taking an event is one `update ... where id = (select ... for update skip locked)`.
//!
//! Each worker writes its heartbeat row (`worker_heartbeats`) every `BEAT_EVERY` while its
//! loop runs, and deletes it when it stops cleanly: a row that goes stale means a worker died or
//! is stuck, and the alert sentinel says so.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::process::process;
use crate::background::Background;
use crate::db::{gumroad_events, heartbeats};
use crate::state::AppState;

/// How often an idle worker looks at the table: the webhook wakes one at once, but another
/// instance's deliveries and due retries are seen by polling.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Back-off after a database error while looking for work.
const ERROR_PAUSE: Duration = Duration::from_secs(5);
/// How often a worker writes its heartbeat (the sentinel calls a worker stopped after
/// `alerts::WORKER_SILENT`, several beats later).
const BEAT_EVERY: Duration = Duration::from_secs(15);

/// Worker `n`'s name in `worker_heartbeats` and in alerts.
fn worker_name(n: usize) -> String {
    format!("gumroad-{n}")
}

/// Starts `count` workers; [`Background::stop`] lets each finish its current event.
pub(crate) fn spawn_workers(state: AppState, count: usize) -> Background {
    Background::spawn(count, |n, stopped| run(state.clone(), stopped, n))
}

/// The heartbeat names of `count` workers.
pub(crate) fn worker_names(count: usize) -> Vec<String> {
    (0..count).map(worker_name).collect()
}

async fn run(state: AppState, mut stopped: watch::Receiver<bool>, n: usize) {
    tracing::debug!(worker = n, "gumroad worker started");
    let name = worker_name(n);
    let mut last_beat: Option<Instant> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        if last_beat.is_none_or(|at| at.elapsed() >= BEAT_EVERY) {
            // A failed beat is tried again on the next turn (the database may be down, which
            // the queue read below reports).
            if heartbeats::beat(&state.db, &name).await.is_ok() {
                last_beat = Some(Instant::now());
            }
        }
        let pause = match gumroad_events::claim_next(&state.db).await {
            Ok(Some(event)) => {
                let id = event.id;
                if let Err(e) = process(&state, event).await {
                    // The lease runs out and the event is taken again.
                    tracing::error!(event = id, error = %e, "gumroad event: cannot record the outcome");
                }
                continue;
            }
            Ok(None) => POLL_INTERVAL,
            Err(e) => {
                crate::db::note_error(&e);
                tracing::warn!(error = %e, "gumroad worker: cannot read the queue");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            _ = state.wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => {}
        }
    }
    if let Err(e) = heartbeats::remove(&state.db, &name).await {
        tracing::debug!(worker = n, error = %e, "cannot remove the worker's heartbeat");
    }
    tracing::debug!(worker = n, "gumroad worker stopped");
}
