//! The revocation feed: a `DTREV1:` document listing revoked licenses, signed with the license
//! signing key so the desktop app checks it with the public keys it already ships.
//!
//! ```text
//! DTREV1:<base64url(payload JSON)>.<base64url(Ed25519 signature)>
//! ```
//! Built like a blob (the envelope in `envelope.rs`), with its own prefix inside the signed bytes, so a license
//! signature never verifies as a feed or the other way round. Licenses are listed by a
//! [`RevocationId`], a hash of the license key that names no buyer. `seq` grows with every change
//! to the list, so a verifier that remembers the last `seq` it accepted refuses an older copy.
//! Specified in `docs/license-format.md` (section 13), with vectors in
//! `docs/revocation-vectors.json`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::envelope::{Envelope, EnvelopeError};
use super::{KeyId, LicenseKey, SigningKeyPair, TrustedKeys};

/// Every feed starts with this; it is part of the signed bytes.
pub const FEED_PREFIX: &str = "DTREV1:";
/// Longer input is refused before any decoding (about 37,000 revoked licenses fit in a
/// `DTREV1` feed, over 140,000 in a `DTREV2` one).
pub const MAX_FEED_LEN: usize = 4 * 1024 * 1024;
/// The largest `seq`: 2^53 - 1, so every JSON parser reads it exactly.
pub const MAX_SEQ: u64 = (1 << 53) - 1;
const FEED_VERSION: u32 = 1;
const ENVELOPE: Envelope = Envelope {
    prefix: FEED_PREFIX,
    family: "DTREV",
    max_len: MAX_FEED_LEN,
};

/// A license as the feed names it: the first 16 bytes of SHA-256 over the ASCII bytes of
/// `DTREV1:` followed by the canonical license key, as 32 lowercase hex characters. Whoever has
/// the blob can compute it; the feed alone reveals neither the key nor the buyer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RevocationId([u8; 16]);

impl RevocationId {
    /// The id of `license_key`.
    pub fn of(license_key: &LicenseKey) -> Self {
        let digest = Sha256::digest(format!("{FEED_PREFIX}{license_key}").as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        RevocationId(id)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        RevocationId(bytes)
    }
}

impl fmt::Display for RevocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for RevocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RevocationId({self})")
    }
}

impl FromStr for RevocationId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 32
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!("lid {s:?} is not 32 lowercase hex characters"));
        }
        let mut id = [0u8; 16];
        hex::decode_to_slice(s, &mut id).map_err(|e| e.to_string())?;
        Ok(RevocationId(id))
    }
}

/// One revoked license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revoked {
    pub id: RevocationId,
    /// The key that signed the license's blob when it was revoked (informational: a license may
    /// have blobs signed by several keys, so verifiers match on `id` alone).
    pub key_id: KeyId,
    pub revoked_at: DateTime<Utc>,
}

/// A decoded feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationFeed {
    /// The key that signed the feed.
    pub key_id: KeyId,
    /// Grows with every change to the list.
    pub seq: u64,
    pub issued_at: DateTime<Utc>,
    pub revoked: Vec<Revoked>,
}

impl RevocationFeed {
    /// Whether the feed lists `license_key`.
    pub fn revokes(&self, license_key: &LicenseKey) -> bool {
        let id = RevocationId::of(license_key);
        self.revoked.iter().any(|r| r.id == id)
    }
}

/// Why a feed was refused; [`code`](FeedError::code) is stable (the vectors use it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("the revocation feed is longer than {MAX_FEED_LEN} bytes")]
    Oversize,
    #[error(
        "this is not a DataTools revocation feed (it must start with \"DTREV1:\" or \"DTREV2:\")"
    )]
    WrongPrefix,
    #[error("revocation feed format version {0} is not supported by this build")]
    UnknownVersion(String),
    #[error("the revocation feed is damaged: {0}")]
    BadEncoding(&'static str),
    #[error("unexpected text after the end of the revocation feed")]
    TrailingData,
    #[error("the revocation feed content is malformed: {0}")]
    BadPayload(String),
    #[error("the revocation feed was signed by key {0}, which this build does not trust")]
    UnknownKeyId(String),
    #[error("the revocation feed signature is not valid")]
    BadSignature,
    #[error("this revocation feed (seq {seq}) is older than one already accepted (seq {known})")]
    Stale { seq: u64, known: u64 },
}

impl FeedError {
    pub fn code(&self) -> &'static str {
        match self {
            FeedError::Oversize => "oversize",
            FeedError::WrongPrefix => "wrong_prefix",
            FeedError::UnknownVersion(_) => "unknown_version",
            FeedError::BadEncoding(_) => "bad_encoding",
            FeedError::TrailingData => "trailing_data",
            FeedError::BadPayload(_) => "bad_payload",
            FeedError::UnknownKeyId(_) => "unknown_key_id",
            FeedError::BadSignature => "bad_signature",
            FeedError::Stale { .. } => "stale",
        }
    }
}

/// The JSON wire form, members in the order `sign_feed` writes them.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFeed {
    v: u32,
    kid: String,
    seq: u64,
    iat: i64,
    revoked: Vec<WireRevoked>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRevoked {
    lid: String,
    kid: String,
    at: i64,
}

/// Encodes and signs `feed` with `key`, entries sorted by id. `feed.key_id` must be `key`'s id.
pub fn sign_feed(feed: &RevocationFeed, key: &SigningKeyPair) -> String {
    assert_eq!(
        feed.key_id,
        key.key_id(),
        "a feed must name the key that signs it"
    );
    assert!(feed.seq <= MAX_SEQ, "seq {} is above {MAX_SEQ}", feed.seq);
    let json = serde_json::to_vec(&wire(feed)).expect("a feed always serialises");
    ENVELOPE.seal(&json, key)
}

/// The length of `feed`'s payload JSON, counted without keeping it.
pub(super) fn wire_json_len(feed: &RevocationFeed) -> usize {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, &wire(feed)).expect("a feed always serialises");
    counter.0
}

fn wire(feed: &RevocationFeed) -> WireFeed {
    let mut revoked: Vec<&Revoked> = feed.revoked.iter().collect();
    revoked.sort_by_key(|r| r.id);
    WireFeed {
        v: FEED_VERSION,
        kid: feed.key_id.to_string(),
        seq: feed.seq,
        iat: feed.issued_at.timestamp(),
        revoked: revoked
            .into_iter()
            .map(|r| WireRevoked {
                lid: r.id.to_string(),
                kid: r.key_id.to_string(),
                at: r.revoked_at.timestamp(),
            })
            .collect(),
    }
}

/// A writer that only counts.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks a feed: structure, a signature by a trusted key, then (when the caller remembers one)
/// that its `seq` is not below `last_seq`, the highest accepted before. The same `seq` again is
/// accepted: it is the same list.
pub fn verify_feed(
    text: &str,
    trusted: &TrustedKeys,
    last_seq: Option<u64>,
) -> Result<RevocationFeed, FeedError> {
    let opened = ENVELOPE.open(text).map_err(refused)?;
    let wire: WireFeed =
        serde_json::from_slice(&opened.json).map_err(|e| FeedError::BadPayload(e.to_string()))?;
    if wire.seq > MAX_SEQ {
        return Err(FeedError::BadPayload(format!("seq is above {MAX_SEQ}")));
    }
    if wire.v != FEED_VERSION {
        return Err(FeedError::UnknownVersion(wire.v.to_string()));
    }
    let key_id: KeyId = wire.kid.parse().map_err(FeedError::BadPayload)?;
    match trusted.verify(&key_id, opened.signed, &opened.signature) {
        None => return Err(FeedError::UnknownKeyId(key_id.to_string())),
        Some(false) => return Err(FeedError::BadSignature),
        Some(true) => {}
    }
    let feed = into_feed(key_id, wire).map_err(FeedError::BadPayload)?;
    match last_seq {
        Some(known) if feed.seq < known => Err(FeedError::Stale {
            seq: feed.seq,
            known,
        }),
        _ => Ok(feed),
    }
}

fn into_feed(key_id: KeyId, wire: WireFeed) -> Result<RevocationFeed, String> {
    let issued_at = timestamp(wire.iat).ok_or("iat: not a valid unix time")?;
    let revoked = wire
        .revoked
        .into_iter()
        .map(|r| {
            Ok(Revoked {
                id: r.lid.parse()?,
                key_id: r.kid.parse().map_err(|e| format!("revoked kid: {e}"))?,
                revoked_at: timestamp(r.at).ok_or("revoked at: not a valid unix time")?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(RevocationFeed {
        key_id,
        seq: wire.seq,
        issued_at,
        revoked,
    })
}

pub(super) fn refused(e: EnvelopeError) -> FeedError {
    match e {
        EnvelopeError::Oversize => FeedError::Oversize,
        EnvelopeError::WrongPrefix => FeedError::WrongPrefix,
        EnvelopeError::UnknownVersion(version) => FeedError::UnknownVersion(version),
        EnvelopeError::BadEncoding(why) => FeedError::BadEncoding(why),
        EnvelopeError::TrailingData => FeedError::TrailingData,
    }
}

pub(super) fn timestamp(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::{self, License, Term};

    fn feed(key: &SigningKeyPair, seq: u64, revoked: &[LicenseKey]) -> RevocationFeed {
        RevocationFeed {
            key_id: key.key_id(),
            seq,
            issued_at: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            revoked: revoked
                .iter()
                .map(|k| Revoked {
                    id: RevocationId::of(k),
                    key_id: key.key_id(),
                    revoked_at: Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
                })
                .collect(),
        }
    }

    #[test]
    fn round_trip_replay_and_no_confusion_with_blobs() {
        let key = SigningKeyPair::generate();
        let trusted = TrustedKeys::from(&key);
        let (a, b) = (LicenseKey::generate(), LicenseKey::generate());
        let text = sign_feed(&feed(&key, 7, std::slice::from_ref(&a)), &key);
        let decoded = verify_feed(&text, &trusted, Some(7)).unwrap();
        assert!(decoded.revokes(&a) && !decoded.revokes(&b));
        assert_eq!(
            verify_feed(&text, &trusted, Some(8)).unwrap_err().code(),
            "stale"
        );

        // A license signature moved onto a feed prefix does not verify, and vice versa.
        let license = License {
            license_key: a,
            name: "n".into(),
            email: "e@example.com".into(),
            tier: "core".into(),
            issued_at: Utc::now(),
            term: Term::Perpetual,
            source: "manual".into(),
            key_id: key.key_id(),
        };
        let blob = license::sign(&license, &key);
        let moved = blob.replacen("DTLIC2:", FEED_PREFIX, 1);
        assert!(verify_feed(&moved, &trusted, None).is_err());
        let moved = text.replacen(FEED_PREFIX, "DTLIC2:", 1);
        assert!(license::verify_signature(&moved, &trusted).is_err());
    }
}
