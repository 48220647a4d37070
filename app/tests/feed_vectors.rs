//! The DTREV1 revocation feed vectors in `docs/revocation-vectors.json`, built here from fixed
//! inputs with the same test keys as the license vectors (a verifier trusts the same public keys
//! for both).
//!
//! The test rebuilds the set, requires the committed file to equal it byte for byte, then checks
//! every committed vector against `license::verify_feed`, with outcomes written down from the
//! inputs (never taken from the verifier). The Python verifier in `docs/verify_example.py` is run
//! on both vector files too.
//!
//! After an intended format change: `DATATOOLS_UPDATE_VECTORS=1 cargo nextest run -p
//! datatools-license --test feed_vectors`, then review the diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{TimeZone, Utc};
use datatools_license::license::{
    self, FeedError, LicenseKey, RevocationFeed, RevocationId, Revoked, SigningKeyPair,
    TrustedKeys, FEED_PREFIX, MAX_SEQ,
};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

mod common;

const UPDATE_VAR: &str = "DATATOOLS_UPDATE_VECTORS";
/// 2026-03-01T00:00:00Z.
const ISSUED: i64 = 1_772_323_200;
/// The license vectors' `one_year` license and two more keys.
const REVOKED_A: &str = "7K3QX9-M2VD8P-4HNTGC-1RWBZE";
const REVOKED_B: &str = "Q8W4PZ-0N6TRJ-5YXM3K-HC1VDG";
const NOT_REVOKED: &str = "ZZZZZZ-000000-ZZZZZZ-000000";

fn docs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("app/ is inside the workspace")
        .join("docs")
        .join(name)
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    format: String,
    spec: String,
    trusted_public_keys: Vec<Value>,
    signing_keys: Vec<Value>,
    valid: Vec<ValidVector>,
    invalid: Vec<InvalidVector>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidVector {
    name: String,
    description: String,
    feed: String,
    /// The highest `seq` the verifier accepted before (null: none yet).
    last_seq: Option<u64>,
    result: Value,
    /// License keys (as a verifier would read them from a blob) and whether the feed lists them.
    checks: Vec<Check>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    license_key: String,
    lid: String,
    revoked: bool,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidVector {
    name: String,
    description: String,
    feed: String,
    last_seq: Option<u64>,
    error: String,
}

struct TestKey {
    role: &'static str,
    trusted: bool,
    phrase: &'static str,
    seed: [u8; 32],
    pair: SigningKeyPair,
}

impl TestKey {
    fn new(role: &'static str, trusted: bool) -> Self {
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

    fn kid(&self) -> String {
        self.pair.key_id().to_string()
    }

    /// A feed over arbitrary payload JSON, signed as the format says.
    fn sign_json(&self, json: &str) -> String {
        self.sign_text(&format!("{FEED_PREFIX}{}", URL_SAFE_NO_PAD.encode(json)))
    }

    fn sign_text(&self, signed: &str) -> String {
        let signature = SigningKey::from_bytes(&self.seed).sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

fn key(text: &str) -> LicenseKey {
    text.parse().unwrap()
}

fn at(secs: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap()
}

fn feed(signer: &TestKey, seq: u64, revoked: &[(&str, &TestKey, i64)]) -> RevocationFeed {
    RevocationFeed {
        key_id: signer.pair.key_id(),
        seq,
        issued_at: at(ISSUED),
        revoked: revoked
            .iter()
            .map(|(k, by, when)| Revoked {
                id: RevocationId::of(&key(k)),
                key_id: by.pair.key_id(),
                revoked_at: at(*when),
            })
            .collect(),
    }
}

/// What a verifier reports, entries in lid order (the issuer writes them sorted; every valid
/// vector's document is sorted).
fn result_of(feed: &RevocationFeed) -> Value {
    let mut revoked: Vec<&Revoked> = feed.revoked.iter().collect();
    revoked.sort_by_key(|r| r.id);
    json!({
        "key_id": feed.key_id.to_string(),
        "seq": feed.seq,
        "issued_at": feed.issued_at.timestamp(),
        "revoked": revoked.iter().map(|r| json!({
            "lid": r.id.to_string(), "kid": r.key_id.to_string(), "at": r.revoked_at.timestamp(),
        })).collect::<Vec<_>>(),
    })
}

fn checks(revoked: &[&str], others: &[&str]) -> Vec<Check> {
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

/// The payload JSON of a feed the server would sign, with `edit` applied to it.
fn payload(feed: &RevocationFeed, edit: impl FnOnce(&mut Value)) -> String {
    let mut value = json!({
        "v": 1, "kid": feed.key_id.to_string(), "seq": feed.seq,
        "iat": feed.issued_at.timestamp(),
        "revoked": feed.revoked.iter().map(|r| json!({
            "lid": r.id.to_string(), "kid": r.key_id.to_string(), "at": r.revoked_at.timestamp(),
        })).collect::<Vec<_>>(),
    });
    edit(&mut value);
    value.to_string()
}

fn build() -> VectorFile {
    let current = TestKey::new("current", true);
    let previous = TestKey::new("previous", true);
    let untrusted = TestKey::new("untrusted", false);
    let keys = [&current, &previous, &untrusted];
    let two = feed(
        &current,
        1_772_000_000_000,
        &[
            (REVOKED_A, &current, ISSUED - 86_400),
            (REVOKED_B, &previous, ISSUED - 3_600),
        ],
    );
    let two_text = license::sign_feed(&two, &current.pair);
    let mut valid = Vec::new();
    let mut add = |name: &str, description: &str, text: String, last, f: &RevocationFeed, c| {
        let result = result_of(f);
        valid.push(ValidVector {
            name: name.into(),
            description: description.into(),
            feed: text,
            last_seq: last,
            result,
            checks: c,
        });
    };
    let empty = feed(&current, 1_772_000_000_000, &[]);
    add(
        "empty",
        "Nothing revoked; no earlier feed known.",
        license::sign_feed(&empty, &current.pair),
        None,
        &empty,
        checks(&[], &[REVOKED_A]),
    );
    add(
        "two_revoked",
        "Two revoked licenses (one whose blob was signed by the previous key); a license key \
         typed in lower case without dashes is the same license.",
        two_text.clone(),
        None,
        &two,
        {
            let mut c = checks(&[REVOKED_A, REVOKED_B], &[NOT_REVOKED]);
            c.push(Check {
                license_key: "7k3qx9m2vd8p4hntgc1rwbze".into(),
                lid: RevocationId::of(&key(REVOKED_A)).to_string(),
                revoked: true,
            });
            c
        },
    );
    add(
        "same_seq_again",
        "The same seq as the last one accepted: the same list, accepted.",
        two_text.clone(),
        Some(two.seq),
        &two,
        checks(&[REVOKED_A], &[]),
    );
    add(
        "newer_than_known",
        "A seq above the last one accepted.",
        two_text.clone(),
        Some(two.seq - 1),
        &two,
        checks(&[REVOKED_A], &[]),
    );
    let by_previous = feed(&previous, 42, &[(REVOKED_A, &current, ISSUED)]);
    add(
        "signed_by_previous_key",
        "Signed by the previous (still trusted) key.",
        license::sign_feed(&by_previous, &previous.pair),
        None,
        &by_previous,
        checks(&[REVOKED_A], &[REVOKED_B]),
    );
    let layout = format!(
        " {{ \"revoked\" : [ {{\"at\":{},\"kid\":\"{}\",\"lid\":\"{}\"}} ] ,\n \"iat\":{ISSUED}, \
         \"seq\":7,\"kid\":\"{}\",\"v\":1 }} ",
        ISSUED,
        current.kid(),
        RevocationId::of(&key(REVOKED_B)),
        current.kid()
    );
    let layout_feed = feed(&current, 7, &[(REVOKED_B, &current, ISSUED)]);
    add(
        "any_json_layout",
        "Members in another order, with whitespace: a verifier parses the JSON.",
        current.sign_json(&layout),
        None,
        &layout_feed,
        checks(&[REVOKED_B], &[REVOKED_A]),
    );

    let mut invalid = Vec::new();
    let mut bad = |name: &str, description: &str, text: String, last: Option<u64>, error: &str| {
        invalid.push(InvalidVector {
            name: name.into(),
            description: description.into(),
            feed: text,
            last_seq: last,
            error: error.into(),
        })
    };
    let (two_payload, two_signature) = two_text[FEED_PREFIX.len()..].split_once('.').unwrap();
    bad(
        "wrong_prefix_license_blob",
        "A DTLIC2 license blob is not a feed.",
        "DTLIC2:eyJ2IjoyfQ.AAAA".into(),
        None,
        "wrong_prefix",
    );
    bad(
        "wrong_prefix_leading_space",
        "A space before the prefix (nothing is trimmed).",
        format!(" {two_text}"),
        None,
        "wrong_prefix",
    );
    bad(
        "unknown_version_prefix",
        "DTREV2: a future version of the feed.",
        two_text.replacen("DTREV1:", "DTREV2:", 1),
        None,
        "unknown_version",
    );
    bad(
        "unknown_version_payload",
        "v is 2 inside a DTREV1 feed, signed by a trusted key.",
        current.sign_json(&payload(&two, |v| v["v"] = 2.into())),
        None,
        "unknown_version",
    );
    bad(
        "bad_encoding_no_signature",
        "No '.' and no signature.",
        format!("{FEED_PREFIX}{two_payload}"),
        None,
        "bad_encoding",
    );
    bad(
        "bad_encoding_short_signature",
        "The signature cut to 85 characters.",
        two_text[..two_text.len() - 1].to_string(),
        None,
        "bad_encoding",
    );
    bad(
        "trailing_data_newline",
        "A valid feed followed by \"\\n\".",
        format!("{two_text}\n"),
        None,
        "trailing_data",
    );
    for (name, description, json) in [
        (
            "bad_payload_unknown_member",
            "An extra member; signed by a trusted key.",
            payload(&two, |v| v["note"] = "x".into()),
        ),
        (
            "bad_payload_missing_revoked",
            "No revoked member; signed by a trusted key.",
            payload(&two, |v| {
                v.as_object_mut().unwrap().remove("revoked");
            }),
        ),
        (
            "bad_payload_entry_unknown_member",
            "An entry with an extra member; signed by a trusted key.",
            payload(&two, |v| v["revoked"][0]["email"] = "a@example.com".into()),
        ),
        (
            "bad_payload_lid_uppercase",
            "An lid in upper-case hex; signed by a trusted key.",
            payload(&two, |v| {
                let lid = v["revoked"][0]["lid"].as_str().unwrap().to_uppercase();
                v["revoked"][0]["lid"] = lid.into();
            }),
        ),
        (
            "bad_payload_seq_float",
            "\"seq\":7.0; signed by a trusted key.",
            payload(&two, |v| v["seq"] = 7.0.into()),
        ),
        (
            "bad_payload_seq_too_large",
            "seq is 2^53, one above the largest allowed; signed by a trusted key.",
            payload(&two, |v| v["seq"] = (MAX_SEQ + 1).into()),
        ),
        (
            "bad_payload_negative_seq",
            "seq is -1; signed by a trusted key.",
            payload(&two, |v| v["seq"] = (-1).into()),
        ),
        (
            "bad_payload_kid_uppercase",
            "The feed's kid in upper-case hex (checked before the signature).",
            payload(&two, |v| v["kid"] = current.kid().to_uppercase().into()),
        ),
    ] {
        bad(
            name,
            description,
            current.sign_json(&json),
            None,
            "bad_payload",
        );
    }
    bad(
        "bad_payload_license_relabelled",
        "A genuine DTLIC2 blob with its prefix changed to DTREV1: its payload is not a feed.",
        license::sign(
            &license::License {
                license_key: key(REVOKED_A),
                name: "Ada Lovelace".into(),
                email: "ada@example.com".into(),
                tier: "core".into(),
                issued_at: at(ISSUED),
                term: license::Term::Perpetual,
                source: "gumroad".into(),
                key_id: current.pair.key_id(),
            },
            &current.pair,
        )
        .replacen("DTLIC2:", FEED_PREFIX, 1),
        None,
        "bad_payload",
    );
    bad(
        "unknown_key_id",
        "A well-formed feed signed by a key the verifier does not trust.",
        license::sign_feed(&feed(&untrusted, 9, &[]), &untrusted.pair),
        None,
        "unknown_key_id",
    );
    let edited = payload(&two, |v| {
        v["revoked"].as_array_mut().unwrap().remove(0);
    });
    bad(
        "bad_signature_entry_removed",
        "An entry removed after signing, the original signature kept.",
        format!(
            "{FEED_PREFIX}{}.{two_signature}",
            URL_SAFE_NO_PAD.encode(edited)
        ),
        None,
        "bad_signature",
    );
    bad(
        "bad_signature_wrong_key",
        "Names the current key's kid but was signed by the untrusted key.",
        untrusted.sign_json(&payload(&two, |_| {})),
        None,
        "bad_signature",
    );
    bad(
        "stale",
        "A genuine feed older than the last one accepted (a replayed copy).",
        two_text.clone(),
        Some(two.seq + 1),
        "stale",
    );

    VectorFile {
        format: "DTREV1".into(),
        spec: "docs/license-format.md".into(),
        trusted_public_keys: keys
            .iter()
            .filter(|k| k.trusted)
            .map(|k| json!({"kid": k.kid(), "public_key_hex": k.pair.public_hex()}))
            .collect(),
        signing_keys: keys
            .iter()
            .map(|k| {
                json!({
                    "role": k.role, "trusted": k.trusted, "seed_phrase": k.phrase,
                    "seed_hex": k.pair.seed_hex(), "public_key_hex": k.pair.public_hex(),
                    "kid": k.kid(),
                })
            })
            .collect(),
        valid,
        invalid,
    }
}

fn render(file: &VectorFile) -> String {
    let mut text = serde_json::to_string_pretty(file).unwrap();
    text.push('\n');
    text
}

fn updating() -> bool {
    std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1")
}

#[test]
fn committed_vectors_are_the_ones_built_from_fixed_inputs() {
    let built = render(&build());
    let path = docs("revocation-vectors.json");
    if updating() {
        std::fs::write(&path, &built).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with {UPDATE_VAR}=1",
            path.display()
        )
    });
    assert!(
        committed == built,
        "{} differs from the vectors this test builds; if the change is intended, rerun with \
         {UPDATE_VAR}=1 and review the diff",
        path.display()
    );
}

#[test]
fn every_committed_vector_verifies_as_listed() {
    let text = if updating() {
        render(&build())
    } else {
        std::fs::read_to_string(docs("revocation-vectors.json")).unwrap()
    };
    let file: VectorFile = serde_json::from_str(&text).unwrap();
    let mut trusted = TrustedKeys::new();
    for key in &file.trusted_public_keys {
        let id = trusted
            .add_hex(key["public_key_hex"].as_str().unwrap())
            .unwrap();
        assert_eq!(id.to_string(), key["kid"]);
    }
    let mut failures = Vec::new();
    for vector in &file.valid {
        match license::verify_feed(&vector.feed, &trusted, vector.last_seq) {
            Ok(feed) => {
                if result_of(&feed) != vector.result {
                    failures.push(format!("{}: decoded {}", vector.name, result_of(&feed)));
                }
                for check in &vector.checks {
                    let key = key(&check.license_key);
                    if RevocationId::of(&key).to_string() != check.lid
                        || feed.revokes(&key) != check.revoked
                    {
                        failures.push(format!("{}: check {}", vector.name, check.license_key));
                    }
                }
            }
            Err(e) => failures.push(format!("{}: refused with {} ({e})", vector.name, e.code())),
        }
    }
    let mut codes = BTreeSet::new();
    for vector in &file.invalid {
        codes.insert(vector.error.as_str());
        match license::verify_feed(&vector.feed, &trusted, vector.last_seq) {
            Err(e) if e.code() == vector.error => {}
            Err(e) => failures.push(format!(
                "{}: {} ({e}), expected {}",
                vector.name,
                e.code(),
                vector.error
            )),
            Ok(_) => failures.push(format!(
                "{}: accepted, expected {}",
                vector.name, vector.error
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every code but `oversize` has a vector (a 4 MiB vector would swamp the file; the unit
    // test below covers it).
    let every: BTreeSet<&str> = [
        FeedError::WrongPrefix,
        FeedError::UnknownVersion(String::new()),
        FeedError::BadEncoding(""),
        FeedError::TrailingData,
        FeedError::BadPayload(String::new()),
        FeedError::UnknownKeyId(String::new()),
        FeedError::BadSignature,
        FeedError::Stale { seq: 0, known: 0 },
    ]
    .iter()
    .map(FeedError::code)
    .collect();
    assert_eq!(codes, every);
}

#[test]
fn an_oversize_feed_is_refused_before_decoding() {
    let trusted = TrustedKeys::from(&SigningKeyPair::dev());
    let text = format!("{FEED_PREFIX}{}", "A".repeat(license::MAX_FEED_LEN));
    assert_eq!(
        license::verify_feed(&text, &trusted, None).unwrap_err(),
        FeedError::Oversize
    );
}

/// The Python verifier (docs/verify_example.py), which follows the spec on its own, agrees with
/// every license and feed vector.
#[test]
fn the_python_verifier_agrees_with_both_vector_files() {
    let output = common::verifier::python(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summaries: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("vectors as listed"))
        .collect();
    assert_eq!(summaries.len(), 2, "{stdout}");
    for line in summaries {
        let (done, total) = line.split_once(' ').unwrap().0.split_once('/').unwrap();
        assert_eq!(done, total, "{line}");
    }
}
