//! `POST /internal/licenses/{key}/email`: moving a license to another address, on the buyer's
//! request (the portal does not let buyers do it themselves; ADMIN.md says how to check one).

use serde::{Deserialize, Serialize};

use super::licenses::LicenseRecord;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeRequest {
    /// The new address.
    pub email: String,
    /// Why, for the record (e.g. "asked from the old address on 2026-05-01, ticket 12").
    pub reason: String,
    /// Email the re-signed license to the new address.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify: bool,
}

/// The license as it now is (re-signed with the new address), and the recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChangeResponse {
    #[serde(flatten)]
    pub license: LicenseRecord,
    pub old_email: String,
    /// The row in `license_email_changes`.
    pub change_id: i64,
    /// The mail provider's message id, when `notify` asked for an email and it was sent.
    pub message_id: Option<String>,
}
