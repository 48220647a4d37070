//! Whatever arrives at the webhook, an authenticated delivery is stored, answered 200 (or 503
//! so Gumroad retries) and never loops: NUL bytes, invalid UTF-8, wrong methods.

mod common;

use common::gumroad::{self, sale, WEBHOOK_SECRET};
use common::postmark::FakePostmark;
use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

async fn setup() -> (TestServer, FakePostmark) {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;
    (server, postmark)
}

/// A `%00` in a field, or a raw NUL byte in the body, used to make the INSERT fail: the delivery
/// was never stored and every Gumroad retry got 503. Now it is stored byte for byte, answered
/// 200, and failed for a human to look at; nothing is minted or sent.
#[tokio::test]
async fn a_nul_byte_is_stored_failed_and_answered_200() {
    let (server, postmark) = setup().await;
    let url = server.webhook_url(WEBHOOK_SECRET);
    let encoded = sale("NUL-SALE-1", "nul@example.com")
        .field("sale_id", "NUL\0SALE-1")
        .encode();
    assert!(encoded.contains("NUL%00SALE-1"), "{encoded}");
    let mut raw = sale("NUL-SALE-2", "raw@example.com").encode().into_bytes();
    raw.extend_from_slice(b"&note=a\0b&sale_id=RAW\0NUL");
    let invalid_utf8 = {
        let mut body = sale("UTF8-SALE-3", "utf8@example.com")
            .encode()
            .into_bytes();
        body.extend_from_slice(b"&extra=\xff\xfe");
        body
    };
    for (what, body) in [
        ("percent-encoded NUL", encoded.into_bytes()),
        ("raw NUL", raw),
        ("invalid UTF-8", invalid_utf8),
    ] {
        let (status, _, answer) = server
            .deliver_raw(&url, "application/x-www-form-urlencoded", body.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: {answer}");
        let id = answer["event"].as_i64().unwrap();
        let event = server.settled_event(id).await;
        let stored: Vec<u8> =
            sqlx::query_scalar("select raw_body from gumroad_events where id = $1")
                .bind(id)
                .fetch_one(&server.state.db)
                .await
                .unwrap();
        assert_eq!(stored, body, "{what}: the body is kept byte for byte");
        if what == "invalid UTF-8" {
            // Nothing wrong with the fields: processed as a sale.
            assert_eq!(event["status"], "done", "{what}: {event:#}");
        } else {
            assert_eq!(event["status"], "failed", "{what}: {event:#}");
            assert!(
                event["last_error"]
                    .as_str()
                    .unwrap()
                    .contains("sale_id contain(s) a NUL byte"),
                "{what}: {event:#}"
            );
            assert_eq!(event["license_key"], Value::Null, "{what}");
            assert_eq!(
                event["raw_body"].as_str().unwrap(),
                String::from_utf8_lossy(&body),
                "{what}: the admin API shows the body as it came"
            );
        }
        // Gumroad's retry of the same body is answered 200 again (no 503 loop).
        let (status, _, _) = server
            .deliver_raw(&url, "application/x-www-form-urlencoded", body)
            .await;
        assert_eq!(status, StatusCode::OK, "{what}: retry");
    }
    assert_eq!(
        postmark.requests().len(),
        1,
        "only the valid sale was emailed"
    );
}

/// A buyer can type anything into Gumroad's name field: control and bidi-override characters
/// are dropped from the license's name and the sale goes through (a refused mint would lose it).
#[tokio::test]
async fn a_buyer_name_with_hidden_characters_is_cleaned_not_refused() {
    let (server, postmark) = setup().await;
    let form =
        sale("NAME-1", "name@example.com").field("full_name", "Eve\u{202E}\nAdmin\u{1b}[31m ");
    let (status, _, answer) = server.deliver(&form).await;
    assert_eq!(status, StatusCode::OK);
    let event = server
        .settled_event(answer["event"].as_i64().unwrap())
        .await;
    assert_eq!(event["status"], "done", "{event:#}");
    let key = event["license_key"].as_str().unwrap();
    let name: String = sqlx::query_scalar("select name from licenses where license_key = $1")
        .bind(key)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(name, "Eve Admin[31m");
    assert_eq!(postmark.requests().len(), 1);
}
