//! `dtops --version` says which commit it was built from: "0.1.0 (a1b2c3d4e5f6)", with
//! "-modified" when the work tree had uncommitted changes. Without git: "(commit unknown)".

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
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            format!("{commit}{}", if dirty { "-modified" } else { "" })
        }
        None => "commit unknown".into(),
    };
    println!(
        "cargo:rustc-env=DTOPS_VERSION={} ({commit})",
        env!("CARGO_PKG_VERSION")
    );
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
