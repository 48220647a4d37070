//! The steps `dtops provision` converges, in order. Each is one idea: observe, then act on a
//! difference only.

mod artifacts;
mod backup;
mod certificate;
mod directories;
pub mod docker_logs;
pub use directories::DirectoryStep;
mod nginx;
pub use nginx::site_entries;
mod packages;
mod preflight;
mod secrets;
mod stack;
mod user;

use crate::engine::{Ctx, Step};
use crate::host::{Account, Ownership};

pub use artifacts::{host_license_pubkey, rendered};
pub use packages::PackagesStep;
pub use preflight::PreflightStep;
pub use secrets::{SecretKind, SecretStep};
pub use stack::{
    ComposeCheckStep, HealthStep, ImageStep, MigrateStep, RestartApiStep, SmokeStep, UpStep,
};
pub use user::UserStep;

/// Who should own a path; resolved when the step runs (the user may be created by an earlier step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Root,
    SiteUser,
    /// The api container's uid (and same-numbered group), for compose file secrets.
    Container,
}

impl Owner {
    pub fn describe(self, ctx: &Ctx) -> String {
        match self {
            Owner::Root => "root".into(),
            Owner::SiteUser => ctx.site.host.user.to_string(),
            Owner::Container => format!("uid {}", ctx.site.host.container_uid),
        }
    }

    /// The numeric owner, or `None` when the site user does not exist yet.
    pub fn resolve(self, ctx: &Ctx) -> anyhow::Result<Option<Account>> {
        Ok(match self {
            Owner::Root => Some(Account { uid: 0, gid: 0 }),
            Owner::Container => Some(Account {
                uid: ctx.site.host.container_uid,
                gid: ctx.site.host.container_uid,
            }),
            Owner::SiteUser => ctx.host.account(ctx.site.host.user.as_str())?,
        })
    }

    pub fn ownership(self, ctx: &Ctx, mode: u32) -> anyhow::Result<Ownership> {
        let account = self.resolve(ctx)?.ok_or_else(|| {
            anyhow::anyhow!(
                "user {} does not exist (the user step creates it)",
                ctx.site.host.user
            )
        })?;
        Ok(Ownership {
            uid: account.uid,
            gid: account.gid,
            mode,
        })
    }
}

/// Everything `dtops provision` does for PR 1, in order (nginx/TLS plug in after the stack).
pub fn provision_steps<'a>(
    site: &crate::site::Site,
    templates: Option<&std::path::Path>,
) -> anyhow::Result<Vec<Box<dyn Step + 'a>>> {
    let mut steps: Vec<Box<dyn Step>> = vec![
        Box::new(PreflightStep),
        Box::new(PackagesStep),
        Box::new(UserStep),
    ];
    steps.extend(directories::app_directories(site));
    steps.push(Box::new(SecretStep::new(
        "pg_password",
        SecretKind::RandomHex,
    )));
    steps.push(Box::new(SecretStep::new(
        "admin_token",
        SecretKind::RandomHex,
    )));
    steps.push(Box::new(SecretStep::new(
        "license_privkey",
        SecretKind::SigningKey,
    )));
    steps.extend(artifacts::artifact_steps(site, templates)?);
    steps.push(Box::new(ComposeCheckStep));
    steps.push(Box::new(ImageStep));
    steps.push(Box::new(UpStep));
    steps.push(Box::new(RestartApiStep));
    steps.push(Box::new(HealthStep));
    steps.push(Box::new(MigrateStep));
    steps.push(Box::new(SmokeStep));
    // Backups and Docker's log caps (runbook §9), once the database answers.
    steps.push(artifacts::backup_job_step(site));
    steps.push(Box::new(backup::FirstBackupStep));
    steps.push(Box::new(docker_logs::DaemonJsonStep));
    // nginx and the certificate (runbook §5-6), once the api answers behind them.
    if site.nginx.managed {
        steps.extend(nginx::nginx_steps(site));
    }
    Ok(steps)
}
