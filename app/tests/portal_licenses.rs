//! "My licenses" in the buyer portal, fed by real Gumroad deliveries through the webhook: every
//! license with its status, order and expiry; renewals and the membership's renewal button;
//! gifts; the license file and "email it again"; an address change made by the admin.

mod common;

use chrono::Utc;
use common::gumroad::{reversal, sale, Form, PRODUCT_ID, PRODUCT_NAME, WEBHOOK_SECRET};
use common::portal::{self, mint_for, minute_passes, signed_in, Browser};
use common::postmark::FakePostmark;
use common::TestServer;
use datatools_license::license::{self, TrustedKeys};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn setup() -> (TestServer, FakePostmark) {
    let postmark = FakePostmark::start().await;
    let server = portal::start(&postmark).await;
    (server, postmark)
}

/// Delivers a Ping and waits until it is processed; returns the event.
async fn deliver(server: &TestServer, form: &Form) -> Value {
    let (status, _, answer) = server.deliver(form).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    server
        .settled_event(answer["event"].as_i64().unwrap())
        .await
}

/// A subscription event as Gumroad's resource subscriptions send it (JSON).
async fn deliver_json(server: &TestServer, body: Value) -> Value {
    let (status, _, answer) = server
        .deliver_raw(
            &server.webhook_url(WEBHOOK_SECRET),
            "application/json",
            body.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    server
        .settled_event(answer["event"].as_i64().unwrap())
        .await
}

/// The `<section>` of the licenses page that shows `key`.
fn section<'a>(page: &'a str, key: &str) -> &'a str {
    page.split("<section class=\"license\"")
        .find(|s| s.contains(key))
        .unwrap_or_else(|| panic!("no section for {key} in {page}"))
        .split("</section>")
        .next()
        .unwrap()
}

fn key_of(event: &Value) -> String {
    event["license_key"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_license_of_the_address_with_its_status_order_and_expiry() {
    let (server, postmark) = setup().await;
    let buyer = "buyer@example.com";
    let one_year = key_of(&deliver(&server, &sale("S-ONE", buyer)).await);
    let lifetime = key_of(
        &deliver(
            &server,
            &sale("S-LIFE", buyer).nested("variants", "", "Lifetime ✓"),
        )
        .await,
    );
    let refunded = key_of(&deliver(&server, &sale("S-REFUND", buyer)).await);
    deliver(&server, &reversal("S-REFUND", buyer, "refund")).await;
    let disputed = key_of(&deliver(&server, &sale("S-DISPUTE", buyer)).await);
    deliver(&server, &reversal("S-DISPUTE", buyer, "dispute")).await;
    let revoked = mint_for(&server, "Buyer@Example.com").await["license_key"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .admin(
            Method::POST,
            &format!("/internal/licenses/{revoked}/revoke"),
        )
        .send()
        .await
        .unwrap();
    let expired = mint_for(&server, buyer).await["license_key"]
        .as_str()
        .unwrap()
        .to_string();
    sqlx::query("update licenses set expires_at = now() - interval '1 day' where license_key = $1")
        .bind(&expired)
        .execute(&server.state.db)
        .await
        .unwrap();
    let someone_else = key_of(&deliver(&server, &sale("S-OTHER", "other@example.com")).await);

    let mut browser = signed_in(&server, &postmark, buyer).await;
    let page = browser.get("/portal/licenses").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "no-store");
    let body = &page.body;
    assert_eq!(
        body.matches("<section class=\"license\"").count(),
        6,
        "{body}"
    );
    assert!(!body.contains(&someone_else));

    let s = section(body, &one_year);
    assert!(s.contains(PRODUCT_NAME), "{s}");
    assert!(s.contains("status-active"), "{s}");
    assert!(s.contains("<dt>Order</dt><dd>524459935</dd>"), "{s}");
    let record: (String, chrono::DateTime<Utc>) =
        sqlx::query_as("select blob, expires_at from licenses where license_key = $1")
            .bind(&one_year)
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    assert!(s.contains(&record.0), "the blob in the copy box");
    assert!(s.contains(&record.1.format("%-d %B %Y").to_string()), "{s}");
    assert!(s.contains(&format!("/portal/licenses/{one_year}/download")));
    assert!(s.contains("readonly"));

    let s = section(body, &lifetime);
    assert!(s.contains("never (perpetual license)"), "{s}");
    assert!(
        !s.contains("Buy"),
        "no renewal for a perpetual license: {s}"
    );

    for (key, word, label) in [
        (&refunded, "refunded", "Refunded"),
        (&disputed, "disputed", "Disputed"),
        (&revoked, "revoked", "Revoked"),
    ] {
        let s = section(body, key);
        assert!(s.contains(&format!("status-{word}\">{label}")), "{s}");
        // Why it stopped, since when, and what to do: write to support.
        let today = Utc::now().format("%-d %B %Y").to_string();
        assert!(s.contains(&format!("{word} on {today}")), "{s}");
        assert!(s.contains("href=\"mailto:"), "{s}");
        assert!(!s.contains("DTLIC2:"), "no blob for a {word} license: {s}");
        assert!(!s.contains("/download"), "{s}");
        assert!(!s.contains("/email\""), "{s}");
        let download = browser
            .get(&format!("/portal/licenses/{key}/download"))
            .await;
        assert_eq!(download.status, 404, "{word}");
        assert!(!download.body.contains("DTLIC2:"));
    }
    let s = section(body, &expired);
    assert!(s.contains("status-expired\">Expired"), "{s}");
    assert!(
        s.contains("DTLIC2:"),
        "an expired license is still the buyer's: {s}"
    );
    assert!(body.contains("Changed your email address?"));
    assert!(body.contains("from this address"));
    server.stop().await;
}

#[tokio::test]
async fn a_renewal_says_replace_the_file_and_the_button_follows_the_membership() {
    let (server, postmark) = setup().await;
    let buyer = "member@example.com";
    let subscription = "SUB-1a2b==";
    let first = deliver(
        &server,
        &sale("R-1", buyer).field("subscription_id", subscription),
    )
    .await;
    let key = key_of(&first);
    let mut browser = signed_in(&server, &postmark, buyer).await;
    let s = browser.get("/portal/licenses").await.body;
    let s = section(&s, &key).to_string();
    assert!(!s.contains("Renewed on"), "{s}");
    assert!(
        s.contains("href=\"https:&#x2f;&#x2f;gumroad.com&#x2f;subscriptions&#x2f;SUB-1a2b%3D%3D&#x2f;manage\""),
        "{s}"
    );
    assert!(s.contains("Manage your membership on Gumroad"));
    assert!(s.contains("Gumroad first emails you its own sign-in link"));

    // The renewal charge: same subscription, a new sale.
    let renewal = deliver(
        &server,
        &sale("R-2", buyer)
            .field("subscription_id", subscription)
            .field("is_recurring_charge", "true"),
    )
    .await;
    assert_eq!(key_of(&renewal), key, "{renewal:#}");
    let (blob, expires): (String, chrono::DateTime<Utc>) =
        sqlx::query_as("select blob, expires_at from licenses where license_key = $1")
            .bind(&key)
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    let page = browser.get("/portal/licenses").await.body;
    let s = section(&page, &key);
    assert!(s.contains("Renewed on"), "{s}");
    assert!(
        s.contains("<strong>Replace your old license file</strong>"),
        "{s}"
    );
    let until = expires.format("%-d %B %Y").to_string();
    assert!(s.contains(&format!("it now runs until {until}")), "{s}");
    assert!(s.contains(&blob), "the renewed blob");
    let days = (expires - Utc::now()).num_days();
    assert!(
        (729..=731).contains(&days),
        "two terms from the first sale: {days} days"
    );

    // The membership's state picks the button.
    let event = |resource: &str, extra: Value| {
        let mut body = json!({
            "resource_name": resource, "subscription_id": subscription,
            "product_id": PRODUCT_ID, "product_name": PRODUCT_NAME, "user_email": buyer,
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (body, label, url) in [
        (
            event(
                "cancellation",
                json!({"cancelled": true, "cancelled_by_buyer": true}),
            ),
            "Restart your membership on Gumroad",
            "gumroad.com&#x2f;subscriptions",
        ),
        (
            event("subscription_restarted", json!({})),
            "Manage your membership on Gumroad",
            "gumroad.com&#x2f;subscriptions",
        ),
        (
            event(
                "cancellation",
                json!({"cancelled": true, "cancelled_due_to_payment_failures": true}),
            ),
            "Update your payment on Gumroad",
            "gumroad.com&#x2f;subscriptions",
        ),
        (
            event(
                "subscription_ended",
                json!({"ended_reason": "fixed_subscription_period_ended"}),
            ),
            "Buy DataTools again on Gumroad",
            "https:&#x2f;&#x2f;unalogix.gumroad.com&#x2f;l&#x2f;datatools",
        ),
    ] {
        deliver_json(&server, body).await;
        let page = browser.get("/portal/licenses").await.body;
        let s = section(&page, &key);
        assert!(s.contains(label), "{label}: {s}");
        assert!(s.contains(url), "{label}: {s}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_gift_is_the_receivers_and_the_giver_can_only_resend_it() {
    let (server, postmark) = setup().await;
    let gift = key_of(
        &deliver(
            &server,
            &sale("G-1", "receiver@example.com")
                .field("is_gift_receiver_purchase", "true")
                .field("gifter_email", "Giver@Example.com")
                .field("gift_price", "4900"),
        )
        .await,
    );

    let mut receiver = signed_in(&server, &postmark, "receiver@example.com").await;
    let page = receiver.get("/portal/licenses").await.body;
    let s = section(&page, &gift);
    assert!(s.contains("A gift from</dt><dd>G•••@Example.com"), "{s}");
    assert!(s.contains("DTLIC2:"), "{s}");

    // The giver has no license of their own, yet gets a link: they gave one.
    let mut giver = signed_in(&server, &postmark, "giver@example.com").await;
    let page = giver.get("/portal/licenses").await.body;
    let s = section(&page, &gift);
    assert!(s.contains("Gifted to</dt><dd>r•••@example.com"), "{s}");
    assert!(!s.contains("DTLIC2:"), "{s}");
    assert!(!s.contains("/download"), "{s}");
    assert!(!s.contains("<textarea"), "{s}");
    assert!(s.contains("Send it to the recipient again"), "{s}");
    assert!(!s.contains("Manage your membership"), "{s}");
    let download = giver
        .get(&format!("/portal/licenses/{gift}/download"))
        .await;
    assert_eq!(download.status, 404);

    let before = postmark.requests().len();
    let sent = giver
        .post(&format!("/portal/licenses/{gift}/email"), &[])
        .await;
    assert_eq!(sent.status, 303);
    let requests = postmark.requests();
    assert_eq!(requests.len(), before + 1);
    assert_eq!(requests.last().unwrap()["To"], "receiver@example.com");
    let flash = giver.get(sent.location()).await.body;
    assert!(flash.contains("to r•••@example.com"), "{flash}");

    // The giver is found by the key the webhook stored; a delivery stored before that key
    // existed (or by an older release) is still found, and keyed by the portal's sweep.
    let key: Option<String> =
        sqlx::query_scalar("select gifter_key from gumroad_events where sale_id = 'G-1'")
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    assert_eq!(key.as_deref(), Some("giver@example.com"));
    sqlx::query("update gumroad_events set gifter_key = null")
        .execute(&server.state.db)
        .await
        .unwrap();
    let page = giver.get("/portal/licenses").await.body;
    assert!(section(&page, &gift).contains("Gifted to"), "{page}");
    let (cluster, env) = server.stop_keeping_database().await;
    let server = TestServer::serve(cluster, env, true).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server
        .count("select count(*) from gumroad_events where gifter_key = 'giver@example.com'")
        .await
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweep did not key the gift"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        server
            .count("select count(*) from gumroad_events where gifter_key is null")
            .await,
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn the_license_file_and_email_it_again() {
    let (server, postmark) = setup().await;
    let key = key_of(&deliver(&server, &sale("D-1", "buyer@example.com")).await);
    let other = key_of(&deliver(&server, &sale("D-2", "other@example.com")).await);
    let mut browser = signed_in(&server, &postmark, "buyer@example.com").await;

    let file = browser
        .get(&format!("/portal/licenses/{key}/download"))
        .await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        file.header("content-disposition"),
        format!("attachment; filename=\"datatools-license-{key}.txt\"")
    );
    assert_eq!(file.header("cache-control"), "no-store");
    let blob = file.body.strip_suffix('\n').unwrap();
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    let decoded = license::verify(blob, &trusted, Utc::now()).unwrap();
    assert_eq!(decoded.license_key.as_str(), key);
    assert_eq!(decoded.email, "buyer@example.com");
    // Typed in lower case, dashes dropped: the same license.
    let typed = key.replace('-', "").to_lowercase();
    assert_eq!(
        browser
            .get(&format!("/portal/licenses/{typed}/download"))
            .await
            .status,
        200
    );
    // Somebody else's license is not there.
    let theirs = browser
        .get(&format!("/portal/licenses/{other}/download"))
        .await;
    assert_eq!(theirs.status, 404);
    assert!(!theirs.body.contains("DTLIC2:"));
    let theirs = browser
        .post(&format!("/portal/licenses/{other}/email"), &[])
        .await;
    assert_eq!(theirs.status, 404);

    let before = postmark.requests().len();
    let again = browser
        .post(&format!("/portal/licenses/{key}/email"), &[])
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(
        again.location(),
        format!("/portal/licenses?license={key}&emailed=sent")
    );
    let mail = postmark.requests().last().unwrap().clone();
    assert_eq!(postmark.requests().len(), before + 1);
    assert_eq!(mail["To"], "buyer@example.com");
    assert_eq!(mail["Subject"], "Your DataTools license (sent again)");
    assert!(mail["TextBody"].as_str().unwrap().contains(blob));
    let page = browser.get(again.location()).await.body;
    assert!(page.contains("We emailed"), "{page}");
    // Recorded on the sale's event like the admin's resend, and in the portal's audit.
    let event: i64 = sqlx::query_scalar(
        "select count(*) from gumroad_events where license_key = $1 and email_message_id = $2",
    )
    .bind(&key)
    .bind(format!("msg-{:04}", before + 1))
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    assert_eq!(event, 1);
    // Once a minute.
    let soon = browser
        .post(&format!("/portal/licenses/{key}/email"), &[])
        .await;
    assert_eq!(
        soon.location(),
        format!("/portal/licenses?license={key}&emailed=wait")
    );
    assert_eq!(postmark.requests().len(), before + 1);
    assert_eq!(
        server
            .count("select count(*) from portal_audit where action = 'resend'")
            .await,
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn an_address_change_is_made_by_the_admin_re_signed_and_recorded() {
    let (server, postmark) = setup().await;
    let key = key_of(&deliver(&server, &sale("A-1", "old@example.com")).await);
    let path = format!("/internal/licenses/{key}/email");
    let old_blob: String = sqlx::query_scalar("select blob from licenses where license_key = $1")
        .bind(&key)
        .fetch_one(&server.state.db)
        .await
        .unwrap();

    for (body, status, field) in [
        (json!({"email": "new@example.com"}), 400, ""),
        (
            json!({"email": "new@example.com", "reason": " "}),
            422,
            "reason",
        ),
        (
            json!({"email": "not-an-address", "reason": "asked"}),
            422,
            "email",
        ),
        (
            json!({"email": "OLD@example.com", "reason": "asked"}),
            422,
            "email",
        ),
    ] {
        let r = server
            .admin(Method::POST, &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
        let answer: Value = r.json().await.unwrap();
        if !field.is_empty() {
            assert_eq!(answer["field"], field, "{answer}");
        }
    }
    let proxied = server
        .admin(Method::POST, &path)
        .header("x-real-ip", "203.0.113.9")
        .json(&json!({"email": "new@example.com", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 404);

    let before = postmark.requests().len();
    let moved: Value = server
        .admin(Method::POST, &path)
        .json(&json!({
            "email": "new@example.com",
            "reason": "asked from old@example.com on 2026-05-01",
            "notify": true,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["email"], "new@example.com", "{moved}");
    assert_eq!(moved["old_email"], "old@example.com");
    assert_eq!(moved["license_key"], key.as_str());
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    let decoded = license::verify(moved["blob"].as_str().unwrap(), &trusted, Utc::now()).unwrap();
    assert_eq!(decoded.email, "new@example.com");
    let old = license::verify(&old_blob, &trusted, Utc::now()).unwrap();
    assert_eq!(
        (
            decoded.issued_at,
            decoded.expires_at(),
            decoded.tier.as_str()
        ),
        (old.issued_at, old.expires_at(), old.tier.as_str())
    );
    let mail = postmark.requests()[before].clone();
    assert_eq!(mail["To"], "new@example.com");
    assert_eq!(moved["message_id"], mail_id(before + 1));
    let row: (String, String, String, String) = sqlx::query_as(
        "select old_email, new_email, reason, old_blob from license_email_changes where id = $1",
    )
    .bind(moved["change_id"].as_i64().unwrap())
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    assert_eq!(row.0, "old@example.com");
    assert_eq!(row.1, "new@example.com");
    assert_eq!(row.2, "asked from old@example.com on 2026-05-01");
    assert_eq!(row.3, old_blob);

    // The portal follows the license: the new address sees it, the old one gets no link.
    let mut new = signed_in(&server, &postmark, "new@example.com").await;
    assert!(new.get("/portal/licenses").await.body.contains(&key));
    let mut old_browser = Browser::new(&server);
    old_browser.request_link("old@example.com").await;
    portal::drain(&server).await;
    assert!(portal::sign_in_mails(&postmark, "old@example.com").is_empty());
    minute_passes(&server, "new@example.com").await;

    let unknown = server
        .admin(
            Method::POST,
            "/internal/licenses/000000-000000-000000-000000/email",
        )
        .json(&json!({"email": "x@example.com", "reason": "r"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    server.stop().await;
}

fn mail_id(n: usize) -> String {
    format!("msg-{n:04}")
}
