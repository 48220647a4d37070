//! Issue 20 item 6: the revocation feed at scale and under bad data, against the real server
//! and Postgres. 60,000 revoked, unexpired licenses: the compact `DTREV2` feed lists them all and
//! verifies; `DTREV1`, past the 4 MiB every verifier accepts, fails closed (503, and the operator
//! is mailed) instead of being served and refused silently. The feed is served from memory: with
//! the database stopped it is still served, conditionally too. A malformed row leaves the feed
//! intact and is reported; expired licenses leave it after 30 days; one statement revoking many
//! licenses bumps the sequence once (a statement-level trigger). (Latency, memory and insert times: `scripts/bench-feed`.)

mod common;

use std::time::{Duration, Instant};

use common::alerts::{setup, wait_for_alert_mails};
use common::TestServer;
use datatools_license::license::{self, LicenseKey, TrustedKeys};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Revokes `count` new licenses (expiring in `expires_in_days`, negative: expired) in one
/// statement; returns their keys.
async fn revoke_many(server: &TestServer, count: usize, expires_in_days: i64) -> Vec<LicenseKey> {
    let keys: Vec<LicenseKey> = (0..count).map(|_| LicenseKey::generate()).collect();
    let texts: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let kid = server.state.config.signing_key.key_id().to_string();
    let started = Instant::now();
    sqlx::query(
        "insert into licenses (license_key, name, email, tier, source, issued_at, expires_at, \
                               revoked_at, revoke_reason, key_id, blob) \
         select k, 'Bulk', 'bulk@example.com', 'core', 'manual', now(), \
                now() + make_interval(days => $3), now(), 'test', $2, 'DTLIC2:x.y' \
         from unnest($1::text[]) as k",
    )
    .bind(&texts)
    .bind(&kid)
    .bind(expires_in_days as i32)
    .execute(&server.state.db)
    .await
    .unwrap();
    eprintln!(
        "revoked {count} licenses in one statement: {:?}",
        started.elapsed()
    );
    keys
}

async fn get(server: &TestServer, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut request = server.client.get(server.url(path));
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    request.send().await.unwrap()
}

/// The compact feed once its seq is above `seq`.
async fn v2_after(server: &TestServer, seq: u64) -> (String, license::RevocationList) {
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = get(server, "/revocations/v2", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        let list = license::verify_feed_v2(&text, &trusted, None).unwrap();
        if list.seq > seq {
            return (text, list);
        }
        assert!(Instant::now() < deadline, "the feed did not change");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn seq(server: &TestServer) -> u64 {
    let seq: i64 = sqlx::query_scalar("select seq from revocation_feed")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    seq as u64
}

async fn metric(server: &TestServer, name: &str) -> f64 {
    let text = server
        .admin(Method::GET, "/internal/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_thousand_revocations_fit_the_compact_feed_and_the_long_one_fails_closed() {
    let (mut server, postmark) = setup().await;
    let before = seq(&server).await;
    let keys = revoke_many(&server, 60_000, 365).await;

    let (text, list) = v2_after(&server, before).await;
    assert_eq!(list.ids().len(), 60_000);
    assert!(keys.iter().step_by(997).all(|k| list.revokes(k)));
    assert!(!list.revokes(&LicenseKey::generate()));
    assert!(text.len() < license::MAX_FEED_LEN, "{} bytes", text.len());
    eprintln!("DTREV2 with 60,000 ids: {} bytes", text.len());

    // DTREV1 would be longer than verifiers accept: not served, and the operator hears of it.
    let long = get(&server, "/revocations", None).await;
    assert_eq!(long.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(long.headers()["retry-after"], "60");
    let body: Value = long.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("60000 licenses") && message.contains("/revocations/v2"),
        "{message}"
    );
    assert!(
        metric(
            &server,
            "datatools_revocation_feed_bytes{format=\"DTREV1\"}"
        )
        .await
            > license::MAX_FEED_LEN as f64
    );
    assert_eq!(
        metric(&server, "datatools_revocation_feed_listed").await,
        60_000.0
    );
    let alert = &wait_for_alert_mails(&postmark, 1).await[0];
    let mail = alert["TextBody"].as_str().unwrap();
    assert!(
        mail.contains("the DTREV1 revocation feed lists 60000"),
        "{mail}"
    );

    // Served from memory: with the database stopped, the feed still answers, conditionally too
    // (a weak comparison: the strong form of the tag matches).
    let etag = get(&server, "/revocations/v2", None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    server.cluster.stop().unwrap();
    let strong = etag.trim_start_matches("W/").to_string();
    let listed = format!("\"other\", {etag}");
    for tag in [etag.as_str(), strong.as_str(), listed.as_str(), "*"] {
        let again = get(&server, "/revocations/v2", Some(tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{tag}");
    }
    let plain = get(&server, "/revocations/v2", None).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.text().await.unwrap(), text);
    server.cluster.restart().unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_row_is_left_out_and_reported_and_expired_licenses_leave() {
    let (server, postmark) = setup().await;
    let before = seq(&server).await;
    let listed = revoke_many(&server, 3, 30).await;
    let expired_lately = revoke_many(&server, 1, -10).await;
    let expired_long_ago = revoke_many(&server, 1, -31).await;
    sqlx::query(
        "insert into licenses (license_key, name, email, tier, source, issued_at, revoked_at, \
                               key_id, blob) \
         values ('not a key\n', 'x', 'x@example.com', 'core', 'manual', now(), now(), 'kid', 'b')",
    )
    .execute(&server.state.db)
    .await
    .unwrap();
    let trusted = TrustedKeys::from(&server.state.config.signing_key);

    // The feed of the last statement: one built after an earlier one (the keeper rebuilds on
    // each notification) would lack the later rows.
    let (_, list) = v2_after(&server, seq(&server).await - 1).await;
    assert!(list.seq > before);
    let deadline = Instant::now() + Duration::from_secs(10);
    let v1 = loop {
        let response = get(&server, "/revocations", None).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "one bad row fails nothing"
        );
        let feed = license::verify_feed(&response.text().await.unwrap(), &trusted, None).unwrap();
        if feed.seq == list.seq {
            break feed;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for key in listed.iter().chain(&expired_lately) {
        assert!(list.revokes(key) && v1.revokes(key));
    }
    assert!(!list.revokes(&expired_long_ago[0]) && !v1.revokes(&expired_long_ago[0]));
    assert_eq!(list.ids().len(), 4);

    assert_eq!(
        metric(&server, "datatools_revocation_feed_skipped").await,
        1.0
    );
    let alert = &wait_for_alert_mails(&postmark, 1).await[0];
    let mail = alert["TextBody"].as_str().unwrap();
    assert!(
        mail.contains("could not be listed") && mail.contains("not a key\\u{a}"),
        "{mail}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_sequence_moves_per_statement_and_only_for_revocations() {
    let (server, _postmark) = setup().await;
    // The triggers fire per statement (tgtype bit 0 clear): the feed's, one per event, and the
    // revocation history's (migration 0012).
    let triggers: Vec<(String, i16)> = sqlx::query_as(
        "select tgname::text, tgtype from pg_trigger \
         where tgrelid = 'licenses'::regclass and not tgisinternal order by tgname",
    )
    .fetch_all(&server.state.db)
    .await
    .unwrap();
    let names: Vec<&str> = triggers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "licenses_revocation_feed_delete",
            "licenses_revocation_feed_insert",
            "licenses_revocation_feed_update",
            "licenses_revocation_history",
        ]
    );
    assert!(triggers.iter().all(|(_, t)| t & 1 == 0), "{triggers:?}");

    // Unrelated changes leave the sequence alone; a statement that changes revocations moves
    // it, by one step.
    let start = seq(&server).await;
    server.mint(&common::mint_body()).await;
    sqlx::query("update licenses set notes = 'x'")
        .execute(&server.state.db)
        .await
        .unwrap();
    assert_eq!(seq(&server).await, start);
    revoke_many(&server, 5_000, 30).await;
    let after_insert = seq(&server).await;
    assert!(after_insert > start);
    sqlx::query("update licenses set revoked_at = null where revoke_reason = 'test'")
        .execute(&server.state.db)
        .await
        .unwrap();
    let after_update = seq(&server).await;
    assert!(after_update > after_insert);
    sqlx::query("delete from licenses where revoke_reason = 'test'")
        .execute(&server.state.db)
        .await
        .unwrap();
    assert_eq!(seq(&server).await, after_update, "deleting unrevoked rows");
    server.stop().await;
}
