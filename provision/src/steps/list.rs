//! The one ordered list of what `dtops provision` converges (and `dtops plan` shows). The order
//! is the runbook's: the box, then the app's files, the stack, backups, and last nginx and the
//! certificate in front of an api that already answers.

use std::path::Path;

use super::artifacts::ArtifactStep;
use super::backup::FirstBackupStep;
use super::certificate::{CertPreflightStep, CertificateStep, TlsOptions};
use super::directories::DirectoryStep;
use super::docker_logs::DaemonJsonStep;
use super::health::{HealthCheck, SmokeTest};
use super::migrate::MigrateStep;
use super::nginx::{HttpsProbe, NginxCheck, NginxSiteStep, ReloadNginxStep};
use super::packages::PackagesStep;
use super::preflight::Preflight;
use super::secrets::{SecretKind, SecretStep};
use super::stack::{ComposeCheck, ImageStep, RestartApiStep, UpStep};
use super::user::UserStep;
use crate::engine::Task;
use crate::owner::Owner;
use crate::render::ArtifactKind;
use crate::site::Site;

/// Everything `dtops provision` does, in order. `tls`: how the certificate steps ask the CA.
pub fn provision_steps(
    site: &Site,
    templates: Option<&Path>,
    tls: TlsOptions,
) -> anyhow::Result<Vec<Task>> {
    let dir = |path: &Path, owner, mode| Task::step(DirectoryStep::new(path.into(), owner, mode));
    // The backup job is installed after the stack is up; the other files before it starts.
    let (backup_job, files): (Vec<_>, Vec<_>) = ArtifactStep::for_each_file(site, templates)?
        .into_iter()
        .partition(|file| file.kind() == ArtifactKind::BackupJob);

    let mut tasks = vec![
        Task::check(Preflight),
        Task::step(PackagesStep),
        Task::step(UserStep),
        // Runbook §2: root, app, secrets 0750 for the site user. backups/ is root's alone
        // (0700): the backup job (root) writes there, and nobody else may plant a file or a
        // symlink in it. dtops' own state 0700 root.
        dir(site.root(), Owner::SiteUser, 0o750),
        dir(&site.app_dir(), Owner::SiteUser, 0o750),
        dir(&site.secrets_dir(), Owner::SiteUser, 0o750),
        dir(&site.backups_dir(), Owner::Root, 0o700),
        dir(&site.state_dir(), Owner::Root, 0o700),
    ];
    if site.email.texts {
        // Email texts replacing the built-in ones: root writes them, the api reads them
        // through a read-only mount as the container's uid (which must own the directory).
        tasks.push(dir(&site.email_texts_dir(), Owner::Container, 0o750));
    }
    tasks.extend([
        Task::step(SecretStep::new("pg_password", SecretKind::RandomHex)),
        Task::step(SecretStep::new("admin_token", SecretKind::RandomHex)),
        Task::step(SecretStep::new("license_privkey", SecretKind::SigningKey)),
    ]);
    if site.server.gumroad_api_token {
        tasks.push(Task::step(SecretStep::new(
            "gumroad_api_token",
            SecretKind::Given {
                how: "dtops gumroad token --stdin",
            },
        )));
    }
    tasks.extend(files.into_iter().map(Task::step));
    tasks.extend([
        Task::check(ComposeCheck),
        Task::step(ImageStep),
        Task::step(UpStep),
        Task::step(RestartApiStep),
        Task::check(HealthCheck),
        Task::step(MigrateStep),
        Task::check(SmokeTest),
    ]);
    // Backups and Docker's log caps (runbook §9), once the database answers.
    tasks.extend(backup_job.into_iter().map(Task::step));
    tasks.push(Task::step(FirstBackupStep));
    tasks.push(Task::step(DaemonJsonStep));
    // nginx and the certificate (runbook §5-6), once the api answers behind them.
    if site.nginx.managed {
        tasks.extend([
            Task::check(NginxCheck),
            dir(site.nginx.webroot.as_path(), Owner::Root, 0o755),
            dir(&site.nginx_site_root(), Owner::Root, 0o755),
            Task::step(NginxSiteStep {
                after_certificate: false,
            }),
            Task::step(ReloadNginxStep),
            Task::step(CertPreflightStep { tls }),
            Task::step(CertificateStep { tls }),
            Task::step(NginxSiteStep {
                after_certificate: true,
            }),
            Task::step(ReloadNginxStep),
            Task::check(HttpsProbe),
        ]);
    }
    Ok(tasks)
}
