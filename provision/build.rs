//! `dtops --version` says which commit it was built from: "0.1.0 (a1b2c3d4e5f6)", with
//! "-modified" when the work tree had uncommitted changes. Without git: "(commit unknown)",
//! unless the build is told the commit (`DATATOOLS_COMMIT`, `DATATOOLS_COMMIT_TIME`: `dtops
//! upgrade` builds from a `git archive`).

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    // `dtops upgrade` builds dtops from a `git archive` of the commit (no `.git`), naming it.
    for name in ["DATATOOLS_COMMIT", "DATATOOLS_COMMIT_TIME"] {
        println!("cargo:rerun-if-env-changed={name}");
    }
    let given = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (full, time, dirty) = match given("DATATOOLS_COMMIT") {
        Some(commit) => (
            Some(commit.trim().to_string()),
            given("DATATOOLS_COMMIT_TIME").unwrap_or_default(),
            false,
        ),
        None => (
            git(&["rev-parse", "HEAD"]),
            git(&["show", "-s", "--format=%ct", "HEAD"]).unwrap_or_default(),
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()),
        ),
    };
    let commit = match &full {
        Some(commit) => format!(
            "{}{}",
            &commit[..12.min(commit.len())],
            if dirty { "-modified" } else { "" }
        ),
        None => "commit unknown".into(),
    };
    println!(
        "cargo:rustc-env=DTOPS_VERSION={} ({commit})",
        env!("CARGO_PKG_VERSION")
    );
    // For the check against the api's build (`api_build.rs`).
    println!("cargo:rustc-env=DTOPS_COMMIT={}", full.unwrap_or_default());
    println!("cargo:rustc-env=DTOPS_COMMIT_TIME={}", time.trim());
    // Rebuilt when HEAD moves (a commit, a checkout) or the index changes (staged edits).
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        for file in ["HEAD", "index"] {
            println!("cargo:rerun-if-changed={dir}/{file}");
        }
        if let Some(head) = git(&["symbolic-ref", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head}");
        }
    }
}
