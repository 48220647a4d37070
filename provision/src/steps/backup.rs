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
