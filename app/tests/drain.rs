//! SIGTERM under load, as `docker stop` and dtops' blue/green switch send it: 16 clients post
//! Gumroad deliveries as fast as the server answers, each on a connection of its own (what nginx
//! does upstream), and the server is told to stop in the middle. It must answer every
//! connection it accepted (those in the kernel's accept queue included), refuse the ones that
//! come after (nginx retries a refused connection, even a POST), exit 0 within its bound, and
//! store every delivery it acknowledged exactly once.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::gumroad::{sale, CATALOGUE, WEBHOOK_SECRET};
use common::process::{migrate, ServerProcess};
use common::{cluster, Env};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 16;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// An HTTP answer with this status.
    Answered(u16),
    /// The connection was refused: the server had stopped listening (never accepted).
    Refused,
    /// The connection was accepted, then reset or closed without an answer.
    Dropped(String),
}

/// One POST on a fresh connection (`Connection: close`, as nginx sends it upstream).
async fn post(port: u16, path: &str, body: &str) -> Outcome {
    let mut stream = match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(stream) => stream,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Outcome::Refused,
        Err(e) => return Outcome::Dropped(format!("connect: {e}")),
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if let Err(e) = stream.write_all(request.as_bytes()).await {
        return Outcome::Dropped(format!("write: {e}"));
    }
    let mut answer = Vec::new();
    if let Err(e) = stream.read_to_end(&mut answer).await {
        return Outcome::Dropped(format!("read: {e}"));
    }
    let text = String::from_utf8_lossy(&answer);
    match text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
    {
        Some(status) => Outcome::Answered(status),
        None => Outcome::Dropped(format!("no HTTP answer ({} bytes)", answer.len())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_answers_every_accepted_connection_and_exits_0() {
    let cluster = cluster();
    cluster.create_database("drain").await.unwrap();
    let mut env = Env::new(&cluster.url("drain"));
    std::fs::write(env.path("gumroad_secret"), WEBHOOK_SECRET).unwrap();
    std::fs::write(env.path("products.toml"), CATALOGUE).unwrap();
    let (secret, products, outbox) = (
        env.path("gumroad_secret"),
        env.path("products.toml"),
        env.path("outbox"),
    );
    env.set("GUMROAD_WEBHOOK_SECRET_FILE", secret.to_str().unwrap())
        .set("DATATOOLS_PRODUCTS_FILE", products.to_str().unwrap())
        .set("DATATOOLS_OUTBOX_DIR", outbox.to_str().unwrap());
    migrate(&env);
    let mut server = ServerProcess::start(&env, "server").await;
    let path = format!("/webhooks/gumroad?secret={WEBHOOK_SECRET}");

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (stop, path, port) = (stop.clone(), path.clone(), server.port);
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("DRAIN-{client}-{n}==");
                    let body = sale(&id, &format!("drain-{client}-{n}@example.com")).encode();
                    let outcome = post(port, &path, &body).await;
                    let refused = outcome == Outcome::Refused;
                    outcomes.push((id, outcome));
                    if refused {
                        break;
                    }
                }
                outcomes
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let signalled = Instant::now();
    server.terminate();
    let (status, took) = server.wait_exit(Duration::from_secs(25)).await;
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for client in clients {
        outcomes.extend(client.await.unwrap());
    }

    let answered: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::Answered(200))
        .map(|(id, _)| id.as_str())
        .collect();
    let refused = outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::Refused)
        .count();
    let dropped: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Dropped(_)))
        .collect();
    let other: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Answered(s) if *s != 200))
        .collect();
    eprintln!(
        "drain: {} requests: {} answered 200, {} refused after the listener closed, {} dropped \
         after being accepted, {} other answers; exit {status} {:.0?} after SIGTERM",
        outcomes.len(),
        answered.len(),
        refused,
        dropped.len(),
        other.len(),
        took
    );
    for (id, outcome) in &dropped {
        eprintln!("drain: {id}: {outcome:?}");
    }
    assert!(answered.len() > 100, "too little load to mean anything");
    assert!(
        dropped.is_empty(),
        "connections accepted and not answered: {dropped:?}"
    );
    assert!(other.is_empty(), "{other:?}");
    assert!(
        status.success(),
        "exit {status}; log:\n{}",
        server.log_text()
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(signalled.elapsed() < Duration::from_secs(25));
    let log = server.log_text();
    assert!(log.contains("drained"), "{log}");

    // Every acknowledged delivery is stored, once; nothing unacknowledged was stored.
    let pool = sqlx::PgPool::connect(&cluster.url("drain")).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("select sale_id from gumroad_events order by sale_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut want: Vec<String> = answered.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(stored, want);
}
