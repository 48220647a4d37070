//! dtops: provisions and operates the DataTools license server.
//!
//! `cli` parses arguments; each subcommand lives in its own module under `commands`.

/// The admin API client used by `mint`, `licenses` and `revoke`.
mod admin_client;
/// The api container's environment and secret files, shared by both runtimes.
mod api_spec;
/// The certificate: certbot's command lines, the lineage on disk, its renewal settings.
mod certbot;
/// Command-line arguments (clap derive); doc comments are the help text.
mod cli;
/// One module per subcommand.
mod commands;
/// The desired-state engine: plan, apply, report, lock, pending handlers.
mod engine;
/// The narrow layer for every host effect (files, users, commands); `--root` relocates it.
mod host;
/// Older license public keys still trusted during a key rotation's overlap window.
mod keyring;
/// The shared nginx: version, `nginx -t`, reloads, our site's phase, the swap-test-restore
/// transaction, DNS and HTTP(S) probes.
mod nginx;
/// Waiting with a deadline (reloads, health, locks, processes).
mod poll;
/// Running external programs, with errors that carry their output.
mod process;
/// site.toml -> the files dtops manages (compose.yml, .env, ...), with their host path, owner, mode.
mod render;
/// Docker compose in production; the native runtime where there is no Docker engine.
mod runtime;
/// Files dtops creates with their final mode from the first byte.
mod secure_file;
/// `site.toml`: the declarative description of the deployment.
mod site;
/// The steps of `dtops provision`.
mod steps;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the subcommand, and turns its error into a message and exit code.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dtops: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
