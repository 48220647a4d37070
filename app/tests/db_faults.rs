//! The server against a database that restarts or hangs: at most one request fails after a
//! restart, /health recovers at once, and a hung database never holds the webhook past
//! Gumroad's patience.

mod common;

use std::time::{Duration, Instant};

use common::gumroad::{self, sale};
use common::postmark::FakePostmark;
use common::{mint_body, TestServer};
use reqwest::{Method, StatusCode};

/// Fills the pool: `n` concurrent requests each hold a connection for a moment.
async fn warm_pool(server: &TestServer, n: usize) {
    let requests: Vec<_> = (0..n)
        .map(|_| {
            let request = server
                .admin(Method::GET, "/internal/licenses?limit=5")
                .send();
            tokio::spawn(request)
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn after_a_database_restart_at_most_one_request_fails() {
    let mut server = TestServer::start().await;
    server.mint(&mint_body()).await;
    for pause in [Duration::ZERO, Duration::from_millis(1500)] {
        warm_pool(&server, 16).await;
        server.cluster.restart().unwrap();
        tokio::time::sleep(pause).await;
        let started = Instant::now();
        let mut failed = 0;
        for _ in 0..40 {
            let response = server
                .admin(Method::GET, "/internal/licenses?limit=5")
                .send()
                .await
                .unwrap();
            if response.status() != StatusCode::OK {
                failed += 1;
            }
        }
        assert!(
            failed <= 1,
            "{failed} of 40 requests failed after the restart (pause {pause:?})"
        );
        let health = server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // /health alone, right after a restart: healthy within 2 s (at once, in fact).
    warm_pool(&server, 16).await;
    server.cluster.restart().unwrap();
    let started = Instant::now();
    loop {
        let health = server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
        if health.status() == StatusCode::OK {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "/health still failing {:?} after the restart",
            started.elapsed()
        );
    }
}

/// A database that accepts connections but answers nothing (SIGSTOPped): the webhook answers
/// 503 within ~3 s (Gumroad waits 5 s, then retries a 5xx), and /health answers within 2 s.
#[tokio::test]
async fn a_hung_database_never_holds_the_webhook_past_gumroads_timeout() {
    let postmark = FakePostmark::start().await;
    let url = postmark.url.clone();
    let server = TestServer::start_with(|env| gumroad::configure(env, &url)).await;
    let (status, _, _) = server.deliver(&sale("HUNG-0", "hung@example.com")).await;
    assert_eq!(status, StatusCode::OK);
    let postmaster = postmaster_pid(&server);
    let stop = |signal: &str| {
        assert!(std::process::Command::new("kill")
            .args([signal, &postmaster.to_string()])
            .status()
            .unwrap()
            .success());
    };
    // The postmaster first, so it forks no backend after the list below is taken (the pool, the
    // feed keeper and the group-commit writers open connections at any moment); then every
    // backend, since a stopped postmaster alone would still let open connections answer.
    stop("-STOP");
    let backends = children_of(postmaster);
    assert!(!backends.is_empty());
    for pid in &backends {
        let _ = std::process::Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status();
    }
    let started = Instant::now();
    let (status, elapsed, answer) = server.deliver(&sale("HUNG-1", "hung@example.com")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert!(
        elapsed < Duration::from_millis(3800),
        "webhook answered after {elapsed:?}"
    );
    let health = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(7));
    for pid in &backends {
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &pid.to_string()])
            .status();
    }
    stop("-CONT");
    // Gumroad's retry then goes through.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _, _) = server.deliver(&sale("HUNG-1", "hung@example.com")).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the webhook did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn postmaster_pid(server: &TestServer) -> u32 {
    let pidfile = server.cluster.data_dir().join("postmaster.pid");
    let text = std::fs::read_to_string(pidfile).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// Every process whose parent is `pid` (the backends and background workers of a postmaster).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid: u32 = after.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == pid).then_some(child)
        })
        .collect()
}
