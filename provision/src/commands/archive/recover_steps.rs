//! The steps `dtops recover` adds to provision's list: the escrowed files written before the
//! secret steps look for them, the database restored from off-site into an empty volume before
//! the stack starts, and a wait until Postgres has replayed the archive and promoted.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;

use super::recovery_point::ArchivedUpTo;
use crate::engine::{Change, Check, Ctx, Plan, Step, Verdict};
use crate::escrow::{Bundle, SITE_TOML};
use crate::host::Ownership;
use crate::owner::Owner;
use crate::runtime::{self, compose_command, Via};

/// Markers under `.dtops/recover/`: the restore started (an interrupted one is redone into a
/// new volume) and finished.
pub fn marker(ctx_root: &crate::site::Site, name: &str) -> PathBuf {
    ctx_root.state_dir().join("recover").join(name)
}

const ROOT_DIR: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o700,
};
const ROOT_FILE: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o600,
};

/// Writes the escrowed secrets and key history where the box keeps them.
pub struct EscrowFilesStep(pub Arc<Bundle>);

impl EscrowFilesStep {
    fn files(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.0
            .files
            .iter()
            .filter(|(name, _)| name.as_str() != SITE_TOML)
    }
}

impl Step for EscrowFilesStep {
    fn name(&self) -> String {
        "escrowed files".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let root = ctx.env.site.root();
        let mut missing = Vec::new();
        for (name, bytes) in self.files() {
            let path = root.join(name);
            match ctx.env.host.read(&path)? {
                None => missing.push(name.clone()),
                Some(have) if have == *bytes => {}
                Some(_) => bail!(
                    "{} differs from the escrowed copy; dtops never replaces a secret. Move it \
                     away if this box's copy is not the one to keep, then run recover again",
                    path.display()
                ),
            }
        }
        if missing.is_empty() {
            return Ok(Plan::Ok(format!(
                "{} escrowed file(s) in place",
                self.files().count()
            )));
        }
        Ok(Plan::Change(Change::new(format!(
            "write {} escrowed file(s): {}",
            missing.len(),
            missing.join(", ")
        ))))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let (site, host) = (ctx.env.site, ctx.env.host);
        let mut written = 0;
        for (name, bytes) in self.files() {
            let path = site.root().join(name);
            if host.state(&path)?.is_some() {
                continue;
            }
            let own = if path.starts_with(site.secrets_dir()) {
                Owner::Container.ownership(&ctx.env, 0o400)?
            } else {
                if let Some(dir) = path.parent() {
                    if host.state(dir)?.is_none() {
                        host.create_dir(dir, ROOT_DIR)?;
                    }
                }
                ROOT_FILE
            };
            host.create_new_file(&path, bytes, own)?;
            written += 1;
        }
        Ok(format!("wrote {written} file(s); values not shown"))
    }
}

/// The database from the off-site repository, into an empty data volume.
pub struct ArchiveRestoreStep;

impl Step for ArchiveRestoreStep {
    fn name(&self) -> String {
        "database from off-site".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let site = ctx.env.site;
        if ctx.env.host.state(&marker(site, "restored"))?.is_some() {
            return Ok(Plan::Ok("restored by an earlier run".into()));
        }
        let archive = runtime::archive(&ctx.env)?;
        Ok(Plan::Change(Change::new(format!(
            "restore stanza {} from {} (the newest archived point) into the volume {}",
            archive.stanza,
            archive.offsite_name(),
            site.database.volume
        ))))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let (site, host) = (ctx.env.site, ctx.env.host);
        let dir = site.state_dir().join("recover");
        if host.state(&dir)?.is_none() {
            host.create_dir(&dir, ROOT_DIR)?;
        }
        // A restore that started before and did not finish left a partial volume: start over.
        if host.state(&marker(site, "restoring"))?.is_some()
            && ctx.runtime.volume_exists(&ctx.env)?
        {
            ctx.runtime.down(&ctx.env, true)?;
        }
        host.write_atomic(&marker(site, "restoring"), b"", ROOT_FILE)?;
        // What the off-site archive holds, before anything archives into it again: the replay
        // must reach its newest segment, or the archive has a gap (recovery_point.rs).
        let newest = offsite_newest(ctx)?;
        runtime::restore_into_volume(&ctx.env, 2, &[])?;
        host.write_atomic(
            &marker(site, "restored"),
            newest.to_record().as_bytes(),
            ROOT_FILE,
        )?;
        host.remove_file(&marker(site, "restoring"))?;
        Ok(format!(
            "restored into {} (Postgres replays the archived WAL when it starts)",
            site.database.volume
        ))
    }
}

/// The off-site repository's newest WAL segment, read by a one-off container.
fn offsite_newest(ctx: &Ctx) -> anyhow::Result<ArchivedUpTo> {
    let repos = runtime::info(&ctx.env, Via::OneOff)?;
    let Some(repo) = repos.iter().find(|r| r.key == 2) else {
        bail!("pgBackRest lists no off-site repository (repo2) in this configuration");
    };
    if !repo.has_stanza() {
        bail!(
            "the off-site repository has no stanza {} ({}): nothing to recover from there",
            runtime::archive(&ctx.env)?.stanza,
            repo.message
        );
    }
    Ok(match runtime::newest_wal(&ctx.env, Via::OneOff, repo)? {
        Some(newest) => ArchivedUpTo {
            segment: Some(newest.segment),
            at: newest.at,
        },
        None => ArchivedUpTo::default(),
    })
}

/// Waits until Postgres has replayed the archive and accepts writes.
pub struct PromotedCheck;

pub const PROMOTE_WAIT: Duration = Duration::from_secs(300);

impl Check for PromotedCheck {
    fn name(&self) -> String {
        "recovery replayed".into()
    }

    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict> {
        let site = ctx.env.site;
        let query = compose_command(&ctx.env)
            .args(["exec", "-T", "postgres", "psql", "-X", "-tA", "-U"])
            .arg(site.database.user.as_str())
            .arg("-d")
            .arg(site.database.name.as_str())
            .args(["-c", "select pg_is_in_recovery()"]);
        let outcome = crate::poll::until(PROMOTE_WAIT, Duration::from_millis(500), || {
            match ctx.env.host.probe(&query) {
                Ok(out) if out.success && out.stdout.trim() == "f" => Ok(()),
                Ok(out) => Err(format!("{}{}", out.stdout, out.stderr).trim().to_string()),
                Err(e) => Err(e.to_string()),
            }
        });
        match outcome {
            Ok(()) => Ok(Verdict::Ok(
                "Postgres replayed the archive and promoted".into(),
            )),
            Err(last) => bail!(
                "Postgres did not finish recovery within {} s (last: {last}); `sudo dtops logs \
                 postgres` says why",
                PROMOTE_WAIT.as_secs()
            ),
        }
    }
}
