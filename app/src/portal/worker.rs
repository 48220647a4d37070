//! The background task sending sign-in links from `portal_link_requests`, and sweeping old
//! requests and sessions. The table is the queue: a request queued before a crash is sent after
//! the restart, and one being sent when the process died is taken again once its lease ends.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::limits::SESSION_ABSOLUTE;
use super::purchase::key_old_gifts;
use super::sender::send_next;
use crate::background::Background;
use crate::db::portal::{links, sessions};
use crate::state::AppState;

/// An idle sender looks at the table this often (the request handler wakes it at once).
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const ERROR_PAUSE: Duration = Duration::from_secs(5);
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// Senders working at once: one slow mail (a known address) never delays the next request's
/// answer by mail, which would tell a watcher that the request before theirs found licenses.
const SENDERS: usize = 4;

/// Starts the senders; [`Background::stop`] lets each finish the link it is sending.
pub(crate) fn spawn_sender(state: AppState) -> Background {
    Background::spawn(SENDERS, |n, stopped| run(state.clone(), n, stopped))
}

async fn run(state: AppState, sender: usize, mut stopped: watch::Receiver<bool>) {
    let mut last_sweep: Option<Instant> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        let pause = match send_next(&state).await {
            Ok(true) => continue,
            Ok(false) => POLL_INTERVAL,
            Err(e) => {
                tracing::warn!(error = %e, "portal sender: cannot read the queue");
                ERROR_PAUSE
            }
        };
        // One sender sweeps.
        if sender == 0 && last_sweep.is_none_or(|at| at.elapsed() >= SWEEP_INTERVAL) {
            last_sweep = Some(Instant::now());
            sweep(&state).await;
        }
        tokio::select! {
            _ = state.portal_wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => {}
        }
    }
}

async fn sweep(state: &AppState) {
    match key_old_gifts(&state.db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            deliveries = n,
            "portal: keyed the givers of older gift deliveries"
        ),
        Err(e) => tracing::warn!(error = %e, "portal: cannot key older gift deliveries"),
    }
    let requests = links::sweep(&state.db).await;
    let expired = sessions::sweep(&state.db, SESSION_ABSOLUTE.as_secs() as i64).await;
    match (requests, expired) {
        (Ok(r), Ok(s)) if r + s > 0 => {
            tracing::info!(
                requests = r,
                sessions = s,
                "portal: swept old requests and sessions"
            )
        }
        (Err(e), _) | (_, Err(e)) => tracing::warn!(error = %e, "portal: sweep failed"),
        _ => {}
    }
}
