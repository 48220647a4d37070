//! The DTREV1 revocation feed vectors in `docs/revocation-vectors.json`, built here from fixed
//! inputs with the same test keys as the license vectors (a verifier trusts the same public keys
//! for both).
//!
//! The test rebuilds the set, requires the committed file to equal it byte for byte, then checks
//! every committed vector against `license::verify_feed`, with outcomes written down from the
//! inputs (never taken from the verifier). The Python verifier in `docs/verify_example.py` is run
//! on every vector file too (the last test here).
//!
//! After an intended format change: `DATATOOLS_UPDATE_VECTORS=1 cargo nextest run -p
//! datatools-license --test feed_vectors`, then review the diff.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use datatools_license::license::{
    self, FeedError, RevocationFeed, RevocationId, Revoked, SigningKeyPair, TrustedKeys,
    FEED_PREFIX, MAX_SEQ,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use common::feed_vectors::{
    assert_committed, at, checks, committed_or, key, render, signing_keys, trusted,
    trusted_public_keys, Check, TestKey, ISSUED, NOT_REVOKED, REVOKED_A, REVOKED_A_TYPED,
    REVOKED_B,
};

mod common;

const FILE: &str = "revocation-vectors.json";

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
struct InvalidVector {
    name: String,
    description: String,
    feed: String,
    last_seq: Option<u64>,
    error: String,
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
    let keys = TestKey::all();
    let [current, previous, untrusted] = &keys;
    let two = feed(
        current,
        1_772_000_000_000,
        &[
            (REVOKED_A, current, ISSUED - 86_400),
            (REVOKED_B, previous, ISSUED - 3_600),
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
    let empty = feed(current, 1_772_000_000_000, &[]);
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
                license_key: REVOKED_A_TYPED.into(),
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
    let by_previous = feed(previous, 42, &[(REVOKED_A, current, ISSUED)]);
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
    let layout_feed = feed(current, 7, &[(REVOKED_B, current, ISSUED)]);
    add(
        "any_json_layout",
        "Members in another order, with whitespace: a verifier parses the JSON.",
        current.sign_json(FEED_PREFIX, &layout),
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
        "A DTREV1 feed under the prefix DTREV2: a format a DTREV1 verifier does not read (the \
         compact feed of section 14; DTREV3: and later are future ones).",
        two_text.replacen("DTREV1:", "DTREV2:", 1),
        None,
        "unknown_version",
    );
    bad(
        "unknown_version_payload",
        "v is 2 inside a DTREV1 feed, signed by a trusted key.",
        current.sign_json(FEED_PREFIX, &payload(&two, |v| v["v"] = 2.into())),
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
        (
            "bad_payload_seq_minus_zero",
            "\"seq\":-0, which is not an integer (a negative zero); signed by a trusted key.",
            payload(&two, |_| {}).replace(&format!("\"seq\":{}", two.seq), "\"seq\":-0"),
        ),
    ] {
        bad(
            name,
            description,
            current.sign_json(FEED_PREFIX, &json),
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
        license::sign_feed(&feed(untrusted, 9, &[]), &untrusted.pair),
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
        untrusted.sign_json(FEED_PREFIX, &payload(&two, |_| {})),
        None,
        "bad_signature",
    );
    bad(
        "bad_payload_lone_surrogate_before_signature",
        "An entry's lid is a lone surrogate escape (\\ud800), which is not text: refused while \
         the JSON is read, before the signature (here made by the untrusted key) is checked.",
        untrusted.sign_json(
            FEED_PREFIX,
            &payload(&two, |v| v["revoked"][0]["lid"] = "SURROGATE".into())
                .replace("SURROGATE", "\\ud800"),
        ),
        None,
        "bad_payload",
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
        trusted_public_keys: trusted_public_keys(&keys),
        signing_keys: signing_keys(&keys),
        valid,
        invalid,
    }
}

#[test]
fn committed_vectors_are_the_ones_built_from_fixed_inputs() {
    assert_committed(FILE, "feed_vectors", &render(&build()));
}

#[test]
fn every_committed_vector_verifies_as_listed() {
    let text = committed_or(FILE, || render(&build()));
    let file: VectorFile = serde_json::from_str(&text).unwrap();
    let trusted = trusted(&file.trusted_public_keys);
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
/// every vector of every committed vector file (licenses, DTREV1 and DTREV2): run as documented,
/// without arguments, it must report every vector of each `docs/*vectors*.json` as listed.
#[test]
fn the_python_verifier_agrees_with_every_vector_file() {
    let mut files: Vec<String> = std::fs::read_dir(common::feed_vectors::docs(""))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name.contains("vectors"))
        .collect();
    files.sort();
    for known in [
        "license-vectors.json",
        "revocation-vectors.json",
        "revocation-vectors-v2.json",
    ] {
        assert!(files.iter().any(|f| f == known), "{known} not in {files:?}");
    }
    let output = common::verifier::python(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in &files {
        let summary = stdout
            .lines()
            .find(|l| l.contains("vectors as listed") && l.ends_with(&format!("({file})")))
            .unwrap_or_else(|| panic!("docs/verify_example.py did not run {file}:\n{stdout}"));
        let (done, total) = summary.split_once(' ').unwrap().0.split_once('/').unwrap();
        assert_eq!(done, total, "{summary}");
    }
}
