//! `dtops cutover pr2` and back in a `--root` sandbox with the native runtime: secrets, site.toml
//! (comments kept), compose.yml, a restart, a test ping recorded in gumroad_events, the Ping URL;
//! each run twice changes nothing.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Output};

use common::sandbox::Sandbox;
use common::{dtops, stderr, stdout, with_stdin};

/// `dtops cutover` with its test ping sent through a stand-in for nginx (the cutover moves the
/// api to the other slot while it runs).
fn cutover(sandbox: &Sandbox, args: &[&str], stdin: Option<&str>) -> Output {
    let front = sandbox.front();
    cutover_via(sandbox, &front.url(), args, stdin)
}

/// `dtops cutover` with its test ping sent to `public`.
fn cutover_via(sandbox: &Sandbox, public: &str, args: &[&str], stdin: Option<&str>) -> Output {
    with_stdin(
        dtops()
            .arg("--site")
            .arg(&sandbox.site)
            .arg("--root")
            .arg(sandbox.root())
            .args(["--runtime", "native", "cutover"])
            .args(args)
            .args(["--public-url", public]),
        // No input: an empty pipe, closed at once (not a terminal).
        stdin.unwrap_or(""),
    )
}

fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// The HTTP status of a POST to the sandbox's webhook with `secret`.
fn webhook_status(sandbox: &Sandbox, secret: &str) -> String {
    let output = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .arg(format!(
            "http://127.0.0.1:{}/webhooks/gumroad?secret={secret}",
            sandbox.api_port()
        ))
        .args([
            "-d",
            "test=true",
            "-d",
            "sale_id=curl-check",
            "-d",
            "email=c@example.com",
        ])
        .output()
        .unwrap();
    stdout(&output)
}

fn mode_owner(path: &std::path::Path) -> (u32, u32) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.permissions().mode() & 0o7777, meta.uid())
}

#[test]
fn cutover_pr2_and_back_with_the_native_runtime() {
    // A comment at the end of the stage line must survive the edit too.
    let sandbox = Sandbox::with_site(|text| {
        text.replace("stage = \"pr1\"\n", "stage = \"pr1\" # which PR is live\n")
    });
    sandbox.provision();
    let site_before = std::fs::read_to_string(&sandbox.site).unwrap();
    let secrets = sandbox.path("/srv/datatools-license/secrets");

    // No Postmark token anywhere: refused before anything changes.
    let refused = cutover(&sandbox, &["pr2"], None);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("--postmark-token-file"),
        "{}",
        text(&refused)
    );
    assert_eq!(std::fs::read_to_string(&sandbox.site).unwrap(), site_before);
    assert!(!secrets.join("gumroad_secret").exists());

    let first = cutover(
        &sandbox,
        &["pr2", "--postmark-token-stdin"],
        Some("pm-token-123\n"),
    );
    let out = text(&first);
    assert!(first.status.success(), "{out}");
    assert!(
        !out.contains("pm-token-123"),
        "the token was printed:\n{out}"
    );
    assert_eq!(mode_owner(&secrets.join("postmark_token")), (0o400, 10001));
    assert_eq!(
        std::fs::read_to_string(secrets.join("postmark_token")).unwrap(),
        "pm-token-123"
    );
    assert_eq!(mode_owner(&secrets.join("gumroad_secret")), (0o400, 10001));
    let secret = std::fs::read_to_string(secrets.join("gumroad_secret")).unwrap();
    assert_eq!(secret.len(), 64);

    // site.toml: the stage and features flipped, every comment kept.
    let site_after = std::fs::read_to_string(&sandbox.site).unwrap();
    assert!(
        site_after.contains("stage = \"pr2\" # which PR is live\n"),
        "{site_after}"
    );
    assert!(
        site_after.contains("gumroad = true\npostmark = true"),
        "{site_after}"
    );
    for line in site_before
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
    {
        assert!(site_after.contains(line), "comment lost: {line}");
    }
    let changed: Vec<_> = site_before
        .lines()
        .zip(site_after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 3, "{changed:?}");

    let compose =
        std::fs::read_to_string(sandbox.path("/srv/datatools-license/compose.yml")).unwrap();
    assert!(compose.contains("GUMROAD_WEBHOOK_SECRET_FILE"), "{compose}");
    assert!(compose.contains("POSTMARK_TOKEN_FILE"), "{compose}");

    // The synthetic test ping went through and is in gumroad_events; the Ping URL is printed.
    assert!(out.contains("recorded as event"), "{out}");
    assert!(
        out.contains(&format!(
            "https://licenses.datatools.unalogix.com/webhooks/gumroad?secret={secret}"
        )),
        "{out}"
    );
    assert!(out.contains("resource_subscriptions"), "{out}");
    assert_eq!(webhook_status(&sandbox, &secret), "200");
    assert_eq!(webhook_status(&sandbox, "wrong"), "404");

    // Again: nothing changes.
    let snapshot = sandbox.snapshot();
    let again = cutover(&sandbox, &["pr2"], None);
    let out = text(&again);
    assert!(again.status.success(), "{out}");
    assert!(out.contains("0 changed"), "{out}");
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(
        sandbox.snapshot(),
        snapshot,
        "a second cutover pr2 changed files"
    );

    // A test ping that cannot connect: the error names the URL, never its ?secret=.
    let port = common::free_port();
    let refused = cutover_via(
        &sandbox,
        &format!("http://127.0.0.1:{port}"),
        &["pr2", "--ping"],
        None,
    );
    let err = stderr(&refused);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "could not reach http://127.0.0.1:{port}/webhooks/gumroad"
        )),
        "{err}"
    );
    assert!(!err.contains(&secret) && !err.contains("secret="), "{err}");

    // Back to PR 1: the webhook is gone, the secrets are kept.
    let back = cutover(&sandbox, &["pr1"], None);
    let out = text(&back);
    assert!(back.status.success(), "{out}");
    let site_pr1 = std::fs::read_to_string(&sandbox.site).unwrap();
    assert_eq!(site_pr1, site_before, "pr1 restores site.toml exactly");
    let compose =
        std::fs::read_to_string(sandbox.path("/srv/datatools-license/compose.yml")).unwrap();
    assert!(
        !compose.contains("GUMROAD_WEBHOOK_SECRET_FILE"),
        "{compose}"
    );
    assert!(secrets.join("gumroad_secret").exists());
    assert!(secrets.join("postmark_token").exists());
    assert_eq!(webhook_status(&sandbox, &secret), "404");

    let snapshot = sandbox.snapshot();
    let again = cutover(&sandbox, &["pr1"], None);
    let out = text(&again);
    assert!(again.status.success(), "{out}");
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(
        sandbox.snapshot(),
        snapshot,
        "a second cutover pr1 changed files"
    );

    // And forward again without a token: the kept one is used.
    let forward = cutover(&sandbox, &["pr2"], None);
    assert!(forward.status.success(), "{}", text(&forward));
    assert_eq!(webhook_status(&sandbox, &secret), "200");
}

/// The HTTP status of GET `path` on the sandbox's api.
fn api_status(sandbox: &Sandbox, path: &str) -> String {
    let output = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{}{path}", sandbox.api_port()))
        .output()
        .unwrap();
    stdout(&output)
}

#[test]
fn cutover_pr3_turns_the_portal_and_feed_on_and_pr2_turns_the_portal_off() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    // pr3 straight from pr1: the Postmark token is needed (the portal emails sign-in links).
    let refused = cutover(&sandbox, &["pr3"], None);
    assert!(!refused.status.success(), "{}", text(&refused));
    let up = cutover(
        &sandbox,
        &["pr3", "--postmark-token-stdin"],
        Some("pm-token-123\n"),
    );
    let out = text(&up);
    assert!(up.status.success(), "{out}");
    assert!(out.contains("the buyer portal answers"), "{out}");
    assert!(
        out.contains("https://licenses.datatools.unalogix.com/portal/"),
        "{out}"
    );
    assert_eq!(api_status(&sandbox, "/portal/"), "200");
    assert_eq!(api_status(&sandbox, "/revocations"), "200");
    let site = std::fs::read_to_string(&sandbox.site).unwrap();
    assert!(site.contains("stage = \"pr3\""), "{site}");
    let compose =
        std::fs::read_to_string(sandbox.path("/srv/datatools-license/compose.yml")).unwrap();
    assert!(
        compose.contains("\"DATATOOLS_PORTAL\": \"on\""),
        "{compose}"
    );
    assert!(
        compose.contains("\"DATATOOLS_PUBLIC_URL\": \"https://licenses.datatools.unalogix.com\""),
        "{compose}"
    );
    let status = stdout(&sandbox.dtops(&["status"]));
    let row = status
        .lines()
        .find(|l| l.contains("PR 3 buyer portal"))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(row.contains("merged") && row.contains("live"), "{row}");

    // Twice changes nothing.
    let snapshot = sandbox.snapshot();
    let again = cutover(&sandbox, &["pr3"], None);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        sandbox.snapshot(),
        snapshot,
        "a second cutover pr3 changed files"
    );

    // Back to pr2: the portal answers like an unknown route; the webhook and the feed stay.
    let back = cutover(&sandbox, &["pr2"], None);
    assert!(back.status.success(), "{}", text(&back));
    assert_eq!(api_status(&sandbox, "/portal/"), "404");
    assert_eq!(api_status(&sandbox, "/revocations"), "200");
    let site = std::fs::read_to_string(&sandbox.site).unwrap();
    assert!(site.contains("stage = \"pr2\""), "{site}");
}
