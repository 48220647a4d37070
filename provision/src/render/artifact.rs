//! What rendering takes (`RenderInputs`) and gives (`Artifact`): each file with its host path,
//! mode, owner and kind.

use std::path::PathBuf;

use super::nginx_facts::NginxFacts;
use crate::owner::Owner;
use crate::runtime::RuntimeKind;
use crate::site::Site;

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
    /// The api image compose runs: the one dtops recorded as deployed (`deployed.rs`). `None`
    /// (a fresh box, `dtops render` without --root) is site.toml's `[api] image`.
    pub api_image: Option<String>,
    /// Which runtime the stack uses (the backup job reaches Postgres through it).
    pub runtime: RuntimeKind,
    /// nginx's version and our site's phase on this host. `None` (the default, and for
    /// `dtops render` unless asked) renders no nginx files.
    pub nginx: Option<NginxFacts>,
    /// The dtops the hourly status job runs: the one running now, for a host's files; `None`
    /// (the file list only) renders SETUP's /usr/local/bin/dtops.
    pub dtops: Option<PathBuf>,
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

/// What an artifact is, which says what must happen when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// `compose.yml`: validate with `compose config`, then `compose up`.
    Compose,
    /// `.env` next to compose.yml: compose interpolates it, so a change also means `compose up`.
    ComposeEnv,
    /// The daily backup job (ADMIN.md "Backups"), also run by `dtops backup`.
    BackupJob,
    /// The hourly `dtops status --quiet` (cron.d): the host's facts reach the api's alerts.
    StatusJob,
    /// The daily `dtops gumroad sync` (cron.d), while `[server] gumroad_api_token` is on.
    GumroadSyncJob,
    /// Our nginx site before the certificate exists: HTTP only (SETUP-LICENSE-SERVER.md §5–6,
    /// phase 1).
    NginxPhase1,
    /// Our nginx site with the certificate: HTTPS (SETUP-LICENSE-SERVER.md §5–6, phase 2).
    NginxPhase2,
    /// The http-context include with our rate-limit zone.
    NginxHttp,
    /// `[archive]`: the Postgres image with pgBackRest (its Dockerfile).
    PostgresImage,
    /// `[archive]`: the image's entrypoint (pgBackRest's secrets, then Postgres').
    PostgresEntrypoint,
    /// `[archive]`: pgbackrest.conf (both repositories; no secret).
    Pgbackrest,
    /// `[archive]`: the daily full backups and the escrow copy (cron.d).
    ArchiveJob,
}

impl ArtifactKind {
    /// The template it is rendered from.
    pub fn template(self) -> &'static str {
        match self {
            ArtifactKind::Compose => "compose.yml.j2",
            ArtifactKind::ComposeEnv => "env.j2",
            ArtifactKind::BackupJob => "backup.sh.j2",
            ArtifactKind::StatusJob => "status-cron.sh.j2",
            ArtifactKind::GumroadSyncJob => "gumroad-sync-cron.sh.j2",
            ArtifactKind::NginxPhase1 => "nginx-phase1.conf.j2",
            ArtifactKind::NginxPhase2 => "nginx-phase2.conf.j2",
            ArtifactKind::NginxHttp => "nginx-http.conf.j2",
            ArtifactKind::PostgresImage => "postgres.Dockerfile.j2",
            ArtifactKind::PostgresEntrypoint => "postgres-entrypoint.sh.j2",
            ArtifactKind::Pgbackrest => "pgbackrest.conf.j2",
            ArtifactKind::ArchiveJob => "archive-cron.j2",
        }
    }

    /// Whether the api must restart to see a change of this file.
    pub fn restarts_api(self) -> bool {
        matches!(self, ArtifactKind::Compose | ArtifactKind::ComposeEnv)
    }
}
