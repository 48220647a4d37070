//! One module per subcommand; `run` dispatches.

mod dev;
mod keys;
mod licenses;
mod mint;
mod render;
mod verify;

use std::process::ExitCode;

use crate::cli::{Cli, Command, KeysCommand};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Mint(args) => block_on(mint::run(args)),
        Command::Licenses(args) => block_on(licenses::list(args)),
        Command::Revoke(args) => block_on(licenses::revoke(args)),
        Command::Keys(KeysCommand::Generate { out }) => keys::generate(&out),
        Command::Verify(args) => verify::run(args),
        Command::Dev(args) => block_on(dev::run(args)),
        Command::Render { out } => render::run(&cli.global, &out),
    }
}

fn block_on<F: std::future::Future<Output = anyhow::Result<ExitCode>>>(
    future: F,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(future)
}
