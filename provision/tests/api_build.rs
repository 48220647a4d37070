//! A dtops older than the api it talks to says so: the api names its build (`GET
//! /internal/version`, and a header on every admin answer, behind the token), and every admin
//! command of a dtops from an older commit warns once on stderr, naming both commits and how to
//! install the new dtops, and still does its work. Here the api is `dtops dev` (the real server
//! in-process) told it is a newer build, as its image tells it on the box
//! (`DATATOOLS_COMMIT`, app/Dockerfile); compose_upgrade.rs shows the image's own.

mod common;

use std::process::Command;

use common::{stderr, stdout, DevServer};

const NEWER: &str = "feedfacefeedfacefeedfacefeedfacefeedface";
/// 2100-01-01: newer than any commit this dtops is built from.
const NEWER_TIME: &str = "4102444800";
const WARNING: &str = "dtops: warning: this dtops is from commit ";

/// `curl -i` of an admin route with `token`: the status line, headers and body.
fn curl(server: &DevServer, path: &str, token: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-i", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("{}{path}", server.url))
        .output()
        .unwrap();
    stdout(&out).to_lowercase()
}

#[test]
fn an_older_dtops_warns_once_that_the_api_is_newer_and_still_works() {
    let server = DevServer::start_with_env(
        &[],
        &[
            ("DATATOOLS_COMMIT", NEWER),
            ("DATATOOLS_COMMIT_TIME", NEWER_TIME),
        ],
    );
    let token = std::fs::read_to_string(&server.token_file).unwrap();
    let token = token.trim();
    let answer = curl(&server, "/internal/version", token);
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains(&format!("datatools-build: {NEWER} {NEWER_TIME}\r\n")),
        "{answer}"
    );
    let body: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["commit"], NEWER);
    assert_eq!(body["committed_at"], 4_102_444_800i64);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    // Without the token: refused, and no word about the build.
    let refused = curl(&server, "/internal/version", "not-the-token");
    assert!(refused.starts_with("http/1.1 401"), "{refused}");
    assert!(!refused.contains("datatools-build"), "{refused}");

    // Several admin calls in one run (mint, then the search paging): one warning, the work done.
    let out = server.dtops(&[
        "mint",
        "--name",
        "Buyer",
        "--email",
        "b@example.com",
        "--tier",
        "core",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("DTLIC2:"), "{}", stdout(&out));
    let said = stderr(&out);
    assert_eq!(said.matches(WARNING).count(), 1, "{said}");
    assert!(
        said.contains(&format!(
            "the api runs {} (2100-01-01), a newer one: install the new dtops with `sudo dtops \
             upgrade` on the box (it installs the dtops built from the api's commit), or on this \
             computer build commit {}",
            &NEWER[..12],
            &NEWER[..12]
        )),
        "{said}"
    );
    let listed = server.dtops(&["licenses", "--all", "--json"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains("b@example.com"));
    assert_eq!(
        stderr(&listed).matches(WARNING).count(),
        1,
        "{}",
        stderr(&listed)
    );
}

#[test]
fn a_dtops_of_the_api_s_own_build_says_nothing() {
    let server = DevServer::start();
    let out = server.dtops(&["alerts"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}
