//! Which site.toml a command uses when `--site` (or `DTOPS_SITE`) does not say.
//!
//! The operator's live file belongs outside the git checkout: `dtops cutover` edits it, and an
//! edited tracked file makes the next `git pull` of the checkout conflict. `sudo` drops
//! `DTOPS_SITE`, so the fixed place also makes `sudo dtops status` work from any directory.

use std::path::{Path, PathBuf};

/// The operator's site.toml on the box (SETUP §2 copies the repository's example there).
pub const SYSTEM_SITE: &str = "/etc/dtops/site.toml";

/// `--site`/`DTOPS_SITE` when given; else /etc/dtops/site.toml when it exists; else
/// ./site.toml when it exists (a development checkout).
pub fn site_file(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    lookup(given, Path::new(SYSTEM_SITE), Path::new("site.toml"))
}

fn lookup(given: Option<&Path>, system: &Path, local: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    for candidate in [system, local] {
        if candidate.exists() {
            return Ok(candidate.to_path_buf());
        }
    }
    anyhow::bail!(
        "no site.toml: none at {SYSTEM_SITE} (the box's place for it: \
         `sudo install -D -m 0644 site.toml {SYSTEM_SITE}` from the checkout, then edit it) nor \
         in this directory; or pass --site FILE (DTOPS_SITE)"
    )
}

/// A note when `path` is tracked by git: `dtops cutover` is about to change it, and the next
/// `git pull` of that checkout would conflict.
pub fn tracked_by_git(path: &Path) -> Option<String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name()?;
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    out.success().then(|| {
        format!(
            "note: {} is tracked by git, so this edit leaves the checkout modified and a later \
             `git pull` may conflict; keep the box's site.toml at {SYSTEM_SITE} instead \
             (`sudo install -D -m 0644 {} {SYSTEM_SITE}`)",
            path.display(),
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::site::find::{lookup, tracked_by_git};

    #[test]
    fn the_box_file_wins_over_the_checkout_and_the_flag_over_both() {
        let dir = tempfile::tempdir().unwrap();
        let (system, local) = (
            dir.path().join("etc-site.toml"),
            dir.path().join("site.toml"),
        );
        let flag = Path::new("/elsewhere/site.toml");
        assert!(lookup(None, &system, &local).is_err());
        std::fs::write(&local, "").unwrap();
        assert_eq!(lookup(None, &system, &local).unwrap(), local);
        std::fs::write(&system, "").unwrap();
        assert_eq!(lookup(None, &system, &local).unwrap(), system);
        assert_eq!(lookup(Some(flag), &system, &local).unwrap(), flag);
        let err = lookup(None, &dir.path().join("no"), &dir.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/etc/dtops/site.toml") && err.contains("--site"),
            "{err}"
        );
    }

    #[test]
    fn a_tracked_site_toml_is_pointed_out() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            assert!(std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
                .unwrap()
                .status
                .success());
        };
        git(&["init", "-q"]);
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "x").unwrap();
        assert!(tracked_by_git(&file).is_none(), "not tracked yet");
        git(&["add", "site.toml"]);
        let note = tracked_by_git(&file).unwrap();
        assert!(
            note.contains("git pull") && note.contains("/etc/dtops/site.toml"),
            "{note}"
        );
        assert!(tracked_by_git(Path::new("/etc/hostname")).is_none());
    }
}
