//! Rendering the site's files: every artifact at the site's stage, or only the nginx files.

use std::path::PathBuf;

use super::archive;
use super::artifact::{Artifact, ArtifactKind, RenderInputs};
use super::backup::BackupContext;
use super::context::Context;
use super::gumroad_sync_job::GumroadSyncJobContext;
use super::nginx;
use super::nginx_facts::NginxFacts;
use super::status_job::StatusJobContext;
use super::templates::Renderer;
use crate::owner::Owner;
use crate::site::Site;

/// Renders only the nginx files (they need nothing but the site and the nginx facts).
pub fn render_nginx(
    renderer: &Renderer,
    site: &Site,
    facts: &NginxFacts,
) -> anyhow::Result<Vec<Artifact>> {
    nginx::artifacts(renderer, site, facts)
}

/// Renders every artifact of the site at its stage.
pub fn render_all(renderer: &Renderer, inputs: &RenderInputs) -> anyhow::Result<Vec<Artifact>> {
    let site = inputs.site;
    let (archive_files, compose_archive) = archive::artifacts(renderer, inputs)?;
    let context = Context::new(inputs)?.with_archive(compose_archive);
    let artifact = |kind: ArtifactKind, path: PathBuf, mode: u32, owner: Owner| {
        Ok::<_, anyhow::Error>(Artifact {
            content: renderer.render(kind.template(), &context)?,
            path,
            mode,
            owner,
            kind,
        })
    };
    let mut artifacts = vec![
        // Both 0640 datatools-api; neither holds a secret (secrets are files).
        artifact(
            ArtifactKind::Compose,
            site.compose_file(),
            0o640,
            Owner::SiteUser,
        )?,
        artifact(
            ArtifactKind::ComposeEnv,
            site.env_file(),
            0o640,
            Owner::SiteUser,
        )?,
        // cron.d: root's, 0644 (cron ignores a file others can write); holds no secret.
        Artifact {
            content: renderer.render(
                ArtifactKind::StatusJob.template(),
                &StatusJobContext::new(inputs)?,
            )?,
            path: site.alerts.status_job.as_path().to_path_buf(),
            mode: 0o644,
            owner: Owner::Root,
            kind: ArtifactKind::StatusJob,
        },
    ];
    // cron.d, like the status job; only while the sync has its token (the step list removes
    // it when the token is switched off).
    if site.server.gumroad_api_token {
        artifacts.push(Artifact {
            content: renderer.render(
                ArtifactKind::GumroadSyncJob.template(),
                &GumroadSyncJobContext::new(inputs)?,
            )?,
            path: site.server.gumroad_sync_job.as_path().to_path_buf(),
            mode: 0o644,
            owner: Owner::Root,
            kind: ArtifactKind::GumroadSyncJob,
        });
    }
    // Runs as root from cron.daily; holds no secret (it reads secrets/pg_password at run time).
    // A managed database's backups are its provider's: no job.
    if site.external_db().is_none() {
        artifacts.push(Artifact {
            content: renderer.render(
                ArtifactKind::BackupJob.template(),
                &BackupContext::new(inputs),
            )?,
            path: site.backup.job.as_path().to_path_buf(),
            mode: 0o755,
            owner: Owner::Root,
            kind: ArtifactKind::BackupJob,
        });
    }
    artifacts.extend(archive_files);
    if let Some(facts) = &inputs.nginx {
        artifacts.extend(nginx::artifacts(renderer, site, facts)?);
    }
    Ok(artifacts)
}
