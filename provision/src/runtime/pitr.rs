//! Point-in-time restore (`dtops restore --at TIME`): the cluster as it was at TIME, rebuilt from
//! the archive (the box's repository, else the off-site one) into a scratch volume by a one-off
//! container, started there with
//! archiving off (a restored copy must never archive into the live stanza), dumped, and
//! removed. The dump then goes the way of any backup file: a scratch database, or the safe swap.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::archive::archive;
use super::compose_op::compose_command;
use crate::env::Env;
use crate::host::Ownership;
use crate::process::CommandLine;

const SCRATCH_CONTAINER: &str = "datatools-pitr";
const REPLAY_WAIT: Duration = Duration::from_secs(300);

/// "2026-12-07 14:03" (UTC), with seconds, or RFC 3339 with an offset.
pub fn parse_target(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(at.and_utc());
        }
    }
    bail!("--at {text:?} is not a time: use \"YYYY-MM-DD HH:MM[:SS]\" (UTC) or RFC 3339 with an offset")
}

/// Which point of the archive to rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PitrTarget {
    /// The database as it was at this moment (from whichever repository has a backup before).
    At(DateTime<Utc>),
    /// The newest point the off-site repository alone reaches (`dtops recover --check`).
    NewestOffsite,
}

/// The dump of a rebuilt database, and the last transaction the replay reached.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub file: PathBuf,
    pub recovered_to: Option<DateTime<Utc>>,
}

/// A gzipped dump of the database as it was at `target`, written into `work` (root's own
/// directory).
pub fn dump_at(env: &Env, target: PitrTarget, work: &Path) -> anyhow::Result<Rebuilt> {
    let archive = archive(env)?;
    if let PitrTarget::At(at) = target {
        if at > Utc::now() {
            bail!(
                "--at {} is in the future",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
    }
    let scratch = format!("{}_pitr", env.site.database.volume);
    let cleanup = || {
        let _ = env.host.probe(&CommandLine::new([
            "docker",
            "rm",
            "--force",
            SCRATCH_CONTAINER,
        ]));
        let _ = env
            .host
            .probe(&CommandLine::new(["docker", "volume", "rm", "--force"]).arg(&scratch));
    };
    cleanup();
    let result = (|| {
        let volume = format!("{scratch}:/var/lib/postgresql/data");
        let (what, name) = match target {
            // No --repo: pgBackRest takes the first repository (the box's, then off-site)
            // holding a backup from before the target.
            PitrTarget::At(at) => (
                vec![
                    "--type=time".to_string(),
                    format!("--target={}", at.format("%Y-%m-%d %H:%M:%S+00")),
                    "--target-action=promote".into(),
                ],
                format!("pitr-{}.sql.gz", at.format("%Y%m%dT%H%M%SZ")),
            ),
            // The default type: everything the repository holds.
            PitrTarget::NewestOffsite => (
                vec!["--repo=2".to_string()],
                format!("offsite-{}.sql.gz", Utc::now().format("%Y%m%dT%H%M%SZ")),
            ),
        };
        env.host
            .run(
                &compose_command(env)
                    .args(["run", "--rm", "--no-deps", "-T", "--volume"])
                    .arg(&volume)
                    .args(["postgres", "pgbackrest"])
                    .arg(format!("--stanza={}", archive.stanza))
                    .args(&what)
                    .arg("restore"),
            )
            .context("pgBackRest could not restore that point from the archive")?;
        env.host.run(
            &compose_command(env)
                .args([
                    "run",
                    "--detach",
                    "--no-deps",
                    "--name",
                    SCRATCH_CONTAINER,
                    "--volume",
                ])
                .arg(&volume)
                .args([
                    "postgres",
                    "postgres",
                    "-c",
                    "archive_mode=off",
                    "-c",
                    "listen_addresses=",
                ]),
        )?;
        wait_promoted(env, target)?;
        let log = scratch_log(env, 200);
        let recovered_to = super::replay_log::last_transaction(&log);
        let file = work.join(name);
        let _ = std::fs::remove_file(env.host.path(&file));
        let dump = format!(
            "docker exec {SCRATCH_CONTAINER} pg_dump -U \"$1\" --no-owner --no-privileges -d \"$2\" | gzip -c >\"$3\""
        );
        env.host
            .run(
                &CommandLine::new(["bash", "-o", "pipefail", "-c", &dump, "pitr-dump"])
                    .arg(env.site.database.user.as_str())
                    .arg(env.site.database.name.as_str())
                    .arg(env.host.path(&file)),
            )
            .context("cannot dump the restored database")?;
        Ok(Rebuilt {
            file: env.host.path(&file),
            recovered_to,
        })
    })();
    cleanup();
    result
}

/// The scratch container's last `lines` log lines.
fn scratch_log(env: &Env, lines: u32) -> String {
    env.host
        .probe(
            &CommandLine::new(["docker", "logs", "--tail"])
                .arg(lines.to_string())
                .arg(SCRATCH_CONTAINER),
        )
        .map(|o| format!("{}{}", o.stdout, o.stderr))
        .unwrap_or_default()
}

fn wait_promoted(env: &Env, target: PitrTarget) -> anyhow::Result<()> {
    let site = env.site;
    let query = CommandLine::new([
        "docker",
        "exec",
        SCRATCH_CONTAINER,
        "psql",
        "-X",
        "-tA",
        "-U",
    ])
    .arg(site.database.user.as_str())
    .arg("-d")
    .arg(site.database.name.as_str())
    .args(["-c", "select pg_is_in_recovery()"]);
    let state = CommandLine::new([
        "docker",
        "inspect",
        "--format",
        "{{.State.Status}}",
        SCRATCH_CONTAINER,
    ]);
    let outcome = crate::poll::until(REPLAY_WAIT, Duration::from_millis(500), || {
        let running = env
            .host
            .probe(&state)
            .map(|o| o.stdout.trim() == "running")
            .unwrap_or(false);
        if !running {
            return Ok(Err(()));
        }
        match env.host.probe(&query) {
            Ok(out) if out.success && out.stdout.trim() == "f" => Ok(Ok(())),
            Ok(out) => Err(format!("{}{}", out.stdout, out.stderr).trim().to_string()),
            Err(e) => Err(e.to_string()),
        }
    });
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(())) => {
            let logs = scratch_log(env, 15);
            if let (true, PitrTarget::At(at)) = (
                logs.contains("recovery ended before configured recovery target was reached"),
                target,
            ) {
                bail!(
                    "the archive ends before {}: nothing archived reaches that far \
                     (a time before the newest archived transaction works)",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                );
            }
            bail!(
                "the restored cluster stopped during its replay; its log:\n{}",
                logs.trim()
            )
        }
        Err(last) => bail!(
            "the restored cluster did not finish its replay within {} s (last: {last})",
            REPLAY_WAIT.as_secs()
        ),
    }
}

/// Root's own directory for the dumps (`.dtops/pitr`).
pub fn work_dir(env: &Env) -> anyhow::Result<PathBuf> {
    let dir = env.site.state_dir().join("pitr");
    if env.host.state(&dir)?.is_none() {
        env.host.create_dir(
            &dir,
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o700,
            },
        )?;
    }
    Ok(dir)
}
