//! Alerts as the admin API shows them (`GET /internal/alerts`) and as `dtops status` lists them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::statuses::AlertKind;

/// A problem as the sentinel sees it in one pass: what it is about, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable while the problem lasts: the kind, and what it names (`email_bounced:42`).
    pub key: String,
    pub kind: AlertKind,
    /// One sentence: what is wrong.
    pub summary: String,
    /// The command(s) to look or fix it.
    pub action: String,
}

/// An open problem, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub key: String,
    pub kind: AlertKind,
    pub summary: String,
    pub action: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// When the email naming it went out; None: not (yet) mailed.
    pub notified_at: Option<DateTime<Utc>>,
    /// Why the last try to mail it failed.
    pub notify_error: Option<String>,
    /// Set by `dtops alerts --ack ID`: known and left as it is (not counted by `dtops status`).
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// `GET /internal/alerts`: the open problems, oldest first, and whether anyone is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertList {
    /// When this server's sentinel last finished a pass; None: not since the server started.
    pub checked_at: Option<DateTime<Utc>>,
    /// When the server started (a first pass may fail while migrations are still pending).
    pub server_started_at: DateTime<Utc>,
    /// Seconds between passes.
    pub check_every_seconds: u64,
    /// Where new problems are mailed; None: nowhere (`[alerts] email` is not set).
    pub email: Option<String>,
    /// When dtops last reported the host's facts; None: never.
    pub host_report_at: Option<DateTime<Utc>>,
    pub open: Vec<Alert>,
}

/// `POST /internal/alerts/{id}/ack`'s answer.
pub type AckResponse = Alert;
