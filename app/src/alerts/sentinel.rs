//! The sentinel: a background task that, every `DATATOOLS_ALERT_CHECK_SECONDS`, finds the
//! problems that exist (`detect`), records them in `alerts` (new ones opened, seen ones touched,
//! ones gone for two passes resolved), and mails the new ones (`notify`).
//!
//! Several instances on one database are safe: a problem's open row is unique (the insert of a
//! second one touches the first), and mailing claims rows before it sends.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use super::{detect, notify};
use crate::background::Background;
use crate::db::alerts;
use crate::state::AppState;
use crate::text::LogSafe;

/// Starts the sentinel; [`Background::stop`] lets it finish its pass.
pub(crate) fn spawn_sentinel(state: AppState) -> Background {
    Background::spawn(1, |_, stopped| run(state.clone(), stopped))
}

async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let every = state.config.alerts.check_every;
    loop {
        if *stopped.borrow() {
            break;
        }
        if let Err(e) = pass(&state).await {
            crate::db::note_error(&e);
            tracing::warn!(error = %e, "alert sentinel: cannot check (the database?)");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.changed() => {}
        }
    }
}

/// One pass: find, record, resolve, mail.
pub(crate) async fn pass(state: &AppState) -> sqlx::Result<()> {
    let started: chrono::DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&state.db)
        .await?;
    for problem in detect::current(state, started).await? {
        if alerts::seen(&state.db, &problem).await? {
            tracing::warn!(
                key = %LogSafe(&problem.key),
                summary = %LogSafe(&problem.summary),
                "alert: new problem"
            );
        }
    }
    // Resolved once missing from two passes in a row: one pass that misses it (an event being
    // replayed that very moment) must not close it and open it again, which would mail it again.
    let grace = chrono::Duration::from_std(resolve_grace(state.config.alerts.check_every))
        .unwrap_or_default();
    for resolved in alerts::resolve_unseen(&state.db, started - grace).await? {
        tracing::info!(key = %LogSafe(&resolved.key), "alert: resolved");
    }
    notify::mail_new(state).await?;
    *state
        .alerts_checked_at
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(Utc::now());
    Ok(())
}

/// A problem last seen longer ago than this (one and a half passes) is gone.
fn resolve_grace(every: Duration) -> Duration {
    every + every / 2
}
