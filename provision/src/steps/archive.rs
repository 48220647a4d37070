//! Continuous archiving's steps (`[archive]`, compose runtime): the off-site CA where compose
//! mounts it, the Postgres image with pgBackRest, the stanza in both repositories (checked by
//! archiving a WAL segment), a first full backup in each, and the key escrow's copy.

use crate::engine::{Change, Ctx, Plan, Step};
use crate::escrow;
use crate::host::Ownership;
use crate::render::{ArtifactKind, OFFSITE_CA_FILE};
use crate::runtime::{self, RepoInfo, RuntimeKind};
use crate::site::ArchiveOffsite;

/// Why a step has nothing to do: no `[archive]`, or a runtime without it.
fn skipped(ctx: &Ctx) -> Option<Plan> {
    if ctx.env.site.archive.is_none() {
        return Some(Plan::Ok(
            "continuous archiving is off (no [archive])".into(),
        ));
    }
    if ctx.runtime.kind() != RuntimeKind::Compose {
        return Some(Plan::Ok(
            "continuous archiving runs with the compose runtime only".into(),
        ));
    }
    None
}

const PUBLIC_FILE: Ownership = Ownership {
    uid: 0,
    gid: 0,
    mode: 0o644,
};

/// `[archive] offsite.ca_file`, copied next to pgbackrest.conf for compose to mount.
pub struct OffsiteCaStep;

impl OffsiteCaStep {
    fn wanted(ctx: &Ctx) -> anyhow::Result<Option<(std::path::PathBuf, Vec<u8>)>> {
        let Some(ArchiveOffsite::S3 {
            ca_file: Some(ca), ..
        }) = ctx.env.site.archive.as_ref().map(|a| &a.offsite)
        else {
            return Ok(None);
        };
        let content = ctx.env.host.read(ca.as_path())?.ok_or_else(|| {
            anyhow::anyhow!(
                "[archive] offsite.ca_file {ca} does not exist; put the CA bundle there"
            )
        })?;
        Ok(Some((
            ctx.env.site.archive_dir().join(OFFSITE_CA_FILE),
            content,
        )))
    }
}

impl Step for OffsiteCaStep {
    fn name(&self) -> String {
        "off-site CA".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let Some((path, content)) = Self::wanted(ctx)? else {
            return Ok(Plan::Ok("the system's CAs".into()));
        };
        if ctx.env.host.read(&path)?.as_deref() == Some(content.as_slice()) {
            return Ok(Plan::Ok(format!("{} is current", path.display())));
        }
        // pgBackRest reads it on its next run (the directory is mounted): no restart.
        Ok(Plan::Change(Change::new(format!(
            "copy the off-site CA bundle to {}",
            path.display()
        ))))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let Some((path, content)) = Self::wanted(ctx)? else {
            return Ok("nothing to copy".into());
        };
        ctx.env.host.write_atomic(&path, &content, PUBLIC_FILE)?;
        Ok(format!("copied to {}", path.display()))
    }
}

/// The image compose.yml's postgres service runs: `[database] image` with pgBackRest.
pub struct DbImageStep;

impl DbImageStep {
    fn image(ctx: &Ctx) -> anyhow::Result<String> {
        let rendered = |kind| {
            crate::desired::rendered(&ctx.env, RuntimeKind::Compose, kind)?
                .map(|a| a.content)
                .ok_or_else(|| anyhow::anyhow!("{kind:?} is not rendered"))
        };
        Ok(crate::render::db_image(
            ctx.env.site,
            &rendered(ArtifactKind::PostgresImage)?,
            &rendered(ArtifactKind::PostgresEntrypoint)?,
        ))
    }
}

impl Step for DbImageStep {
    fn name(&self) -> String {
        "postgres image".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if let Some(plan) = skipped(ctx) {
            return Ok(plan);
        }
        let image = Self::image(ctx)?;
        if runtime::image_exists(&ctx.env, &image)? {
            return Ok(Plan::Ok(format!("{image} (with pgBackRest) is built")));
        }
        Ok(Plan::Change(Change::new(format!(
            "build {image}: {} with pgBackRest",
            ctx.env.site.database.image
        ))))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        runtime::build_db_image(&ctx.env)?;
        Ok(format!("built {}", Self::image(ctx)?))
    }
}

/// pgBackRest's repositories as `info` reports them; `None` when the database is not up (a
/// dry run before the stack starts).
fn repos(ctx: &Ctx) -> anyhow::Result<Option<Vec<RepoInfo>>> {
    if !ctx.runtime.running(&ctx.env)?.db {
        return Ok(None);
    }
    runtime::info(&ctx.env, runtime::Via::Exec).map(Some)
}

/// The stanza in both repositories, then `pgbackrest check`: a WAL segment archived.
pub struct StanzaStep;

impl Step for StanzaStep {
    fn name(&self) -> String {
        "archive stanza".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if let Some(plan) = skipped(ctx) {
            return Ok(plan);
        }
        let stanza = &runtime::archive(&ctx.env)?.stanza;
        let Some(repos) = repos(ctx)? else {
            return Ok(Plan::Unknown("the database is not running yet".into()));
        };
        let missing: Vec<String> = repos
            .iter()
            .filter(|r| !r.has_stanza())
            .map(|r| format!("repo{} ({})", r.key, r.message))
            .collect();
        if repos.len() >= 2 && missing.is_empty() {
            return Ok(Plan::Ok(format!("stanza {stanza} in both repositories")));
        }
        Ok(Plan::Change(Change::new(format!(
            "create stanza {stanza} (missing: {}) and check that WAL is archived",
            if missing.is_empty() {
                "a repository".to_string()
            } else {
                missing.join(", ")
            }
        ))))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        runtime::run_pgbackrest(&ctx.env, &["stanza-create"])?;
        runtime::run_pgbackrest(&ctx.env, &["check"])?;
        Ok("created in both repositories; a WAL segment reached both".into())
    }
}

/// A full backup in each repository that has none (WAL alone cannot be restored).
pub struct FullBackupStep;

impl Step for FullBackupStep {
    fn name(&self) -> String {
        "archive full backup".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if let Some(plan) = skipped(ctx) {
            return Ok(plan);
        }
        let Some(repos) = repos(ctx)? else {
            return Ok(Plan::Unknown("the database is not running yet".into()));
        };
        let without: Vec<String> = repos
            .iter()
            .filter(|r| r.full_backups == 0)
            .map(|r| format!("repo{}", r.key))
            .collect();
        if without.is_empty() {
            let counts: Vec<String> = repos
                .iter()
                .map(|r| format!("repo{} {}", r.key, r.full_backups))
                .collect();
            return Ok(Plan::Ok(format!("full backups: {}", counts.join(", "))));
        }
        Ok(Plan::Change(Change::new(format!(
            "take a first full backup into {}",
            without.join(" and ")
        ))))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let repos = runtime::info(&ctx.env, runtime::Via::Exec)?;
        let mut done = Vec::new();
        for repo in repos.iter().filter(|r| r.full_backups == 0) {
            let target = format!("--repo={}", repo.key);
            runtime::run_pgbackrest(&ctx.env, &[&target, "--type=full", "backup"])?;
            done.push(format!("repo{}", repo.key));
        }
        Ok(format!("full backup taken into {}", done.join(" and ")))
    }
}

/// The key escrow's copy off-site, when anything in it changed since the last one.
pub struct EscrowStep;

impl Step for EscrowStep {
    fn name(&self) -> String {
        "key escrow".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if ctx.env.site.archive.is_none() {
            return Ok(Plan::Ok(
                "no [archive]: no off-site copy of the secrets".into(),
            ));
        }
        let status = escrow::escrow_status(&ctx.env);
        if let Some(missing) = status.missing {
            return Ok(Plan::Ok(format!("NOT escrowed: {missing}")));
        }
        if status.current {
            return Ok(Plan::Ok(format!(
                "the off-site copy is current (copied {})",
                status.last_at.unwrap_or_default()
            )));
        }
        Ok(Plan::Change(Change::new(
            "encrypt the secrets and site.toml to the escrow recipient and copy them off-site",
        )))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        Ok(escrow::push_if_changed(&ctx.env, false)?.unwrap_or_else(|| "already current".into()))
    }
}
