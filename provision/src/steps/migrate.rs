//! Migrations: `datatools-license migrate` as a one-off, only when some are pending.

use crate::engine::{Change, Ctx, Plan, Step};
use crate::schema;

/// `datatools-license migrate` as a one-off, only when migrations are pending.
pub struct MigrateStep;

impl MigrateStep {
    fn pending(ctx: &Ctx) -> anyhow::Result<Vec<String>> {
        let applied = schema::applied_versions(&ctx.env)?;
        Ok(datatools_license::db::MIGRATOR
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect())
    }
}

impl Step for MigrateStep {
    fn name(&self) -> String {
        "migrations".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let pending = match Self::pending(ctx) {
            Ok(pending) => pending,
            Err(_) if ctx.dry_run() => {
                return Ok(Plan::Unknown(
                    "the database is started by an earlier step".into(),
                ))
            }
            Err(e) => return Err(e),
        };
        if pending.is_empty() {
            Ok(Plan::Ok(format!(
                "all {} applied",
                datatools_license::db::MIGRATOR.iter().count()
            )))
        } else {
            Ok(Plan::Change(Change::new(format!(
                "apply {} migration(s): {}",
                pending.len(),
                pending.join(", ")
            ))))
        }
    }

    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String> {
        // Under the app lock this run holds: no other dtops run migrates at the same time.
        ctx.runtime.migrate(&ctx.env)?;
        let left = Self::pending(ctx)?;
        if !left.is_empty() {
            anyhow::bail!("migrate finished but {} are still pending", left.join(", "));
        }
        Ok(change.summary.replacen("apply", "applied", 1))
    }
}
