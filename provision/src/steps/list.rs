//! The one ordered list of what `dtops provision` converges (and `dtops plan` shows). The order
//! is the runbook's: the box, then the app's files, the stack, backups, and last nginx and the
//! certificate in front of an api that already answers.

use std::path::Path;

use super::archive::{DbImageStep, EscrowStep, FullBackupStep, OffsiteCaStep, StanzaStep};
use super::artifacts::ArtifactStep;
use super::backup::{FirstBackupStep, ManagedBackups};
use super::certificate::{CertPreflightStep, CertificateStep, TlsOptions};
use super::directories::DirectoryStep;
use super::docker_logs::DaemonJsonStep;
use super::health::{HealthCheck, SmokeTest};
use super::migrate::MigrateStep;
use super::nginx::{HttpsProbe, NginxCheck, NginxSiteStep, ReloadNginxStep};
use super::packages::PackagesStep;
use super::preflight::Preflight;
use super::retired::RetiredFileStep;
use super::secrets::{SecretKind, SecretStep};
use super::stack::{ApiStep, ComposeCheck, DatabaseStep, ImageStep};
use super::user::UserStep;
use crate::engine::Task;
use crate::owner::Owner;
use crate::render::ArtifactKind;
use crate::site::{ArchiveOffsite, Site, CIPHER_PASS, S3_KEY_ID, S3_SECRET};

/// Everything `dtops provision` does, in order. `tls`: how the certificate steps ask the CA.
pub fn provision_steps(
    site: &Site,
    templates: Option<&Path>,
    tls: TlsOptions,
) -> anyhow::Result<Vec<Task>> {
    let dir = |path: &Path, owner, mode| Task::step(DirectoryStep::new(path.into(), owner, mode));
    // The jobs are installed after the stack is up; the other files before it starts.
    let (jobs, files): (Vec<_>, Vec<_>) = ArtifactStep::for_each_file(site, templates)?
        .into_iter()
        .partition(|file| {
            matches!(
                file.kind(),
                ArtifactKind::BackupJob | ArtifactKind::GumroadSyncJob
            )
        });
    let (backup_job, gumroad_job): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .partition(|file| file.kind() == ArtifactKind::BackupJob);

    let external = site.external_db().is_some();
    let mut tasks = vec![
        Task::check(Preflight),
        Task::step(PackagesStep),
        Task::step(UserStep),
        // SETUP-LICENSE-SERVER.md §4: root, app, secrets 0750 for the site user. backups/ is
        // root's alone (0700): the backup job (root) writes there, and nobody else may plant a
        // file or a symlink in it. dtops' own state 0700 root.
        dir(site.root(), Owner::SiteUser, 0o750),
        dir(&site.app_dir(), Owner::SiteUser, 0o750),
        dir(&site.secrets_dir(), Owner::SiteUser, 0o750),
        dir(&site.backups_dir(), Owner::Root, 0o700),
        dir(&site.state_dir(), Owner::Root, 0o700),
        Task::step(SecretStep::new(
            "pg_password",
            if external {
                // The provider's password: dtops cannot make one up.
                SecretKind::Given {
                    how: "sudo install -m 0400 -o 10001 -g 10001 /dev/stdin THAT_FILE",
                }
            } else {
                SecretKind::RandomHex
            },
        )),
    ];
    if site.email.texts {
        // Email texts replacing the built-in ones: root writes them, the api reads them
        // through a read-only mount as the container's uid (which must own the directory).
        tasks.push(dir(&site.email_texts_dir(), Owner::Container, 0o750));
    }
    tasks.extend([
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
    if let Some(archive) = &site.archive {
        // Continuous archiving (site/archive.rs): its files' directory, the off-site
        // repository's passphrase (generated) and S3 key (given).
        tasks.push(dir(&site.archive_dir(), Owner::Root, 0o755));
        tasks.push(Task::step(SecretStep::new(
            CIPHER_PASS,
            SecretKind::RandomHex,
        )));
        if matches!(archive.offsite, ArchiveOffsite::S3 { .. }) {
            for name in [S3_KEY_ID, S3_SECRET] {
                tasks.push(Task::step(SecretStep::new(
                    name,
                    SecretKind::Given {
                        how: "dtops archive credentials --stdin",
                    },
                )));
            }
        }
    }
    tasks.extend(files.into_iter().map(Task::step));
    tasks.extend([
        Task::check(ComposeCheck),
        Task::step(OffsiteCaStep),
        Task::step(DbImageStep),
        Task::step(ImageStep),
        Task::step(DatabaseStep),
        // Expand/contract: a migration works with the version serving now, so it runs first.
        Task::step(MigrateStep),
        Task::step(ApiStep),
        Task::check(HealthCheck),
        Task::check(SmokeTest),
        // Continuous archiving once the database answers: the stanza, a first full backup.
        Task::step(StanzaStep),
        Task::step(FullBackupStep),
    ]);
    // Backups and Docker's log caps (ADMIN.md "Backups"), once the database answers. A managed
    // database's backups and point-in-time recovery are its provider's.
    if external {
        tasks.push(Task::step(ManagedBackups));
    } else {
        tasks.extend(backup_job.into_iter().map(Task::step));
        tasks.push(Task::step(FirstBackupStep));
    }
    // The daily Gumroad sync needs the API token: installed with it, removed without it.
    if site.server.gumroad_api_token {
        tasks.extend(gumroad_job.into_iter().map(Task::step));
    } else {
        tasks.push(Task::step(RetiredFileStep {
            path: site.server.gumroad_sync_job.as_path().to_path_buf(),
            why: "[server] gumroad_api_token is off",
        }));
    }
    // The secrets off the box, encrypted to the operator's recovery key: a managed database or
    // not, the signing key lives only here.
    tasks.push(Task::step(EscrowStep));
    tasks.push(Task::step(DaemonJsonStep));
    // nginx and the certificate (SETUP-LICENSE-SERVER.md §5–6), once the api answers behind
    // them.
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
