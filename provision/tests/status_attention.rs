//! `dtops status`'s attention section and exit codes, on a provisioned sandbox (the real api and
//! Postgres, native runtime): 0 all well; 1 something needs you (a missing backup, an open
//! problem the server found); 2 cannot tell (the api and database down). Status also reports
//! the host's facts to the api, and `dtops alerts --ack` takes a problem out of the count.

mod common;

use std::time::{Duration, Instant};

use common::sandbox::Sandbox;
use common::{dtops, stderr, stdout};

const LAST_GOOD: &str = "/srv/datatools-license/.dtops/backup/last-good";
const STATUS_JOB: &str = "/etc/cron.d/datatools-license-status";

/// A sandbox whose api checks for problems every second and would mail ops@example.com.
fn sandbox() -> Sandbox {
    let sandbox = Sandbox::with_site(|text| {
        let edited = text.replace(
            "# email = \"ops@example.com\"",
            "email = \"ops@example.com\"\ncheck_seconds = 1",
        );
        assert_ne!(edited, text, "site.toml has no commented [alerts] email");
        edited
    });
    sandbox.provision();
    sandbox
}

/// `dtops status ARGS`: its exit code and everything it printed.
fn status(sandbox: &Sandbox, args: &[&str]) -> (i32, String) {
    let mut all = vec!["status"];
    all.extend_from_slice(args);
    let out = sandbox.dtops(&all);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

/// `dtops alerts ARGS` against the sandbox's api with its token.
fn alerts(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = dtops()
        .arg("alerts")
        .args([
            "--admin-url",
            &format!("http://127.0.0.1:{}", sandbox.api_port()),
        ])
        .arg("--token-file")
        .arg(sandbox.path("/srv/datatools-license/secrets/admin_token"))
        .args(args)
        .output()
        .unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "dtops alerts {args:?}: {text}");
    text
}

#[test]
fn all_well_is_exit_0_and_a_missing_backup_is_exit_1_naming_the_fix() {
    let sandbox = sandbox();
    let (code, text) = status(&sandbox, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("attention: nothing needs you"), "{text}");
    assert!(
        text.contains("(new problems are mailed to ops@example.com)"),
        "{text}"
    );
    let (code, text) = status(&sandbox, &["--quiet"]);
    assert_eq!((code, text.as_str()), (0, ""), "quiet when all is well");
    // Status told the api about the host.
    let list = alerts(&sandbox, &["--json"]);
    let list: serde_json::Value = serde_json::from_str(&list[..list.rfind('}').unwrap() + 1])
        .unwrap_or_else(|e| panic!("{e}: {list}"));
    assert!(list["host_report_at"].is_string(), "{list:#}");

    // The backup job's record is gone (as on a box whose backups never ran).
    std::fs::remove_file(sandbox.path(LAST_GOOD)).unwrap();
    let (code, text) = status(&sandbox, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("attention (1):"), "{text}");
    assert!(
        text.contains("! [backup_missing] there is no verified database backup"),
        "{text}"
    );
    assert!(
        text.contains("do: `sudo dtops backup` takes one now"),
        "{text}"
    );
    let (code, quiet) = status(&sandbox, &["--quiet"]);
    assert_eq!(code, 1);
    assert!(quiet.starts_with("attention (1):"), "{quiet}");
    assert!(
        !quiet.contains("deployed vs queued"),
        "only attention: {quiet}"
    );

    // The hourly job provision installed runs that very check (here with --root added: the
    // sandbox's paths), and would log the same lines.
    let cron = std::fs::read_to_string(sandbox.path(STATUS_JOB)).unwrap();
    let line = cron
        .lines()
        .find(|l| l.starts_with("17 * * * * root "))
        .unwrap_or_else(|| panic!("no hourly line in {cron}"));
    assert!(
        line.ends_with(" 2>&1 | logger -t 'datatools-license-status'"),
        "{line}"
    );
    let command = &line["17 * * * * root ".len()..line.find(" 2>&1").unwrap()];
    let words: Vec<&str> = command.split("' '").map(|w| w.trim_matches('\'')).collect();
    assert_eq!(
        words[words.len() - 4..],
        ["--runtime", "native", "status", "--quiet"],
        "{line}"
    );
    let out = std::process::Command::new(words[0])
        .args(&words[1..])
        .arg("--root")
        .arg(sandbox.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), quiet);

    // The fix it names.
    let out = sandbox.dtops(&["backup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, text) = status(&sandbox, &[]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_problem_the_server_found_is_listed_until_acknowledged() {
    let sandbox = sandbox();
    // A delivery that failed (as one with an undecodable body is stored).
    sandbox.sql(
        "datatools_licenses",
        "insert into gumroad_events (content_type, raw_body, resource_name, status, last_error) \
         values ('text/plain', 'x', 'unknown', 'failed', 'cannot decode the delivery: test')",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let (code, text) = status(&sandbox, &[]);
        if code == 1 {
            break text;
        }
        assert!(Instant::now() < deadline, "exit {code}: {text}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(text.contains("! [event_failed:"), "{text}");
    assert!(text.contains("cannot decode the delivery: test"), "{text}");
    // PR 1 has no mailer: the server says it could not mail, and status shows it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let (_, text) = status(&sandbox, &[]);
        if text.contains("NOT mailed: configuration: no mail provider") {
            break text;
        }
        assert!(Instant::now() < deadline, "{text}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let id: String = text
        .split("(alert ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no alert id in {text}"))
        .to_string();

    let listed = alerts(&sandbox, &[]);
    assert!(listed.contains("[event_failed:"), "{listed}");
    assert!(listed.contains("1 open problem(s)"), "{listed}");
    let acked = alerts(&sandbox, &["--ack", &id]);
    assert!(
        acked.contains(&format!("acknowledged alert {id}")),
        "{acked}"
    );
    let (code, text) = status(&sandbox, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("- acknowledged [event_failed:"), "{text}");
}

#[test]
fn the_api_and_database_down_is_exit_2() {
    let sandbox = sandbox();
    let out = sandbox.dtops(&["rollback", "app"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, text) = status(&sandbox, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("? the api is not running"), "{text}");
    assert!(text.contains("? the database is not running"), "{text}");
    assert!(
        text.contains("do: `sudo dtops provision` starts it"),
        "{text}"
    );

    // A status that cannot even read its site.toml cannot tell either.
    let out = dtops()
        .args(["--site", "/nonexistent/site.toml", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
