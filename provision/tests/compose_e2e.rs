//! The production path end to end: `dtops --runtime compose` in a `--root` sandbox against a
//! private Docker engine (common/docker.rs): the api image built from app/Dockerfile, Postgres
//! in a container (a local stand-in image: no registry here), file secrets owned by uid 10001,
//! healthchecks, mint through the published port, a key rotation (a replaced secret file behind
//! a bind mount), the Gumroad webhook through a private nginx with a pebble certificate, backups
//! and restores through `docker compose exec`, the rollbacks and their data-loss guards, and a
//! second provision that changes nothing.
//!
//! One test, because compose.yml's container names are fixed (one stack per daemon); the
//! engine's lock and the nextest test-group `docker-engine` serialize it against any other.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::acme::curl;
use common::compose::compose_bin;
use common::docker::{DockerEngine, POSTGRES_IMAGE};
use common::web::{WebSandbox, LICENSES};
use common::{dtops, stderr, stdout};

const ROOT: &str = "/srv/datatools-license";
const VOLUME: &str = "datatools_pg_data";

fn text(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// The deployment under test, with the tools to look at it from outside.
struct Deployment<'a> {
    engine: &'a DockerEngine,
    web: &'a WebSandbox,
}

impl Deployment<'_> {
    fn dtops_ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.web.dtops(args);
        assert!(ok, "dtops {args:?} failed:\n{out}");
        out
    }

    fn dtops_refused(&self, args: &[&str]) -> String {
        let (ok, out) = self.web.dtops(args);
        assert!(!ok, "dtops {args:?} succeeded:\n{out}");
        out
    }

    /// `docker compose ARGS` for the deployed project, exactly as dtops addresses it.
    fn compose(&self, args: &[&str]) -> Output {
        let sandbox = &self.web.sandbox;
        Command::new(compose_bin())
            .envs(self.engine.env())
            .args(["--project-name", "datatools-license", "--project-directory"])
            .arg(sandbox.path(ROOT))
            .arg("--file")
            .arg(sandbox.path(&format!("{ROOT}/compose.yml")))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn compose_ok(&self, args: &[&str]) -> String {
        let out = self.compose(args);
        assert!(out.status.success(), "compose {args:?}:\n{}", text(&out));
        stdout(&out)
    }

    /// The compose service of the api slot that serves (`api-blue`).
    fn api_service(&self) -> String {
        format!("api-{}", self.web.sandbox.live_slot())
    }

    /// `uid:gid mode` of /run/secrets/NAME as the serving api container sees it.
    fn secret_in_api(&self, name: &str) -> String {
        let path = format!("/run/secrets/{name}");
        let service = self.api_service();
        let stat = self.compose_ok(&["exec", "-T", &service, "stat", "-c", "%u:%g %a", &path]);
        stat.trim().to_string()
    }

    /// (service, state, health) of each container of the project, from `docker compose ps`.
    fn services(&self) -> Vec<(String, String, String)> {
        let out = self.compose_ok(&["ps", "--all", "--format", "json"]);
        let mut services: Vec<_> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let row: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    row["Service"].as_str().unwrap().to_string(),
                    row["State"].as_str().unwrap().to_string(),
                    row["Health"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        services.sort();
        services
    }

    /// Waits until the first slot and postgres run, healthy by their own healthchecks (the api's
    /// first probe comes 30 s after it starts; Docker 20.10 has no start_interval).
    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let services = self.services();
            let want = |name: &str| (name.to_string(), "running".into(), "healthy".into());
            if services == vec![want("api-blue"), want("postgres")] {
                return;
            }
            assert!(
                services.iter().all(|(_, _, h)| h != "unhealthy"),
                "{services:?}\n{}",
                text(&self.compose(&["logs", "--no-color", "--tail", "50"]))
            );
            assert!(Instant::now() < deadline, "not healthy: {services:?}");
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// The project's containers, in any state (works without compose.yml too).
    fn containers(&self) -> Vec<String> {
        let out = self.engine.docker_ok(&[
            "ps",
            "--all",
            "--filter",
            "label=com.docker.compose.project=datatools-license",
            "--format",
            "{{.Names}}",
        ]);
        out.split_whitespace().map(str::to_string).collect()
    }

    fn volume_exists(&self) -> bool {
        self.engine
            .docker(&["volume", "inspect", VOLUME])
            .status
            .success()
    }

    fn pubkey(&self) -> String {
        let env = std::fs::read_to_string(self.web.sandbox.path(&format!("{ROOT}/.env"))).unwrap();
        env.lines()
            .find_map(|l| l.strip_prefix("DATATOOLS_LICENSE_PUBKEY="))
            .unwrap()
            .to_string()
    }

    fn secret(&self, name: &str) -> String {
        std::fs::read_to_string(self.web.sandbox.path(&format!("{ROOT}/secrets/{name}"))).unwrap()
    }

    /// POST a form to https://licenses...PATH through the private nginx: (status, body).
    fn post_through_nginx(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut command = curl();
        command
            .arg("--cacert")
            .arg(self.web.issuing_root())
            .arg("--resolve")
            .arg(format!("{LICENSES}:{}:127.0.0.1", self.web.https_port))
            .args(["--write-out", "\n%{http_code}"]);
        for (name, value) in form {
            command
                .arg("--data-urlencode")
                .arg(format!("{name}={value}"));
        }
        let out = command
            .arg(format!("https://{LICENSES}:{}{path}", self.web.https_port))
            .output()
            .unwrap();
        assert!(out.status.success(), "POST {path}: {}", stderr(&out));
        let all = stdout(&out);
        let (body, status) = all.rsplit_once('\n').unwrap();
        (status.trim().parse().unwrap(), body.to_string())
    }
}

/// The row count `dtops restore` reports for `table` ("  public.licenses   1 rows  md5 ...").
fn rows(report: &str, table: &str) -> u64 {
    report
        .lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(table)).then(|| words.next().unwrap().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no {table} in:\n{report}"))
}

#[test]
fn compose_runtime_end_to_end() {
    let started = Instant::now();
    let engine = DockerEngine::start();
    let web = WebSandbox::start_compose(engine.env(), |text| {
        let production = "image = \"postgres:16-alpine\"";
        assert!(text.contains(production), "site.toml: no {production}");
        text.replace(production, &format!("image = \"{POSTGRES_IMAGE}\""))
            .replace("texts = false", "texts = true")
    });
    let sandbox = &web.sandbox;
    let b = Deployment {
        engine: &engine,
        web: &web,
    };
    let migrations = datatools_license::db::MIGRATOR.iter().count();

    // A fresh box stops at the api image until the repository is cloned (SETUP 1e).
    let out = b.dtops_refused(&["provision"]);
    assert!(
        out.contains("FAILED  api image") && out.contains("clone the license server repository"),
        "{out}"
    );
    sandbox.checkout_app();
    let first = web.provision(&[]);
    for line in [
        "changed  api image: built datatools-license-api:latest",
        "changed  database: started postgres (docker compose)",
        "changed  api: started the api in slot blue",
        &format!("changed  migrations: applied {migrations} migration(s)"),
        "changed  first backup: verified",
        "https probe: both names serve serial",
    ] {
        assert!(first.contains(line), "{line:?} in:\n{first}");
    }
    eprintln!(
        "compose_e2e: first provision done at {:?}",
        started.elapsed()
    );

    // The containers as compose.yml describes them, by their own healthchecks.
    b.wait_healthy();
    eprintln!("compose_e2e: healthy at {:?}", started.elapsed());
    assert_eq!(
        engine
            .docker_ok(&[
                "image",
                "inspect",
                "--format",
                "{{.Config.User}}",
                "datatools-license-api:latest"
            ])
            .trim(),
        "10001:10001"
    );
    // Secrets: mounted from the host files (10001, 0400), readable by the api's user only.
    assert_eq!(
        b.compose_ok(&["exec", "-T", "api-blue", "id", "-u"]).trim(),
        "10001"
    );
    for name in ["pg_password", "admin_token", "license_privkey"] {
        assert_eq!(b.secret_in_api(name), "10001:10001 400", "{name}");
    }
    // The named volume holds the data; both ports are published on 127.0.0.1 only.
    assert_eq!(
        engine
            .docker_ok(&[
                "inspect",
                "--format",
                "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}:{{.Destination}}{{end}}{{end}}",
                "datatools-postgres"
            ])
            .trim(),
        format!("{VOLUME}:/var/lib/postgresql/data")
    );
    assert_eq!(
        engine.docker_ok(&["port", "datatools-api-blue"]).trim(),
        format!("8000/tcp -> 127.0.0.1:{}", sandbox.blue_port)
    );
    assert_eq!(
        engine.docker_ok(&["port", "datatools-postgres"]).trim(),
        format!("5432/tcp -> 127.0.0.1:{}", sandbox.pg_port)
    );

    // /health through the published port and through nginx; the admin API is not public.
    let health = curl()
        .arg(format!("http://127.0.0.1:{}/health", sandbox.api_port()))
        .output()
        .unwrap();
    assert_eq!(stdout(&health), r#"{"status":"ok","db":"ok"}"#);
    let (status, _, body) = web.https(LICENSES, "/health");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":"ok","db":"ok"}"#)
    );
    assert_eq!(web.https(LICENSES, "/internal/licenses").0, 404);

    // dtops mint through the published port; the blob verifies against the box's key.
    let blob = sandbox.mint("first@example.com");
    let verified = dtops()
        .args(["verify", &blob, "--pubkey", &b.pubkey()])
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", text(&verified));
    let status = b.dtops_ok(&["status"]);
    assert!(
        status.contains(&format!("all {migrations} applied")) && status.contains("live"),
        "{status}"
    );

    // On the box through compose: the api's log, psql as the api's user, and an email text the
    // container reads from the read-only mount at the next email (no restart).
    let logs = sandbox.dtops(&["logs", "api", "-n", "300"]);
    assert!(logs.status.success(), "{}", text(&logs));
    assert!(
        stdout(&logs).contains("path=/internal/mint"),
        "{}",
        text(&logs)
    );
    let count = sandbox.dtops(&["psql", "--", "-At", "-c", "select count(*) from licenses"]);
    assert!(count.status.success(), "{}", text(&count));
    assert_eq!(stdout(&count).trim(), "1");
    std::fs::write(
        sandbox.path(&format!("{ROOT}/email-texts/sign_in.txt.j2")),
        "Subject: Sign in, from the box\n\n{{ link }}\n",
    )
    .unwrap();
    let preview = sandbox.admin(&["email", "preview", "sign_in"]);
    assert!(
        preview.contains("Subject: Sign in, from the box")
            && preview.contains("(from /etc/datatools/email-texts/sign_in.txt.j2)"),
        "{preview}"
    );

    // Key rotation replaces secrets/license_privkey (a new file, so a new inode behind the
    // bind mount): the api signs with the new key once dtops has restarted it.
    let old_key = b.pubkey();
    b.dtops_ok(&["keys", "rotate"]);
    let new_key = b.pubkey();
    assert_ne!(new_key, old_key);
    assert_eq!(b.secret_in_api("license_privkey"), "10001:10001 400");
    let fresh = sandbox.mint("rotated@example.com");
    let verify = |blob: &str, key: &str| {
        dtops()
            .args(["verify", blob, "--pubkey", key])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(verify(&fresh, &new_key));
    assert!(!verify(&fresh, &old_key));
    assert!(verify(&blob, &old_key));
    let buyers = sandbox.emails();
    assert_eq!(buyers, ["first@example.com", "rotated@example.com"]);
    let secrets: Vec<String> = ["pg_password", "admin_token", "license_privkey"]
        .iter()
        .map(|n| b.secret(n))
        .collect();

    // The Gumroad webhook: cutover pr2 (the new secrets mounted into a recreated api), then a
    // delivery through nginx is stored and processed by the worker.
    let mut cutover = sandbox
        .command(&[
            "cutover",
            "pr2",
            "--postmark-token-stdin",
            // nginx's loopback door: it follows the slot the cutover moves the api to.
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
        .write_all(b"pm-compose-e2e-token\n")
        .unwrap();
    let cutover = cutover.wait_with_output().unwrap();
    let out = text(&cutover);
    assert!(cutover.status.success(), "{out}");
    assert!(out.contains("recorded as event"), "{out}");
    assert!(!out.contains("pm-compose-e2e-token"), "{out}");
    for name in ["postmark_token", "gumroad_secret"] {
        assert_eq!(b.secret_in_api(name), "10001:10001 400", "{name}");
    }
    let secret = b.secret("gumroad_secret");
    // Unknown to products.toml (it lists no Gumroad product yet), so the worker fails it with
    // what to do: no license, no email (nothing leaves the machine).
    let sale = [
        ("sale_id", "compose-e2e-sale-1"),
        ("resource_name", "sale"),
        ("product_id", "compose-e2e-product"),
        ("product_name", "DataTools Core"),
        ("email", "webhook@example.com"),
        ("full_name", "Webhook Buyer"),
    ];
    let (code, body) = b.post_through_nginx(&format!("/webhooks/gumroad?secret={secret}"), &sale);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"status\":\"received\""), "{body}");
    let (code, _) = b.post_through_nginx("/webhooks/gumroad?secret=wrong", &sale);
    assert_eq!(code, 404);
    let deadline = Instant::now() + Duration::from_secs(30);
    let event = loop {
        let events: serde_json::Value = serde_json::from_str(&sandbox.admin(&[
            "events",
            "--sale",
            "compose-e2e-sale-1",
            "--json",
        ]))
        .unwrap();
        let events = events.as_array().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        let status = events[0]["status"].as_str().unwrap().to_string();
        if status != "received" && status != "processing" {
            break events[0].clone();
        }
        assert!(Instant::now() < deadline, "not processed: {events:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(event["status"], "failed", "{event}");
    assert!(
        event["last_error"]
            .as_str()
            .unwrap()
            .contains("unknown product \"compose-e2e-product\""),
        "{event}"
    );
    assert_eq!(sandbox.emails(), buyers);

    // Backups through `docker compose exec`: a verified file; restore shows its rows.
    let out = b.dtops_ok(&["backup"]);
    let backups = sandbox.path(&format!("{ROOT}/backups"));
    let file = out
        .lines()
        .map(|l| PathBuf::from(l.trim()))
        .find(|p| p.starts_with(&backups) && p.extension().is_some_and(|e| e == "gz"))
        .unwrap_or_else(|| panic!("no backup file named in:\n{out}"));
    assert!(file.is_file(), "{out}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = b.dtops_ok(&["restore", "latest"]);
    // The buyers' licenses and the smoke licenses each change minted (and revoked) on its new
    // slot before it took traffic.
    let smoke = sandbox
        .sql(
            "datatools_licenses",
            "select count(*)::text from licenses where source = 'dtops-smoke'",
        )
        .remove(0)
        .remove(0);
    assert_eq!(
        rows(&out, "public.licenses"),
        buyers.len() as u64 + smoke.parse::<u64>().unwrap(),
        "{out}"
    );
    // The cutover's test ping and the sale.
    assert_eq!(rows(&out, "public.gumroad_events"), 2, "{out}");
    // Into the live database: a license minted after the backup is gone again.
    sandbox.mint("after-backup@example.com");
    assert_eq!(sandbox.emails().len(), buyers.len() + 1);
    let name = file.file_name().unwrap().to_str().unwrap().to_string();
    b.dtops_refused(&["restore", &name, "--into-live"]);
    let out = b.dtops_ok(&["restore", &name, "--into-live", "--yes"]);
    assert!(out.contains("the api is healthy"), "{out}");
    assert_eq!(sandbox.emails(), buyers);
    eprintln!("compose_e2e: backups done at {:?}", started.elapsed());

    // Rollbacks: the data-loss guards refuse without their flags and keep everything.
    let out = b.dtops_refused(&["rollback", "db"]);
    assert!(
        out.contains("--yes") && out.contains("every database row"),
        "{out}"
    );
    let out = b.dtops_refused(&["rollback", "files"]);
    assert!(out.contains("rollback app"), "{out}");
    assert!(b.volume_exists());

    // rollback app: containers gone, the volume kept; provision brings every row back.
    let out = b.dtops_ok(&["rollback", "app"]);
    assert!(out.contains("are kept"), "{out}");
    assert_eq!(b.containers(), Vec::<String>::new());
    assert!(b.volume_exists());
    let out = b.dtops_refused(&["rollback", "files", "--delete-secrets"]);
    assert!(out.contains("database volume exists"), "{out}");
    web.provision(&[]);
    assert_eq!(sandbox.emails(), buyers);

    // rollback all without --yes keeps the volume (and backups and secrets); the box comes back
    // once the checkout is cloned again.
    let out = b.dtops_ok(&["rollback", "all"]);
    assert!(out.contains("keeping the database volume"), "{out}");
    assert!(b.volume_exists());
    assert!(!sandbox.path(&format!("{ROOT}/compose.yml")).exists());
    let out = b.dtops_refused(&["provision"]);
    assert!(out.contains("FAILED  api image"), "{out}");
    sandbox.checkout_app();
    web.provision(&[]);
    assert_eq!(sandbox.emails(), buyers);

    // rollback all --yes: a fresh verified backup, then the volume goes; provision makes an
    // empty database, and `restore latest --into-live` brings the rows back.
    let out = b.dtops_ok(&["rollback", "all", "--yes"]);
    assert!(
        out.contains("taking a fresh backup") && out.contains("db: deleting"),
        "{out}"
    );
    assert!(!b.volume_exists());
    assert_eq!(b.containers(), Vec::<String>::new());
    sandbox.checkout_app();
    web.provision(&[]);
    assert!(sandbox.emails().is_empty());
    b.dtops_ok(&["restore", "latest", "--into-live", "--yes"]);
    assert_eq!(sandbox.emails(), buyers);
    // Through backups, restores and rollbacks the secrets were kept, never regenerated.
    for (name, before) in ["pg_password", "admin_token", "license_privkey"]
        .iter()
        .zip(&secrets)
    {
        assert_eq!(&b.secret(name), before, "{name}");
    }
    eprintln!("compose_e2e: rollbacks done at {:?}", started.elapsed());

    // A second provision changes nothing: every step ok, no file touched, nothing restarted.
    let before = sandbox.snapshot();
    let started_at =
        |name: &str| engine.docker_ok(&["inspect", "--format", "{{.State.StartedAt}}", name]);
    let api = format!("datatools-api-{}", sandbox.live_slot());
    let starts = (started_at(&api), started_at("datatools-postgres"));
    let again = web.provision(&[]);
    assert!(again.contains(" 0 changed, 0 failed"), "{again}");
    assert_eq!(sandbox.snapshot(), before, "the second run touched files");
    assert_eq!((started_at(&api), started_at("datatools-postgres")), starts);
    let live = b.api_service();
    for (service, state, health) in b.services() {
        if service.starts_with("api-") && service != live {
            // The idle slot's container, stopped by the last change.
            assert_eq!(state, "exited", "{service}");
            continue;
        }
        assert_eq!(state, "running", "{service}");
        assert_ne!(health, "unhealthy", "{service}");
    }
    web.assert_tenant_answered_throughout();
    eprintln!("compose_e2e: done at {:?}", started.elapsed());
}
