//! `dtops backup` and `dtops restore`: the installed backup job (`backup_job`), run now.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::deployment::Deployment;
use crate::backup_job::{read_state, show, state_value, Job};
use crate::cli::{GlobalArgs, RestoreArgs};
use crate::engine::AppLock;
use crate::env::Env;
use crate::runtime::wait_slot_healthy;
use crate::site::Slot;

pub fn backup(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let (env, runtime) = (deployment.env(), deployment.runtime.as_ref());
    refuse_managed(&env)?;
    let job = Job::installed(&env, runtime.kind())?;
    println!(
        "backup: running {} ({})",
        job.path.display(),
        deployment.runtime.name()
    );
    let out = job.run(&env, &[])?;
    show(&out);
    Ok(if out.success {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "dtops: error: the backup failed ({}); see above",
            out.status
        );
        ExitCode::FAILURE
    })
}

pub fn restore(global: &GlobalArgs, args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let (env, runtime) = (deployment.env(), deployment.runtime.as_ref());
    refuse_managed(&env)?;
    let job = Job::installed(&env, runtime.kind())?;
    // Resolved before any fresh backup, so `latest` means the backup the operator chose; a
    // time (--at) is rebuilt from the archive into a dump first.
    let file = match (&args.at, &args.file) {
        (Some(at), _) => {
            let at = crate::runtime::parse_target(at)?;
            println!(
                "restore: rebuilding the database as it was at {} from the archive",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            );
            let work = crate::runtime::pitr_work_dir(&env)?;
            let rebuilt = crate::runtime::dump_at(&env, crate::runtime::PitrTarget::At(at), &work)?;
            if let Some(to) = rebuilt.recovered_to {
                println!(
                    "restore: the replay stopped at the last transaction before it, committed at \
                     {}",
                    to.format("%Y-%m-%d %H:%M:%S%.3f UTC")
                );
            }
            rebuilt.file
        }
        (None, Some(file)) => resolve_file(&env, file)?,
        (None, None) => bail!("name a backup file, or a time with --at"),
    };
    if !args.into_live {
        let mut argv = vec!["check".to_string(), file.display().to_string()];
        if args.keep {
            argv.push("--keep".into());
        }
        let out = job.run(&env, &argv)?;
        show(&out);
        if !out.success {
            bail!("{} does not restore ({})", file.display(), out.status);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        bail!(
            "--into-live replaces the live database {} with {}: the api is stopped, a fresh \
             backup is taken and verified first, and the current database is kept under another \
             name. Add --yes to do it",
            env.site.database.name,
            file.display()
        );
    }
    let _lock = AppLock::acquire(env.host, env.site)?;
    println!("restore: stopping the api ({})", deployment.runtime.name());
    for slot in Slot::ALL {
        runtime.stop_slot(&env, slot)?;
    }
    runtime.stop_legacy_api(&env)?;
    let result = replace_live(&env, &job, &file);
    let slot = crate::live_slot::read_or_blue(&env)?;
    println!("restore: starting the api (slot {slot})");
    let started = runtime.start_slot(&env, slot, None).and_then(|()| {
        crate::live_slot::write(&env, slot)?;
        wait_slot_healthy(&env, runtime, slot, None).map(|_| ())
    });
    result?;
    started.context("the database was restored but the api did not come back healthy")?;
    println!("restore: done; the api is healthy");
    Ok(ExitCode::SUCCESS)
}

/// A managed database's backups and restores are its provider's (point-in-time recovery).
fn refuse_managed(env: &Env) -> anyhow::Result<()> {
    if env.site.external_db().is_some() {
        bail!(
            "{}; restore with the provider's point-in-time recovery (SETUP-LICENSE-SERVER.md §13, \
             More than one box)",
            crate::steps::managed_backups(env.site)
        );
    }
    Ok(())
}

fn replace_live(env: &Env, job: &Job, file: &Path) -> anyhow::Result<()> {
    println!("restore: taking a fresh backup of the live database first");
    job.fresh_backup(env)
        .context("refused: the live database was not touched")?;
    let out = job.run(env, &["replace".into(), file.display().to_string()])?;
    show(&out);
    if !out.success {
        bail!(
            "restoring {} failed ({}); the live database is untouched",
            file.display(),
            out.status
        );
    }
    Ok(())
}

/// `latest` (the last verified backup), a file name in the backups directory, or a path (a host
/// path, relocated under `--root`).
fn resolve_file(env: &Env, given: &str) -> anyhow::Result<PathBuf> {
    let path = if given == "latest" {
        let state = read_state(env, "last-good")?;
        let file = state_value(&state, "file")
            .map(PathBuf::from)
            .context("there is no verified backup yet (dtops backup takes one)")?;
        // The job records the path it wrote, already relocated.
        return Ok(file);
    } else if !given.contains('/') {
        env.host.path(&env.site.backups_dir().join(given))
    } else {
        let absolute = std::path::absolute(given)?;
        env.host.path(&absolute)
    };
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    Ok(path)
}
