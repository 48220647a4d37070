//! The support commands through the real admin API of `dtops dev` (a real server and Postgres):
//! finding licenses and exporting them past 1000, one license's history, moving one to another
//! address, revoking (confirmed on a terminal) and reinstating, `mint --send`, the keys the box
//! trusts, `verify` with them, and the email previews.

mod common;

use std::process::{Command, Output};

use common::{stderr, stdout, with_stdin, DevServer};
use datatools_license::license::{self, LicenseKey, TrustedKeys};

/// `dtops <args>` against `server` with `input` on standard input (a pipe: not a terminal).
fn with_input(server: &DevServer, args: &[&str], input: &str) -> Output {
    with_stdin(
        common::dtops()
            .args(args)
            .args(["--admin-url", &server.url, "--token-file"])
            .arg(&server.token_file),
        input,
    )
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// The license key of the blob `dtops mint` printed.
fn key_of(server: &DevServer, email: &str) -> String {
    let found: serde_json::Value =
        serde_json::from_str(&ok(server.dtops(&["licenses", "--email", email, "--json"]))).unwrap();
    found[0]["license_key"].as_str().unwrap().to_string()
}

/// The outbox's emails to `to`, oldest first.
fn mails_to(server: &DevServer, to: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(&server.outbox)
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .filter(|mail| mail.contains(&format!("\nTo: {to}\n")))
        .collect()
}

/// Whether the revocation feed lists `key` once it has caught up (the server rebuilds it within
/// milliseconds of a change; `listed` is what the test expects, waited for up to 5 s).
fn feed_lists(server: &DevServer, key: &str) -> bool {
    feed_settles(server, key, true)
}

fn feed_settles(server: &DevServer, key: &str, listed: bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = feed_now_lists(server, key);
        if now == listed || std::time::Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Whether the revocation feed the desktop app reads lists `key` right now.
fn feed_now_lists(server: &DevServer, key: &str) -> bool {
    let text = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let url = format!("{}/revocations", server.url);
            reqwest::get(url).await.unwrap().text().await.unwrap()
        });
    let mut trusted = TrustedKeys::new();
    trusted.add_hex(&server.pubkey).unwrap();
    let feed = license::verify_feed(&text, &trusted, None).unwrap();
    feed.revokes(&key.parse::<LicenseKey>().unwrap())
}

#[test]
fn find_export_and_change_licenses() {
    let server = DevServer::start();
    let mint = |name: &str, email: &str, extra: &[&str]| {
        let mut args = vec!["mint", "--name", name, "--email", email, "--tier", "core"];
        args.extend_from_slice(extra);
        ok(server.dtops(&args))
    };
    mint("Ada Lovelace", "ada@example.com", &[]);
    mint("=HYPERLINK(\"http://evil\")", "formula@example.com", &[]);
    // A comp emailed at once: the email reads as a first delivery.
    let sent = server.dtops(&[
        "mint",
        "--name",
        "Rae Viewer",
        "--email",
        "rae@example.com",
        "--tier",
        "pro",
        "--source",
        "comp",
        "--send",
    ]);
    assert!(
        stderr(&sent).contains("emailed to rae@example.com"),
        "{}",
        stderr(&sent)
    );
    let mail = mails_to(&server, "rae@example.com")
        .pop()
        .expect("the comp's email");
    assert!(mail.contains("Subject: Your DataTools license\n"), "{mail}");
    assert!(
        mail.contains("Here is your license for DataTools Pro."),
        "{mail}"
    );
    assert!(
        !mail.contains("again") && !mail.contains("requested"),
        "{mail}"
    );
    assert!(mail.contains("Edition:      DataTools Pro"), "{mail}");
    assert!(
        mail.contains(&format!("Sign in at {}/portal/", server.url)),
        "{mail}"
    );

    // Found by a part of the name, whatever the case; the table names the buyer.
    let ada = key_of(&server, "ada@example.com");
    let table = ok(server.dtops(&["licenses", "LOVELACE"]));
    assert!(
        table.contains(&ada) && table.contains("Ada Lovelace"),
        "{table}"
    );
    assert!(!table.contains("rae@example.com"), "{table}");
    let by_key = ok(server.dtops(&["licenses", &ada.replace('-', "").to_lowercase()]));
    assert!(by_key.contains(&ada), "{by_key}");

    // 1,100 more (an import), then everything exported, past the API's 1000 a page.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let cluster =
            datatools_license::pg_cluster::Cluster::open(server.cluster_dir.clone()).unwrap();
        let mut db = sqlx::PgConnection::connect(&cluster.url("datatools"))
            .await
            .unwrap();
        sqlx::query(
            "insert into licenses (license_key, name, email, tier, source, issued_at, key_id, \
                                   blob) \
             select 'BULK-' || lpad(g::text, 6, '0'), 'Bulk ' || g, 'bulk' || g || '@example.com', \
                    'core', 'import', now() - interval '1 day', '0000000000000000', 'DTLIC2:x.y' \
             from generate_series(1, 1100) g",
        )
        .execute(&mut db)
        .await
        .unwrap();
    });
    let export = server.dtops(&["licenses", "--all", "--csv"]);
    let csv_text = ok(export);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "license_key");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1103);
    let keys: std::collections::BTreeSet<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(keys.len(), 1103, "no license twice");
    let formula = rows
        .iter()
        .find(|r| &r[3] == "formula@example.com")
        .unwrap();
    assert_eq!(
        &formula[2], "'=HYPERLINK(\"http://evil\")",
        "a name is never a formula"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(server.dtops(&["licenses", "--limit", "1050", "--json"])))
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1050);
    assert!(json[0]["blob"].as_str().unwrap().starts_with("DTLIC2:"));
    let some = server.dtops(&["licenses", "bulk"]);
    assert!(
        stderr(&some).contains("100 license(s); there are more"),
        "{}",
        stderr(&some)
    );

    // Moving a license: --reason is required, the new address gets the re-signed license.
    let missing = server.dtops(&["change-address", &ada, "--to", "ada@new.example.com"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("--reason"),
        "{}",
        stderr(&missing)
    );
    let moved = server.dtops(&[
        "change-address",
        &ada,
        "--to",
        "ada@new.example.com",
        "--reason",
        "asked from ada@example.com",
    ]);
    let blob = ok(moved);
    assert!(blob.trim().starts_with("DTLIC2:"));
    let mail = mails_to(&server, "ada@new.example.com")
        .pop()
        .expect("the moved license");
    assert!(
        mail.contains("now belongs to this address, ada@new.example.com"),
        "{mail}"
    );
    assert!(
        mail.contains(blob.trim()),
        "the re-signed license is in the email"
    );
    let quiet = server.dtops(&[
        "change-address",
        &ada,
        "--to",
        "ada@third.example.com",
        "--reason",
        "asked again",
        "--no-notify",
    ]);
    assert!(
        stderr(&quiet).contains("not emailed (--no-notify)"),
        "{}",
        stderr(&quiet)
    );
    assert!(mails_to(&server, "ada@third.example.com").is_empty());
    let bad = server.dtops(&["change-address", &ada, "--to", "nope", "--reason", "x"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("email"), "{}", stderr(&bad));

    let shown = ok(server.dtops(&["license", &ada]));
    assert!(
        shown.contains("email:       ada@third.example.com"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "address changed  ada@example.com -> ada@new.example.com: asked from ada@example.com"
        ),
        "{shown}"
    );
}

#[test]
fn revoke_asks_first_and_reinstate_undoes_it() {
    let server = DevServer::start();
    common::mint(&server, &[]);
    let key = key_of(&server, "test@example.com");

    // --reason is required; without a terminal (a pipe here) it needs --yes.
    let no_reason = server.dtops(&["revoke", &key]);
    assert_eq!(no_reason.status.code(), Some(2));
    assert!(
        stderr(&no_reason).contains("--reason"),
        "{}",
        stderr(&no_reason)
    );
    let piped = with_input(
        &server,
        &["revoke", &key, "--reason", "refund by email"],
        "yes\n",
    );
    assert!(!piped.status.success());
    assert!(stderr(&piped).contains("--yes"), "{}", stderr(&piped));
    assert!(!feed_now_lists(&server, &key));

    // On a terminal (`script` gives dtops one): shown, then "no" keeps it, "yes" revokes it.
    let on_terminal = |answer: &str| {
        let line = format!(
            "{} revoke {key} --reason 'refund by email' --admin-url {} --token-file {}",
            common::DTOPS,
            server.url,
            server.token_file.display()
        );
        with_stdin(
            Command::new(common::require_package("script", "bsdutils"))
                .args(["-qec", &line, "/dev/null"])
                .env_remove("DATATOOLS_ADMIN_TOKEN"),
            answer,
        )
    };
    let declined = on_terminal("no\n");
    let text = stdout(&declined);
    assert!(
        text.contains("test@example.com") && text.contains("Type yes"),
        "{text}"
    );
    assert!(text.contains("not revoked; nothing changed"), "{text}");
    assert!(!feed_now_lists(&server, &key));
    let confirmed = on_terminal("yes\n");
    let text = stdout(&confirmed);
    assert!(confirmed.status.success(), "{text}");
    assert!(
        text.contains("revoked at") && text.contains("(refund by email)"),
        "{text}"
    );
    assert!(feed_lists(&server, &key), "the feed lists it at once");

    let again = ok(server.dtops(&["revoke", &key, "--reason", "other", "--yes"]));
    assert!(again.contains("was already revoked"), "{again}");

    let reinstated = ok(server.dtops(&["reinstate", &key, "--reason", "refund cancelled"]));
    assert!(
        reinstated.contains("reinstated (it was revoked at"),
        "{reinstated}"
    );
    assert!(
        !feed_settles(&server, &key, false),
        "the feed drops it at once"
    );
    let history = ok(server.dtops(&["license", &key]));
    assert!(
        history.contains("revoked          refund by email"),
        "{history}"
    );
    assert!(
        history.contains("reinstated       refund cancelled"),
        "{history}"
    );

    // A script revokes with --yes.
    ok(server.dtops(&["revoke", &key, "--reason", "chargeback", "--yes"]));
    assert!(feed_lists(&server, &key));
    let revoked = ok(server.dtops(&["licenses", "--status", "revoked"]));
    assert!(revoked.contains(&key), "{revoked}");
}

#[test]
fn keys_verify_and_email_previews_come_from_the_box() {
    // An edited text tried on the laptop before it goes on the box.
    let texts = tempfile::tempdir().unwrap();
    let edited = texts.path().join("sign_in.txt.j2");
    std::fs::write(
        &edited,
        "Subject: Sign in to {{ site_name }}\n\n{{ link }}\n",
    )
    .unwrap();
    let server = DevServer::start_with(&["--email-texts", texts.path().to_str().unwrap()]);
    let blob = common::mint(&server, &[]);

    let keys = ok(server.dtops(&["keys", "show"]));
    assert!(
        keys.contains(&server.pubkey) && keys.contains("signing"),
        "{keys}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(server.dtops(&["keys", "show", "--json"]))).unwrap();
    assert_eq!(json["keys"][0]["public_key"], server.pubkey);

    // No --pubkey: the box's keys, through the admin API.
    let verified = ok(server.dtops(&["verify", &blob]));
    assert!(
        verified.contains("trusting:    the box's key(s)"),
        "{verified}"
    );
    assert!(
        verified.contains("VALID") && !verified.contains("WARNING"),
        "{verified}"
    );
    // Text after the license: the blob is fine, but the desktop app refuses the paste.
    let pasted = format!("{blob}\nThanks, Ada");
    let warned = server.dtops(&["verify", &pasted]);
    let text = stdout(&warned);
    assert!(warned.status.success(), "{text}");
    assert!(text.contains("VALID"), "{text}");
    assert!(
        text.contains("WARNING: the desktop app REFUSES this text as given (trailing_data)")
            && text.contains("10 character(s) after the license (\"Thanks,Ada\")"),
        "{text}"
    );
    // No admin API to ask: the error says what to pass instead.
    let offline = common::dtops()
        .args([
            "verify",
            &blob,
            "--admin-url",
            "http://127.0.0.1:9",
            "--token-file",
        ])
        .arg(&server.token_file)
        .output()
        .unwrap();
    assert!(!offline.status.success());
    assert!(
        stderr(&offline).contains("--pubkey HEX"),
        "{}",
        stderr(&offline)
    );

    // Every email a buyer can get, as the server would send it now.
    let previews = ok(server.dtops(&["email", "preview"]));
    for kind in [
        "purchase",
        "delivery",
        "renewal",
        "resend",
        "reissue",
        "address_change",
    ] {
        assert!(
            previews.contains(&format!("===== {kind} (from built-in")),
            "{kind}: {previews}"
        );
    }
    let one = ok(server.dtops(&["email", "preview", "sign-in"]));
    assert_eq!(one.matches("=====").count(), 2, "{one}");
    assert!(
        one.contains(&format!("(from {})", edited.display())),
        "{one}"
    );
    assert!(one.contains("Subject: Sign in to DataTools"), "{one}");
    let unknown = server.dtops(&["email", "preview", "invoice"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("\"invoice\" is not an email"),
        "{}",
        stderr(&unknown)
    );
}
