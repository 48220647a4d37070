//! Local HTTP servers playing the services the api calls out to: Postmark's `POST /email` here,
//! Gumroad's sales API in `fake_gumroad.rs`. Each runs on a thread of its own, so a test can run
//! `dtops` (blocking) meanwhile; the api reaches it on 127.0.0.1.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// Serves `router` on 127.0.0.1 from a thread of its own; returns its base URL.
pub fn serve(router: Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    url
}

#[derive(Default)]
struct Inner {
    requests: Vec<Value>,
    delay: Duration,
    /// Addresses answered as inactive recipients (Postmark's 406: a permanent failure).
    inactive: HashSet<String>,
}

/// Postmark's `POST /email`: records every message, answers after `delay`.
#[derive(Clone, Default)]
pub struct Postmark {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

impl Postmark {
    pub fn start() -> Postmark {
        let mut fake = Postmark::default();
        fake.url = serve(
            Router::new()
                .route("/email", post(email))
                .with_state(fake.clone()),
        );
        fake
    }

    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    /// Messages to `address` are refused as to an inactive recipient until `accept` is called.
    pub fn refuse(&self, address: &str) {
        self.inner.lock().unwrap().inactive.insert(address.into());
    }

    pub fn accept(&self, address: &str) {
        self.inner.lock().unwrap().inactive.remove(address);
    }

    /// The text body of every message to `address`, in order.
    pub fn text_bodies_to(&self, address: &str) -> Vec<String> {
        self.inner
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r["To"].as_str() == Some(address))
            .map(|r| r["TextBody"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// The `To` of every message asked for, in order.
    pub fn recipients(&self) -> Vec<String> {
        self.inner
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|r| r["To"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

async fn email(State(fake): State<Postmark>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let to = body["To"].as_str().unwrap_or("").to_string();
    let (n, delay, inactive) = {
        let mut inner = fake.inner.lock().unwrap();
        inner.requests.push(body);
        (
            inner.requests.len(),
            inner.delay,
            inner.inactive.contains(&to),
        )
    };
    tokio::time::sleep(delay).await;
    if inactive {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(
                json!({"ErrorCode": 406, "Message": "You tried to send to a recipient that has been marked as inactive."}),
            ),
        );
    }
    (
        StatusCode::OK,
        Json(json!({
            "To": to, "SubmittedAt": "2026-01-01T00:00:00Z", "MessageID": format!("msg-{n:04}"),
            "ErrorCode": 0, "Message": "OK",
        })),
    )
}
