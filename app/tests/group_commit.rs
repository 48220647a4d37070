//! Group commit (issue 21): mints and Gumroad deliveries arriving together share one INSERT and
//! one transaction, against the real server and Postgres. Every request still gets its own
//! answer after its row is committed, a row the database refuses fails only its own request,
//! and a sale delivered several times at once is stored once, its repeats as duplicates.

mod common;

use std::collections::BTreeMap;

use common::gumroad::{self, sale};
use common::postmark::FakePostmark;
use common::TestServer;
use reqwest::Method;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mints_arriving_together_share_a_statement_and_a_refused_row_fails_only_itself() {
    let server = TestServer::start().await;
    // A rule the database enforces, broken by one request of the burst.
    sqlx::query("alter table licenses add constraint test_no_evil check (name <> 'Evil Buyer')")
        .execute(&server.state.db)
        .await
        .unwrap();
    let mint = |n: usize| {
        let mut body = common::mint_body();
        body["name"] = if n == 17 { "Evil Buyer" } else { "Good Buyer" }.into();
        body["email"] = format!("buyer{n}@example.com").into();
        let request = server.admin(Method::POST, "/internal/mint").json(&body);
        tokio::spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (n, status, response.json::<Value>().await.unwrap())
        })
    };
    // The first half arrives while the writers are busy (their INSERTs wait for this lock), so
    // most of it queues behind them and shares a statement whatever the machine's speed, as
    // under load; the second half, with the refused row, is a plain burst.
    let mut lock = server.state.db.begin().await.unwrap();
    sqlx::query("lock table licenses in exclusive mode")
        .execute(&mut *lock)
        .await
        .unwrap();
    let mut tasks: Vec<_> = (0..17).map(mint).collect();
    wait_for_inserts_blocked_on_licenses(&server.state.db).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    lock.commit().await.unwrap();
    tasks.extend((17..40).map(mint));
    let mut answers = BTreeMap::new();
    for task in tasks {
        let (n, status, body) = task.await.unwrap();
        answers.insert(n, (status, body));
    }
    for (n, (status, body)) in &answers {
        if *n == 17 {
            assert_eq!(*status, 503, "{body}");
        } else {
            assert_eq!(*status, 200, "{n}: {body}");
            assert_eq!(body["email"], format!("buyer{n}@example.com"));
        }
    }
    // Each answer's license is stored, once; rows written by one statement share a transaction.
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("select license_key, email, xmin::text from licenses")
            .fetch_all(&server.state.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 39);
    for (n, (_, body)) in answers.iter().filter(|(n, _)| **n != 17) {
        let key = body["license_key"].as_str().unwrap();
        assert!(
            stored
                .iter()
                .any(|(k, e, _)| k == key && *e == format!("buyer{n}@example.com")),
            "{key}"
        );
    }
    let transactions: std::collections::BTreeSet<&str> =
        stored.iter().map(|(_, _, x)| x.as_str()).collect();
    eprintln!("39 mints in {} transactions", transactions.len());
    assert!(transactions.len() < 39, "no two mints shared a transaction");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_delivered_three_times_at_once_is_stored_once() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;
    let tasks: Vec<_> = (0..36)
        .map(|n| {
            let form = sale(
                &format!("GC-{}==", n % 12),
                &format!("b{}@example.com", n % 12),
            );
            let request = server
                .client
                .post(server.webhook_url(gumroad::WEBHOOK_SECRET))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.encode());
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                (
                    response.status().as_u16(),
                    response.json::<Value>().await.unwrap(),
                )
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        ids.push(body["event"].as_i64().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 36, "every delivery is its own event");
    let firsts = server
        .count("select count(*) from gumroad_events where duplicate_of is null")
        .await;
    let repeats = server
        .count(
            "select count(*) from gumroad_events d join gumroad_events o on o.id = d.duplicate_of \
             where d.status = 'duplicate' and o.sale_id = d.sale_id and o.duplicate_of is null",
        )
        .await;
    assert_eq!((firsts, repeats), (12, 24));
    // And each sale is one license, one email.
    for n in 0..12 {
        let sale_id = format!("GC-{n}==");
        let id: i64 = sqlx::query_scalar(
            "select id from gumroad_events where sale_id = $1 and duplicate_of is null",
        )
        .bind(&sale_id)
        .fetch_one(&server.state.db)
        .await
        .unwrap();
        server.settled_event(id).await;
    }
    assert_eq!(server.count("select count(*) from licenses").await, 12);
    let mails = postmark.requests().len();
    assert_eq!(mails, 12);
    server.stop().await;
}

/// Until some statement waits for the lock on `licenses` (a writer's INSERT).
async fn wait_for_inserts_blocked_on_licenses(db: &sqlx::PgPool) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_locks where not granted and relation = 'licenses'::regclass",
        )
        .fetch_one(db)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no INSERT waited for the lock on licenses within 5 s");
}
