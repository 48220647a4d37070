//! The `datatools-license` binary as an operator runs it: migrate, serve, stop on SIGTERM,
//! and refuse to start with a clear message.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cluster, Env};

const BIN: &str = env!("CARGO_BIN_EXE_datatools-license");

fn command(env: &Env) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .envs(&env.vars)
        .env("PATH", std::env::var("PATH").unwrap());
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn migrate_then_serve_then_stop_gracefully_on_sigterm() {
    let cluster = cluster();
    cluster.create_database("bin").await.unwrap();
    let mut env = Env::new(&cluster.url("bin"));
    let port = free_port();
    env.set("DATATOOLS_LISTEN", format!("127.0.0.1:{port}"));

    let migrate = command(&env).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let again = command(&env).arg("migrate").output().unwrap();
    assert!(again.status.success(), "migrate is idempotent");

    let mut child = command(&env)
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/health");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client.get(&url).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM is a clean stop, got {status}");
    let log: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:?}");
    // The admin token never reaches the log.
    assert!(!log.iter().any(|l| l.contains(common::ADMIN_TOKEN)));
}

#[test]
fn a_configuration_error_exits_2_naming_the_variable() {
    let mut env = Env::new("postgres://postgres@localhost/db?host=/nonexistent");
    env.set("DATATOOLS_ADMIN_TOKEN_FILE", "/nonexistent/admin_token");
    let output = command(&env).arg("serve").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DATATOOLS_ADMIN_TOKEN_FILE")
            && stderr.contains("/nonexistent/admin_token"),
        "{stderr}"
    );
}

#[test]
fn migrations_lists_the_embedded_ones_without_configuration_or_database() {
    let out = Command::new(BIN)
        .env_clear()
        .arg("migrations")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: String = datatools_license::db::MIGRATOR
        .iter()
        .map(|m| format!("{} {}\n", m.version, m.description))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    assert!(want.lines().count() >= 5, "{want}");
}
