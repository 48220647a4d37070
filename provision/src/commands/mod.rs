//! One module per subcommand (a folder when it takes several files); `run` dispatches.

mod alerts;
mod api_text;
mod archive;
mod backup;
mod change_address;
mod console;
mod csv_export;
mod cutover;
mod deployment;
mod dev;
mod docker_logs;
mod email_preview;
mod events;
mod gumroad;
mod keys;
mod license;
mod licenses;
mod mint;
mod portal;
mod provision;
mod render;
mod revoke;
mod rollback;
mod status;
mod upgrade;
mod verify;

use std::process::ExitCode;

use crate::cli::{
    ArchiveCommand, Cli, Command, EmailCommand, EscrowCommand, GumroadCommand, KeysCommand,
};
use crate::steps::TlsOptions;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Mint(args) => block_on(mint::run(&cli.global, args)),
        Command::Licenses(args) => block_on(licenses::list(&cli.global, args)),
        Command::License(args) => block_on(license::show(&cli.global, args)),
        Command::Revoke(args) => block_on(revoke::revoke(&cli.global, args)),
        Command::Reinstate(args) => block_on(revoke::reinstate(&cli.global, args)),
        Command::ChangeAddress(args) => block_on(change_address::run(&cli.global, args)),
        Command::Email(EmailCommand::Preview(args)) => {
            block_on(email_preview::preview(&cli.global, args))
        }
        Command::Logs(args) => console::logs(&cli.global, &args),
        Command::Psql(args) => console::psql(&cli.global, &args),
        Command::Events(args) => block_on(events::list(&cli.global, args)),
        Command::Event(args) => block_on(events::show(&cli.global, args)),
        Command::Replay(args) => block_on(events::replay(&cli.global, args)),
        Command::Resend(args) => block_on(events::resend(&cli.global, args)),
        Command::Alerts(args) => block_on(alerts::run(&cli.global, args)),
        Command::Cutover(args) => cutover::run(&cli.global, &args),
        Command::Keys(KeysCommand::Generate { out }) => keys::generate(&out),
        Command::Keys(KeysCommand::Rotate(args)) => keys::rotate(&cli.global, &args),
        Command::Keys(KeysCommand::Reissue(args)) => keys::reissue(&cli.global, &args),
        Command::Keys(KeysCommand::Show(args)) => block_on(keys::show(&cli.global, args)),
        Command::Gumroad(GumroadCommand::Sync(args)) => block_on(gumroad::sync(&cli.global, args)),
        Command::Gumroad(GumroadCommand::Token(args)) => gumroad::token(&cli.global, &args),
        Command::Verify(args) => verify::run(&cli.global, args),
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
            TlsOptions {
                staging,
                skip_dns_check,
            },
        ),
        Command::Plan => provision::run(&cli.global, true, Default::default()),
        Command::Status { quiet, admin } => status::run(&cli.global, &admin, quiet),
        Command::Upgrade(args) => upgrade::run(&cli.global, &args),
        Command::Rollback(args) => rollback::run(&cli.global, &args),
        Command::Backup => backup::backup(&cli.global),
        Command::Restore(args) => backup::restore(&cli.global, &args),
        Command::Archive(ArchiveCommand::Credentials(input)) => {
            archive::credentials(&cli.global, &input)
        }
        Command::Archive(ArchiveCommand::Backup { quiet }) => archive::backup(&cli.global, quiet),
        Command::Escrow(EscrowCommand::Init { rekey, kit_out }) => {
            archive::escrow_init(&cli.global, rekey, kit_out.as_deref())
        }
        Command::Escrow(EscrowCommand::Push { force }) => archive::escrow_push(&cli.global, force),
        Command::Recover(args) => archive::recover(&cli.global, &args),
        Command::DockerLogs { restart_docker } => docker_logs::run(&cli.global, restart_docker),
    }
}

fn block_on<F: std::future::Future<Output = anyhow::Result<ExitCode>>>(
    future: F,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(future)
}
