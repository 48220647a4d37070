//! Building the revocation feeds (`DTREV1` and the compact `DTREV2`) from the revoked licenses as
//! the database holds them, once per change.
//!
//! It fails closed: a feed that would be longer than every verifier accepts ([`MAX_FEED_LEN`])
//! is not built at all (the server then answers 503 for it and alerts, so apps keep their last
//! good copy instead of refusing an oversize one silently). A row that cannot be read (a
//! malformed license key) is left out and reported, never a failure of the whole feed. Licenses
//! that expired more than [`EXPIRED_GRACE`] ago leave the feed: every verifier refuses their
//! blobs anyway.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use super::feed::{
    sign_feed, wire_json_len, RevocationFeed, RevocationId, Revoked, FEED_PREFIX, MAX_FEED_LEN,
    MAX_SEQ,
};
use super::feed_v2::{feed_v2_len, sign_feed_v2, RevocationList};
use super::{KeyId, LicenseKey, SigningKeyPair};

/// A revoked license stays listed this long after its expiry (a desktop clock that is days
/// behind still sees it revoked).
pub const EXPIRED_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);

/// One revoked license as the database holds it.
#[derive(Clone, Debug)]
pub struct RevokedRow {
    pub license_key: String,
    pub key_id: String,
    pub revoked_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Both feeds for one state of the list, and what went into them.
#[derive(Clone, Debug)]
pub struct BuiltFeeds {
    pub seq: u64,
    pub issued_at: DateTime<Utc>,
    /// The `DTREV1` feed, or None when it would be longer than [`MAX_FEED_LEN`].
    pub v1: Option<String>,
    /// Its length in bytes (what it would have been, when it was not built).
    pub v1_len: usize,
    /// The `DTREV2` feed, or None when even it would be too long.
    pub v2: Option<String>,
    pub v2_len: usize,
    /// Licenses listed in the compact feed (the `DTREV1` feed lists the same ones, less any
    /// whose key id could not be read).
    pub listed: usize,
    /// Revoked licenses left out because they expired more than [`EXPIRED_GRACE`] ago.
    pub expired_left_out: usize,
    /// Rows left out of one feed or both, each with the reason (naming the license key).
    pub skipped: Vec<String>,
}

/// Builds both feeds of `rows` with `key`, as of `now`, numbered `seq`.
///
/// `seq` must be at most [`MAX_SEQ`], the largest a feed can carry (panics otherwise: the caller
/// checks the number it read, as the feed keeper does, and says what is wrong with it).
pub fn build_feeds(
    rows: &[RevokedRow],
    key: &SigningKeyPair,
    seq: u64,
    now: DateTime<Utc>,
) -> BuiltFeeds {
    assert!(seq <= MAX_SEQ, "feed seq {seq} is above {MAX_SEQ}");
    let issued_at = now.trunc_subsecs(0);
    let cutoff = now - chrono::Duration::from_std(EXPIRED_GRACE).expect("30 days");
    let mut ids = Vec::with_capacity(rows.len());
    let mut entries = Vec::with_capacity(rows.len());
    let mut skipped = Vec::new();
    let mut expired_left_out = 0;
    for row in rows {
        if row.expires_at.is_some_and(|at| at < cutoff) {
            expired_left_out += 1;
            continue;
        }
        let license_key: LicenseKey = match row.license_key.parse() {
            Ok(key) => key,
            Err(e) => {
                skipped.push(format!(
                    "license key \"{}\" is not a license key ({e}): left out of both feeds",
                    crate::text::LogSafe(&row.license_key)
                ));
                continue;
            }
        };
        let id = RevocationId::of(&license_key);
        ids.push(id);
        match row.key_id.parse::<KeyId>() {
            Ok(key_id) => entries.push(Revoked {
                id,
                key_id,
                revoked_at: row.revoked_at.trunc_subsecs(0),
            }),
            Err(e) => skipped.push(format!(
                "license {license_key}: its key id \"{}\" is not one ({e}): left out of the \
                 DTREV1 feed (the DTREV2 feed lists it)",
                crate::text::LogSafe(&row.key_id)
            )),
        }
    }
    let list = RevocationList::new(key.key_id(), seq, issued_at, ids);
    let listed = list.ids().len();
    let v2_len = feed_v2_len(listed, seq);
    let v2 = (v2_len <= MAX_FEED_LEN).then(|| sign_feed_v2(&list, key));
    let v2_len = v2.as_ref().map_or(v2_len, String::len);

    let feed = RevocationFeed {
        key_id: key.key_id(),
        seq,
        issued_at,
        revoked: entries,
    };
    let v1_len = v1_len(&feed);
    let v1 = (v1_len <= MAX_FEED_LEN).then(|| sign_feed(&feed, key));
    BuiltFeeds {
        seq,
        issued_at,
        v1,
        v1_len,
        v2,
        v2_len,
        listed,
        expired_left_out,
        skipped,
    }
}

/// The exact length of `feed` signed as `DTREV1`, without building it: the payload's JSON is
/// counted, not kept.
fn v1_len(feed: &RevocationFeed) -> usize {
    let json = wire_json_len(feed);
    FEED_PREFIX.len() + (json * 4).div_ceil(3) + 1 + 86
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::license::{verify_feed, verify_feed_v2, TrustedKeys};

    fn row(key: &LicenseKey, expires_at: Option<DateTime<Utc>>) -> RevokedRow {
        RevokedRow {
            license_key: key.to_string(),
            key_id: "0123456789abcdef".into(),
            revoked_at: Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
            expires_at,
        }
    }

    #[test]
    fn expired_and_malformed_rows_leave_the_feed_and_the_rest_is_listed() {
        let key = SigningKeyPair::generate();
        let trusted = TrustedKeys::from(&key);
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let keys: Vec<LicenseKey> = (0..4).map(|_| LicenseKey::generate()).collect();
        let mut bad_kid = row(&keys[3], None);
        bad_kid.key_id = "nope".into();
        let rows = vec![
            row(&keys[0], None),
            row(&keys[1], Some(now - chrono::Duration::days(10))),
            row(&keys[2], Some(now - chrono::Duration::days(31))),
            RevokedRow {
                license_key: "not-a-key\n".into(),
                ..row(&keys[0], None)
            },
            bad_kid,
        ];
        let built = build_feeds(&rows, &key, 42, now);
        assert_eq!((built.listed, built.expired_left_out), (3, 1));
        assert_eq!(built.skipped.len(), 2, "{:?}", built.skipped);
        assert!(built.skipped[0].contains("not-a-key\\u{a}"));

        let v2 = verify_feed_v2(built.v2.as_deref().unwrap(), &trusted, None).unwrap();
        assert!(v2.revokes(&keys[0]) && v2.revokes(&keys[1]) && v2.revokes(&keys[3]));
        assert!(!v2.revokes(&keys[2]));
        let v1 = verify_feed(built.v1.as_deref().unwrap(), &trusted, None).unwrap();
        assert!(v1.revokes(&keys[0]) && v1.revokes(&keys[1]));
        assert!(!v1.revokes(&keys[2]) && !v1.revokes(&keys[3]));
        assert_eq!(built.v1_len, built.v1.as_ref().unwrap().len());
        assert_eq!(built.v2_len, built.v2.as_ref().unwrap().len());
    }

    /// Found by fuzz/fuzz_targets/revocation_feed.rs: a seq above 2^53 - 1 panicked deep in
    /// the signing; it is the caller's to check (the keeper refuses it with a message).
    #[test]
    #[should_panic(expected = "feed seq 9007199254740992 is above 9007199254740991")]
    fn a_seq_no_feed_can_carry_is_refused_up_front() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        build_feeds(&[], &SigningKeyPair::generate(), MAX_SEQ + 1, now);
    }

    #[test]
    fn a_list_too_long_for_dtrev1_still_fits_in_dtrev2() {
        let key = SigningKeyPair::generate();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let rows: Vec<RevokedRow> = (0..60_000)
            .map(|_| {
                row(
                    &LicenseKey::generate(),
                    Some(now + chrono::Duration::days(300)),
                )
            })
            .collect();
        let built = build_feeds(&rows, &key, 7, now);
        assert!(built.v1.is_none(), "DTREV1 is {} bytes", built.v1_len);
        assert!(built.v1_len > MAX_FEED_LEN);
        let v2 = built.v2.expect("60,000 ids fit in DTREV2");
        assert!(v2.len() < MAX_FEED_LEN / 2, "{}", v2.len());
        let list = verify_feed_v2(&v2, &TrustedKeys::from(&key), None).unwrap();
        assert_eq!(list.ids().len(), 60_000);
    }
}
