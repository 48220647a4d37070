//! Issue 20 items 7 and 8: the clients we call out with (Postmark, Gumroad's sales API) against
//! hostile local servers. A redirect is never followed (our token and the email body stay
//! home, and nothing another host serves is stored); an answer larger than its cap is refused
//! while it streams; a 401 that echoes the access token never puts it into the sync's record; a
//! product name with control characters still mints.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use common::gumroad::{self as ping, sale};
use common::gumroad_api::{self, ACCESS_TOKEN};
use common::postmark::FakePostmark;
use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// What a hostile server does with every request.
#[derive(Clone)]
enum Behaviour {
    /// Answers `status` pointing to `location`.
    Redirect(u16, String),
    /// Answers 200 with this many bytes of JSON-looking filler, streamed.
    Huge(usize),
    /// Answers 401 quoting the request's `Authorization` header back.
    EchoAuthorization,
    /// Answers like Gumroad's sales API with one sale (what a redirect would lead to).
    OneSale,
}

/// A local server that records the requests it gets.
#[derive(Clone)]
struct Hostile {
    url: String,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
}

impl Hostile {
    async fn start(behaviour: Behaviour) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        let app = Router::new().fallback(move |headers: HeaderMap| {
            let behaviour = behaviour.clone();
            recorded.lock().unwrap().push(headers.clone());
            async move { answer(behaviour, &headers) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hostile { url, seen }
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn answer(behaviour: Behaviour, headers: &HeaderMap) -> Response {
    match behaviour {
        Behaviour::Redirect(status, location) => (
            StatusCode::from_u16(status).unwrap(),
            [("location", location)],
        )
            .into_response(),
        Behaviour::Huge(bytes) => {
            let chunk = vec![b' '; 64 * 1024];
            let chunks = bytes.div_ceil(chunk.len());
            let stream = futures_util::stream::iter(
                (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            );
            (StatusCode::OK, Body::from_stream(stream)).into_response()
        }
        Behaviour::EchoAuthorization => {
            let said = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"success": false, "message": format!("bad token: {said}")})),
            )
                .into_response()
        }
        Behaviour::OneSale => axum::Json(json!({
            "success": true,
            "sales": [gumroad_api::sale("EVIL-1", "evil@example.com", "2026-11-29", "10:00")],
        }))
        .into_response(),
    }
}

async fn sync_server(api_url: &str) -> (TestServer, FakePostmark) {
    let postmark = FakePostmark::start().await;
    let (postmark_url, api_url) = (postmark.url.clone(), api_url.to_string());
    let server = TestServer::start_with(|env| {
        ping::configure(env, &postmark_url);
        let file = env.path("gumroad_api_token");
        std::fs::write(&file, format!("{ACCESS_TOKEN}\n")).unwrap();
        env.set("GUMROAD_ACCESS_TOKEN_FILE", file.to_str().unwrap())
            .set("GUMROAD_API_URL", api_url);
    })
    .await;
    (server, postmark)
}

/// Runs a sync to its end.
async fn sync(server: &TestServer) -> Value {
    let started: Value = server
        .admin(Method::POST, "/internal/gumroad/sync")
        .json(&json!({ "since": "2026-11-28" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = server
            .admin_get(&format!("/internal/gumroad/syncs/{}", started["id"]))
            .await;
        if now["state"] != "running" {
            return now;
        }
        assert!(Instant::now() < deadline, "the sync did not end: {now:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn gumroad_redirects_are_not_followed_and_nothing_from_elsewhere_is_stored() {
    let elsewhere = Hostile::start(Behaviour::OneSale).await;
    for status in [301, 302, 307, 308] {
        let redirect = Hostile::start(Behaviour::Redirect(
            status,
            format!("{}/v2/sales?after=2026-11-28", elsewhere.url),
        ))
        .await;
        let (server, _postmark) = sync_server(&redirect.url).await;
        let result = sync(&server).await;
        assert_eq!(result["state"], "failed", "{result:#}");
        let error = result["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("answered {status}"))
                && error.contains(&elsewhere.url)
                && error.contains("GUMROAD_API_URL"),
            "{error}"
        );
        assert_eq!(
            redirect.requests(),
            1,
            "asked once: a redirect is not retried"
        );
        assert_eq!(server.count("select count(*) from gumroad_events").await, 0);
        server.stop().await;
    }
    assert_eq!(elsewhere.requests(), 0, "the token never went elsewhere");
}

#[tokio::test]
async fn a_page_past_the_cap_is_refused_as_it_streams() {
    let huge = Hostile::start(Behaviour::Huge(64 * 1024 * 1024)).await;
    let (server, _postmark) = sync_server(&huge.url).await;
    let result = sync(&server).await;
    assert_eq!(result["state"], "failed", "{result:#}");
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("longer than 8388608 bytes"), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn a_refusal_that_echoes_the_token_never_stores_or_shows_it() {
    let echo = Hostile::start(Behaviour::EchoAuthorization).await;
    let (server, _postmark) = sync_server(&echo.url).await;
    let result = sync(&server).await;
    assert_eq!(result["state"], "failed", "{result:#}");
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("refused the access token"), "{error}");
    assert!(error.contains("[the access token]"), "{error}");
    let stored: String = sqlx::query_scalar("select string_agg(t::text, ' ') from gumroad_syncs t")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert!(!stored.contains(ACCESS_TOKEN), "{stored}");
    assert!(!result.to_string().contains(ACCESS_TOKEN));
    server.stop().await;
}

#[tokio::test]
async fn postmark_redirects_are_not_followed() {
    let elsewhere = FakePostmark::start().await;
    let redirect =
        Hostile::start(Behaviour::Redirect(307, format!("{}/email", elsewhere.url))).await;
    let url = redirect.url.clone();
    let server = TestServer::start_with(|env| ping::configure(env, &url)).await;
    let (_, _, answer) = server.deliver(&sale("R-1", "buyer@example.com")).await;
    let id = answer["event"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let event = loop {
        let event = server.event(id).await;
        if event["email_error"].is_string() {
            break event;
        }
        assert!(Instant::now() < deadline, "{event:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let error = event["email_error"].as_str().unwrap();
    assert!(
        error.contains("answered 307")
            && error.contains(&elsewhere.url)
            && error.contains("POSTMARK_API_URL"),
        "{error}"
    );
    assert!(redirect.requests() >= 1);
    assert!(
        elsewhere.requests().is_empty() && elsewhere.tokens().is_empty(),
        "neither the email nor the token went elsewhere"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_control_character_in_a_product_name_does_not_stop_its_sales() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| ping::configure(env, &url)).await;
    let form =
        sale("P-1", "buyer@example.com").field("product_name", "DataTools\u{1b}[31m Pro\n\u{202E}");
    let (_, _, answer) = server.deliver(&form).await;
    let event = server
        .settled_event(answer["event"].as_i64().unwrap())
        .await;
    assert_eq!(event["status"], "done", "{event:#}");
    let notes: String = sqlx::query_scalar("select notes from licenses")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert!(notes.contains("(DataTools[31m Pro)"), "{notes}");
    server.stop().await;
}
