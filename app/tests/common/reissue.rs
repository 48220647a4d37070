//! Re-issue jobs from the client's side: start one, follow it until it ends, and the key change
//! that makes one necessary.

use std::time::{Duration, Instant};

use datatools_license::license::SigningKeyPair;
use reqwest::Method;
use serde_json::{json, Value};

use super::{Env, TestServer, ADMIN_TOKEN};

/// A rotation on `env`: a new signing key, the development key still trusted. Returns the new
/// key.
pub fn key_change(env: &mut Env) -> SigningKeyPair {
    let new_key = SigningKeyPair::generate();
    let key_file = env.path("license_privkey");
    std::fs::write(&key_file, new_key.seed_hex()).unwrap();
    env.set("DATATOOLS_LICENSE_PRIVKEY_FILE", key_file.to_str().unwrap())
        .set(
            "DATATOOLS_TRUSTED_PUBKEYS",
            SigningKeyPair::dev().public_hex(),
        );
    new_key
}

/// `POST /internal/reissue` at `base`: `email` None sends no body.
pub async fn reissue_request(base: &str, email: Option<bool>) -> reqwest::Response {
    let request = reqwest::Client::new()
        .post(format!("{base}/internal/reissue"))
        .bearer_auth(ADMIN_TOKEN);
    let request = match email {
        Some(email) => request.json(&json!({ "email": email })),
        None => request,
    };
    request.send().await.unwrap()
}

/// `GET /internal/reissue/{id}` at `base`.
pub async fn job(base: &str, id: &Value) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{base}/internal/reissue/{id}"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Follows job `id` at `base` until it is no longer running (at most `limit`).
pub async fn finished(base: &str, id: &Value, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let job = job(base, id).await;
        if job["state"] != "running" {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "re-issue job {id} did not finish: {job:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts a job on `server` (insisting on 200) and follows it to its end.
pub async fn reissue(server: &TestServer, email: Option<bool>) -> Value {
    let base = server.url("");
    let response = reissue_request(&base, email).await;
    assert_eq!(response.status(), 200);
    let started: Value = response.json().await.unwrap();
    finished(&base, &started["id"], Duration::from_secs(30)).await
}

impl TestServer {
    /// `GET` an admin path, insisting on 200.
    pub async fn admin_get(&self, path: &str) -> Value {
        let response = self.admin(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }
}
