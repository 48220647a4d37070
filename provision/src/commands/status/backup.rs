//! The backups row of `dtops status`: the last verified backup and its age, how many are kept,
//! the last run's failure, the off-site copy, and whether the daily job is installed as
//! site.toml renders it.

use std::path::Path;

use crate::backup_job::{read_state, state_value, Job};
use crate::env::Env;
use crate::runtime::RuntimeKind;

/// The `dtops status` line for backups.
pub fn backup_line(env: &Env, runtime: RuntimeKind) -> String {
    if env.site.external_db().is_some() {
        return crate::steps::managed_backups(env.site);
    }
    let get = state_value;
    let good = read_state(env, "last-good").unwrap_or_default();
    let run = read_state(env, "last-run").unwrap_or_default();
    let kept = std::fs::read_dir(env.host.path(&env.site.backups_dir()))
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
        env.site.backups_dir().display(),
        env.site.backup.retention_days
    ));
    if get(&run, "result").as_deref() == Some("failed") {
        parts.push(format!(
            "LAST RUN FAILED at {}: {}",
            get(&run, "at").unwrap_or_default(),
            get(&run, "message").unwrap_or_default()
        ));
    }
    match &env.site.backup.offsite {
        Some(offsite) => {
            let last = read_state(env, "last-offsite").unwrap_or_default();
            parts.push(match get(&last, "at") {
                Some(at) => format!("off-site {} (last copy {at})", offsite.target),
                None => format!("off-site {} (no copy yet)", offsite.target),
            });
        }
        None => parts.push("off-site: NONE configured (site.toml [backup] offsite)".into()),
    }
    let installed = match Job::installed(env, runtime) {
        Ok(job) => format!("daily job {}", job.path.display()),
        Err(_) => format!(
            "daily job {} missing or outdated (dtops provision)",
            env.site.backup.job
        ),
    };
    parts.push(installed);
    parts.join("; ")
}
