//! Gumroad sales become emailed licenses: the webhook, processing, Postmark, events and replay,
//! against real Postgres, the real server on 127.0.0.1, and a local server playing Postmark.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::gumroad::{self, reversal, sale, PRODUCT_ID, PRODUCT_NAME, WEBHOOK_SECRET};
use common::postmark::{FakePostmark, Reply, TOKEN};
use common::TestServer;
use datatools_license::license::{self, TrustedKeys};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn setup() -> (TestServer, FakePostmark) {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;
    (server, postmark)
}

fn event_id(body: &Value) -> i64 {
    body["event"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

async fn license(server: &TestServer, key: &str) -> Value {
    server
        .admin(Method::GET, &format!("/internal/licenses/{key}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn verify(server: &TestServer, blob: &str) -> license::License {
    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    license::verify(blob, &trusted, Utc::now()).unwrap()
}

#[tokio::test]
async fn a_sale_as_gumroad_encodes_it_mints_once_and_emails_the_blob() {
    let (server, postmark) = setup().await;
    let form = sale("FO8TXN-dbxYaBdahG97Y-Q==", "buyer+dt@example.com");
    let body = form.encode();
    // The wire format really is Gumroad's: %20, pre-escaped brackets in names, variants[].
    assert!(
        body.contains("full_name=Jos%C3%A9%20%C3%91u%C3%B1ez"),
        "{body}"
    );
    assert!(body.contains("card%5Bvisual%5D=%2A%2A%2A%2A%20"), "{body}");
    assert!(
        body.contains("custom_fields%5BSeat%20%255Bprimary%255D%5D=a%3Db%26c"),
        "{body}"
    );
    assert!(body.contains("variants%5B%5D=Blue"), "{body}");

    let (status, elapsed, answer) = server.deliver(&form).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        elapsed < Duration::from_secs(1),
        "acknowledged in {elapsed:?}"
    );
    let event = server.settled_event(event_id(&answer)).await;
    assert_eq!(event["status"], "done", "{event:#}");
    assert_eq!(event["product_id"], PRODUCT_ID);
    assert_eq!(event["product_name"], PRODUCT_NAME);
    assert_eq!(event["email"], "buyer+dt@example.com");
    assert_eq!(event["test"], false);
    assert_eq!(event["email_status"], "sent");
    assert_eq!(event["email_message_id"], "msg-0001");
    // Custom fields come from custom_fields[...], names decoded exactly once.
    let custom = &event["fields"]["nested"]["custom_fields"];
    assert_eq!(custom[2], json!(["Seat [primary]", "a=b&c"]), "{custom}");
    assert_eq!(custom[0], json!(["Company name", "Ünïcode & Co."]));
    assert_eq!(event["fields"]["fields"]["quantity"], "3");

    let key = event["license_key"].as_str().unwrap();
    let record = license(&server, key).await;
    assert_eq!(record["source"], "gumroad");
    assert_eq!(record["source_ref"], "gumroad:FO8TXN-dbxYaBdahG97Y-Q==");
    assert_eq!(record["tier"], "core");
    assert_eq!(record["name"], "José Ñuñez-Łukasz 数据");
    let decoded = verify(&server, record["blob"].as_str().unwrap());
    assert_eq!(decoded.email, "buyer+dt@example.com");
    let year = decoded.expires_at().unwrap() - decoded.issued_at;
    assert!((365..=366).contains(&year.num_days()));
    // One license per sale whatever the quantity.
    assert_eq!(server.count("select count(*) from licenses").await, 1);

    let sent = postmark.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(postmark.tokens(), vec![TOKEN.to_string()]);
    let mail = &sent[0];
    assert_eq!(mail["From"], "licenses@datatools.unalogix.com");
    assert_eq!(mail["To"], "buyer+dt@example.com");
    assert_eq!(mail["Subject"], "Your DataTools license");
    let text = mail["TextBody"].as_str().unwrap();
    assert!(text.contains(record["blob"].as_str().unwrap()), "{text}");
    assert!(text.contains("To install it"), "{text}");
    assert!(text.contains(PRODUCT_NAME), "{text}");
    assert_eq!(mail["Attachments"][0]["Name"], "datatools-license.txt");
    server.stop().await;
}

#[tokio::test]
async fn a_variant_entry_refines_the_product_and_json_is_accepted() {
    let (server, _postmark) = setup().await;
    let payload = json!({
        "sale_id": "JSON-1==", "product_id": PRODUCT_ID, "product_name": "DataTools",
        "email": "json@example.com", "resource_name": "sale",
        "variants": {"": "Lifetime ✓"}, "card": {"visual": "buyer@paypal.example", "type": "paypal"}
    });
    let (status, _, answer) = server
        .deliver_raw(
            &server.webhook_url(WEBHOOK_SECRET),
            "application/json",
            payload.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let event = server.settled_event(event_id(&answer)).await;
    assert_eq!(event["status"], "done", "{event:#}");
    let record = license(&server, event["license_key"].as_str().unwrap()).await;
    assert_eq!(record["tier"], "lifetime");
    assert_eq!(record["expires_at"], Value::Null);

    // `+` for a space is accepted too, and a missing resource_name means a sale.
    let body = "sale_id=PLUS-1%3D%3D&product_id=FO8TXN-dbxYaBdahG97Y-Q%3D%3D&email=plus%40example.com&full_name=Ann+Lee";
    let (_, _, answer) = server
        .deliver_raw(
            &server.webhook_url(WEBHOOK_SECRET),
            "application/x-www-form-urlencoded",
            String::from(body),
        )
        .await;
    let event = server.settled_event(event_id(&answer)).await;
    assert_eq!(event["status"], "done", "{event:#}");
    assert_eq!(event["resource_name"], "sale");
    let record = license(&server, event["license_key"].as_str().unwrap()).await;
    assert_eq!(record["name"], "Ann Lee");
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_or_missing_secret_is_404_and_stores_nothing() {
    let (server, postmark) = setup().await;
    let body = sale("S-404", "b@example.com").encode();
    for url in [
        server.webhook_url("wrong-secret-0123456789abcdef012345"),
        server.webhook_url(&WEBHOOK_SECRET[..WEBHOOK_SECRET.len() - 1]),
        server.url("/webhooks/gumroad"),
        server.url("/webhooks/gumroad?secret="),
    ] {
        let (status, _, _) = server
            .deliver_raw(&url, "application/x-www-form-urlencoded", body.clone())
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}");
    }
    assert_eq!(server.count("select count(*) from gumroad_events").await, 0);
    assert!(postmark.requests().is_empty());
    server.stop().await;

    // No secret configured: the route does not exist, even with a "secret".
    let server = TestServer::start().await;
    let (status, _, _) = server
        .deliver_raw(
            &server.webhook_url(WEBHOOK_SECRET),
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(server.count("select count(*) from gumroad_events").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_test_ping_is_processed_visibly_but_mints_and_emails_nothing() {
    let (server, postmark) = setup().await;
    // "Send test ping" replays the latest real sale with test=true.
    let real = sale("REAL-1==", "real-buyer@example.com");
    let (_, _, answer) = server.deliver(&real.clone().field("test", "true")).await;
    let ping = server.settled_event(event_id(&answer)).await;
    assert_eq!(ping["status"], "done", "{ping:#}");
    assert_eq!(ping["test"], true);
    assert_eq!(ping["email_status"], "skipped");
    assert_eq!(ping["license_key"], Value::Null);
    let outcome = ping["outcome"].as_str().unwrap();
    assert!(
        outcome.starts_with("test ping: would mint a core license (1 year)"),
        "{outcome}"
    );
    assert_eq!(server.count("select count(*) from licenses").await, 0);
    assert!(
        postmark.requests().is_empty(),
        "the real buyer is never emailed"
    );

    // A second test ping is processed again, and the real sale is not taken for a duplicate.
    let (_, _, answer) = server.deliver(&real.clone().field("test", "true")).await;
    assert_eq!(
        server.settled_event(event_id(&answer)).await["status"],
        "done"
    );
    let (_, _, answer) = server.deliver(&real).await;
    let event = server.settled_event(event_id(&answer)).await;
    assert_eq!(event["status"], "done", "{event:#}");
    assert_eq!(event["duplicate_of"], Value::Null);
    assert_eq!(server.count("select count(*) from licenses").await, 1);
    assert_eq!(postmark.requests().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn retries_are_recorded_but_mint_and_email_once() {
    let (server, postmark) = setup().await;
    let form = sale("RETRY-1==", "retry@example.com");
    let (_, _, first) = server.deliver(&form).await;
    let first = event_id(&first);
    server.settled_event(first).await;
    for retry in 1..=3 {
        let (status, _, answer) = server
            .deliver(&form.clone().field("retry_count", &retry.to_string()))
            .await;
        assert_eq!(status, StatusCode::OK);
        let event = server.event(event_id(&answer)).await;
        assert_eq!(event["status"], "duplicate");
        assert_eq!(event["duplicate_of"], first);
        assert_eq!(event["retry_count"], retry);
    }
    let original = server.event(first).await;
    assert_eq!(original["duplicates"].as_array().unwrap().len(), 3);
    assert_eq!(server.count("select count(*) from gumroad_events").await, 4);
    assert_eq!(server.count("select count(*) from licenses").await, 1);
    assert_eq!(postmark.requests().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn twenty_identical_deliveries_at_once_on_two_instances_give_one_license_and_one_email() {
    let (server, postmark) = setup().await;
    // A second instance on the same database, with its own workers.
    let other = {
        let mut env = common::Env::new(&server.cluster.url("datatools"));
        gumroad::configure(&mut env, &postmark.url);
        let state = datatools_license::state::AppState::new(env.config().unwrap()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(datatools_license::server::serve(
            listener,
            state,
            std::future::pending(),
        ));
        (addr, env)
    };
    let body = sale("TWENTY-1==", "twenty@example.com").encode();
    let urls = [
        server.webhook_url(WEBHOOK_SECRET),
        format!(
            "http://{}/webhooks/gumroad?secret={}",
            other.0,
            gumroad::url_encode(WEBHOOK_SECRET)
        ),
    ];
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = server.client.clone();
            let url = urls[i % 2].clone();
            let body = body.clone();
            tokio::spawn(async move {
                client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        server.count("select count(*) from gumroad_events").await,
        20
    );
    let primary: i64 = server
        .count("select id from gumroad_events where duplicate_of is null")
        .await;
    let event = server.settled_event(primary).await;
    assert_eq!(event["status"], "done", "{event:#}");
    assert_eq!(event["duplicates"].as_array().unwrap().len(), 19);
    // Let both instances' workers look again: nothing more happens.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.count("select count(*) from licenses").await, 1);
    assert_eq!(postmark.requests().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn refunds_and_disputes_revoke_and_a_won_dispute_reinstates() {
    let (server, _postmark) = setup().await;
    let (_, _, a) = server.deliver(&sale("DISPUTE-1==", "d@example.com")).await;
    let key = server.settled_event(event_id(&a)).await["license_key"]
        .as_str()
        .unwrap()
        .to_string();

    let (_, _, d) = server
        .deliver(&reversal("DISPUTE-1==", "d@example.com", "dispute"))
        .await;
    let dispute = server.settled_event(event_id(&d)).await;
    assert_eq!(dispute["status"], "done", "{dispute:#}");
    assert_eq!(dispute["license_key"], key.as_str());
    let record = license(&server, &key).await;
    assert_eq!(record["revoke_reason"], "gumroad dispute");

    let (_, _, w) = server
        .deliver(&reversal("DISPUTE-1==", "d@example.com", "dispute_won"))
        .await;
    let won = server.settled_event(event_id(&w)).await;
    assert!(
        won["outcome"].as_str().unwrap().contains("reinstated"),
        "{won:#}"
    );
    assert_eq!(license(&server, &key).await["revoked_at"], Value::Null);

    // A refund revokes for good: a later dispute_won does not lift it.
    let (_, _, r) = server
        .deliver(&reversal("DISPUTE-1==", "d@example.com", "refund"))
        .await;
    assert_eq!(server.settled_event(event_id(&r)).await["status"], "done");
    assert_eq!(
        license(&server, &key).await["revoke_reason"],
        "gumroad refund"
    );
    let (_, _, w2) = server
        .deliver(&reversal("DISPUTE-1==", "d@example.com", "dispute_won").field("retry_count", "1"))
        .await;
    // (the same dispute_won again is a duplicate; replay it to run it again)
    let w2 = event_id(&w2);
    assert_eq!(server.event(w2).await["status"], "duplicate");
    let replayed: Value = server
        .admin(Method::POST, &format!("/internal/events/{w2}/replay"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        replayed["outcome"]
            .as_str()
            .unwrap()
            .contains("left as it is"),
        "{replayed:#}"
    );
    assert_eq!(
        license(&server, &key).await["revoke_reason"],
        "gumroad refund"
    );
    assert_eq!(server.count("select count(*) from licenses").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_refund_before_the_sale_is_processed_means_no_license() {
    let (server, postmark) = setup().await;
    let (_, _, r) = server
        .deliver(&reversal("EARLY-1==", "e@example.com", "refund"))
        .await;
    let refund = server.settled_event(event_id(&r)).await;
    assert!(
        refund["outcome"]
            .as_str()
            .unwrap()
            .contains("nothing to revoke"),
        "{refund:#}"
    );
    let (_, _, s) = server.deliver(&sale("EARLY-1==", "e@example.com")).await;
    let event = server.settled_event(event_id(&s)).await;
    assert_eq!(event["status"], "ignored", "{event:#}");
    assert_eq!(server.count("select count(*) from licenses").await, 0);
    assert!(postmark.requests().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_membership_renewal_extends_the_same_license() {
    let (server, postmark) = setup().await;
    let first = sale("SUB-SALE-1==", "member@example.com")
        .field("subscription_id", "SUB-1==")
        .field("recurrence", "yearly");
    let (_, _, a) = server.deliver(&first).await;
    let event = server.settled_event(event_id(&a)).await;
    let key = event["license_key"].as_str().unwrap().to_string();
    let before = license(&server, &key).await;
    let before_exp: DateTime<Utc> = before["expires_at"].as_str().unwrap().parse().unwrap();

    let renewal = sale("SUB-SALE-2==", "member@example.com")
        .field("subscription_id", "SUB-1==")
        .field("recurrence", "yearly")
        .field("is_recurring_charge", "true");
    let (_, _, b) = server.deliver(&renewal).await;
    let renewed_event = server.settled_event(event_id(&b)).await;
    assert_eq!(renewed_event["status"], "done", "{renewed_event:#}");
    assert_eq!(renewed_event["license_key"], key.as_str());
    assert!(renewed_event["outcome"]
        .as_str()
        .unwrap()
        .starts_with("renewal: extended"));
    let after = license(&server, &key).await;
    let after_exp: DateTime<Utc> = after["expires_at"].as_str().unwrap().parse().unwrap();
    let gained = after_exp - before_exp;
    assert!((365..=366).contains(&gained.num_days()), "{gained:?}");
    assert_ne!(after["blob"], before["blob"], "a re-signed blob");
    let decoded = verify(&server, after["blob"].as_str().unwrap());
    assert_eq!(decoded.expires_at(), Some(after_exp));
    assert_eq!(decoded.license_key.as_str(), key);
    assert_eq!(server.count("select count(*) from licenses").await, 1);

    // Replaying the renewal does not extend twice, nor email again.
    let replayed: Value = server
        .admin(
            Method::POST,
            &format!("/internal/events/{}/replay", event_id(&b)),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["status"], "done");
    assert_eq!(
        license(&server, &key).await["expires_at"],
        after["expires_at"]
    );
    let mails = postmark.requests();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1]["Subject"], "Your renewed DataTools license");
    assert!(mails[1]["TextBody"]
        .as_str()
        .unwrap()
        .contains(after["blob"].as_str().unwrap()));
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_product_fails_visibly_and_replays_after_products_toml_has_it() {
    let (server, postmark) = setup().await;
    let form = sale("UNKNOWN-1==", "u@example.com")
        .field("product_id", "NEW-PRODUCT==")
        .field("product_name", "DataTools Pro & Friends");
    let (status, _, a) = server.deliver(&form).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "never a 4xx for an authenticated delivery"
    );
    let id = event_id(&a);
    let event = server.settled_event(id).await;
    assert_eq!(event["status"], "failed");
    let error = event["last_error"].as_str().unwrap();
    assert!(error.contains("\"NEW-PRODUCT==\""), "{error}");
    assert!(error.contains("DataTools Pro & Friends"), "{error}");
    assert!(error.contains(&format!("dtops replay {id}")), "{error}");

    let failed: Vec<Value> = server
        .admin(Method::GET, "/internal/events?failed=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["id"], id);
    assert!(failed[0].get("raw_body").is_none());

    // The operator adds the product and restarts the api; then replays.
    let (cluster, mut env) = server.stop_keeping_database().await;
    let products = env.path("products.toml");
    let catalogue = format!(
        "{}\n[[products]]\ngumroad_product_id = \"NEW-PRODUCT==\"\ntier = \"core\"\n",
        gumroad::CATALOGUE
    );
    std::fs::write(&products, catalogue).unwrap();
    env.set("DATATOOLS_PRODUCTS_FILE", products.to_str().unwrap());
    let server = TestServer::serve(cluster, env, true).await;
    let replayed: Value = server
        .admin(Method::POST, &format!("/internal/events/{id}/replay"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["status"], "done", "{replayed:#}");
    assert_eq!(replayed["last_error"], Value::Null);
    assert_eq!(server.count("select count(*) from licenses").await, 1);
    assert_eq!(postmark.requests().len(), 1);
    server.stop().await;
}

async fn sale_with_postmark_reply(reply: Reply) -> (TestServer, FakePostmark, Value) {
    let (server, postmark) = setup().await;
    postmark.script([reply]);
    let (status, elapsed, a) = server
        .deliver(&sale("MAIL-1==", "inactive@example.com"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    let event = server.settled_event(event_id(&a)).await;
    assert!(
        event["license_key"].is_string(),
        "the license is kept: {event:#}"
    );
    (server, postmark, event)
}

#[tokio::test]
async fn permanent_postmark_errors_fail_the_event_keep_the_license_and_resend_fixes_it() {
    for (code, message) in [
        (
            406,
            "You tried to send to a recipient that has been marked as inactive.",
        ),
        (300, "Invalid 'To' address: 'inactive@example.com'."),
    ] {
        let (server, postmark, event) =
            sale_with_postmark_reply(Reply::error(422, code, message)).await;
        assert_eq!(event["status"], "failed", "{event:#}");
        assert_eq!(event["email_status"], "failed");
        let email_error = event["email_error"].as_str().unwrap();
        assert!(email_error.starts_with("permanent: "), "{email_error}");
        assert!(email_error.contains(message), "{email_error}");
        assert!(event["last_error"]
            .as_str()
            .unwrap()
            .contains("dtops resend"));

        // Re-send to a corrected address.
        let key = event["license_key"].as_str().unwrap();
        let response = server
            .admin(Method::POST, &format!("/internal/licenses/{key}/resend"))
            .json(&json!({"to": "corrected@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let sent: Value = response.json().await.unwrap();
        assert_eq!(sent["to"], "corrected@example.com");
        assert_eq!(sent["event"], event["id"]);
        let mails = postmark.requests();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[1]["To"], "corrected@example.com");
        assert_eq!(mails[1]["Subject"], "Your DataTools license (sent again)");
        let after = server.event(event["id"].as_i64().unwrap()).await;
        assert_eq!(after["email_status"], "sent");
        assert_eq!(after["email_to"], "corrected@example.com");
        assert_eq!(server.count("select count(*) from licenses").await, 1);
        server.stop().await;
    }
}

#[tokio::test]
async fn retryable_and_configuration_errors_keep_the_event_queued_and_replay_finishes_it() {
    for (reply, class) in [
        (Reply::error(429, 0, "Rate limit exceeded"), "retryable"),
        (Reply::error(500, 0, "Internal server error"), "retryable"),
        (
            Reply::error(401, 10, "Bad or missing Server API token."),
            "configuration",
        ),
    ] {
        let (server, postmark, event) = sale_with_postmark_reply(reply.clone()).await;
        assert_eq!(event["status"], "retrying", "{event:#}");
        assert_eq!(event["email_status"], "retrying");
        let error = event["last_error"].as_str().unwrap();
        assert!(
            error.contains(reply.body["Message"].as_str().unwrap()),
            "{error}"
        );
        assert!(event["email_error"].as_str().unwrap().starts_with(class));
        let next: DateTime<Utc> = event["next_attempt_at"].as_str().unwrap().parse().unwrap();
        assert!(
            next > Utc::now() + chrono::Duration::seconds(20),
            "backs off: {next}"
        );

        // Listed as needing attention, and a replay (provider fine again) finishes it.
        let failed: Vec<Value> = server
            .admin(Method::GET, "/internal/events?failed=true")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(failed.len(), 1);
        let id = event["id"].as_i64().unwrap();
        let replayed: Value = server
            .admin(Method::POST, &format!("/internal/events/{id}/replay"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(replayed["status"], "done", "{replayed:#}");
        assert_eq!(replayed["email_status"], "sent");
        assert_eq!(replayed["license_key"], event["license_key"]);
        assert_eq!(postmark.requests().len(), 2);
        assert_eq!(server.count("select count(*) from licenses").await, 1);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_postmark_slower_than_gumroads_timeout_does_not_delay_the_acknowledgement() {
    let (server, postmark) = setup().await;
    postmark.script([Reply::slow_ok(Duration::from_secs(6))]);
    let (status, elapsed, a) = server.deliver(&sale("SLOW-1==", "slow@example.com")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        elapsed < Duration::from_secs(1),
        "acknowledged in {elapsed:?}"
    );
    // Another delivery while the first email is still in flight is acknowledged at once too.
    let (status, elapsed, _) = server.deliver(&sale("SLOW-2==", "slow2@example.com")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        elapsed < Duration::from_secs(1),
        "acknowledged in {elapsed:?}"
    );
    let event = server.settled_event(event_id(&a)).await;
    assert_eq!(event["status"], "done", "{event:#}");
    assert_eq!(event["email_status"], "sent");
    server.stop().await;
}

#[tokio::test]
async fn a_delivery_acknowledged_before_a_crash_is_processed_after_the_restart() {
    let postmark = FakePostmark::start().await;
    let cluster = common::cluster();
    cluster.create_database("datatools").await.unwrap();
    let mut env = common::Env::new(&cluster.url("datatools"));
    gumroad::configure(&mut env, &postmark.url);
    // Serving HTTP only: the delivery is stored and acknowledged, then the server goes away
    // before any worker touched it.
    let server = TestServer::serve(cluster, env, false).await;
    let (status, _, a) = server
        .deliver(&sale("CRASH-1==", "crash@example.com"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = event_id(&a);
    assert_eq!(server.event(id).await["status"], "received");
    let (cluster, env) = server.stop_keeping_database().await;

    let server = TestServer::serve(cluster, env, true).await;
    let event = server.settled_event(id).await;
    assert_eq!(event["status"], "done", "{event:#}");
    assert_eq!(server.count("select count(*) from licenses").await, 1);
    assert_eq!(postmark.requests().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn admin_lists_filter_by_email_and_sale_and_undecodable_bodies_are_kept() {
    let (server, _postmark) = setup().await;
    for (sale_id, email) in [("L-1==", "a@example.com"), ("L-2==", "B@Example.com")] {
        let (_, _, a) = server.deliver(&sale(sale_id, email)).await;
        server.settled_event(event_id(&a)).await;
    }
    let (status, _, bad) = server
        .deliver_raw(
            &server.webhook_url(WEBHOOK_SECRET),
            "application/json",
            String::from("{not json"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "kept and visible, never a 4xx");
    let bad = server.event(event_id(&bad)).await;
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["raw_body"], "{not json");

    let list = |query: &'static str| {
        let request = server.admin(Method::GET, &format!("/internal/events{query}"));
        async move {
            let rows: Vec<Value> = request.send().await.unwrap().json().await.unwrap();
            rows
        }
    };
    assert_eq!(list("").await.len(), 3);
    assert_eq!(list("?email=b%40example.com").await.len(), 1);
    assert_eq!(list("?sale=L-1%3D%3D").await[0]["sale_id"], "L-1==");
    assert_eq!(list("?failed=true").await.len(), 1);
    let response = server
        .admin(Method::GET, "/internal/events/999999")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Through the public proxy the events API does not exist.
    let response = server
        .admin(Method::GET, "/internal/events")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn another_sellers_delivery_is_ignored_when_the_seller_is_configured() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| {
        gumroad::configure(env, &url);
        env.set("DATATOOLS_GUMROAD_SELLER_ID", "someone-else==");
    })
    .await;
    let (_, _, a) = server.deliver(&sale("SELLER-1==", "s@example.com")).await;
    let event = server.settled_event(event_id(&a)).await;
    assert_eq!(event["status"], "ignored", "{event:#}");
    assert_eq!(server.count("select count(*) from licenses").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_authenticated_body_is_recorded_as_failed_not_refused() {
    let (server, _postmark) = setup().await;
    let body = format!("sale_id=BIG-1&padding={}", "x".repeat(2 * 1024 * 1024));
    let (status, _, answer) = server
        .deliver_raw(
            &server.webhook_url(WEBHOOK_SECRET),
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "never a 4xx once authenticated");
    let event = server.event(event_id(&answer)).await;
    assert_eq!(event["status"], "failed");
    assert!(
        event["last_error"]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{event:#}"
    );
    assert_eq!(event["raw_body"], "");
    // Without the secret the same body is just a 404.
    let (status, _, _) = server
        .deliver_raw(
            &server.url("/webhooks/gumroad"),
            "application/x-www-form-urlencoded",
            "x".repeat(2 * 1024 * 1024),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn a_sale_processed_after_its_refund_was_stored_ends_revoked_without_email() {
    let (server, postmark) = setup().await;
    let (_, _, a) = server.deliver(&sale("RACE-1==", "race@example.com")).await;
    let sale_event = event_id(&a);
    let key = server.settled_event(sale_event).await["license_key"]
        .as_str()
        .unwrap()
        .to_string();
    // The refund is stored but not yet processed (a server without workers)...
    let (cluster, env) = server.stop_keeping_database().await;
    let server = TestServer::serve(cluster, env, false).await;
    server
        .deliver(&reversal("RACE-1==", "race@example.com", "refund"))
        .await;
    // ...when the sale is processed again: the license is revoked and nothing is sent.
    let replayed: Value = server
        .admin(
            Method::POST,
            &format!("/internal/events/{sale_event}/replay"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["status"], "ignored", "{replayed:#}");
    assert_eq!(
        license(&server, &key).await["revoke_reason"],
        "gumroad refund"
    );
    assert_eq!(postmark.requests().len(), 1, "only the first email");
    server.stop().await;
}
