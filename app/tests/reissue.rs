//! Key rotation on the server: after the signing key changes, old blobs still verify against the
//! trusted set, and `POST /internal/reissue` starts a job that re-signs every active license
//! with the new key in the background (`GET /internal/reissue/{id}` follows it).

mod common;

use chrono::Utc;
use std::time::Duration;

use common::postmark::{FakePostmark, Reply};
use common::reissue::{finished, key_change, reissue, reissue_request};
use common::{mint_body, TestServer};
use datatools_license::license::{self, SigningKeyPair, TrustedKeys};
use reqwest::Method;
use serde_json::Value;

async fn mint(server: &TestServer, email: &str) -> Value {
    let mut body = mint_body();
    body["email"] = email.into();
    server.mint(&body).await
}

/// The licenses carrying `key_id`, sorted.
async fn signed_by(server: &TestServer, key_id: &str) -> Vec<String> {
    sqlx::query_scalar("select license_key from licenses where key_id = $1 order by license_key")
        .bind(key_id)
        .fetch_all(&server.state.db)
        .await
        .unwrap()
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
    let server = TestServer::serve(cluster, env, true).await;
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

    let report = reissue(&server, None).await;
    assert_eq!(report["key_id"], new_key.key_id().to_string());
    assert_eq!(report["state"], "done", "{report:#}");
    let covered = signed_by(&server, &new_key.key_id().to_string()).await;
    let mut active = vec![key(&a), key(&b)];
    active.sort();
    assert_eq!(covered, active, "every active license, and only those");
    assert_eq!(report["resigned"], 2, "{report:#}");
    assert_eq!(report["failed"], 1, "{report:#}");
    assert_eq!(report["failures"][0]["license_key"], key(&forged));
    assert_eq!(report["failures"][0]["step"], "re-sign");
    for license_key in &covered {
        let entry: Value = server
            .admin(Method::GET, &format!("/internal/licenses/{license_key}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
        let old_key_id: String =
            sqlx::query_scalar("select old_key_id from license_reissues where license_key = $1")
                .bind(license_key)
                .fetch_one(&server.state.db)
                .await
                .unwrap();
        assert_eq!(old_key_id, old_key.key_id().to_string());
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

    // Again: nothing left to re-issue (the forged blob is tried, and fails, again).
    let again = reissue(&server, None).await;
    assert_ne!(again["id"], report["id"], "a new job for what is missing");
    assert_eq!(again["resigned"], 0);
    assert_eq!(again["already_current"], 2);
    assert_eq!(again["failures"][0]["license_key"], key(&forged));

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
    key_change(&mut env);
    let server = TestServer::serve(cluster, env, false).await;
    let refused = reissue_request(&server.url(""), Some(true)).await;
    assert_eq!(refused.status(), 400);
    for table in ["license_reissues", "reissue_jobs"] {
        let unchanged = server.count(&format!("select count(*) from {table}")).await;
        assert_eq!(unchanged, 0, "{table}");
    }

    // With the outbox as the mail provider, each buyer gets the new blob.
    let (cluster, mut env) = server.stop_keeping_database().await;
    let outbox = env.path("outbox");
    env.set("DATATOOLS_OUTBOX_DIR", outbox.to_str().unwrap());
    let server = TestServer::serve(cluster, env, true).await;
    let report = reissue(&server, Some(true)).await;
    assert_eq!(report["emailed"], 2, "{report}");
    assert_eq!(report["to_email"], 2, "{report}");
    assert_eq!(report["failures"].as_array().unwrap().len(), 0, "{report}");
    let mails = outbox_mails(&outbox);
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
    let emailed = server
        .count("select count(*) from license_reissues where emailed_at is not null")
        .await;
    assert_eq!(emailed, 2);
    server.stop().await;
}

fn outbox_mails(outbox: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(outbox)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect()
}

/// Re-signed without email first (Postmark not live yet), then asked again with email: the
/// second job re-signs nothing and emails exactly the buyers who never got their new blob.
#[tokio::test]
async fn a_later_job_emails_the_licenses_re_signed_earlier_without_signing_again() {
    let server = TestServer::start().await;
    for n in 0..3 {
        mint(&server, &format!("buyer{n}@example.com")).await;
    }
    let (cluster, mut env) = server.stop_keeping_database().await;
    key_change(&mut env);
    let outbox = env.path("outbox");
    env.set("DATATOOLS_OUTBOX_DIR", outbox.to_str().unwrap());
    let server = TestServer::serve(cluster, env, true).await;

    let quiet = reissue(&server, Some(false)).await;
    assert_eq!(
        (&quiet["resigned"], &quiet["to_email"], &quiet["emailed"]),
        (&Value::from(3), &Value::from(0), &Value::from(0)),
        "{quiet:#}"
    );
    assert!(!outbox.exists() || outbox_mails(&outbox).is_empty());
    let blobs_before: Vec<String> = sqlx::query_scalar("select blob from licenses order by id")
        .fetch_all(&server.state.db)
        .await
        .unwrap();

    let loud = reissue(&server, Some(true)).await;
    assert_eq!(loud["to_resign"], 0, "nothing is signed twice: {loud:#}");
    assert_eq!(loud["resigned"], 0);
    assert_eq!(loud["to_email"], 3);
    assert_eq!(loud["emailed"], 3, "{loud:#}");
    assert_eq!(loud["already_current"], 0);
    let blobs_after: Vec<String> = sqlx::query_scalar("select blob from licenses order by id")
        .fetch_all(&server.state.db)
        .await
        .unwrap();
    assert_eq!(blobs_before, blobs_after);
    assert_eq!(
        server.count("select count(*) from license_reissues").await,
        3
    );
    let mails = outbox_mails(&outbox);
    assert_eq!(mails.len(), 3);
    for blob in &blobs_after {
        assert!(mails.iter().any(|m| m.contains(blob.as_str())), "{blob}");
    }

    // And once more: nothing is missing, nothing is sent.
    let idle = reissue(&server, Some(true)).await;
    assert_eq!(
        (&idle["total"], &idle["state"]),
        (&Value::from(0), &Value::from("done"))
    );
    assert_eq!(idle["already_current"], 3);
    assert_eq!(outbox_mails(&outbox).len(), 3);
    server.stop().await;
}

/// A request while a job runs (a client that timed out and asks again) follows the same job; one
/// with the other email choice is refused until it ends. A buyer whose address bounces is listed
/// as failed with the step, and the next job emails only that buyer.
#[tokio::test]
async fn a_running_job_is_resumed_and_a_rerun_finishes_only_the_failed_email() {
    let postmark = FakePostmark::start().await;
    let server = TestServer::start().await;
    for n in 0..3 {
        mint(&server, &format!("buyer{n}@example.com")).await;
    }
    let (cluster, mut env) = server.stop_keeping_database().await;
    key_change(&mut env);
    let token = env.path("postmark_token");
    std::fs::write(&token, common::postmark::TOKEN).unwrap();
    env.set("POSTMARK_TOKEN_FILE", token.to_str().unwrap())
        .set("POSTMARK_API_URL", postmark.url.clone());
    // No workers: the job stays running.
    let server = TestServer::serve(cluster, env, false).await;
    let base = server.url("");
    let first: Value = reissue_request(&base, Some(true))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&first["state"], &first["resumed"]),
        (&Value::from("running"), &Value::from(false))
    );
    assert_eq!(first["total"], 3);
    let second: Value = reissue_request(&base, Some(true))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["resumed"], true);
    let other = reissue_request(&base, Some(false)).await;
    assert_eq!(other.status(), 409);
    let body: Value = other.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("still running"),
        "{body}"
    );

    // The workers start: one address is inactive at Postmark (a permanent failure).
    postmark.script([Reply::error(
        422,
        406,
        "You tried to send to a recipient that has been marked as inactive.",
    )]);
    let (cluster, env) = server.stop_keeping_database().await;
    let server = TestServer::serve(cluster, env, true).await;
    let done = finished(&server.url(""), &first["id"], Duration::from_secs(30)).await;
    assert_eq!(done["resigned"], 3, "{done:#}");
    assert_eq!(done["emailed"], 2);
    assert_eq!(done["failed"], 1);
    let failure = &done["failures"][0];
    assert_eq!(failure["step"], "email");
    assert!(
        failure["error"].as_str().unwrap().contains("permanent"),
        "{failure}"
    );
    let bounced = failure["license_key"].as_str().unwrap().to_string();

    let rerun = reissue(&server, Some(true)).await;
    assert_eq!(rerun["total"], 1, "{rerun:#}");
    assert_eq!(rerun["to_resign"], 0);
    assert_eq!(rerun["emailed"], 1);
    assert_eq!(rerun["already_current"], 2);
    let to: Vec<String> = postmark
        .requests()
        .iter()
        .map(|r| r["To"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        to.len(),
        4,
        "three sends, then the bounced one again: {to:?}"
    );
    let bounced_to: String =
        sqlx::query_scalar("select email from licenses where license_key = $1")
            .bind(&bounced)
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    assert_eq!(to.iter().filter(|t| **t == bounced_to).count(), 2);
    server.stop().await;
}
