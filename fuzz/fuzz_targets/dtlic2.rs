//! The DTLIC2 parser and verifier on arbitrary input. The first byte picks the mode:
//! even, the rest is a blob as a buyer pastes it; odd, the rest is a payload (the JSON inside)
//! that this target signs with the test-vector key, so the payload checks behind the signature
//! are reached too. A blob that verifies must verify again after re-signing its license.
#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{TimeZone, Utc};
use datatools_license::license::{self, SigningKeyPair, TrustedKeys, PREFIX};
use ed25519_dalek::Signer;

/// docs/license-vectors.json's "current" key (a test key, trusted by the vectors).
const SEED_HEX: &str = "00b8ae0e8123c6a6bef58c59eab5f529cf4b02ddea04a6957f7cf7bfc34a589a";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (pair, trusted, key) = keys();
    let blob = if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        text.to_string()
    } else {
        let signed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(rest));
        let signature = key.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    };
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let _ = license::verify(&blob, trusted, now);
    if let Ok(parsed) = license::verify_signature(&blob, trusted) {
        let again = license::sign(&parsed, pair);
        let reparsed = license::verify_signature(&again, trusted).expect("a re-signed license");
        assert_eq!(reparsed, parsed);
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
