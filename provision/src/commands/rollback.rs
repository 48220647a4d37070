//! `dtops rollback <component>`: undo one component, keeping data unless told otherwise.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, RollbackComponent};
use crate::engine::AppLock;

pub fn run(global: &GlobalArgs, component: RollbackComponent) -> anyhow::Result<ExitCode> {
    let deployment = super::Deployment::open(global)?;
    let (site, host, runtime) = (&deployment.site, &deployment.host, &deployment.runtime);
    let _lock = AppLock::acquire(host, site)?;
    let ctx = deployment.ctx(false);
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
