//! The `DTLIC2` license blob: what a buyer pastes into DataTools.
//!
//! The format is specified for implementers in `docs/license-format.md`; the committed test
//! vectors in `docs/license-vectors.json` are checked against this code by `tests/format_vectors.rs`.
//!
//! ```text
//! DTLIC2:<base64url(payload JSON)>.<base64url(Ed25519 signature)>
//! ```
//! The signature covers the ASCII bytes before the `.`, prefix included, so a signature made
//! for any other kind of blob (or another version) never verifies as a license.
//!
//! The revocation feed (`DTREV1:`, `feed`; the compact `DTREV2:`, `feed_v2`) lists revoked
//! licenses, signed with the same keys; `feed_build` makes both from the database's rows.

mod blob;
mod envelope;
mod feed;
mod feed_build;
mod feed_v2;
mod keys;
mod license_key;
mod payload;

pub use blob::{sign, verify, verify_signature, VerifyError, MAX_BLOB_LEN, PREFIX};
pub use feed::{
    sign_feed, verify_feed, FeedError, RevocationFeed, RevocationId, Revoked, FEED_PREFIX,
    MAX_FEED_LEN, MAX_SEQ,
};
pub use feed_build::{build_feeds, BuiltFeeds, RevokedRow, EXPIRED_GRACE};
pub use feed_v2::{feed_v2_len, sign_feed_v2, verify_feed_v2, RevocationList, FEED_V2_PREFIX};
pub use keys::{KeyId, SigningKeyPair, TrustedKeys, DEV_SIGNING_SEED_HEX};
pub use license_key::LicenseKey;
pub use payload::{License, Term};
