//! `dtops rollback <component>`: undo one component, keeping data unless told otherwise.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, RollbackComponent};
use crate::engine::{AppLock, Ctx};
use crate::host::Host;
use crate::site::Site;

pub fn run(global: &GlobalArgs, component: RollbackComponent) -> anyhow::Result<ExitCode> {
    let site = Site::load(&global.site)?;
    let host = Host::new(global.root.clone());
    let runtime = super::runtime(global)?;
    let _lock = AppLock::acquire(&host, &site)?;
    let ctx = Ctx::new(
        &site,
        &host,
        runtime.as_ref(),
        global.templates.as_deref(),
        false,
    );
    match component {
        RollbackComponent::App => {
            let running = runtime.running(&ctx)?;
            if !running.api && !running.db {
                println!("app: nothing running; nothing to do");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "app: stopping and removing the api and postgres containers ({}); the database \
                 volume {} and every file under {} are kept",
                runtime.name(),
                site.database.volume,
                site.root().display()
            );
            runtime.down(&ctx, false)?;
            println!("app: stopped; `dtops provision` brings it back");
        }
    }
    Ok(ExitCode::SUCCESS)
}
