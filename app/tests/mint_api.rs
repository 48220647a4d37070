//! The admin API against real Postgres: mint, list, show, revoke, and every refusal.

mod common;

use chrono::Utc;
use common::{mint_body, TestServer, ADMIN_TOKEN};
use datatools_license::license::{self, TrustedKeys};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn mint_returns_a_verifiable_blob_and_inserts_the_row() {
    let server = TestServer::start().await;
    let response = server
        .admin(Method::POST, "/internal/mint")
        .json(&mint_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["created"], true);
    let blob = body["blob"].as_str().unwrap();
    assert!(blob.starts_with("DTLIC2:"), "{blob}");

    let trusted = TrustedKeys::from(&server.state.config.signing_key);
    let decoded = license::verify(blob, &trusted, Utc::now()).unwrap();
    assert_eq!(
        decoded.license_key.as_str(),
        body["license_key"].as_str().unwrap()
    );
    assert_eq!(decoded.email, "test@example.com");
    assert_eq!(decoded.tier, "core");
    assert_eq!(decoded.source, "manual");
    let year = decoded.expires_at().unwrap() - decoded.issued_at;
    assert!((365..=366).contains(&year.num_days()), "{year:?}");

    // The psql query of ADMIN.md's "Looking licenses up" sees the row.
    let row: (String, String, String, String, String) =
        sqlx::query_as("select license_key, email, tier, source, notes from licenses")
            .fetch_one(&server.state.db)
            .await
            .unwrap();
    assert_eq!(row.0, decoded.license_key.as_str());
    assert_eq!(
        (row.1.as_str(), row.2.as_str(), row.3.as_str()),
        ("test@example.com", "core", "manual")
    );
    assert_eq!(row.4, "smoke test");
    server.stop().await;
}

#[tokio::test]
async fn perpetual_and_tier_default_terms() {
    let server = TestServer::start().await;
    let mut body = mint_body();
    body["tier"] = json!("lifetime");
    body.as_object_mut().unwrap().remove("years");
    let minted: Value = server.mint(&body).await;
    assert_eq!(minted["expires_at"], Value::Null);

    let mut body = mint_body();
    body["years"] = Value::Null;
    body["perpetual"] = json!(true);
    let minted: Value = server.mint(&body).await;
    assert_eq!(minted["expires_at"], Value::Null);
    assert_eq!(minted["tier"], "core");
    server.stop().await;
}

#[tokio::test]
async fn the_same_source_ref_mints_once_even_concurrently() {
    let server = TestServer::start().await;
    let mut body = mint_body();
    body["source_ref"] = json!("gumroad:sale-123");
    let requests = (0..10).map(|_| {
        server
            .admin(Method::POST, "/internal/mint")
            .json(&body)
            .send()
    });
    let responses = futures_join_all(requests).await;
    let mut keys = std::collections::BTreeSet::new();
    let mut created = 0;
    for response in responses {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let v: Value = response.json().await.unwrap();
        keys.insert(v["license_key"].as_str().unwrap().to_string());
        created += usize::from(v["created"] == true);
    }
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(created, 1);
    let count: i64 = sqlx::query_scalar("select count(*) from licenses")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
    server.stop().await;
}

async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn every_invalid_field_is_a_4xx_naming_it() {
    let server = TestServer::start().await;
    let cases = [
        ("email", json!("not-an-email")),
        ("email", json!(format!("{}@example.com", "a".repeat(300)))),
        ("tier", json!("platinum")),
        ("years", json!(0)),
        ("years", json!(11)),
        ("name", json!("")),
        ("name", json!("n".repeat(201))),
        ("notes", json!("n".repeat(2001))),
        ("source", json!("Not Valid")),
    ];
    for (field, value) in cases {
        let mut body = mint_body();
        body[field] = value;
        let response = server
            .admin(Method::POST, "/internal/mint")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{error}");
        assert!(error["message"].as_str().unwrap().len() > 5, "{error}");
    }

    // Structural problems are 400s whose message names the field.
    let mut missing = mint_body();
    missing.as_object_mut().unwrap().remove("email");
    let mut typo = mint_body();
    typo["yeras"] = json!(2);
    let mut wrong_type = mint_body();
    wrong_type["years"] = json!("two");
    for (body, needle) in [(missing, "email"), (typo, "yeras"), (wrong_type, "years")] {
        let response = server
            .admin(Method::POST, "/internal/mint")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error: Value = response.json().await.unwrap();
        assert!(
            error["message"].as_str().unwrap().contains(needle),
            "{error}"
        );
    }

    let count: i64 = sqlx::query_scalar("select count(*) from licenses")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing is minted for a refused request");
    server.stop().await;
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let server = TestServer::start().await;
    let mut body = mint_body();
    body["notes"] = json!("x".repeat(100 * 1024));
    let response = server
        .admin(Method::POST, "/internal/mint")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "payload_too_large");
    server.stop().await;
}

#[tokio::test]
async fn wrong_or_missing_token_is_401() {
    let server = TestServer::start().await;
    let attempts = [
        None,
        Some("Bearer wrong".to_string()),
        Some(format!("Bearer {}", &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1])),
        Some(format!("Bearer {ADMIN_TOKEN}x")),
        Some(format!("Basic {ADMIN_TOKEN}")),
    ];
    for header in attempts {
        let mut request = server
            .client
            .post(server.url("/internal/mint"))
            .json(&mint_body());
        if let Some(h) = &header {
            request = request.header("authorization", h);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    let response = server
        .client
        .get(server.url("/internal/licenses"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn proxied_admin_requests_are_404_even_with_the_token() {
    let server = TestServer::start().await;
    for (header, value) in [
        ("x-forwarded-for", "203.0.113.9"),
        ("x-real-ip", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9;proto=https"),
    ] {
        for path in ["/internal/mint", "/internal/licenses"] {
            let method = if path.ends_with("mint") {
                Method::POST
            } else {
                Method::GET
            };
            let response = server
                .admin(method, path)
                .header(header, value)
                .json(&mint_body())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{header} {path}");
        }
    }
    // Health stays public through the proxy.
    let response = server
        .client
        .get(server.url("/health"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let count: i64 = sqlx::query_scalar("select count(*) from licenses")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
    server.stop().await;
}

#[tokio::test]
async fn list_show_and_revoke() {
    let server = TestServer::start().await;
    let mut keys = Vec::new();
    for email in ["Buyer@Example.com", "other@example.com"] {
        let mut body = mint_body();
        body["email"] = json!(email);
        let v: Value = server.mint(&body).await;
        keys.push(v["license_key"].as_str().unwrap().to_string());
    }
    let listed: Vec<Value> = server
        .admin(Method::GET, "/internal/licenses?email=buyer@example.com")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "email match is case-insensitive and exact");
    assert_eq!(listed[0]["license_key"], keys[0].as_str());

    let all: Vec<Value> = server
        .admin(Method::GET, "/internal/licenses")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);

    // Keys are found however a person types them.
    let typed = keys[0].to_lowercase().replace('-', "");
    let shown: Value = server
        .admin(Method::GET, &format!("/internal/licenses/{typed}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["license_key"], keys[0].as_str());
    assert_eq!(shown["revoked_at"], Value::Null);

    let revoked: Value = server
        .admin(
            Method::POST,
            &format!("/internal/licenses/{}/revoke", keys[0]),
        )
        .json(&json!({"reason": "test row"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(revoked["revoke_reason"], "test row");

    // Revoking again is harmless and keeps the first reason and time.
    let again: Value = server
        .admin(
            Method::POST,
            &format!("/internal/licenses/{}/revoke", keys[0]),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
    assert_eq!(again["revoke_reason"], "test row");

    let other: Value = server
        .admin(Method::GET, &format!("/internal/licenses/{}", keys[1]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        other["revoked_at"],
        Value::Null,
        "only the named license is revoked"
    );

    let unknown = server
        .admin(
            Method::POST,
            "/internal/licenses/000000-000000-000000-000000/revoke",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let malformed = server
        .admin(Method::POST, "/internal/licenses/not-a-key/revoke")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    server.stop().await;
}

/// Every header a proxy or CDN adds means "from the internet": 404 before the token is even
/// looked at, one request per header.
#[tokio::test]
async fn every_forwarding_header_is_refused_before_auth() {
    let server = TestServer::start().await;
    for header in [
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-forwarded-server",
        "forwarded",
        "via",
        "x-real-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "cf-ray",
        "x-client-ip",
        "x-cluster-client-ip",
        "fastly-client-ip",
        "x-original-forwarded-for",
    ] {
        for token in [Some(common::ADMIN_TOKEN), None] {
            let mut request = server
                .client
                .get(server.url("/internal/licenses"))
                .header(header, "203.0.113.9");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::NOT_FOUND,
                "{header} with token {}",
                token.is_some()
            );
        }
    }
    // Without any of them the same request is served.
    let response = server
        .admin(Method::GET, "/internal/licenses")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// RFC 9110: the auth scheme is case-insensitive, so `bearer` and `BEARER` work too.
#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let server = TestServer::start().await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = server
            .client
            .get(server.url("/internal/licenses"))
            .header("authorization", format!("{scheme} {}", common::ADMIN_TOKEN))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
    for bad in [
        format!("Basic {}", common::ADMIN_TOKEN),
        format!("Bearer{}", common::ADMIN_TOKEN),
        common::ADMIN_TOKEN.to_string(),
    ] {
        let response = server
            .client
            .get(server.url("/internal/licenses"))
            .header("authorization", bad.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }
}

/// A reused source_ref with a different request is a 409 naming what differs, never another
/// buyer's license handed back as a success; the same request again still gets the first one.
#[tokio::test]
async fn a_reused_source_ref_with_a_different_request_is_a_conflict() {
    let server = TestServer::start().await;
    let mut body = mint_body();
    body["source_ref"] = json!("crm:order-77");
    let first = server.mint(&body).await;
    let again = server.mint(&body).await;
    assert_eq!(again["license_key"], first["license_key"]);
    assert_eq!(again["created"], false);

    for (change, fields) in [
        (json!({"email": "someone.else@example.com"}), "email"),
        (json!({"name": "Someone Else", "tier": "pro"}), "name, tier"),
        (json!({"years": 2}), "years"),
    ] {
        let mut other = body.clone();
        for (k, v) in change.as_object().unwrap() {
            other[k] = v.clone();
        }
        let response = server
            .admin(Method::POST, "/internal/mint")
            .json(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT, "{change}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "conflict");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("different {fields};")),
            "{message}"
        );
        assert!(
            !message.contains(first["blob"].as_str().unwrap()),
            "the first license's blob must not be handed out: {message}"
        );
    }
    let count: i64 = sqlx::query_scalar("select count(*) from licenses")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
