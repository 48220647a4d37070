//! The one JSON shape of every admin API failure.

use serde::{Deserialize, Serialize};

/// `{"error": "invalid_field", "field": "email", "message": "..."}`: `error` is a stable code;
/// the rest is for people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For `email_not_sent`: the mail error's class (retryable, permanent, configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}
