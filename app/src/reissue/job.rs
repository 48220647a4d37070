//! Starting (or resuming) a re-issue job, and reporting on one.

use crate::api::{ItemStatus, ReissueJob};
use crate::db::reissue_jobs::{self as jobs, JobRow};
use crate::state::AppState;

/// Waiting licenses listed in a report (the failures are listed in full).
const RETRYING_LISTED: i64 = 20;

/// What a start request found.
#[derive(Debug)]
pub(crate) enum Started {
    /// A new job (it may already be done when nothing was missing).
    New(i64),
    /// The running job for the same key and the same email choice: followed again.
    Resumed(i64),
    /// A job is running with the other email choice: it must finish first.
    Conflict(JobRow),
}

/// Creates a job for what is missing with the server's current key, or resumes the one running.
/// A running job for an older key is superseded first.
pub(crate) async fn start(state: &AppState, email: bool) -> sqlx::Result<Started> {
    let key_id = state.config.signing_key.key_id().to_string();
    let mut tx = state.db.begin().await?;
    jobs::lock(&mut tx).await?;
    jobs::supersede_other_keys(&mut *tx, &key_id).await?;
    let started = match jobs::running(&mut *tx).await? {
        Some(job) if job.email == email => Started::Resumed(job.id),
        Some(job) => Started::Conflict(job),
        None => Started::New(jobs::create(&mut tx, &key_id, email).await?),
    };
    tx.commit().await?;
    if let Started::New(id) = &started {
        tracing::info!(job = id, key_id = %key_id, email, "re-issue job created");
    }
    state.reissue_wake.notify_waiters();
    Ok(started)
}

/// The job `id` with its counts, or None.
pub(crate) async fn status(state: &AppState, id: i64) -> sqlx::Result<Option<ReissueJob>> {
    match jobs::find(&state.db, id).await? {
        Some(job) => report(state, job).await.map(Some),
        None => Ok(None),
    }
}

/// The newest job with its counts, or None when there never was one.
pub(crate) async fn current(state: &AppState) -> sqlx::Result<Option<ReissueJob>> {
    match jobs::latest(&state.db).await? {
        Some(job) => report(state, job).await.map(Some),
        None => Ok(None),
    }
}

async fn report(state: &AppState, job: JobRow) -> sqlx::Result<ReissueJob> {
    let counts = jobs::counts(&state.db, job.id).await?;
    let failures = jobs::problems(&state.db, job.id, &[ItemStatus::Failed], i64::MAX).await?;
    let retrying = jobs::problems(
        &state.db,
        job.id,
        &[ItemStatus::Pending, ItemStatus::Processing],
        RETRYING_LISTED,
    )
    .await?;
    Ok(ReissueJob {
        id: job.id,
        key_id: job.key_id,
        email: job.email,
        state: job.state,
        resumed: false,
        created_at: job.created_at,
        finished_at: job.finished_at,
        total: counts.total,
        to_resign: counts.to_resign,
        resigned: counts.resigned,
        to_email: if job.email { counts.total } else { 0 },
        emailed: counts.emailed,
        possibly_duplicated: counts.possibly_duplicated,
        pending: counts.pending,
        failed: counts.failed,
        skipped: counts.skipped,
        already_current: job.already_current,
        failures,
        retrying,
    })
}
