//! The whole chain on a provisioned PR 2 sandbox, as the operator meets it: a backup run fails on
//! the host, `dtops status` reports it to the api, and the alert email arrives at a local server
//! playing Postmark's `POST /email`, once, however often status runs; a good backup closes it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::sandbox::Sandbox;
use common::{stderr, stdout};
use serde_json::{json, Value};

const BACKUPS: &str = "/srv/datatools-license/backups";

/// A local HTTP server answering every `POST /email` like Postmark does, recording the bodies.
struct FakePostmark {
    url: String,
    emails: Arc<Mutex<Vec<Value>>>,
}

impl FakePostmark {
    fn start() -> FakePostmark {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let emails = Arc::new(Mutex::new(Vec::new()));
        let seen = emails.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let email: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let n = {
                    let mut emails = seen.lock().unwrap();
                    emails.push(email.clone());
                    emails.len()
                };
                let answer = json!({"To": email["To"], "SubmittedAt": "2026-01-01T00:00:00Z",
                    "MessageID": format!("msg-{n}"), "ErrorCode": 0, "Message": "OK"})
                .to_string();
                let _ = write!(
                    reader.get_mut(),
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        FakePostmark { url, emails }
    }

    fn alerts(&self) -> Vec<Value> {
        self.emails
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["Tag"] == "alert")
            .cloned()
            .collect()
    }
}

fn status(sandbox: &Sandbox) -> (i32, String) {
    let out = sandbox.dtops(&["status"]);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn a_failed_backup_reaches_the_operator_as_one_email_through_postmark() {
    let postmark = FakePostmark::start();
    let url = postmark.url.clone();
    let sandbox = Sandbox::with_site(|text| {
        text.replace("stage = \"pr1\"", "stage = \"pr2\"")
            .replace("gumroad = false", "gumroad = true")
            .replace("postmark = false", "postmark = true")
            .replace(
                "# postmark_api_url = \"https://api.postmarkapp.com\"",
                &format!("postmark_api_url = \"{url}\""),
            )
            .replace(
                "# email = \"ops@example.com\"",
                "email = \"ops@example.com\"\ncheck_seconds = 1",
            )
    });
    for (name, value) in [
        ("postmark_token", "pm-token-0123456789"),
        ("gumroad_secret", "0123456789abcdef0123456789abcdef"),
    ] {
        let path = sandbox.path(&format!("/srv/datatools-license/secrets/{name}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, value).unwrap();
    }
    sandbox.provision();
    let (code, text) = status(&sandbox);
    assert_eq!(code, 0, "{text}");

    // The backup cannot be written: the job fails and records why.
    let backups = sandbox.path(BACKUPS);
    let aside = sandbox.path(&format!("{BACKUPS}.aside"));
    std::fs::rename(&backups, &aside).unwrap();
    std::fs::write(&backups, "not a directory").unwrap();
    assert!(!sandbox.dtops(&["backup"]).status.success());

    let (code, text) = status(&sandbox);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("! [backup_failed]"), "{text}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while postmark.alerts().is_empty() {
        assert!(Instant::now() < deadline, "no alert email arrived");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mail = &postmark.alerts()[0];
    assert_eq!(mail["To"], "ops@example.com");
    assert_eq!(mail["From"], "licenses@datatools.unalogix.com");
    let body = mail["TextBody"].as_str().unwrap();
    assert!(body.contains("the last backup run failed at"), "{body}");
    assert!(body.contains("`sudo dtops backup`"), "{body}");

    // Status runs again (as the hourly job would): still that one email, now said mailed.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(1200));
        let (code, text) = status(&sandbox);
        assert_eq!(code, 1, "{text}");
    }
    assert_eq!(postmark.alerts().len(), 1);

    // Fixed: a good backup, reported by the next status; nothing more is mailed.
    std::fs::remove_file(&backups).unwrap();
    std::fs::rename(&aside, &backups).unwrap();
    let out = sandbox.dtops(&["backup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, text) = status(&sandbox);
    assert_eq!(code, 0, "{text}");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(postmark.alerts().len(), 1);
    assert_eq!(
        postmark.emails.lock().unwrap().len(),
        1,
        "no other email was sent"
    );
}
