//! The container runtime seam. Production runs the stack with docker compose; where no Docker
//! engine exists (tests, CI) the native runtime runs the same server binary with the same
//! environment and secret files compose.yml gives the container, and a real Postgres.

mod compose;
mod kind;
mod native;

use std::path::Path;

pub use compose::{compose_op, ComposeOp, ComposeRuntime};
pub use kind::RuntimeKind;
pub use native::NativeRuntime;

use crate::engine::{Ctx, Plan};

pub trait Runtime {
    fn name(&self) -> &'static str;
    /// Checks the tools this runtime needs are present; says which were found.
    fn preflight(&self, ctx: &Ctx) -> anyhow::Result<String>;
    /// Whether the api image must be (re)built.
    fn image_plan(&self, ctx: &Ctx) -> anyhow::Result<Plan>;
    fn build_image(&self, ctx: &Ctx) -> anyhow::Result<String>;
    /// Whether the database and api are running.
    fn running(&self, ctx: &Ctx) -> anyhow::Result<Running>;
    /// Starts whatever is not running.
    fn up(&self, ctx: &Ctx) -> anyhow::Result<()>;
    fn restart_api(&self, ctx: &Ctx) -> anyhow::Result<()>;
    /// Runs `datatools-license migrate` as a one-off.
    fn migrate(&self, ctx: &Ctx) -> anyhow::Result<String>;
    /// Stops the stack; the database volume is removed only when `remove_volume`.
    fn down(&self, ctx: &Ctx, remove_volume: bool) -> anyhow::Result<()>;
    /// Which kind of runtime this is (the backup job reaches Postgres through it).
    fn kind(&self) -> RuntimeKind;
    /// Stops the api only; Postgres keeps running (a restore into the live database).
    fn stop_api(&self, ctx: &Ctx) -> anyhow::Result<()>;
    /// Starts the api (and Postgres) when not running.
    fn start_api(&self, ctx: &Ctx) -> anyhow::Result<()>;
    /// What `down(ctx, true)` deletes, for a person to read before it happens.
    fn volume_description(&self, ctx: &Ctx) -> String;
    /// Whether the database volume (the data) exists.
    fn volume_exists(&self, ctx: &Ctx) -> anyhow::Result<bool>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub db: bool,
    pub api: bool,
}

/// The runtime for `--runtime` (`native_bin`: `--native-bin`; default: the
/// `datatools-license` binary next to dtops).
pub fn build(kind: RuntimeKind, native_bin: Option<&Path>) -> anyhow::Result<Box<dyn Runtime>> {
    Ok(match kind {
        RuntimeKind::Compose => Box::new(ComposeRuntime),
        RuntimeKind::Native => {
            let api_bin = match native_bin {
                Some(path) => path.to_path_buf(),
                None => std::env::current_exe()?.with_file_name("datatools-license"),
            };
            Box::new(NativeRuntime::new(api_bin))
        }
    })
}

/// The compose command for this site, with the project pinned (name, file, directory), so it
/// works from any working directory.
pub fn compose_command(ctx: &Ctx) -> crate::process::CommandLine {
    let site = ctx.site;
    crate::process::CommandLine::new(&site.commands.docker_compose)
        .arg("--project-name")
        .arg(site.app.name.as_str())
        .arg("--project-directory")
        .arg(ctx.host.path(site.root()))
        .arg("--file")
        .arg(ctx.host.path(&site.compose_file()))
}
