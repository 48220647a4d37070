//! `POST /internal/gumroad/sync`: after an outage, the sales Gumroad lists since a date that the
//! server never received are stored as deliveries and processed like any other (a background
//! job; `GET /internal/gumroad/syncs/{id}` follows it, `GET /internal/gumroad/syncs` lists the
//! latest).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::statuses::{JobState, Resource};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GumroadSyncRequest {
    /// Sales made on this day (UTC) or later: Gumroad's `after`.
    pub since: NaiveDate,
}

/// One sync: how far it got and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GumroadSync {
    pub id: i64,
    pub since: NaiveDate,
    /// running, done, or failed (`error` says why; what was stored before it stays stored).
    pub state: JobState,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Pages of Gumroad's sales list read so far.
    pub pages: i32,
    /// Sales Gumroad listed.
    pub seen: i32,
    /// Deliveries those sales stand for (a sale, and its refund or dispute) that the server
    /// already had.
    pub already_had: i32,
    /// Deliveries the server never received, stored now and processed by the workers like a
    /// Ping (`dtops events --sale SALE_ID` shows each).
    pub stored: Vec<SyncedEvent>,
    /// Sales listed but not stored, and why (a gift: its license belongs to the giftee's sale,
    /// which Gumroad's list does not show).
    pub skipped: Vec<SyncSkipped>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedEvent {
    pub event_id: i64,
    pub sale_id: String,
    pub resource: Resource,
    pub email: Option<String>,
    pub product_name: Option<String>,
    /// Gumroad's `created_at` of the sale.
    pub sale_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSkipped {
    pub sale_id: String,
    pub email: Option<String>,
    pub why: String,
}
