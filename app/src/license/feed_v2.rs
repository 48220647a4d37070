//! The compact revocation feed, `DTREV2:`: the same list as `DTREV1:` (section 13 of
//! `docs/license-format.md`), without what a verifier never uses, so about four times as many
//! revoked licenses fit in the same 4 MiB (over 140,000 instead of about 37,000).
//!
//! ```text
//! DTREV2:<base64url(payload JSON)>.<base64url(Ed25519 signature)>
//! payload: {"v":2,"kid":"<16 hex>","seq":N,"iat":T,"ids":"<base64url of the sorted 16-byte ids>"}
//! ```
//! The ids are the same [`RevocationId`]s as in `DTREV1` (the first 16 bytes of SHA-256 over
//! `DTREV1:` and the canonical license key), concatenated in strictly ascending byte order, so a
//! verifier can look one up by binary search and no id is listed twice. Specified in
//! `docs/license-format.md` section 14, with vectors in `docs/revocation-vectors-v2.json`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::envelope::Envelope;
use super::feed::{refused, timestamp, FeedError, RevocationId, MAX_FEED_LEN, MAX_SEQ};
use super::{KeyId, LicenseKey, SigningKeyPair, TrustedKeys};

/// Every compact feed starts with this; it is part of the signed bytes.
pub const FEED_V2_PREFIX: &str = "DTREV2:";
const FEED_V2_VERSION: u32 = 2;
const ID_LEN: usize = 16;
const ENVELOPE: Envelope = Envelope {
    prefix: FEED_V2_PREFIX,
    family: "DTREV",
    max_len: MAX_FEED_LEN,
};

/// A decoded compact feed: the revoked licenses' ids, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationList {
    /// The key that signed the feed.
    pub key_id: KeyId,
    /// Grows with every change to the list (the same number as the `DTREV1` feed's).
    pub seq: u64,
    pub issued_at: DateTime<Utc>,
    ids: Vec<RevocationId>,
}

impl RevocationList {
    /// A list of `ids` (in any order, repeats dropped).
    pub fn new(
        key_id: KeyId,
        seq: u64,
        issued_at: DateTime<Utc>,
        mut ids: Vec<RevocationId>,
    ) -> Self {
        ids.sort_unstable();
        ids.dedup();
        RevocationList {
            key_id,
            seq,
            issued_at,
            ids,
        }
    }

    /// The revoked licenses' ids, ascending.
    pub fn ids(&self) -> &[RevocationId] {
        &self.ids
    }

    /// Whether the list names `license_key`.
    pub fn revokes(&self, license_key: &LicenseKey) -> bool {
        self.ids
            .binary_search(&RevocationId::of(license_key))
            .is_ok()
    }
}

/// The JSON wire form, members in the order `sign_feed_v2` writes them.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireList {
    v: u32,
    kid: String,
    seq: u64,
    iat: i64,
    ids: String,
}

/// At most how long a signed compact feed of `count` ids is, in bytes (within a few bytes: an
/// `iat` of this century is shorter than the longest allowed): to tell before building whether
/// it fits.
pub fn feed_v2_len(count: usize, seq: u64) -> usize {
    let ids = (count * ID_LEN * 4).div_ceil(3);
    // {"v":2,"kid":"<16>","seq":<seq>,"iat":<at most 14>,"ids":"<ids>"}: 55 fixed bytes.
    let json = 55 + seq.to_string().len() + 14 + ids;
    FEED_V2_PREFIX.len() + (json * 4).div_ceil(3) + 1 + 86
}

/// Encodes and signs `list` with `key`. `list.key_id` must be `key`'s id.
pub fn sign_feed_v2(list: &RevocationList, key: &SigningKeyPair) -> String {
    assert_eq!(
        list.key_id,
        key.key_id(),
        "a feed must name the key that signs it"
    );
    assert!(list.seq <= MAX_SEQ, "seq {} is above {MAX_SEQ}", list.seq);
    let mut bytes = Vec::with_capacity(list.ids.len() * ID_LEN);
    for id in &list.ids {
        bytes.extend_from_slice(id.as_bytes());
    }
    let wire = WireList {
        v: FEED_V2_VERSION,
        kid: list.key_id.to_string(),
        seq: list.seq,
        iat: list.issued_at.timestamp(),
        ids: URL_SAFE_NO_PAD.encode(&bytes),
    };
    let json = serde_json::to_vec(&wire).expect("a feed always serialises");
    ENVELOPE.seal(&json, key)
}

/// Checks a compact feed as section 14.3 says: structure, a signature by a trusted key, the ids
/// strictly ascending, then (when the caller remembers one) that its `seq` is not below
/// `last_seq`.
pub fn verify_feed_v2(
    text: &str,
    trusted: &TrustedKeys,
    last_seq: Option<u64>,
) -> Result<RevocationList, FeedError> {
    let opened = ENVELOPE.open(text).map_err(refused)?;
    let wire: WireList =
        serde_json::from_slice(&opened.json).map_err(|e| FeedError::BadPayload(e.to_string()))?;
    if wire.seq > MAX_SEQ {
        return Err(FeedError::BadPayload(format!("seq is above {MAX_SEQ}")));
    }
    if wire.v != FEED_V2_VERSION {
        return Err(FeedError::UnknownVersion(wire.v.to_string()));
    }
    let key_id: KeyId = wire.kid.parse().map_err(FeedError::BadPayload)?;
    match trusted.verify(&key_id, opened.signed, &opened.signature) {
        None => return Err(FeedError::UnknownKeyId(key_id.to_string())),
        Some(false) => return Err(FeedError::BadSignature),
        Some(true) => {}
    }
    let issued_at =
        timestamp(wire.iat).ok_or(FeedError::BadPayload("iat: not a valid unix time".into()))?;
    let ids = decode_ids(&wire.ids).map_err(FeedError::BadPayload)?;
    let list = RevocationList {
        key_id,
        seq: wire.seq,
        issued_at,
        ids,
    };
    match last_seq {
        Some(known) if list.seq < known => Err(FeedError::Stale {
            seq: list.seq,
            known,
        }),
        _ => Ok(list),
    }
}

/// `ids`: strict base64url of a whole number of 16-byte ids, strictly ascending.
fn decode_ids(text: &str) -> Result<Vec<RevocationId>, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| "ids: not base64url".to_string())?;
    if bytes.len() % ID_LEN != 0 {
        return Err(format!(
            "ids: {} bytes, not a whole number of {ID_LEN}-byte ids",
            bytes.len()
        ));
    }
    let ids: Vec<RevocationId> = bytes
        .chunks_exact(ID_LEN)
        .map(|chunk| RevocationId::from_bytes(chunk.try_into().expect("16 bytes")))
        .collect();
    if ids.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err("ids: not in strictly ascending order".into());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::license::{sign_feed, RevocationFeed, Revoked};

    #[test]
    fn round_trip_lookup_and_the_length_estimate() {
        let key = SigningKeyPair::generate();
        let trusted = TrustedKeys::from(&key);
        let keys: Vec<LicenseKey> = (0..50).map(|_| LicenseKey::generate()).collect();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let ids = keys[..40].iter().map(RevocationId::of).collect();
        let list = RevocationList::new(key.key_id(), 1_772_000_000_000, at, ids);
        let text = sign_feed_v2(&list, &key);
        let estimate = feed_v2_len(40, list.seq);
        assert!(
            text.len() <= estimate && estimate - text.len() <= 8,
            "{}",
            text.len()
        );
        let decoded = verify_feed_v2(&text, &trusted, Some(list.seq)).unwrap();
        assert_eq!(decoded, list);
        assert!(keys[..40].iter().all(|k| decoded.revokes(k)));
        assert!(keys[40..].iter().all(|k| !decoded.revokes(k)));
        assert_eq!(
            verify_feed_v2(&text, &trusted, Some(list.seq + 1))
                .unwrap_err()
                .code(),
            "stale"
        );
    }

    #[test]
    fn a_v1_feed_is_not_a_v2_one_and_the_other_way_round() {
        let key = SigningKeyPair::generate();
        let trusted = TrustedKeys::from(&key);
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let v1 = sign_feed(
            &RevocationFeed {
                key_id: key.key_id(),
                seq: 1,
                issued_at: at,
                revoked: vec![Revoked {
                    id: RevocationId::of(&LicenseKey::generate()),
                    key_id: key.key_id(),
                    revoked_at: at,
                }],
            },
            &key,
        );
        assert_eq!(
            verify_feed_v2(&v1, &trusted, None).unwrap_err().code(),
            "unknown_version"
        );
        let v2 = sign_feed_v2(&RevocationList::new(key.key_id(), 1, at, vec![]), &key);
        assert_eq!(
            crate::license::verify_feed(&v2, &trusted, None)
                .unwrap_err()
                .code(),
            "unknown_version"
        );
        // The signature covers the prefix: the same payload under the other prefix fails.
        let moved = v2.replacen(FEED_V2_PREFIX, "DTREV1:", 1);
        assert!(crate::license::verify_feed(&moved, &trusted, None).is_err());
    }
}
