//! `dtops keys rotate --reissue` on a provisioned sandbox: the new key signs, the old one stays
//! trusted for the window (in the api's environment and `dtops status`), and every active
//! license is re-issued with the new key id.

mod common;

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
    sandbox.admin(&["revoke", &revoked_key]);

    let out = sandbox.dtops(&["keys", "rotate", "--window-days", "30", "--reissue"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}");
    let new = signing_key(&sandbox);
    assert_ne!(new.public_hex(), old.public_hex());
    assert!(text.contains("re-issued 2 active license(s)"), "{text}");
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
