//! One module per subcommand; `run` dispatches.

pub(crate) mod backup_job;
mod cutover;
mod dev;
mod docker_logs;
mod events;
mod keys;
mod keys_rotate;
mod licenses;
mod mint;
mod provision;
mod render;
mod rollback;
mod rollback_data;
mod rollback_web;
mod status;
mod status_web;
mod verify;

use std::process::ExitCode;

use crate::cli::{Cli, Command, KeysCommand};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Mint(args) => block_on(mint::run(args)),
        Command::Licenses(args) => block_on(licenses::list(args)),
        Command::Revoke(args) => block_on(licenses::revoke(args)),
        Command::Events(args) => block_on(events::list(args)),
        Command::Event(args) => block_on(events::show(args)),
        Command::Replay(args) => block_on(events::replay(args)),
        Command::Resend(args) => block_on(events::resend(args)),
        Command::Cutover(args) => cutover::run(&cli.global, &args),
        Command::Keys(KeysCommand::Generate { out }) => keys::generate(&out),
        Command::Keys(KeysCommand::Rotate(args)) => keys_rotate::run(&cli.global, &args),
        Command::Verify(args) => verify::run(args),
        Command::Dev(args) => block_on(dev::run(args)),
        Command::Render {
            out,
            nginx_version,
            nginx_phase,
        } => render::run(&cli.global, &out, nginx_version.as_deref(), nginx_phase),
        Command::Provision {
            dry_run,
            staging,
            skip_dns_check,
        } => provision::run(
            &cli.global,
            dry_run,
            crate::certbot::TlsOptions {
                staging,
                skip_dns_check,
            },
        ),
        Command::Plan => provision::run(&cli.global, true, Default::default()),
        Command::Status => status::run(&cli.global),
        Command::Rollback(args) => rollback::run(&cli.global, &args),
        Command::Backup => backup_job::backup(&cli.global),
        Command::Restore(args) => backup_job::restore(&cli.global, &args),
        Command::DockerLogs { restart_docker } => docker_logs::run(&cli.global, restart_docker),
    }
}

fn block_on<F: std::future::Future<Output = anyhow::Result<ExitCode>>>(
    future: F,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(future)
}

/// What every host-facing command works on: the site, the host (a sandbox under `--root`) and
/// the container runtime.
pub(crate) struct Deployment {
    pub site: crate::site::Site,
    pub host: crate::host::Host,
    pub runtime: Box<dyn crate::runtime::Runtime>,
    templates: Option<std::path::PathBuf>,
}

impl Deployment {
    pub fn open(global: &crate::cli::GlobalArgs) -> anyhow::Result<Self> {
        Ok(Deployment {
            site: crate::site::Site::load(&global.site)?,
            host: crate::host::Host::new(global.root.clone()),
            runtime: crate::runtime::build(global.runtime, global.native_bin.as_deref())?,
            templates: global.templates.clone(),
        })
    }

    /// The engine context; `dry_run` steps only observe.
    pub fn ctx(&self, dry_run: bool) -> crate::engine::Ctx<'_> {
        crate::engine::Ctx::new(
            &self.site,
            &self.host,
            self.runtime.as_ref(),
            self.templates.as_deref(),
            dry_run,
        )
    }
}
