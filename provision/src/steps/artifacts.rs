//! The rendered files (compose.yml, .env, ...): written atomically with owner and mode when
//! their content or ownership differs; the previous version is kept for rollback.

use std::path::{Path, PathBuf};

use datatools_license::license::SigningKeyPair;

use super::Owner;
use crate::engine::{Change, Ctx, Handler, Plan, Step};
use crate::host::Ownership;
use crate::render::{self, Artifact, ArtifactKind, RenderInputs, Renderer};

pub struct ArtifactStep {
    kind: ArtifactKind,
    path: PathBuf,
}

/// One step per file the site renders.
pub fn artifact_steps<'a>(
    ctx_site: &crate::site::Site,
    templates: Option<&Path>,
) -> anyhow::Result<Vec<Box<dyn Step + 'a>>> {
    let renderer = Renderer::new(templates)?;
    let artifacts = render::render_all(
        &renderer,
        &RenderInputs {
            site: ctx_site,
            license_pubkey: None,
            trusted_pubkeys: Vec::new(),
            nginx: None,
            runtime: crate::runtime::RuntimeKind::Compose,
        },
    )?;
    Ok(artifacts
        .into_iter()
        // The backup job is installed after the stack is up (see `backup_job_step`).
        .filter(|a| a.kind != ArtifactKind::BackupJob)
        .map(|a| {
            Box::new(ArtifactStep {
                kind: a.kind,
                path: a.path,
            }) as Box<dyn Step>
        })
        .collect())
}

/// The daily backup job, as its own step after the stack steps.
pub fn backup_job_step<'a>(site: &crate::site::Site) -> Box<dyn Step + 'a> {
    Box::new(ArtifactStep {
        kind: ArtifactKind::BackupJob,
        path: site.backup.job.as_path().to_path_buf(),
    })
}

/// The license public key, from the private key on the host (`None` before it exists).
pub fn host_license_pubkey(ctx: &Ctx) -> anyhow::Result<Option<String>> {
    let path = ctx.site.secret_file("license_privkey");
    Ok(match ctx.host.read(&path)? {
        Some(seed) => Some(
            SigningKeyPair::from_seed_hex(&String::from_utf8_lossy(&seed))
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .public_hex(),
        ),
        None => None,
    })
}

/// The artifact of `kind` as this host should have it (its facts: key, trusted keys, runtime).
pub fn rendered(ctx: &Ctx, kind: ArtifactKind) -> anyhow::Result<Option<Artifact>> {
    let renderer = Renderer::new(ctx.templates)?;
    let inputs = RenderInputs {
        site: ctx.site,
        license_pubkey: host_license_pubkey(ctx)?,
        trusted_pubkeys: crate::keyring::trusted_now(ctx.host, ctx.site)?,
        nginx: None,
        runtime: ctx.runtime.kind(),
    };
    Ok(render::render_all(&renderer, &inputs)?
        .into_iter()
        .find(|a| a.kind == kind))
}

impl ArtifactStep {
    fn render(&self, ctx: &Ctx) -> anyhow::Result<Artifact> {
        rendered(ctx, self.kind)?
            .ok_or_else(|| anyhow::anyhow!("{} is no longer rendered", self.path.display()))
    }

    fn ownership(ctx: &Ctx, artifact: &Artifact) -> anyhow::Result<Option<Ownership>> {
        let owner = match artifact.owner {
            render::Owner::Root => Owner::Root,
            render::Owner::SiteUser => Owner::SiteUser,
            render::Owner::Uid(uid) => {
                return Ok(Some(Ownership {
                    uid,
                    gid: uid,
                    mode: artifact.mode,
                }))
            }
        };
        Ok(owner.resolve(ctx)?.map(|a| Ownership {
            uid: a.uid,
            gid: a.gid,
            mode: artifact.mode,
        }))
    }
}

impl Step for ArtifactStep {
    fn name(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let artifact = self.render(ctx)?;
        let current = ctx.host.read(&artifact.path)?;
        let current_text = current.as_deref().map(String::from_utf8_lossy);
        let want = Self::ownership(ctx, &artifact)?;
        let diff = |old: &str| {
            let label = artifact.path.display().to_string();
            let text = similar::TextDiff::from_lines(old, artifact.content.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&label, &label)
                .to_string();
            Some(ctx.redactor.borrow().redact(&text))
        };
        let change = match (&current_text, want) {
            (None, _) => Some(Change::new("create it").with_diff(diff(""))),
            (Some(old), _) if old.as_ref() != artifact.content => {
                Some(Change::new("update its content").with_diff(diff(old)))
            }
            (Some(_), None) => {
                return Ok(Plan::Unknown(
                    "its owner is created by an earlier step".into(),
                ))
            }
            (Some(_), Some(want)) => {
                let have = ctx.host.state(&artifact.path)?.map(|s| s.ownership);
                (have != Some(want)).then(|| {
                    Change::new(format!(
                        "set its owner and mode to {want} (it is {})",
                        have.map_or("unknown".into(), |h| h.to_string())
                    ))
                })
            }
        };
        Ok(match change {
            Some(change) if self.kind.restarts_api() => {
                Plan::Change(change.notifying(Handler::RestartApi))
            }
            Some(change) => Plan::Change(change),
            None => Plan::Ok(format!(
                "up to date ({})",
                artifact.owner.describe(ctx.site)
            )),
        })
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let artifact = self.render(ctx)?;
        let own = Self::ownership(ctx, &artifact)?.ok_or_else(|| {
            anyhow::anyhow!("the owner of {} does not exist", artifact.path.display())
        })?;
        if let Some(previous) = ctx.host.read(&artifact.path)? {
            let name = artifact
                .path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            let keep = ctx.site.state_dir().join("previous").join(name.as_ref());
            ctx.host.create_parents(&keep)?;
            ctx.host.write_atomic(
                &keep,
                &previous,
                Ownership {
                    uid: 0,
                    gid: 0,
                    mode: 0o600,
                },
            )?;
        }
        ctx.host.create_parents(&artifact.path)?;
        ctx.host
            .write_atomic(&artifact.path, artifact.content.as_bytes(), own)?;
        Ok(format!("written ({own})"))
    }
}
