//! `GET /internal/keys`: the public keys the server signs with and still trusts, as a desktop
//! build must list them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    /// The id every blob carries (16 hex characters).
    pub key_id: String,
    /// The Ed25519 public key, 64 hex characters.
    pub public_key: String,
    /// The key new licenses are signed with (the others are older keys still honoured).
    pub signing: bool,
}

/// The signing key first, then the older trusted ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<TrustedKey>,
}
