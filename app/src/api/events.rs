//! Gumroad deliveries as the admin API shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::statuses::{EmailStatus, EventStatus, HistoryStep, Resource};

/// A stored delivery: every column but the raw body (lists stay readable; [`EventDetail`] has it).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub content_type: String,
    pub sale_id: Option<String>,
    pub resource_name: Resource,
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub email: Option<String>,
    pub seller_id: Option<String>,
    pub subscription_id: Option<String>,
    pub is_recurring_charge: bool,
    pub test: bool,
    pub retry_count: i32,
    pub duplicate_of: Option<i64>,
    pub status: EventStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub outcome: Option<String>,
    pub license_key: Option<String>,
    pub email_status: Option<EmailStatus>,
    pub email_to: Option<String>,
    pub email_message_id: Option<String>,
    pub email_error: Option<String>,
    pub emailed_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    /// Set while the mail provider is being asked to send; still set afterwards means the
    /// process died during the call.
    pub email_sending_since: Option<DateTime<Utc>>,
    /// A send was interrupted (the process died during the provider's call) and then retried:
    /// the buyer may have received the email twice.
    pub email_possibly_duplicated: bool,
}

/// `GET /internal/events`: newest first.
pub type EventList = Vec<Event>;

/// `GET /internal/events/{id}` (and a replay's answer): the event, its body as received, the
/// decoded fields, and the later deliveries of the same sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: Event,
    /// The body as it arrived, as text (invalid UTF-8 replaced; a NUL shows as `\u0000`).
    pub raw_body: String,
    /// `{"fields": {...}, "nested": {...}}`, or `{"error": "..."}` when the body cannot be decoded.
    pub fields: Value,
    pub duplicates: Vec<i64>,
    /// Every attempt, replay and email, oldest first (a server before migration 0009 sends
    /// none).
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

/// One entry of an event's history (`gumroad_event_history`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub step: HistoryStep,
    /// Attempt: the attempt number it ended.
    pub attempt: Option<i32>,
    /// Attempt: the event status it ended with; replay: the status the event had when asked;
    /// email: the email status.
    pub status: String,
    /// Attempt: the outcome and the error; email: the error.
    pub detail: Option<String>,
    pub email_to: Option<String>,
    pub email_message_id: Option<String>,
    /// Email: why it was sent (purchase, renewal, test ping, resend by dtops, ...).
    pub email_purpose: Option<String>,
}
