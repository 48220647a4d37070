//! `dtops rollback <component>`: undo one component, keeping data unless told otherwise.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, RollbackArgs, RollbackComponent};
use crate::engine::AppLock;

pub fn run(global: &GlobalArgs, args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let component = args.component;
    let deployment = super::Deployment::open(global)?;
    let (site, host) = (&deployment.site, &deployment.host);
    let _lock = AppLock::acquire(host, site)?;
    let ctx = deployment.ctx(false);
    match component {
        RollbackComponent::App => app(&ctx)?,
        RollbackComponent::Db => super::rollback_data::db(&ctx, args)?,
        RollbackComponent::Files => super::rollback_data::files(&ctx, args)?,
        RollbackComponent::User => super::rollback_data::user(&ctx)?,
        RollbackComponent::All => super::rollback_data::all(&ctx, args)?,
        RollbackComponent::Nginx => super::rollback_web::nginx(&ctx)?,
        RollbackComponent::Tls => super::rollback_web::tls(&ctx, args.delete_cert)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `rollback app` (also the first part of `rollback all` when the database is kept).
pub(super) fn app(ctx: &crate::engine::Ctx) -> anyhow::Result<()> {
    let running = ctx.runtime.running(ctx)?;
    if !running.api && !running.db {
        println!("app: nothing running; nothing to do");
        return Ok(());
    }
    println!(
        "app: stopping and removing the api and postgres containers ({}); the database volume {} \
         and every file under {} are kept",
        ctx.runtime.name(),
        ctx.site.database.volume,
        ctx.site.root().display()
    );
    ctx.runtime.down(ctx, false)?;
    println!("app: stopped; `dtops provision` brings it back");
    Ok(())
}
