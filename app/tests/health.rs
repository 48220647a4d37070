//! `/health` with the database up and down.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn health_is_exactly_ok_when_the_database_answers() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok", "db": "ok"}));
    server.stop().await;
}

#[tokio::test]
async fn health_reports_the_database_down_within_two_seconds() {
    let mut server = TestServer::start().await;
    server.cluster.kill().unwrap();
    let started = Instant::now();
    let response = server
        .client
        .get(server.url("/health"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_ne!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["db"], "error");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    server.stop().await;
}
