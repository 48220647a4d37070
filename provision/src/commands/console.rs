//! `dtops logs [api|postgres] [-f]` and `dtops psql [-- ARGS]` on the box: the command the
//! runtime needs (`docker compose logs|exec`, or the native stack's files and psql), run with
//! this terminal; dtops exits with its exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;

use super::deployment::Deployment;
use crate::cli::{GlobalArgs, LogsArgs, PsqlArgs, Service};
use crate::runtime::{self, describe_console, Console};

pub fn logs(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let service = match args.service {
        Service::Api => runtime::Service::Api,
        Service::Postgres => runtime::Service::Postgres,
    };
    let console = runtime::logs(
        &deployment.env(),
        deployment.runtime.kind(),
        service,
        args.follow,
        args.lines,
    )?;
    run(&console)
}

pub fn psql(global: &GlobalArgs, args: &PsqlArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let console = runtime::psql(
        &deployment.env(),
        deployment.runtime.kind(),
        &args.args,
        std::io::stdin().is_terminal(),
    )?;
    run(&console)
}

fn run(console: &Console) -> anyhow::Result<ExitCode> {
    let status = console
        .command()?
        .status()
        .with_context(|| format!("cannot run {}", describe_console(console)))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // Ended by a signal (Ctrl-C while following a log): nothing went wrong.
        None => ExitCode::SUCCESS,
    })
}
