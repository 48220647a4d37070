//! What the two revocation feed vector tests share (`feed_vectors.rs` for `DTREV1`,
//! `feed_v2_vectors.rs` for `DTREV2`): the license vectors' test keys (a verifier trusts the
//! same public keys for licenses and feeds), the fixed license keys, the `checks` every valid
//! vector carries, and the rebuild-and-compare of a committed file.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{TimeZone, Utc};
use datatools_license::license::{LicenseKey, RevocationId, SigningKeyPair, TrustedKeys};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const UPDATE_VAR: &str = "DATATOOLS_UPDATE_VECTORS";
/// 2026-03-01T00:00:00Z.
pub const ISSUED: i64 = 1_772_323_200;
/// The license vectors' `one_year` license and two more keys.
pub const REVOKED_A: &str = "7K3QX9-M2VD8P-4HNTGC-1RWBZE";
pub const REVOKED_B: &str = "Q8W4PZ-0N6TRJ-5YXM3K-HC1VDG";
pub const NOT_REVOKED: &str = "ZZZZZZ-000000-ZZZZZZ-000000";
/// `REVOKED_A` as a buyer might type it: lower case, no dashes.
pub const REVOKED_A_TYPED: &str = "7k3qx9m2vd8p4hntgc1rwbze";

/// `docs/<name>` in this workspace.
pub fn docs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("app/ is inside the workspace")
        .join("docs")
        .join(name)
}

/// A license key and whether a valid vector's feed lists it.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// As a verifier would read it from a blob (any form section 6 accepts).
    pub license_key: String,
    /// Its revocation id, computed here from the key.
    pub lid: String,
    pub revoked: bool,
}

/// Checks for keys the feed lists and keys it does not.
pub fn checks(revoked: &[&str], others: &[&str]) -> Vec<Check> {
    let check = |typed: &str, revoked: bool| Check {
        license_key: typed.into(),
        lid: RevocationId::of(&key(typed)).to_string(),
        revoked,
    };
    revoked
        .iter()
        .map(|k| check(k, true))
        .chain(others.iter().map(|k| check(k, false)))
        .collect()
}

pub struct TestKey {
    pub role: &'static str,
    pub trusted: bool,
    pub phrase: &'static str,
    pub seed: [u8; 32],
    pub pair: SigningKeyPair,
}

impl TestKey {
    /// The license vectors' key of this role ("current", "previous" or "untrusted").
    pub fn new(role: &'static str, trusted: bool) -> Self {
        let phrase: &'static str = match role {
            "current" => "DataTools DTLIC2 test vector key: current",
            "previous" => "DataTools DTLIC2 test vector key: previous",
            _ => "DataTools DTLIC2 test vector key: untrusted",
        };
        let seed: [u8; 32] = Sha256::digest(phrase.as_bytes()).into();
        TestKey {
            role,
            trusted,
            phrase,
            seed,
            pair: SigningKeyPair::from_seed(seed),
        }
    }

    /// The current and previous keys (trusted, as in a rotation window) and an untrusted one.
    pub fn all() -> [TestKey; 3] {
        [
            TestKey::new("current", true),
            TestKey::new("previous", true),
            TestKey::new("untrusted", false),
        ]
    }

    pub fn kid(&self) -> String {
        self.pair.key_id().to_string()
    }

    /// A document over arbitrary payload JSON under `prefix`, signed as the format says.
    pub fn sign_json(&self, prefix: &str, json: &str) -> String {
        self.sign_text(&format!("{prefix}{}", URL_SAFE_NO_PAD.encode(json)))
    }

    /// `signed` and a signature over exactly its bytes.
    pub fn sign_text(&self, signed: &str) -> String {
        let signature = SigningKey::from_bytes(&self.seed).sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// The file's `trusted_public_keys`: the keys a verifier under test trusts, and nothing else.
pub fn trusted_public_keys(keys: &[TestKey]) -> Vec<Value> {
    keys.iter()
        .filter(|k| k.trusted)
        .map(|k| json!({"kid": k.kid(), "public_key_hex": k.pair.public_hex()}))
        .collect()
}

/// The file's `signing_keys`: every key used, with its seed, the untrusted one included.
pub fn signing_keys(keys: &[TestKey]) -> Vec<Value> {
    keys.iter()
        .map(|k| {
            json!({
                "role": k.role, "trusted": k.trusted, "seed_phrase": k.phrase,
                "seed_hex": k.pair.seed_hex(), "public_key_hex": k.pair.public_hex(),
                "kid": k.kid(),
            })
        })
        .collect()
}

/// The trusted set a file's `trusted_public_keys` describes, each id checked against its key.
pub fn trusted(listed: &[Value]) -> TrustedKeys {
    let mut trusted = TrustedKeys::new();
    for key in listed {
        let id = trusted
            .add_hex(key["public_key_hex"].as_str().unwrap())
            .unwrap();
        assert_eq!(id.to_string(), key["kid"]);
    }
    trusted
}

pub fn key(text: &str) -> LicenseKey {
    text.parse().unwrap()
}

pub fn at(secs: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap()
}

/// Pretty JSON with a final newline, as committed.
pub fn render(file: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(file).unwrap();
    text.push('\n');
    text
}

pub fn updating() -> bool {
    std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1")
}

/// Requires `docs/<name>` to be `built` byte for byte (writing it first when updating).
pub fn assert_committed(name: &str, test: &str, built: &str) {
    let path = docs(name);
    if updating() {
        std::fs::write(&path, built).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with {UPDATE_VAR}=1 cargo nextest run -p \
             datatools-license --test {test}",
            path.display()
        )
    });
    assert!(
        committed == built,
        "{} differs from the vectors `{test}` builds; if the change is intended, rerun it with \
         {UPDATE_VAR}=1 and review the diff",
        path.display()
    );
}

/// The committed file to check (the freshly built one while updating, which is written
/// concurrently by the other test).
pub fn committed_or(name: &str, build: impl FnOnce() -> String) -> String {
    if updating() {
        build()
    } else {
        std::fs::read_to_string(docs(name)).unwrap()
    }
}
