//! `dtops backup` and `dtops restore`: the installed backup job (templates/backup.sh.j2), run now.
//!
//! dtops runs the very file cron runs, after checking it is what site.toml renders today, so a
//! backup taken by hand and the nightly one are the same code. Under `--root` the job gets
//! DTOPS_ROOT, which relocates its paths exactly as dtops relocates its own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cli::{GlobalArgs, RestoreArgs};
use crate::engine::{AppLock, Ctx, Step};
use crate::process::{CommandLine, Output};
use crate::render::{backup_state_dir, ArtifactKind};

pub fn backup(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let deployment = super::Deployment::open(global)?;
    let ctx = deployment.ctx(false);
    let job = Job::installed(&ctx)?;
    println!(
        "backup: running {} ({})",
        job.path.display(),
        deployment.runtime.name()
    );
    let out = job.run(&ctx, &[])?;
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
    let deployment = super::Deployment::open(global)?;
    let ctx = deployment.ctx(false);
    let job = Job::installed(&ctx)?;
    // Resolved before any fresh backup, so `latest` means the backup the operator chose.
    let file = resolve_file(&ctx, &args.file)?;
    if !args.into_live {
        let mut argv = vec!["check".to_string(), file.display().to_string()];
        if args.keep {
            argv.push("--keep".into());
        }
        let out = job.run(&ctx, &argv)?;
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
            ctx.site.database.name,
            file.display()
        );
    }
    let _lock = AppLock::acquire(ctx.host, ctx.site)?;
    println!("restore: stopping the api ({})", deployment.runtime.name());
    ctx.runtime.stop_api(&ctx)?;
    let result = replace_live(&ctx, &job, &file);
    println!("restore: starting the api");
    let started = ctx
        .runtime
        .start_api(&ctx)
        .and_then(|()| crate::steps::HealthStep.plan(&ctx).map(|_| ()));
    result?;
    started.context("the database was restored but the api did not come back healthy")?;
    println!("restore: done; the api is healthy");
    Ok(ExitCode::SUCCESS)
}

fn replace_live(ctx: &Ctx, job: &Job, file: &Path) -> anyhow::Result<()> {
    println!("restore: taking a fresh backup of the live database first");
    job.fresh_backup(ctx)
        .context("refused: the live database was not touched")?;
    let out = job.run(ctx, &["replace".into(), file.display().to_string()])?;
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
fn resolve_file(ctx: &Ctx, given: &str) -> anyhow::Result<PathBuf> {
    let path = if given == "latest" {
        let state = read_state(ctx, "last-good")?;
        let file = state
            .iter()
            .find(|(k, _)| k == "file")
            .map(|(_, v)| PathBuf::from(v))
            .context("there is no verified backup yet (dtops backup takes one)")?;
        // The job records the path it wrote, already relocated.
        return Ok(file);
    } else if !given.contains('/') {
        ctx.host.path(&ctx.site.backups_dir().join(given))
    } else {
        let absolute = std::path::absolute(given)?;
        ctx.host.path(&absolute)
    };
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    Ok(path)
}

/// The backup job as installed on the host.
pub struct Job {
    /// The host path (site.toml's backup.job).
    pub path: PathBuf,
}

impl Job {
    /// The installed job, refusing one that is missing or differs from what site.toml renders.
    pub fn installed(ctx: &Ctx) -> anyhow::Result<Job> {
        let path = ctx.site.backup.job.as_path().to_path_buf();
        let want = crate::steps::rendered(ctx, ArtifactKind::BackupJob)?
            .context("this build renders no backup job")?;
        match ctx.host.read(&path)? {
            None => bail!(
                "the backup job {} is not installed; run `dtops provision`",
                path.display()
            ),
            Some(have) if have != want.content.as_bytes() => bail!(
                "the backup job {} differs from what site.toml renders; run `dtops provision` \
                 (`dtops plan` shows the difference)",
                path.display()
            ),
            Some(_) => {
                let mode = ctx.host.state(&path)?.map_or(0, |s| s.ownership.mode);
                if mode & 0o100 == 0 {
                    bail!(
                        "the backup job {} is not executable (cron would skip it); run `dtops \
                         provision`",
                        path.display()
                    );
                }
                Ok(Job { path })
            }
        }
    }

    pub fn run(&self, ctx: &Ctx, args: &[String]) -> anyhow::Result<Output> {
        let mut command = CommandLine::new([ctx.host.path(&self.path)]).args(args);
        if let Some(root) = ctx.host.sandbox() {
            command = command.env("DTOPS_ROOT", root.display().to_string());
        }
        Ok(ctx.host.probe(&command)?)
    }

    /// A new verified backup, or an error saying why there is none.
    pub fn fresh_backup(&self, ctx: &Ctx) -> anyhow::Result<PathBuf> {
        let out = self.run(ctx, &[])?;
        show(&out);
        if !out.success {
            bail!("the backup failed ({})", out.status);
        }
        Ok(PathBuf::from(out.stdout.trim()))
    }
}

fn show(out: &Output) {
    if !out.stderr.trim().is_empty() {
        eprint!("{}", out.stderr);
    }
    if !out.stdout.trim().is_empty() {
        print!("{}", out.stdout);
    }
}

/// `key=value` lines the job writes under `.dtops/backup/` (`last-good`, `last-run`,
/// `last-offsite`); empty when the file does not exist.
pub fn read_state(ctx: &Ctx, name: &str) -> anyhow::Result<Vec<(String, String)>> {
    let path = backup_state_dir(ctx.site).join(name);
    Ok(ctx
        .host
        .read(&path)?
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default())
}

/// The `dtops status` line for backups.
pub fn status_line(ctx: &Ctx) -> String {
    let get = |state: &[(String, String)], key: &str| {
        state.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let good = read_state(ctx, "last-good").unwrap_or_default();
    let run = read_state(ctx, "last-run").unwrap_or_default();
    let kept = std::fs::read_dir(ctx.host.path(&ctx.site.backups_dir()))
        .map(|dir| {
            dir.flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.starts_with("db-") && name.ends_with(".sql.gz")
                })
                .count()
        })
        .unwrap_or(0);
    let mut parts = Vec::new();
    match (get(&good, "file"), get(&good, "at")) {
        (Some(file), Some(at)) => {
            let age = chrono::DateTime::parse_from_rfc3339(&at)
                .map(|t| chrono::Utc::now().signed_duration_since(t))
                .ok();
            let stale = age.is_some_and(|a| a > chrono::Duration::hours(36));
            parts.push(format!(
                "last good {} at {at}{}",
                Path::new(&file)
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy(),
                if stale {
                    " (OLDER THAN 36 h: is the daily job running?)"
                } else {
                    ""
                }
            ));
        }
        _ => parts.push("NO verified backup yet (dtops backup)".into()),
    }
    parts.push(format!(
        "{kept} kept in {} ({} days)",
        ctx.site.backups_dir().display(),
        ctx.site.backup.retention_days
    ));
    if get(&run, "result").as_deref() == Some("failed") {
        parts.push(format!(
            "LAST RUN FAILED at {}: {}",
            get(&run, "at").unwrap_or_default(),
            get(&run, "message").unwrap_or_default()
        ));
    }
    match &ctx.site.backup.offsite {
        Some(offsite) => {
            let last = read_state(ctx, "last-offsite").unwrap_or_default();
            parts.push(match get(&last, "at") {
                Some(at) => format!("off-site {} (last copy {at})", offsite.target),
                None => format!("off-site {} (no copy yet)", offsite.target),
            });
        }
        None => parts.push("off-site: NONE configured (site.toml [backup] offsite)".into()),
    }
    let installed = match Job::installed(ctx) {
        Ok(job) => format!("daily job {}", job.path.display()),
        Err(_) => format!(
            "daily job {} missing or outdated (dtops provision)",
            ctx.site.backup.job
        ),
    };
    parts.push(installed);
    parts.join("; ")
}
