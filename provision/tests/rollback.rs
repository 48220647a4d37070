//! `dtops rollback <component>` in a sandbox with real Postgres: each one says what it removes,
//! refuses to lose data, is safe to run twice, and `dtops provision` converges again after it.

mod common;

use std::path::PathBuf;

use common::sandbox::{Sandbox, TENANT_FILES};
use common::{stderr, stdout};

const ROOT: &str = "/srv/datatools-license";
const PG_DIR: &str = "/var/lib/dtops-native/datatools-license/pg";

fn text(out: &std::process::Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

fn run_ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.dtops(args);
    assert!(
        out.status.success(),
        "dtops {args:?} failed:\n{}",
        text(&out)
    );
    text(&out)
}

fn refused(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.dtops(args);
    assert!(
        !out.status.success(),
        "dtops {args:?} succeeded:\n{}",
        text(&out)
    );
    text(&out)
}

/// `dtops provision` twice: the second run changes nothing.
fn converges(sandbox: &Sandbox) {
    sandbox.provision();
    let again = sandbox.provision();
    assert!(again.contains(" 0 changed, 0 failed"), "{again}");
}

fn tenant_files(sandbox: &Sandbox) -> Vec<(PathBuf, Vec<u8>)> {
    TENANT_FILES
        .iter()
        .map(|(p, _)| {
            let path = sandbox.root().join(p);
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn rollback_db_refuses_without_yes_or_without_a_possible_backup() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    let data = sandbox.path(PG_DIR).join("data/PG_VERSION");

    let err = refused(&sandbox, &["rollback", "db"]);
    assert!(
        err.contains("--yes") && err.contains("every database row"),
        "{err}"
    );
    assert!(data.exists());

    // The backup cannot be written: refused, the database kept.
    let backups = sandbox.path(&format!("{ROOT}/backups"));
    let aside = sandbox.path(&format!("{ROOT}/backups.aside"));
    std::fs::rename(&backups, &aside).unwrap();
    std::fs::write(&backups, "not a directory").unwrap();
    let err = refused(&sandbox, &["rollback", "db", "--yes"]);
    assert!(err.contains("refused: the fresh backup failed"), "{err}");
    assert!(data.exists());
    // Status still works, and the failed backup needs attention (exit 1).
    let status = sandbox.dtops(&["status"]);
    assert_eq!(status.status.code(), Some(1), "{}", stdout(&status));
    assert!(
        stdout(&status).contains("! [backup_failed]"),
        "{}",
        stdout(&status)
    );
    std::fs::remove_file(&backups).unwrap();
    std::fs::rename(&aside, &backups).unwrap();

    // The database is down: no backup is possible, so it is kept.
    run_ok(&sandbox, &["rollback", "app"]);
    let err = refused(&sandbox, &["rollback", "db", "--yes"]);
    assert!(err.contains("no fresh backup is possible"), "{err}");
    assert!(data.exists());

    // The backup job is missing: refused too.
    sandbox.provision();
    std::fs::remove_file(sandbox.path("/etc/cron.daily/datatools-license-backup")).unwrap();
    let err = refused(&sandbox, &["rollback", "db", "--yes"]);
    assert!(err.contains("no backup is possible"), "{err}");
    assert!(data.exists());
}

#[test]
fn each_rollback_then_provision_converges_and_no_data_is_lost() {
    let sandbox = Sandbox::new();
    let tenants = tenant_files(&sandbox);
    sandbox.provision();
    sandbox.mint("one@example.com");
    sandbox.mint("two@example.com");
    let buyers = sandbox.emails();
    let secrets: Vec<Vec<u8>> = ["pg_password", "admin_token", "license_privkey"]
        .iter()
        .map(|n| std::fs::read(sandbox.path(&format!("{ROOT}/secrets/{n}"))).unwrap())
        .collect();

    // app: containers down, volume and files kept; twice is fine.
    let out = run_ok(&sandbox, &["rollback", "app"]);
    assert!(out.contains("are kept"), "{out}");
    assert!(run_ok(&sandbox, &["rollback", "app"]).contains("nothing to do"));
    converges(&sandbox);
    assert_eq!(sandbox.emails(), buyers);

    // db: a fresh verified backup, then the volume goes; provision makes an empty database and
    // `restore --into-live latest` brings every row back.
    let out = run_ok(&sandbox, &["rollback", "db", "--yes"]);
    assert!(
        out.contains("taking a fresh backup") && out.contains("db: deleting"),
        "{out}"
    );
    assert!(!sandbox.path(PG_DIR).exists());
    assert!(run_ok(&sandbox, &["rollback", "db", "--yes"]).contains("nothing to do"));
    converges(&sandbox);
    assert!(sandbox.emails().is_empty());
    run_ok(&sandbox, &["restore", "latest", "--into-live", "--yes"]);
    assert_eq!(sandbox.emails(), buyers);
    converges(&sandbox);

    // files: refused while running; then removed except backups and secrets.
    let err = refused(&sandbox, &["rollback", "files"]);
    assert!(err.contains("rollback app"), "{err}");
    run_ok(&sandbox, &["rollback", "app"]);
    let err = refused(&sandbox, &["rollback", "files", "--delete-secrets"]);
    assert!(err.contains("database volume exists"), "{err}");
    let out = run_ok(&sandbox, &["rollback", "files"]);
    assert!(
        out.contains("files: removing") && out.contains(&format!("{ROOT}/compose.yml")),
        "{out}"
    );
    assert!(!sandbox.path(&format!("{ROOT}/compose.yml")).exists());
    assert!(!sandbox
        .path("/etc/cron.daily/datatools-license-backup")
        .exists());
    assert!(std::fs::read_dir(sandbox.path(&format!("{ROOT}/backups")))
        .unwrap()
        .next()
        .is_some());
    let again = run_ok(&sandbox, &["rollback", "files"]);
    assert!(again.contains("nothing to remove"), "{again}");
    converges(&sandbox);
    assert_eq!(
        sandbox.emails(),
        buyers,
        "the kept password still opens the kept volume"
    );

    // user: gone from passwd and group; provision recreates it and re-owns the files.
    let out = run_ok(&sandbox, &["rollback", "user"]);
    assert!(out.contains("deleting system user datatools-api"), "{out}");
    let passwd = std::fs::read_to_string(sandbox.path("/etc/passwd")).unwrap();
    assert!(!passwd.contains("datatools-api:"), "{passwd}");
    let group = std::fs::read_to_string(sandbox.path("/etc/group")).unwrap();
    assert!(!group.contains("datatools-api:"), "{group}");
    assert!(run_ok(&sandbox, &["rollback", "user"]).contains("nothing to do"));
    converges(&sandbox);
    assert_eq!(sandbox.emails(), buyers);

    // all --yes: the database after a fresh backup, the files (backups and secrets kept), the user.
    let out = run_ok(&sandbox, &["rollback", "all", "--yes"]);
    assert!(
        out.contains("db: deleting") && out.contains("user: deleted"),
        "{out}"
    );
    let second = run_ok(&sandbox, &["rollback", "all", "--yes"]);
    assert!(second.contains("nothing to do"), "{second}");
    converges(&sandbox);
    run_ok(&sandbox, &["restore", "latest", "--into-live", "--yes"]);
    assert_eq!(sandbox.emails(), buyers);

    // The secrets were never regenerated, and the other tenant's files never touched.
    for (n, before) in ["pg_password", "admin_token", "license_privkey"]
        .iter()
        .zip(&secrets)
    {
        assert_eq!(
            &std::fs::read(sandbox.path(&format!("{ROOT}/secrets/{n}"))).unwrap(),
            before,
            "{n}"
        );
    }
    assert_eq!(tenant_files(&sandbox), tenants);
}
