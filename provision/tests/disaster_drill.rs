//! The disaster drill, on the production path (compose on a private Docker engine): box A
//! archives its WAL continuously to an off-site S3 store (moto behind TLS) and escrows its
//! secrets to a recovery kit; it takes sales, a comp, a refund and an address change, then one
//! more sale 30 s before it is lost (containers killed, volumes, images and its root deleted).
//! Box B is rebuilt by `dtops recover` from the off-site copy and the kit alone: every row of
//! licenses and gumroad_events as A had archived them (a hash per row), the same signing key (a
//! license minted on B verifies with A's public key), the revocation feed's seq not below A's,
//! and the sale made after the last archived WAL recovered by the Gumroad sync with one license
//! and one email. Prints the RPO and RTO. One test: compose.yml's names are fixed.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::compose::compose_bin;
use common::docker::{DockerEngine, POSTGRES_IMAGE};
use common::fake_gumroad::{sale, Gumroad, PRODUCT_ID};
use common::fake_http::Postmark;
use common::loopback_relay::LoopbackRelay;
use common::s3::{BRIDGE_HOST, BUCKET, REGION, S3};
use common::sandbox::{Runtime, Sandbox};
use common::{dtops, stderr, stdout};

const ROOT: &str = "/srv/datatools-license";
const TOKEN: &str = "gumroad-api-token-drill-0123456789";
const WEBHOOK_SECRET: &str = "drill-webhook-secret-0123456789abcdef";
const CA: &str = "/etc/dtops-test/s3-ca.pem";

fn text(out: &std::process::Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

fn with_stdin(mut command: Command, input: &str) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.dtops(args);
    assert!(out.status.success(), "dtops {args:?}:\n{}", text(&out));
    text(&out)
}

/// `docker compose ARGS` for the project, as dtops addresses it.
fn compose(engine: &DockerEngine, sandbox: &Sandbox, args: &[&str]) -> String {
    let out = Command::new(compose_bin())
        .envs(engine.env())
        .args(["--project-name", "datatools-license", "--project-directory"])
        .arg(sandbox.path(ROOT))
        .arg("--file")
        .arg(sandbox.path(&format!("{ROOT}/compose.yml")))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "compose {args:?}:\n{}", text(&out));
    stdout(&out)
}

fn post_ping(sandbox: &Sandbox, form: &[(&str, &str)]) {
    let mut command = common::acme::curl();
    command.args(["--fail-with-body", "-o", "/dev/null"]);
    for (name, value) in form {
        command
            .arg("--data-urlencode")
            .arg(format!("{name}={value}"));
    }
    let out = command
        .arg(format!(
            "http://127.0.0.1:{}/webhooks/gumroad?secret={WEBHOOK_SECRET}",
            sandbox.api_port
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "ping: {}", text(&out));
}

fn ping(sale_id: &str, email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("seller_id", "SeLLeR-1d==".into()),
        ("sale_id", sale_id.into()),
        ("product_id", PRODUCT_ID.into()),
        ("product_name", "DataTools Core (1 year)".into()),
        ("email", email.into()),
        ("full_name", "Drill Buyer".into()),
        ("price", "4900".into()),
        ("sale_timestamp", chrono::Utc::now().to_rfc3339()),
    ]
}

fn send(sandbox: &Sandbox, fields: &[(&'static str, String)]) {
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_ping(sandbox, &form);
}

/// Waits until no delivery is received or processing any more.
fn settle(sandbox: &Sandbox) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let busy = sandbox.sql(
            "datatools_licenses",
            "select count(*)::text from gumroad_events where status in ('received', 'processing', 'retrying')",
        );
        if busy[0][0] == "0" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries still in flight:\n{}",
            events_text(sandbox)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The events table, for a failure's message.
fn events_text(sandbox: &Sandbox) -> String {
    sandbox
        .sql(
            "datatools_licenses",
            "select concat_ws(' | ', id, sale_id, resource_name, status, attempts, last_error) \
             from gumroad_events order by id",
        )
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one license of `email`'s sale, or a failure showing the events.
fn license_of(sandbox: &Sandbox, email: &str) -> String {
    let rows = sandbox.sql(
        "datatools_licenses",
        &format!("select license_key from licenses where email = '{email}'"),
    );
    assert_eq!(
        rows.len(),
        1,
        "one license for {email}; the events:\n{}",
        events_text(sandbox)
    );
    rows[0][0].clone()
}

/// Every row of the two tables as (table, id, md5 of the row).
fn row_hashes(sandbox: &Sandbox) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    for table in ["licenses", "gumroad_events"] {
        for row in sandbox.sql(
            "datatools_licenses",
            &format!("select id::text, md5(t::text) from {table} t order by id"),
        ) {
            rows.push((table.to_string(), row[0].clone(), row[1].clone()));
        }
    }
    rows
}

/// The revocation feed's seq (its ETag is `W/"SEQ-KEYID"`).
fn feed_seq(sandbox: &Sandbox) -> u64 {
    let out = common::acme::curl()
        .args(["-sS", "-D", "-", "-o", "/dev/null"])
        .arg(format!("http://127.0.0.1:{}/revocations", sandbox.api_port))
        .output()
        .unwrap();
    let headers = stdout(&out);
    let etag = headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("etag:")
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no ETag:\n{headers}"));
    etag.trim()
        .trim_start_matches("w/\"")
        .split('-')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The newest WAL segment in the off-site repository (pgBackRest's own view).
fn offsite_newest_wal(engine: &DockerEngine, sandbox: &Sandbox) -> String {
    let json = compose(
        engine,
        sandbox,
        &[
            "exec",
            "-T",
            "-u",
            "postgres",
            "postgres",
            "pgbackrest",
            "--stanza=datatools",
            "--repo=2",
            "info",
            "--output=json",
        ],
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value[0]["archive"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["max"].as_str())
        .max()
        .unwrap_or_default()
        .to_string()
}

fn site_edit(text: String, s3: &S3, postmark: &Postmark, gumroad: &Gumroad) -> String {
    let production = "image = \"postgres:16-alpine\"";
    assert!(text.contains(production));
    let mut text = text
        .replace(production, &format!("image = \"{POSTGRES_IMAGE}\""))
        .replace("stage = \"pr1\"", "stage = \"pr3\"")
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
        );
    text.push_str(&format!(
        "\n[archive]\noffsite = {{ type = \"s3\", endpoint = \"{BRIDGE_HOST}\", port = {}, bucket = \
         \"{BUCKET}\", region = \"{REGION}\", uri_style = \"path\", ca_file = \"{CA}\" }}\n",
        s3.port
    ));
    text
}

#[test]
fn a_lost_box_comes_back_from_the_offsite_copy_and_the_recovery_kit() {
    let started = Instant::now();
    let engine = DockerEngine::start();
    let s3 = S3::start();
    let postmark = Postmark::start();
    let gumroad = Gumroad::start(TOKEN, Vec::new());
    // The api reaches both at 127.0.0.1 inside its container, as it would a relay on its box.
    let _relay = LoopbackRelay::start(
        engine.env(),
        "datatools-api",
        vec![port_of(&postmark.url), port_of(&gumroad.url)],
    );
    let work = tempfile::tempdir().unwrap();
    let kit = work.path().join("recovery-kit.toml");

    // Box A.
    catalogue_bin_image(&engine, work.path());
    let a = Sandbox::with_runtime(Runtime::Compose, drill_env(&engine), |t| {
        site_edit(t, &s3, &postmark, &gumroad)
    });
    for (name, value) in [
        ("postmark_token", "pm-drill-token"),
        ("gumroad_secret", WEBHOOK_SECRET),
        ("gumroad_api_token", TOKEN),
    ] {
        let path = a.path(&format!("{ROOT}/secrets/{name}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, value).unwrap();
    }
    let ca = a.path(CA);
    std::fs::create_dir_all(ca.parent().unwrap()).unwrap();
    std::fs::copy(&s3.ca, &ca).unwrap();
    let out = with_stdin(
        a.command(&["archive", "credentials", "--stdin"]),
        "drillkey\ndrillsecret-0123456789\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("drillsecret"), "{}", text(&out));
    a.checkout_app();
    let first = a.provision();
    for line in [
        "datatools-license-postgres:",
        "changed  archive stanza",
        "changed  archive full backup",
    ] {
        assert!(first.contains(line), "{line:?} in:\n{first}");
    }
    eprintln!("drill: box A provisioned at {:?}", started.elapsed());
    let init = ok(&a, &["escrow", "init", "--kit-out", kit.to_str().unwrap()]);
    assert!(init.contains("copied to"), "{init}");
    let kit_text = std::fs::read_to_string(&kit).unwrap();
    assert!(kit_text.contains("AGE-SECRET-KEY-1"));
    // The box never holds what opens the escrow.
    let identity = kit_text
        .lines()
        .find_map(|l| l.strip_prefix("identity = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    for file in walk(a.root()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&identity),
            "{} holds the identity",
            file.display()
        );
    }
    let pubkey_a = std::fs::read_to_string(a.path(&format!("{ROOT}/.env")))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("DATATOOLS_LICENSE_PUBKEY=")
                .map(str::to_string)
        })
        .unwrap();

    // Business on A: two sales, a comp, a refund of the second sale, an address change.
    send(&a, &ping("DRILL-SALE-1==", "one@example.com"));
    send(&a, &ping("DRILL-SALE-2==", "two@example.com"));
    a.mint("comp@example.com");
    settle(&a);
    let mut refund = ping("DRILL-SALE-2==", "two@example.com");
    refund.extend([
        ("refunded", "true".to_string()),
        ("resource_name", "refund".to_string()),
    ]);
    send(&a, &refund);
    settle(&a);
    let one = license_of(&a, "one@example.com");
    change_address(&a, &one, "one-new@example.com");
    let seq_a = feed_seq(&a);
    assert!(seq_a >= 1, "the refund revoked a license: seq {seq_a}");

    // Everything so far archived off-site; then the last sale, 30 s before the loss.
    a.sql("datatools_licenses", "select pg_switch_wal()::text");
    let switched = a.sql(
        "datatools_licenses",
        "select pg_walfile_name(pg_current_wal_lsn())",
    )[0][0]
        .clone();
    // The segment closed by the switch (the one before `switched`) must be off-site.
    let deadline = Instant::now() + Duration::from_secs(120);
    while offsite_newest_wal(&engine, &a) < previous(&switched) {
        assert!(
            Instant::now() < deadline,
            "WAL before {switched} never reached the off-site repository"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let archived_rows = row_hashes(&a);
    let archived_at = chrono::Utc::now();
    let last_sale_at = chrono::Utc::now();
    gumroad.add(sale(
        "DRILL-LAST==",
        "last@example.com",
        &last_sale_at.format("%Y-%m-%dT%H:%M:%S.000Z").to_string(),
    ));
    send(&a, &ping("DRILL-LAST==", "last@example.com"));
    settle(&a);
    assert_eq!(
        postmark
            .recipients()
            .iter()
            .filter(|r| *r == "last@example.com")
            .count(),
        1
    );
    std::thread::sleep(Duration::from_secs(30));

    // The loss: A's containers die, then its volumes, images and root go.
    let lost_at = Instant::now();
    let lost_at_utc = chrono::Utc::now();
    engine.docker_ok(&["kill", "datatools-api", "datatools-postgres"]);
    compose(&engine, &a, &["down", "--volumes"]);
    let images = engine.docker_ok(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
    for image in images
        .lines()
        // The box's own images (the api's and the postgres one dtops builds), not the test's.
        .filter(|i| !i.starts_with("datatools-license-bin") && i.starts_with("datatools-license-"))
    {
        engine.docker_ok(&["image", "rm", "--force", image]);
    }
    let (api_port, pg_port) = (a.api_port, a.pg_port);
    drop(a);
    let emails_before_b = postmark.recipients().len();
    eprintln!(
        "drill: box A lost at {:?} (archived up to {switched})",
        started.elapsed()
    );

    // Box B: a fresh root with the checkout and the S3 CA; the kit from standard input.
    let mut b = Sandbox::with_runtime(Runtime::Compose, drill_env(&engine), |t| t);
    std::fs::remove_file(&b.site).unwrap();
    (b.api_port, b.pg_port) = (api_port, pg_port);
    let ca = b.path(CA);
    std::fs::create_dir_all(ca.parent().unwrap()).unwrap();
    std::fs::copy(&s3.ca, &ca).unwrap();
    b.checkout_app();

    // A wrong kit: a clear error, nothing written.
    let wrong = kit_text.replace(&identity, &age_other_identity());
    let before = b.snapshot();
    let out = with_stdin(b.command(&["recover", "--kit", "-"]), &wrong);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("does not open this escrow"),
        "{}",
        text(&out)
    );
    assert!(
        !b.site.exists() && b.snapshot() == before,
        "a wrong kit wrote something"
    );

    let recover_started = Instant::now();
    let out = with_stdin(b.command(&["recover", "--kit", "-"]), &kit_text);
    let shown = text(&out);
    assert!(out.status.success(), "recover:\n{shown}");
    let rto = recover_started.elapsed();
    assert!(
        !shown.contains(&identity) && !shown.contains("drillsecret"),
        "{shown}"
    );
    eprintln!("{shown}");

    // Every row A had archived, identical.
    let rows_b = row_hashes(&b);
    for row in &archived_rows {
        assert!(rows_b.contains(row), "{row:?} is not on B");
    }
    // The last sale: brought back by the sync, one license and one email.
    let last = b.sql(
        "datatools_licenses",
        "select count(*)::text from licenses where email = 'last@example.com'",
    );
    assert_eq!(last[0][0], "1");
    assert_eq!(
        rows_b.len(),
        archived_rows.len() + 2,
        "one license and one event more"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while postmark.recipients()[emails_before_b..]
        .iter()
        .filter(|r| *r == "last@example.com")
        .count()
        < 1
    {
        assert!(Instant::now() < deadline, "B never emailed the last buyer");
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(2));
    let since = postmark.recipients()[emails_before_b..].to_vec();
    assert_eq!(since, ["last@example.com"], "B sent exactly one email");
    // The same signing key, the feed not behind.
    let blob = b.mint("after-recovery@example.com");
    let verified = dtops()
        .args(["verify", &blob, "--pubkey", &pubkey_a])
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(feed_seq(&b) >= seq_a);
    // The buyer whose address changed on A signs in on B and sees their license.
    let page = portal_sign_in(
        &format!("http://127.0.0.1:{}", b.api_port),
        &postmark,
        "one-new@example.com",
    );
    assert!(
        page.contains(&one),
        "the recovered license on the portal:\n{page}"
    );

    let rpo = lost_at_utc - archived_at;
    eprintln!(
        "drill: RPO {} s (loss at {lost_at_utc}, last archived state {archived_at}; the last \
         sale after it came back from Gumroad), RTO {:.0} s (`dtops recover`), {:.0} s from the \
         loss; off-site bucket: {} objects, {} bytes",
        rpo.num_seconds(),
        rto.as_secs_f64(),
        lost_at.elapsed().as_secs_f64(),
        s3.objects().len(),
        s3.objects().iter().map(|(_, size)| size).sum::<u64>()
    );
    eprintln!("drill: done at {:?}", started.elapsed());
}

/// The image the drill's api is built from (API_BIN_STAGE): this build's server with the
/// example Gumroad product of products.toml switched on in its built-in catalogue, as an
/// operator's filled-in products.toml is built into theirs. The same bytes, patched in place
/// (each line loses its `# ` and gains two trailing spaces), so no second build is needed.
const DRILL_BIN_IMAGE: &str = "datatools-license-bin:drill";

fn catalogue_bin_image(engine: &DockerEngine, dir: &std::path::Path) {
    let commented = "# [[products]]\n# gumroad_product_id = \"FO8TXN-dbxYaBdahG97Y-Q==\"\n# name = \"DataTools Core (1 year)\"\n# tier = \"core\"\n";
    let live = "[[products]]  \ngumroad_product_id = \"FO8TXN-dbxYaBdahG97Y-Q==\"  \nname = \"DataTools Core (1 year)\"  \ntier = \"core\"  \n";
    assert_eq!(commented.len(), live.len());
    let built = std::path::Path::new(common::DTOPS).with_file_name("datatools-license");
    let mut bytes = std::fs::read(&built).unwrap();
    let at: Vec<usize> = bytes
        .windows(commented.len())
        .enumerate()
        .filter(|(_, w)| *w == commented.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        at.len(),
        1,
        "products.toml's example product, once, in {}",
        built.display()
    );
    bytes[at[0]..at[0] + live.len()].copy_from_slice(live.as_bytes());
    let dir = dir.join("drill-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("datatools-license");
    std::fs::write(&bin, bytes).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tarball = dir.join("bin.tar");
    let out = Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .args(["-cf", tarball.to_str().unwrap(), "datatools-license"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tar: {}", text(&out));
    engine.docker_ok(&["import", tarball.to_str().unwrap(), DRILL_BIN_IMAGE]);
}

/// The engine's environment with the drill's server image.
fn drill_env(engine: &DockerEngine) -> Vec<(String, String)> {
    engine
        .env()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "API_BIN_STAGE" => (k, DRILL_BIN_IMAGE.to_string()),
            _ => (k, v),
        })
        .collect()
}

/// The admin API's address change (a buyer's request): the license re-signed for `to`.
fn change_address(sandbox: &Sandbox, license_key: &str, to: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/internal/licenses/{license_key}/email",
                sandbox.api_port
            ))
            .bearer_auth(sandbox.admin_token().trim())
            .json(&serde_json::json!({"email": to, "reason": "drill: the buyer asked"}))
            .send()
            .await
            .unwrap()
    });
    assert!(
        answer.status().is_success(),
        "address change: {}",
        answer.status()
    );
}

/// A buyer signs in to the portal on `api` with the link mailed to `address` (through the
/// Postmark stand-in) and sees their licenses: the page, as text.
fn portal_sign_in(api: &str, postmark: &Postmark, address: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie_of = |response: &reqwest::Response, name: &str| {
            response
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
                .find(|c| c.starts_with(&format!("{name}=")))
        };
        let page = http.get(format!("{api}/portal/")).send().await.unwrap();
        assert_eq!(page.status(), 200, "the portal's sign-in page");
        let csrf_cookie = cookie_of(&page, "__Host-dt_csrf").expect("the form cookie");
        let html = page.text().await.unwrap();
        let csrf = html
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the form's token")
            .to_string();
        let mails_before = postmark.text_bodies_to(address).len();
        let asked = http
            .post(format!("{api}/portal/sign-in"))
            .header("cookie", &csrf_cookie)
            .form(&[("csrf", csrf.as_str()), ("email", address)])
            .send()
            .await
            .unwrap();
        assert!(
            asked.status().is_success() || asked.status().is_redirection(),
            "sign-in request: {}",
            asked.status()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let token = loop {
            let found = postmark.text_bodies_to(address)[mails_before..]
                .iter()
                .find_map(|body| {
                    let at = body.find("/portal/link?t=")?;
                    body[at + "/portal/link?t=".len()..]
                        .split_whitespace()
                        .next()
                        .map(str::to_string)
                });
            if let Some(token) = found {
                break token;
            }
            assert!(
                Instant::now() < deadline,
                "no sign-in link mailed to {address}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let confirm = http
            .get(format!("{api}/portal/link?t={token}"))
            .header("cookie", &csrf_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(confirm.status(), 200, "the link's confirm page");
        let used = http
            .post(format!("{api}/portal/link"))
            .header("cookie", &csrf_cookie)
            .form(&[("csrf", csrf.as_str()), ("token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            used.status().is_redirection(),
            "using the link: {}",
            used.status()
        );
        let session = cookie_of(&used, "__Host-dt_session").expect("a session cookie");
        let licenses = http
            .get(format!("{api}/portal/licenses"))
            .header("cookie", format!("{csrf_cookie}; {session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(licenses.status(), 200, "the licenses page");
        licenses.text().await.unwrap()
    })
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// The WAL segment name before `name` (same timeline, 16 MB segments).
fn previous(name: &str) -> String {
    let (timeline, rest) = name.split_at(8);
    let log = u64::from_str_radix(&rest[..8], 16).unwrap();
    let seg = u64::from_str_radix(&rest[8..], 16).unwrap();
    let (log, seg) = if seg == 0 {
        (log - 1, 0xFF)
    } else {
        (log, seg - 1)
    };
    format!("{timeline}{log:08X}{seg:08X}")
}

/// A valid identity that is not the kit's.
fn age_other_identity() -> String {
    use age::secrecy::ExposeSecret;
    age::x25519::Identity::generate()
        .to_string()
        .expose_secret()
        .to_string()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.push(path);
            }
        }
    }
    out
}
