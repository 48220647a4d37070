//! `dtops keys generate` and `dtops verify`, offline.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use chrono::{TimeZone, Utc};
use common::{dtops, stderr, stdout};
use datatools_license::license::{self, License, LicenseKey, SigningKeyPair, Term};

fn sample_blob(key: &SigningKeyPair) -> String {
    let license = License {
        license_key: "ABCDEF-GHJKMN-PQRSTV-WXYZ01".parse::<LicenseKey>().unwrap(),
        name: "Ada".into(),
        email: "ada@example.com".into(),
        tier: "core".into(),
        issued_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        term: Term::Until(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
        source: "manual".into(),
        key_id: key.key_id(),
    };
    license::sign(&license, key)
}

#[test]
fn keys_generate_writes_a_0400_seed_and_prints_its_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("license_privkey");
    let output = dtops()
        .args(["keys", "generate", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let public = stdout(&output).trim().to_string();

    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o400);
    let seed = std::fs::read_to_string(&out).unwrap();
    assert_eq!(seed.len(), 64, "64 hex characters, no newline");
    let pair = SigningKeyPair::from_seed_hex(&seed).unwrap();
    assert_eq!(pair.public_hex(), public);
    assert!(!stdout(&output).contains(&seed) && !stderr(&output).contains(&seed));

    // Never overwrites a key.
    let again = dtops()
        .args(["keys", "generate", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), seed);
}

#[test]
fn verify_reports_valid_expired_and_each_kind_of_invalid() {
    let key = SigningKeyPair::generate();
    let blob = sample_blob(&key);
    let run = |args: &[&str]| dtops().args(args).output().unwrap();

    let ok = run(&[
        "verify",
        &blob,
        "--pubkey",
        &key.public_hex(),
        "--at",
        "2026-06-01T00:00:00Z",
    ]);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("VALID") && stdout(&ok).contains("ada@example.com"));

    let expired = run(&[
        "verify",
        &blob,
        "--pubkey",
        &key.public_hex(),
        "--at",
        "2027-01-01T00:00:00Z",
    ]);
    assert_eq!(expired.status.code(), Some(1));
    assert!(stdout(&expired).contains("EXPIRED"), "{}", stdout(&expired));
    assert!(
        stdout(&expired).contains("ada@example.com"),
        "the decoded license is still shown"
    );

    let other = SigningKeyPair::generate();
    let unknown = run(&["verify", &blob, "--pubkey", &other.public_hex()]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stdout(&unknown).contains("unknown_key_id"),
        "{}",
        stdout(&unknown)
    );

    // Both keys trusted (a rotation window): valid.
    let both = format!("{},{}", other.public_hex(), key.public_hex());
    let rotated = run(&[
        "verify",
        &blob,
        "--pubkey",
        &both,
        "--at",
        "2026-06-01T00:00:00Z",
    ]);
    assert!(rotated.status.success(), "{}", stdout(&rotated));

    let mut tampered = blob.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let bad = run(&["verify", &tampered, "--pubkey", &key.public_hex()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("INVALID"), "{}", stdout(&bad));

    let junk = run(&["verify", "hello", "--pubkey", &key.public_hex()]);
    assert!(stdout(&junk).contains("wrong_prefix"), "{}", stdout(&junk));

    let bad_key = run(&["verify", &blob, "--pubkey", "xyz"]);
    assert!(!bad_key.status.success());
    assert!(stderr(&bad_key).contains("xyz"), "{}", stderr(&bad_key));

    // From stdin, with the newline a paste brings, and the key from the environment.
    let mut child = dtops()
        .args(["verify", "-", "--at", "2026-06-01T00:00:00Z"])
        .env("DATATOOLS_LICENSE_PUBKEY", key.public_hex())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{blob}\n").as_bytes())
        .unwrap();
    let piped = child.wait_with_output().unwrap();
    assert!(piped.status.success(), "{}", stdout(&piped));
}

/// A blob as a buyer forwards it: wrapped by their mail client (and quoted in a reply), or the
/// email's attachment saved to a file. The wrapping is undone; a changed character still fails.
#[test]
fn verify_takes_a_wrapped_blob_and_a_file() {
    let key = SigningKeyPair::generate();
    let blob = sample_blob(&key);
    let at = "2026-06-01T00:00:00Z";
    let run = |arg: &str| {
        dtops()
            .args(["verify", arg, "--pubkey", &key.public_hex(), "--at", at])
            .output()
            .unwrap()
    };
    let wrapped: String = blob
        .as_bytes()
        .chunks(72)
        .map(|c| format!("> {}\n", String::from_utf8_lossy(c)))
        .collect();
    let reply = format!("On Monday you wrote:\n> Your license:\n>\n{wrapped}>\n> Thanks\n");
    let ok = run(&reply);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("VALID"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("datatools-license.txt");
    std::fs::write(&file, format!("{blob}\n")).unwrap();
    let from_file = run(file.to_str().unwrap());
    assert!(from_file.status.success(), "{}", stdout(&from_file));
    assert!(stdout(&from_file).contains("email:       ada@example.com"));

    // Forgiving the wrapping is not forgiving the content.
    let broken = reply.replacen("DTLIC2:eyJ", "DTLIC2:eyK", 1);
    let bad = run(&broken);
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));
    assert!(stdout(&bad).contains("INVALID"), "{}", stdout(&bad));
}

/// docs/verify_example.py checks one blob given on its command line, as `dtops verify` does.
#[test]
fn the_python_example_verifies_a_blob_argument() {
    let key = SigningKeyPair::generate();
    let license = License {
        license_key: "ABCDEF-GHJKMN-PQRSTV-WXYZ01".parse::<LicenseKey>().unwrap(),
        name: "Ada".into(),
        email: "ada@example.com".into(),
        tier: "core".into(),
        issued_at: Utc::now() - chrono::Duration::days(1),
        term: Term::Perpetual,
        source: "manual".into(),
        key_id: key.key_id(),
    };
    let blob = license::sign(&license, &key);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/verify_example.py");
    let run = |blob: &str| {
        std::process::Command::new("python3")
            .args([script, "--pubkey", &key.public_hex(), blob])
            .output()
            .unwrap()
    };
    let ok = run(&blob);
    assert!(ok.status.success(), "{}{}", stdout(&ok), stderr(&ok));
    assert!(stdout(&ok).contains("VALID") && stdout(&ok).contains("ada@example.com"));
    let bad = run(&blob.replacen("DTLIC2:eyJ", "DTLIC2:eyK", 1));
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));
    assert!(stdout(&bad).contains("INVALID"), "{}", stdout(&bad));
}

/// A permission error names the path and says to use sudo (dtops run by an ordinary user);
/// as root it says where else to look instead.
#[test]
fn a_permission_error_suggests_sudo() {
    // The suite runs as root (README): it needs an ordinary user to be refused.
    assert!(
        std::fs::metadata("/proc/self").unwrap().uid() == 0,
        "this test runs as root (it starts dtops as `nobody`)"
    );
    let dir = tempfile::tempdir().unwrap();
    // Root's own directory: an ordinary user cannot create anything in it.
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o700)).unwrap();
    let out = dir.path().join("signing.key");
    // `nobody` must be able to run dtops itself: the checkout (and its target/) may sit in a
    // directory only root can enter (a clone in /root, mode 0700). A copy in a world-readable
    // directory of its own is reachable from anywhere.
    let bin_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bin_dir.path(), PermissionsExt::from_mode(0o755)).unwrap();
    let bin = bin_dir.path().join("dtops");
    std::fs::copy(common::DTOPS, &bin).unwrap();
    std::fs::set_permissions(&bin, PermissionsExt::from_mode(0o755)).unwrap();
    let output = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(&bin)
        .args(["keys", "generate", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains(out.to_str().unwrap()), "{err}");
    assert!(err.contains("run it with sudo"), "{err}");

    // Root refused (sysfs takes no new files): sudo would not help, so it is not suggested.
    let output = dtops()
        .args(["keys", "generate", "--out", "/sys/dtops-test.key"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("/sys/dtops-test.key"), "{err}");
    assert!(err.contains("permission denied even as root"), "{err}");
    assert!(!err.contains("sudo"), "{err}");
}
