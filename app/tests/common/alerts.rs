//! Alerts: a server whose sentinel checks every second and mails ops@example.com through the
//! local Postmark, and waiting for what it does.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::postmark::FakePostmark;
use super::TestServer;

pub const OPS: &str = "ops@example.com";

pub async fn setup_with(extra: impl FnOnce(&mut super::Env)) -> (TestServer, FakePostmark) {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| {
        super::gumroad::configure(env, &url);
        env.set("DATATOOLS_ALERT_EMAIL", OPS)
            .set("DATATOOLS_ALERT_CHECK_SECONDS", "1");
        extra(env);
    })
    .await;
    (server, postmark)
}

pub async fn setup() -> (TestServer, FakePostmark) {
    setup_with(|_| {}).await
}

/// The alert emails Postmark was asked to send so far.
pub fn alert_mails(postmark: &FakePostmark) -> Vec<Value> {
    postmark
        .requests()
        .into_iter()
        .filter(|r| r["Tag"] == "alert")
        .collect()
}

/// Waits until `n` alert emails arrived; returns them.
pub async fn wait_for_alert_mails(postmark: &FakePostmark, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mails = alert_mails(postmark);
        if mails.len() >= n {
            return mails;
        }
        assert!(
            Instant::now() < deadline,
            "{n} alert email(s) expected, got {}: {mails:#?}",
            mails.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Several sentinel passes go by (it checks every second).
pub async fn passes() {
    tokio::time::sleep(Duration::from_millis(3500)).await;
}

pub async fn open_alerts(server: &TestServer) -> Value {
    let response = server
        .admin(Method::GET, "/internal/alerts")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.json().await.unwrap()
}

/// Waits until no open alert has a key starting with `prefix`.
pub async fn wait_resolved(server: &TestServer, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = open_alerts(server).await;
        let open: Vec<&Value> = list["open"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["key"].as_str().unwrap().starts_with(prefix))
            .collect();
        if open.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{prefix} still open: {list:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs SQL (several statements allowed) on the server's database.
pub async fn sql(server: &TestServer, query: &str) {
    sqlx::raw_sql(query)
        .execute(&server.state.db)
        .await
        .unwrap();
}

pub fn event_id(body: &Value) -> i64 {
    body["event"].as_i64().unwrap_or_else(|| panic!("{body}"))
}
