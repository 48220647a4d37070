//! Key rotation on the server: after the signing key changes, old blobs still verify against the
//! trusted set, and `POST /internal/reissue` re-signs every active license with the new key.

mod common;

use chrono::Utc;
use common::{mint_body, TestServer};
use datatools_license::license::{self, SigningKeyPair, TrustedKeys};
use reqwest::Method;
use serde_json::Value;

async fn mint(server: &TestServer, email: &str) -> Value {
    let mut body = mint_body();
    body["email"] = email.into();
    server.mint(&body).await
}

#[tokio::test]
async fn reissue_covers_every_active_license_and_old_blobs_verify_during_the_window() {
    // Before the rotation: the in-tree development key signs.
    let server = TestServer::start().await;
    let old_key = SigningKeyPair::dev();
    let a = mint(&server, "a@example.com").await;
    let b = mint(&server, "b@example.com").await;
    let revoked = mint(&server, "revoked@example.com").await;
    let expired = mint(&server, "expired@example.com").await;
    let forged = mint(&server, "forged@example.com").await;
    let key = |v: &Value| v["license_key"].as_str().unwrap().to_string();
    let response = server
        .admin(
            Method::POST,
            &format!("/internal/licenses/{}/revoke", key(&revoked)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    sqlx::query("update licenses set expires_at = now() - interval '1 day' where license_key = $1")
        .bind(key(&expired))
        .execute(&server.state.db)
        .await
        .unwrap();
    // A row whose blob was signed by a key this server never trusted.
    let stranger = SigningKeyPair::generate();
    let mut content = license::verify_signature(
        forged["blob"].as_str().unwrap(),
        &TrustedKeys::from(&old_key),
    )
    .unwrap();
    content.key_id = stranger.key_id();
    sqlx::query("update licenses set blob = $2 where license_key = $1")
        .bind(key(&forged))
        .bind(license::sign(&content, &stranger))
        .execute(&server.state.db)
        .await
        .unwrap();

    // The rotation: a new key signs, the old public key stays trusted.
    let (cluster, mut env) = server.stop_keeping_database().await;
    let new_key = SigningKeyPair::generate();
    let key_file = env.path("license_privkey");
    std::fs::write(&key_file, new_key.seed_hex()).unwrap();
    env.set("DATATOOLS_LICENSE_PRIVKEY_FILE", key_file.to_str().unwrap())
        .set("DATATOOLS_TRUSTED_PUBKEYS", old_key.public_hex());
    let server = TestServer::serve(cluster, env, false).await;
    let trusted = &server.state.config.trusted_keys;
    let ids: Vec<String> = trusted.ids().map(ToString::to_string).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");

    // During the window the server's trusted set accepts blobs of both keys.
    for license in [&a, &b] {
        let blob = license["blob"].as_str().unwrap();
        let verified = license::verify(blob, trusted, Utc::now()).unwrap();
        assert_eq!(verified.key_id, old_key.key_id());
        assert!(license::verify(blob, &TrustedKeys::from(&new_key), Utc::now()).is_err());
    }

    let report: Value = server
        .admin(Method::POST, "/internal/reissue")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["key_id"], new_key.key_id().to_string());
    let reissued: Vec<&Value> = report["reissued"].as_array().unwrap().iter().collect();
    let mut covered: Vec<String> = reissued
        .iter()
        .map(|r| r["license_key"].as_str().unwrap().to_string())
        .collect();
    covered.sort();
    let mut active = vec![key(&a), key(&b)];
    active.sort();
    assert_eq!(covered, active, "every active license, and only those");
    assert_eq!(report["unverifiable"][0]["license_key"], key(&forged));
    for entry in &reissued {
        let blob = entry["blob"].as_str().unwrap();
        // New blobs carry the new key id and verify with the new key alone.
        let new = license::verify(blob, &TrustedKeys::from(&new_key), Utc::now()).unwrap();
        assert_eq!(new.key_id, new_key.key_id());
        let old = if entry["license_key"] == a["license_key"] {
            &a
        } else {
            &b
        };
        let before = license::verify(old["blob"].as_str().unwrap(), trusted, Utc::now()).unwrap();
        assert_eq!(
            (&new.license_key, &new.email),
            (&before.license_key, &before.email)
        );
        assert_eq!((new.issued_at, new.term), (before.issued_at, before.term));
        assert_eq!(entry["old_key_id"], old_key.key_id().to_string());
        // The record now holds the new blob, and the old one is kept.
        let stored: (String, String) =
            sqlx::query_as("select key_id, blob from licenses where license_key = $1")
                .bind(entry["license_key"].as_str().unwrap())
                .fetch_one(&server.state.db)
                .await
                .unwrap();
        assert_eq!(stored, (new_key.key_id().to_string(), blob.to_string()));
        let kept: String = sqlx::query_scalar(
            "select old_blob from license_reissues where license_key = $1 and emailed_at is null",
        )
        .bind(entry["license_key"].as_str().unwrap())
        .fetch_one(&server.state.db)
        .await
        .unwrap();
        assert_eq!(kept, old["blob"].as_str().unwrap());
    }
    // The revoked and expired licenses keep their old blobs.
    for untouched in [&revoked, &expired] {
        let blob: String = sqlx::query_scalar("select blob from licenses where license_key = $1")
            .bind(key(untouched))
            .fetch_one(&server.state.db)
            .await
            .unwrap();
        assert_eq!(blob, untouched["blob"].as_str().unwrap());
    }

    // Again: nothing left to re-issue.
    let again: Value = server
        .admin(Method::POST, "/internal/reissue")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["reissued"].as_array().unwrap().len(), 0);
    assert_eq!(again["already_current"], 2);

    // Admin only, and never through the proxy.
    let anonymous = server
        .client
        .post(server.url("/internal/reissue"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let proxied = server
        .admin(Method::POST, "/internal/reissue")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn reissue_can_email_each_buyer_the_re_signed_blob() {
    let server = TestServer::start().await;
    let a = mint(&server, "a@example.com").await;
    let b = mint(&server, "b@example.com").await;

    // Without a mail provider, asking for email is refused before anything is re-signed.
    let (cluster, mut env) = server.stop_keeping_database().await;
    let new_key = SigningKeyPair::generate();
    let key_file = env.path("license_privkey");
    std::fs::write(&key_file, new_key.seed_hex()).unwrap();
    env.set("DATATOOLS_LICENSE_PRIVKEY_FILE", key_file.to_str().unwrap())
        .set(
            "DATATOOLS_TRUSTED_PUBKEYS",
            SigningKeyPair::dev().public_hex(),
        );
    let server = TestServer::serve(cluster, env, false).await;
    let refused = server
        .admin(Method::POST, "/internal/reissue")
        .json(&serde_json::json!({"email": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let unchanged: i64 = sqlx::query_scalar("select count(*) from license_reissues")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(unchanged, 0);

    // With the outbox as the mail provider, each buyer gets the new blob.
    let (cluster, mut env) = server.stop_keeping_database().await;
    let outbox = env.path("outbox");
    env.set("DATATOOLS_OUTBOX_DIR", outbox.to_str().unwrap());
    let server = TestServer::serve(cluster, env, false).await;
    let report: Value = server
        .admin(Method::POST, "/internal/reissue")
        .json(&serde_json::json!({"email": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["emailed"], 2, "{report}");
    assert_eq!(
        report["email_failures"].as_array().unwrap().len(),
        0,
        "{report}"
    );
    let mails: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 2);
    for (license, to) in [(&a, "a@example.com"), (&b, "b@example.com")] {
        let key = license["license_key"].as_str().unwrap();
        let new_blob: String =
            sqlx::query_scalar("select blob from licenses where license_key = $1")
                .bind(key)
                .fetch_one(&server.state.db)
                .await
                .unwrap();
        assert_ne!(new_blob, license["blob"].as_str().unwrap());
        let mail = mails
            .iter()
            .find(|m| m.contains(&format!("To: {to}")))
            .unwrap_or_else(|| panic!("no mail to {to}: {mails:?}"));
        assert!(mail.contains("re-signed"), "{mail}");
        assert!(mail.contains(&new_blob), "the mail carries the new blob");
    }
    let emailed: i64 =
        sqlx::query_scalar("select count(*) from license_reissues where emailed_at is not null")
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    assert_eq!(emailed, 2);
}
