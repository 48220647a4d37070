//! `dtops rollback db|files|user|all`: the rollbacks that can lose data, and so refuse unless
//! the data is safe. Each prints what it removes before removing it, does nothing the second
//! time, and touches only paths site.toml names.

use std::path::PathBuf;

use anyhow::{bail, Context};

use super::app::app;
use super::web;
use crate::backup_job::Job;
use crate::cli::RollbackArgs;
use crate::engine::Ctx;
use crate::env::Env;
use crate::host::FileKind;
use crate::runtime::Runtime;

/// Deletes the database volume, only with --yes and after a fresh backup verified by restoring it.
pub fn db(env: &Env, runtime: &dyn Runtime, args: &RollbackArgs) -> anyhow::Result<()> {
    if env.site.external_db().is_some() {
        println!(
            "db: the database is the managed one at {}: dtops never deletes it (its provider's \
             console does); nothing to do",
            env.site.database_place()
        );
        return Ok(());
    }
    if !runtime.volume_exists(env)? {
        println!("db: no database volume; nothing to do");
        return Ok(());
    }
    let what = runtime.volume_description(env);
    if !args.yes {
        bail!(
            "refused: `rollback db` deletes {what}; it first takes a fresh backup and checks it \
             restores. Add --yes to go ahead"
        );
    }
    let job = Job::installed(env, runtime.kind()).context(
        "refused: no backup is possible, so the database is kept (`dtops provision` installs \
         the backup job)",
    )?;
    if !runtime.running(env)?.db {
        bail!(
            "refused: the database is not running, so no fresh backup is possible and the \
             database is kept; start it with `dtops provision`, then run this again"
        );
    }
    println!("db: taking a fresh backup before deleting anything");
    let backup = job.fresh_backup(env).context(
        "refused: the fresh backup failed, so the database is kept; fix the backup first",
    )?;
    println!(
        "db: deleting {what}, and stopping the api and postgres ({}); the verified backup {} \
         holds every row (`dtops provision`, then `dtops restore --into-live --yes {}` brings \
         them back)",
        runtime.name(),
        backup.display(),
        backup.file_name().unwrap_or_default().to_string_lossy(),
    );
    runtime.down(env, true)?;
    println!("db: deleted");
    Ok(())
}

/// Deletes the app's files under paths.root (and the backup and status jobs), keeping backups/ and
/// secrets/ (with the key list beside them) unless told.
pub fn files(env: &Env, runtime: &dyn Runtime, args: &RollbackArgs) -> anyhow::Result<()> {
    let (site, host) = (env.site, env.host);
    let running = runtime.running(env)?;
    if running.api() || running.db {
        bail!(
            "refused: the stack is running and uses these files; `dtops rollback app` first \
             (the database volume is kept)"
        );
    }
    if args.delete_secrets && runtime.volume_exists(env)? {
        bail!(
            "refused: --delete-secrets while the database volume exists; Postgres keeps the \
             password it started with, so a new secrets/pg_password would lock the api out. \
             `dtops rollback db --yes` first, or keep the secrets"
        );
    }
    let mut keep: Vec<PathBuf> = Vec::new();
    if !args.delete_backups {
        keep.push(site.backups_dir());
        keep.push(site.backup_state_dir());
    }
    if !args.delete_secrets {
        keep.push(site.secrets_dir());
        keep.push(crate::keyring::keys_dir(site));
    }
    let mut remove = Vec::new();
    for job in [
        site.backup.job.as_path(),
        site.alerts.status_job.as_path(),
        site.server.gumroad_sync_job.as_path(),
    ] {
        if host.state(job)?.is_some() {
            remove.push(job.to_path_buf());
        }
    }
    collect(env, site.root(), &keep, &mut remove)?;
    if remove.is_empty() {
        println!("files: nothing to remove under {}", site.root().display());
    } else {
        println!("files: removing");
        for path in &remove {
            println!("  {}", path.display());
        }
        for path in &remove {
            remove_path(env, path)?;
        }
    }
    let kept: Vec<String> = keep
        .iter()
        .filter(|p| host.state(p).ok().flatten().is_some())
        .map(|p| p.display().to_string())
        .collect();
    if kept.is_empty() {
        if host.state(site.root())?.is_some() {
            remove_path(env, site.root())?;
            println!("files: removed {}", site.root().display());
        }
    } else {
        println!(
            "files: kept {} (--delete-backups / --delete-secrets remove them)",
            kept.join(", ")
        );
    }
    Ok(())
}

/// What under `dir` goes: everything except the kept paths and the directories leading to them.
fn collect(
    env: &Env,
    dir: &std::path::Path,
    keep: &[PathBuf],
    out: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let real = env.host.path(dir);
    let entries = match std::fs::read_dir(&real) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        let path = dir.join(name);
        if keep.iter().any(|k| k == &path) {
            continue;
        }
        let is_dir = env.host.state(&path)?.map(|s| s.kind) == Some(FileKind::Dir);
        if is_dir && keep.iter().any(|k| k.starts_with(&path)) {
            collect(env, &path, keep, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn remove_path(env: &Env, path: &std::path::Path) -> anyhow::Result<()> {
    let real = env.host.path(path);
    match env.host.state(path)?.map(|s| s.kind) {
        None => Ok(()),
        Some(FileKind::Dir) => std::fs::remove_dir_all(&real)
            .with_context(|| format!("cannot remove {}", path.display())),
        Some(_) => Ok(env.host.remove_file(path)?),
    }
}

/// Deletes the system user and its group; files it owned keep its (now unnamed) uid.
pub fn user(env: &Env) -> anyhow::Result<()> {
    let name = env.site.host.user.as_str();
    let exists = env.host.account(name)?.is_some();
    if !exists && !env.host.group_exists(name)? {
        println!("user: {name} does not exist; nothing to do");
        return Ok(());
    }
    println!("user: deleting system user {name} and its group");
    if env.host.state(env.site.root())?.is_some() {
        println!(
            "user: {} stays, owned by the old uid (`dtops provision` gives it back)",
            env.site.root().display()
        );
    }
    env.host.remove_system_user(name)?;
    println!("user: deleted");
    Ok(())
}

/// Every component, traffic first and data last: our nginx site goes (the certificate too with
/// --delete-cert), the api stops (taking the database with it when --yes allows, after a fresh
/// verified backup), then files, then the user.
pub fn all(ctx: &Ctx, args: &RollbackArgs) -> anyhow::Result<()> {
    let (env, runtime) = (&ctx.env, ctx.runtime);
    web::nginx(ctx)?;
    if args.delete_cert {
        web::tls(ctx, true)?;
    }
    if args.yes {
        if runtime.volume_exists(env)? && !runtime.running(env)?.db {
            println!("all: starting the database for its fresh backup");
            runtime.start_db(env)?;
        }
        db(env, runtime, args)?;
    } else {
        println!("all: keeping the database volume (add --yes to delete it after a backup)");
    }
    app(env, runtime)?;
    files(env, runtime, args)?;
    user(env)?;
    Ok(())
}
