//! dtops: provisions and operates the DataTools license server.
//!
//! `cli` parses arguments; each subcommand lives in its own module under `commands`. Imports
//! run one way: commands -> steps -> engine -> (nginx, certbot, runtime, backup job) -> env ->
//! (site, host); docs/dtops-internals.md draws the layers.

/// The admin API client (`mint`, `licenses`, `revoke`, `events`, `keys rotate`, `cutover`):
/// the server's own request and response types.
mod admin_client;
mod api_build;
/// The api container's environment and secret files, shared by both runtimes.
mod api_spec;
/// The installed backup job, run by `dtops backup`/`restore`, `rollback db`, the first backup.
mod backup_job;
/// Zero-downtime api changes: blue/green slots behind our nginx, the smoke test of a new slot.
mod bluegreen;
/// The certificate: certbot's command lines, the lineage on disk, its renewal settings.
mod certbot;
/// Command-line arguments (clap derive); doc comments are the help text.
mod cli;
/// One module per subcommand: the top layer, which calls everything below.
mod commands;
/// Which version the box runs (the api image and its commit), as dtops recorded it.
mod deployed;
/// What this host should have: site.toml rendered with the host's own facts.
mod desired;
/// The desired-state engine: steps and checks, converge, report, locks, pending handlers.
mod engine;
/// The narrow environment (site + host + templates) nginx, certbot and the runtimes take.
mod env;
/// The key escrow: the secrets, encrypted to the operator's recovery kit, copied off-site.
mod escrow;
/// Parsers of text from outside, for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing;
/// `dtops --help` with the commands grouped by where they run.
mod help;
/// The narrow layer for every host effect (files, users, commands); `--root` relocates it.
mod host;
/// Older license public keys still trusted during a key rotation's overlap window.
mod keyring;
/// Which api slot (blue/green) serves, as dtops recorded it.
mod live_slot;
/// The shared nginx: version, `nginx -t`, reloads, our site's phase, the swap-test-restore
/// transaction, DNS and HTTP(S) probes.
mod nginx;
/// Who owns what dtops writes (root, the site user, the api container).
mod owner;
/// Waiting with a deadline (reloads, health, locks, processes).
mod poll;
/// Running external programs, with errors that carry their output.
mod process;
/// Live progress: the running step, its elapsed time, a long command's output (a spinner on a
/// terminal, plain lines in a pipe).
mod progress;
/// Where the box is for a command run anywhere: here, over SSH, or a URL tunnelled by hand.
mod reach;
/// site.toml -> the files dtops manages (compose.yml, .env, ...), with their host path, owner,
/// mode; pure (nothing here touches the host).
mod render;
/// Docker compose in production; the native runtime where there is no Docker engine.
mod runtime;
/// The live database's applied migrations, read directly.
mod schema;
/// Files dtops creates with their final mode from the first byte.
mod secure_file;
/// `site.toml`: the declarative description of the deployment.
mod site;
/// The system ssh: port forwards to the box's api, commands run there, failures in one line.
mod ssh;
/// The steps and checks of `dtops provision`, in their one ordered list.
mod steps;
/// URLs in errors and log lines without their query string (secrets, addresses).
mod strip_query;

use std::process::ExitCode;

/// Parses the command line, runs the subcommand, and turns its error into a message and exit code.
pub fn main() -> ExitCode {
    use clap::FromArgMatches;
    // `--help-all` is `--help` with the sandbox and testing flags shown (before any `--`).
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let all = args[..end].iter().any(|a| a == help::HELP_ALL);
    if all {
        for arg in &mut args[..end] {
            if arg == help::HELP_ALL {
                *arg = "--help".into();
            }
        }
    }
    let matches = help::command(all).get_matches_from(args);
    let cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let root = cli.global.root.clone();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // A second net behind strip_query::from_error: no URL's query reaches the terminal.
            eprintln!(
                "dtops: error: {}",
                strip_query::from_text(&format!("{e:#}"))
            );
            if permission_denied(&e) {
                match root {
                    Some(root) => eprintln!(
                        "dtops: permission denied: the paths above are the box's; in this \
                         sandbox they are under {} (dtops works there as the user running it)",
                        root.display()
                    ),
                    None if steps::is_root() => eprintln!(
                        "dtops: permission denied even as root: look at the path above (a \
                         read-only mount, `lsattr` for the immutable flag, AppArmor or SELinux \
                         in the system log)"
                    ),
                    None => eprintln!(
                        "dtops: permission denied: dtops reads and changes the box's files as \
                         root; run it with sudo (`sudo dtops ...`; sudo keeps \
                         /etc/dtops/site.toml as the default site)"
                    ),
                }
            }
            ExitCode::FAILURE
        }
    }
}

/// Whether an OS permission refusal is among the causes of `error`.
fn permission_denied(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
            || cause.to_string().contains("Permission denied")
    })
}
