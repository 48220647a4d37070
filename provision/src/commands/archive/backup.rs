//! `dtops archive backup [--quiet]`: the daily full backup into both repositories (pgBackRest
//! prunes each to its retention afterwards), then the escrow's copy when it changed.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::commands::deployment::Deployment;
use crate::escrow;
use crate::runtime;

pub fn run(global: &GlobalArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let env = deployment.env();
    runtime::archive(&env)?;
    let mut failed = false;
    for repo in ["1", "2"] {
        let target = format!("--repo={repo}");
        match runtime::run_pgbackrest(&env, &[&target, "--type=full", "backup"]) {
            Ok(_) if quiet => {}
            Ok(_) => println!("archive: full backup into repo{repo} done"),
            Err(e) => {
                failed = true;
                eprintln!("archive: the full backup into repo{repo} FAILED: {e:#}");
            }
        }
    }
    match escrow::push_if_changed(&env, false) {
        Ok(Some(done)) if !quiet => println!("{done}"),
        Ok(_) => {}
        Err(e) => {
            failed = true;
            eprintln!("archive: the key escrow was not copied: {e:#}");
        }
    }
    if !quiet {
        for repo in runtime::info(&env, runtime::Via::Exec)? {
            println!(
                "archive: repo{}: {} full backup(s), WAL up to {}",
                repo.key,
                repo.full_backups,
                repo.newest_wal.as_deref().unwrap_or("(none)")
            );
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
