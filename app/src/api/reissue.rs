//! `POST /internal/reissue`: re-signing every active license with the current key.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReissueRequest {
    /// Email each buyer the new blob.
    #[serde(default)]
    pub email: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueReport {
    /// The key every re-issued blob is now signed with.
    pub key_id: String,
    pub reissued: Vec<Reissued>,
    /// Active licenses that already carried the current key.
    pub already_current: i64,
    pub unverifiable: Vec<Unverifiable>,
    /// Buyers emailed the new blob (only when the request asked for it).
    pub emailed: usize,
    pub email_failures: Vec<Unverifiable>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reissued {
    pub license_key: String,
    pub email: String,
    pub old_key_id: String,
    pub blob: String,
}

/// A license that was not re-issued or not emailed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unverifiable {
    pub license_key: String,
    pub reason: String,
}
