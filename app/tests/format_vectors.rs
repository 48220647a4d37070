//! The DTLIC2 test vectors in `docs/license-vectors.json`, built here from fixed inputs.
//!
//! The test rebuilds the vector set, requires the committed file to equal it byte for byte, then
//! checks every committed vector against `license::verify`. Each vector's expected outcome is
//! written down from its inputs, never taken from the verifier, so the check is not circular.
//!
//! After an intended format change, rewrite the file and review its diff (every verifier in the
//! field reads these blobs):
//! `DATATOOLS_UPDATE_VECTORS=1 cargo nextest run -p datatools-license --test format_vectors`

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use datatools_license::license::{
    self, License, LicenseKey, SigningKeyPair, Term, TrustedKeys, VerifyError, MAX_BLOB_LEN, PREFIX,
};
use datatools_license::products::TermSpec;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

const UPDATE_VAR: &str = "DATATOOLS_UPDATE_VECTORS";

/// 2026-01-15T12:00:00Z.
const ISSUED: i64 = 1_768_478_400;
/// 2027-01-15T12:00:00Z: one year (twelve calendar months) after `ISSUED`, as the server mints it.
const ONE_YEAR_LATER: i64 = 1_800_014_400;
const DAY: i64 = 86_400;
/// The `now` of every vector that is not about expiry: a day after issue.
const NOW: i64 = ISSUED + DAY;
/// 2100-01-01T00:00:00Z.
const FAR_FUTURE: i64 = 4_102_444_800;

/// The group order of Ed25519, little-endian: a signature's `S` must be below it.
const ED25519_ORDER_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn vectors_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("app/ is inside the workspace")
        .join("docs/license-vectors.json")
}

// ---- The file's shape -------------------------------------------------------------------------

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    format: String,
    spec: String,
    /// The public keys a verifier under test must trust (and nothing else).
    trusted_public_keys: Vec<TrustedKey>,
    /// Every key used to make the vectors, with its seed, so the key-id derivation can be checked.
    signing_keys: Vec<KeyEntry>,
    valid: Vec<ValidVector>,
    invalid: Vec<InvalidVector>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedKey {
    kid: String,
    public_key_hex: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    role: String,
    trusted: bool,
    /// The seed is SHA-256 of this ASCII phrase.
    seed_phrase: String,
    seed_hex: String,
    public_key_hex: String,
    kid: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidVector {
    name: String,
    description: String,
    blob: String,
    now: i64,
    license: ExpectedLicense,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedLicense {
    license_key: String,
    name: String,
    email: String,
    tier: String,
    issued_at: i64,
    expires_at: Option<i64>,
    source: String,
    key_id: String,
}

impl From<&License> for ExpectedLicense {
    fn from(license: &License) -> Self {
        ExpectedLicense {
            license_key: license.license_key.to_string(),
            name: license.name.clone(),
            email: license.email.clone(),
            tier: license.tier.clone(),
            issued_at: license.issued_at.timestamp(),
            expires_at: license.expires_at().map(|at| at.timestamp()),
            source: license.source.clone(),
            key_id: license.key_id.to_string(),
        }
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidVector {
    name: String,
    description: String,
    blob: String,
    now: i64,
    error: String,
}

// ---- Building blocks --------------------------------------------------------------------------

struct TestKey {
    role: &'static str,
    trusted: bool,
    phrase: &'static str,
    seed: [u8; 32],
    pair: SigningKeyPair,
}

impl TestKey {
    fn new(role: &'static str, trusted: bool, phrase: &'static str) -> Self {
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

    /// A blob over arbitrary payload bytes, signed the way the format says: the signature covers
    /// `DTLIC2:<payload_b64>`. Lets the vectors include well-signed payloads `license::sign` would
    /// never write.
    fn sign_raw(&self, payload: &[u8]) -> String {
        self.sign_text(&format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(payload)))
    }

    /// `signed.<signature over signed>`, whatever `signed` holds.
    fn sign_text(&self, signed: &str) -> String {
        format!("{signed}.{}", self.signature(signed.as_bytes()))
    }

    fn signature(&self, message: &[u8]) -> String {
        let signature = SigningKey::from_bytes(&self.seed).sign(message);
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .expect("a valid unix time")
}

fn key(text: &str) -> LicenseKey {
    text.parse().expect("a valid license key")
}

/// A payload as an ordered list of JSON members, so malformed variants can be made by editing it.
#[derive(Clone)]
struct Fields(Vec<(String, Value)>);

impl Fields {
    /// The members `license::sign` writes, in the order it writes them.
    fn of(license: &License) -> Self {
        Fields(vec![
            ("v".into(), 2.into()),
            ("kid".into(), license.key_id.to_string().into()),
            ("lk".into(), license.license_key.to_string().into()),
            ("name".into(), license.name.clone().into()),
            ("email".into(), license.email.clone().into()),
            ("tier".into(), license.tier.clone().into()),
            ("iat".into(), license.issued_at.timestamp().into()),
            (
                "exp".into(),
                license.expires_at().map(|at| at.timestamp()).into(),
            ),
            ("src".into(), license.source.clone().into()),
        ])
    }

    fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        let slot = self
            .0
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no member {name:?}"));
        slot.1 = value.into();
        self
    }

    fn remove(mut self, name: &str) -> Self {
        self.0.retain(|(n, _)| n != name);
        self
    }

    fn push(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.0.push((name.into(), value.into()));
        self
    }

    /// Compact JSON, members in list order (what `license::sign` produces for `Fields::of`).
    fn json(&self) -> String {
        let members: Vec<String> = self
            .0
            .iter()
            .map(|(name, value)| format!("{}:{value}", Value::from(name.as_str())))
            .collect();
        format!("{{{}}}", members.join(","))
    }
}

fn split(blob: &str) -> (&str, &str) {
    blob[PREFIX.len()..]
        .split_once('.')
        .expect("a blob with a signature")
}

/// `text` with the character at byte `index` replaced by `with`.
fn replace_char(text: &str, index: usize, with: char) -> String {
    assert_ne!(
        text.as_bytes()[index],
        with as u8,
        "the replacement must differ"
    );
    format!("{}{with}{}", &text[..index], &text[index + 1..])
}

/// `text` with its last character, which must carry four unused zero bits (one of `AQgw`), made
/// non-canonical: `B` sets one of those bits, which lenient decoders silently drop.
fn with_unused_bit_set(text: &str) -> String {
    assert!("AQgw".contains(text.chars().last().unwrap()));
    replace_char(text, text.len() - 1, 'B')
}

/// The signature of `blob` with `S` replaced by `S + L`: the same point equation, but not the
/// canonical encoding of the scalar.
fn with_non_canonical_s(blob: &str) -> String {
    let (payload, signature) = split(blob);
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let mut carry = 0u16;
    for (byte, order) in bytes[32..].iter_mut().zip(ED25519_ORDER_LE) {
        let sum = u16::from(*byte) + u16::from(order) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 256 bits");
    format!("{PREFIX}{payload}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A license whose name pads the payload JSON to exactly `json_len` bytes.
fn license_with_json_len(base: &License, json_len: usize) -> License {
    let mut license = base.clone();
    let unpadded = Fields::of(&license).json().len();
    license.name = format!("{}{}", base.name, "x".repeat(json_len - unpadded));
    assert_eq!(Fields::of(&license).json().len(), json_len);
    license
}

// ---- The vector set ---------------------------------------------------------------------------

#[derive(Default)]
struct Builder {
    valid: Vec<ValidVector>,
    invalid: Vec<InvalidVector>,
}

impl Builder {
    fn valid(&mut self, name: &str, description: &str, blob: &str, now: i64, license: &License) {
        self.valid.push(ValidVector {
            name: name.into(),
            description: description.into(),
            blob: blob.into(),
            now,
            license: license.into(),
        });
    }

    fn invalid(&mut self, name: &str, description: &str, blob: &str, now: i64, error: &str) {
        self.invalid.push(InvalidVector {
            name: name.into(),
            description: description.into(),
            blob: blob.into(),
            now,
            error: error.into(),
        });
    }
}

fn build() -> VectorFile {
    let current = TestKey::new("current", true, "DataTools DTLIC2 test vector key: current");
    let previous = TestKey::new(
        "previous",
        true,
        "DataTools DTLIC2 test vector key: previous",
    );
    let untrusted = TestKey::new(
        "untrusted",
        false,
        "DataTools DTLIC2 test vector key: untrusted",
    );
    let keys = [&current, &previous, &untrusted];

    let one_year = License {
        license_key: key("7K3QX9-M2VD8P-4HNTGC-1RWBZE"),
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        tier: "core".into(),
        issued_at: at(ISSUED),
        term: Term::Until(at(ONE_YEAR_LATER)),
        source: "gumroad".into(),
        key_id: current.pair.key_id(),
    };
    assert_eq!(
        one_year.term,
        TermSpec::Years { years: 1 }.term_from(one_year.issued_at),
        "the one-year vector's term is what the server mints"
    );
    let perpetual = License {
        license_key: key("A1B2C3-D4E5F6-G7H8J9-K0M1N2"),
        name: "Grace Hopper".into(),
        email: "grace@example.org".into(),
        tier: "pro".into(),
        term: Term::Perpetual,
        source: "manual".into(),
        ..one_year.clone()
    };
    let non_ascii = License {
        license_key: key("Q8W4PZ-0N6TRJ-5YXM3K-HC1VDG"),
        name: "Zoë Ångström".into(),
        email: "zoe@example.se".into(),
        ..one_year.clone()
    };
    let by_previous = License {
        license_key: key("Z9Y8X7-W6V5T4-S3R2Q1-P0NMKJ"),
        name: "Alan Turing".into(),
        email: "alan@example.co.uk".into(),
        key_id: previous.pair.key_id(),
        ..perpetual.clone()
    };
    let by_untrusted = License {
        key_id: untrusted.pair.key_id(),
        ..one_year.clone()
    };

    let one_year_blob = license::sign(&one_year, &current.pair);
    let perpetual_blob = license::sign(&perpetual, &current.pair);
    // The documented encoding: compact JSON in this member order, signature over `DTLIC2:<b64>`.
    for (license, blob) in [(&one_year, &one_year_blob), (&perpetual, &perpetual_blob)] {
        assert_eq!(
            &current.sign_raw(Fields::of(license).json().as_bytes()),
            blob
        );
    }
    let (one_year_payload, one_year_signature) = split(&one_year_blob);
    let sign_fields = |fields: &Fields| current.sign_raw(fields.json().as_bytes());
    let zero_signed = |payload: &[u8]| {
        format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode([0u8; 64])
        )
    };

    let mut v = Builder::default();

    // ---- valid
    v.valid(
        "one_year",
        "A one-year license signed by the current key, checked a day after issue.",
        &one_year_blob,
        NOW,
        &one_year,
    );
    v.valid(
        "one_year_last_second",
        "The same blob one second before it expires: still valid.",
        &one_year_blob,
        ONE_YEAR_LATER - 1,
        &one_year,
    );
    v.valid(
        "perpetual",
        "exp is null: the license never expires, checked in the year 2100.",
        &perpetual_blob,
        FAR_FUTURE,
        &perpetual,
    );
    v.valid(
        "non_ascii_name",
        "The name is non-ASCII; the payload holds it as raw UTF-8.",
        &license::sign(&non_ascii, &current.pair),
        NOW,
        &non_ascii,
    );
    v.valid(
        "signed_by_previous_key",
        "Signed by the second trusted key (a rotation window): the verifier picks the key by kid.",
        &license::sign(&by_previous, &previous.pair),
        NOW,
        &by_previous,
    );
    let reordered = format!(
        " {{\n  \"src\": \"manual\",\n  \"exp\": null,\n  \"iat\": {ISSUED},\n  \
         \"tier\": \"pro\",\n  \"email\": \"zo\\u00eb@example.se\",\n  \
         \"name\": \"Zo\\u00eb \\u00c5ngstr\\u00f6m \\ud83d\\ude00\",\n  \
         \"lk\": \"{}\",\n  \"kid\": \"{}\",\n  \"v\": 2\n}}\n",
        non_ascii.license_key,
        current.kid()
    );
    v.valid(
        "any_json_layout",
        "Members in another order, whitespace around tokens, \\u escapes (one a surrogate pair): \
         the verifier must parse the JSON, never compare it to a canonical form.",
        &current.sign_raw(reordered.as_bytes()),
        NOW,
        &License {
            name: "Zoë Ångström 😀".into(),
            email: "zoë@example.se".into(),
            tier: "pro".into(),
            term: Term::Perpetual,
            source: "manual".into(),
            ..non_ascii.clone()
        },
    );
    v.valid(
        "license_key_normalised",
        "lk written in lowercase, without dashes, with O and I for 0 and 1: the verifier reports \
         the canonical form.",
        &sign_fields(&Fields::of(&non_ascii).set("lk", "q8w4pzon6trj5yxm3khcivdg")),
        NOW,
        &non_ascii,
    );
    v.invalid(
        "bad_payload_exp_absent",
        "No exp member at all: every member is required; a perpetual license says \"exp\":null.",
        &sign_fields(&Fields::of(&perpetual).remove("exp")),
        NOW,
        "bad_payload",
    );
    // 7 + 4002 + 1 + 86: a 3001-byte payload makes a blob of exactly MAX_BLOB_LEN bytes.
    let longest = license_with_json_len(&one_year, 3001);
    let longest_blob = license::sign(&longest, &current.pair);
    assert_eq!(longest_blob.len(), MAX_BLOB_LEN);
    v.valid(
        "exactly_4096_bytes",
        "The longest blob accepted: 4096 bytes.",
        &longest_blob,
        NOW,
        &longest,
    );

    // ---- oversize
    let too_long_blob = license::sign(&license_with_json_len(&one_year, 3002), &current.pair);
    assert_eq!(too_long_blob.len(), MAX_BLOB_LEN + 1);
    v.invalid(
        "oversize_4097_bytes",
        "A correctly signed license that is 4097 bytes long; the length is checked first.",
        &too_long_blob,
        NOW,
        "oversize",
    );
    let multibyte = format!("{PREFIX}é{}", "A".repeat(MAX_BLOB_LEN - PREFIX.len() - 1));
    assert_eq!((multibyte.chars().count(), multibyte.len()), (4096, 4097));
    v.invalid(
        "oversize_counted_in_bytes",
        "4096 characters but 4097 bytes of UTF-8: the limit counts bytes.",
        &multibyte,
        NOW,
        "oversize",
    );

    // ---- wrong_prefix
    for (name, description, blob) in [
        ("wrong_prefix_empty", "The empty string.", String::new()),
        (
            "wrong_prefix_other_format",
            "Another product's format.",
            format!("XYZ1:{one_year_payload}.{one_year_signature}"),
        ),
        (
            "wrong_prefix_lowercase",
            "The prefix is case-sensitive.",
            one_year_blob.replacen("DTLIC2:", "dtlic2:", 1),
        ),
        (
            "wrong_prefix_leading_space",
            "Leading whitespace is not stripped by the verifier.",
            format!(" {one_year_blob}"),
        ),
        (
            "wrong_prefix_no_colon",
            "\"DTLIC2\" without its colon.",
            one_year_blob.replacen("DTLIC2:", "DTLIC2", 1),
        ),
        (
            "wrong_prefix_five_digit_version",
            "DTLIC followed by more than four digits is not a version of this format.",
            one_year_blob.replacen("DTLIC2:", "DTLIC12345:", 1),
        ),
    ] {
        v.invalid(name, description, &blob, NOW, "wrong_prefix");
    }

    // ---- unknown_version
    v.invalid(
        "unknown_version_prefix_3",
        "A future format version in the prefix.",
        &one_year_blob.replacen("DTLIC2:", "DTLIC3:", 1),
        NOW,
        "unknown_version",
    );
    v.invalid(
        "unknown_version_prefix_10",
        "A two-digit version in the prefix.",
        &one_year_blob.replacen("DTLIC2:", "DTLIC10:", 1),
        NOW,
        "unknown_version",
    );
    v.invalid(
        "unknown_version_payload_v3",
        "Prefix DTLIC2 but \"v\":3 in a payload signed by a trusted key.",
        &sign_fields(&Fields::of(&one_year).set("v", 3)),
        NOW,
        "unknown_version",
    );
    v.invalid(
        "unknown_version_before_signature",
        "\"v\":3 with an all-zero signature: v is checked before the key id and the signature.",
        &zero_signed(Fields::of(&one_year).set("v", 3).json().as_bytes()),
        NOW,
        "unknown_version",
    );

    // ---- bad_encoding
    v.invalid(
        "bad_encoding_no_signature_part",
        "No '.' after the payload.",
        &format!("{PREFIX}{one_year_payload}"),
        NOW,
        "bad_encoding",
    );
    v.invalid(
        "bad_encoding_empty_signature",
        "Nothing after the '.'.",
        &format!("{PREFIX}{one_year_payload}."),
        NOW,
        "bad_encoding",
    );
    v.invalid(
        "bad_encoding_truncated_signature",
        "The signature's last character is missing (85 characters).",
        &one_year_blob[..one_year_blob.len() - 1],
        NOW,
        "bad_encoding",
    );
    v.invalid(
        "bad_encoding_signature_not_canonical",
        "The signature's last character has non-zero unused low bits.",
        &with_unused_bit_set(&one_year_blob),
        NOW,
        "bad_encoding",
    );
    v.invalid(
        "bad_encoding_signature_standard_alphabet",
        "A '+' (standard base64, not base64url) in the signature.",
        &replace_char(&one_year_blob, one_year_blob.len() - 40, '+'),
        NOW,
        "bad_encoding",
    );
    v.invalid(
        "bad_encoding_payload_bad_character",
        "A '*' in the payload.",
        &replace_char(&one_year_blob, PREFIX.len() + 10, '*'),
        NOW,
        "bad_encoding",
    );
    // A payload of 3n + 1 bytes ends in a character with four unused bits (and would need "==").
    let odd_tier = (0..3)
        .map(|extra| format!("core{}", "x".repeat(extra)))
        .find(|tier| {
            Fields::of(&one_year)
                .set("tier", tier.as_str())
                .json()
                .len()
                % 3
                == 1
        })
        .unwrap();
    let odd_payload = URL_SAFE_NO_PAD.encode(Fields::of(&one_year).set("tier", odd_tier).json());
    v.invalid(
        "bad_encoding_payload_not_canonical",
        "The payload's last character has a non-zero unused bit (and the signature is over the \
         altered text, so only the encoding is wrong).",
        &current.sign_text(&with_unused_bit_set(&format!("{PREFIX}{odd_payload}"))),
        NOW,
        "bad_encoding",
    );
    v.invalid(
        "bad_encoding_payload_padded",
        "'==' padding after the payload (and signed with it): base64url here is unpadded.",
        &current.sign_text(&format!("{PREFIX}{odd_payload}==")),
        NOW,
        "bad_encoding",
    );

    // ---- trailing_data
    for (name, description, suffix) in [
        (
            "trailing_data_newline",
            "A valid blob followed by \"\\n\".",
            "\n",
        ),
        (
            "trailing_data_crlf",
            "A valid blob followed by \"\\r\\n\".",
            "\r\n",
        ),
        (
            "trailing_data_dot_part",
            "A valid blob followed by \".AAAA\" (a third part).",
            ".AAAA",
        ),
        (
            "trailing_data_one_more_character",
            "A valid blob followed by one more base64url character (87 after the '.').",
            "A",
        ),
    ] {
        v.invalid(
            name,
            description,
            &format!("{one_year_blob}{suffix}"),
            NOW,
            "trailing_data",
        );
    }

    // ---- bad_payload
    let one_year_fields = Fields::of(&one_year);
    for (name, description, blob) in [
        (
            "bad_payload_missing_member",
            "No email member; signed by a trusted key.",
            sign_fields(&one_year_fields.clone().remove("email")),
        ),
        (
            "bad_payload_unknown_member",
            "An extra \"notes\" member; signed by a trusted key.",
            sign_fields(&one_year_fields.clone().push("notes", "comp")),
        ),
        (
            "bad_payload_duplicate_member",
            "\"tier\" twice; signed by a trusted key.",
            sign_fields(&one_year_fields.clone().push("tier", "pro")),
        ),
        (
            "bad_payload_version_is_a_string",
            "\"v\":\"2\"; signed by a trusted key.",
            sign_fields(&one_year_fields.clone().set("v", "2")),
        ),
        (
            "bad_payload_iat_is_a_float",
            "\"iat\":1768478400.0; signed by a trusted key.",
            sign_fields(&one_year_fields.clone().set("iat", ISSUED as f64)),
        ),
        (
            "bad_payload_iat_minus_zero",
            "\"iat\":-0, a negative zero, which is not an integer; signed by a trusted key.",
            current.sign_raw(
                one_year_fields
                    .json()
                    .replace(&format!("\"iat\":{ISSUED}"), "\"iat\":-0")
                    .as_bytes(),
            ),
        ),
        (
            "bad_payload_exp_out_of_range",
            "exp is the largest 64-bit integer, beyond the supported time range; signed by a \
             trusted key.",
            sign_fields(&one_year_fields.clone().set("exp", i64::MAX)),
        ),
        (
            "bad_payload_bad_license_key",
            "lk contains U, which is not in the alphabet; signed by a trusted key.",
            sign_fields(&one_year_fields.clone().set("lk", "7K3QX9-M2VD8P-4HNTGC-1RWBZU")),
        ),
        (
            "bad_payload_short_license_key",
            "lk has 23 characters; signed by a trusted key.",
            sign_fields(&one_year_fields.clone().set("lk", "7K3QX9-M2VD8P-4HNTGC-1RWBZ")),
        ),
        (
            "bad_payload_not_json",
            "The payload is not JSON; signed by a trusted key.",
            current.sign_raw(b"DataTools license for Ada Lovelace"),
        ),
        (
            "bad_payload_json_array",
            "The payload is a JSON array, not an object; signed by a trusted key.",
            current.sign_raw(format!("[{}]", one_year_fields.json()).as_bytes()),
        ),
        (
            "bad_payload_trailing_json",
            "Another value after the object; signed by a trusted key.",
            current.sign_raw(format!("{} {{}}", one_year_fields.json()).as_bytes()),
        ),
        (
            "bad_payload_invalid_utf8",
            "A name with the byte 0xFF (not UTF-8); signed by a trusted key.",
            current.sign_raw(
                &one_year_fields
                    .json()
                    .replace("Lovelace", "Lovelac\u{1}")
                    .bytes()
                    .map(|b| if b == 1 { 0xff } else { b })
                    .collect::<Vec<u8>>(),
            ),
        ),
        (
            "bad_payload_kid_uppercase",
            "kid in uppercase hex, with an all-zero signature: kid is checked before the signature.",
            zero_signed(
                one_year_fields
                    .clone()
                    .set("kid", current.kid().to_uppercase())
                    .json()
                    .as_bytes(),
            ),
        ),
        (
            "bad_payload_unknown_member_before_signature",
            "An extra member with an all-zero signature: the JSON is checked before the signature.",
            zero_signed(one_year_fields.clone().push("notes", "comp").json().as_bytes()),
        ),
    ] {
        v.invalid(name, description, &blob, NOW, "bad_payload");
    }

    // ---- unknown_key_id
    v.invalid(
        "unknown_key_id",
        "A well-formed license signed by a key the verifier does not trust.",
        &license::sign(&by_untrusted, &untrusted.pair),
        NOW,
        "unknown_key_id",
    );

    // ---- bad_signature
    v.invalid(
        "bad_signature_character_changed",
        "The signature's first character changed.",
        &replace_char(
            &one_year_blob,
            PREFIX.len() + one_year_payload.len() + 1,
            match one_year_signature.chars().next().unwrap() {
                'A' => 'B',
                _ => 'A',
            },
        ),
        NOW,
        "bad_signature",
    );
    let forged = split(&one_year_blob).0;
    let forged = String::from_utf8(URL_SAFE_NO_PAD.decode(forged).unwrap())
        .unwrap()
        .replace("\"tier\":\"core\"", "\"tier\":\"pro\"");
    v.invalid(
        "bad_signature_payload_changed",
        "tier changed from core to pro after signing, the original signature kept.",
        &format!(
            "{PREFIX}{}.{one_year_signature}",
            URL_SAFE_NO_PAD.encode(forged)
        ),
        NOW,
        "bad_signature",
    );
    v.invalid(
        "bad_signature_wrong_key",
        "Names the current key's kid but was signed by the untrusted key.",
        &untrusted.sign_raw(one_year_fields.json().as_bytes()),
        NOW,
        "bad_signature",
    );
    v.invalid(
        "bad_signature_prefix_not_signed",
        "Signed over <payload_b64> alone, without \"DTLIC2:\".",
        &format!(
            "{PREFIX}{one_year_payload}.{}",
            current.signature(one_year_payload.as_bytes())
        ),
        NOW,
        "bad_signature",
    );
    v.invalid(
        "bad_signature_json_signed",
        "Signed over the decoded JSON bytes instead of the base64url text.",
        &format!(
            "{PREFIX}{one_year_payload}.{}",
            current.signature(one_year_fields.json().as_bytes())
        ),
        NOW,
        "bad_signature",
    );
    v.invalid(
        "bad_signature_non_canonical_s",
        "S replaced by S + L (the group order): a malleated signature, refused.",
        &with_non_canonical_s(&one_year_blob),
        NOW,
        "bad_signature",
    );
    v.invalid(
        "bad_signature_before_license_key",
        "An invalid lk with an all-zero signature: lk is checked only after the signature.",
        &zero_signed(
            one_year_fields
                .clone()
                .set("lk", "7K3QX9-M2VD8P-4HNTGC-1RWBZU")
                .json()
                .as_bytes(),
        ),
        NOW,
        "bad_signature",
    );

    // ---- expired
    v.invalid(
        "expired_at_exp",
        "The one-year license checked at exactly exp: expired (now >= exp).",
        &one_year_blob,
        ONE_YEAR_LATER,
        "expired",
    );
    v.invalid(
        "expired_long_after",
        "The one-year license checked in the year 2100.",
        &one_year_blob,
        FAR_FUTURE,
        "expired",
    );

    VectorFile {
        format: "DTLIC2".into(),
        spec: "docs/license-format.md".into(),
        trusted_public_keys: keys
            .iter()
            .filter(|k| k.trusted)
            .map(|k| TrustedKey {
                kid: k.kid(),
                public_key_hex: k.pair.public_hex(),
            })
            .collect(),
        signing_keys: keys
            .iter()
            .map(|k| KeyEntry {
                role: k.role.into(),
                trusted: k.trusted,
                seed_phrase: k.phrase.into(),
                seed_hex: k.pair.seed_hex(),
                public_key_hex: k.pair.public_hex(),
                kid: k.kid(),
            })
            .collect(),
        valid: v.valid,
        invalid: v.invalid,
    }
}

// ---- The tests --------------------------------------------------------------------------------

fn updating() -> bool {
    std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1")
}

fn render(file: &VectorFile) -> String {
    let mut text = serde_json::to_string_pretty(file).expect("the vectors serialise");
    text.push('\n');
    text
}

#[test]
fn committed_vectors_are_the_ones_built_from_fixed_inputs() {
    let built = render(&build());
    let path = vectors_path();
    if updating() {
        std::fs::write(&path, &built)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with {UPDATE_VAR}=1",
            path.display()
        )
    });
    if committed != built {
        let (line, (want, have)) = built
            .lines()
            .zip(committed.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((
                built.lines().count().min(committed.lines().count()),
                ("", ""),
            ));
        panic!(
            "{} differs from the vectors this test builds, first at line {}:\n  built:     \
             {want}\n  committed: {have}\nIf the format change is intended, rerun with \
             {UPDATE_VAR}=1 and review the diff.",
            path.display(),
            line + 1
        );
    }
}

#[test]
fn every_committed_vector_verifies_as_listed() {
    let path = vectors_path();
    // While the other test rewrites the file, check what it is writing instead of racing it.
    let text = if updating() {
        render(&build())
    } else {
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    let file: VectorFile = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a vector file: {e}", path.display()));
    let mut failures = Vec::new();

    for entry in &file.signing_keys {
        let pair = SigningKeyPair::from_seed_hex(&entry.seed_hex).unwrap();
        let seed_from_phrase = hex::encode(Sha256::digest(entry.seed_phrase.as_bytes()));
        if seed_from_phrase != entry.seed_hex
            || pair.public_hex() != entry.public_key_hex
            || pair.key_id().to_string() != entry.kid
        {
            failures.push(format!(
                "signing key {:?}: seed, public key or kid do not agree",
                entry.role
            ));
        }
    }
    let trusted_roles: Vec<&KeyEntry> = file.signing_keys.iter().filter(|k| k.trusted).collect();
    assert_eq!(trusted_roles.len(), file.trusted_public_keys.len());

    let mut trusted = TrustedKeys::new();
    for key in &file.trusted_public_keys {
        let id = trusted.add_hex(&key.public_key_hex).unwrap();
        if id.to_string() != key.kid {
            failures.push(format!(
                "trusted key {}: its kid is {id}",
                key.public_key_hex
            ));
        }
    }

    let mut names = BTreeSet::new();
    for vector in &file.valid {
        assert!(names.insert(&vector.name), "duplicate name {}", vector.name);
        match license::verify(&vector.blob, &trusted, at(vector.now)) {
            Ok(decoded) if ExpectedLicense::from(&decoded) == vector.license => {}
            Ok(decoded) => failures.push(format!(
                "{}: decoded {:?}, expected {:?}",
                vector.name,
                ExpectedLicense::from(&decoded),
                vector.license
            )),
            Err(e) => failures.push(format!("{}: refused with {} ({e})", vector.name, e.code())),
        }
    }
    let mut codes = BTreeSet::new();
    for vector in &file.invalid {
        assert!(names.insert(&vector.name), "duplicate name {}", vector.name);
        codes.insert(vector.error.as_str());
        match license::verify(&vector.blob, &trusted, at(vector.now)) {
            Err(e) if e.code() == vector.error => {}
            Err(e) => failures.push(format!(
                "{}: refused with {} ({e}), expected {}",
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

    let every_code: BTreeSet<&str> = [
        VerifyError::Oversize,
        VerifyError::WrongPrefix,
        VerifyError::UnknownVersion(String::new()),
        VerifyError::BadEncoding(""),
        VerifyError::TrailingData,
        VerifyError::BadPayload(String::new()),
        VerifyError::UnknownKeyId(String::new()),
        VerifyError::BadSignature,
        VerifyError::Expired(at(0)),
    ]
    .iter()
    .map(VerifyError::code)
    .collect();
    assert_eq!(codes, every_code, "every error code has a vector");
}
