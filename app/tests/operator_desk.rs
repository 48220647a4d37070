//! The operator's support commands through the real admin API and Postgres: finding licenses
//! (by key, name, address, Gumroad order number, sale id; paged past 1000), a license's
//! history, revoking and reinstating (recorded, and in the revocation feed at once).

mod common;

use std::collections::BTreeSet;

use common::gumroad::{self, reversal, sale};
use common::postmark::FakePostmark;
use common::TestServer;
use datatools_license::license::{self, LicenseKey, TrustedKeys};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn get(server: &TestServer, path: &str) -> (StatusCode, Value) {
    let response = server.admin(Method::GET, path).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(server: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    let response = server
        .admin(Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The keys a search finds, in order.
async fn found(server: &TestServer, query: &str) -> Vec<String> {
    let (status, page) = get(server, &format!("/internal/licenses/search?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["license_key"].as_str().unwrap().to_string())
        .collect()
}

async fn sold(server: &TestServer, form: &gumroad::Form) -> String {
    let (status, _, answer) = server.deliver(form).await;
    assert_eq!(status, 200, "{answer}");
    let event = server
        .settled_event(answer["event"].as_i64().unwrap())
        .await;
    event["license_key"]
        .as_str()
        .unwrap_or_else(|| panic!("no license: {event:#}"))
        .to_string()
}

#[tokio::test]
async fn licenses_are_found_by_key_name_address_order_and_sale_and_paged_past_1000() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;

    let ada = sold(
        &server,
        &sale("SALE-ADA==", "Ada@Example.com")
            .field("full_name", "Ada Lovelace")
            .field("order_number", "111222333"),
    )
    .await;
    // A body Gumroad sent as JSON: its order number is found too.
    let body = json!({
        "seller_id": gumroad::SELLER_ID, "product_id": gumroad::PRODUCT_ID,
        "product_name": gumroad::PRODUCT_NAME, "email": "grace@example.com",
        "full_name": "Grace Hopper", "sale_id": "SALE-JSON==", "order_number": 987654,
        "resource_name": "sale", "price": 4900, "currency": "eur"
    });
    let (status, _, answer) = server
        .deliver_raw(
            &server.webhook_url(gumroad::WEBHOOK_SECRET),
            "application/json",
            body.to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let event = server
        .settled_event(answer["event"].as_i64().unwrap())
        .await;
    let grace = event["license_key"].as_str().expect("minted").to_string();
    let comp = server
        .mint(
            &json!({"name": "Zoë Comp", "email": "zoe@example.com", "tier": "core",
                      "source": "comp", "source_ref": "comp:zoe"}),
        )
        .await["license_key"]
        .as_str()
        .unwrap()
        .to_string();

    // Each way a buyer's mail names a license.
    assert_eq!(found(&server, "q=lovelace").await, [ada.as_str()]);
    assert_eq!(found(&server, "q=ADA%40example.COM").await, [ada.as_str()]);
    assert_eq!(found(&server, "q=111222333").await, [ada.as_str()]);
    assert_eq!(found(&server, "order=987654").await, [grace.as_str()]);
    assert_eq!(found(&server, "sale=SALE-ADA%3D%3D").await, [ada.as_str()]);
    assert_eq!(found(&server, "q=SALE-JSON%3D%3D").await, [grace.as_str()]);
    let typed = ada.replace('-', "").to_lowercase();
    assert_eq!(found(&server, &format!("q={typed}")).await, [ada.as_str()]);
    assert_eq!(
        found(&server, &format!("key={typed}")).await,
        [ada.as_str()]
    );
    assert_eq!(found(&server, "q=comp%3Azoe").await, [comp.as_str()]);
    assert_eq!(
        found(&server, "email=zoe%40example.com&name=zo").await,
        [comp.as_str()]
    );
    assert!(found(&server, "email=zoe%40example.com&name=ada")
        .await
        .is_empty());
    assert!(found(&server, "q=nobody-at-all").await.is_empty());

    // A match carries its sale: what a support reply quotes and the CSV exports.
    let (_, page) = get(&server, "/internal/licenses/search?q=Lovelace").await;
    let hit = &page["licenses"][0];
    assert_eq!(hit["sale_id"], "SALE-ADA==");
    assert_eq!(hit["order_number"], "111222333");
    assert_eq!(hit["product"], gumroad::PRODUCT_NAME);
    assert_eq!(hit["email"], "Ada@Example.com");
    assert!(page["next"].is_null());

    // Revoked and active apart.
    let (status, _) = post(
        &server,
        &format!("/internal/licenses/{grace}/revoke"),
        json!({"reason": "chargeback"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found(&server, "status=revoked").await, [grace.as_str()]);
    assert_eq!(found(&server, "status=active").await.len(), 2);

    // 1,200 more licenses, many issued at the very same instant: paging must neither skip nor
    // repeat one (keyset on issue time and row id).
    sqlx::query(
        "insert into licenses (license_key, name, email, tier, source, issued_at, key_id, blob) \
         select 'BULK-' || lpad(g::text, 6, '0'), 'Bulk ' || g, 'bulk' || g || '@example.com', \
                'core', 'import', now() - interval '1 day' - (g % 3) * interval '1 second', \
                '0000000000000000', 'DTLIC2:x.y' \
         from generate_series(1, 1200) g",
    )
    .execute(&server.state.db)
    .await
    .unwrap();
    let total = server.count("select count(*) from licenses").await as usize;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &after {
            Some(cursor) => format!("limit=1000&after={cursor}"),
            None => "limit=1000".into(),
        };
        let (status, page) = get(&server, &format!("/internal/licenses/search?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for license in page["licenses"].as_array().unwrap() {
            seen.push(license["license_key"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), total);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        total,
        "no license twice"
    );
    assert_eq!(seen[0], comp, "newest first");

    // Bad input names the parameter and what to do.
    let (status, error) = get(&server, "/internal/licenses/search?limit=1001").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "limit");
    let (status, error) = get(&server, "/internal/licenses/search?after=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["message"].as_str().unwrap().contains("next"),
        "{error}"
    );
    let (status, error) = get(&server, "/internal/licenses/search?status=gone").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, error) = get(&server, "/internal/licenses/search?key=not-a-key").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "license_key");
    server.stop().await;
}

/// The feed as the desktop app reads it, once its `seq` passed `seq`.
async fn feed_after(server: &TestServer, seq: u64) -> license::RevocationFeed {
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = server
            .client
            .get(server.url("/revocations"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let feed = license::verify_feed(&text, &trusted, None).unwrap();
        if feed.seq > seq {
            return feed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the feed did not change"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn revoking_and_reinstating_are_in_the_history_and_the_feed() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;
    let key = server.mint(&common::mint_body()).await["license_key"]
        .as_str()
        .unwrap()
        .to_string();
    let parsed: LicenseKey = key.parse().unwrap();
    let before = feed_after(&server, 0).await.seq;

    let (status, revoked) = post(
        &server,
        &format!("/internal/licenses/{key}/revoke"),
        json!({"reason": "chargeback reported by email"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    let feed = feed_after(&server, before).await;
    assert!(feed.revokes(&parsed));

    // Reinstating needs a reason; a license that is not revoked cannot be.
    let path = format!("/internal/licenses/{key}/reinstate");
    let (status, error) = post(&server, &path, json!({"reason": "  "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "reason");
    let (status, error) = post(&server, &path, json!({})).await;
    assert!(status.is_client_error(), "{error}");
    let (status, reinstated) = post(
        &server,
        &path,
        json!({"reason": "the bank withdrew the chargeback"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reinstated}");
    assert!(reinstated["revoked_at"].is_null() && reinstated["revoke_reason"].is_null());
    let feed = feed_after(&server, feed.seq).await;
    assert!(!feed.revokes(&parsed), "the feed drops it at once");
    let (status, error) = post(&server, &path, json!({"reason": "again"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        error["message"].as_str().unwrap().contains("not revoked"),
        "{error}"
    );
    let (status, _) = post(
        &server,
        "/internal/licenses/000000-000000-000000-000000/reinstate",
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A move to another address joins the history; so does a refund from Gumroad.
    let (status, _) = post(
        &server,
        &format!("/internal/licenses/{key}/email"),
        json!({"email": "new@example.com", "reason": "asked from the old address"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let refunded = sold(&server, &sale("SALE-R==", "r@example.com")).await;
    let (status, _, _) = server
        .deliver(&reversal("SALE-R==", "r@example.com", "refund"))
        .await;
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while server
        .count(&format!(
            "select count(*) from license_revocations where license_key = '{refunded}'"
        ))
        .await
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the refund was not processed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (status, history) = get(&server, &format!("/internal/licenses/{key}/history")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["license_key"], key);
    assert_eq!(history["email"], "new@example.com");
    let steps: Vec<(String, String)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap().to_string(),
                h["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("revoked".into(), "chargeback reported by email".into()),
            (
                "reinstated".into(),
                "the bank withdrew the chargeback".into()
            ),
            (
                "address_changed".into(),
                "asked from the old address".into()
            ),
        ]
    );
    assert_eq!(history["history"][2]["new_email"], "new@example.com");
    let (_, refund_history) = get(&server, &format!("/internal/licenses/{refunded}/history")).await;
    assert_eq!(refund_history["history"][0]["action"], "revoked");
    assert_eq!(refund_history["history"][0]["reason"], "gumroad refund");
    assert_eq!(refund_history["sale_id"], "SALE-R==");
    server.stop().await;
}
