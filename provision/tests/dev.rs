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

/// The buyer portal `dtops dev` points at signs a buyer in: the sign-in page, a sign-in
/// request, the link mailed to the outbox and its confirm page. (The printed sale simulation is
/// tests/events.rs; the whole sign-in in a real browser is app/tests/portal_browser.rs.)
#[tokio::test]
async fn dev_serves_the_buyer_portal_which_mails_a_sign_in_link_to_the_outbox() {
    let server = DevServer::start();
    common::mint(&server, &[]);
    let portal = server.banner_block("The buyer portal");
    let portal_url = portal.trim();
    assert_eq!(portal_url, format!("{}/portal/", server.url));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(portal_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("__Host-dt_csrf="))
        .expect("the sign-in page sets its form cookie");
    let html = page.text().await.unwrap();
    let csrf = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form carries its token");

    let asked = http
        .post(format!("{}/portal/sign-in", server.url))
        .header("origin", &server.url)
        .header("cookie", &cookie)
        .form(&[("csrf", csrf), ("email", "test@example.com")])
        .send()
        .await
        .unwrap();
    assert!(
        asked.status().is_success() || asked.status().is_redirection(),
        "{}",
        asked.status()
    );
    let link = poll(|| {
        std::fs::read_dir(&server.outbox)
            .unwrap()
            .filter_map(|entry| std::fs::read_to_string(entry.unwrap().path()).ok())
            .filter(|mail| mail.contains("To: test@example.com"))
            .find_map(|mail| {
                let mail = mail.replace("=\r\n", "").replace("=\n", "");
                let at = mail.find(&format!("{}/portal/link?t=", server.url))?;
                mail[at..].split_whitespace().next().map(str::to_string)
            })
    })
    .await
    .expect("a sign-in link for test@example.com in the outbox");
    let confirm = http.get(&link).send().await.unwrap();
    assert_eq!(confirm.status(), 200, "{link}");
    let confirm = confirm.text().await.unwrap();
    assert!(
        confirm.contains("<form") && confirm.contains("method=\"post\""),
        "{confirm}"
    );
}

/// `check` every 100 ms until it answers, for up to 20 s.
async fn poll<T>(mut check: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..200 {
        if let Some(found) = check() {
            return Some(found);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}
