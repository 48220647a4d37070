//! Every failure answers our one JSON error shape, naming what was wrong; input a person could
//! not have meant (NUL and control characters) is refused by name, never a "database error".

mod common;

use common::{mint_body, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn error(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{status} {content_type:?}: {text}"
    );
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn bad_paths_queries_and_methods_answer_json() {
    let server = TestServer::start().await;
    let (status, body) = error(
        server
            .admin(Method::GET, "/internal/events/not-a-number")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (body["error"].as_str(), body["field"].as_str()),
        (Some("invalid_field"), Some("path"))
    );

    for query in ["limit=many", "colour=blue"] {
        let (status, body) = error(
            server
                .admin(Method::GET, &format!("/internal/licenses?{query}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["error"], "bad_request", "{query}");
        let message = body["message"].as_str().unwrap();
        let named = query.split('=').next().unwrap();
        assert!(message.contains(named), "{query}: {message}");
    }

    let (status, body) = error(
        server
            .admin(Method::GET, "/internal/mint")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"], "method_not_allowed");

    let (status, body) = error(
        server
            .client
            .get(server.url("/nowhere"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"error": "not_found"}))
    );
}

/// GET (or any other method) on the webhook looks exactly like an unknown route.
#[tokio::test]
async fn the_webhook_path_answers_other_methods_like_an_unknown_route() {
    let server = TestServer::start().await;
    let unknown = server
        .client
        .get(server.url("/webhooks/nothing"))
        .send()
        .await
        .unwrap();
    let (unknown_status, unknown_body) = (unknown.status(), unknown.text().await.unwrap());
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let response = server
            .client
            .request(method.clone(), server.url("/webhooks/gumroad?secret=x"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), unknown_status, "{method}");
        assert_eq!(response.text().await.unwrap(), unknown_body, "{method}");
    }
    assert_eq!(unknown_status, StatusCode::NOT_FOUND);
}

/// The documented body, byte for byte: `{"status":"ok","db":"ok"}`.
#[tokio::test]
async fn health_is_byte_for_byte_the_documented_body() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"status":"ok","db":"ok"}"#
    );
}

/// A NUL or control character in a filter or a revoke reason is a 422 naming the field, not a
/// failed query logged as a database error.
#[tokio::test]
async fn control_characters_in_filters_and_reasons_are_refused_by_name() {
    let server = TestServer::start().await;
    let minted = server.mint(&mint_body()).await;
    let key = minted["license_key"].as_str().unwrap();
    for (path, field) in [
        ("/internal/licenses?email=a%00b%40example.com", "email"),
        ("/internal/events?email=a%00b%40example.com", "email"),
        ("/internal/events?sale=S%00", "sale"),
        ("/internal/events?sale=S%1B%5B31m", "sale"),
    ] {
        let (status, body) = error(server.admin(Method::GET, path).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["field"], field, "{path}");
    }
    for reason in ["refund\u{0}", "charge\u{1b}[2Jback"] {
        let (status, body) = error(
            server
                .admin(Method::POST, &format!("/internal/licenses/{key}/revoke"))
                .json(&json!({ "reason": reason }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{reason:?}: {body}"
        );
        assert_eq!(body["field"], "reason");
    }
    // Still active: nothing was written.
    let license: Value = server
        .admin(Method::GET, &format!("/internal/licenses/{key}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(license["revoked_at"], Value::Null);
}
