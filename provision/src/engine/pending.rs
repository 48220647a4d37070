//! Handlers (restart the api, reload nginx) that must survive a failed run: a change that needs
//! one leaves a marker file, and the marker is removed only after the handler succeeded, so the
//! next run finishes what an interrupted one started.

use std::path::PathBuf;

use super::Ctx;
use crate::host::Ownership;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Handler {
    RestartApi,
    /// Our nginx files changed: test and reload nginx.
    ReloadNginx,
}

impl Handler {
    fn marker_name(self) -> &'static str {
        match self {
            Handler::RestartApi => "restart-api",
            Handler::ReloadNginx => "reload-nginx",
        }
    }
}

fn marker(ctx: &Ctx, handler: Handler) -> PathBuf {
    ctx.site
        .state_dir()
        .join("pending")
        .join(handler.marker_name())
}

pub fn is_marked(ctx: &Ctx, handler: Handler) -> anyhow::Result<bool> {
    Ok(ctx.host.state(&marker(ctx, handler))?.is_some())
}

pub fn mark(ctx: &Ctx, handler: Handler) -> anyhow::Result<()> {
    let path = marker(ctx, handler);
    let dir = path.parent().expect("marker has a parent");
    if ctx.host.state(dir)?.is_none() {
        ctx.host.create_parents(dir)?;
        ctx.host.create_dir(
            dir,
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o700,
            },
        )?;
    }
    ctx.host.write_atomic(
        &path,
        b"pending\n",
        Ownership {
            uid: 0,
            gid: 0,
            mode: 0o600,
        },
    )?;
    Ok(())
}

pub fn clear(ctx: &Ctx, handler: Handler) -> anyhow::Result<()> {
    if !ctx.dry_run() {
        ctx.host.remove_file(&marker(ctx, handler))?;
    }
    Ok(())
}
