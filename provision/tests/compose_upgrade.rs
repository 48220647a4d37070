//! `dtops upgrade` on the real engine (common/docker.rs), one provisioned stack through every
//! case: a database with a migration the new version does not know (refused before anything
//! changes), a migration that fails (stopped before the swap, the old version serving), a good
//! upgrade that applies a migration with the new image while the old one serves, then swaps,
//! and passes health and the signed-license smoke test, a new image that fails its health check
//! (put back: the old version serves, nothing lost), and `--ref` back to the previous version.
//! The images differ by commit only (the binary comes from API_BIN_STAGE), except the broken
//! one, whose "binary" is a script that lists the same migrations but cannot serve.
//!
//! In the nextest test-group `docker-engine` with compose_e2e (one stack per daemon).

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Instant;

use common::bin_images::script_bin_image;
use common::compose::compose_bin;
use common::docker::{DockerEngine, POSTGRES_IMAGE};
use common::sandbox::{Runtime, Sandbox};
use common::{stderr, stdout};

const ROOT: &str = "/srv/datatools-license";
const APP: &str = "/srv/datatools-license/app";
const BROKEN_BIN_IMAGE: &str = "datatools-test/broken-api-bin:local";
const OLDER_BIN_IMAGE: &str = "datatools-test/older-api-bin:local";

fn text(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

struct Stack<'a> {
    engine: &'a DockerEngine,
    sandbox: &'a Sandbox,
}

impl Stack<'_> {
    fn dtops(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let mut command = self.sandbox.command(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let out = command.output().unwrap();
        (out.status.success(), text(&out))
    }

    fn dtops_ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.dtops(args, &[]);
        assert!(ok, "dtops {args:?} failed:\n{out}");
        out
    }

    fn dtops_failed(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let (ok, out) = self.dtops(args, env);
        assert!(!ok, "dtops {args:?} succeeded:\n{out}");
        out
    }

    fn compose(&self, args: &[&str]) -> String {
        let out = Command::new(compose_bin())
            .envs(self.engine.env())
            .args(["--project-name", "datatools-license", "--project-directory"])
            .arg(self.sandbox.path(ROOT))
            .arg("--file")
            .arg(self.sandbox.path(&format!("{ROOT}/compose.yml")))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "compose {args:?}:\n{}", text(&out));
        stdout(&out)
    }

    /// SQL in the live database through the postgres container (as the backup job reaches it).
    fn psql(&self, sql: &str) -> String {
        self.compose(&[
            "exec",
            "-T",
            "postgres",
            "psql",
            "-U",
            "datatools_api",
            "-d",
            "datatools_licenses",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-c",
            sql,
        ])
    }

    /// The image the serving slot's container was created from, and its id.
    fn api(&self) -> (String, String) {
        let container = format!("datatools-api-{}", self.sandbox.live_slot());
        let image = self.engine.docker_ok(&[
            "inspect",
            "--format",
            "{{.Config.Image}} {{.Id}}",
            &container,
        ]);
        let (image, id) = image.trim().split_once(' ').unwrap();
        (image.to_string(), id.to_string())
    }

    /// /health's answer, as JSON.
    fn health(&self) -> serde_json::Value {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "5"])
            .arg(format!(
                "http://127.0.0.1:{}/health",
                self.sandbox.api_port()
            ))
            .output()
            .unwrap();
        serde_json::from_str(&stdout(&out)).unwrap_or_default()
    }

    /// The buyers' emails (`Sandbox::emails` leaves the smoke tests' own licenses out).
    fn buyers(&self) -> Vec<String> {
        self.sandbox.emails()
    }

    fn env_file(&self) -> String {
        std::fs::read_to_string(self.sandbox.path(&format!("{ROOT}/.env"))).unwrap()
    }

    fn backups(&self) -> usize {
        std::fs::read_dir(self.sandbox.path(&format!("{ROOT}/backups")))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".sql.gz"))
            .count()
    }

    fn git(&self, args: &[&str]) -> String {
        let app = self.sandbox.path(APP);
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
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
        stdout(&out).trim().to_string()
    }

    /// A new commit in the box's checkout (the server is the same binary: API_BIN_STAGE).
    fn commit(&self, message: &str) -> String {
        self.git(&["commit", "--quiet", "--allow-empty", "--message", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// What a dtops binary says with `--version`.
fn dtops_version(binary: &str) -> String {
    let out = Command::new(binary).arg("--version").output().unwrap();
    assert!(out.status.success(), "{binary} --version: {}", text(&out));
    stdout(&out).trim().to_string()
}

fn healthy() -> serde_json::Value {
    serde_json::json!({"status": "ok", "db": "ok"})
}

fn tag(commit: &str) -> String {
    format!("datatools-license-api:{}", &commit[..12])
}

/// SQL split at each `;` outside a '...' literal and a $$...$$ function body.
fn statements(sql: &str) -> Vec<String> {
    let mut found = vec![String::new()];
    let (mut quoted, mut body) = (false, false);
    let mut previous = ' ';
    for c in sql.chars() {
        match c {
            '\'' if !body => quoted = !quoted,
            '$' if previous == '$' && !quoted => body = !body,
            ';' if !quoted && !body => {
                found.push(String::new());
                previous = c;
                continue;
            }
            _ => {}
        }
        previous = c;
        found.last_mut().unwrap().push(c);
    }
    found
}

/// The newest migration, undone: what it creates is dropped and its row deleted, so the
/// database is one migration behind the server (as before an upgrade that brings one). Undone:
/// `create table|index|function|trigger`, `alter table ... add column`; left as they are
/// (re-applying the migration copes): a constraint dropped and added again, and `drop ... if
/// exists`. A migration doing more fails here, loudly.
fn undo_newest_migration(stack: &Stack) -> i64 {
    let newest = datatools_license::db::MIGRATOR.iter().last().unwrap();
    // Comments out first (they may hold a `;`), then statement by statement.
    let sql: String = newest
        .sql
        .to_lowercase()
        .lines()
        .map(|l| format!("{}\n", l.split("--").next().unwrap()))
        .collect();
    let mut drops = Vec::new();
    for statement in statements(&sql) {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let name = |at: usize| words[at].split('(').next().unwrap().to_string();
        match words.as_slice() {
            [] | ["end", ..] | ["$$", ..] | ["return", ..] => {}
            ["create", "table", ..] => drops.push(format!("drop table {} cascade", name(2))),
            ["create", "index", "if", "not", "exists", ..] => {
                drops.push(format!("drop index if exists {}", name(5)))
            }
            ["create", "index", ..] => drops.push(format!("drop index if exists {}", name(2))),
            ["create", "unique", "index", ..] => {
                drops.push(format!("drop index if exists {}", name(3)))
            }
            ["create", "function", ..] => drops.push(format!("drop function {} cascade", name(2))),
            ["alter", "table", table, "add", "column", ..] => {
                for added in statement.split("add column").skip(1) {
                    let column = added.split_whitespace().next().unwrap();
                    drops.push(format!("alter table {table} drop column {column}"));
                }
            }
            ["alter", "table", _, "drop", "constraint", ..]
            | ["alter", "table", _, "add", "constraint", ..]
            | ["drop", "trigger", "if", "exists", ..]
            | ["drop", "function", "if", "exists", ..] => {}
            // Dropped with its function or table.
            ["create", "trigger", ..] => {}
            // Rows in a table this migration creates.
            ["insert", "into", table, ..] if drops.iter().any(|d| d.contains(*table)) => {}
            // Inside a function body.
            ["language", ..] | ["begin", ..] | ["if", ..] | ["update", ..] | ["set", ..] => {}
            other => panic!(
                "migration {} does `{}`, which this test cannot undo; teach \
                 undo_newest_migration to",
                newest.version,
                other.join(" ")
            ),
        }
    }
    // Indexes first (they may sit on older tables), functions before the tables they touch.
    drops.sort_by_key(|d| !d.starts_with("drop index"));
    let script = format!(
        "begin; {}; delete from _sqlx_migrations where version = {}; commit;",
        drops.join("; "),
        newest.version
    );
    stack.psql(&script);
    newest.version
}

#[test]
fn upgrade_needs_the_compose_runtime() {
    let sandbox = Sandbox::new();
    let out = sandbox.dtops(&["upgrade"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("dtops upgrade needs the compose runtime"),
        "{}",
        text(&out)
    );
}

#[test]
fn upgrades_on_the_real_engine() {
    let started = Instant::now();
    let lap = |what: &str| eprintln!("compose_upgrade: {what} at {:.0?}", started.elapsed());
    let engine = DockerEngine::start();
    let work = tempfile::tempdir().unwrap();
    let migrations = datatools_license::db::MIGRATOR.iter().count();
    let newest = datatools_license::db::MIGRATOR
        .iter()
        .last()
        .unwrap()
        .version;
    script_bin_image(&engine, work.path(), BROKEN_BIN_IMAGE, migrations);
    script_bin_image(&engine, work.path(), OLDER_BIN_IMAGE, migrations - 1);
    let sandbox = Sandbox::with_runtime(Runtime::Compose, engine.env(), |text| {
        let production = "image = \"postgres:16-alpine\"";
        assert!(text.contains(production), "site.toml: no {production}");
        text.replace(production, &format!("image = \"{POSTGRES_IMAGE}\""))
    });
    let stack = Stack {
        engine: &engine,
        sandbox: &sandbox,
    };

    // A fresh box: provision builds the checkout's commit as [api] image and records it.
    sandbox.checkout_app();
    let c0 = stack.git(&["rev-parse", "HEAD"]);
    let first = sandbox.provision();
    let built = format!("built datatools-license-api:latest from {}", &c0[..12]);
    assert!(first.contains(&built), "{built:?} in:\n{first}");
    sandbox.mint("before@example.com");
    let buyers = stack.buyers();
    let status = stack.dtops_ok(&["status"]);
    let want = format!(
        "deployed {} (datatools-license-api:latest, built ",
        &c0[..12]
    );
    assert!(status.contains(&want), "{want:?} in:\n{status}");
    lap("provisioned");

    // The checkout moves on: status says so, provision keeps the deployed version.
    let c1 = stack.commit("a second version");
    let status = stack.dtops_ok(&["status"]);
    let want = format!("checkout {}, 1 commit(s) ahead: `dtops upgrade`", &c1[..12]);
    assert!(status.contains(&want), "{want:?} in:\n{status}");
    let again = sandbox.provision();
    assert!(again.contains(" 0 changed, 0 failed"), "{again}");
    assert!(again.contains("`dtops upgrade` deploys it"), "{again}");

    // 1. The database has a migration this version does not know: refused before any change.
    let before = (stack.api(), stack.env_file(), stack.backups());
    stack.psql(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
         values (99990101000000, 'from a newer version', true, '\\x00', 0)",
    );
    let out = stack.dtops_failed(&["upgrade"], &[]);
    for line in [
        &format!("upgrade: building {} (the api keeps serving)", tag(&c1)),
        "upgrade refused: the database has migration(s) 99990101000000 that",
        "does not know",
        "nothing was changed",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert_eq!((stack.api(), stack.env_file(), stack.backups()), before);
    stack.psql("delete from _sqlx_migrations where version = 99990101000000");
    // The same from an older version (its image knows one migration fewer), through --ref: a
    // commit beside the checkout's HEAD. The list comes from the new image, not the serving one.
    let older = stack.git(&[
        "commit-tree",
        "HEAD^{tree}",
        "-p",
        "HEAD",
        "-m",
        "an older schema",
    ]);
    let out = stack.dtops_failed(
        &["upgrade", "--ref", &older],
        &[("API_BIN_STAGE", OLDER_BIN_IMAGE)],
    );
    let want = format!(
        "upgrade refused: the database has migration(s) {newest} that {} does not know",
        tag(&older)
    );
    assert!(out.contains(&want), "{want:?} in:\n{out}");
    assert_eq!((stack.api(), stack.env_file(), stack.backups()), before);
    assert_eq!(stack.git(&["rev-parse", "HEAD"]), c1);
    lap("refused unknown migrations");

    // 2. A migration fails (its row is gone, its tables are not: "already exists"): stopped
    // before the swap, the old version serving, the backup kept.
    stack.psql(&format!(
        "create table upgrade_test_saved as select * from _sqlx_migrations where version = \
         {newest}; delete from _sqlx_migrations where version = {newest}"
    ));
    let out = stack.dtops_failed(&["upgrade"], &[]);
    eprintln!("compose_upgrade: a failing migration:\n{out}");
    for line in [
        "upgrade FAILED: the migration failed; the new version was not started",
        "already exists",
        &format!(
            "serving      {} (datatools-license-api:latest) in slot blue, the version from \
             before the upgrade; http://127.0.0.1:{}/health answers 200",
            &c0[..12],
            sandbox.blue_port
        ),
        "migrations   none ran; the schema is as before",
        &format!(
            "backup       {}",
            sandbox.path(&format!("{ROOT}/backups/db-")).display()
        ),
        &format!(
            "retry        fix the cause, then `dtops upgrade --ref {}`",
            &c1[..12]
        ),
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert_eq!(stack.api(), before.0);
    assert_eq!(stack.backups(), before.2 + 1);
    assert_eq!(stack.buyers(), buyers);
    stack.psql(
        "insert into _sqlx_migrations select * from upgrade_test_saved; \
         drop table upgrade_test_saved",
    );
    lap("a failing migration");

    // 3. A good upgrade, the database one migration behind: migrated by the new image while the
    // old one serves, started on the other slot, healthy, a signed license from the new server
    // verifies, nginx (not managed here) has nothing to switch, the old slot stops.
    let undone = undo_newest_migration(&stack);
    // The dtops SETUP §2 installed: an older one (this build's, told apart by a tail).
    let installed = sandbox.path("/usr/local/bin/dtops");
    let previous = sandbox.path("/usr/local/bin/dtops.previous");
    let this_dtops = std::fs::read(common::DTOPS).unwrap();
    let older_dtops = [&this_dtops[..], b"an older dtops"].concat();
    std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
    std::fs::write(&installed, &older_dtops).unwrap();
    let out = stack.dtops_ok(&["upgrade"]);
    eprintln!("compose_upgrade: a good upgrade:\n{out}");
    // The dtops of the same commit: built in that commit's files (told its commit), installed
    // over the old one once the new version served, the old one kept beside it.
    for line in [
        format!("upgrade: built dtops from {} in ", &c1[..12]),
        format!(
            "upgrade: installed {} as /usr/local/bin/dtops (built from commit {}); the one it \
             replaced is kept as /usr/local/bin/dtops.previous",
            dtops_version(common::DTOPS),
            &c1[..12]
        ),
        format!(
            "upgrade: note: the hourly status job (/etc/cron.d/datatools-license-status) runs \
             {}, not /usr/local/bin/dtops",
            std::fs::canonicalize(common::DTOPS).unwrap().display()
        ),
    ] {
        assert!(out.contains(&line), "{line:?} in:\n{out}");
    }
    assert!(
        !out.contains("dtops: warning"),
        "upgrade warned of itself:\n{out}"
    );
    let built_from = std::fs::read_to_string(
        sandbox.path("/srv/datatools-license/.dtops/build/dtops/target/built-from"),
    )
    .unwrap();
    assert!(built_from.starts_with(&format!("{c1} ")), "{built_from}");
    assert_eq!(std::fs::read(&installed).unwrap(), this_dtops);
    assert_eq!(std::fs::read(&previous).unwrap(), older_dtops);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&installed).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        dtops_version(installed.to_str().unwrap()),
        dtops_version(common::DTOPS)
    );
    // The new api says which commit it is (the image's build arguments), and this dtops, from
    // an older commit, says so once on stderr, doing its work all the same.
    let version = Command::new("curl")
        .args(["-sf", "-H"])
        .arg(format!("Authorization: Bearer {}", sandbox.admin_token()))
        .arg(format!(
            "http://127.0.0.1:{}/internal/version",
            sandbox.api_port()
        ))
        .output()
        .unwrap();
    let version: serde_json::Value = serde_json::from_str(&stdout(&version)).unwrap();
    assert_eq!(version["commit"], c1.as_str(), "{version}");
    let alerts = common::dtops()
        .args(["alerts", "--admin-url"])
        .arg(format!("http://127.0.0.1:{}", sandbox.api_port()))
        .arg("--token-file")
        .arg(sandbox.path(&format!("{ROOT}/secrets/admin_token")))
        .output()
        .unwrap();
    assert!(alerts.status.success(), "{}", text(&alerts));
    let warning = format!("the api runs {} (", &c1[..12]);
    assert_eq!(
        stderr(&alerts).matches(&warning).count(),
        1,
        "{}",
        text(&alerts)
    );
    assert!(
        stderr(&alerts).contains("install the new dtops with `sudo dtops upgrade` on the box"),
        "{}",
        text(&alerts)
    );
    for line in [
        "upgrade: taking a verified backup",
        // Built by the first attempt, which was refused.
        &format!(
            "upgrade: image {} is already built from {}",
            tag(&c1),
            &c1[..12]
        ),
        &format!("pending: {undone} "),
        &format!("upgrade: migrating with {}", tag(&c1)),
        &format!(
            "upgrade: {} starts on slot green beside slot blue",
            tag(&c1)
        ),
        "upgrade: slot green is healthy (after ",
        "smoke test: minted ",
        "its blob verifies against the box's public key, revoked",
        "upgrade: stopping slot blue (it answers what it accepted first)",
        "upgrade: done in ",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert_eq!(sandbox.live_slot(), "green");
    assert_eq!(stack.api().0, tag(&c1));
    assert_eq!(stack.health(), healthy());
    assert_eq!(stack.buyers(), buyers);
    assert_eq!(
        stack
            .psql(&format!(
                "select count(*) from _sqlx_migrations where version = {undone} and success"
            ))
            .trim(),
        "1"
    );
    let smoke = stack.psql(&format!(
        "select revoke_reason from licenses where source_ref like 'dtops-smoke:green:{}:%'",
        &c1[..12]
    ));
    assert_eq!(smoke.trim(), "smoke test");
    assert!(stack
        .env_file()
        .contains(&format!("DATATOOLS_API_IMAGE={}\n", tag(&c1))));
    let status = stack.dtops_ok(&["status"]);
    let want = format!("deployed {} ({}, built ", &c1[..12], tag(&c1));
    assert!(status.contains(&want), "{want:?} in:\n{status}");
    assert!(
        status.contains(&format!("checkout {}\n", &c1[..12])),
        "{status}"
    );
    let out = stack.dtops_ok(&["upgrade"]);
    assert!(out.contains("nothing to do"), "{out}");
    let again = sandbox.provision();
    assert!(again.contains(" 0 changed, 0 failed"), "{again}");
    lap("a good upgrade");

    // 4. The new image fails its health check: traffic never moves from the serving slot,
    // nothing lost.
    let c2 = stack.commit("a broken version");
    let backups = stack.backups();
    std::fs::write(&installed, &older_dtops).unwrap();
    let out = stack.dtops_failed(&["upgrade"], &[("API_BIN_STAGE", BROKEN_BIN_IMAGE)]);
    eprintln!("compose_upgrade: a new image that fails its health check:\n{out}");
    for line in [
        "upgrade FAILED: slot blue did not become healthy: the api in slot blue does not stay up \
         (it exited and was restarted",
        "datatools-license: a broken build (compose test)",
        "slot blue was stopped again; traffic never moved: slot green serves as before",
        &format!(
            "serving      {} ({}) in slot green, the version from before the upgrade; \
             http://127.0.0.1:{}/health answers 200",
            &c1[..12],
            tag(&c1),
            sandbox.green_port
        ),
        "migrations   none ran",
        &format!("new image    {} is kept", tag(&c2)),
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    assert_eq!(sandbox.live_slot(), "green");
    assert_eq!(stack.api().0, tag(&c1));
    assert_eq!(stack.health(), healthy());
    assert_eq!(stack.buyers(), buyers);
    assert_eq!(stack.backups(), backups + 1);
    assert!(!out.contains("installed dtops"), "{out}");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        older_dtops,
        "a failed upgrade installed dtops"
    );
    assert!(stack
        .env_file()
        .contains(&format!("DATATOOLS_API_IMAGE={}\n", tag(&c1))));
    let status = stack.dtops_ok(&["status"]);
    for want in [
        format!("deployed {} ({}", &c1[..12], tag(&c1)),
        format!("checkout {}, 1 commit(s) ahead", &c2[..12]),
        format!("last upgrade (to {} at ", &c2[..12]),
        ") FAILED: slot blue did not become healthy".into(),
    ] {
        assert!(status.contains(&want), "{want:?} in:\n{status}");
    }
    lap("a new image that fails its health check");

    // 5. Back to the previous version by --ref (the checkout stays where it is): its image is
    // reused, no migration is pending; it starts on the other slot like any version.
    let out = stack.dtops_ok(&["upgrade", "--ref", &c0]);
    assert!(
        out.contains("image datatools-license-api:latest is already built from"),
        "{out}"
    );
    assert_eq!(sandbox.live_slot(), "blue");
    assert_eq!(stack.api().0, "datatools-license-api:latest");
    assert_eq!(stack.git(&["rev-parse", "HEAD"]), c2);
    assert_eq!(stack.buyers(), buyers);
    assert!(
        out.contains(&format!(
            "(built from commit {}); the one it replaced is kept",
            &c0[..12]
        )),
        "{out}"
    );
    assert_eq!(std::fs::read(&previous).unwrap(), older_dtops);
    lap("--ref back to the first version");
}
