//! Several server processes on one database, as a blue/green switch runs two for a moment and
//! several boxes on one managed Postgres run more: every background loop stays exactly-once.
//! Three `datatools-license` processes (the real binary) share one Postgres and one Postmark:
//! - Gumroad deliveries, each sent to all three at once (Gumroad's retries racing), with one
//!   process stopped by SIGTERM midway and a new one started (a switch): one license and one
//!   email per sale;
//! - sign-in links asked through different processes: one mail per request;
//! - the alert sentinels of all three: one mail per problem;
//! - a key rotation's re-issue, asked of two processes at once: one job, each license re-signed
//!   once, each buyer mailed once;
//! - a Gumroad sync asked of two processes at once: one sync; a late Ping and a second sync
//!   store nothing twice.

mod common;

use std::time::Duration;

use common::fleet::Fleet;
use common::gumroad::{sale, url_encode, Form, WEBHOOK_SECRET};
use common::gumroad_api::{self, FakeGumroadApi, ACCESS_TOKEN};
use common::portal::{Browser, PUBLIC_URL};
use common::reissue::{finished, key_change, reissue_request};
use common::{mint_body, ADMIN_TOKEN};
use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_secs(60);
const UNSETTLED: &str =
    "select count(*) from gumroad_events where status in ('received', 'processing', 'retrying')";

async fn deliver(base: &str, form: &Form) -> u16 {
    reqwest::Client::new()
        .post(format!(
            "{base}/webhooks/gumroad?secret={}",
            url_encode(WEBHOOK_SECRET)
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.encode())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Delivers each sale to every base at the same moment; every delivery must be acknowledged.
async fn deliver_everywhere(bases: &[String], sales: std::ops::Range<usize>) {
    let mut sends = Vec::new();
    for n in sales {
        for base in bases {
            let (base, form) = (base.clone(), buyer_sale(n));
            sends.push(tokio::spawn(async move { deliver(&base, &form).await }));
        }
    }
    for send in sends {
        assert_eq!(send.await.unwrap(), 200);
    }
}

fn buyer_sale(n: usize) -> Form {
    sale(&format!("FLEET-{n:02}=="), &buyer(n))
}

fn buyer(n: usize) -> String {
    format!("buyer{n:02}@example.com")
}

async fn admin_post(base: &str, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn mint(base: &str, email: &str) {
    let mut body = mint_body();
    body["email"] = email.into();
    let response = admin_post(base, "/internal/mint", &body).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sales_through_three_processes_and_a_switch_make_one_license_and_one_email_each() {
    // A slow mail provider keeps workers busy while a process is stopped under them.
    let mut fleet = Fleet::start(3, Duration::from_millis(150), |_, _| {}).await;
    let bases: Vec<String> = fleet.servers.iter().map(|s| s.base.clone()).collect();
    deliver_everywhere(&bases, 0..20).await;

    // The switch: the old process is told to stop while its workers hold deliveries, a new one
    // takes its place.
    fleet.servers[0].terminate();
    let new = fleet.add().await.base.clone();
    let (status, _) = fleet.servers[0].wait_exit(Duration::from_secs(25)).await;
    assert!(status.success(), "{status}\n{}", fleet.logs());
    deliver_everywhere(&[bases[1].clone(), bases[2].clone(), new], 20..40).await;

    fleet.until_none(UNSETTLED, SETTLE).await;
    let want: Vec<String> = (0..40).map(buyer).collect();
    assert_eq!(fleet.mailed("license"), want, "{}", fleet.logs());
    assert_eq!(fleet.count("select count(*) from licenses").await, 40);
    assert_eq!(
        fleet
            .count("select count(distinct source_ref) from licenses")
            .await,
        40
    );
    assert_eq!(
        fleet
            .count(
                "select count(*) from gumroad_events where duplicate_of is null \
                 and status = 'done' and email_status = 'sent'"
            )
            .await,
        40
    );
    assert_eq!(
        fleet
            .count("select count(*) from gumroad_events where status = 'duplicate'")
            .await,
        80
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_links_asked_through_three_processes_are_mailed_once_each() {
    let fleet = Fleet::start(3, Duration::from_millis(50), |env, _| {
        env.set("DATATOOLS_PORTAL", "on")
            .set("DATATOOLS_PUBLIC_URL", PUBLIC_URL);
    })
    .await;
    let people: Vec<String> = (0..12).map(buyer).collect();
    for email in &people {
        mint(&fleet.servers[0].base, email).await;
    }
    let mut asks = Vec::new();
    for (n, email) in people.iter().enumerate() {
        let (base, email) = (fleet.servers[n % 3].base.clone(), email.clone());
        asks.push(tokio::spawn(async move {
            Browser::at(&base).request_link(&email).await.status
        }));
    }
    for ask in asks {
        assert_eq!(ask.await.unwrap(), 303);
    }
    fleet
        .until_none(
            "select count(*) from portal_link_requests where status in ('queued', 'processing')",
            SETTLE,
        )
        .await;
    assert_eq!(fleet.mailed("portal-sign-in"), people, "{}", fleet.logs());
    assert_eq!(
        fleet
            .count("select count(*) from portal_link_requests where status = 'sent'")
            .await,
        12
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_sentinels_mail_each_problem_once() {
    let fleet = Fleet::start(3, Duration::ZERO, |env, _| {
        env.set("DATATOOLS_ALERT_EMAIL", "ops@example.com")
            .set("DATATOOLS_ALERT_CHECK_SECONDS", "1");
    })
    .await;
    let unknown = |id: &str, product: &str| {
        sale(id, "someone@example.com")
            .field("product_id", product)
            .field("product_name", "Not in products.toml")
    };
    assert_eq!(
        deliver(&fleet.servers[0].base, &unknown("U1==", "UnKnOwN-1==")).await,
        200
    );
    // Several passes of each sentinel.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        fleet.mailed("alert"),
        ["ops@example.com"],
        "{}",
        fleet.logs()
    );
    // A second problem later: one more mail, the first one not mailed again.
    assert_eq!(
        deliver(&fleet.servers[1].base, &unknown("U2==", "UnKnOwN-2==")).await,
        200
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        fleet.mailed("alert"),
        ["ops@example.com", "ops@example.com"],
        "{}",
        fleet.logs()
    );
    assert_eq!(
        fleet
            .count("select count(*) from alerts where resolved_at is null")
            .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reissue_asked_of_two_processes_resigns_and_mails_each_license_once() {
    let mut fleet = Fleet::start(1, Duration::from_millis(20), |_, _| {}).await;
    for n in 0..30 {
        mint(&fleet.servers[0].base, &buyer(n)).await;
    }
    // The rotation: every process restarts with the new key, the old one still trusted.
    fleet.servers[0].terminate();
    fleet.servers[0].wait_exit(Duration::from_secs(25)).await;
    fleet.servers.clear();
    key_change(&mut fleet.env);
    for _ in 0..3 {
        fleet.add().await;
    }
    let (a, b) = (fleet.servers[0].base.clone(), fleet.servers[1].base.clone());
    let (first, second) = tokio::join!(
        reissue_request(&a, Some(true)),
        reissue_request(&b, Some(true))
    );
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let (first, second): (Value, Value) =
        (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first["id"], second["id"], "two jobs: {first} {second}");
    let job = finished(&b, &first["id"], SETTLE).await;
    assert_eq!(
        (&job["state"], &job["resigned"], &job["emailed"]),
        (&json!("done"), &json!(30), &json!(30)),
        "{job:#}"
    );
    assert_eq!(
        fleet.count("select count(*) from license_reissues").await,
        30
    );
    assert_eq!(
        fleet
            .count("select count(distinct license_key) from license_reissues")
            .await,
        30
    );
    let want: Vec<String> = (0..30).map(buyer).collect();
    assert_eq!(fleet.mailed("license"), want, "{}", fleet.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sync_asked_of_two_processes_runs_once_and_nothing_is_stored_twice() {
    let sales: Vec<Value> = (0..10)
        .map(|n| {
            gumroad_api::sale(
                &format!("FLEET-{n:02}=="),
                &buyer(n),
                "2026-11-29",
                &format!("1{n}:00"),
            )
        })
        .collect();
    let api = FakeGumroadApi::start(sales).await;
    let fleet = Fleet::start(3, Duration::ZERO, |env, _| {
        let file = env.path("gumroad_api_token");
        std::fs::write(&file, ACCESS_TOKEN).unwrap();
        env.set("GUMROAD_ACCESS_TOKEN_FILE", file.to_str().unwrap())
            .set("GUMROAD_API_URL", &api.url);
    })
    .await;
    let since = json!({ "since": "2026-11-28" });
    let (a, b) = (fleet.servers[0].base.clone(), fleet.servers[1].base.clone());
    let (first, second) = tokio::join!(
        admin_post(&a, "/internal/gumroad/sync", &since),
        admin_post(&b, "/internal/gumroad/sync", &since)
    );
    let mut started = Vec::new();
    for response in [first, second] {
        match response.status().as_u16() {
            200 => started.push(response.json::<Value>().await.unwrap()["id"].clone()),
            // The other one is running: the caller is told to follow it.
            409 => {}
            other => panic!("sync answered {other}"),
        }
    }
    assert!(!started.is_empty());
    fleet
        .until_none(
            "select count(*) from gumroad_syncs where state = 'running'",
            SETTLE,
        )
        .await;
    assert_eq!(
        fleet.count("select count(*) from gumroad_syncs").await,
        started.len() as i64
    );
    // A Ping arriving late at a third process, then a sync by another: nothing new to process.
    assert_eq!(deliver(&fleet.servers[2].base, &buyer_sale(3)).await, 200);
    let again = admin_post(&b, "/internal/gumroad/sync", &since).await;
    assert_eq!(again.status(), 200);
    fleet
        .until_none(
            "select count(*) from gumroad_syncs where state = 'running'",
            SETTLE,
        )
        .await;
    fleet.until_none(UNSETTLED, SETTLE).await;
    assert_eq!(
        fleet
            .count("select count(*) from gumroad_events where duplicate_of is null")
            .await,
        10
    );
    assert_eq!(fleet.count("select count(*) from licenses").await, 10);
    let want: Vec<String> = (0..10).map(buyer).collect();
    assert_eq!(fleet.mailed("license"), want, "{}", fleet.logs());
}
