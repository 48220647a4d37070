//! Zero downtime on the production path: `docker compose` on the real (private) engine, requests
//! through the nginx dtops renders (a private nginx with pebble's certificate), and a load
//! generator sending about 50 requests a second (/health, the portal, the revocation feed,
//! Gumroad deliveries) across each change dtops makes to the api:
//! - `dtops upgrade` to a new commit (the new image started on the idle slot, checked there,
//!   nginx switched, the old slot drained and stopped);
//! - an upgrade whose image cannot serve (traffic never moves);
//! - `dtops provision` after a `[server]` setting changed;
//!
//! each with 0 answers that are not 2xx, 0 requests without an answer, and every acknowledged
//! delivery stored exactly once. It prints the requests each change saw and dtops' own timings
//! (start to healthy, smoke test, nginx switch, nginx drain, the old slot's stop, the upgrade end
//! to end).
//!
//! In the nextest test-group `docker-engine` with the other compose tests (one stack per daemon).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::bin_images::script_bin_image;
use common::docker::{DockerEngine, POSTGRES_IMAGE};
use common::load::{self, Load, Target};
use common::web::{WebSandbox, LICENSES};

const BROKEN_BIN_IMAGE: &str = "datatools-test/broken-api-bin:local";
const APP: &str = "/srv/datatools-license/app";

/// What the load saw while `change` ran: the counts, printed, and asserted clean.
fn under_load<T>(load: &Load, what: &str, change: impl FnOnce() -> T) -> T {
    let from = Instant::now();
    let result = change();
    let to = Instant::now();
    let seen = load::window(&load.requests(), from, to);
    eprintln!(
        "compose_bluegreen: {what}: {:.1} s, {} requests through nginx, {} not 2xx, {} without \
         an answer",
        (to - from).as_secs_f32(),
        seen.requests,
        seen.not_2xx.len(),
        seen.failed.len()
    );
    assert!(seen.not_2xx.is_empty(), "{what}: {:#?}", seen.not_2xx);
    assert!(seen.failed.is_empty(), "{what}: {:#?}", seen.failed);
    result
}

/// The lines of dtops' output that carry its timings, printed for the record.
fn print_timings(what: &str, out: &str) {
    for line in out
        .lines()
        .filter(|l| l.contains("nginx switch") || l.contains("upgrade: done in"))
    {
        eprintln!("compose_bluegreen: {what}: {}", line.trim());
    }
}

fn git(web: &WebSandbox, args: &[&str]) -> String {
    let app = web.sandbox.path(APP);
    let out = Command::new("git")
        .arg("-c")
        .arg(format!("safe.directory={}", app.display()))
        .arg("-C")
        .arg(&app)
        .args([
            "-c",
            "user.name=dtops test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn dtops(web: &WebSandbox, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = web.sandbox.command(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn changes_on_the_real_engine_under_load_through_nginx_lose_nothing() {
    let started = Instant::now();
    let engine = DockerEngine::start();
    let work = tempfile::tempdir().unwrap();
    let migrations = datatools_license::db::MIGRATOR.iter().count();
    script_bin_image(&engine, work.path(), BROKEN_BIN_IMAGE, migrations);
    let web = WebSandbox::start_compose(engine.env(), |text| {
        text.replace(
            "image = \"postgres:16-alpine\"",
            &format!("image = \"{POSTGRES_IMAGE}\""),
        )
        // Postmark is never reached (the deliveries are for a product the catalogue lacks).
        .replace(
            "# postmark_api_url = \"https://api.postmarkapp.com\"",
            "postmark_api_url = \"http://127.0.0.1:9/\"",
        )
    });
    let sandbox = &web.sandbox;
    sandbox.checkout_app();
    web.provision(&[]);
    eprintln!(
        "compose_bluegreen: provisioned at {:.0?}",
        started.elapsed()
    );

    // Stage pr3 (the portal and the feed); the test ping goes through nginx's door.
    let mut cutover = sandbox
        .command(&[
            "cutover",
            "pr3",
            "--postmark-token-stdin",
            "--public-url",
            &format!("http://127.0.0.1:{}", sandbox.door_port),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    cutover
        .stdin
        .take()
        .unwrap()
        .write_all(b"postmark-token-for-compose-bluegreen\n")
        .unwrap();
    let cutover = cutover.wait_with_output().unwrap();
    assert!(
        cutover.status.success(),
        "{}{}",
        String::from_utf8_lossy(&cutover.stdout),
        String::from_utf8_lossy(&cutover.stderr)
    );
    assert_eq!(sandbox.live_slot(), "green");
    let secret =
        std::fs::read_to_string(sandbox.path("/srv/datatools-license/secrets/gumroad_secret"))
            .unwrap();

    let load = Load::start(Target {
        base: format!("https://{LICENSES}:{}", web.https_port),
        resolve: Some((LICENSES.into(), ([127, 0, 0, 1], web.https_port).into())),
        root_pem: Some(load::pem(&web.issuing_root())),
        mix: load::PUBLIC,
        webhook_secret: secret.trim().to_string(),
        sale_prefix: "CBG".into(),
    });
    std::thread::sleep(std::time::Duration::from_secs(2));

    // 1. An upgrade to a new commit (the same server: API_BIN_STAGE).
    let c1 = {
        git(
            &web,
            &[
                "commit",
                "--quiet",
                "--allow-empty",
                "-m",
                "a second version",
            ],
        );
        git(&web, &["rev-parse", "HEAD"])
    };
    let (ok, out) = under_load(&load, "dtops upgrade", || dtops(&web, &["upgrade"], &[]));
    assert!(ok, "{out}");
    print_timings("dtops upgrade", &out);
    assert_eq!(sandbox.live_slot(), "blue");
    let tag = format!("datatools-license-api:{}", &c1[..12]);
    assert_eq!(
        engine
            .docker_ok(&[
                "inspect",
                "--format",
                "{{.Config.Image}}",
                "datatools-api-blue"
            ])
            .trim(),
        tag
    );

    // 2. An upgrade whose image cannot serve: traffic never moves.
    git(
        &web,
        &[
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            "a broken version",
        ],
    );
    let (ok, out) = under_load(&load, "a failing upgrade", || {
        dtops(&web, &["upgrade"], &[("API_BIN_STAGE", BROKEN_BIN_IMAGE)])
    });
    assert!(!ok, "{out}");
    for line in [
        "slot green did not become healthy",
        "slot green was stopped again; traffic never moved: slot blue serves as before",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert_eq!(sandbox.live_slot(), "blue");

    // 3. A [server] setting changes: provision moves the api to the other slot.
    let site = std::fs::read_to_string(&sandbox.site).unwrap();
    std::fs::write(
        &sandbox.site,
        site.replacen("log_level = \"info\"", "log_level = \"debug\"", 1),
    )
    .unwrap();
    let out = under_load(&load, "provision after a [server] change", || {
        web.provision(&[])
    });
    print_timings("provision after a [server] change", &out);
    assert_eq!(sandbox.live_slot(), "green");
    assert!(web.provision(&[]).contains(" 0 changed, 0 failed"));

    // Nothing lost over the whole run.
    load::assert_nothing_lost(load, sandbox, "compose_bluegreen", "CBG-");
    web.assert_tenant_answered_throughout();
    eprintln!("compose_bluegreen: done at {:.0?}", started.elapsed());
}
