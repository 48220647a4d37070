//! The `datatools-license` binary with the Gumroad webhook on: a sale becomes an email in the
//! outbox, a wrong secret is logged and refused, and the secret never reaches the log.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::gumroad::{sale, url_encode, CATALOGUE, WEBHOOK_SECRET};
use common::postmark::{FakePostmark, Reply};
use common::{cluster, Env};

const BIN: &str = env!("CARGO_BIN_EXE_datatools-license");

/// The binary serving the webhook; stderr piped.
struct Served {
    cluster: datatools_license::pg_cluster::Cluster,
    env: Env,
    child: std::process::Child,
    base: String,
}

impl Served {
    /// Stops the server with SIGTERM and returns what it logged.
    fn stop(mut self) -> String {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        assert!(self.child.wait().unwrap().success());
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        log
    }

    /// Kills the server with SIGKILL (a crash, an OOM kill): nothing is finished or recorded.
    fn crash(mut self) -> (datatools_license::pg_cluster::Cluster, Env) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        (self.cluster, self.env)
    }
}

/// A fresh database and the webhook's configuration (with the email outbox unless `configure`
/// replaces it).
async fn serve_binary(configure: impl FnOnce(&mut Env)) -> Served {
    let cluster = cluster();
    cluster.create_database("hook").await.unwrap();
    let mut env = Env::new(&cluster.url("hook"));
    let secret = env.path("gumroad_secret");
    std::fs::write(&secret, format!("{WEBHOOK_SECRET}\n")).unwrap();
    let products = env.path("products.toml");
    std::fs::write(&products, CATALOGUE).unwrap();
    let outbox = env.path("outbox");
    env.set("GUMROAD_WEBHOOK_SECRET_FILE", secret.to_str().unwrap())
        .set("DATATOOLS_PRODUCTS_FILE", products.to_str().unwrap())
        .set("DATATOOLS_OUTBOX_DIR", outbox.to_str().unwrap());
    configure(&mut env);
    let command = binary(&env, "migrate");
    assert!({ command }.output().unwrap().status.success());
    serve_on(cluster, env).await
}

fn binary(env: &Env, arg: &str) -> Command {
    let mut c = Command::new(BIN);
    c.arg(arg)
        .env_clear()
        .envs(&env.vars)
        .env("PATH", std::env::var("PATH").unwrap());
    c
}

/// Serves `env` (already migrated) on a new port; waits for /health.
async fn serve_on(cluster: datatools_license::pg_cluster::Cluster, mut env: Env) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.set("DATATOOLS_LISTEN", format!("127.0.0.1:{port}"));
    let child = binary(&env, "serve")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Served {
        cluster,
        env,
        child,
        base,
    }
}

#[tokio::test]
async fn the_binary_receives_processes_and_never_logs_the_secret() {
    let served = serve_binary(|_| {}).await;
    let (client, base) = (reqwest::Client::new(), served.base.clone());
    let outbox = served.env.path("outbox");
    let body = sale("BIN-1==", "bin@example.com").encode();
    let post = |secret: &str| {
        client
            .post(format!(
                "{base}/webhooks/gumroad?secret={}",
                url_encode(secret)
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-real-ip", "198.51.100.7")
            .body(body.clone())
            .send()
    };
    assert_eq!(
        post("not-the-secret-0123456789").await.unwrap().status(),
        404
    );
    assert_eq!(post(WEBHOOK_SECRET).await.unwrap().status(), 200);

    let deadline = Instant::now() + Duration::from_secs(20);
    let mail = loop {
        let files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(file) = files.first() {
            break std::fs::read_to_string(file.path()).unwrap();
        }
        assert!(Instant::now() < deadline, "no email in the outbox");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(mail.contains("To: bin@example.com"), "{mail}");
    assert!(mail.contains("\nDTLIC2:"), "{mail}");

    let log = strip_ansi(&served.stop());
    assert!(
        log.contains("gumroad webhook: missing or wrong secret") && log.contains("198.51.100.7"),
        "{log}"
    );
    assert!(log.contains("gumroad delivery stored"), "{log}");
    assert!(log.contains("path=/webhooks/gumroad"), "{log}");
    assert!(
        !log.contains(WEBHOOK_SECRET),
        "the secret reached the log:\n{log}"
    );
    assert!(
        !log.contains("not-the-secret"),
        "a guessed secret reached the log:\n{log}"
    );
    assert!(
        !log.contains("secret="),
        "a query string reached the log:\n{log}"
    );
}

/// The log without terminal colour codes (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A delivery's fields are logged with control characters escaped: a value cannot forge a log
/// line or drive the terminal of whoever reads the log, and colours are written only to a
/// terminal (stderr here is a pipe, as under docker).
#[tokio::test]
async fn delivery_fields_cannot_forge_log_lines_or_send_escapes() {
    let served = serve_binary(|_| {}).await;
    let forged = "2026-01-01T00:00:00Z  INFO forged: admin token accepted";
    let body = sale("LOG-1==", "log@example.com")
        .field("resource_name", &format!("sale\n{forged}\u{1b}[2J"))
        .field("sale_id", &format!("LOG-1\r\n{forged}"))
        .encode();
    let response = reqwest::Client::new()
        .post(format!(
            "{}/webhooks/gumroad?secret={}",
            served.base,
            url_encode(WEBHOOK_SECRET)
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Give the worker a moment to log the outcome too.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = served.stop();
    assert!(
        !log.contains('\u{1b}'),
        "an escape byte reached the log:\n{log:?}"
    );
    assert!(
        log.lines().all(|line| !line.starts_with("2026-01-01")),
        "a forged line:\n{log}"
    );
    assert!(
        log.contains("forged"),
        "the value is logged, escaped:\n{log}"
    );
    assert!(
        log.contains("\\u{a}"),
        "the newline is shown escaped:\n{log}"
    );
}

/// The process dies while Postmark is still answering the send: nobody knows whether the email
/// left. The next attempt sends it again (at least once) and the event says the buyer may have
/// received it twice, so the operator can tell a confused buyer why.
#[tokio::test]
async fn a_crash_during_the_mail_call_resends_and_says_possibly_twice() {
    let postmark = FakePostmark::start().await;
    postmark.script([Reply::slow_ok(Duration::from_secs(60))]);
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), common::postmark::TOKEN).unwrap();
    let served = serve_binary(|env| {
        env.unset("DATATOOLS_OUTBOX_DIR")
            .set("POSTMARK_TOKEN_FILE", token.path().to_str().unwrap())
            .set("POSTMARK_API_URL", postmark.url.clone());
    })
    .await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/webhooks/gumroad?secret={}",
            served.base,
            url_encode(WEBHOOK_SECRET)
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sale("CRASH-1==", "crash@example.com").encode())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while postmark.requests().is_empty() {
        assert!(Instant::now() < deadline, "the email was never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Postmark has the request and is still "answering": the process dies now.
    let (cluster, mut env) = served.crash();
    // The worker's lease would run out after a minute; skip the wait.
    let db = sqlx::PgPool::connect(&cluster.url("hook")).await.unwrap();
    sqlx::query("update gumroad_events set lease_until = now() - interval '1 second'")
        .execute(&db)
        .await
        .unwrap();
    env.set("DATATOOLS_LOG", "info");
    let served = serve_on(cluster, env).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, duplicated, outcome): (String, bool, Option<String>) = loop {
        let row: (String, bool, Option<String>) =
            sqlx::query_as("select status, email_possibly_duplicated, outcome from gumroad_events")
                .fetch_one(&db)
                .await
                .unwrap();
        if row.0 == "done" {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "the event did not finish: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, "done");
    assert!(
        duplicated,
        "the event must say the email may have gone twice"
    );
    let outcome = outcome.unwrap();
    assert!(
        outcome.contains("may receive this email twice"),
        "{outcome}"
    );
    assert_eq!(postmark.requests().len(), 2, "sent again after the crash");
    let licenses: i64 = sqlx::query_scalar("select count(*) from licenses")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(licenses, 1, "one license, however many emails");
    db.close().await;
    served.stop();
}
