//! `dtops logs` and `dtops psql` on the box, through the runtime that runs the stack (here the
//! native one: the api's and Postgres' own log files, psql over 127.0.0.1 as the api's user).

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::sandbox::Sandbox;
use common::{stderr, stdout};

#[test]
fn logs_and_psql_reach_the_running_stack() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    sandbox.mint("buyer@example.com");

    let api = sandbox.dtops(&["logs", "api", "-n", "500"]);
    assert!(api.status.success(), "{}", stderr(&api));
    assert!(
        stdout(&api).contains("path=/internal/mint"),
        "{}",
        stdout(&api)
    );
    let postgres = sandbox.dtops(&["logs", "postgres"]);
    assert!(postgres.status.success(), "{}", stderr(&postgres));
    assert!(
        stdout(&postgres).contains("database system is ready to accept connections"),
        "{}",
        stdout(&postgres)
    );

    // -f: lines written after it started arrive as they come.
    let mut follow = sandbox
        .command(&["logs", "api", "-f", "-n", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(follow.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    sandbox.mint("later@example.com");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("path=/internal/mint"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("`dtops logs -f` printed no new request: {seen:?}"),
        }
    }
    follow.kill().unwrap();
    follow.wait().unwrap();

    // psql as the api's user: a query, and its exit code passed on.
    let count = sandbox.dtops(&["psql", "--", "-At", "-c", "select count(*) from licenses"]);
    assert!(count.status.success(), "{}", stderr(&count));
    assert_eq!(stdout(&count).trim(), "2");
    let who = sandbox.dtops(&["psql", "--", "-At", "-c", "select current_user"]);
    assert_eq!(stdout(&who).trim(), "datatools_api");
    let bad = sandbox.dtops(&[
        "psql",
        "--",
        "-c",
        "select * from no_such_table",
        "-v",
        "ON_ERROR_STOP=1",
    ]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("no_such_table"), "{}", stderr(&bad));
    // The password file psql read is gone (it never was on a command line).
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("dtops-psql-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
