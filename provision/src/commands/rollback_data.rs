//! `dtops rollback db|files|user|all`: the rollbacks that can lose data, and so refuse unless
//! the data is safe. Each prints what it removes before removing it, does nothing the second
//! time, and touches only paths site.toml names.

use std::path::PathBuf;

use anyhow::{bail, Context};

use super::backup_job::Job;
use crate::cli::RollbackArgs;
use crate::engine::Ctx;
use crate::host::FileKind;

/// Deletes the database volume, only with --yes and after a fresh backup verified by restoring it.
pub fn db(ctx: &Ctx, args: &RollbackArgs) -> anyhow::Result<()> {
    let runtime = ctx.runtime;
    if !runtime.volume_exists(ctx)? {
        println!("db: no database volume; nothing to do");
        return Ok(());
    }
    let what = runtime.volume_description(ctx);
    if !args.yes {
        bail!(
            "refused: `rollback db` deletes {what}; it first takes a fresh backup and checks it \
             restores. Add --yes to go ahead"
        );
    }
    let job = Job::installed(ctx).context(
        "refused: no backup is possible, so the database is kept (`dtops provision` installs \
         the backup job)",
    )?;
    if !runtime.running(ctx)?.db {
        bail!(
            "refused: the database is not running, so no fresh backup is possible and the \
             database is kept; start it with `dtops provision`, then run this again"
        );
    }
    println!("db: taking a fresh backup before deleting anything");
    let backup = job.fresh_backup(ctx).context(
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
    runtime.down(ctx, true)?;
    println!("db: deleted");
    Ok(())
}

/// Deletes the app's files under paths.root (and the backup job), keeping backups/ and
/// secrets/ (with the key list beside them) unless told.
pub fn files(ctx: &Ctx, args: &RollbackArgs) -> anyhow::Result<()> {
    let site = ctx.site;
    let host = ctx.host;
    let running = ctx.runtime.running(ctx)?;
    if running.api || running.db {
        bail!(
            "refused: the stack is running and uses these files; `dtops rollback app` first \
             (the database volume is kept)"
        );
    }
    if args.delete_secrets && ctx.runtime.volume_exists(ctx)? {
        bail!(
            "refused: --delete-secrets while the database volume exists; Postgres keeps the \
             password it started with, so a new secrets/pg_password would lock the api out. \
             `dtops rollback db --yes` first, or keep the secrets"
        );
    }
    let mut keep: Vec<PathBuf> = Vec::new();
    if !args.delete_backups {
        keep.push(site.backups_dir());
        keep.push(crate::render::backup_state_dir(site));
    }
    if !args.delete_secrets {
        keep.push(site.secrets_dir());
        keep.push(crate::keyring::keys_dir(site));
    }
    let mut remove = Vec::new();
    if host.state(site.backup.job.as_path())?.is_some() {
        remove.push(site.backup.job.as_path().to_path_buf());
    }
    collect(ctx, site.root(), &keep, &mut remove)?;
    if remove.is_empty() {
        println!("files: nothing to remove under {}", site.root().display());
    } else {
        println!("files: removing");
        for path in &remove {
            println!("  {}", path.display());
        }
        for path in &remove {
            remove_path(ctx, path)?;
        }
    }
    let kept: Vec<String> = keep
        .iter()
        .filter(|p| host.state(p).ok().flatten().is_some())
        .map(|p| p.display().to_string())
        .collect();
    if kept.is_empty() {
        if host.state(site.root())?.is_some() {
            remove_path(ctx, site.root())?;
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
    ctx: &Ctx,
    dir: &std::path::Path,
    keep: &[PathBuf],
    out: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let real = ctx.host.path(dir);
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
        let is_dir = ctx.host.state(&path)?.map(|s| s.kind) == Some(FileKind::Dir);
        if is_dir && keep.iter().any(|k| k.starts_with(&path)) {
            collect(ctx, &path, keep, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn remove_path(ctx: &Ctx, path: &std::path::Path) -> anyhow::Result<()> {
    let real = ctx.host.path(path);
    match ctx.host.state(path)?.map(|s| s.kind) {
        None => Ok(()),
        Some(FileKind::Dir) => std::fs::remove_dir_all(&real)
            .with_context(|| format!("cannot remove {}", path.display())),
        Some(_) => Ok(ctx.host.remove_file(path)?),
    }
}

/// Deletes the system user and its group; files it owned keep its (now unnamed) uid.
pub fn user(ctx: &Ctx) -> anyhow::Result<()> {
    let name = ctx.site.host.user.as_str();
    let exists = ctx.host.account(name)?.is_some();
    if !exists && !ctx.host.group_exists(name)? {
        println!("user: {name} does not exist; nothing to do");
        return Ok(());
    }
    println!("user: deleting system user {name} and its group");
    if ctx.host.state(ctx.site.root())?.is_some() {
        println!(
            "user: {} stays, owned by the old uid (`dtops provision` gives it back)",
            ctx.site.root().display()
        );
    }
    ctx.host.remove_system_user(name)?;
    println!("user: deleted");
    Ok(())
}

/// Every component, traffic first and data last: our nginx site goes (the certificate too with
/// --delete-cert), the api stops (taking the database with it when --yes allows, after a fresh
/// verified backup), then files, then the user.
pub fn all(ctx: &Ctx, args: &RollbackArgs) -> anyhow::Result<()> {
    super::rollback_web::nginx(ctx)?;
    if args.delete_cert {
        super::rollback_web::tls(ctx, true)?;
    }
    if args.yes {
        if ctx.runtime.volume_exists(ctx)? && !ctx.runtime.running(ctx)?.db {
            println!("all: starting the database for its fresh backup");
            ctx.runtime.up(ctx)?;
        }
        db(ctx, args)?;
    } else {
        println!("all: keeping the database volume (add --yes to delete it after a backup)");
    }
    super::rollback::app(ctx)?;
    files(ctx, args)?;
    user(ctx)?;
    Ok(())
}
