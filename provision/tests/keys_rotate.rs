//! `dtops keys rotate --reissue` on a provisioned sandbox: the new key signs, the old one stays
//! trusted for the window (in the api's environment and `dtops status`), and every active
//! license is re-issued with the new key id. With `--email` through a local Postmark: progress,
//! exact counts, a failed buyer listed with exit status 1 and finished by `dtops keys reissue`;
//! an interrupted `dtops` loses nothing and a rotation waits for the running job.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::time::Duration;

use common::fake_http::Postmark;
use common::sandbox::Sandbox;
use common::{dtops, stderr, stdout};
use datatools_license::license::SigningKeyPair;

const SECRETS: &str = "/srv/datatools-license/secrets";

fn signing_key(sandbox: &Sandbox) -> SigningKeyPair {
    let seed = std::fs::read_to_string(sandbox.path(&format!("{SECRETS}/license_privkey")));
    SigningKeyPair::from_seed_hex(&seed.unwrap()).unwrap()
}

/// `dtops verify BLOB --pubkey K1,K2`: whether it is valid, and what it printed.
fn verify(blob: &str, keys: &[String]) -> (bool, String) {
    let out = dtops()
        .args(["verify", blob, "--pubkey", &keys.join(",")])
        .output()
        .unwrap();
    (out.status.success(), stdout(&out))
}

#[test]
fn rotation_keeps_old_blobs_valid_and_reissues_every_active_license_with_the_new_key() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    let old = signing_key(&sandbox);
    let blobs = [sandbox.mint("a@example.com"), sandbox.mint("b@example.com")];
    sandbox.mint("c@example.com");
    let listed: serde_json::Value =
        serde_json::from_str(&sandbox.admin(&["licenses", "--json", "--email", "c@example.com"]))
            .unwrap();
    let revoked_key = listed[0]["license_key"].as_str().unwrap().to_string();
    sandbox.admin(&[
        "revoke",
        &revoked_key,
        "--reason",
        "test: a revoked license",
        "--yes",
    ]);

    let out = sandbox.dtops(&["keys", "rotate", "--window-days", "30", "--reissue"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}");
    let new = signing_key(&sandbox);
    assert_ne!(new.public_hex(), old.public_hex());
    assert!(text.contains("re-issue job 1 started with key"), "{text}");
    assert!(
        text.contains("re-signed 2 of 2, emailed 0 of 0, failed 0, skipped 0"),
        "{text}"
    );
    assert!(
        text.contains("0 active license(s) already carried key"),
        "{text}"
    );
    assert!(!text.contains(&new.seed_hex()) && !text.contains(&old.seed_hex()));

    // The api's environment trusts the old key; status shows until when.
    let env = std::fs::read_to_string(sandbox.path("/srv/datatools-license/.env")).unwrap();
    assert!(
        env.contains(&format!("DATATOOLS_LICENSE_PUBKEY={}", new.public_hex())),
        "{env}"
    );
    assert!(
        env.contains(&format!("DATATOOLS_TRUSTED_PUBKEYS={}", old.public_hex())),
        "{env}"
    );
    let status = stdout(&sandbox.dtops(&["status"]));
    let until = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        status.contains(&format!("old key {} trusted until {until}", old.key_id())),
        "{status}"
    );

    // Old blobs verify with the trusted pair during the window, not with the new key alone.
    let both = [new.public_hex(), old.public_hex()];
    for blob in &blobs {
        let (valid, shown) = verify(blob, &both);
        assert!(valid, "{shown}");
        assert!(shown.contains(&old.key_id().to_string()), "{shown}");
        assert!(!verify(blob, &[new.public_hex()]).0);
    }

    // Every active license now carries the new key id; the revoked one is left alone.
    let all: serde_json::Value =
        serde_json::from_str(&sandbox.admin(&["licenses", "--json"])).unwrap();
    for license in all.as_array().unwrap() {
        let blob = license["blob"].as_str().unwrap();
        if license["license_key"] == revoked_key.as_str() {
            assert_eq!(license["key_id"], old.key_id().to_string());
            continue;
        }
        assert_eq!(license["key_id"], new.key_id().to_string());
        let (valid, shown) = verify(blob, &[new.public_hex()]);
        assert!(valid, "{shown}");
    }
    // New mints use the new key.
    let fresh = sandbox.mint("d@example.com");
    assert!(verify(&fresh, &[new.public_hex()]).0);

    // Converged: a provision changes nothing; a second rotation keeps both older keys trusted.
    assert!(sandbox.provision().contains(" 0 changed, 0 failed"));
    let again = sandbox.dtops(&["keys", "rotate"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let env = std::fs::read_to_string(sandbox.path("/srv/datatools-license/.env")).unwrap();
    assert!(
        env.contains(&old.public_hex()) && env.contains(&new.public_hex()),
        "{env}"
    );
}

/// A provisioned stage-pr2 sandbox whose api mails through `postmark`.
fn pr2_sandbox(postmark: &Postmark) -> Sandbox {
    let sandbox = Sandbox::with_site(|text| {
        text.replace("stage = \"pr1\"", "stage = \"pr2\"")
            .replace("gumroad = false", "gumroad = true")
            .replace("postmark = false", "postmark = true")
            .replace(
                "# postmark_api_url = \"https://api.postmarkapp.com\"",
                &format!("postmark_api_url = \"{}\"", postmark.url),
            )
    });
    // The secrets `dtops cutover pr2` would write.
    for (name, value) in [
        ("postmark_token", "pm-token-0123456789"),
        ("gumroad_secret", "0123456789abcdef0123456789abcdef"),
    ] {
        let path = sandbox.path(&format!("{SECRETS}/{name}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, value).unwrap();
    }
    sandbox.provision();
    sandbox
}

fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

#[test]
fn an_emailed_reissue_shows_progress_lists_a_failed_buyer_and_keys_reissue_finishes_it() {
    let postmark = Postmark::start();
    postmark.set_delay(Duration::from_millis(300));
    let sandbox = pr2_sandbox(&postmark);
    for n in 0..12 {
        sandbox.mint(&format!("buyer{n:02}@example.com"));
    }
    let listed: serde_json::Value = serde_json::from_str(&sandbox.admin(&[
        "licenses",
        "--json",
        "--email",
        "buyer03@example.com",
    ]))
    .unwrap();
    let bounced = listed[0]["license_key"].as_str().unwrap().to_string();
    postmark.refuse("buyer03@example.com");

    let out = sandbox.dtops(&["keys", "rotate", "--reissue", "--email"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "one buyer failed:\n{shown}");
    assert!(
        shown.contains("12 license(s), 12 to re-sign, 12 to email"),
        "{shown}"
    );
    assert!(
        shown.contains("keys: re-signed "),
        "a progress line:\n{shown}"
    );
    assert!(
        shown.contains("re-signed 12 of 12, emailed 11 of 12, failed 1, skipped 0"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "failed (email): {bounced} <buyer03@example.com>: email not delivered (permanent)"
        )),
        "{shown}"
    );
    assert!(shown.contains("`dtops keys reissue --email`"), "{shown}");

    // The address works again: the rerun signs nothing (no new key) and emails only that buyer.
    postmark.accept("buyer03@example.com");
    let key = signing_key(&sandbox).public_hex();
    let out = sandbox.dtops(&["keys", "reissue", "--email"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("1 license(s), 0 to re-sign, 1 to email"),
        "{shown}"
    );
    assert!(
        shown.contains("re-signed 0 of 0, emailed 1 of 1, failed 0, skipped 0"),
        "{shown}"
    );
    assert_eq!(signing_key(&sandbox).public_hex(), key, "no new key");
    let sent = postmark.recipients();
    assert_eq!(sent.len(), 13, "{sent:?}");
    assert_eq!(
        sent.iter()
            .filter(|to| *to == "buyer03@example.com")
            .count(),
        2
    );
    // Nothing is missing any more.
    let out = sandbox.dtops(&["keys", "reissue", "--email"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0 license(s), 0 to re-sign, 0 to email"));
    assert_eq!(postmark.recipients().len(), 13);
}

#[test]
fn an_interrupted_dtops_loses_nothing_and_a_rotation_waits_for_the_running_job() {
    let postmark = Postmark::start();
    // 8 licenses, 4 at a time, 3 s a message: the job runs for at least 6 s.
    postmark.set_delay(Duration::from_secs(3));
    let sandbox = pr2_sandbox(&postmark);
    for n in 0..8 {
        sandbox.mint(&format!("buyer{n}@example.com"));
    }
    // `dtops keys rotate --reissue --email`, interrupted once the job has started.
    let mut child = dtops()
        .arg("--site")
        .arg(&sandbox.site)
        .arg("--root")
        .arg(sandbox.root())
        .args([
            "--runtime",
            "native",
            "keys",
            "rotate",
            "--reissue",
            "--email",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = loop {
        let line = lines
            .next()
            .expect("dtops ended before the job started")
            .unwrap();
        if line.contains("re-issue job") {
            break line;
        }
    };
    assert!(started.contains("started"), "{started}");
    child.kill().unwrap();
    child.wait().unwrap();
    let key = signing_key(&sandbox).public_hex();

    // A second rotation now would strand the job: refused, nothing changed.
    let refused = sandbox.dtops(&["keys", "rotate", "--reissue", "--email"]);
    let shown = text(&refused);
    assert!(!refused.status.success(), "{shown}");
    assert!(shown.contains("is still running"), "{shown}");
    assert!(shown.contains("dtops keys reissue --email"), "{shown}");
    assert_eq!(signing_key(&sandbox).public_hex(), key);

    // Following it again: the same job, to its end.
    let out = sandbox.dtops(&["keys", "reissue", "--email"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("is already running; following it"),
        "{shown}"
    );
    assert!(
        shown.contains("re-signed 8 of 8, emailed 8 of 8, failed 0, skipped 0"),
        "{shown}"
    );
    let mut sent = postmark.recipients();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 8, "every buyer: {sent:?}");
}
