//! A local HTTP server playing Postmark's `POST /email`: records every request and answers
//! with scripted replies (success by default).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub const TOKEN: &str = "postmark-server-token-for-tests";

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub delay: Duration,
}

impl Reply {
    pub fn error(status: u16, code: i64, message: &str) -> Reply {
        Reply {
            status,
            body: json!({"ErrorCode": code, "Message": message}),
            delay: Duration::ZERO,
        }
    }

    pub fn slow_ok(delay: Duration) -> Reply {
        Reply {
            status: 200,
            body: Value::Null, // filled in like a success
            delay,
        }
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Value>,
    tokens: Vec<String>,
    script: VecDeque<Reply>,
    /// How long an unscripted success takes.
    delay: Duration,
}

#[derive(Clone, Default)]
pub struct FakePostmark {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

impl FakePostmark {
    pub async fn start() -> FakePostmark {
        let mut fake = FakePostmark::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        fake.url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/email", post(email))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Answers the next requests with these replies, in order; then success again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// Every unscripted success takes `delay` from now on (a slow provider).
    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    pub fn requests(&self) -> Vec<Value> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn tokens(&self) -> Vec<String> {
        self.inner.lock().unwrap().tokens.clone()
    }
}

async fn email(
    State(fake): State<FakePostmark>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let (reply, delay) = {
        let mut inner = fake.inner.lock().unwrap();
        inner.requests.push(body.clone());
        inner.tokens.push(
            headers
                .get("x-postmark-server-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        );
        (inner.script.pop_front(), inner.delay)
    };
    let n = fake.inner.lock().unwrap().requests.len();
    let success = json!({
        "To": body["To"],
        "SubmittedAt": "2026-01-01T00:00:00Z",
        "MessageID": format!("msg-{n:04}"),
        "ErrorCode": 0,
        "Message": "OK",
    });
    match reply {
        None => {
            tokio::time::sleep(delay).await;
            (StatusCode::OK, Json(success))
        }
        Some(reply) => {
            tokio::time::sleep(reply.delay).await;
            let body = if reply.body.is_null() {
                success
            } else {
                reply.body
            };
            (StatusCode::from_u16(reply.status).unwrap(), Json(body))
        }
    }
}
