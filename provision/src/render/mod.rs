//! site.toml (plus what only the host knows, such as the license public key) -> the files dtops
//! manages, each with its host path, mode and owner. Nothing here touches the host: the engine
//! writes the artifacts (atomically, with their owner and mode), `dtops render` writes them
//! under a directory for inspection.
//!
//! One minijinja environment (`templates`), strict about undefined values, with the templates
//! embedded in the binary and a `--templates DIR` override; every template sees the same
//! context (`context`); YAML templates must quote every value (`yaml`).

mod backup;
mod context;
mod nginx;
mod shell;
mod templates;
mod yaml;

use std::path::PathBuf;

use crate::runtime::RuntimeKind;
use crate::site::Site;

pub use backup::backup_state_dir;
pub use nginx::NginxFacts;
pub use templates::Renderer;

/// What the templates are rendered from.
pub struct RenderInputs<'a> {
    pub site: &'a Site,
    /// The license public key as hex, derived from secrets/license_privkey. `None` (rendering
    /// for inspection, or before the key exists) leaves the variable empty in `.env`, which
    /// compose refuses to start with.
    pub license_pubkey: Option<String>,
    /// Public keys still trusted after a key rotation, until their window ends (`dtops keys
    /// rotate`); they go into `.env` as DATATOOLS_TRUSTED_PUBKEYS.
    pub trusted_pubkeys: Vec<String>,
    /// Which runtime the stack uses (the backup job reaches Postgres through it).
    pub runtime: RuntimeKind,
    /// nginx's version and our site's phase on this host. `None` (the default, and for
    /// `dtops render` unless asked) renders no nginx files.
    pub nginx: Option<NginxFacts>,
}

/// One rendered file and how it must land on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The real host path (e.g. `site.compose_file()`); `--root` relocates it when written.
    pub path: PathBuf,
    pub content: String,
    /// Permission bits, e.g. `0o640`.
    pub mode: u32,
    pub owner: Owner,
    pub kind: ArtifactKind,
}

/// Who owns an artifact on the host; the group is the owner's own group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    dead_code,
    reason = "root-owned (nginx, backup job) artifacts are still to come"
)]
pub enum Owner {
    Root,
    /// `host.user` from site.toml.
    SiteUser,
    /// A numeric id that need not exist on the host (the api container's user).
    Uid(u32),
}

impl Owner {
    /// `user:group` as `chown` would take it.
    pub fn describe(&self, site: &Site) -> String {
        match self {
            Owner::Root => "root:root".to_string(),
            Owner::SiteUser => format!("{0}:{0}", site.host.user),
            Owner::Uid(uid) => format!("{uid}:{uid}"),
        }
    }
}

/// What an artifact is, which says what must happen when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// `compose.yml`: validate with `compose config`, then `compose up`.
    Compose,
    /// `.env` next to compose.yml: compose interpolates it, so a change also means `compose up`.
    ComposeEnv,
    /// The daily backup job (runbook §9), also run by `dtops backup`.
    BackupJob,
    /// Our nginx site before the certificate exists: HTTP only (runbook §5 bring-up).
    NginxPhase1,
    /// Our nginx site with the certificate: HTTPS (runbook §5).
    NginxPhase2,
    /// The http-context include with our rate-limit zone.
    NginxHttp,
}

impl ArtifactKind {
    /// The template it is rendered from.
    pub fn template(self) -> &'static str {
        match self {
            ArtifactKind::Compose => "compose.yml.j2",
            ArtifactKind::ComposeEnv => "env.j2",
            ArtifactKind::BackupJob => "backup.sh.j2",
            ArtifactKind::NginxPhase1 => "nginx-phase1.conf.j2",
            ArtifactKind::NginxPhase2 => "nginx-phase2.conf.j2",
            ArtifactKind::NginxHttp => "nginx-http.conf.j2",
        }
    }

    /// Whether the api must restart to see a change of this file.
    pub fn restarts_api(self) -> bool {
        matches!(self, ArtifactKind::Compose | ArtifactKind::ComposeEnv)
    }
}

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
    let context = context::Context::new(inputs)?;
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
        // Runbook §3: both 0640 datatools-api; neither holds a secret (secrets are files).
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
        // Runs as root from cron.daily; holds no secret (it reads secrets/pg_password at run time).
        Artifact {
            content: renderer.render(
                ArtifactKind::BackupJob.template(),
                &backup::BackupContext::new(inputs),
            )?,
            path: site.backup.job.as_path().to_path_buf(),
            mode: 0o755,
            owner: Owner::Root,
            kind: ArtifactKind::BackupJob,
        },
    ];
    if let Some(facts) = &inputs.nginx {
        artifacts.extend(nginx::artifacts(renderer, site, facts)?);
    }
    Ok(artifacts)
}
