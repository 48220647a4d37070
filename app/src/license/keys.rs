//! Signing keys, their ids, and the set of public keys a verifier trusts.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The in-tree development key's seed. It is public (it is in this repository), so anything it
/// signs proves nothing: the server refuses it when `DATATOOLS_ENV=production`.
pub const DEV_SIGNING_SEED_HEX: &str =
    "6d8ad8ca3b55bc7054101d05e7ce2352e292894ea98cc22c2fa704389b2f3e2f";

/// Identifies a public key inside a blob: the first 8 bytes of SHA-256 over the 32 raw public-key
/// bytes, as 16 lowercase hex characters. Lets a desktop build trust several keys at once
/// during a rotation window and pick the right one without trying each.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    pub fn of(public_key: &VerifyingKey) -> Self {
        let digest = Sha256::digest(public_key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!("key id {s:?} is not 16 lowercase hex characters"));
        }
        let mut id = [0u8; 8];
        hex::decode_to_slice(s, &mut id).map_err(|e| e.to_string())?;
        Ok(KeyId(id))
    }
}

/// An Ed25519 signing key with its id. `Debug` never shows the secret.
#[derive(Clone)]
pub struct SigningKeyPair {
    signing: SigningKey,
    key_id: KeyId,
}

impl SigningKeyPair {
    /// A new key pair from the OS random number generator.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).expect("the OS random number generator is unavailable");
        Self::from_seed(seed)
    }

    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let key_id = KeyId::of(&signing.verifying_key());
        SigningKeyPair { signing, key_id }
    }

    /// Parses the private-key file format: the 32-byte seed as 64 hex characters. Surrounding
    /// whitespace (a trailing newline from `echo`) is tolerated. The error never echoes the input.
    pub fn from_seed_hex(text: &str) -> Result<Self, String> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| {
            "expected the Ed25519 private key as 64 hex characters (the 32-byte seed)".to_string()
        })?;
        Ok(Self::from_seed(seed))
    }

    /// The in-tree development key (see [`DEV_SIGNING_SEED_HEX`]).
    pub fn dev() -> Self {
        Self::from_seed_hex(DEV_SIGNING_SEED_HEX).expect("the dev seed is valid hex")
    }

    pub fn is_dev_key(&self) -> bool {
        self.public_hex() == Self::dev().public_hex()
    }

    /// The private key file content: 64 hex characters, no newline.
    pub fn seed_hex(&self) -> String {
        hex::encode(self.signing.to_bytes())
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.public_key().as_bytes())
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    pub(super) fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("key_id", &self.key_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// The public keys a verifier accepts, by key id.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys(BTreeMap<KeyId, VerifyingKey>);

impl TrustedKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key given as 64 hex characters; returns its id.
    pub fn add_hex(&mut self, public_hex: &str) -> Result<KeyId, String> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(public_hex.trim(), &mut bytes).map_err(|_| {
            format!("public key {public_hex:?} is not 64 hex characters (32 bytes)")
        })?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| format!("public key {public_hex:?} is not a valid Ed25519 point"))?;
        Ok(self.add(key))
    }

    pub fn add(&mut self, key: VerifyingKey) -> KeyId {
        let id = KeyId::of(&key);
        self.0.insert(id, key);
        id
    }

    pub fn ids(&self) -> impl Iterator<Item = &KeyId> {
        self.0.keys()
    }

    /// Each key's id and its public key as 64 hex characters, by id.
    pub fn iter(&self) -> impl Iterator<Item = (KeyId, String)> + '_ {
        self.0
            .iter()
            .map(|(id, key)| (*id, hex::encode(key.as_bytes())))
    }

    pub(super) fn verify(&self, id: &KeyId, message: &[u8], signature: &Signature) -> Option<bool> {
        self.0
            .get(id)
            .map(|key| key.verify_strict(message, signature).is_ok())
    }
}

impl From<&SigningKeyPair> for TrustedKeys {
    fn from(pair: &SigningKeyPair) -> Self {
        let mut keys = TrustedKeys::new();
        keys.add(pair.public_key());
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_seed() {
        let pair = SigningKeyPair::dev();
        let shown = format!("{pair:?}");
        assert!(!shown.contains(DEV_SIGNING_SEED_HEX), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn seed_hex_round_trips_and_errors_do_not_echo_input() {
        let pair = SigningKeyPair::generate();
        let again = SigningKeyPair::from_seed_hex(&format!("{}\n", pair.seed_hex())).unwrap();
        assert_eq!(again.public_hex(), pair.public_hex());
        let err = SigningKeyPair::from_seed_hex("zz-secret-looking-input").unwrap_err();
        assert!(!err.contains("secret-looking"), "{err}");
    }

    #[test]
    fn key_id_parses_back_and_rejects_uppercase() {
        let id = SigningKeyPair::dev().key_id();
        assert_eq!(id.to_string().parse::<KeyId>().unwrap(), id);
        assert!("ABCDEF0123456789".parse::<KeyId>().is_err());
        assert!("abcdef012345678".parse::<KeyId>().is_err());
    }
}
