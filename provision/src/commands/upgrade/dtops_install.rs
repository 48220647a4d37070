//! The dtops beside the api: `dtops upgrade` builds dtops from the very commit it deploys
//! (`[commands] build_dtops` in a `git archive` of it, while the old api serves and before
//! anything changes) and, once the new api serves, installs it where SETUP §2 puts dtops,
//! /usr/local/bin/dtops: the one there is kept as dtops.previous (a revert is `dtops upgrade
//! --ref <previous commit>`, or that file), the new one written beside and renamed over it, so
//! the hourly status job never runs half a file.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::deployed::short;
use crate::env::Env;
use crate::host::Ownership;
use crate::process::CommandLine;
use crate::runtime::{commit_time, export_commit};

/// Where SETUP §2 installs dtops (under `--root` in a sandbox).
pub const INSTALLED: &str = "/usr/local/bin/dtops";
/// The one it replaced, kept beside it.
pub const PREVIOUS: &str = "/usr/local/bin/dtops.previous";

const ROOT_ONLY_DIR: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o700,
};
const PROGRAM: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o755,
};

/// A dtops built from the commit being deployed.
pub struct Built {
    /// The binary (a host path, `--root` applied).
    binary: PathBuf,
    /// What it says with `--version`.
    pub version: String,
}

/// Builds dtops from `commit`; `None` when `[commands] build_dtops` is empty (the operator
/// installs dtops). The target directory is kept between upgrades (the next build is
/// incremental); the commit's files are removed afterwards.
pub fn build(env: &Env, commit: &str) -> anyhow::Result<Option<Built>> {
    let command = &env.site.commands.build_dtops;
    if command.is_empty() {
        return Ok(None);
    }
    let host = env.host;
    let work = env.site.state_dir().join("build");
    let dtops_dir = work.join("dtops");
    let (source, tarball) = (
        dtops_dir.join(format!("src-{}", short(commit))),
        dtops_dir.join(format!("src-{}.tar", short(commit))),
    );
    let target = dtops_dir.join("target");
    for dir in [&work, &dtops_dir, &target] {
        if host.state(dir)?.is_none() {
            host.create_parents(dir)?;
            host.create_dir(dir, ROOT_ONLY_DIR)?;
        }
    }
    let cleanup = || {
        let _ = std::fs::remove_dir_all(host.path(&source));
        let _ = std::fs::remove_file(host.path(&tarball));
    };
    cleanup();
    let result = (|| {
        host.create_dir(&source, ROOT_ONLY_DIR)?;
        export_commit(env, commit, &source, &tarball)?;
        let build = CommandLine::new(command)
            .in_dir(host.path(&source))
            .env("CARGO_TARGET_DIR", host.path(&target).display().to_string())
            .env(datatools_license::config::vars::COMMIT, commit)
            .env(
                datatools_license::config::vars::COMMIT_TIME,
                commit_time(env, commit)?,
            )
            .streamed();
        host.run(&build).with_context(|| {
            format!(
                "building dtops from commit {} failed ([commands] build_dtops in site.toml; `[]` \
                 leaves installing dtops to you)",
                short(commit)
            )
        })?;
        let binary = host.path(&target.join("release").join("dtops"));
        anyhow::ensure!(
            binary.is_file(),
            "[commands] build_dtops finished but left no {} (it must build into \
             $CARGO_TARGET_DIR/release/dtops)",
            binary.display()
        );
        let version = host
            .run(&CommandLine::new([binary.as_os_str()]).arg("--version"))
            .with_context(|| format!("the dtops just built ({}) does not run", binary.display()))?
            .stdout
            .trim()
            .to_string();
        anyhow::Ok(Built { binary, version })
    })();
    cleanup();
    result.map(Some)
}

/// Installs `built` at INSTALLED, keeping the one there as PREVIOUS; says what it did.
pub fn install(env: &Env, built: &Built, commit: &str) -> anyhow::Result<String> {
    let host = env.host;
    let (installed, previous) = (Path::new(INSTALLED), Path::new(PREVIOUS));
    let new = std::fs::read(&built.binary)
        .with_context(|| format!("cannot read {}", built.binary.display()))?;
    host.create_parents(installed)?;
    let kept = match host.read(installed)? {
        Some(old) if old == new => {
            return Ok(format!(
                "{INSTALLED} is already the dtops of commit {} ({})",
                short(commit),
                built.version
            ))
        }
        Some(old) => {
            host.write_atomic(previous, &old, PROGRAM)?;
            format!("; the one it replaced is kept as {PREVIOUS}")
        }
        None => String::new(),
    };
    host.write_atomic(installed, &new, PROGRAM)?;
    let mut said = format!(
        "installed {} as {INSTALLED} (built from commit {}){kept}",
        built.version,
        short(commit)
    );
    if !built.version.contains(short(commit)) {
        said.push_str(&format!(
            ". Note: it says it is not from commit {}: check [commands] build_dtops",
            short(commit)
        ));
    }
    Ok(said)
}

/// Whether the installed dtops says it is from `commit` (`--version`).
pub fn installed_is_from(env: &Env, commit: &str) -> anyhow::Result<bool> {
    let installed = env.host.path(Path::new(INSTALLED));
    if !installed.is_file() {
        return Ok(false);
    }
    let out = env
        .host
        .probe(&CommandLine::new([installed.as_os_str()]).arg("--version"))?;
    Ok(out.success && out.stdout.contains(&format!("({})", short(commit))))
}

/// When the hourly status job runs another dtops than the installed one: what to do.
pub fn status_job_note(env: &Env) -> Option<String> {
    let job = env.site.alerts.status_job.as_path();
    let text = String::from_utf8(env.host.read(job).ok()??).ok()?;
    let runs = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.split_once(" root '"))?
        .1
        .split('\'')
        .next()?
        .to_string();
    (runs != INSTALLED).then(|| {
        format!(
            "the hourly status job ({}) runs {runs}, not {INSTALLED}: `sudo {INSTALLED} \
             provision` makes it run the installed one",
            job.display()
        )
    })
}
