//! The disaster drill, on the production path (compose on a private Docker engine): box A
//! archives its WAL continuously to an off-site S3 store (moto behind TLS) and escrows its
//! secrets to a recovery kit; it takes sales, a comp, a refund and an address change, then one
//! more sale 30 s before it is lost (containers killed, volumes, images and its root deleted).
//! Box B is rebuilt by `dtops recover` from the off-site copy and the kit alone: every row of
//! licenses and gumroad_events as A had archived them (a hash per row), the same signing key (a
//! license minted on B verifies with A's public key), the revocation feed's seq not below A's,
//! a buyer signing in to the portal, and the sale made after the last archived WAL recovered by
//! the Gumroad sync with one license and one email. Prints the RPO and RTO.
//!
//! On the way, the faults the issue names: a wrong recovery kit (a clear error, nothing
//! written), a gap in the archived WAL (one segment deleted off-site after the business: B
//! recovers to the last consistent point and names the missing segment), no secret in
//! `docker inspect`, the containers' logs or dtops' output; and `dtops restore --at` on B,
//! rebuilding A's database as it was before the refund. One test: compose.yml's names are fixed.

mod common;
mod drill;

use std::time::{Duration, Instant};

use common::docker::{DockerEngine, POSTGRES_IMAGE};
use common::fake_gumroad::{sale, Gumroad};
use common::fake_http::Postmark;
use common::loopback_relay::LoopbackRelay;
use common::s3::{BRIDGE_HOST, BUCKET, REGION, S3};
use common::sandbox::{Runtime, Sandbox};
use common::{dtops, with_stdin};
use drill::*;

const TOKEN: &str = "gumroad-api-token-drill-0123456789";
const CA: &str = "/etc/dtops-test/s3-ca.pem";

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
    // Both api slots (blue/green): a change on either box may start the other one.
    let _relays = ["datatools-api-blue", "datatools-api-green"].map(|container| {
        LoopbackRelay::start(
            engine.env(),
            container,
            vec![port_of(&postmark.url), port_of(&gumroad.url)],
        )
    });
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
        &mut a.command(&["archive", "credentials", "--stdin"]),
        &format!("{S3_KEY_ID}\n{S3_SECRET}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(S3_SECRET), "{}", text(&out));
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
    // pgBackRest's secrets reach it through a file inside the container: never its
    // environment (docker inspect) or a log.
    let cipher =
        std::fs::read_to_string(a.path(&format!("{ROOT}/secrets/archive_cipher_pass"))).unwrap();
    let api_a = format!("datatools-api-{}", a.live_slot());
    let inspect = engine.docker_ok(&["inspect", "datatools-postgres", &api_a]);
    let logs = compose(&engine, &a, &["logs", "--no-color"]);
    for (what, shown) in [("docker inspect", &inspect), ("the logs", &logs)] {
        for secret in [cipher.trim(), S3_SECRET] {
            assert!(!shown.contains(secret), "{what} shows a secret");
        }
    }
    let pubkey_a = std::fs::read_to_string(a.path(&format!("{ROOT}/.env")))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("DATATOOLS_LICENSE_PUBKEY=")
                .map(str::to_string)
        })
        .unwrap();

    // Business on A: two sales, a comp; then (a whole second later) a refund of the second
    // sale and an address change.
    send(&a, &ping("DRILL-SALE-1==", "one@example.com"));
    send(&a, &ping("DRILL-SALE-2==", "two@example.com"));
    a.mint("comp@example.com");
    settle(&a);
    let before_refund = next_whole_second();
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
    let archived_rows = row_hashes(&a);

    // The business's segment closed and off-site.
    let business_end = switch_wal(&a);
    wait_offsite(&engine, &a, &business_end);

    // The quarterly drill on the live box: the kit opens the escrow, which matches the box,
    // and the off-site copy alone restores (into scratch) with every license.
    let out = with_stdin(
        &mut a.command(&["recover", "--kit", "-", "--check"]),
        &kit_text,
    );
    let checked = text(&out);
    assert!(
        out.status.success(),
        "recover --check:
{checked}"
    );
    for said in [
        "the escrow holds this box's",
        "the off-site copy reaches",
        "the signing key derives the recorded public key",
        "the live database now: public.licenses 3 rows",
    ] {
        assert!(
            checked.contains(said),
            "{said:?} in:
{checked}"
        );
    }
    let licenses = checked
        .lines()
        .find(|l| l.trim_start().starts_with("public.licenses "))
        .unwrap_or_else(|| {
            panic!(
                "no licenses table in:
{checked}"
            )
        });
    assert!(licenses.contains(" 3 rows"), "{licenses}");
    for secret in [identity.as_str(), S3_SECRET, cipher.trim()] {
        assert!(
            !checked.contains(secret),
            "recover --check printed a secret"
        );
    }

    // Two segments with only filler in them, the first of which goes missing off-site (a gap
    // after everything that matters).
    let lost_segment = switch_wal(&a);
    let after_gap = switch_wal(&a);
    let last_switch = Instant::now();
    wait_offsite(&engine, &a, &after_gap);
    assert!(offsite_newest_wal(&engine, &a) >= business_end);
    let deleted = s3.delete_objects_containing(&lost_segment, S3_KEY_ID, S3_SECRET);
    assert!(
        deleted.iter().any(|k| k.contains("/archive/")),
        "{lost_segment} was archived off-site: {deleted:?}"
    );

    // The last sale, after the last archived WAL; the loss 30 s later, before archive_timeout
    // closes its segment.
    gumroad.add(sale(
        "DRILL-LAST==",
        "last@example.com",
        &chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S.000Z")
            .to_string(),
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
    assert!(
        last_switch.elapsed() < Duration::from_secs(55),
        "the drill took too long: archive_timeout (60 s) may have archived the last sale"
    );

    // The loss: A's containers die, then its volumes, images and root go.
    let lost_at = Instant::now();
    let lost_at_utc = chrono::Utc::now();
    engine.docker_ok(&["kill", &api_a, "datatools-postgres"]);
    compose(&engine, &a, &["down", "--volumes"]);
    let images = engine.docker_ok(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
    for image in images
        .lines()
        // The box's own images (the api's and the postgres one dtops builds), not the test's.
        .filter(|i| !i.starts_with("datatools-license-bin") && i.starts_with("datatools-license-"))
    {
        engine.docker_ok(&["image", "rm", "--force", image]);
    }
    let ports = (a.door_port, a.blue_port, a.green_port, a.pg_port);
    drop(a);
    let emails_before_b = postmark.recipients().len();
    eprintln!(
        "drill: box A lost at {:?} (business up to segment {business_end}; {lost_segment} \
         deleted off-site)",
        started.elapsed()
    );

    // Box B: a fresh root with the checkout and the S3 CA; the kit from standard input.
    let mut b = Sandbox::with_runtime(Runtime::Compose, drill_env(&engine), |t| t);
    std::fs::remove_file(&b.site).unwrap();
    // The escrowed site.toml names box A's ports.
    (b.door_port, b.blue_port, b.green_port, b.pg_port) = ports;
    let ca = b.path(CA);
    std::fs::create_dir_all(ca.parent().unwrap()).unwrap();
    std::fs::copy(&s3.ca, &ca).unwrap();
    b.checkout_app();

    // A wrong kit: a clear error, nothing written.
    let wrong = kit_text.replace(&identity, &age_other_identity());
    let before = b.snapshot();
    let out = with_stdin(&mut b.command(&["recover", "--kit", "-"]), &wrong);
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
    let out = with_stdin(&mut b.command(&["recover", "--kit", "-"]), &kit_text);
    let shown = text(&out);
    assert!(out.status.success(), "recover:\n{shown}");
    let rto = recover_started.elapsed();
    for secret in [identity.as_str(), S3_SECRET, cipher.trim()] {
        assert!(
            !shown.contains(secret),
            "recover printed a secret:\n{shown}"
        );
    }
    eprintln!("{shown}");
    // The gap, said exactly.
    assert!(
        shown.contains(&format!("segment {lost_segment} is missing")),
        "{shown}"
    );
    let recovery_point = recovery_point(&shown);

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
        &format!("http://127.0.0.1:{}", b.api_port()),
        &postmark,
        "one-new@example.com",
    );
    assert!(
        page.contains(&one),
        "the recovered license on the portal:\n{page}"
    );
    let rpo = lost_at_utc - recovery_point;
    let recovered_in = lost_at.elapsed();

    // Point-in-time restore on B: A's database as it was before the refund.
    let at = before_refund.format("%Y-%m-%d %H:%M:%S").to_string();
    let restored = ok(&b, &["restore", "--at", &at, "--keep"]);
    let scratch = restored
        .lines()
        .find_map(|l| l.strip_prefix("kept: database "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no kept database in:\n{restored}"));
    let then = b.sql(
        scratch,
        "select count(*)::text, count(revoked_at)::text from licenses",
    );
    assert_eq!(
        then[0],
        ["3", "0"],
        "two sales and the comp, none refunded yet"
    );

    eprintln!(
        "drill: RPO {:.1} s (loss at {lost_at_utc}, recovery point {recovery_point}; the last \
         sale after it came back from Gumroad), RTO {:.0} s (`dtops recover`), {:.0} s from the \
         loss to the portal signing a buyer in; off-site bucket: {} objects, {} bytes",
        rpo.num_milliseconds() as f64 / 1000.0,
        rto.as_secs_f64(),
        recovered_in.as_secs_f64(),
        s3.objects().len(),
        s3.objects().iter().map(|(_, size)| size).sum::<u64>()
    );
    eprintln!("drill: done at {:?}", started.elapsed());
}

/// The S3 access key box A is given (moto takes any).
const S3_KEY_ID: &str = "drillkey";
const S3_SECRET: &str = "drillsecret-0123456789";

/// Closes the current WAL segment after a filler write (a switch needs one); its name.
fn switch_wal(sandbox: &Sandbox) -> String {
    sandbox.sql(
        "datatools_licenses",
        "create table if not exists drill_filler (at timestamptz)",
    );
    sandbox.sql(
        "datatools_licenses",
        "insert into drill_filler values (now())",
    );
    sandbox.sql(
        "datatools_licenses",
        "select pg_walfile_name(pg_switch_wal())",
    )[0][0]
        .clone()
}

/// Waits until the off-site repository holds `segment`.
fn wait_offsite(engine: &DockerEngine, sandbox: &Sandbox, segment: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while offsite_newest_wal(engine, sandbox).as_str() < segment {
        assert!(
            Instant::now() < deadline,
            "WAL segment {segment} never reached the off-site repository"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Sleeps past the next whole second and returns it: a moment strictly between what was
/// written before the call and what is written after.
fn next_whole_second() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now();
    let next = now.duration_trunc(TimeDelta::seconds(1)).unwrap() + TimeDelta::seconds(1);
    std::thread::sleep((next - now).to_std().unwrap() + Duration::from_millis(1100));
    next
}

/// The recovery point `dtops recover` printed.
fn recovery_point(shown: &str) -> chrono::DateTime<chrono::Utc> {
    let at = shown
        .split("recovery point ")
        .nth(1)
        .and_then(|rest| rest.split(" UTC").next())
        .unwrap_or_else(|| panic!("no recovery point in:\n{shown}"));
    chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S%.3f")
        .unwrap_or_else(|e| panic!("{at:?}: {e}"))
        .and_utc()
}
