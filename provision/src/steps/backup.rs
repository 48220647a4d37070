//! The first backup, after the stack is up and the daily job is installed: taken when none has
//! been verified yet, so a fresh box proves at once that its backups restore.

use crate::backup_job::{read_state, state_value, Job};
use crate::engine::{Change, Ctx, Plan, Step};

/// Runs the installed job when no verified backup has been recorded yet.
pub struct FirstBackupStep;

impl Step for FirstBackupStep {
    fn name(&self) -> String {
        "first backup".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let good = read_state(&ctx.env, "last-good")?;
        if let Some(at) = state_value(&good, "at") {
            return Ok(Plan::Ok(format!("a verified backup exists (last at {at})")));
        }
        if ctx.dry_run() && Job::installed(&ctx.env, ctx.runtime.kind()).is_err() {
            return Ok(Plan::Unknown(
                "the backup job is installed by an earlier step".into(),
            ));
        }
        Ok(Plan::Change(Change::new(
            "take the first backup and check it restores",
        )))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let job = Job::installed(&ctx.env, ctx.runtime.kind())?;
        let out = job.run(&ctx.env, &[])?;
        if !out.success {
            anyhow::bail!(
                "the backup job failed ({}):\n{}",
                out.status,
                out.stderr.trim()
            );
        }
        Ok(format!("verified {}", out.stdout.trim()))
    }
}

/// With a managed database (`[database] url`): its provider keeps the backups and point-in-time
/// recovery; dtops installs no backup job (and removes one left from the postgres container's
/// days, which would fail every night).
pub struct ManagedBackups;

impl Step for ManagedBackups {
    fn name(&self) -> String {
        "backups".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let job = ctx.env.site.backup.job.as_path();
        if ctx.env.host.state(job)?.is_some() {
            return Ok(Plan::Change(Change::new(format!(
                "remove the backup job {} (it dumps the postgres container, which a managed \
                 database replaces)",
                job.display()
            ))));
        }
        Ok(Plan::Ok(managed_backups(ctx.env.site)))
    }

    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String> {
        ctx.env
            .host
            .remove_file(ctx.env.site.backup.job.as_path())?;
        Ok(format!(
            "{}; {}",
            change.summary.replacen("remove", "removed", 1),
            managed_backups(ctx.env.site)
        ))
    }
}

/// The sentence every backup path says for a managed database.
pub fn managed_backups(site: &crate::site::Site) -> String {
    format!(
        "the database is a managed Postgres at {}: its provider keeps the backups and \
         point-in-time recovery (check their retention in the provider's console); dtops takes \
         no dumps of it",
        site.database_place()
    )
}
