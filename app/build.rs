//! Embeds every `migrations/NNNN_name.sql` file: `src/db/pool.rs` includes the generated list,
//! so a new migration cannot be left out of the binary (a hand-kept list once was). Also the
//! commit it is built from (`src/build_info.rs`): `DATATOOLS_COMMIT` and `DATATOOLS_COMMIT_TIME`
//! when the build is given them (the image's build, from a `git archive` without `.git`), else
//! `git`'s HEAD, else unknown (empty).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    build_commit();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("migrations/ entry").file_name())
        .map(|name| name.into_string().expect("migration file names are UTF-8"))
        // An editor's lock or backup file (`.#0010_x.sql`) is not a migration.
        .filter(|name| name.ends_with(".sql") && !name.starts_with('.'))
        .collect();
    for name in &names {
        let numbered = name.split_once('_').is_some_and(|(version, _)| {
            !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())
        });
        assert!(
            numbered,
            "migrations/{name} is not named NNNN_description.sql: rename it (the number orders it)"
        );
    }
    names.sort();
    let mut list = String::from("&[\n");
    for name in &names {
        let path = dir.join(name);
        writeln!(list, "    ({name:?}, include_str!({:?})),", path.display()).unwrap();
    }
    list.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(&out, list).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

fn build_commit() {
    use std::process::Command;
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    for name in ["DATATOOLS_COMMIT", "DATATOOLS_COMMIT_TIME"] {
        println!("cargo:rerun-if-env-changed={name}");
    }
    let given = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (commit, time) = match given("DATATOOLS_COMMIT") {
        Some(commit) => (commit, given("DATATOOLS_COMMIT_TIME").unwrap_or_default()),
        None => (
            git(&["rev-parse", "HEAD"]).unwrap_or_default(),
            git(&["show", "-s", "--format=%ct", "HEAD"]).unwrap_or_default(),
        ),
    };
    println!("cargo:rustc-env=DATATOOLS_BUILD_COMMIT={}", commit.trim());
    println!(
        "cargo:rustc-env=DATATOOLS_BUILD_COMMIT_TIME={}",
        time.trim()
    );
    // Rebuilt when HEAD moves (a commit, a checkout).
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(head) = git(&["symbolic-ref", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head}");
        }
    }
}
