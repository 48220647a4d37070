//! dtops and its backup job run as root and write inside /srv/<app>, which the site user owns,
//! and in /run/lock, which everyone may write to. A symlink planted where a write lands must
//! never be followed: each case plants one pointing at a victim file (or a directory of the
//! attacker's), runs the real command on a provisioned sandbox, and checks the victim is
//! untouched and the run failed loudly or wrote safely.

mod common;

use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use common::sandbox::Sandbox;
use common::{stderr, stdout};

const APP: &str = "/srv/datatools-license";
const VICTIM_TEXT: &str = "victim: root's file, which must stay as it is\n";

/// A root-owned 0644 file outside the app, and how it looks now.
struct Victim(PathBuf);

impl Victim {
    fn plant(sandbox: &Sandbox) -> Victim {
        let path = sandbox.path("/etc/victim");
        std::fs::write(&path, VICTIM_TEXT).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Victim(path)
    }

    fn assert_untouched(&self, what: &str, output: &str) {
        let meta = std::fs::metadata(&self.0).unwrap();
        assert_eq!(
            std::fs::read_to_string(&self.0).unwrap(),
            VICTIM_TEXT,
            "{what}: the victim's content changed\n{output}"
        );
        assert_eq!(
            (meta.mode() & 0o7777, meta.uid()),
            (0o644, 0),
            "{what}: the victim's mode or owner changed\n{output}"
        );
        assert!(
            !output.contains("victim: root's file"),
            "{what}: the victim's content was shown\n{output}"
        );
    }
}

fn run(sandbox: &Sandbox, args: &[&str]) -> (bool, String) {
    let out = sandbox.dtops(args);
    (
        out.status.success(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

/// Moves `path` aside and puts a symlink to `target` in its place; `restore` undoes it.
struct Planted {
    path: PathBuf,
    aside: Option<PathBuf>,
}

impl Planted {
    fn at(path: PathBuf, target: &Path) -> Planted {
        let aside = path.with_extension("moved-aside");
        let aside = std::fs::rename(&path, &aside).is_ok().then_some(aside);
        symlink(target, &path).unwrap();
        Planted { path, aside }
    }

    fn restore(self) {
        std::fs::remove_file(&self.path).unwrap();
        if let Some(aside) = self.aside {
            std::fs::rename(aside, &self.path).unwrap();
        }
    }
}

#[test]
fn dtops_never_follows_a_symlink_planted_where_it_writes() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    let victim = Victim::plant(&sandbox);
    let attacker = sandbox.path("/home/attacker");
    std::fs::create_dir_all(&attacker).unwrap();

    // A secret replaced by a link: chmod/chown would land on the victim.
    for name in ["pg_password", "admin_token"] {
        let planted = Planted::at(sandbox.path(&format!("{APP}/secrets/{name}")), &victim.0);
        let (ok, out) = run(&sandbox, &["provision"]);
        assert!(
            !ok,
            "secrets/{name} as a symlink: provision succeeded\n{out}"
        );
        assert!(out.contains("symbolic link"), "{out}");
        victim.assert_untouched(&format!("secrets/{name}"), &out);
        planted.restore();
    }

    // A rendered file replaced by a link: read (into a diff) or written through.
    for name in [".env", "compose.yml"] {
        let planted = Planted::at(sandbox.path(&format!("{APP}/{name}")), &victim.0);
        for command in ["plan", "provision"] {
            let (ok, out) = run(&sandbox, &[command]);
            assert!(!ok, "{name} as a symlink: {command} succeeded\n{out}");
            assert!(out.contains("symbolic link"), "{out}");
            victim.assert_untouched(&format!("{command} with {name}"), &out);
        }
        planted.restore();
    }

    // dtops' state directory swapped for a link to the attacker's directory: nothing may be
    // written there.
    let planted = Planted::at(sandbox.path(&format!("{APP}/.dtops")), &attacker);
    let (ok, out) = run(&sandbox, &["provision"]);
    assert!(!ok, ".dtops as a symlink: provision succeeded\n{out}");
    assert!(out.contains("symbolic link"), "{out}");
    assert_eq!(std::fs::read_dir(&attacker).unwrap().count(), 0, "{out}");
    planted.restore();

    // The app lock in /run/lock (everyone may write there): opened, truncated and written.
    let planted = Planted::at(
        sandbox.path("/run/lock/dtops-datatools-license.lock"),
        &victim.0,
    );
    let (ok, out) = run(&sandbox, &["provision"]);
    assert!(!ok, "a symlinked lock file: provision succeeded\n{out}");
    victim.assert_untouched("the lock file", &out);
    planted.restore();

    // Everything put back: a clean run.
    let (ok, out) = run(&sandbox, &["provision"]);
    assert!(ok && out.contains(" 0 failed"), "{out}");
}

#[test]
fn the_backup_job_never_follows_a_symlink_planted_where_it_writes() {
    let sandbox = Sandbox::new();
    sandbox.provision();
    let victim = Victim::plant(&sandbox);
    let backups = sandbox.path(&format!("{APP}/backups"));
    let state = sandbox.path(&format!("{APP}/.dtops/backup"));

    // The dump's temporary file, at every name the next minute could give it.
    let now = Utc::now();
    let partials: Vec<PathBuf> = (-2..60)
        .map(|s| {
            let ts = (now + Duration::seconds(s)).format("%Y%m%dT%H%M%SZ");
            let path = backups.join(format!(".db-{ts}.sql.gz.partial"));
            symlink(&victim.0, &path).unwrap();
            path
        })
        .collect();
    let (ok, out) = run(&sandbox, &["backup"]);
    assert!(
        !ok,
        "the partial dump's name was a symlink: backup succeeded\n{out}"
    );
    assert!(out.contains("cannot overwrite existing file"), "{out}");
    victim.assert_untouched("the partial dump", &out);
    // The job removed the one it met (a link, not its target); the others are still there.
    for path in partials {
        let _ = std::fs::remove_file(path);
    }

    // The state files' temporary names and the job's lock: replaced, or opened without a
    // write, never written through.
    for name in [".last-run.tmp", ".last-good.tmp", "lock"] {
        let planted = Planted::at(state.join(name), &victim.0);
        let (ok, out) = run(&sandbox, &["backup"]);
        assert!(ok, "{name} as a symlink: the backup failed\n{out}");
        victim.assert_untouched(name, &out);
        if name != "lock" {
            assert!(!state.join(name).exists(), "{name} is left behind");
        } else {
            planted.restore();
        }
    }

    // backups/ itself (or .dtops/) swapped for a link to the attacker's directory: refused,
    // nothing written there.
    for dir in ["backups", ".dtops"] {
        let attacker = sandbox.path(&format!("/home/attacker-{dir}"));
        std::fs::create_dir_all(&attacker).unwrap();
        let planted = Planted::at(sandbox.path(&format!("{APP}/{dir}")), &attacker);
        let (ok, out) = run(&sandbox, &["backup"]);
        assert!(!ok, "{dir} as a symlink: backup succeeded\n{out}");
        assert!(out.contains("symbolic link"), "{out}");
        assert_eq!(std::fs::read_dir(&attacker).unwrap().count(), 0, "{out}");
        planted.restore();
    }

    let (ok, out) = run(&sandbox, &["backup"]);
    assert!(ok, "{out}");
}
