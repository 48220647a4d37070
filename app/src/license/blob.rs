//! Encoding, signing and strict verification of `DTLIC2:` blobs.

use chrono::{DateTime, Utc};

use super::envelope::{Envelope, EnvelopeError};
use super::payload::{WirePayload, PAYLOAD_VERSION};
use super::{KeyId, License, SigningKeyPair, TrustedKeys};

/// Every blob starts with this; it is part of the signed bytes.
pub const PREFIX: &str = "DTLIC2:";
/// Longer input is refused before any decoding (a real blob is a few hundred bytes).
pub const MAX_BLOB_LEN: usize = 4096;
const ENVELOPE: Envelope = Envelope {
    prefix: PREFIX,
    family: "DTLIC",
    max_len: MAX_BLOB_LEN,
};

/// Why a blob was refused. Each has a stable [`code`](VerifyError::code) used by the test vectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the license is longer than {MAX_BLOB_LEN} bytes")]
    Oversize,
    #[error("this is not a DataTools license (it must start with \"DTLIC2:\")")]
    WrongPrefix,
    #[error("license format version {0} is not supported by this build (it reads version 2)")]
    UnknownVersion(String),
    #[error("the license text is damaged: {0}")]
    BadEncoding(&'static str),
    #[error("unexpected text after the end of the license")]
    TrailingData,
    #[error("the license content is malformed: {0}")]
    BadPayload(String),
    #[error("the license was signed by key {0}, which this build does not trust")]
    UnknownKeyId(String),
    #[error("the license signature is not valid")]
    BadSignature,
    #[error("the license expired at {0}")]
    Expired(DateTime<Utc>),
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Oversize => "oversize",
            VerifyError::WrongPrefix => "wrong_prefix",
            VerifyError::UnknownVersion(_) => "unknown_version",
            VerifyError::BadEncoding(_) => "bad_encoding",
            VerifyError::TrailingData => "trailing_data",
            VerifyError::BadPayload(_) => "bad_payload",
            VerifyError::UnknownKeyId(_) => "unknown_key_id",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::Expired(_) => "expired",
        }
    }
}

/// Encodes and signs `license` with `key`. The blob carries `key`'s id; `license.key_id` must
/// already be that id (it is what a verifier will report).
pub fn sign(license: &License, key: &SigningKeyPair) -> String {
    assert_eq!(
        license.key_id,
        key.key_id(),
        "a license must name the key that signs it"
    );
    let json = serde_json::to_vec(&WirePayload::from_license(license))
        .expect("a license always serialises");
    ENVELOPE.seal(&json, key)
}

/// Full verification: signature by a trusted key, then expiry against `now`.
pub fn verify(
    blob: &str,
    trusted: &TrustedKeys,
    now: DateTime<Utc>,
) -> Result<License, VerifyError> {
    let license = verify_signature(blob, trusted)?;
    match license.expires_at() {
        Some(at) if now >= at => Err(VerifyError::Expired(at)),
        _ => Ok(license),
    }
}

/// Checks structure and signature only; the caller decides what expiry means.
pub fn verify_signature(blob: &str, trusted: &TrustedKeys) -> Result<License, VerifyError> {
    let opened = ENVELOPE.open(blob).map_err(refused)?;
    let wire: WirePayload =
        serde_json::from_slice(&opened.json).map_err(|e| VerifyError::BadPayload(e.to_string()))?;
    if wire.v != PAYLOAD_VERSION {
        return Err(VerifyError::UnknownVersion(wire.v.to_string()));
    }
    let key_id: KeyId = wire
        .kid
        .parse()
        .map_err(|e: String| VerifyError::BadPayload(e))?;
    match trusted.verify(&key_id, opened.signed, &opened.signature) {
        None => Err(VerifyError::UnknownKeyId(key_id.to_string())),
        Some(false) => Err(VerifyError::BadSignature),
        Some(true) => wire.into_license().map_err(VerifyError::BadPayload),
    }
}

fn refused(e: EnvelopeError) -> VerifyError {
    match e {
        EnvelopeError::Oversize => VerifyError::Oversize,
        EnvelopeError::WrongPrefix => VerifyError::WrongPrefix,
        EnvelopeError::UnknownVersion(version) => VerifyError::UnknownVersion(version),
        EnvelopeError::BadEncoding(why) => VerifyError::BadEncoding(why),
        EnvelopeError::TrailingData => VerifyError::TrailingData,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::{LicenseKey, Term};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use chrono::TimeZone;

    fn sample(key: &SigningKeyPair, term: Term) -> License {
        License {
            license_key: LicenseKey::generate(),
            name: "Ada Lovelace".into(),
            email: "ada@example.com".into(),
            tier: "core".into(),
            issued_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            term,
            source: "manual".into(),
            key_id: key.key_id(),
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let key = SigningKeyPair::generate();
        let until = Utc.with_ymd_and_hms(2027, 1, 2, 3, 4, 5).unwrap();
        let license = sample(&key, Term::Until(until));
        let blob = sign(&license, &key);
        assert!(blob.starts_with(PREFIX));
        assert!(blob
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b)));
        let trusted = TrustedKeys::from(&key);
        assert_eq!(
            verify(&blob, &trusted, until - chrono::Duration::seconds(1)).unwrap(),
            license
        );
        assert_eq!(
            verify(&blob, &trusted, until),
            Err(VerifyError::Expired(until))
        );
        assert_eq!(verify_signature(&blob, &trusted).unwrap(), license);
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let key = SigningKeyPair::generate();
        let blob = sign(&sample(&key, Term::Perpetual), &key);
        let (payload, sig) = blob[PREFIX.len()..].split_once('.').unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let forged = json.replace("\"core\"", "\"pro\"");
        let forged_blob = format!("{PREFIX}{}.{sig}", URL_SAFE_NO_PAD.encode(forged));
        assert_eq!(
            verify_signature(&forged_blob, &TrustedKeys::from(&key)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn another_key_is_unknown_and_both_verify_during_rotation() {
        let old = SigningKeyPair::generate();
        let new = SigningKeyPair::generate();
        let blob = sign(&sample(&old, Term::Perpetual), &old);
        let only_new = TrustedKeys::from(&new);
        assert_eq!(
            verify_signature(&blob, &only_new),
            Err(VerifyError::UnknownKeyId(old.key_id().to_string()))
        );
        let mut both = TrustedKeys::from(&new);
        both.add(old.public_key());
        assert!(verify_signature(&blob, &both).is_ok());
    }
}
