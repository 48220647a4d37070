//! `dtops mint`, `licenses` and `revoke` against a running server.

mod common;

use common::{dtops, mint, stderr, stdout, DevServer};

#[test]
fn mint_list_and_revoke_through_the_admin_api() {
    let server = DevServer::start();

    let blob = mint(&server, &["--perpetual", "--notes", "comp for a reviewer"]);
    let verified = dtops()
        .args(["verify", &blob, "--pubkey", &server.pubkey])
        .output()
        .unwrap();
    assert!(
        stdout(&verified).contains("expires:     never"),
        "{}",
        stdout(&verified)
    );

    // --json prints the record; --source-ref makes a repeat return the same license.
    let first = server.dtops(&[
        "mint",
        "--name",
        "Zoë",
        "--email",
        "zoe@example.com",
        "--tier",
        "pro",
        "--years",
        "2",
        "--source",
        "comp",
        "--source-ref",
        "comp:zoe",
        "--json",
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let first: serde_json::Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(first["name"], "Zoë");
    assert_eq!(first["source"], "comp");
    assert_eq!(first["created"], true);
    let again = server.dtops(&[
        "mint",
        "--name",
        "Zoë",
        "--email",
        "zoe@example.com",
        "--tier",
        "pro",
        "--years",
        "2",
        "--source",
        "comp",
        "--source-ref",
        "comp:zoe",
    ]);
    assert!(
        stderr(&again).contains("already existed"),
        "{}",
        stderr(&again)
    );
    assert_eq!(stdout(&again).trim(), first["blob"].as_str().unwrap());

    let key = first["license_key"].as_str().unwrap();
    let listed = server.dtops(&["licenses", "--email", "ZOE@example.com"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let table = stdout(&listed);
    assert!(table.contains(key) && table.contains("active"), "{table}");
    assert!(!table.contains("test@example.com"), "{table}");

    let revoked = server.dtops(&[
        "revoke",
        &key.to_lowercase(),
        "--reason",
        "refunded",
        "--yes",
    ]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(stdout(&revoked).contains("refunded"));
    // A second revoke says the license already was, and keeps the first reason.
    let again = server.dtops(&["revoke", key, "--reason", "chargeback", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("was already revoked") && stdout(&again).contains("(refunded)"),
        "{}",
        stdout(&again)
    );
    let table = stdout(&server.dtops(&["licenses", "--email", "zoe@example.com"]));
    assert!(table.contains("revoked"), "{table}");
}

#[test]
fn client_errors_say_what_to_do() {
    let server = DevServer::start();

    let refused = server.dtops(&[
        "mint",
        "--name",
        "A",
        "--email",
        "a@example.com",
        "--tier",
        "platinum",
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("tier: \"platinum\" is not a known tier"),
        "{}",
        stderr(&refused)
    );

    let bad_email = server.dtops(&["mint", "--name", "A", "--email", "nope", "--tier", "core"]);
    assert!(
        stderr(&bad_email).contains("email:"),
        "{}",
        stderr(&bad_email)
    );

    let wrong_token = std::env::temp_dir().join(format!("wrong-token-{}", std::process::id()));
    std::fs::write(&wrong_token, "x".repeat(64)).unwrap();
    let output = dtops()
        .args(["licenses", "--admin-url", &server.url, "--token-file"])
        .arg(&wrong_token)
        .output()
        .unwrap();
    std::fs::remove_file(&wrong_token).unwrap();
    assert!(
        stderr(&output).contains("refused the token"),
        "{}",
        stderr(&output)
    );

    let no_token = dtops()
        .args(["licenses", "--admin-url", &server.url])
        .output()
        .unwrap();
    assert!(
        stderr(&no_token).contains("--token-file"),
        "{}",
        stderr(&no_token)
    );

    // The token from the environment works too.
    let token = std::fs::read_to_string(&server.token_file).unwrap();
    let env_token = dtops()
        .args(["licenses", "--admin-url", &server.url])
        .env("DATATOOLS_ADMIN_TOKEN", token)
        .output()
        .unwrap();
    assert!(env_token.status.success(), "{}", stderr(&env_token));

    // There is no way to put the token on the command line.
    let flag = dtops()
        .args(["licenses", "--token", "abc"])
        .output()
        .unwrap();
    assert!(!flag.status.success());

    // Nothing listens: the error names the API, never the query (an address here).
    let port = common::free_port();
    let down = dtops()
        .args([
            "licenses",
            "--email",
            "private-buyer@example.com",
            "--admin-url",
            &format!("http://127.0.0.1:{port}"),
            "--token-file",
        ])
        .arg(&server.token_file)
        .output()
        .unwrap();
    let err = stderr(&down);
    assert!(err.contains("cannot reach the admin API"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(
        !err.contains("private-buyer") && !err.contains("limit="),
        "{err}"
    );
}
