//! Issue 12 item 3, as the operator meets it: the box was down longer than Gumroad retries, and a
//! sync of Gumroad's sales list (a local server answering like `GET /v2/sales`, three pages)
//! stores every delivery the server never received, processed like a Ping: the missed sales are
//! minted and emailed, a sale received before the outage is left alone, a refund missed during
//! it revokes, a sale refunded before it ever arrived mints nothing, a test purchase and an
//! unknown product end as their Pings would, a gift's giver is reported. A late Ping retry is a
//! duplicate (one license); a second sync stores nothing.

mod common;

use std::time::{Duration, Instant};

use common::gumroad as ping;
use common::gumroad_api::{sale, FakeGumroadApi, ACCESS_TOKEN};
use common::postmark::FakePostmark;
use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SINCE: &str = "2026-11-28";

async fn setup(sales: Vec<Value>, token: &str) -> (TestServer, FakePostmark, FakeGumroadApi) {
    let postmark = FakePostmark::start().await;
    let gumroad = FakeGumroadApi::start(sales).await;
    let (postmark_url, api_url) = (postmark.url.clone(), gumroad.url.clone());
    let server = TestServer::start_with(|env| {
        ping::configure(env, &postmark_url);
        let file = env.path("gumroad_api_token");
        std::fs::write(&file, format!("{token}\n")).unwrap();
        env.set("GUMROAD_ACCESS_TOKEN_FILE", file.to_str().unwrap())
            .set("GUMROAD_API_URL", api_url);
    })
    .await;
    (server, postmark, gumroad)
}

/// `POST /internal/gumroad/sync`, followed to its end.
async fn sync(server: &TestServer, since: &str) -> Value {
    let response = server
        .admin(Method::POST, "/internal/gumroad/sync")
        .json(&json!({ "since": since }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let started: Value = response.json().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = server
            .admin_get(&format!("/internal/gumroad/syncs/{}", started["id"]))
            .await;
        if now["state"] != "running" {
            return now;
        }
        assert!(Instant::now() < deadline, "the sync did not end: {now:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the workers processed every stored event.
async fn settled(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server
        .count("select count(*) from gumroad_events where status in ('received', 'processing')")
        .await
        > 0
    {
        assert!(Instant::now() < deadline, "events did not settle");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn event_of(server: &TestServer, sale_id: &str, resource: &str) -> Value {
    let id: i64 = sqlx::query_scalar(
        "select id from gumroad_events where sale_id = $1 and resource_name = $2 \
         and duplicate_of is null order by id limit 1",
    )
    .bind(sale_id)
    .bind(resource)
    .fetch_one(&server.state.db)
    .await
    .unwrap_or_else(|e| panic!("no {resource} event for {sale_id}: {e}"));
    server.event(id).await
}

async fn licenses_of(server: &TestServer, sale_id: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "select license_key, revoke_reason from licenses where source_ref = 'gumroad:' || $1",
    )
    .bind(sale_id)
    .fetch_all(&server.state.db)
    .await
    .unwrap()
}

fn stored_ids(sync: &Value) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = sync["stored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["sale_id"].as_str().unwrap().to_string(),
                e["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_sync_after_an_outage_stores_exactly_the_missed_deliveries_processed_like_pings() {
    // Before the outage two sales arrived as Pings; W1 stays as it was, R1 is refunded while
    // the box is down.
    let mut sales: Vec<Value> = (0..20)
        .map(|n| {
            sale(
                &format!("MISSED-{n:02}=="),
                &format!("missed{n:02}@example.com"),
                "2026-11-29",
                &format!("{:02}:{:02}", 8 + n / 6, n * 7 % 60),
            )
        })
        .collect();
    sales.push(sale("W1==", "w1@example.com", "2026-11-28", "09:00"));
    let mut refunded = sale("R1==", "r1@example.com", "2026-11-28", "09:30");
    refunded["refunded"] = true.into();
    sales.push(refunded);
    let mut never = sale("R2==", "r2@example.com", "2026-11-30", "11:00");
    never["refunded"] = true.into();
    sales.push(never);
    let mut test = sale("T1==", "seller@example.com", "2026-11-30", "12:00");
    test["test"] = true.into();
    sales.push(test);
    let mut unknown = sale("U1==", "u1@example.com", "2026-11-30", "13:00");
    unknown["product_id"] = "UnKnOwN-PrOdUcT==".into();
    unknown["product_name"] = "Something else".into();
    sales.push(unknown);
    let mut gift = sale("G1==", "giver@example.com", "2026-11-30", "14:00");
    gift["is_gift_sender_purchase"] = true.into();
    gift["giftee_email"] = "friend@example.com".into();
    sales.push(gift);
    // Before --since: not asked for, not stored.
    sales.push(sale("OLD-1==", "old@example.com", "2026-11-20", "10:00"));
    let (server, postmark, gumroad) = setup(sales, ACCESS_TOKEN).await;

    for (sale_id, email) in [("W1==", "w1@example.com"), ("R1==", "r1@example.com")] {
        let (status, _, _) = server.deliver(&ping::sale(sale_id, email)).await;
        assert_eq!(status, StatusCode::OK);
    }
    settled(&server).await;
    assert_eq!(licenses_of(&server, "R1==").await.len(), 1);
    let emails_before = postmark.requests().len();
    assert_eq!(emails_before, 2);

    // Gumroad has a bad moment on one page: asked again.
    gumroad.fail_next(1);
    let result = sync(&server, SINCE).await;
    assert_eq!(result["state"], "done", "{result:#}");
    assert_eq!(result["error"], Value::Null);
    assert_eq!(result["pages"], 3, "26 sales, ten a page");
    assert_eq!(result["seen"], 26);
    assert_eq!(result["already_had"], 2, "W1's and R1's sales: {result:#}");
    let mut want: Vec<(String, String)> = (0..20)
        .map(|n| (format!("MISSED-{n:02}=="), "sale".to_string()))
        .collect();
    for (sale_id, resource) in [
        ("R1==", "refund"),
        ("R2==", "sale"),
        ("R2==", "refund"),
        ("T1==", "sale"),
        ("U1==", "sale"),
    ] {
        want.push((sale_id.into(), resource.into()));
    }
    want.sort();
    assert_eq!(stored_ids(&result), want);
    assert_eq!(result["skipped"][0]["sale_id"], "G1==");
    let why = result["skipped"][0]["why"].as_str().unwrap();
    assert!(why.contains("friend@example.com"), "{why}");
    // Every page asked for the date given, the token only ever in the header (the fake refuses
    // anything else), the next page by its key.
    let requests = gumroad.requests();
    assert!(
        requests.len() >= 4,
        "three pages and one retry: {requests:?}"
    );
    for query in &requests {
        assert!(query.contains(&("after".into(), SINCE.into())), "{query:?}");
    }
    assert!(requests
        .iter()
        .any(|q| q.contains(&("page_key".into(), "pk-20".into()))));

    settled(&server).await;
    // The missed sales: one license each, emailed like a Ping's.
    for n in 0..20 {
        let sale_id = format!("MISSED-{n:02}==");
        let event = event_of(&server, &sale_id, "sale").await;
        assert_eq!(event["status"], "done", "{event:#}");
        assert_eq!(event["email_status"], "sent");
        assert!(
            event["content_type"]
                .as_str()
                .unwrap()
                .contains("gumroad-api-sync"),
            "marked as found by a sync: {event:#}"
        );
        assert_eq!(licenses_of(&server, &sale_id).await.len(), 1, "{sale_id}");
    }
    let emailed: Vec<String> = postmark.requests()[emails_before..]
        .iter()
        .map(|r| r["To"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        emailed.len(),
        20,
        "the 20 missed buyers, nobody else: {emailed:?}"
    );
    assert!(emailed.iter().all(|to| to.starts_with("missed")));
    // The refund missed during the outage revoked R1's license.
    let r1 = licenses_of(&server, "R1==").await;
    assert_eq!(r1.len(), 1);
    assert!(r1[0].1.is_some(), "R1 revoked: {r1:?}");
    // R2 was refunded before it ever arrived: no license.
    assert!(licenses_of(&server, "R2==").await.is_empty());
    assert_eq!(event_of(&server, "R2==", "sale").await["status"], "ignored");
    // A test purchase stays a test: nothing minted.
    let t1 = event_of(&server, "T1==", "sale").await;
    assert_eq!(
        (&t1["test"], &t1["status"]),
        (&Value::from(true), &Value::from("done"))
    );
    assert!(licenses_of(&server, "T1==").await.is_empty());
    // An unknown product fails visibly, as its Ping would.
    let u1 = event_of(&server, "U1==", "sale").await;
    assert_eq!(u1["status"], "failed");
    assert!(
        u1["last_error"]
            .as_str()
            .unwrap()
            .contains("unknown product"),
        "{u1:#}"
    );
    assert!(licenses_of(&server, "OLD-1==").await.is_empty());
    assert_eq!(
        server
            .count("select count(*) from gumroad_events where sale_id = 'OLD-1=='")
            .await,
        0
    );

    // Gumroad's own retry of a missed Ping arrives late: a duplicate, still one license.
    let late = ping::sale("MISSED-05==", "missed05@example.com").field("retry_count", "3");
    let (status, _, answer) = server.deliver(&late).await;
    assert_eq!(status, StatusCode::OK);
    let duplicate = server.event(answer["event"].as_i64().unwrap()).await;
    assert_eq!(duplicate["status"], "duplicate", "{duplicate:#}");
    settled(&server).await;
    assert_eq!(licenses_of(&server, "MISSED-05==").await.len(), 1);
    assert_eq!(postmark.requests().len(), emails_before + 20);

    // Running it again stores nothing: every delivery is already there.
    let again = sync(&server, SINCE).await;
    assert_eq!(again["state"], "done");
    assert_eq!(again["stored"].as_array().unwrap().len(), 0, "{again:#}");
    assert_eq!(again["already_had"], 27);
    // The list says what each sync found (what an alert reads).
    let listed = server.admin_get("/internal/gumroad/syncs").await;
    assert_eq!(listed[0]["id"], again["id"]);
    assert_eq!(listed[1]["stored"].as_array().unwrap().len(), 25);
    server.stop().await;
}

#[tokio::test]
async fn a_refused_token_fails_the_sync_visibly_and_stores_nothing() {
    let sales = vec![sale("S1==", "s1@example.com", "2026-11-29", "10:00")];
    let (server, _postmark, _gumroad) = setup(sales, "not-the-token").await;
    let result = sync(&server, SINCE).await;
    assert_eq!(result["state"], "failed", "{result:#}");
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("refused the access token"), "{error}");
    assert!(
        !error.contains("not-the-token"),
        "the token in a message: {error}"
    );
    assert_eq!(server.count("select count(*) from gumroad_events").await, 0);

    // Without a token at all the route says what to set; a date in the future is refused.
    let (cluster, mut env) = server.stop_keeping_database().await;
    env.unset("GUMROAD_ACCESS_TOKEN_FILE");
    let server = TestServer::serve(cluster, env, true).await;
    let response = server
        .admin(Method::POST, "/internal/gumroad/sync")
        .json(&json!({ "since": SINCE }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("GUMROAD_ACCESS_TOKEN_FILE"),
        "{body}"
    );
    let response = server
        .admin(Method::POST, "/internal/gumroad/sync")
        .json(&json!({ "since": "30/11/2026" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("since"),
        "{body}"
    );
    server.stop().await;
}
