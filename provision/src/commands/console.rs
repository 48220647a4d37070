//! `dtops logs [api|postgres] [-f]` and `dtops psql [-- ARGS]` on the box: the command the
//! runtime needs (`docker compose logs|exec`, or the native stack's files and psql), run with
//! this terminal; dtops exits with its exit code. From a laptop (`--ssh`, `[admin] ssh`) the same
//! command runs on the box as `sudo dtops ...` over ssh (`-t` when this is a terminal).

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;

use super::deployment::Deployment;
use crate::cli::{GlobalArgs, LogsArgs, PsqlArgs, Service};
use crate::reach::{Reach, Remote};
use crate::runtime::{self, describe_console, Console};

pub fn logs(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    if let Reach::Remote(remote) = Reach::resolve(global)? {
        let lines = args.lines.to_string();
        let mut words = vec!["logs", args.service.name(), "-n", &lines];
        if args.follow {
            words.push("-f");
        }
        return on_the_box(&remote, &words);
    }
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
    if let Reach::Remote(remote) = Reach::resolve(global)? {
        let mut words = vec!["psql"];
        if !args.args.is_empty() {
            words.push("--");
            words.extend(args.args.iter().map(String::as_str));
        }
        return on_the_box(&remote, &words);
    }
    let deployment = Deployment::open(global)?;
    let console = runtime::psql(
        &deployment.env(),
        deployment.runtime.kind(),
        &args.args,
        std::io::stdin().is_terminal(),
    )?;
    run(&console)
}

/// `sudo dtops WORDS` on the box, with this terminal (sudo may ask for a password there) or
/// without one (`sudo -n`).
fn on_the_box(remote: &Remote, words: &[&str]) -> anyhow::Result<ExitCode> {
    let tty = std::io::stdin().is_terminal();
    let mut line = vec!["sudo"];
    if !tty {
        line.push("-n");
    }
    line.push(&remote.dtops);
    line.extend_from_slice(words);
    remote.ssh.run_attached(&line, tty)
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
