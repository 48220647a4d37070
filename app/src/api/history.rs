//! `GET /internal/licenses/{key}/history`: a license with everything that happened to it since
//! it was issued: revocations and reinstatements (whoever made them: `dtops`, a refund, a
//! dispute, psql) and moves to another address.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::search::LicenseMatch;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseHistory {
    #[serde(flatten)]
    pub license: LicenseMatch,
    /// Oldest first.
    pub history: Vec<LicenseChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseChange {
    pub at: DateTime<Utc>,
    pub action: ChangeAction,
    /// Why (the revoke reason, the reinstatement's or the move's reason).
    pub reason: String,
    /// A move's addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Revoked,
    Reinstated,
    AddressChanged,
}

impl ChangeAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Revoked => "revoked",
            ChangeAction::Reinstated => "reinstated",
            ChangeAction::AddressChanged => "address changed",
        }
    }
}

/// `POST /internal/licenses/{key}/reinstate`: lifts a revocation, whatever made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReinstateRequest {
    /// Why, for the history (e.g. "revoked by mistake; ticket 12").
    pub reason: String,
}
