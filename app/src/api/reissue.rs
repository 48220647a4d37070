//! Re-issuing every active license with the current key, as a background job:
//! `POST /internal/reissue` starts it (or resumes the one running) and answers at once;
//! `GET /internal/reissue/{id}` and `GET /internal/reissue/current` say how far it got.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::statuses::{JobState, ReissueStep};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReissueRequest {
    /// Email each buyer the new blob.
    #[serde(default)]
    pub email: bool,
}

/// A re-issue job and its exact counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueJob {
    pub id: i64,
    /// The key every re-signed blob carries.
    pub key_id: String,
    /// Whether buyers are emailed.
    pub email: bool,
    pub state: JobState,
    /// True when the request found this job already running and resumed following it.
    #[serde(default)]
    pub resumed: bool,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Licenses in the job.
    pub total: i64,
    /// Of those, how many needed re-signing (the others only miss their email).
    pub to_resign: i64,
    /// Re-signed by this job so far.
    pub resigned: i64,
    /// Buyers to email (every license in the job when `email`, else 0).
    pub to_email: i64,
    /// Buyers emailed so far.
    pub emailed: i64,
    /// Emails that may have gone out twice (a send interrupted by a crash, then repeated).
    pub possibly_duplicated: i64,
    /// Licenses not finished yet (waiting, or being worked on).
    pub pending: i64,
    pub failed: i64,
    /// Revoked or expired since the job started: left alone.
    pub skipped: i64,
    /// Active licenses that already carried the key and needed nothing.
    pub already_current: i64,
    /// Every failed license, and why.
    pub failures: Vec<ReissueProblem>,
    /// Some of the licenses waiting for another try after an error (at most 20).
    pub retrying: Vec<ReissueProblem>,
}

/// A license whose re-signing or email failed (or is waiting to be tried again), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueProblem {
    pub license_key: String,
    pub email: String,
    pub step: ReissueStep,
    pub error: String,
    /// When it is tried again (waiting licenses only).
    pub next_attempt_at: Option<DateTime<Utc>>,
}
