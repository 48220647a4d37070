//! The signed envelope a license blob and the revocation feed share:
//!
//! ```text
//! <PREFIX><base64url(payload JSON)>.<base64url(Ed25519 signature)>
//! ```
//! The signature covers every byte before the `.`, the prefix included, so a signature made for
//! one kind (or another version) never verifies as the other. Each kind reads its own payload
//! and wraps [`EnvelopeError`] in its own error with its own wording.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::Signature;

use super::SigningKeyPair;

/// 64 signature bytes in unpadded base64url.
const SIGNATURE_CHARS: usize = 86;

/// One kind of signed document.
pub(super) struct Envelope {
    /// What every document of this kind starts with, e.g. `DTLIC2:`.
    pub(super) prefix: &'static str,
    /// The prefix without its version, e.g. `DTLIC`: `DTLIC3:` is a future version of ours,
    /// not a foreign text.
    pub(super) family: &'static str,
    /// Longer input is refused before any decoding.
    pub(super) max_len: usize,
}

/// Why the envelope itself was refused, before its payload is read.
#[derive(Debug)]
pub(super) enum EnvelopeError {
    Oversize,
    WrongPrefix,
    UnknownVersion(String),
    BadEncoding(&'static str),
    TrailingData,
}

/// An envelope taken apart: its payload's JSON, and the signature with the bytes it covers.
pub(super) struct Opened<'a> {
    pub(super) json: Vec<u8>,
    pub(super) signed: &'a [u8],
    pub(super) signature: Signature,
}

impl Envelope {
    /// Encodes `json` and signs it with `key`.
    pub(super) fn seal(&self, json: &[u8], key: &SigningKeyPair) -> String {
        let signed = format!("{}{}", self.prefix, URL_SAFE_NO_PAD.encode(json));
        let signature = key.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// Checks length, prefix, the one `.` and strict base64url (the signature first, then the
    /// payload); the caller reads the payload and checks the signature with the key it names.
    pub(super) fn open<'a>(&self, text: &'a str) -> Result<Opened<'a>, EnvelopeError> {
        if text.len() > self.max_len {
            return Err(EnvelopeError::Oversize);
        }
        let body = self.strip_prefix(text)?;
        let (payload_b64, signature_b64) = body
            .split_once('.')
            .ok_or(EnvelopeError::BadEncoding("the signature part is missing"))?;
        if signature_b64.contains('.') || signature_b64.len() > SIGNATURE_CHARS {
            return Err(EnvelopeError::TrailingData);
        }
        let signature_bytes: [u8; 64] = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(EnvelopeError::BadEncoding(
                "the signature is not 64 bytes of base64url",
            ))?;
        let json = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| EnvelopeError::BadEncoding("the payload is not base64url"))?;
        let signed_len = self.prefix.len() + payload_b64.len();
        Ok(Opened {
            json,
            signed: &text.as_bytes()[..signed_len],
            signature: Signature::from_bytes(&signature_bytes),
        })
    }

    /// Returns what follows the prefix, telling a foreign text from a future version of ours.
    fn strip_prefix<'a>(&self, text: &'a str) -> Result<&'a str, EnvelopeError> {
        if let Some(body) = text.strip_prefix(self.prefix) {
            return Ok(body);
        }
        let rest = text
            .strip_prefix(self.family)
            .ok_or(EnvelopeError::WrongPrefix)?;
        match rest.split_once(':') {
            Some((version, _))
                if !version.is_empty()
                    && version.len() <= 4
                    && version.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Err(EnvelopeError::UnknownVersion(version.to_string()))
            }
            _ => Err(EnvelopeError::WrongPrefix),
        }
    }
}
