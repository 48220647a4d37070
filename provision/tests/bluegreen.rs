//! Blue/green changes on the nginx dtops renders (a private nginx, pebble's certificate, another
//! tenant beside us), with the native runtime, while a load generator sends about 50 requests a
//! second through nginx (/health, the portal, the revocation feed, Gumroad deliveries):
//! - a `provision` after a `[server]` change and a key rotation each move the api to the other
//!   slot: 0 answers that are not 2xx, 0 requests without an answer, every delivery stored once;
//! - the faults: a new slot that never becomes healthy (traffic never moves), nginx refusing
//!   the switched configuration (nothing changes, our files are put back byte for byte), dtops
//!   killed right after its switch (the next run converges to the recorded slot), the idle
//!   slot's port taken (named, nothing changes);
//! - the loopback door on `ports.api` follows the serving slot; `dtops status` names it.
//!
//! The numbers (requests during each change, the switch and drain times dtops reports) are
//! printed for the record.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use common::load::{self, Load, Target};
use common::web::{WebSandbox, LICENSES};

const INCLUDE: &str = "/etc/nginx/conf.d/datatools-license.conf";

struct Box<'a> {
    web: &'a WebSandbox,
    work: PathBuf,
}

impl Box<'_> {
    fn dtops(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let mut command = self.web.sandbox.command(args);
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

    fn provision_ok(&self) -> String {
        let (ok, out) = self.dtops(&["provision"], &[]);
        assert!(
            ok,
            "provision failed:\n{out}\n{}",
            self.web.nginx.error_log()
        );
        out
    }

    fn provision_failing(&self, env: &[(&str, &str)]) -> String {
        let (ok, out) = self.dtops(&["provision"], env);
        assert!(!ok, "provision succeeded:\n{out}");
        out
    }

    /// site.toml with `from` replaced by `to` (which must be there).
    fn edit_site(&self, from: &str, to: &str) {
        let site = &self.web.sandbox.site;
        let text = std::fs::read_to_string(site).unwrap();
        assert!(text.contains(from), "site.toml has no {from:?}");
        std::fs::write(site, text.replacen(from, to, 1)).unwrap();
    }

    fn live(&self) -> String {
        self.web.sandbox.live_slot()
    }

    fn include(&self) -> Vec<u8> {
        std::fs::read(self.web.sandbox.path(INCLUDE)).unwrap()
    }

    /// The port our upstream points at, as nginx's file on disk says.
    fn upstream(&self) -> u16 {
        let text = String::from_utf8(self.include()).unwrap();
        text.lines()
            .find_map(|l| l.trim().strip_prefix("server 127.0.0.1:"))
            .and_then(|rest| rest.trim_end_matches(';').parse().ok())
            .unwrap_or_else(|| panic!("no upstream server in:\n{text}"))
    }

    /// Whether the native api of `slot` runs.
    fn runs(&self, slot: &str) -> bool {
        self.web
            .sandbox
            .slot_pid(slot)
            .is_some_and(common::process_alive)
    }

    /// Asserts `slot` serves alone: recorded, nginx pointed at it, the other slot stopped, and
    /// the door answering from it.
    fn serves_alone(&self, slot: &str) {
        let other = if slot == "blue" { "green" } else { "blue" };
        assert_eq!(self.live(), slot);
        assert_eq!(self.upstream(), self.web.sandbox.slot_port(slot));
        assert!(self.runs(slot), "slot {slot} does not run");
        assert!(
            !self.runs(other),
            "slot {other} still runs; its log:\n{}",
            tail(
                &std::fs::read_to_string(self.web.sandbox.path(&format!(
                    "/var/lib/dtops-native/datatools-license/api-{other}.log"
                )))
                .unwrap_or_default()
            )
        );
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "5", "-o", "/dev/null", "-D", "-"])
            .arg(format!(
                "http://127.0.0.1:{}/health",
                self.web.sandbox.door_port
            ))
            .output()
            .unwrap();
        let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(head.starts_with("http/1.1 200"), "the door: {head}");
        let want = format!(
            "x-dtops-upstream: 127.0.0.1:{}",
            self.web.sandbox.slot_port(slot)
        );
        assert!(
            head.contains(&want),
            "{want:?} in the door's answer:\n{head}"
        );
    }

    /// A `datatools-license` that exits at start (a broken build).
    fn broken_binary(&self) -> PathBuf {
        let dir = self.work.join("broken");
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("datatools-license");
        std::fs::write(
            &bin,
            "#!/bin/sh\necho 'datatools-license: a broken build (bluegreen test)' >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        bin
    }

    /// Templates where our http include gains a directive nginx refuses as soon as its
    /// upstream points at `port`: nginx refuses exactly the switched configuration.
    fn templates_refusing(&self, port: u16) -> PathBuf {
        let dir = self.work.join("templates");
        std::fs::create_dir_all(&dir).unwrap();
        let real = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../templates/nginx-http.conf.j2"
        ))
        .unwrap();
        std::fs::write(
            dir.join("nginx-http.conf.j2"),
            format!(
                "{real}{{% if nginx.upstream_server == \"127.0.0.1:{port}\" %}}\n\
                 not_a_directive_from_the_bluegreen_test on;\n{{% endif %}}\n"
            ),
        )
        .unwrap();
        dir
    }
}

/// The last lines of a log, without sqlx's debug lines.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.contains("DEBUG")).collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// What the load saw while `change` ran; asserts it lost nothing.
fn under_load<T>(load: &Load, what: &str, change: impl FnOnce() -> T) -> T {
    let from = Instant::now();
    let result = change();
    let to = Instant::now();
    let requests = load.requests();
    let seen = load::window(&requests, from, to);
    eprintln!(
        "bluegreen: {what}: {:.1} s, {} requests through nginx, {} not 2xx, {} without an answer",
        (to - from).as_secs_f32(),
        seen.requests,
        seen.not_2xx.len(),
        seen.failed.len()
    );
    assert!(seen.not_2xx.is_empty(), "{what}: {:#?}", seen.not_2xx);
    assert!(seen.failed.is_empty(), "{what}: {:#?}", seen.failed);
    result
}

/// dtops' line of timings for a change ("healthy after ... in all").
fn timings(out: &str) -> String {
    out.lines()
        .find(|l| l.contains("nginx switch"))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| panic!("no timings in:\n{out}"))
}

#[test]
fn changes_under_load_through_nginx_lose_nothing_and_faults_change_nothing() {
    let web = WebSandbox::start_with_site(|text| {
        // Postmark is never reached (deliveries are for a product the catalogue lacks).
        text.replace(
            "# postmark_api_url = \"https://api.postmarkapp.com\"",
            "postmark_api_url = \"http://127.0.0.1:9/\"",
        )
    });
    let work = tempfile::tempdir().unwrap();
    let b = Box {
        web: &web,
        work: work.path().to_path_buf(),
    };
    let sandbox = &web.sandbox;

    // A fresh box starts slot blue; nginx's upstream and its door point there.
    let first = b.provision_ok();
    assert!(
        first.contains("changed  api: started the api in slot blue"),
        "{first}"
    );
    b.serves_alone("blue");

    // Stage pr3 (the portal and the feed): the cutover's restart is a change to slot green.
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
        .write_all(b"postmark-token-for-the-bluegreen-test\n")
        .unwrap();
    let cutover = cutover.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&cutover.stdout);
    assert!(cutover.status.success(), "{out}");
    b.serves_alone("green");
    let secret =
        std::fs::read_to_string(sandbox.path("/srv/datatools-license/secrets/gumroad_secret"))
            .unwrap();

    let load = Load::start(Target {
        base: format!("https://{LICENSES}:{}", web.https_port),
        resolve: Some((LICENSES.into(), ([127, 0, 0, 1], web.https_port).into())),
        root_pem: Some(load::pem(&web.issuing_root())),
        mix: load::PUBLIC,
        webhook_secret: secret.trim().to_string(),
        sale_prefix: "BG".into(),
    });
    std::thread::sleep(std::time::Duration::from_secs(2));

    // 1. A [server] setting changes: provision moves the api to the other slot.
    b.edit_site("log_level = \"info\"", "log_level = \"debug\"");
    let out = under_load(&load, "provision after a [server] change", || {
        b.provision_ok()
    });
    eprintln!("bluegreen: {}", timings(&out));
    b.serves_alone("blue");

    // 2. A key rotation: the same, the new key checked by the smoke license on the new slot.
    let (ok, out) = under_load(&load, "keys rotate", || b.dtops(&["keys", "rotate"], &[]));
    assert!(ok, "{out}");
    eprintln!("bluegreen: {}", timings(&out));
    b.serves_alone("green");

    // 3. The new slot never becomes healthy: traffic never moves, nothing changes.
    b.edit_site("log_level = \"debug\"", "log_level = \"info\"");
    let include = b.include();
    let broken = b.broken_binary();
    let out = under_load(&load, "a new slot that does not start", || {
        b.provision_failing(&[("DTOPS_NATIVE_BIN", broken.to_str().unwrap())])
    });
    for line in [
        "slot blue did not start",
        "a broken build (bluegreen test)",
        "slot blue was stopped again; traffic never moved: slot green serves as before",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert_eq!(b.include(), include);
    b.serves_alone("green");

    // 4. nginx refuses the switched configuration: our files go back byte for byte.
    let templates = b.templates_refusing(sandbox.blue_port);
    let out = under_load(&load, "nginx refusing the switched configuration", || {
        b.provision_failing(&[("DTOPS_TEMPLATES", templates.to_str().unwrap())])
    });
    for line in [
        "nginx rejected the new configuration, so dtops put the previous files back",
        "not_a_directive_from_the_bluegreen_test",
        "slot blue was stopped again; slot green serves as before",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert_eq!(b.include(), include);
    b.serves_alone("green");

    // 5. The idle slot's port is taken: named, nothing changes.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", sandbox.blue_port)).unwrap();
    let out = under_load(&load, "the idle slot's port taken", || {
        b.provision_failing(&[])
    });
    assert!(
        out.contains(&format!(
            "127.0.0.1:{} (ports.api_blue) is in use by another process",
            sandbox.blue_port
        )),
        "{out}"
    );
    drop(squatter);
    b.serves_alone("green");

    // 6. dtops dies right after nginx switched (before it recorded the new slot and stopped the
    // old one): both slots run, nginx points at the new one. The next run goes back to the
    // recorded slot, stops the other, then makes the change still owed.
    let site = std::fs::read_to_string(&sandbox.site).unwrap();
    let reload = site
        .lines()
        .find(|l| l.starts_with("reload_nginx = "))
        .unwrap()
        .to_string();
    b.edit_site(
        &reload,
        &reload.replacen(
            "reload_nginx = [",
            "reload_nginx = [\"sh\", \"-c\", \"$0 $@ && kill -9 $PPID\", ",
            1,
        ),
    );
    under_load(&load, "dtops killed right after its switch", || {
        b.provision_failing(&[])
    });
    std::fs::write(&sandbox.site, &site).unwrap();
    assert_eq!(b.live(), "green", "the change was never recorded");
    assert_eq!(b.upstream(), sandbox.blue_port, "nginx was switched");
    assert!(b.runs("blue") && b.runs("green"));
    let out = under_load(&load, "the next provision after the crash", || {
        b.provision_ok()
    });
    for line in [
        "stopped slot blue; slot green serves",
        "apply the api's changed settings (compose file, .env or secrets): slot blue serves",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    b.serves_alone("blue");
    let again = b.provision_ok();
    assert!(again.contains(" 0 changed, 0 failed"), "{again}");

    // Nothing lost: every answer 2xx, every acknowledged delivery stored once.
    load::assert_nothing_lost(load, sandbox, "bluegreen", "BG-");

    // (It exits 1: the load's deliveries are for a product the catalogue lacks, an alert.)
    let (_, status) = b.dtops(&["status"], &[]);
    assert!(
        status.contains(&format!(
            "slot blue (127.0.0.1:{}) serves",
            sandbox.blue_port
        )),
        "{status}"
    );
    web.assert_tenant_answered_throughout();
}
