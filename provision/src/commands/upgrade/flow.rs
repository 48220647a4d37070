//! `dtops upgrade`, in order: lock; the box ready (checks.rs); resolve the commit; build its
//! image while the old one serves; refuse when the database has migrations it does not know;
//! a verified backup; migrate with the new image (the old one still serving: expand/contract);
//! then the blue/green change (`bluegreen::rollout`): the new image starts on the idle slot, is
//! checked there (health, a signed license), nginx switches to it, the new version is recorded,
//! the old slot drains and stops; last, the dtops built from the same commit (beside the image,
//! before anything changed) is installed (dtops_install.rs). Any stop before the switch leaves
//! the old version serving as it was, untouched; the report says what the box is left in
//! (report.rs).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::checks::{left_pending, ready, schema_for};
use super::dtops_install;
use super::report::Progress;
use crate::backup_job::Job;
use crate::bluegreen::{rollout, Done, Rollout, Serving};
use crate::cli::{GlobalArgs, UpgradeArgs};
use crate::commands::deployment::Deployment;
use crate::deployed::{self, commit_image, short, Deployed};
use crate::desired;
use crate::engine::AppLock;
use crate::env::Env;
use crate::render::ArtifactKind;
use crate::runtime::{
    build_commit, checkout_is_modified, image_info, migrate_with, resolve_commit, RuntimeKind,
};

/// How an attempt stopped.
enum Stop {
    /// Before anything changed: the old version serves as it did.
    Refused(anyhow::Error),
    /// After the backup: migrations may have run; the old version still serves.
    Failed(anyhow::Error),
}

pub fn run(global: &GlobalArgs, args: &UpgradeArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    if deployment.runtime.kind() != RuntimeKind::Compose {
        anyhow::bail!(
            "dtops upgrade needs the compose runtime (--runtime compose): it builds an image per \
             commit and starts it in the idle api slot. Under the native runtime the server is the \
             binary --native-bin names: `dtops rollback app`, replace the binary, then `dtops \
             provision` (it starts the api and applies the migrations)"
        );
    }
    let _lock = AppLock::acquire(env.host, env.site)?;
    // It installs the dtops of the api it deploys: no warning that this one is older.
    crate::api_build::silence();
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
        // A box upgraded before dtops came along: its dtops catches up.
        return catch_up_dtops(&env, &target);
    }
    let image = image_for(&env, from, &target)?;
    println!(
        "upgrade: {} ({}) serves from slot {}; deploying {} ({}) from {} to slot {}",
        short(&from.commit),
        from.image,
        ready.slot,
        short(&target),
        image,
        env.site.app_dir().display(),
        ready.slot.other()
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
        runtime: deployment.runtime.as_ref(),
        from,
        slot: ready.slot,
        target: &target,
        image: &image,
        applied_before: None,
        backup: None,
        dtops: None,
    };
    let started = Instant::now();
    match attempt(&mut progress, ready.job.as_ref()) {
        Ok(done) => {
            deployed::write_last_upgrade(&env, &target, "ok", &done.smoke)?;
            for note in &done.notes {
                println!("upgrade: note: {note}");
            }
            println!(
                "upgrade: done in {:.1} s: {} ({image}) serves from slot {}; the previous {} \
                 ({}) is kept for `dtops upgrade --ref {}`",
                started.elapsed().as_secs_f32(),
                short(&target),
                done.to,
                short(&from.commit),
                from.image,
                short(&from.commit)
            );
            Ok(install_dtops(&env, progress.dtops.as_ref(), &target))
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

/// Every step from the build on; what the blue/green change did when the new version serves.
fn attempt(progress: &mut Progress, job: Option<&Job>) -> Result<Done, Stop> {
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

    // dtops from the same commit, built now so a failing build changes nothing.
    let step = Instant::now();
    match dtops_install::build(env, target).map_err(Stop::Refused)? {
        Some(built) => {
            println!(
                "upgrade: built dtops from {} in {:.1} s ({})",
                short(target),
                step.elapsed().as_secs_f32(),
                built.version
            );
            progress.dtops = Some(built);
        }
        None => println!(
            "upgrade: [commands] build_dtops is empty: no dtops is built or installed (install \
             the one of commit {} yourself)",
            short(target)
        ),
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

    match job {
        Some(job) => {
            println!("upgrade: taking a verified backup");
            let backup = job
                .fresh_backup(env)
                .context("the pre-upgrade backup failed")
                .map_err(Stop::Refused)?;
            progress.backup = Some(backup);
        }
        None => println!(
            "upgrade: no backup of our own: {}",
            crate::steps::managed_backups(env.site)
        ),
    }

    if !pending.is_empty() {
        println!("upgrade: migrating with {image} (the old version keeps serving)");
        let out = migrate_with(env, image)
            .context("the migration failed; the new version was not started")
            .map_err(Stop::Failed)?;
        println!("upgrade: {out}");
        let left = left_pending(env, &schema.pending).map_err(Stop::Failed)?;
        if !left.is_empty() {
            return Err(Stop::Failed(anyhow::anyhow!(
                "`datatools-license migrate` finished but {} still pending; the new version \
                 was not started",
                left.join(", ")
            )));
        }
    }

    println!(
        "upgrade: {image} starts on slot {} beside slot {} (which keeps serving)",
        progress.slot.other(),
        progress.slot
    );
    let (from, slot) = (progress.from, progress.slot);
    // The new version, recorded once traffic went to it; `.env` then names its image, as
    // site.toml renders it (so the next `dtops provision` finds nothing to change).
    let record = || {
        deployed::write(
            env,
            &Deployed {
                image: image.to_string(),
                commit: target.to_string(),
                at: None,
                previous: Some((from.image.clone(), from.commit.clone())),
            },
        )?;
        let artifact = desired::rendered(env, RuntimeKind::Compose, ArtifactKind::ComposeEnv)?
            .context("this build renders no .env")?;
        let own = artifact.owner.ownership(env, artifact.mode)?;
        env.host
            .write_atomic(&artifact.path, artifact.content.as_bytes(), own)?;
        anyhow::Ok(())
    };
    let change = Rollout {
        from: Serving::Slot(slot),
        to: slot.other(),
        image: Some(image),
        commit: Some(target),
        record: Some(&record),
    };
    let done = rollout(env, progress.runtime, &change, &mut |line| {
        println!("upgrade: {line}")
    })
    .map_err(Stop::Failed)?;
    println!("upgrade: {}", done.timings());
    Ok(done)
}

/// After the new version serves: installs the dtops built beside it, and says so (exit 1 when
/// that failed: the api is new, dtops is not).
fn install_dtops(env: &Env, built: Option<&dtops_install::Built>, target: &str) -> ExitCode {
    let Some(built) = built else {
        return ExitCode::SUCCESS;
    };
    match dtops_install::install(env, built, target) {
        Ok(said) => {
            println!("upgrade: {said}");
            if let Some(note) = dtops_install::status_job_note(env) {
                println!("upgrade: note: {note}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "dtops: error: the api is upgraded to {}, but its dtops was NOT installed: {e:#}; \
                 `sudo dtops upgrade` again installs it",
                short(target)
            );
            ExitCode::FAILURE
        }
    }
}

/// Nothing to deploy: installs the dtops of the deployed commit when the one installed is not.
fn catch_up_dtops(env: &Env, target: &str) -> anyhow::Result<ExitCode> {
    if dtops_install::installed_is_from(env, target)? {
        return Ok(ExitCode::SUCCESS);
    }
    let Some(built) = dtops_install::build(env, target)? else {
        return Ok(ExitCode::SUCCESS);
    };
    println!(
        "upgrade: {} is not from commit {}: built its dtops ({})",
        dtops_install::INSTALLED,
        short(target),
        built.version
    );
    Ok(install_dtops(env, Some(&built), target))
}
