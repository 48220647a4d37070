//! Backups that provably restore: the rendered job run for real (`dtops backup`, cron's file)
//! against the sandbox's real Postgres, and `dtops restore` into scratch and live databases.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::sandbox::{Sandbox, TENANT_FILES};
use common::{dtops, stderr, stdout};

const BACKUPS: &str = "/srv/datatools-license/backups";
const JOB: &str = "/etc/cron.daily/datatools-license-backup";

/// The verified backups (db-*.sql.gz) in the sandbox, sorted by name (= time).
fn backups(sandbox: &Sandbox) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(sandbox.path(BACKUPS))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("db-") && name.ends_with(".sql.gz")
        })
        .collect();
    files.sort();
    files
}

/// `dtops status`, insisting on exit `code` (0 all well, 1 attention needed, 2 cannot tell).
fn status_exits(sandbox: &Sandbox, code: i32) -> String {
    let out = sandbox.dtops(&["status"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(code), "dtops status:\n{text}");
    text
}

fn run_ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.dtops(args);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "dtops {args:?} failed:\n{text}");
    text
}

/// Mints `n` licenses through the sandbox's api; returns their blobs.
fn mint(sandbox: &Sandbox, n: usize) -> Vec<String> {
    let token_file = sandbox.path("/srv/datatools-license/secrets/admin_token");
    let url = format!("http://127.0.0.1:{}", sandbox.api_port());
    (0..n)
        .map(|i| {
            let out = dtops()
                .args(["mint", "--admin-url", &url, "--token-file"])
                .arg(&token_file)
                .args(["--name", &format!("Buyer {i}"), "--tier", "core"])
                .args(["--email", &format!("buyer{i}@example.com")])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            stdout(&out).trim().to_string()
        })
        .collect()
}

/// Every table's row count and md5 over its rows, computed here (not by the job).
fn checksums(sandbox: &Sandbox, database: &str) -> Vec<(String, String)> {
    let tables = sandbox.sql(
        database,
        "select schemaname || '.' || tablename from pg_tables \
         where schemaname not in ('pg_catalog', 'information_schema') order by 1",
    );
    tables
        .into_iter()
        // Monitoring state that changes on its own between a backup and the comparison: the
        // workers' heartbeats (every 15 s), the host report (every `dtops status`), the alerts'
        // last-seen times (every check).
        .filter(|t| {
            ![
                "public.worker_heartbeats",
                "public.host_reports",
                "public.alerts",
            ]
            .contains(&t[0].as_str())
        })
        .map(|t| {
            let table = &t[0];
            let row = &sandbox.sql(
                database,
                &format!(
                    "select count(*)::text, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) \
                     from {table} t"
                ),
            )[0];
            (table.clone(), format!("{} {}", row[0], row[1]))
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn backup_then_restore_into_a_scratch_database_has_identical_rows() {
    let sandbox = Sandbox::new();
    let first = sandbox.provision();
    // Provision installs the job (root 0755) and takes a first verified backup.
    assert!(first.contains("changed  first backup: verified"), "{first}");
    let job = sandbox.path(JOB);
    assert_eq!(mode(&job), 0o755);
    assert_eq!(std::fs::metadata(&job).unwrap().uid(), 0);
    assert_eq!(backups(&sandbox).len(), 1);

    mint(&sandbox, 3);
    sandbox.sql(
        "datatools_licenses",
        "update licenses set notes = 'quote '' and, comma' where name = 'Buyer 1'",
    );
    let out = run_ok(&sandbox, &["backup"]);
    let files = backups(&sandbox);
    assert_eq!(files.len(), 2, "{out}");
    let newest = files.last().unwrap();
    let name = newest.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        regex_like_timestamp(&name),
        "{name} is not db-YYYYMMDDTHHMMSSZ.sql.gz"
    );
    assert_eq!(mode(newest), 0o600);
    assert!(out.contains("public.licenses=3"), "{out}");

    let status = run_ok(&sandbox, &["status"]);
    assert!(status.contains(&format!("last good {name}")), "{status}");
    assert!(status.contains("2 kept in"), "{status}");
    assert!(status.contains("off-site: NONE configured"), "{status}");

    // Restore into a scratch database, keep it, and compare with the live one row by row.
    let restored = run_ok(&sandbox, &["restore", &name, "--keep"]);
    let scratch = restored
        .split_whitespace()
        .skip_while(|w| *w != "kept:")
        .nth(2)
        .expect(&restored)
        .to_string();
    let live = checksums(&sandbox, "datatools_licenses");
    assert!(live
        .iter()
        .any(|(t, c)| t == "public.licenses" && c.starts_with("3 ")));
    assert_eq!(checksums(&sandbox, &scratch), live);
    // The job's own report agrees with ours.
    let (_, licenses) = live.iter().find(|(t, _)| t == "public.licenses").unwrap();
    let md5 = licenses.split(' ').nth(1).unwrap();
    assert!(restored.contains(md5), "{restored}");

    // `latest` names the same file; without --keep the scratch database is dropped again.
    let again = run_ok(&sandbox, &["restore", "latest"]);
    assert!(
        again.contains("public.licenses") && again.contains(" 3 rows"),
        "{again}"
    );
    let leftover = sandbox.sql(
        "postgres",
        "select datname::text from pg_database where datname like '%restore%' order by 1",
    );
    assert_eq!(leftover, vec![vec![scratch.clone()]], "only the kept one");
}

/// db-YYYYMMDDTHHMMSSZ.sql.gz
fn regex_like_timestamp(name: &str) -> bool {
    let Some(ts) = name
        .strip_prefix("db-")
        .and_then(|n| n.strip_suffix(".sql.gz"))
    else {
        return false;
    };
    let b = ts.as_bytes();
    b.len() == 16
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
}

#[test]
fn a_failed_dump_exits_non_zero_and_replaces_and_prunes_nothing() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    // An old backup past the retention, and the good one from provision.
    let old = sandbox.path(&format!("{BACKUPS}/db-20200101T000000Z.sql.gz"));
    std::fs::copy(&backups(&sandbox)[0], &old).unwrap();
    set_mtime_days_ago(&old, 400);
    let before = snapshot_dir(&sandbox.path(BACKUPS));
    let state_before =
        std::fs::read(sandbox.path("/srv/datatools-license/.dtops/backup/last-good")).unwrap();

    // The database goes down.
    run_ok(&sandbox, &["rollback", "app"]);
    let out = sandbox.dtops(&["backup"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("FAILED: pg_dump"), "{text}");
    assert_eq!(
        snapshot_dir(&sandbox.path(BACKUPS)),
        before,
        "nothing replaced or pruned"
    );
    assert_eq!(
        std::fs::read(sandbox.path("/srv/datatools-license/.dtops/backup/last-good")).unwrap(),
        state_before
    );
    // The api and database are down too: status cannot tell (2), and lists the failure.
    let status = status_exits(&sandbox, 2);
    assert!(status.contains("LAST RUN FAILED"), "{status}");
    assert!(
        status.contains("! [backup_failed] the last backup run failed"),
        "{status}"
    );

    // Back up: the next success prunes the old file, and only it.
    sandbox.provision();
    run_ok(&sandbox, &["backup"]);
    assert!(
        !old.exists(),
        "the file past the retention is pruned after a success"
    );
    assert_eq!(backups(&sandbox).len(), 2);
    let status = run_ok(&sandbox, &["status"]);
    assert!(!status.contains("LAST RUN FAILED"), "{status}");
}

#[test]
fn a_truncated_archive_is_detected_and_retention_prunes_only_old_files() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    let good = backups(&sandbox)[0].clone();
    let bytes = std::fs::read(&good).unwrap();

    // A truncated copy: gzip notices.
    let truncated = sandbox.path(&format!("{BACKUPS}/db-20990101T000000Z.sql.gz"));
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let out = sandbox.dtops(&["restore", "db-20990101T000000Z.sql.gz"]);
    assert!(!out.status.success());
    assert!(
        format!("{}{}", stdout(&out), stderr(&out)).contains("not an intact gzip file"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(&truncated).unwrap();

    // A complete gzip of a dump cut short (pg_dump died mid-way): the end marker is missing
    // and the restore fails, so `check` refuses it.
    let sql_text = gunzip(&bytes);
    let cut = &sql_text[..sql_text.find("COPY public.licenses").expect(&sql_text) + 40];
    let partial = sandbox.path(&format!("{BACKUPS}/db-20990102T000000Z.sql.gz"));
    std::fs::write(&partial, gzip(cut.as_bytes())).unwrap();
    let out = sandbox.dtops(&["restore", "db-20990102T000000Z.sql.gz"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    std::fs::remove_file(&partial).unwrap();

    // Retention: 30 days. Files 31 and 400 days old go; 29 days old and a non-backup stay.
    let dir = sandbox.path(BACKUPS);
    let aged = |name: &str, days: u64| {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        set_mtime_days_ago(&path, days);
        path
    };
    let ancient = aged("db-20200101T000000Z.sql.gz", 400);
    let just_old = aged("db-20200102T000000Z.sql.gz", 31);
    let recent = aged("db-20200103T000000Z.sql.gz", 29);
    let other = aged("notes-keep-me.txt", 400);
    run_ok(&sandbox, &["backup"]);
    assert!(!ancient.exists() && !just_old.exists());
    assert!(recent.exists() && other.exists() && good.exists());
}

#[test]
fn restore_into_live_needs_yes_takes_a_backup_first_and_keeps_the_old_database() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    mint(&sandbox, 2);
    run_ok(&sandbox, &["backup"]);
    let chosen = backups(&sandbox).last().unwrap().clone();
    let at_backup = checksums(&sandbox, "datatools_licenses");
    mint(&sandbox, 1);

    let refused = sandbox.dtops(&["restore", "latest", "--into-live"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));

    let count_before = backups(&sandbox).len();
    let pid_before = sandbox.api_pid();
    let out = run_ok(
        &sandbox,
        &[
            "restore",
            chosen.file_name().unwrap().to_str().unwrap(),
            "--into-live",
            "--yes",
        ],
    );
    assert!(out.contains("stopping the api"), "{out}");
    assert_eq!(
        backups(&sandbox).len(),
        count_before + 1,
        "a fresh backup first"
    );
    assert_eq!(checksums(&sandbox, "datatools_licenses"), at_backup);
    assert_ne!(
        sandbox.api_pid(),
        pid_before,
        "the api was stopped and started"
    );
    // The replaced database, with the third license, is kept.
    let kept = sandbox.sql(
        "postgres",
        "select datname::text from pg_database where datname like 'datatools_licenses_before_restore_%'",
    );
    assert_eq!(kept.len(), 1, "{out}");
    let rows = sandbox.sql(&kept[0][0], "select count(*)::text from licenses");
    assert_eq!(rows[0][0], "3");
    // The api serves the restored database.
    assert_eq!(mint(&sandbox, 1).len(), 1);
}

#[test]
fn other_tenants_files_are_untouched_by_backups_and_restores() {
    let sandbox = Sandbox::new();
    let before: Vec<Vec<u8>> = TENANT_FILES
        .iter()
        .map(|(p, _)| std::fs::read(sandbox.root().join(p)).unwrap())
        .collect();
    sandbox.provision();
    run_ok(&sandbox, &["backup"]);
    run_ok(&sandbox, &["restore", "latest"]);
    for ((path, _), before) in TENANT_FILES.iter().zip(before) {
        assert_eq!(
            std::fs::read(sandbox.root().join(path)).unwrap(),
            before,
            "{path}"
        );
    }
}

fn set_mtime_days_ago(path: &Path, days: u64) {
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

fn snapshot_dir(dir: &Path) -> Vec<(PathBuf, Vec<u8>, i64)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let meta = e.metadata().unwrap();
            (e.path(), std::fs::read(e.path()).unwrap(), meta.mtime())
        })
        .collect();
    out.sort();
    out
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("gunzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout
}

#[test]
fn the_job_renders_for_both_runtimes_as_valid_bash_with_every_value_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.toml");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../site.toml")).unwrap();
    std::fs::write(
        &site,
        committed.replace(
            "# offsite = { tool = \"rclone\"",
            "offsite = { tool = \"rclone\"",
        ),
    )
    .unwrap();
    for runtime in ["compose", "native"] {
        let out_dir = dir.path().join(runtime);
        let out = dtops()
            .env_remove("DTOPS_TEMPLATES")
            .args(["render", "--runtime", runtime, "--site"])
            .arg(&site)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let printed = stdout(&out);
        assert!(
            printed.contains(&format!("on the host: {JOB}, mode 0755, owner root:root")),
            "{printed}"
        );
        let job = out_dir.join(JOB.trim_start_matches('/'));
        let text = std::fs::read_to_string(&job).unwrap();
        assert!(text.starts_with("#!/bin/bash\n"), "{text}");
        assert!(text.contains("set -euo pipefail"));
        assert!(text.contains("OFFSITE_TOOL='rclone'"), "{text}");
        assert!(text.contains("RETENTION_DAYS='30'"));
        if runtime == "compose" {
            assert!(text.contains("compose exec -T postgres pg_dump"), "{text}");
            assert!(text.contains("'docker' 'compose' --project-name 'datatools-license'"));
        } else {
            assert!(text.contains("PGPASSFILE"), "{text}");
        }
        let syntax = std::process::Command::new("bash")
            .arg("-n")
            .arg(&job)
            .output()
            .unwrap();
        assert!(syntax.status.success(), "{}", stderr(&syntax));
    }
}

/// A directory with links to the programs the job needs, so PATH can leave one out.
fn path_without(dir: &Path, missing: &str) -> String {
    let farm = dir.join("bin");
    std::fs::create_dir_all(&farm).unwrap();
    for tool in [
        "bash",
        "mktemp",
        "cat",
        "date",
        "gzip",
        "gunzip",
        "tail",
        "psql",
        "pg_dump",
        "ln",
        "rm",
        "stat",
        "sha256sum",
        "cut",
        "awk",
        "find",
        "flock",
        "mkdir",
        "mv",
        "chmod",
        "basename",
        "dirname",
        "sleep",
        "perl",
        "rclone",
    ] {
        if tool == missing {
            continue;
        }
        let found = which::which(tool).unwrap_or_else(|_| panic!("{tool} is needed"));
        let _ = std::os::unix::fs::symlink(found, farm.join(tool));
    }
    farm.display().to_string()
}

#[test]
fn the_offsite_copy_is_real_and_its_failures_are_loud_and_prune_nothing() {
    let offsite = tempfile::tempdir().unwrap();
    let target = format!("{}/", offsite.path().join("bucket").display());
    let sandbox = Sandbox::with_site(|text| {
        text.replace(
            "# offsite = { tool = \"rclone\", target = \"remote:datatools-license-backups/\" }",
            &format!("offsite = {{ tool = \"rclone\", target = {target:?} }}"),
        )
    });
    let first = sandbox.provision();
    assert!(first.contains("changed  first backup"), "{first}");
    // The copy is byte-identical, and status says when it was made.
    let local = backups(&sandbox).pop().unwrap();
    let copied = offsite
        .path()
        .join("bucket")
        .join(local.file_name().unwrap());
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(&local).unwrap()
    );
    let status = run_ok(&sandbox, &["status"]);
    assert!(
        status.contains(&format!("off-site {target} (last copy")),
        "{status}"
    );

    let old = sandbox.path(&format!("{BACKUPS}/db-20200101T000000Z.sql.gz"));
    std::fs::copy(&local, &old).unwrap();
    set_mtime_days_ago(&old, 400);
    let backup_with = |path: &str| {
        dtops()
            .arg("--site")
            .arg(&sandbox.site)
            .arg("--root")
            .arg(sandbox.root())
            .args(["--runtime", "native", "backup"])
            .env("PATH", path)
            .output()
            .unwrap()
    };

    // Configured but not installed: the local backup is still taken, the run fails, nothing pruned.
    let count = backups(&sandbox).len();
    let out = backup_with(&path_without(sandbox.root(), "rclone"));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("rclone, which is not installed"), "{text}");
    assert!(text.contains("nothing was pruned"), "{text}");
    assert_eq!(
        backups(&sandbox).len(),
        count + 1,
        "the local backup is kept"
    );
    assert!(old.exists());
    assert!(status_exits(&sandbox, 1).contains("LAST RUN FAILED"));

    // The copy fails (the target is unwritable): loud, nothing pruned.
    std::fs::remove_dir_all(offsite.path().join("bucket")).unwrap();
    std::fs::write(offsite.path().join("bucket"), "a file where the bucket was").unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let out = sandbox.dtops(&["backup"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("the off-site copy to"), "{text}");
    assert!(old.exists());

    // Fixed: the next run copies and only then prunes.
    std::fs::remove_file(offsite.path().join("bucket")).unwrap();
    run_ok(&sandbox, &["backup"]);
    assert!(!old.exists());
    assert!(!run_ok(&sandbox, &["status"]).contains("LAST RUN FAILED"));
}
