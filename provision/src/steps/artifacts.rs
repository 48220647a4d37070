//! The rendered files (compose.yml, .env, the backup job): written atomically with owner and
//! mode when their content or ownership differs; the previous version is kept for rollback.

use std::path::{Path, PathBuf};

use crate::desired;
use crate::engine::{Change, Ctx, Handler, Plan, Step};
use crate::host::Ownership;
use crate::render::{self, Artifact, ArtifactKind, RenderInputs, Renderer};
use crate::runtime::RuntimeKind;
use crate::site::Site;

pub struct ArtifactStep {
    kind: ArtifactKind,
    path: PathBuf,
}

impl ArtifactStep {
    pub fn kind(&self) -> ArtifactKind {
        self.kind
    }

    /// One step per file the site renders (which files does not depend on the host's facts).
    pub fn for_each_file(site: &Site, templates: Option<&Path>) -> anyhow::Result<Vec<Self>> {
        let renderer = Renderer::new(templates)?;
        let artifacts = render::render_all(
            &renderer,
            &RenderInputs {
                site,
                license_pubkey: None,
                trusted_pubkeys: Vec::new(),
                api_image: None,
                nginx: None,
                runtime: RuntimeKind::Compose,
                dtops: None,
            },
        )?;
        Ok(artifacts
            .into_iter()
            .map(|a| ArtifactStep {
                kind: a.kind,
                path: a.path,
            })
            .collect())
    }

    fn render(&self, ctx: &Ctx) -> anyhow::Result<Artifact> {
        desired::rendered(&ctx.env, ctx.runtime.kind(), self.kind)?
            .ok_or_else(|| anyhow::anyhow!("{} is no longer rendered", self.path.display()))
    }

    fn ownership(ctx: &Ctx, artifact: &Artifact) -> anyhow::Result<Option<Ownership>> {
        Ok(artifact.owner.resolve(&ctx.env)?.map(|a| Ownership {
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
        let host = ctx.env.host;
        let artifact = self.render(ctx)?;
        let current = host.read(&artifact.path)?;
        let current_text = current.as_deref().map(String::from_utf8_lossy);
        let want = Self::ownership(ctx, &artifact)?;
        let diff = |old: &str| {
            let label = artifact.path.display().to_string();
            let text = similar::TextDiff::from_lines(old, artifact.content.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&label, &label)
                .to_string();
            Some(ctx.redact(&text))
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
                let have = host.state(&artifact.path)?.map(|s| s.ownership);
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
                artifact.owner.chown_spec(ctx.env.site)
            )),
        })
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let host = ctx.env.host;
        let artifact = self.render(ctx)?;
        let own = Self::ownership(ctx, &artifact)?.ok_or_else(|| {
            anyhow::anyhow!("the owner of {} does not exist", artifact.path.display())
        })?;
        if let Some(previous) = host.read(&artifact.path)? {
            let name = artifact
                .path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            let keep = ctx
                .env
                .site
                .state_dir()
                .join("previous")
                .join(name.as_ref());
            host.create_parents(&keep)?;
            host.write_atomic(
                &keep,
                &previous,
                Ownership {
                    uid: 0,
                    gid: 0,
                    mode: 0o600,
                },
            )?;
        }
        host.create_parents(&artifact.path)?;
        host.write_atomic(&artifact.path, artifact.content.as_bytes(), own)?;
        Ok(format!("written ({own})"))
    }
}
