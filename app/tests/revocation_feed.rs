//! `GET /revocations`, the signed revocation feed, against the real server and Postgres: a
//! refund puts the license in the next feed with a higher `seq`, an older copy is refused as
//! stale, caches get what they need, and the Python verifier reads the live feed too.

mod common;

use chrono::Utc;
use common::gumroad::{self, reversal, sale};
use common::postmark::FakePostmark;
use common::TestServer;
use datatools_license::license::{self, LicenseKey, RevocationFeed, RevocationId, TrustedKeys};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn fetch(server: &TestServer) -> (String, reqwest::header::HeaderMap) {
    let response = server
        .client
        .get(server.url("/revocations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    (response.text().await.unwrap(), headers)
}

/// The feed once it lists a change made after `seq`: the server rebuilds it when Postgres
/// notifies the change, within milliseconds (its fallback check runs only every 30 s, so this
/// deadline proves the notification path).
async fn fetch_after(server: &TestServer, seq: u64) -> (String, reqwest::header::HeaderMap) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (text, headers) = fetch(server).await;
        if verify(server, &text, None).seq > seq {
            return (text, headers);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the feed still has seq {seq} 5 s after a change"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

fn verify(server: &TestServer, text: &str, last_seq: Option<u64>) -> RevocationFeed {
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    license::verify_feed(text, &trusted, last_seq).unwrap()
}

#[tokio::test]
async fn a_refund_puts_the_license_in_the_next_feed_and_older_copies_are_stale() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    // The feed needs no portal: it is served whether DATATOOLS_PORTAL is on or not.
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;
    let (status, _, answer) = server.deliver(&sale("F-1", "buyer@example.com")).await;
    assert_eq!(status, 200);
    let event = server
        .settled_event(answer["event"].as_i64().unwrap())
        .await;
    let key: LicenseKey = event["license_key"].as_str().unwrap().parse().unwrap();

    let (before_text, headers) = fetch(&server).await;
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let before = verify(&server, &before_text, None);
    assert!(!before.revokes(&key));
    assert_eq!(before.key_id, server.state.config.signing_key.key_id());
    assert!((Utc::now() - before.issued_at).num_seconds() < 5);

    // Unchanged list: the same seq, and a conditional request is answered 304.
    let etag = headers["etag"].to_str().unwrap().to_string();
    let again = server
        .client
        .get(server.url("/revocations"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        verify(&server, &fetch(&server).await.0, None).seq,
        before.seq
    );

    let (_, _, answer) = server
        .deliver(&reversal("F-1", "buyer@example.com", "refund"))
        .await;
    let refund = server
        .settled_event(answer["event"].as_i64().unwrap())
        .await;
    assert_eq!(refund["status"], "done", "{refund:#}");

    let (after_text, headers) = fetch_after(&server, before.seq).await;
    let after = verify(&server, &after_text, Some(before.seq));
    assert!(after.seq > before.seq, "{} > {}", after.seq, before.seq);
    assert!(after.revokes(&key));
    assert_ne!(headers["etag"].to_str().unwrap(), etag);
    let entry = &after.revoked[0];
    assert_eq!(entry.id, RevocationId::of(&key));
    assert_eq!(entry.key_id, server.state.config.signing_key.key_id());
    // Nothing in the feed names the buyer or the license key.
    let payload = after_text
        .strip_prefix("DTREV1:")
        .unwrap()
        .split_once('.')
        .unwrap()
        .0;
    use base64::Engine;
    let json = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert!(
        !json.contains("buyer") && !json.contains(key.as_str()),
        "{json}"
    );

    // The desktop app that saw the new feed refuses the old one as a replay.
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    let stale = license::verify_feed(&before_text, &trusted, Some(after.seq)).unwrap_err();
    assert_eq!(stale.code(), "stale");

    // A revocation by hand and a won dispute's reinstatement change the list, and the seq.
    let manual = server.mint(&common::mint_body()).await;
    let manual_key: LicenseKey = manual["license_key"].as_str().unwrap().parse().unwrap();
    server
        .admin(
            Method::POST,
            &format!("/internal/licenses/{manual_key}/revoke"),
        )
        .json(&json!({"reason": "chargeback by mail"}))
        .send()
        .await
        .unwrap();
    let third = verify(
        &server,
        &fetch_after(&server, after.seq).await.0,
        Some(after.seq),
    );
    assert!(third.seq > after.seq && third.revokes(&manual_key) && third.revokes(&key));
    sqlx::query(
        "update licenses set revoked_at = null, revoke_reason = null where license_key = $1",
    )
    .bind(manual_key.as_str())
    .execute(&server.state.db)
    .await
    .unwrap();
    let fourth = verify(
        &server,
        &fetch_after(&server, third.seq).await.0,
        Some(third.seq),
    );
    assert!(fourth.seq > third.seq && !fourth.revokes(&manual_key));

    // The independent Python verifier reads the live feed the same way.
    let dir = tempfile::tempdir().unwrap();
    let vectors = dir.path().join("live.json");
    let signing = &server.state.config.signing_key;
    std::fs::write(
        &vectors,
        json!({
            "format": "DTREV1",
            "spec": "docs/license-format.md",
            "trusted_public_keys": [
                {"kid": signing.key_id().to_string(), "public_key_hex": signing.public_hex()}
            ],
            "signing_keys": [],
            "valid": [{
                "name": "live", "description": "the server's feed after a refund",
                "feed": after_text, "last_seq": before.seq,
                "result": {
                    "key_id": after.key_id.to_string(), "seq": after.seq,
                    "issued_at": after.issued_at.timestamp(),
                    "revoked": [{
                        "lid": entry.id.to_string(), "kid": entry.key_id.to_string(),
                        "at": entry.revoked_at.timestamp(),
                    }],
                },
                "checks": [{
                    "license_key": key.as_str().to_lowercase(),
                    "lid": entry.id.to_string(), "revoked": true,
                }],
            }],
            "invalid": [{
                "name": "live_replayed", "description": "the feed from before the refund",
                "feed": before_text, "last_seq": after.seq, "error": "stale",
            }],
        })
        .to_string(),
    )
    .unwrap();
    let output = common::verifier::python(&[vectors.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("2/2 vectors as listed"), "{stdout}");
    server.stop().await;
}
