//! A retry, a replay and a resend add to an event's history; none overwrites what happened
//! before. Real Postgres, the real server on 127.0.0.1, a local server playing Postmark.

mod common;

use common::gumroad::{self, sale};
use common::postmark::{FakePostmark, Reply};
use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn post(server: &TestServer, path: &str, body: Value) -> Value {
    let response = server
        .admin(Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn retries_replays_and_resends_are_kept_in_the_events_history() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;
    // The first send fails (retryable); everything later goes through.
    postmark.script([Reply::error(500, 0, "Internal server error")]);
    let (status, _, delivered) = server.deliver(&sale("HIST-1==", "buyer@example.com")).await;
    assert_eq!(status, StatusCode::OK);
    let id = delivered["event"].as_i64().unwrap();
    let first = server.settled_event(id).await;
    assert_eq!(first["status"], "retrying", "{first:#}");
    let key = first["license_key"].as_str().unwrap().to_string();

    let replayed = post(&server, &format!("/internal/events/{id}/replay"), json!({})).await;
    assert_eq!(replayed["status"], "done", "{replayed:#}");
    let purchase_message = replayed["email_message_id"].as_str().unwrap().to_string();

    let resent = post(
        &server,
        &format!("/internal/licenses/{key}/resend"),
        json!({"to": "corrected@example.com"}),
    )
    .await;
    let resend_message = resent["message_id"].as_str().unwrap().to_string();
    assert_ne!(purchase_message, resend_message);

    let event = server.event(id).await;
    // The event's own columns show the latest email...
    assert_eq!(event["email_message_id"], resend_message.as_str());
    assert_eq!(event["email_to"], "corrected@example.com");
    // ...and its history everything, in order.
    let history = event["history"].as_array().expect("history");
    let steps: Vec<(&str, &str, &str)> = history
        .iter()
        .map(|entry| {
            (
                entry["step"].as_str().unwrap(),
                entry["status"].as_str().unwrap(),
                entry["email_purpose"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("email", "retrying", "purchase"),
            ("attempt", "retrying", "-"),
            ("replay", "retrying", "-"),
            ("email", "sent", "purchase"),
            ("attempt", "done", "-"),
            ("email", "sent", "resend by dtops"),
        ],
        "{history:#?}"
    );
    let detail = |i: usize| history[i]["detail"].as_str().unwrap_or_default();
    assert!(detail(0).contains("Internal server error"), "{}", detail(0));
    assert!(detail(1).contains("Internal server error"), "{}", detail(1));
    assert_eq!(history[1]["attempt"], 1);
    assert_eq!(history[2]["detail"], Value::Null);
    assert_eq!(history[3]["email_to"], "buyer@example.com");
    assert_eq!(history[3]["email_message_id"], purchase_message.as_str());
    assert_eq!(history[4]["attempt"], 2);
    assert!(detail(4).contains(&key), "{}", detail(4));
    assert_eq!(history[5]["email_to"], "corrected@example.com");
    assert_eq!(history[5]["email_message_id"], resend_message.as_str());
    let times: Vec<chrono::DateTime<chrono::Utc>> = history
        .iter()
        .map(|e| e["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    server.stop().await;
}
