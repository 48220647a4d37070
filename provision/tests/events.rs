//! `dtops events`, `event`, `replay` and `resend` against `dtops dev`, whose banner's simulated
//! Gumroad sale works as printed and whose license email lands in the printed outbox.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{stderr, stdout, DevServer};

#[test]
fn a_simulated_sale_is_listed_emailed_to_the_outbox_replayed_and_resent() {
    let server = DevServer::start();
    let outbox = server.outbox.clone();
    assert!(outbox.is_dir(), "{}", server.banner);

    // The printed curl (two lines joined by a backslash) and the printed `dtops events`.
    let simulate = server.banner_block("Simulate a Gumroad sale");
    let lines: Vec<&str> = simulate.lines().collect();
    let curl = format!("{}\n{}", lines[0], lines[1]);
    let sent = Command::new("sh").args(["-c", &curl]).output().unwrap();
    assert!(sent.status.success(), "{curl}\n{}", stderr(&sent));
    assert!(
        stdout(&sent).contains("\"status\":\"received\""),
        "{}",
        stdout(&sent)
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    let listed = loop {
        let listed = Command::new("sh").args(["-c", lines[2]]).output().unwrap();
        assert!(listed.status.success(), "{}\n{}", lines[2], stderr(&listed));
        let text = stdout(&listed);
        if text.contains(" done ") {
            break text;
        }
        assert!(Instant::now() < deadline, "not processed: {text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(listed.contains("dev-sale-1"), "{listed}");
    assert!(listed.contains(" sent "), "{listed}");
    let row = listed.lines().nth(1).unwrap();
    let id = row.split_whitespace().next().unwrap().to_string();
    let key = row
        .split_whitespace()
        .find(|w| w.len() == 27 && w.matches('-').count() == 3)
        .unwrap()
        .to_string();

    let mails: Vec<_> = std::fs::read_dir(&outbox).unwrap().flatten().collect();
    assert_eq!(mails.len(), 1);
    let mail = std::fs::read_to_string(mails[0].path()).unwrap();
    assert!(mail.contains("To: buyer@example.com"), "{mail}");
    assert!(mail.contains("Hello Test Buyer,"), "{mail}");
    assert!(mail.contains("\nDTLIC2:"), "{mail}");

    let shown = server.dtops(&["event", &id]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stdout(&shown).starts_with(&format!("event {id}  (sale)\n")),
        "{}",
        stdout(&shown)
    );
    assert!(
        stdout(&shown).contains(&format!("{:<26} done", "status:")),
        "{}",
        stdout(&shown)
    );

    // A replay of a finished event changes nothing and sends nothing.
    let replayed = server.dtops(&["replay", &id]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    assert!(
        stdout(&replayed).contains("email already sent"),
        "{}",
        stdout(&replayed)
    );
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 1);

    let resent = server.dtops(&["resend", &key, "--to", "other@example.com"]);
    assert!(resent.status.success(), "{}", stderr(&resent));
    assert!(
        stdout(&resent).contains("sent to other@example.com"),
        "{}",
        stdout(&resent)
    );
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 2);

    // The replay and the resend were added to the event's history, the first email kept.
    let shown = stdout(&server.dtops(&["event", &id]));
    let history: Vec<&str> = shown
        .split("  history:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no history: {shown}"))
        .lines()
        .take_while(|line| line.starts_with("    "))
        .collect();
    let expected = [
        ("email", "sent", "purchase, to buyer@example.com (message "),
        ("attempt 1", "done", "minted"),
        ("replay", "", "asked for; the event was done"),
        ("attempt 2", "done", "email already sent"),
        (
            "email",
            "sent",
            "resend by dtops, to other@example.com (message ",
        ),
    ];
    assert_eq!(history.len(), expected.len(), "{shown}");
    for (line, (what, status, detail)) in history.iter().zip(expected) {
        let columns = &line[4 + "2026-12-02 15:04:44  ".len()..];
        assert!(
            columns.starts_with(&format!("{what:<10} {status:<9} ")),
            "{line}"
        );
        assert!(line.contains(detail), "{line}");
    }

    let failed = server.dtops(&["events", "--failed"]);
    assert!(failed.status.success());
    assert_eq!(
        stdout(&failed).lines().count(),
        1,
        "only the header: {}",
        stdout(&failed)
    );
    let by_sale = server.dtops(&["events", "--sale", "dev-sale-1", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&by_sale)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);

    let missing = server.dtops(&["replay", "424242"]);
    assert!(!missing.status.success());
}
