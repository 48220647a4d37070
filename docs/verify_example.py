#!/usr/bin/env python3
"""A complete DTLIC2 license and DTREV1/DTREV2 revocation feed verifier in Python, checked
against docs/license-vectors.json, docs/revocation-vectors.json and
docs/revocation-vectors-v2.json.

It follows docs/license-format.md step by step and gives the same error codes as the Rust
reference implementation (app/src/license/blob.rs, feed.rs and feed_v2.rs).

    pip install cryptography
    python3 docs/verify_example.py                 # runs every vector, exits non-zero on a mismatch
    python3 docs/verify_example.py path/to/vectors.json [more.json ...]   # DTLIC2, DTREV1, DTREV2
    python3 docs/verify_example.py --pubkey HEX[,HEX] 'DTLIC2:...'        # checks one blob now
"""

import base64
import bisect
import hashlib
import json
import re
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PREFIX = b"DTLIC2:"
MAX_BLOB_LEN = 4096  # bytes of UTF-8
SIGNATURE_CHARS = 86  # 64 bytes in unpadded base64url
FUTURE_VERSION = re.compile(rb"DTLIC[0-9]{1,4}:")
BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")
MEMBERS = {"v", "kid", "lk", "name", "email", "tier", "iat", "exp", "src"}
KID = re.compile(r"[0-9a-f]{16}")
# The instants the reference implementation can represent (years -262143 to 262142).
MIN_TIME, MAX_TIME = -8334601228800, 8210266876799
I64 = (-(2**63), 2**63 - 1)
U32 = (0, 2**32 - 1)
LICENSE_KEY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class VerifyError(Exception):
    """A refused blob; `code` is one of the codes in docs/license-format.md."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


def key_id(public_key_bytes):
    """First 8 bytes of SHA-256 over the 32 raw public-key bytes, as lowercase hex."""
    return hashlib.sha256(public_key_bytes).digest()[:8].hex()


def trusted_keys(public_keys_hex):
    """kid -> public key, for the keys this build trusts (several during a rotation window)."""
    keys = {}
    for text in public_keys_hex:
        raw = bytes.fromhex(text.strip())
        keys[key_id(raw)] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def b64url_decode(text):
    """Strict unpadded base64url: alphabet A-Z a-z 0-9 - _, no '=', canonical unused bits."""
    if not BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=") != text:
        raise ValueError("non-canonical base64url")
    return data


def normalise_license_key(text):
    """What the Rust LicenseKey::from_str accepts, in canonical XXXXXX-XXXXXX-XXXXXX-XXXXXX form."""
    chars = []
    for c in text:
        if c in "- ":
            continue
        c = c.upper() if c.isascii() else c
        c = {"O": "0", "I": "1", "L": "1"}.get(c, c)
        if c not in LICENSE_KEY_ALPHABET:
            raise ValueError(f"license key contains {c!r}")
        chars.append(c)
    if len(chars) != 24:
        raise ValueError(f"license key has {len(chars)} characters; expected 24")
    return "-".join("".join(chars[i : i + 6]) for i in range(0, 24, 6))


def _no_duplicates(pairs):
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError("duplicate member")
    return dict(pairs)


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _integer(text):
    # "-0" is a negative zero, a float to the reference parser: not an integer.
    if text == "-0":
        raise ValueError("-0 is not an integer")
    return int(text)


def _is_int(value, bounds):
    # bool is a subclass of int in Python; JSON true/false are not numbers.
    return type(value) is int and bounds[0] <= value <= bounds[1]


def _is_text(value):
    # A lone \\ud800 escape parses in Python but is not text: refused with the JSON.
    if type(value) is not str:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_json_object(payload, members):
    """Step 7's common part: UTF-8, one JSON object, no duplicate or unknown member, every one of
    `members` present."""
    try:
        wire = json.loads(
            payload.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_integer,
        )
    except (ValueError, RecursionError) as e:
        raise VerifyError("bad_payload", str(e)) from None
    if type(wire) is not dict:
        raise VerifyError("bad_payload", "not a JSON object")
    if set(wire) != members:
        raise VerifyError("bad_payload", f"members {sorted(set(wire) ^ members)}")
    return wire


def parse_payload(payload):
    """Step 7: the JSON object with exactly the DTLIC2 members and their types."""
    wire = read_json_object(payload, MEMBERS)
    for name in ("kid", "lk", "name", "email", "tier", "src"):
        if not _is_text(wire[name]):
            raise VerifyError("bad_payload", f"{name} is not a string of valid Unicode")
    if not _is_int(wire["v"], U32):
        raise VerifyError("bad_payload", "v is not an unsigned 32-bit integer")
    if not _is_int(wire["iat"], I64):
        raise VerifyError("bad_payload", "iat is not a 64-bit integer")
    if wire["exp"] is not None and not _is_int(wire["exp"], I64):
        raise VerifyError("bad_payload", "exp is neither null nor a 64-bit integer")
    return wire


def open_envelope(data, prefix, future_version, max_len):
    """Steps 1-6, shared by licenses and the revocation feed: returns the payload bytes, the
    signed bytes and the signature."""
    # 1. Length, in bytes.
    if len(data) > max_len:
        raise VerifyError("oversize")
    # 2. Prefix.
    if not data.startswith(prefix):
        if future_version.match(data):
            raise VerifyError("unknown_version", "prefix")
        raise VerifyError("wrong_prefix")
    body = data[len(prefix) :]
    # 3. Split at the first '.'.
    if b"." not in body:
        raise VerifyError("bad_encoding", "the signature part is missing")
    payload_b64, signature_b64 = body.split(b".", 1)
    # 4. Nothing after the signature.
    if b"." in signature_b64 or len(signature_b64) > SIGNATURE_CHARS:
        raise VerifyError("trailing_data")
    # 5. The signature, then 6. the payload, as strict base64url.
    try:
        signature = b64url_decode(signature_b64)
    except ValueError as e:
        raise VerifyError("bad_encoding", f"signature: {e}") from None
    if len(signature) != 64:
        raise VerifyError("bad_encoding", "the signature is not 64 bytes")
    try:
        payload = b64url_decode(payload_b64)
    except ValueError as e:
        raise VerifyError("bad_encoding", f"payload: {e}") from None
    return payload, data[: len(prefix) + len(payload_b64)], signature


def check_signature(wire, trusted, signed, signature):
    """Steps 9-11, shared: the key id's form, a trusted key with that id, and its signature over
    the signed bytes (the prefix and the payload's base64url)."""
    if not KID.fullmatch(wire["kid"]):
        raise VerifyError("bad_payload", "kid is not 16 lowercase hex characters")
    key = trusted.get(wire["kid"])
    if key is None:
        raise VerifyError("unknown_key_id", wire["kid"])
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        raise VerifyError("bad_signature") from None


def verify(blob, trusted, now):
    """Returns the license as a dict, or raises VerifyError. `now` is unix seconds."""
    payload, signed, signature = open_envelope(
        blob.encode("utf-8"), PREFIX, FUTURE_VERSION, MAX_BLOB_LEN
    )
    # 7. The JSON payload.
    wire = parse_payload(payload)
    # 8. The version inside the payload.
    if wire["v"] != 2:
        raise VerifyError("unknown_version", f"v={wire['v']}")
    # 9.-11. A trusted key with that id signed "DTLIC2:<payload_b64>".
    check_signature(wire, trusted, signed, signature)
    # 12. The signed fields' values.
    try:
        license_key = normalise_license_key(wire["lk"])
    except ValueError as e:
        raise VerifyError("bad_payload", f"lk: {e}") from None
    for name in ("iat", "exp"):
        if wire[name] is not None and not MIN_TIME <= wire[name] <= MAX_TIME:
            raise VerifyError("bad_payload", f"{name}: not a valid unix time")
    # 13. Expiry: expired from the second exp names; null never expires.
    if wire["exp"] is not None and now >= wire["exp"]:
        raise VerifyError("expired", f"at {wire['exp']}")
    return {
        "license_key": license_key,
        "name": wire["name"],
        "email": wire["email"],
        "tier": wire["tier"],
        "issued_at": wire["iat"],
        "expires_at": wire["exp"],
        "source": wire["src"],
        "key_id": wire["kid"],
    }


FEED_PREFIX = b"DTREV1:"
MAX_FEED_LEN = 4 * 1024 * 1024  # bytes of UTF-8
FEED_FUTURE_VERSION = re.compile(rb"DTREV[0-9]{1,4}:")
FEED_MEMBERS = {"v", "kid", "seq", "iat", "revoked"}
ENTRY_MEMBERS = {"lid", "kid", "at"}
LID = re.compile(r"[0-9a-f]{32}")
MAX_SEQ = 2**53 - 1


def revocation_id(license_key):
    """The feed's name for a license: SHA-256 of "DTREV1:" + the canonical key, first 16 bytes."""
    canonical = normalise_license_key(license_key)
    return hashlib.sha256(b"DTREV1:" + canonical.encode("ascii")).digest()[:16].hex()


def parse_feed_header(wire):
    """Feed step 7, the members both feed formats share: v, kid, seq, iat."""
    if not _is_int(wire["v"], U32) or not _is_int(wire["iat"], I64):
        raise VerifyError("bad_payload", "v or iat is not an integer in range")
    if not _is_int(wire["seq"], (0, MAX_SEQ)):
        raise VerifyError("bad_payload", "seq is not an integer from 0 to 2^53-1")
    if not _is_text(wire["kid"]):
        raise VerifyError("bad_payload", "kid is not a string")


def parse_feed_payload(payload):
    """Feed step 7: the JSON object with exactly the DTREV1 members and their types."""
    wire = read_json_object(payload, FEED_MEMBERS)
    parse_feed_header(wire)
    if type(wire["revoked"]) is not list:
        raise VerifyError("bad_payload", "revoked is not an array")
    for entry in wire["revoked"]:
        if type(entry) is not dict or set(entry) != ENTRY_MEMBERS:
            raise VerifyError("bad_payload", "an entry is not an object with exactly lid, kid, at")
        if not _is_text(entry["lid"]) or not _is_text(entry["kid"]):
            raise VerifyError("bad_payload", "an entry's lid or kid is not a string")
        if not _is_int(entry["at"], I64):
            raise VerifyError("bad_payload", "an entry's at is not a 64-bit integer")
    return wire


def verify_feed(text, trusted, last_seq=None):
    """Returns the feed as a dict, or raises VerifyError. `last_seq` is the highest seq accepted
    before (None: none yet)."""
    # 1.-6. As for a license.
    payload, signed, signature = open_envelope(
        text.encode("utf-8"), FEED_PREFIX, FEED_FUTURE_VERSION, MAX_FEED_LEN
    )
    # 7. The JSON payload; 8. its version.
    wire = parse_feed_payload(payload)
    if wire["v"] != 1:
        raise VerifyError("unknown_version", f"v={wire['v']}")
    # 9.-11. A trusted key with that id signed "DTREV1:<payload_b64>".
    check_signature(wire, trusted, signed, signature)
    # 12. The signed values.
    if not MIN_TIME <= wire["iat"] <= MAX_TIME:
        raise VerifyError("bad_payload", "iat: not a valid unix time")
    for entry in wire["revoked"]:
        if not LID.fullmatch(entry["lid"]) or not KID.fullmatch(entry["kid"]):
            raise VerifyError("bad_payload", "an entry's lid or kid is malformed")
        if not MIN_TIME <= entry["at"] <= MAX_TIME:
            raise VerifyError("bad_payload", "an entry's at: not a valid unix time")
    # 13. Not older than the feed accepted before.
    if last_seq is not None and wire["seq"] < last_seq:
        raise VerifyError("stale", f"seq {wire['seq']} < {last_seq}")
    return {
        "key_id": wire["kid"],
        "seq": wire["seq"],
        "issued_at": wire["iat"],
        "revoked": wire["revoked"],
    }


FEED_V2_PREFIX = b"DTREV2:"
FEED_V2_MEMBERS = {"v", "kid", "seq", "iat", "ids"}
ID_LEN = 16


def parse_ids(text):
    """Compact feed step 12: strict base64url of a whole number of 16-byte ids, strictly
    ascending (so none twice). Returns them as lowercase hex, ascending."""
    try:
        data = b64url_decode(text.encode("ascii"))
    except (UnicodeEncodeError, ValueError):
        raise VerifyError("bad_payload", "ids: not base64url") from None
    if len(data) % ID_LEN:
        raise VerifyError("bad_payload", f"ids: {len(data)} bytes, not whole 16-byte ids")
    ids = [data[i : i + ID_LEN] for i in range(0, len(data), ID_LEN)]
    if any(a >= b for a, b in zip(ids, ids[1:])):
        raise VerifyError("bad_payload", "ids: not in strictly ascending order")
    return [i.hex() for i in ids]


def verify_feed_v2(text, trusted, last_seq=None):
    """The compact feed (section 14): returns it as a dict with its ids as ascending hex, or
    raises VerifyError."""
    # 1.-6. As for a license, with the prefix DTREV2: (DTREV1: is another version here).
    payload, signed, signature = open_envelope(
        text.encode("utf-8"), FEED_V2_PREFIX, FEED_FUTURE_VERSION, MAX_FEED_LEN
    )
    # 7. The JSON payload; 8. its version.
    wire = read_json_object(payload, FEED_V2_MEMBERS)
    parse_feed_header(wire)
    if not _is_text(wire["ids"]):
        raise VerifyError("bad_payload", "ids is not a string")
    if wire["v"] != 2:
        raise VerifyError("unknown_version", f"v={wire['v']}")
    # 9.-11. A trusted key with that id signed "DTREV2:<payload_b64>".
    check_signature(wire, trusted, signed, signature)
    # 12. The signed values: iat, then the ids.
    if not MIN_TIME <= wire["iat"] <= MAX_TIME:
        raise VerifyError("bad_payload", "iat: not a valid unix time")
    ids = parse_ids(wire["ids"])
    # 13. Not older than the feed accepted before (DTREV1 and DTREV2 share the seq).
    if last_seq is not None and wire["seq"] < last_seq:
        raise VerifyError("stale", f"seq {wire['seq']} < {last_seq}")
    return {"key_id": wire["kid"], "seq": wire["seq"], "issued_at": wire["iat"], "ids": ids}


def is_listed(ids, lid):
    """Binary search of the compact feed's ascending ids (hex of one length sorts as bytes)."""
    at = bisect.bisect_left(ids, lid)
    return at < len(ids) and ids[at] == lid


def verify_vector(kind, vector, trusted):
    """Verifies one vector's document as its format says; raises VerifyError."""
    if kind == "DTLIC2":
        return verify(vector["blob"], trusted, vector["now"])
    verify_one = {"DTREV1": verify_feed, "DTREV2": verify_feed_v2}[kind]
    return verify_one(vector["feed"], trusted, vector["last_seq"])


def as_listed(kind, vector, got):
    """Whether a valid vector decoded to what it lists and, for a feed, its checks hold: each
    license key's revocation id, and whether the feed lists it."""
    if kind == "DTLIC2":
        return got == vector["license"]

    def listed(lid):
        if kind == "DTREV1":
            return lid in {entry["lid"] for entry in got["revoked"]}
        return is_listed(got["ids"], lid)

    return got == vector["result"] and all(
        revocation_id(c["license_key"]) == c["lid"] and listed(c["lid"]) == c["revoked"]
        for c in vector["checks"]
    )


def run_vectors(path):
    """Runs one vector file (DTLIC2, DTREV1 or DTREV2); prints a line per vector and a total."""
    vectors = json.loads(Path(path).read_text(encoding="utf-8"))
    trusted = trusted_keys(k["public_key_hex"] for k in vectors["trusted_public_keys"])
    assert sorted(trusted) == sorted(k["kid"] for k in vectors["trusted_public_keys"])
    kind = vectors["format"]
    failures = 0
    for vector in vectors["valid"]:
        try:
            got = verify_vector(kind, vector, trusted)
            ok = as_listed(kind, vector, got)
            listed = "decoded as listed" if kind == "DTLIC2" else "decoded and checked as listed"
            outcome = listed if ok else f"decoded {got}"
        except VerifyError as e:
            ok, outcome = False, f"refused: {e}"
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} valid   {vector['name']}: {outcome}")
    for vector in vectors["invalid"]:
        try:
            verify_vector(kind, vector, trusted)
            ok, outcome = False, "accepted"
        except VerifyError as e:
            ok, outcome = e.code == vector["error"], str(e)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} invalid {vector['name']}: {outcome}")
    total = len(vectors["valid"]) + len(vectors["invalid"])
    print(f"{total - failures}/{total} vectors as listed ({Path(path).name})")
    return failures == 0


def check_one(blob, public_keys):
    """Verifies one blob against `public_keys` (hex) now; prints what it says; 0 when valid."""
    import time

    try:
        license = verify(blob.strip(), trusted_keys(public_keys), int(time.time()))
    except VerifyError as e:
        print(f"INVALID ({e.code}): {e}")
        return 1
    print(f"VALID: {json.dumps(license, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    here = Path(__file__).parent
    args = sys.argv[1:]
    if args[:1] == ["--pubkey"] and len(args) == 3:
        sys.exit(check_one(args[2], args[1].split(",")))
    paths = args or [
        here / "license-vectors.json",
        here / "revocation-vectors.json",
        here / "revocation-vectors-v2.json",
    ]
    results = [run_vectors(path) for path in paths]
    sys.exit(0 if all(results) else 1)
