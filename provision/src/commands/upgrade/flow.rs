//! `dtops upgrade`, in order: lock; the box ready (checks.rs); resolve the commit; build its
//! image while the old one serves; refuse when the database has migrations it does not know;
//! a verified backup; migrate with the new image; swap; health and smoke; record. A stop before
//! the swap leaves the old version serving as it was; a stop after it puts the old image back.
//! Either way the report says what the box is left in (report.rs).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::checks::{left_pending, ready, schema_for};
use super::report::Progress;
use super::smoke::smoke_test;
use super::swap::run_api_from;
use crate::backup_job::Job;
use crate::cli::{GlobalArgs, UpgradeArgs};
use crate::commands::deployment::Deployment;
use crate::deployed::{self, commit_image, short, Deployed};
use crate::engine::AppLock;
use crate::env::Env;
use crate::runtime::{
    build_commit, checkout_is_modified, image_info, migrate_with, resolve_commit, RuntimeKind,
};

/// How an attempt stopped.
enum Stop {
    /// Before anything changed: the old version serves as it did.
    Refused(anyhow::Error),
    /// After the backup: migrations may have run, the api may have been swapped (and put back).
    Failed(anyhow::Error),
}

pub fn run(global: &GlobalArgs, args: &UpgradeArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    if deployment.runtime.kind() != RuntimeKind::Compose {
        anyhow::bail!(
            "dtops upgrade needs the compose runtime (--runtime compose): it builds an image per \
             commit and swaps the api container. Under the native runtime the server is the \
             binary --native-bin names: `dtops rollback app`, replace the binary, then `dtops \
             provision` (it starts the api and applies the migrations)"
        );
    }
    let _lock = AppLock::acquire(env.host, env.site)?;
    let target = resolve_commit(&env, &args.reference)?;
    let ready = ready(&env, deployment.runtime.as_ref()).map_err(|e| {
        let _ = deployed::write_last_upgrade(&env, &target, "refused", &format!("{e:#}"));
        e.context("refused; nothing was changed")
    })?;
    let from = &ready.from;
    if target == from.commit {
        println!(
            "upgrade: nothing to do: {} ({}) is deployed and healthy",
            short(&target),
            from.image
        );
        return Ok(ExitCode::SUCCESS);
    }
    let image = image_for(&env, from, &target)?;
    println!(
        "upgrade: {} ({}) serves; deploying {} ({}) from {}",
        short(&from.commit),
        from.image,
        short(&target),
        image,
        env.site.app_dir().display()
    );
    if args.reference == "HEAD" && checkout_is_modified(&env)? {
        println!(
            "upgrade: note: the checkout has uncommitted changes; the image is built from commit \
             {} without them",
            short(&target)
        );
    }
    let mut progress = Progress {
        env: &env,
        from,
        target: &target,
        image: &image,
        applied_before: None,
        backup: None,
    };
    let started = Instant::now();
    match attempt(&mut progress, &ready.job) {
        Ok(smoke) => {
            deployed::write(
                &env,
                &Deployed {
                    image: image.clone(),
                    commit: target.clone(),
                    at: None,
                    previous: Some((from.image.clone(), from.commit.clone())),
                },
            )?;
            deployed::write_last_upgrade(&env, &target, "ok", &smoke)?;
            println!(
                "upgrade: done in {:.0} s: {} ({image}) serves; the previous {} ({}) is kept \
                 for `dtops upgrade --ref {}`",
                started.elapsed().as_secs_f32(),
                short(&target),
                short(&from.commit),
                from.image,
                short(&from.commit)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(Stop::Refused(e)) => {
            let _ = deployed::write_last_upgrade(&env, &target, "refused", &format!("{e:#}"));
            eprintln!("dtops: error: upgrade refused: {e:#}");
            eprintln!(
                "nothing was changed: {} ({}) serves as before; the new image {image} is kept \
                 (a retry reuses it)",
                short(&from.commit),
                from.image
            );
            Ok(ExitCode::FAILURE)
        }
        Err(Stop::Failed(e)) => {
            let _ = deployed::write_last_upgrade(&env, &target, "failed", &format!("{e:#}"));
            eprintln!("dtops: error: upgrade FAILED: {e:#}");
            eprintln!("the box now:");
            for line in progress.box_state() {
                eprintln!("  {line}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The image for `target`: the previous version's own when going back to it and it is still
/// there, else `[api] image`'s repository tagged by the commit.
fn image_for(env: &Env, from: &Deployed, target: &str) -> anyhow::Result<String> {
    if let Some((image, commit)) = &from.previous {
        if commit == target && image_info(env, image)?.is_some() {
            return Ok(image.clone());
        }
    }
    Ok(commit_image(env.site, target))
}

/// Every step from the build on; the smoke test's sentence when the new version serves.
fn attempt(progress: &mut Progress, job: &Job) -> Result<String, Stop> {
    let (env, target, image) = (progress.env, progress.target, progress.image);
    let step = Instant::now();
    match image_info(env, image).map_err(Stop::Refused)? {
        Some(info) if info.revision.as_deref().is_none_or(|r| r == target) => {
            println!(
                "upgrade: image {image} is already built from {}",
                short(target)
            );
        }
        _ => {
            println!("upgrade: building {image} (the api keeps serving)");
            build_commit(env, target, image).map_err(Stop::Refused)?;
            println!("upgrade: built in {:.1} s", step.elapsed().as_secs_f32());
        }
    }

    let schema = schema_for(env, image).map_err(Stop::Refused)?;
    progress.applied_before = Some(schema.applied.clone());
    let pending: Vec<String> = schema
        .pending
        .iter()
        .map(|(v, d)| format!("{v} {d}"))
        .collect();
    println!(
        "upgrade: the database has {} migration(s), all known to {}; {}",
        schema.applied.len(),
        short(target),
        if pending.is_empty() {
            "none pending".to_string()
        } else {
            format!("pending: {}", pending.join(", "))
        }
    );

    println!("upgrade: taking a verified backup");
    let backup = job
        .fresh_backup(env)
        .context("the pre-upgrade backup failed")
        .map_err(Stop::Refused)?;
    progress.backup = Some(backup);

    if !pending.is_empty() {
        println!("upgrade: migrating with {image} (the old version keeps serving)");
        let out = migrate_with(env, image)
            .context("the migration failed; the api was not swapped")
            .map_err(Stop::Failed)?;
        println!("upgrade: {out}");
        let left = left_pending(env, &schema.pending).map_err(Stop::Failed)?;
        if !left.is_empty() {
            return Err(Stop::Failed(anyhow::anyhow!(
                "`datatools-license migrate` finished but {} still pending; the api was not \
                 swapped",
                left.join(", ")
            )));
        }
    }

    println!("upgrade: swapping the api to {image}");
    let outcome = run_api_from(env, image)
        .context("the new version did not become healthy")
        .and_then(|took| {
            println!(
                "upgrade: {image} answers /health (after {:.1} s)",
                took.as_secs_f32()
            );
            smoke_test(env, target).context("the smoke test failed")
        });
    match outcome {
        Ok(smoke) => {
            println!("upgrade: smoke test: {smoke}");
            Ok(smoke)
        }
        Err(e) => {
            let from = progress.from;
            println!(
                "upgrade: that failed (why: below); putting {} ({}) back",
                short(&from.commit),
                from.image
            );
            match run_api_from(env, &from.image) {
                Ok(took) => println!(
                    "upgrade: {} answers /health again (after {:.1} s)",
                    from.image,
                    took.as_secs_f32()
                ),
                Err(back) => println!("upgrade: putting it back FAILED too: {back:#}"),
            }
            Err(Stop::Failed(e))
        }
    }
}
