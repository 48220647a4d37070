//! Issue 12 item 1, as the operator meets it: 500 active licenses, a key rotation re-issued with
//! email through a slow mail provider (0.4 s a message), and the server process killed with
//! SIGKILL midway. The request answers at once; after a restart the job continues by itself, a
//! second request (a client that timed out) follows the same job, and in the end every license
//! is re-signed exactly once, every buyer has the new blob (at least once: a send cut off by
//! the kill is repeated and flagged), and the counts are exact. A rerun finds nothing missing.

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::postmark::FakePostmark;
use common::reissue::{finished, job, key_change, reissue_request};
use common::{mint_body, Env, TestServer};
use datatools_license::license::{self, TrustedKeys};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_datatools-license");
const LICENSES: usize = 500;
const MAIL_DELAY: Duration = Duration::from_millis(400);
/// The server's re-issue workers (`reissue::worker::WORKERS`): at most this many sends can be
/// cut off by the kill.
const WORKERS: i64 = 4;

/// The binary serving `env`; its log goes to a file (a pipe nobody reads would fill and stall
/// it).
struct Served {
    child: std::process::Child,
    base: String,
}

impl Served {
    async fn start(env: &mut Env, log: &str) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        env.set("DATATOOLS_LISTEN", format!("127.0.0.1:{port}"));
        let log = std::fs::File::create(env.path(log)).unwrap();
        let child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .envs(&env.vars)
            .env("PATH", std::env::var("PATH").unwrap())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while client.get(format!("{base}/health")).send().await.is_err() {
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Served { child, base }
    }

    /// SIGKILL: nothing is finished or recorded.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and a clean exit.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(self.child.wait().unwrap().success());
    }
}

async fn count(db: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_licenses_survive_a_kill_midway_each_re_signed_once_and_emailed() {
    let postmark = FakePostmark::start().await;
    postmark.set_delay(MAIL_DELAY);

    // 500 licenses signed with the development key, through the real mint API.
    let server = TestServer::start().await;
    let mut body = mint_body();
    for n in 0..LICENSES {
        body["email"] = format!("buyer{n:03}@example.com").into();
        server.mint(&body).await;
    }
    let (cluster, mut env) = server.stop_keeping_database().await;
    let db = sqlx::PgPool::connect(&cluster.url("datatools"))
        .await
        .unwrap();

    // The rotation: the server now signs with a new key and still trusts the old one.
    let new_key = key_change(&mut env);
    let token = env.path("postmark_token");
    std::fs::write(&token, common::postmark::TOKEN).unwrap();
    env.set("POSTMARK_TOKEN_FILE", token.to_str().unwrap())
        .set("POSTMARK_API_URL", postmark.url.clone());
    let served = Served::start(&mut env, "first.log").await;

    let asked = Instant::now();
    let response = reissue_request(&served.base, Some(true)).await;
    let answered = asked.elapsed();
    assert_eq!(response.status(), 200);
    let started: Value = response.json().await.unwrap();
    assert!(
        answered < Duration::from_secs(5),
        "the request must answer at once, not after the work: {answered:?}"
    );
    assert_eq!(started["state"], "running");
    assert_eq!(started["total"], LICENSES);
    let id = started["id"].clone();

    // Midway: a third of the buyers emailed, then the process is killed.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = job(&served.base, &id).await;
        if now["emailed"].as_i64().unwrap() >= (LICENSES / 3) as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {now:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    served.kill();
    let killed_at = asked.elapsed();
    let emailed_at_kill = count(
        &db,
        "select count(*) from reissue_items where emailed_at is not null",
    )
    .await;
    let cut_off = count(
        &db,
        "select count(*) from reissue_items where email_sending_since is not null",
    )
    .await;
    assert!(emailed_at_kill < LICENSES as i64, "killed too late");

    // Started again with the same configuration: the job continues by itself, and a client that
    // gave up and asks again follows the same job.
    let restarted = Instant::now();
    let served = Served::start(&mut env, "second.log").await;
    let again: Value = reissue_request(&served.base, Some(true))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((&again["id"], &again["resumed"]), (&id, &Value::from(true)));
    let done = finished(&served.base, &id, Duration::from_secs(300)).await;
    let after_restart = restarted.elapsed();
    let total = asked.elapsed();
    println!(
        "500 licenses, mail {MAIL_DELAY:?} a message: answered in {answered:?}; killed after \
         {killed_at:?} with {emailed_at_kill} emailed and {cut_off} send(s) in flight; done \
         {after_restart:?} after the restart ({total:?} in all)"
    );

    // Exact counts.
    assert_eq!(done["state"], "done", "{done:#}");
    for (field, want) in [
        ("total", LICENSES),
        ("to_resign", LICENSES),
        ("resigned", LICENSES),
        ("to_email", LICENSES),
        ("emailed", LICENSES),
        ("pending", 0),
        ("failed", 0),
        ("skipped", 0),
    ] {
        assert_eq!(done[field], want, "{field}: {done:#}");
    }

    // Every license re-signed exactly once, with the new key, its old blob kept.
    let reissues = count(&db, "select count(*) from license_reissues").await;
    let distinct = count(
        &db,
        "select count(distinct license_key) from license_reissues",
    )
    .await;
    assert_eq!((reissues, distinct), (LICENSES as i64, LICENSES as i64));
    assert_eq!(
        count(
            &db,
            "select count(*) from license_reissues where emailed_at is null"
        )
        .await,
        0
    );
    let blobs: Vec<(String, String, String)> =
        sqlx::query_as("select license_key, email, blob from licenses order by id")
            .fetch_all(&db)
            .await
            .unwrap();
    let new_keys = TrustedKeys::from(&new_key);
    for (key, _, blob) in &blobs {
        let verified = license::verify(blob, &new_keys, Utc::now())
            .unwrap_or_else(|e| panic!("{key} does not verify with the new key: {e}"));
        assert_eq!(verified.license_key.as_str(), key);
    }

    // Every buyer got the new blob; a repeat only where a send was cut off, and flagged.
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    for request in postmark.requests() {
        sent.entry(request["To"].as_str().unwrap().to_string())
            .or_default()
            .push(request["TextBody"].as_str().unwrap().to_string());
    }
    assert_eq!(sent.len(), LICENSES, "every buyer, and only them");
    for (key, email, blob) in &blobs {
        let mails = &sent[email];
        assert!(
            mails.iter().any(|m| m.contains(blob.as_str())),
            "{email} never got the new blob of {key}"
        );
    }
    let repeated: Vec<&String> = sent
        .iter()
        .filter(|(_, mails)| mails.len() > 1)
        .map(|(to, _)| to)
        .collect();
    let flagged: Vec<String> = sqlx::query_scalar(
        "select l.email from reissue_items i join licenses l using (license_key) \
         where i.email_possibly_duplicated",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    for to in &repeated {
        assert!(
            flagged.contains(to),
            "{to} got two emails and is not flagged"
        );
        assert_eq!(sent[*to].len(), 2, "{to}");
    }
    let flagged_count = done["possibly_duplicated"].as_i64().unwrap();
    assert_eq!(flagged_count, flagged.len() as i64);
    assert!(
        flagged_count <= WORKERS && flagged_count == cut_off,
        "flagged {flagged_count}, cut off {cut_off}"
    );
    assert!(repeated.len() as i64 <= flagged_count);

    // Once more: nothing is missing, nothing is sent.
    let requests = postmark.requests().len();
    let rerun: Value = reissue_request(&served.base, Some(true))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(rerun["id"], id);
    assert_eq!(
        (&rerun["state"], &rerun["total"], &rerun["emailed"]),
        (&Value::from("done"), &Value::from(0), &Value::from(0))
    );
    assert_eq!(rerun["already_current"], LICENSES);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(postmark.requests().len(), requests);
    served.stop();
    db.close().await;
    drop(cluster);
}
