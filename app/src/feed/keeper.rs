//! The task that keeps this process's feed current.

use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::background::Background;
use crate::db::revocations;
use crate::license::{build_feeds, MAX_SEQ};
use crate::state::AppState;

/// The channel migration 0010's trigger notifies on every change to the list.
const CHANNEL: &str = "datatools_revocations";
/// How often the sequence number is read anyway (a notification lost while the listening
/// connection was down is noticed this late at worst).
const POLL_EVERY: Duration = Duration::from_secs(30);
/// A build this old is redone even without a change, so expired licenses leave the feed.
const REBUILD_EVERY: Duration = Duration::from_secs(6 * 3600);
/// After a failed build (the database is down), the next try; the last good build is served
/// meanwhile.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Starts the keeper; [`Background::stop`] stops it.
pub(crate) fn spawn_keeper(state: AppState) -> Background {
    Background::spawn(1, move |_, stopped| run(state.clone(), stopped))
}

async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut listener: Option<PgListener> = None;
    let mut built_at: Option<Instant> = None;
    // A notification arrived (or nothing is built yet): build without asking.
    let mut changed = true;
    loop {
        if *stopped.borrow() {
            return;
        }
        if listener.is_none() {
            listener = listen(&state).await;
        }
        let due = changed
            || built_at.is_none_or(|at| at.elapsed() >= REBUILD_EVERY)
            || seq_moved(&state).await;
        let mut pause = POLL_EVERY;
        if due {
            match build(&state).await {
                Ok(()) => {
                    built_at = Some(Instant::now());
                    changed = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "revocation feed: cannot build it; serving the last one");
                    pause = RETRY_AFTER;
                }
            }
        }
        let notified = async {
            match listener.as_mut() {
                Some(l) => l.try_recv().await.map(|n| n.is_some()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = notified => {
                // None or an error: the connection dropped; listen again on the next turn (the
                // seq check covers what was missed meanwhile).
                if !matches!(received, Ok(true)) {
                    listener = None;
                }
                changed = true;
                // Several changes in a burst: one build for all of them.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => {}
        }
    }
}

/// Whether the list's seq differs from the built one's (false when it cannot be read: the
/// build would fail too).
async fn seq_moved(state: &AppState) -> bool {
    let Some(built) = state.feed.get() else {
        return true;
    };
    match revocations::seq(&state.db).await {
        Ok(seq) => u64::try_from(seq).ok() != Some(built.info.seq),
        Err(e) => {
            tracing::debug!(error = %e, "revocation feed: cannot read its seq");
            false
        }
    }
}

async fn listen(state: &AppState) -> Option<PgListener> {
    let attempt = async {
        let mut listener = PgListener::connect_with(&state.db).await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(Ok(listener)) => Some(listener),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "revocation feed: cannot listen for changes; polling");
            None
        }
        Err(_) => None,
    }
}

/// Reads the list and its seq from one snapshot and builds both feeds (off the async threads:
/// signing and encoding a large list takes milliseconds).
async fn build(state: &AppState) -> Result<(), String> {
    let (seq, rows) = revocations::snapshot(&state.db)
        .await
        .map_err(|e| e.to_string())?;
    let seq = feed_seq(seq)?;
    let config = state.config.clone();
    let built = tokio::task::spawn_blocking(move || {
        build_feeds(&rows, &config.signing_key, seq, Utc::now())
    })
    .await
    .map_err(|e| format!("the build panicked: {e}"))?;
    for why in &built.skipped {
        tracing::error!(%why, "revocation feed: a revoked license is not listed");
    }
    if built.v1.is_none() || built.v2.is_none() {
        tracing::error!(
            listed = built.listed,
            dtrev1_bytes = built.v1_len,
            dtrev2_bytes = built.v2_len,
            "revocation feed: too long for verifiers; not served"
        );
    }
    tracing::debug!(seq, listed = built.listed, "revocation feed built");
    state.feed.set(built);
    Ok(())
}

/// The database's sequence number as a feed carries it: 0 to 2^53 - 1. Only an edit by hand
/// puts it outside; the trigger sets it to at most the time in milliseconds.
fn feed_seq(seq: i64) -> Result<u64, String> {
    u64::try_from(seq)
        .ok()
        .filter(|seq| *seq <= MAX_SEQ)
        .ok_or_else(|| {
            format!(
                "the revocation feed's seq {seq} (table revocation_feed) is outside 0 to \
                 {MAX_SEQ}, the numbers a signed feed can carry; set it to the time in \
                 milliseconds: update revocation_feed set seq = (extract(epoch from now()) * \
                 1000)::bigint"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seq_no_feed_can_carry_is_an_error_naming_it() {
        assert_eq!(feed_seq(0), Ok(0));
        assert_eq!(feed_seq(MAX_SEQ as i64), Ok(MAX_SEQ));
        for bad in [-1, MAX_SEQ as i64 + 1, i64::MAX] {
            let why = feed_seq(bad).unwrap_err();
            assert!(why.contains(&format!("seq {bad} ")), "{why}");
        }
    }
}
