//! Licenses: the mint request, a license as the API shows it, revoke and re-send.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The body of `POST /internal/mint` (SETUP-LICENSE-SERVER.md "8. End-to-end mint"). Unknown
/// fields are refused so a typo such as `"yeras"` is an error instead of a silently ignored term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    pub name: String,
    pub email: String,
    pub tier: String,
    /// Term in years; the tier's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
    /// A license that never expires (instead of `years`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub perpetual: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Makes the mint idempotent: a second mint with the same reference returns the first license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
}

/// A license as the admin API shows it (a row of `licenses`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct LicenseRecord {
    pub license_key: String,
    pub name: String,
    pub email: String,
    pub tier: String,
    pub source: String,
    pub source_ref: Option<String>,
    pub notes: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
    pub key_id: String,
    pub blob: String,
}

/// `POST /internal/mint`'s answer: the license, and whether this call created it (`false`: an
/// earlier mint with the same `source_ref` made it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintResponse {
    #[serde(flatten)]
    pub license: LicenseRecord,
    pub created: bool,
}

/// `POST /internal/licenses/{key}/revoke`; the body may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /internal/licenses/{key}/resend`: to the license's own address, or `to`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The license's first email (`dtops mint --send`): it reads as a delivery, not as
    /// "sent again".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendResponse {
    pub license_key: String,
    pub to: String,
    pub message_id: String,
    /// The Gumroad event the delivery was recorded on, when the license came from one.
    pub event: Option<i64>,
}
