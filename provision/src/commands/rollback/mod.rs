//! `dtops rollback <component>`: undo one component, keeping data unless told otherwise.
//! `app` stops the stack; `data` holds the rollbacks that can lose data (db, files, user, all);
//! `web` the nginx site and the certificate.

mod app;
mod data;
mod web;

use std::process::ExitCode;

use super::deployment::Deployment;
use crate::cli::{GlobalArgs, RollbackArgs, RollbackComponent};
use crate::engine::AppLock;

pub fn run(global: &GlobalArgs, args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let _lock = AppLock::acquire(&deployment.host, &deployment.site)?;
    let ctx = deployment.ctx(false);
    let (env, runtime) = (&ctx.env, ctx.runtime);
    match args.component {
        RollbackComponent::App => app::app(env, runtime)?,
        RollbackComponent::Db => data::db(env, runtime, args)?,
        RollbackComponent::Files => data::files(env, runtime, args)?,
        RollbackComponent::User => data::user(env)?,
        RollbackComponent::All => data::all(&ctx, args)?,
        RollbackComponent::Nginx => web::nginx(&ctx)?,
        RollbackComponent::Tls => web::tls(&ctx, args.delete_cert)?,
    }
    Ok(ExitCode::SUCCESS)
}
