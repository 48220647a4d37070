//! `dtops dev`: the one-command local product.

mod common;

use std::process::Command;

use common::{dtops, stderr, stdout, DevServer};

#[tokio::test]
async fn dev_serves_mints_as_printed_and_cleans_up_on_sigterm() {
    let mut server = DevServer::start();
    assert!(server.cluster_dir.is_dir());
    let token_dir = server.token_file.parent().unwrap().to_path_buf();

    let health: serde_json::Value = reqwest::get(format!("{}/health", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, serde_json::json!({"status": "ok", "db": "ok"}));

    // The printed mint command works exactly as printed, pasted into a shell.
    let banner = &server.banner;
    let start = banner.find("Mint a license:\n").unwrap() + "Mint a license:\n".len();
    let end = banner[start..].find("\n\n").unwrap() + start;
    let mint_command = &banner[start..end];
    let minted = Command::new("sh")
        .args(["-c", mint_command])
        .output()
        .unwrap();
    assert!(
        minted.status.success(),
        "{mint_command}\n{}",
        stderr(&minted)
    );
    let blob = stdout(&minted).trim().to_string();
    assert!(blob.starts_with("DTLIC2:"), "{blob}");

    // So does the printed verify command with the blob in place of <BLOB>.
    let start = banner.find("Verify a blob:\n").unwrap() + "Verify a blob:\n".len();
    let verify_command = banner[start..]
        .lines()
        .next()
        .unwrap()
        .replace("<BLOB>", &blob);
    let verified = Command::new("sh")
        .args(["-c", &verify_command])
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", stdout(&verified));
    assert!(stdout(&verified).contains("VALID"), "{}", stdout(&verified));
    assert!(stdout(&verified).contains("email:       test@example.com"));

    let status = server.terminate();
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    assert!(
        !server.cluster_dir.exists(),
        "the cluster directory is deleted"
    );
    assert!(!token_dir.exists(), "the token directory is deleted");
    let leftover = Command::new("pgrep")
        .args(["-f", server.cluster_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        stdout(&leftover).trim().is_empty(),
        "postgres still running: {}",
        stdout(&leftover)
    );
}

#[test]
fn dev_without_postgres_says_what_to_install() {
    let output = dtops()
        .args(["dev", "--port", &common::free_port().to_string()])
        .env("DATATOOLS_PG_BIN", "/nonexistent/bin")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("apt-get install postgresql"), "{err}");
}

#[test]
fn dev_on_a_busy_port_says_to_pick_another() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let output = dtops().args(["dev", "--port", &port]).output().unwrap();
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains(&port) && err.contains("--port"), "{err}");
}

/// Closing the terminal `dtops dev` runs in (SIGHUP) stops it cleanly too: no cluster, no token
/// left behind.
#[test]
fn dev_cleans_up_on_sighup() {
    let mut server = DevServer::start();
    let token_dir = server.token_file.parent().unwrap().to_path_buf();
    assert!(server.cluster_dir.is_dir());
    let status = server.signal("-HUP");
    assert!(status.success(), "SIGHUP is a clean stop: {status}");
    assert!(
        !server.cluster_dir.exists(),
        "the cluster directory is deleted"
    );
    assert!(!token_dir.exists(), "the token directory is deleted");
}
