//! The api image, built from one commit of the checkout: `git archive` of the commit into a
//! build context under dtops' state directory, then `docker compose build api` with an override
//! file naming that context, the tag and the commit (as the image's revision label). The
//! checkout itself is never changed (`--ref` builds any commit it has), and uncommitted edits
//! never reach an image tagged by a commit. The running api keeps serving meanwhile.

use std::path::Path;

use anyhow::Context;
use datatools_license::config::vars;

use super::compose_op::{build_service, compose_build_op};
use crate::env::Env;
use crate::host::Ownership;
use crate::process::CommandLine;

/// The OCI label holding the commit an image was built from.
pub const REVISION_LABEL: &str = "org.opencontainers.image.revision";

const ROOT_ONLY_DIR: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o700,
};

/// `git ARGS` in the checkout. The directory belongs to the site user and dtops runs as root:
/// git refuses such a repository ("dubious ownership") unless told it is safe.
fn git(env: &Env) -> CommandLine {
    let app = env.host.path(&env.site.app_dir());
    let mut safe = std::ffi::OsString::from("safe.directory=");
    safe.push(&app);
    CommandLine::new(["git", "-c"])
        .arg(safe)
        .arg("-C")
        .arg(&app)
}

/// The checkout's current commit.
pub fn checkout_commit(env: &Env) -> anyhow::Result<String> {
    let out = env
        .host
        .run(&git(env).args(["rev-parse", "--verify", "HEAD^{commit}"]))
        .with_context(|| {
            format!(
                "{} is not a git checkout of the license server; clone it there (SETUP-LICENSE-SERVER.md §1e, \"The code on the box\")",
                env.site.app_dir().display()
            )
        })?;
    Ok(out.stdout.trim().to_string())
}

/// The full commit `reference` (a branch, tag or commit the checkout has) names.
pub fn resolve_commit(env: &Env, reference: &str) -> anyhow::Result<String> {
    checkout_commit(env)?;
    let out = env.host.probe(&git(env).args([
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{reference}^{{commit}}"),
    ]))?;
    let commit = out.stdout.trim();
    if !out.success || commit.is_empty() {
        anyhow::bail!(
            "{reference:?} is not a commit of the checkout {} (fetch it first: git -C {} fetch)",
            env.site.app_dir().display(),
            env.site.app_dir().display()
        );
    }
    Ok(commit.to_string())
}

/// The commit's time (Unix seconds, the committer's), as builds embed it beside the commit.
pub fn commit_time(env: &Env, commit: &str) -> anyhow::Result<String> {
    let out = env
        .host
        .run(&git(env).args(["show", "-s", "--format=%ct", commit]))?;
    Ok(out.stdout.trim().to_string())
}

/// Whether tracked files in the checkout differ from its commit (they are not in any image).
pub fn checkout_is_modified(env: &Env) -> anyhow::Result<bool> {
    let out = env
        .host
        .run(&git(env).args(["status", "--porcelain", "--untracked-files=no"]))?;
    Ok(!out.stdout.trim().is_empty())
}

/// (behind, ahead): how many commits `from` has that `to` lacks, and the reverse; `None` when
/// the checkout does not have both.
pub fn commits_between(env: &Env, from: &str, to: &str) -> anyhow::Result<Option<(u64, u64)>> {
    let out = env.host.probe(&git(env).args([
        "rev-list",
        "--left-right",
        "--count",
        &format!("{from}...{to}"),
    ]))?;
    if !out.success {
        return Ok(None);
    }
    let mut counts = out.stdout.split_whitespace().map(str::parse::<u64>);
    Ok(match (counts.next(), counts.next()) {
        (Some(Ok(behind)), Some(Ok(ahead))) => Some((behind, ahead)),
        _ => None,
    })
}

/// An image as the engine has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The commit of its revision label (images built before dtops labelled them have none).
    pub revision: Option<String>,
    /// When it was built (RFC 3339, as Docker says it).
    pub created: String,
}

/// The image, or `None` when the engine does not have it.
pub fn image_info(env: &Env, image: &str) -> anyhow::Result<Option<ImageInfo>> {
    let format = format!(
        "{{{{with .Config.Labels}}}}{{{{index . \"{REVISION_LABEL}\"}}}}{{{{end}}}}|{{{{.Created}}}}"
    );
    let out = env.host.probe(
        &CommandLine::new(["docker", "image", "inspect", "--format"])
            .arg(format)
            .arg(image),
    )?;
    if !out.success {
        return Ok(None);
    }
    let line = out.stdout.trim();
    let (revision, created) = line.split_once('|').unwrap_or(("", line));
    Ok(Some(ImageInfo {
        revision: Some(revision.trim())
            .filter(|r| !r.is_empty() && *r != "<no value>")
            .map(str::to_string),
        created: created.trim().to_string(),
    }))
}

/// Builds `image` from `commit` (see the module comment); the build context and the override
/// file are removed afterwards, whatever happened.
pub fn build_commit(env: &Env, commit: &str, image: &str) -> anyhow::Result<()> {
    let work = env.site.state_dir().join("build");
    let short = &commit[..12.min(commit.len())];
    let context = work.join(short);
    let tarball = work.join(format!("{short}.tar"));
    let override_file = work.join(format!("{short}.yml"));
    let cleanup = || {
        let _ = std::fs::remove_dir_all(env.host.path(&context));
        let _ = std::fs::remove_file(env.host.path(&tarball));
        let _ = std::fs::remove_file(env.host.path(&override_file));
    };
    cleanup();
    let result = build_in(env, commit, image, &context, &tarball, &override_file);
    cleanup();
    result
}

/// The files of `commit` into the (existing, empty) directory `into`, through `tarball`.
pub fn export_commit(env: &Env, commit: &str, into: &Path, tarball: &Path) -> anyhow::Result<()> {
    let host = env.host;
    host.run(
        &git(env)
            .args(["archive", "--format=tar", "--output"])
            .arg(host.path(tarball))
            .arg(commit),
    )
    .with_context(|| format!("cannot take commit {commit} out of the checkout"))?;
    host.run(
        &CommandLine::new(["tar", "-x", "-f"])
            .arg(host.path(tarball))
            .arg("-C")
            .arg(host.path(into)),
    )?;
    Ok(())
}

fn build_in(
    env: &Env,
    commit: &str,
    image: &str,
    context: &Path,
    tarball: &Path,
    override_file: &Path,
) -> anyhow::Result<()> {
    let host = env.host;
    let work = context.parent().map(Path::to_path_buf).unwrap_or_default();
    if host.state(&work)?.is_none() {
        host.create_parents(&work)?;
        host.create_dir(&work, ROOT_ONLY_DIR)?;
    }
    host.create_dir(context, ROOT_ONLY_DIR)?;
    export_commit(env, commit, context, tarball)?;
    // The server says which commit it runs (app/Dockerfile, app/build.rs).
    let mut args = serde_json::Map::new();
    args.insert(vars::COMMIT.into(), commit.into());
    args.insert(vars::COMMIT_TIME.into(), commit_time(env, commit)?.into());
    let mut services = serde_json::Map::new();
    services.insert(
        build_service(),
        serde_json::json!({
            "image": image,
            "build": {
                "context": host.path(context),
                "labels": { REVISION_LABEL: commit },
                "args": args,
            },
        }),
    );
    let overrides = serde_json::json!({ "services": services });
    host.write_atomic(
        override_file,
        serde_json::to_string_pretty(&overrides)?.as_bytes(),
        Ownership {
            uid: 0,
            gid: 0,
            mode: 0o600,
        },
    )?;
    host.run(&compose_build_op(env, &host.path(override_file)))
        .with_context(|| format!("building {image} from commit {commit} failed"))?;
    Ok(())
}
