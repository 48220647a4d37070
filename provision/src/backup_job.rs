//! The installed backup job (templates/backup.sh.j2), run by dtops: `dtops backup`,
//! `dtops restore`, `rollback db` and the first-backup step all go through `Job`.
//!
//! dtops runs the very file cron runs, after checking it is what site.toml renders today, so a
//! backup taken by hand and the nightly one are the same code. Under `--root` the job gets
//! DTOPS_ROOT, which relocates its paths exactly as dtops relocates its own. The job's
//! subcommands: none (backup), `check FILE [--keep]`, `replace FILE`.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::desired;
use crate::env::Env;
use crate::process::{CommandLine, Output};
use crate::render::ArtifactKind;
use crate::runtime::RuntimeKind;

/// The backup job as installed on the host.
pub struct Job {
    /// The host path (site.toml's backup.job).
    pub path: PathBuf,
}

impl Job {
    /// The installed job, refusing one that is missing or differs from what site.toml renders
    /// for this runtime.
    pub fn installed(env: &Env, runtime: RuntimeKind) -> anyhow::Result<Job> {
        let path = env.site.backup.job.as_path().to_path_buf();
        let want = desired::rendered(env, runtime, ArtifactKind::BackupJob)?
            .context("this build renders no backup job")?;
        match env.host.read(&path)? {
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
                let mode = env.host.state(&path)?.map_or(0, |s| s.ownership.mode);
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

    pub fn run(&self, env: &Env, args: &[String]) -> anyhow::Result<Output> {
        let mut command = CommandLine::new([env.host.path(&self.path)]).args(args);
        if let Some(root) = env.host.sandbox() {
            command = command.env("DTOPS_ROOT", root.display().to_string());
        }
        Ok(env.host.probe(&command)?)
    }

    /// A new verified backup (its output shown), or an error saying why there is none.
    pub fn fresh_backup(&self, env: &Env) -> anyhow::Result<PathBuf> {
        let out = self.run(env, &[])?;
        show(&out);
        if !out.success {
            bail!("the backup failed ({})", out.status);
        }
        Ok(PathBuf::from(out.stdout.trim()))
    }
}

/// Passes the job's own output on: its messages to stderr, its result to stdout.
pub fn show(out: &Output) {
    if !out.stderr.trim().is_empty() {
        eprint!("{}", out.stderr);
    }
    if !out.stdout.trim().is_empty() {
        print!("{}", out.stdout);
    }
}

/// `key=value` lines the job writes under `.dtops/backup/` (`last-good`, `last-run`,
/// `last-offsite`); empty when the file does not exist.
pub fn read_state(env: &Env, name: &str) -> anyhow::Result<Vec<(String, String)>> {
    let path = env.site.backup_state_dir().join(name);
    Ok(env
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

/// The value of `key` in a state file's lines.
pub fn state_value(state: &[(String, String)], key: &str) -> Option<String> {
    state.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}
