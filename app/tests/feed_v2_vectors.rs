//! The compact DTREV2 revocation feed vectors in `docs/revocation-vectors-v2.json`, built here
//! from fixed inputs with the same test keys as the license and DTREV1 vectors.
//!
//! The test rebuilds the set, requires the committed file to equal it byte for byte, then checks
//! every committed vector against `license::verify_feed_v2`, with outcomes written down from the
//! inputs (never taken from the verifier). `feed_vectors.rs` runs the Python verifier in
//! `docs/verify_example.py` on this file too.
//!
//! After an intended format change: `DATATOOLS_UPDATE_VECTORS=1 cargo nextest run -p
//! datatools-license --test feed_v2_vectors`, then review the diff.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use datatools_license::license::{
    self, FeedError, RevocationFeed, RevocationId, RevocationList, Revoked, SigningKeyPair,
    TrustedKeys, FEED_V2_PREFIX, MAX_FEED_LEN, MAX_SEQ,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use common::feed_vectors::{
    assert_committed, at, checks, committed_or, key, render, signing_keys, trusted,
    trusted_public_keys, Check, TestKey, ISSUED, NOT_REVOKED, REVOKED_A, REVOKED_A_TYPED,
    REVOKED_B,
};

mod common;

const FILE: &str = "revocation-vectors-v2.json";
const SEQ: u64 = 1_772_000_000_000;

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
    /// `key_id`, `seq`, `issued_at` and `ids` (lowercase hex, ascending).
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

/// A list as its inputs describe it: signed by `signer`, issued at `ISSUED`.
struct Inputs<'a> {
    signer: &'a TestKey,
    seq: u64,
    revoked: Vec<String>,
}

impl Inputs<'_> {
    fn list(&self) -> RevocationList {
        let ids = self.revoked.iter().map(|k| id(k)).collect();
        RevocationList::new(self.signer.pair.key_id(), self.seq, at(ISSUED), ids)
    }

    /// What a verifier reports, written down from the inputs: the ids in lowercase hex,
    /// ascending (hex of equal length sorts as the bytes do), each once.
    fn result(&self) -> Value {
        let ids: BTreeSet<String> = self.revoked.iter().map(|k| id(k).to_string()).collect();
        json!({
            "key_id": self.signer.kid(), "seq": self.seq, "issued_at": ISSUED, "ids": ids,
        })
    }

    /// The payload the server writes (compact JSON, members in the order of section 14.2),
    /// spelt out here rather than taken from `sign_feed_v2`.
    fn payload(&self) -> String {
        let mut ids: Vec<RevocationId> = self.revoked.iter().map(|k| id(k)).collect();
        ids.sort();
        ids.dedup();
        format!(
            r#"{{"v":2,"kid":"{}","seq":{},"iat":{ISSUED},"ids":"{}"}}"#,
            self.signer.kid(),
            self.seq,
            ids_b64(&ids)
        )
    }
}

fn id(license_key: &str) -> RevocationId {
    RevocationId::of(&key(license_key))
}

/// `ids` concatenated in the order given (not sorted: the invalid vectors need other orders).
fn ids_b64(ids: &[RevocationId]) -> String {
    let bytes: Vec<u8> = ids.iter().flat_map(|id| *id.as_bytes()).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Twenty more license keys, derived from fixed phrases, for a list long enough that a binary
/// search takes several steps.
fn many_keys() -> Vec<String> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..20)
        .map(|i| {
            let digest = Sha256::digest(format!("DTREV2 vector license {i}").as_bytes());
            let chars: Vec<char> = digest[..24]
                .iter()
                .map(|b| ALPHABET[usize::from(b % 32)] as char)
                .collect();
            chars
                .chunks(6)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The payload JSON of `inputs` as a JSON value (members sorted by name) with `edit` applied.
fn edited(inputs: &Inputs, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(&inputs.payload()).unwrap();
    edit(&mut value);
    value.to_string()
}

fn build() -> VectorFile {
    let keys = TestKey::all();
    let [current, previous, _] = &keys;
    let owned = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let two = Inputs {
        signer: current,
        seq: SEQ,
        revoked: owned(&[REVOKED_A, REVOKED_B]),
    };
    let two_text = license::sign_feed_v2(&two.list(), &current.pair);
    assert_eq!(
        two_text,
        current.sign_json(FEED_V2_PREFIX, &two.payload()),
        "the server writes the payload of section 14.2 byte for byte"
    );

    let mut valid = Vec::new();
    let mut add = |name: &str, description: &str, text: String, last, inputs: &Inputs, c| {
        valid.push(ValidVector {
            name: name.into(),
            description: description.into(),
            feed: text,
            last_seq: last,
            result: inputs.result(),
            checks: c,
        })
    };
    let empty = Inputs {
        signer: current,
        seq: SEQ,
        revoked: vec![],
    };
    add(
        "empty",
        "Nothing revoked (\"ids\":\"\"); no earlier feed known.",
        license::sign_feed_v2(&empty.list(), &current.pair),
        None,
        &empty,
        checks(&[], &[REVOKED_A]),
    );
    let mut two_checks = checks(&[REVOKED_A, REVOKED_B], &[NOT_REVOKED]);
    two_checks.extend(checks(&[REVOKED_A_TYPED], &[]));
    add(
        "two_revoked",
        "Two revoked licenses; a license key typed in lower case without dashes is the same \
         license.",
        two_text.clone(),
        None,
        &two,
        two_checks,
    );
    add(
        "same_seq_again",
        "The same seq as the last one accepted (from either feed: DTREV1 and DTREV2 share it): \
         the same list, accepted.",
        two_text.clone(),
        Some(SEQ),
        &two,
        checks(&[REVOKED_A], &[]),
    );
    add(
        "newer_than_known",
        "A seq above the last one accepted.",
        two_text.clone(),
        Some(SEQ - 1),
        &two,
        checks(&[REVOKED_A], &[]),
    );
    let by_previous = Inputs {
        signer: previous,
        seq: 42,
        revoked: owned(&[REVOKED_A]),
    };
    add(
        "signed_by_previous_key",
        "Signed by the previous (still trusted) key.",
        license::sign_feed_v2(&by_previous.list(), &previous.pair),
        None,
        &by_previous,
        checks(&[REVOKED_A], &[REVOKED_B]),
    );
    let layout = Inputs {
        signer: current,
        seq: 7,
        revoked: owned(&[REVOKED_B]),
    };
    add(
        "any_json_layout",
        "Members in another order, with whitespace: a verifier parses the JSON.",
        current.sign_json(
            FEED_V2_PREFIX,
            &format!(
                " {{ \"ids\" : \"{}\" ,\n \"iat\":{ISSUED}, \"seq\":7,\"kid\":\"{}\",\t\"v\":2 }}\r\n",
                ids_b64(&[id(REVOKED_B)]),
                current.kid()
            ),
        ),
        None,
        &layout,
        checks(&[REVOKED_B], &[REVOKED_A]),
    );
    let largest = Inputs {
        signer: current,
        seq: MAX_SEQ,
        revoked: owned(&[REVOKED_A]),
    };
    add(
        "largest_seq",
        "seq is 2^53 - 1, the largest allowed.",
        license::sign_feed_v2(&largest.list(), &current.pair),
        Some(MAX_SEQ - 1),
        &largest,
        checks(&[REVOKED_A], &[]),
    );
    let many_keys = many_keys();
    let mut many = Inputs {
        signer: current,
        seq: SEQ + 1,
        revoked: many_keys.clone(),
    };
    many.revoked.push(REVOKED_A.into());
    let mut many_checks = checks(&[REVOKED_A, &many_keys[0], &many_keys[19]], &[REVOKED_B]);
    many_checks.extend(checks(
        &[&many_keys[7].to_lowercase().replace('-', "")],
        &[],
    ));
    add(
        "twenty_one_revoked",
        "Twenty-one ids, for a binary search of several steps.",
        license::sign_feed_v2(&many.list(), &current.pair),
        Some(SEQ),
        &many,
        many_checks,
    );

    let invalid = invalid(&keys, &two, &two_text);
    VectorFile {
        format: "DTREV2".into(),
        spec: "docs/license-format.md".into(),
        trusted_public_keys: trusted_public_keys(&keys),
        signing_keys: signing_keys(&keys),
        valid,
        invalid,
    }
}

fn invalid(keys: &[TestKey; 3], two: &Inputs, two_text: &str) -> Vec<InvalidVector> {
    let [current, previous, untrusted] = keys;
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
    let (two_payload, two_signature) = two_text[FEED_V2_PREFIX.len()..].split_once('.').unwrap();
    let (a, b) = (id(REVOKED_A), id(REVOKED_B));
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    let signed = |json: String| current.sign_json(FEED_V2_PREFIX, &json);

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
        "wrong_prefix_lower_case",
        "The prefix in lower case (it is case-sensitive).",
        two_text.replacen("DTREV2:", "dtrev2:", 1),
        None,
        "wrong_prefix",
    );
    bad(
        "unknown_version_prefix",
        "DTREV3: a future version of the feed.",
        two_text.replacen("DTREV2:", "DTREV3:", 1),
        None,
        "unknown_version",
    );
    let v1 = RevocationFeed {
        key_id: current.pair.key_id(),
        seq: SEQ,
        issued_at: at(ISSUED),
        revoked: [(REVOKED_A, current), (REVOKED_B, previous)]
            .iter()
            .map(|(k, by)| Revoked {
                id: id(k),
                key_id: by.pair.key_id(),
                revoked_at: at(ISSUED - 3_600),
            })
            .collect(),
    };
    let v1_text = license::sign_feed(&v1, &current.pair);
    bad(
        "unknown_version_dtrev1_feed",
        "A genuine DTREV1 feed given to the DTREV2 verifier: another format (an app that reads \
         both hands each to its own verifier).",
        v1_text.clone(),
        None,
        "unknown_version",
    );
    bad(
        "unknown_version_payload",
        "v is 1 inside a DTREV2 feed, signed by a trusted key.",
        signed(edited(two, |v| v["v"] = 1.into())),
        None,
        "unknown_version",
    );
    bad(
        "unknown_version_before_signature",
        "v is 3 and the signature is by the untrusted key: the version is reported first.",
        untrusted.sign_json(FEED_V2_PREFIX, &edited(two, |v| v["v"] = 3.into())),
        None,
        "unknown_version",
    );
    bad(
        "bad_encoding_no_signature",
        "No '.' and no signature.",
        format!("{FEED_V2_PREFIX}{two_payload}"),
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
        "bad_encoding_padded_payload",
        "The payload's base64url with '=' padding (unpadded only).",
        format!("{FEED_V2_PREFIX}{two_payload}==.{two_signature}"),
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
    let mut ids_17 = low.as_bytes().to_vec();
    ids_17.push(0);
    for (name, description, json) in [
        (
            "bad_payload_unknown_member",
            "An extra member; signed by a trusted key.",
            edited(two, |v| v["note"] = "x".into()),
        ),
        (
            "bad_payload_missing_ids",
            "No ids member; signed by a trusted key.",
            edited(two, |v| {
                v.as_object_mut().unwrap().remove("ids");
            }),
        ),
        (
            "bad_payload_ids_array",
            "ids as a JSON array of hex ids (the DTREV1 way), not a string; signed by a trusted \
             key.",
            edited(two, |v| {
                v["ids"] = json!([low.to_string(), high.to_string()]);
            }),
        ),
        (
            "bad_payload_ids_standard_base64",
            "ids in standard base64 ('+' and '/'), not base64url; signed by a trusted key.",
            edited(two, |v| {
                let standard = base64::engine::general_purpose::STANDARD_NO_PAD
                    .encode([[0xfb_u8; 16], [0xff; 16]].concat());
                assert!(standard.contains('+') && standard.contains('/'));
                v["ids"] = standard.into();
            }),
        ),
        (
            "bad_payload_ids_padded",
            "ids with '=' padding; signed by a trusted key.",
            edited(two, |v| v["ids"] = format!("{}=", ids_b64(&[low])).into()),
        ),
        (
            "bad_payload_ids_partial",
            "ids of 17 bytes: not a whole number of 16-byte ids; signed by a trusted key.",
            edited(two, |v| v["ids"] = URL_SAFE_NO_PAD.encode(&ids_17).into()),
        ),
        (
            "bad_payload_ids_descending",
            "Two ids in descending order; signed by a trusted key.",
            edited(two, |v| v["ids"] = ids_b64(&[high, low]).into()),
        ),
        (
            "bad_payload_ids_duplicate",
            "The same id twice (not strictly ascending); signed by a trusted key.",
            edited(two, |v| v["ids"] = ids_b64(&[low, high, high]).into()),
        ),
        (
            "bad_payload_seq_float",
            "\"seq\":7.0; signed by a trusted key.",
            edited(two, |v| v["seq"] = 7.0.into()),
        ),
        (
            "bad_payload_seq_too_large",
            "seq is 2^53, one above the largest allowed; signed by a trusted key.",
            edited(two, |v| v["seq"] = (MAX_SEQ + 1).into()),
        ),
        (
            "bad_payload_negative_seq",
            "seq is -1; signed by a trusted key.",
            edited(two, |v| v["seq"] = (-1).into()),
        ),
        (
            "bad_payload_seq_minus_zero",
            "\"seq\":-0, which is not an integer (a negative zero); signed by a trusted key.",
            two.payload()
                .replace(&format!("\"seq\":{SEQ}"), "\"seq\":-0"),
        ),
        (
            "bad_payload_iat_out_of_range",
            "iat is 8210266876800, one past the last instant allowed; signed by a trusted key.",
            edited(two, |v| v["iat"] = 8_210_266_876_800_i64.into()),
        ),
        (
            "bad_payload_kid_uppercase",
            "The feed's kid in upper-case hex (checked before the signature).",
            edited(two, |v| v["kid"] = current.kid().to_uppercase().into()),
        ),
        (
            "bad_payload_dtrev1_payload",
            "A DTREV1 feed's payload under the DTREV2 prefix, signed by a trusted key: it has \
             revoked and no ids.",
            URL_SAFE_NO_PAD
                .decode(v1_text["DTREV1:".len()..].split_once('.').unwrap().0)
                .map(|json| String::from_utf8(json).unwrap())
                .unwrap(),
        ),
    ] {
        bad(name, description, signed(json), None, "bad_payload");
    }
    bad(
        "bad_payload_lone_surrogate_before_signature",
        "ids is a lone surrogate escape (\\ud800), which is not text: refused while the JSON is \
         read, before the signature (here made by the untrusted key) is checked.",
        untrusted.sign_json(
            FEED_V2_PREFIX,
            &edited(two, |v| v["ids"] = "SURROGATE".into()).replace("SURROGATE", "\\ud800"),
        ),
        None,
        "bad_payload",
    );
    bad(
        "bad_payload_license_relabelled",
        "A genuine DTLIC2 blob with its prefix changed to DTREV2: its payload is not a feed.",
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
        .replacen("DTLIC2:", FEED_V2_PREFIX, 1),
        None,
        "bad_payload",
    );
    let by_untrusted = Inputs {
        signer: untrusted,
        seq: 9,
        revoked: vec![],
    };
    bad(
        "unknown_key_id",
        "A well-formed feed signed by a key the verifier does not trust.",
        license::sign_feed_v2(&by_untrusted.list(), &untrusted.pair),
        None,
        "unknown_key_id",
    );
    bad(
        "bad_signature_id_removed",
        "An id removed after signing, the original signature kept.",
        format!(
            "{FEED_V2_PREFIX}{}.{two_signature}",
            URL_SAFE_NO_PAD.encode(edited(two, |v| v["ids"] = ids_b64(&[low]).into()))
        ),
        None,
        "bad_signature",
    );
    bad(
        "bad_signature_wrong_key",
        "Names the current key's kid but was signed by the untrusted key.",
        untrusted.sign_json(FEED_V2_PREFIX, &two.payload()),
        None,
        "bad_signature",
    );
    bad(
        "bad_signature_before_ids",
        "ids in descending order and a signature by the untrusted key: the ids are read only \
         after the signature is checked.",
        untrusted.sign_json(
            FEED_V2_PREFIX,
            &edited(two, |v| v["ids"] = ids_b64(&[high, low]).into()),
        ),
        None,
        "bad_signature",
    );
    bad(
        "stale",
        "A genuine feed older than the last one accepted (a replayed copy).",
        two_text.to_string(),
        Some(SEQ + 1),
        "stale",
    );
    invalid
}

/// The codes a DTREV2 verifier can give.
fn every_code() -> BTreeSet<&'static str> {
    [
        FeedError::Oversize,
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
    .collect()
}

/// The verifier's answer as the vectors write it.
fn result_of(list: &RevocationList) -> Value {
    json!({
        "key_id": list.key_id.to_string(),
        "seq": list.seq,
        "issued_at": list.issued_at.timestamp(),
        "ids": list.ids().iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

#[test]
fn committed_vectors_are_the_ones_built_from_fixed_inputs() {
    assert_committed(FILE, "feed_v2_vectors", &render(&build()));
}

#[test]
fn every_committed_vector_verifies_as_listed() {
    let text = committed_or(FILE, || render(&build()));
    let file: VectorFile = serde_json::from_str(&text).unwrap();
    assert_eq!(file.format, "DTREV2");
    let trusted = trusted(&file.trusted_public_keys);
    let mut failures = Vec::new();
    for vector in &file.valid {
        match license::verify_feed_v2(&vector.feed, &trusted, vector.last_seq) {
            Ok(list) => {
                if result_of(&list) != vector.result {
                    failures.push(format!("{}: decoded {}", vector.name, result_of(&list)));
                }
                for check in &vector.checks {
                    let key = key(&check.license_key);
                    if RevocationId::of(&key).to_string() != check.lid
                        || list.revokes(&key) != check.revoked
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
        match license::verify_feed_v2(&vector.feed, &trusted, vector.last_seq) {
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
    // Every code but `oversize` has a vector (a 4 MiB vector would swamp the file; the test
    // below covers it).
    let mut expected = every_code();
    expected.remove("oversize");
    assert_eq!(codes, expected);
}

#[test]
fn an_oversize_feed_is_refused_before_decoding_and_the_longest_list_is_read() {
    let trusted = TrustedKeys::from(&SigningKeyPair::dev());
    let text = format!("{FEED_V2_PREFIX}{}", "A".repeat(MAX_FEED_LEN));
    assert_eq!(
        license::verify_feed_v2(&text, &trusted, None).unwrap_err(),
        FeedError::Oversize
    );
    // The longest list that fits is read; one id more is oversize. With a 13-digit seq and a
    // 10-digit iat the JSON has 78 bytes besides the ids, the envelope 94 besides the JSON.
    let key = SigningKeyPair::dev();
    let signed = |count: usize| {
        let ids = (0..count as u64)
            .map(|i| {
                let mut bytes = [0u8; 16];
                bytes[8..].copy_from_slice(&i.to_be_bytes());
                RevocationId::from_bytes(bytes)
            })
            .collect();
        license::sign_feed_v2(
            &RevocationList::new(key.key_id(), SEQ, at(ISSUED), ids),
            &key,
        )
    };
    let count = ((MAX_FEED_LEN - 94) * 3 / 4 - 78) * 3 / 64;
    assert_eq!(count, 147_449);
    let largest = signed(count);
    assert_eq!(largest.len(), MAX_FEED_LEN, "exactly 4 MiB");
    let list = license::verify_feed_v2(&largest, &trusted, None).unwrap();
    assert_eq!(list.ids().len(), count);
    let over = signed(count + 1);
    assert!(over.len() > MAX_FEED_LEN);
    assert_eq!(
        license::verify_feed_v2(&over, &trusted, None).unwrap_err(),
        FeedError::Oversize
    );
}
