//! The revocation feed builder and both feed verifiers on arbitrary input. The first byte picks
//! the mode:
//! - 0 mod 4 or 2 mod 4: the rest describes revoked rows as the database might hold them (license
//!   keys valid, respelt or garbage, repeated; key ids valid or not; revocation times; expiries
//!   none, near the 30-day grace or far past), a `seq` and a `now`. `build_feeds` signs them with
//!   the test-vector key; it must not panic, the DTREV2 feed must verify and list exactly the
//!   parseable keys not expired beyond the grace, the DTREV1 feed those whose key id parses too,
//!   the counts and lengths must be the texts', and no reason may carry a raw control character.
//! - 1 mod 4: the rest is a feed as a network might deliver it, for `verify_feed_v2` and
//!   `verify_feed`.
//! - 3 mod 4: the rest is a payload this target signs under `DTREV2:` with the test-vector key,
//!   so the checks behind the signature are reached; a feed that verifies must verify again,
//!   unchanged, after re-signing its list.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use datatools_license::license::{
    self, LicenseKey, RevocationId, RevokedRow, SigningKeyPair, TrustedKeys, EXPIRED_GRACE,
    FEED_V2_PREFIX, MAX_SEQ,
};
use ed25519_dalek::Signer;
use libfuzzer_sys::arbitrary::{Result, Unstructured};

/// docs/revocation-vectors.json's "current" key (a test key, trusted by the vectors).
const SEED_HEX: &str = "00b8ae0e8123c6a6bef58c59eab5f529cf4b02ddea04a6957f7cf7bfc34a589a";
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// More rows add little but time per run.
const MAX_ROWS: usize = 64;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        1 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                verify_text(text);
            }
        }
        3 => verify_signed_payload(rest),
        _ => {
            let _ = build_and_check(&mut Unstructured::new(rest));
        }
    }
});

/// The key pair, the trusted set and the raw signing key, made once.
fn keys() -> &'static (SigningKeyPair, TrustedKeys, ed25519_dalek::SigningKey) {
    static KEYS: OnceLock<(SigningKeyPair, TrustedKeys, ed25519_dalek::SigningKey)> =
        OnceLock::new();
    KEYS.get_or_init(|| {
        let pair = SigningKeyPair::from_seed_hex(SEED_HEX).expect("the vector seed");
        let trusted = TrustedKeys::from(&pair);
        let mut seed = [0u8; 32];
        for (i, byte) in seed.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&SEED_HEX[2 * i..2 * i + 2], 16).unwrap();
        }
        (pair, trusted, ed25519_dalek::SigningKey::from_bytes(&seed))
    })
}

fn verify_text(text: &str) {
    let (_, trusted, _) = keys();
    if let Ok(list) = license::verify_feed_v2(text, trusted, None) {
        assert!(list.ids().windows(2).all(|pair| pair[0] < pair[1]));
        assert!(text.starts_with(FEED_V2_PREFIX));
    }
    let _ = license::verify_feed(text, trusted, None);
}

fn verify_signed_payload(payload: &[u8]) {
    let (pair, trusted, key) = keys();
    let signed = format!("{FEED_V2_PREFIX}{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = key.sign(signed.as_bytes());
    let text = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
    verify_text(&text);
    if let Ok(list) = license::verify_feed_v2(&text, trusted, None) {
        let again = license::sign_feed_v2(&list, pair);
        let reread = license::verify_feed_v2(&again, trusted, Some(list.seq))
            .expect("a re-signed feed verifies");
        assert_eq!(reread, list);
    }
}

/// What one derived row should come to, written down from how it was made.
struct Expected {
    /// The canonical key, when the row's key is one (in any spelling section 6 accepts).
    key: Option<String>,
    /// Whether its key id is 16 lowercase hex characters.
    kid_ok: bool,
}

fn build_and_check(u: &mut Unstructured) -> Result<()> {
    let (pair, trusted, _) = keys();
    // 2001 to 2137, whole seconds: the server's clock, not a value from outside.
    let now = at(1_000_000_000 + i64::from(u.arbitrary::<u32>()?));
    // build_feeds requires a seq a feed can carry (the keeper refuses any other it reads).
    let seq = u.int_in_range(0..=MAX_SEQ)?;
    let grace = Duration::from_std(EXPIRED_GRACE).unwrap();
    let cutoff = now - grace;
    let mut rows = Vec::new();
    let mut expected = Vec::new();
    while rows.len() < MAX_ROWS && !u.is_empty() {
        let (license_key, canonical) = license_key(u, &expected)?;
        let (key_id, kid_ok) = key_id(u)?;
        let revoked_at = timestamp(u, now)?;
        let expires_at = match u.int_in_range(0..=5u8)? {
            0 => None,
            // Around the grace's edge, to the second and below it.
            1 => Some(
                cutoff
                    + Duration::seconds(u.int_in_range(-3..=3)?)
                    + Duration::nanoseconds(u.int_in_range(0..=999_999_999)?),
            ),
            2 => Some(now + Duration::days(u.int_in_range(-400..=400)?)),
            3 => Some(DateTime::<Utc>::MIN_UTC),
            4 => Some(DateTime::<Utc>::MAX_UTC),
            _ => Some(timestamp(u, now)?),
        };
        let expired = expires_at.is_some_and(|at| at < cutoff);
        rows.push(RevokedRow {
            license_key,
            key_id,
            revoked_at,
            expires_at,
        });
        expected.push((
            expired,
            Expected {
                key: canonical,
                kid_ok,
            },
        ));
    }

    let built = license::build_feeds(&rows, pair, seq, now);

    let listed: Vec<&Expected> = expected
        .iter()
        .filter(|(expired, _)| !expired)
        .map(|(_, row)| row)
        .collect();
    let ids_of = |keep: &dyn Fn(&Expected) -> bool| -> BTreeSet<RevocationId> {
        listed
            .iter()
            .filter(|row| keep(row))
            .filter_map(|row| row.key.as_deref())
            .map(|key| RevocationId::of(&key.parse::<LicenseKey>().unwrap()))
            .collect()
    };
    let v2_ids = ids_of(&|_| true);
    let v1_ids = ids_of(&|row| row.kid_ok);
    let expired = expected.iter().filter(|(expired, _)| *expired).count();
    let unreadable = listed.iter().filter(|row| row.key.is_none()).count();
    let bad_kid = listed
        .iter()
        .filter(|row| row.key.is_some() && !row.kid_ok)
        .count();

    assert_eq!(built.seq, seq);
    assert_eq!(built.issued_at, now);
    assert_eq!(built.listed, v2_ids.len());
    assert_eq!(built.expired_left_out, expired);
    assert_eq!(
        built.skipped.len(),
        unreadable + bad_kid,
        "{:?}",
        built.skipped
    );
    for why in &built.skipped {
        assert!(
            !why.chars().any(|c| c.is_control() || is_bidi_control(c)),
            "a reason the log shows carries a raw control character: {why:?}"
        );
    }

    let v2 = built.v2.as_deref().expect("a few rows always fit");
    assert_eq!(built.v2_len, v2.len());
    let list = license::verify_feed_v2(v2, trusted, Some(seq)).expect("the built DTREV2 feed");
    assert_eq!((list.seq, list.issued_at), (seq, now));
    assert_eq!(list.ids(), v2_ids.iter().copied().collect::<Vec<_>>());

    let v1 = built.v1.as_deref().expect("a few rows always fit");
    assert_eq!(built.v1_len, v1.len());
    let feed = license::verify_feed(v1, trusted, Some(seq)).expect("the built DTREV1 feed");
    assert_eq!((feed.seq, feed.issued_at), (seq, now));
    let v1_listed: BTreeSet<RevocationId> = feed.revoked.iter().map(|r| r.id).collect();
    assert_eq!(v1_listed, v1_ids);
    // Each entry carries a row's key id and revocation time, to the second.
    let rows_by_id: BTreeMap<RevocationId, Vec<&RevokedRow>> =
        rows.iter().fold(BTreeMap::new(), |mut by_id, row| {
            if let Ok(key) = row.license_key.parse::<LicenseKey>() {
                by_id.entry(RevocationId::of(&key)).or_default().push(row);
            }
            by_id
        });
    for entry in &feed.revoked {
        assert!(rows_by_id[&entry.id].iter().any(|row| {
            row.key_id == entry.key_id.to_string()
                && row.revoked_at.timestamp() == entry.revoked_at.timestamp()
        }));
    }

    Ok(())
}

/// A license key as a row might hold it, and its canonical form when it is one.
fn license_key(
    u: &mut Unstructured,
    earlier: &[(bool, Expected)],
) -> Result<(String, Option<String>)> {
    let choice = u.int_in_range(0..=7u8)?;
    if choice == 7 {
        if let Some((_, row)) = earlier.last() {
            // The same license again, as another row might hold it.
            if let Some(key) = &row.key {
                return Ok((key.to_lowercase(), Some(key.clone())));
            }
        }
    }
    if choice >= 5 {
        let garbage: String = u.arbitrary()?;
        let canonical = garbage.parse::<LicenseKey>().ok().map(|k| k.to_string());
        return Ok((garbage, canonical));
    }
    let mut chars = [0u8; 24];
    for c in &mut chars {
        *c = ALPHABET[usize::from(u.arbitrary::<u8>()? % 32)];
    }
    let canonical = chars
        .chunks(6)
        .map(|group| std::str::from_utf8(group).unwrap())
        .collect::<Vec<_>>()
        .join("-");
    let spelt = match choice {
        0 | 1 => canonical.clone(),
        2 => canonical.to_lowercase().replace('-', ""),
        3 => canonical
            .replace('-', " ")
            .replace('0', "O")
            .replace('1', "l"),
        // One character too few: not a key.
        _ => return Ok((canonical[1..].to_string(), None)),
    };
    Ok((spelt, Some(canonical)))
}

/// A key id as a row might hold it, and whether it is one.
fn key_id(u: &mut Unstructured) -> Result<(String, bool)> {
    let bytes: [u8; 8] = u.arbitrary()?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(match u.int_in_range(0..=3u8)? {
        0 | 1 => (hex, true),
        2 => (hex.to_uppercase(), hex.bytes().all(|b| b.is_ascii_digit())),
        _ => {
            let garbage: String = u.arbitrary()?;
            let ok = garbage.len() == 16
                && garbage
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            (garbage, ok)
        }
    })
}

/// Any instant chrono can hold (with nanoseconds), or `fallback` for the seconds it cannot.
fn timestamp(u: &mut Unstructured, fallback: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let secs: i64 = u.arbitrary()?;
    let nanos = u.int_in_range(0..=999_999_999)?;
    Ok(Utc.timestamp_opt(secs, nanos).single().unwrap_or(fallback))
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap()
}

/// The bidirectional controls a log line must not carry raw (as the server's `text::LogSafe`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
