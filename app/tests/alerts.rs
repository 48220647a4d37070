//! Alerts as the operator meets them: the email arriving at the local server playing Postmark,
//! once per problem, a digest when several; `GET /internal/alerts`; resolving and
//! acknowledging. Real Postgres, the real server, its sentinel checking every second. Time is
//! simulated by moving timestamps back in the database.

mod common;

use std::time::Duration;

use common::alerts::*;
use common::gumroad::{self, sale};
use common::postmark::{FakePostmark, Reply};
use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn an_unknown_product_sale_is_mailed_once_whatever_the_retries_and_replays() {
    let (server, postmark) = setup().await;
    let form = sale("UNKNOWN-7==", "buyer@example.com")
        .field("product_id", "NEW-PRODUCT==")
        .field("product_name", "DataTools Pro");
    let (status, _, a) = server.deliver(&form).await;
    assert_eq!(status, StatusCode::OK);
    let id = event_id(&a);
    assert_eq!(server.settled_event(id).await["status"], "failed");

    let mails = wait_for_alert_mails(&postmark, 1).await;
    let mail = &mails[0];
    assert_eq!(mail["To"], OPS);
    assert_eq!(mail["From"], "licenses@datatools.unalogix.com");
    let subject = mail["Subject"].as_str().unwrap();
    // Short enough for every mail program (78 characters); the body has the detail.
    assert_eq!(
        subject,
        "DataTools alert: unknown Gumroad product NEW-PRODUCT=="
    );
    let body = mail["TextBody"].as_str().unwrap();
    assert!(body.contains("\"NEW-PRODUCT==\" (DataTools Pro)"), "{body}");
    assert!(body.contains("no license was minted"), "{body}");
    assert!(body.contains(&format!("`dtops replay {id}`")), "{body}");
    assert!(body.contains(&format!("`dtops event {id}`")), "{body}");

    // Gumroad retries the delivery, the operator replays it (before fixing anything), and a
    // second buyer buys the same product: still that one problem, mailed once.
    for retry in 1..=3 {
        let (status, _, _) = server
            .deliver(&form.clone().field("retry_count", &retry.to_string()))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    for _ in 0..3 {
        let replayed: Value = server
            .admin(Method::POST, &format!("/internal/events/{id}/replay"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(replayed["status"], "failed");
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let (_, _, b) = server
        .deliver(
            &sale("UNKNOWN-8==", "second@example.com")
                .field("product_id", "NEW-PRODUCT==")
                .field("product_name", "DataTools Pro"),
        )
        .await;
    server.settled_event(event_id(&b)).await;
    passes().await;
    assert_eq!(alert_mails(&postmark).len(), 1, "one email for one problem");
    let list = open_alerts(&server).await;
    let open = list["open"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{list:#}");
    assert_eq!(open[0]["key"], "unknown_product:NEW-PRODUCT==");
    assert!(
        open[0]["summary"].as_str().unwrap().starts_with("2 sales"),
        "the open problem stays current: {list:#}"
    );
    assert!(open[0]["notified_at"].is_string());
    assert_eq!(list["email"], OPS);
    assert!(list["checked_at"].is_string());

    // The fix: the product in products.toml, the api restarted, both replayed. The problem
    // closes by itself and nothing more is mailed (no license email went to the operator).
    let (cluster, mut env) = server.stop_keeping_database().await;
    let products = env.path("products.toml");
    let catalogue = format!(
        "{}\n[[products]]\ngumroad_product_id = \"NEW-PRODUCT==\"\ntier = \"core\"\n",
        gumroad::CATALOGUE
    );
    std::fs::write(&products, catalogue).unwrap();
    env.set("DATATOOLS_PRODUCTS_FILE", products.to_str().unwrap());
    let server = TestServer::serve(cluster, env, true).await;
    for event in [id, event_id(&b)] {
        let replayed: Value = server
            .admin(Method::POST, &format!("/internal/events/{event}/replay"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(replayed["status"], "done", "{replayed:#}");
    }
    wait_resolved(&server, "unknown_product:").await;
    passes().await;
    assert_eq!(alert_mails(&postmark).len(), 1);
    assert_eq!(
        postmark.requests().len(),
        3,
        "the alert and the two buyers' licenses"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_bounced_license_email_is_mailed_once_and_a_resend_closes_it() {
    let (server, postmark) = setup().await;
    postmark.script([Reply::error(
        422,
        406,
        "You tried to send to a recipient that has been marked as inactive.",
    )]);
    let (_, _, a) = server
        .deliver(&sale("BOUNCE-1==", "gone@example.com"))
        .await;
    let id = event_id(&a);
    let event = server.settled_event(id).await;
    assert_eq!(event["email_status"], "failed");
    let key = event["license_key"].as_str().unwrap().to_string();

    let mails = wait_for_alert_mails(&postmark, 1).await;
    let body = mails[0]["TextBody"].as_str().unwrap();
    assert!(
        body.contains("the license email for sale BOUNCE-1=="),
        "{body}"
    );
    assert!(
        body.contains("to gone@example.com was not delivered"),
        "{body}"
    );
    assert!(body.contains("marked as inactive"), "{body}");
    assert!(
        body.contains(&format!("`dtops resend {key} --to ADDRESS`")),
        "{body}"
    );
    assert!(body.contains(&format!("`dtops event {id}`")), "{body}");

    // The operator re-sends to the address the buyer gave: the problem closes, nothing more is
    // mailed to the operator.
    let response = server
        .admin(Method::POST, &format!("/internal/licenses/{key}/resend"))
        .json(&json!({"to": "new@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    wait_resolved(&server, "email_bounced:").await;
    passes().await;
    assert_eq!(alert_mails(&postmark).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn an_event_retrying_too_long_is_mailed_and_acknowledging_keeps_it_out_of_the_count() {
    let (server, postmark) = setup().await;
    postmark.script([Reply::error(500, 0, "Internal server error")]);
    let (_, _, a) = server.deliver(&sale("SLOW-1==", "wait@example.com")).await;
    let id = event_id(&a);
    assert_eq!(server.settled_event(id).await["status"], "retrying");
    passes().await;
    assert!(
        alert_mails(&postmark).is_empty(),
        "a fresh retry is not a problem"
    );

    // Half an hour later (DATATOOLS_ALERT_RETRY_MINUTES' default is 30), still retrying.
    sql(
        &server,
        &format!(
            "update gumroad_events set retrying_since = now() - interval '31 minutes', \
             next_attempt_at = now() + interval '1 hour' where id = {id}"
        ),
    )
    .await;
    let mails = wait_for_alert_mails(&postmark, 1).await;
    let body = mails[0]["TextBody"].as_str().unwrap();
    assert!(
        body.contains(&format!("event {id} (sale SLOW-1==")),
        "{body}"
    );
    assert!(body.contains("has been retrying for 31 minutes"), "{body}");
    assert!(body.contains("Internal server error"), "{body}");
    assert!(body.contains(&format!("`dtops replay {id}`")), "{body}");

    // Acknowledged: still open (and listed), no longer counted as needing the operator.
    let list = open_alerts(&server).await;
    let alert = &list["open"][0];
    assert_eq!(alert["key"], format!("event_retrying:{id}"));
    let acked: Value = server
        .admin(
            Method::POST,
            &format!("/internal/alerts/{}/ack", alert["id"]),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(acked["acknowledged_at"].is_string(), "{acked:#}");
    let metrics = server
        .admin(Method::GET, "/internal/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("\ndatatools_alerts_open 0\n"), "{metrics}");
    assert!(
        metrics.contains("\ndatatools_alerts_acknowledged 1\n"),
        "{metrics}"
    );
    let missing = server
        .admin(Method::POST, "/internal/alerts/999999/ack")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The replay finishes it: the problem closes.
    let replayed: Value = server
        .admin(Method::POST, &format!("/internal/events/{id}/replay"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["status"], "done");
    wait_resolved(&server, "event_retrying:").await;
    assert_eq!(alert_mails(&postmark).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_stopped_worker_and_a_stalled_queue_found_together_make_one_digest() {
    // A receive-only instance (no workers): deliveries are stored and wait.
    let (server, postmark) = setup_with(|env| {
        env.set("DATATOOLS_GUMROAD_WORKERS", "0");
    })
    .await;
    let (_, _, a) = server.deliver(&sale("WAIT-1==", "w@example.com")).await;
    let id = event_id(&a);
    passes().await;
    assert!(alert_mails(&postmark).is_empty(), "a delivery just stored");

    // Ten minutes later nobody took it, and a worker (of another instance) stopped beating then.
    sql(
        &server,
        &format!(
            "begin; \
             update gumroad_events set next_attempt_at = now() - interval '10 minutes' \
             where id = {id}; \
             insert into worker_heartbeats (worker, beat_at) \
             values ('gumroad-1', now() - interval '10 minutes'); \
             commit"
        ),
    )
    .await;
    let mails = wait_for_alert_mails(&postmark, 1).await;
    passes().await;
    assert_eq!(alert_mails(&postmark).len(), 1, "one digest: {mails:#?}");
    let subject = mails[0]["Subject"].as_str().unwrap();
    assert_eq!(subject, "DataTools alerts: 2 problems need you");
    let body = mails[0]["TextBody"].as_str().unwrap();
    assert!(
        body.contains("1. 1 Gumroad delivery has waited more than 5 minutes"),
        "{body}"
    );
    assert!(
        body.contains("2. Gumroad worker gumroad-1 has not run since"),
        "{body}"
    );
    assert!(body.contains("sudo dtops logs api"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn host_reports_raise_backup_and_certificate_alerts_and_resolve_them() {
    let (server, postmark) = setup().await;
    let now = chrono::Utc::now();
    let report = |good_hours_ago: i64, failed: bool, cert_days: i64| {
        json!({
            "observed_at": now,
            "backup": {
                "job": "/etc/cron.daily/datatools-license-backup",
                "last_good_at": now - chrono::Duration::hours(good_hours_ago),
                "last_good_file": "db-20260101T000000Z.sql.gz",
                "last_failure": failed.then(|| json!({
                    "at": "2026-01-02T03:04:05Z",
                    "message": "pg_dump of datatools_licenses failed; no backup was replaced or pruned"
                })),
            },
            "certificate": {
                "name": "datatools.unalogix.com",
                "not_after": now + chrono::Duration::days(cert_days),
                "renewal_problems": [],
            }
        })
    };
    let post = |body: Value| {
        server
            .admin(Method::POST, "/internal/host-report")
            .json(&body)
            .send()
    };
    // All well: nothing.
    let response = post(report(2, false, 80)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
    passes().await;
    assert!(alert_mails(&postmark).is_empty());

    // A failed backup run and a certificate ten days from expiry, in one report: one digest.
    let problems: Value = post(report(30, true, 10))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(problems.as_array().unwrap().len(), 2, "{problems:#}");
    let mails = wait_for_alert_mails(&postmark, 1).await;
    assert_eq!(mails[0]["Subject"], "DataTools alerts: 2 problems need you");
    let body = mails[0]["TextBody"].as_str().unwrap();
    assert!(
        body.contains("the last backup run failed at 2026-01-02T03:04:05Z: pg_dump"),
        "{body}"
    );
    assert!(body.contains("`sudo dtops backup`"), "{body}");
    assert!(
        body.contains("the certificate datatools.unalogix.com expires at"),
        "{body}"
    );
    assert!(
        body.contains("(9 days left)") || body.contains("(10 days left)"),
        "{body}"
    );
    assert!(body.contains("certbot renew --dry-run"), "{body}");

    // Fixed on the host: the next report closes both, and nothing more is mailed.
    post(report(1, false, 89)).await.unwrap();
    wait_resolved(&server, "backup_").await;
    wait_resolved(&server, "cert_").await;
    passes().await;
    assert_eq!(alert_mails(&postmark).len(), 1);

    // A report that is not what dtops sends is refused, naming the field.
    let bad = post(json!({"observed_at": now, "backup": {}, "certificate": null}))
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("job"));

    // Reports stop coming (the cron job is gone): after three hours, that is a problem too.
    sql(
        &server,
        "update host_reports set received_at = now() - interval '4 hours'",
    )
    .await;
    let mails = wait_for_alert_mails(&postmark, 2).await;
    let body = mails[1]["TextBody"].as_str().unwrap();
    assert!(
        body.contains("dtops has not reported the host's backups and certificate"),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn without_an_alert_address_problems_are_listed_and_nothing_is_mailed() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| {
        gumroad::configure(env, &url);
        env.set("DATATOOLS_ALERT_CHECK_SECONDS", "1");
    })
    .await;
    let (_, _, a) = server
        .deliver(&sale("UNKNOWN-9==", "u@example.com").field("product_id", "OTHER=="))
        .await;
    server.settled_event(event_id(&a)).await;
    passes().await;
    let list = open_alerts(&server).await;
    assert_eq!(list["email"], Value::Null);
    assert_eq!(list["open"][0]["key"], "unknown_product:OTHER==");
    assert_eq!(list["open"][0]["notified_at"], Value::Null);
    assert!(postmark.requests().is_empty(), "{:#?}", postmark.requests());
    server.stop().await;
}
