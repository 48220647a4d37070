//! `dtops gumroad token` and `dtops gumroad sync` on a provisioned stage-pr2 sandbox (native
//! runtime) whose api reads Gumroad's sales list from a local server answering like
//! `GET /v2/sales`: the token is a secret file (refused missing, never printed, never in the
//! api's environment or log), the sync prints what it stored and exits 0, `--quiet` prints
//! nothing once nothing is missing (the cron line), a bad date or a failed sync exits non-zero.
//! (The sandbox's catalogue has no Gumroad product, so the stored sales end as its Pings would:
//! failed "unknown product", listed by `dtops events --failed`.)

mod common;

use std::process::Output;

use common::fake_gumroad::{sale, Gumroad};
use common::fake_http::Postmark;
use common::sandbox::Sandbox;
use common::{dtops, stderr, stdout, with_stdin};

const SECRETS: &str = "/srv/datatools-license/secrets";
const TOKEN: &str = "gumroad-api-token-0123456789abcdef";
const WEBHOOK_SECRET: &str = "0123456789abcdef0123456789abcdef";

fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// `dtops` with `args` through the sandbox's admin API.
fn admin(sandbox: &Sandbox, args: &[&str]) -> Output {
    dtops()
        .args(args)
        .arg("--admin-url")
        .arg(format!("http://127.0.0.1:{}", sandbox.api_port()))
        .arg("--token-file")
        .arg(sandbox.path(&format!("{SECRETS}/admin_token")))
        .output()
        .unwrap()
}

#[test]
fn gumroad_sync_stores_the_missed_sales_and_a_quiet_rerun_prints_nothing() {
    let postmark = Postmark::start();
    let mut sales: Vec<_> = (0..12)
        .map(|n| {
            sale(
                &format!("LOST-{n:02}=="),
                &format!("lost{n:02}@example.com"),
                &format!("2026-11-29T{:02}:00:00.000Z", 8 + n),
            )
        })
        .collect();
    // A product name with a terminal escape: printed as text, never obeyed (cron mails it).
    sales[0]["product_name"] = "DataTools\u{1b}[2J Pro".into();
    sales.push(sale(
        "PING-1==",
        "ping1@example.com",
        "2026-11-28T09:00:00.000Z",
    ));
    let gumroad = Gumroad::start(TOKEN, sales);
    let sandbox = Sandbox::with_site(|text| {
        text.replace("stage = \"pr1\"", "stage = \"pr2\"")
            .replace("gumroad = false", "gumroad = true")
            .replace("postmark = false", "postmark = true")
            .replace(
                "# postmark_api_url = \"https://api.postmarkapp.com\"",
                &format!("postmark_api_url = \"{}\"", postmark.url),
            )
            .replace("gumroad_api_token = false", "gumroad_api_token = true")
            .replace(
                "# gumroad_api_url = \"https://api.gumroad.com\"",
                &format!("gumroad_api_url = \"{}\"", gumroad.url),
            )
    });
    for (name, value) in [
        ("postmark_token", "pm-token-0123456789"),
        ("gumroad_secret", WEBHOOK_SECRET),
    ] {
        let path = sandbox.path(&format!("{SECRETS}/{name}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, value).unwrap();
    }

    // Switched on without the token: provision stops and says how to give it.
    let refused = sandbox.dtops(&["provision"]);
    let shown = text(&refused);
    assert!(!refused.status.success(), "{shown}");
    assert!(
        shown.contains(
            "gumroad_api_token does not exist; write it with `dtops gumroad token --stdin`"
        ),
        "{shown}"
    );
    let written = with_stdin(
        &mut sandbox.command(&["gumroad", "token", "--stdin"]),
        &format!("{TOKEN}\n"),
    );
    let shown = text(&written);
    assert!(written.status.success(), "{shown}");
    assert!(!shown.contains(TOKEN), "the token was printed: {shown}");
    let file = sandbox.path(&format!("{SECRETS}/gumroad_api_token"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), TOKEN);
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (meta.permissions().mode() & 0o777, meta.uid()),
        (0o400, 10001)
    );
    let other = with_stdin(
        &mut sandbox.command(&["gumroad", "token", "--stdin"]),
        "another-token",
    );
    assert!(!other.status.success());
    assert!(
        text(&other).contains("never replaces a secret"),
        "{}",
        text(&other)
    );
    sandbox.provision();

    // One sale arrived as a Ping before the box went down.
    let ping = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .arg(format!(
            "http://127.0.0.1:{}/webhooks/gumroad?secret={WEBHOOK_SECRET}",
            sandbox.api_port()
        ))
        .args(["-d", "sale_id=PING-1==", "-d", "email=ping1@example.com"])
        .args([
            "-d",
            "product_id=FO8TXN-dbxYaBdahG97Y-Q==",
            "-d",
            "resource_name=sale",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&ping), "200");

    let out = admin(&sandbox, &["gumroad", "sync", "--since", "2026-11-28"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown
            .contains("13 sale(s) listed on 2 page(s); 1 delivery(ies) had arrived; 12 stored now"),
        "{shown}"
    );
    for n in 0..12 {
        assert!(
            shown.contains(&format!("sale LOST-{n:02}==  lost{n:02}@example.com")),
            "{shown}"
        );
    }
    assert!(!shown.contains("PING-1=="), "{shown}");
    assert!(shown.contains("DataTools\\u{1b}[2J Pro"), "{shown}");
    assert!(
        !shown.contains('\u{1b}'),
        "a raw escape reached the terminal: {shown:?}"
    );
    // Processed like their Pings: this catalogue maps no Gumroad product.
    let mut failed = String::new();
    for _ in 0..100 {
        failed = stdout(&admin(&sandbox, &["events", "--failed", "--limit", "100"]));
        if failed.matches("LOST-").count() == 12 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(failed.matches("LOST-").count(), 12, "{failed}");
    assert!(failed.contains("unknown product"), "{failed}");

    // The cron line: nothing missing now, so nothing printed.
    let quiet = admin(
        &sandbox,
        &["gumroad", "sync", "--since", "2026-11-28", "--quiet"],
    );
    assert!(quiet.status.success(), "{}", text(&quiet));
    assert_eq!(stdout(&quiet), "", "{}", text(&quiet));
    let json = admin(
        &sandbox,
        &["gumroad", "sync", "--since", "2026-11-28", "--json"],
    );
    let record: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(record["already_had"], 13);
    assert_eq!(record["stored"].as_array().unwrap().len(), 0);

    let bad = admin(&sandbox, &["gumroad", "sync", "--since", "30.11.2026"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("not a date"), "{}", text(&bad));

    // The token never reached the api's environment or its log (it is a file).
    let pid = sandbox.api_pid();
    let environ = String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/environ")).unwrap())
        .replace('\0', "\n");
    assert!(environ.contains("GUMROAD_ACCESS_TOKEN_FILE="), "{environ}");
    assert!(environ.contains(&format!("GUMROAD_API_URL={}", gumroad.url)));
    assert!(!environ.contains(TOKEN));
    let log = sandbox.api_log();
    assert!(log.contains("gumroad sync done"), "{log}");
    assert!(!log.contains(TOKEN), "the token is in the api's log");
}

#[test]
fn a_sync_gumroad_refuses_fails_with_exit_status_1() {
    let gumroad = Gumroad::start("the-right-token", vec![]);
    let sandbox = Sandbox::with_site(|text| {
        text.replace("gumroad_api_token = false", "gumroad_api_token = true")
            .replace(
                "# gumroad_api_url = \"https://api.gumroad.com\"",
                &format!("gumroad_api_url = \"{}\"", gumroad.url),
            )
    });
    let path = sandbox.path(&format!("{SECRETS}/gumroad_api_token"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "a-revoked-token").unwrap();
    sandbox.provision();
    let out = admin(
        &sandbox,
        &["gumroad", "sync", "--since", "yesterday", "--quiet"],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("the sync FAILED"),
        "--quiet still speaks: {shown}"
    );
    assert!(shown.contains("refused the access token"), "{shown}");
    assert!(!shown.contains("a-revoked-token"), "{shown}");

    // The daily job provision installed runs that very sync; cron mails what it prints.
    let (line, cron) = sync_job(&sandbox).expect("provision installed no sync job");
    assert!(cron.contains("\nMAILTO=root\n"), "{cron}");
    let words = cron_words(&line, "17 6 * * * root ");
    let door = format!("http://127.0.0.1:{}", sandbox.door_port);
    let token = format!("{SECRETS}/admin_token");
    assert_eq!(
        words[words.len() - 9..],
        [
            "gumroad",
            "sync",
            "--since",
            "yesterday",
            "--quiet",
            "--admin-url",
            door.as_str(),
            "--token-file",
            token.as_str()
        ],
        "{line}"
    );
    assert_eq!(words[1..3], ["--site", sandbox.site.to_str().unwrap()]);
    // Run as cron would, but in the sandbox: its paths under --root, and the serving slot for
    // the loopback door (the sandbox has no nginx in front).
    let live = format!("http://127.0.0.1:{}", sandbox.api_port());
    let token_file = sandbox.path(&token).display().to_string();
    let out = std::process::Command::new(words[0])
        .args(words[1..].iter().map(|w| match *w {
            w if w == door => live.as_str(),
            w if w == token => token_file.as_str(),
            w => w,
        }))
        .arg("--root")
        .arg(sandbox.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("the sync FAILED"), "{}", text(&out));

    // Switched off: plan says the job goes, provision removes it, and a sync names the key.
    let site = std::fs::read_to_string(&sandbox.site).unwrap();
    std::fs::write(
        &sandbox.site,
        site.replace("gumroad_api_token = true", "gumroad_api_token = false"),
    )
    .unwrap();
    let plan = stdout(&sandbox.dtops(&["plan"]));
    assert!(
        plan.contains(
            "file /etc/cron.d/datatools-gumroad-sync: would remove it ([server] \
             gumroad_api_token is off)"
        ),
        "{plan}"
    );
    sandbox.provision();
    assert_eq!(sync_job(&sandbox), None);
    let out = admin(&sandbox, &["gumroad", "sync", "--since", "yesterday"]);
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(
        shown.contains(
            "`sudo dtops gumroad token --stdin`, then `gumroad_api_token = true` under [server]"
        ),
        "{shown}"
    );
    assert!(!shown.contains("[gumroad] api_token"), "{shown}");
}

/// The sync job's cron line and the whole file, if installed (root's, 0644: cron ignores a
/// file others can write).
fn sync_job(sandbox: &Sandbox) -> Option<(String, String)> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let path = sandbox.path("/etc/cron.d/datatools-gumroad-sync");
    let cron = std::fs::read_to_string(&path).ok()?;
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((meta.permissions().mode() & 0o777, meta.uid()), (0o644, 0));
    let line = cron
        .lines()
        .find(|l| l.starts_with("17 6 * * * root "))
        .unwrap_or_else(|| panic!("no daily line in {cron}"))
        .to_string();
    Some((line, cron))
}

/// The command's words of a cron line whose every word is single-quoted.
fn cron_words<'a>(line: &'a str, schedule: &str) -> Vec<&'a str> {
    line[schedule.len()..]
        .split("' '")
        .map(|w| w.trim_matches('\''))
        .collect()
}
