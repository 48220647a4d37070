//! Handlers (restart the api, reload nginx) that must survive a failed run: a change that needs
//! one leaves a marker file, and the marker is removed only after the handler succeeded, so the
//! next run finishes what an interrupted one started.

use std::path::PathBuf;

use crate::env::Env;
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

fn marker(env: &Env, handler: Handler) -> PathBuf {
    env.site
        .state_dir()
        .join("pending")
        .join(handler.marker_name())
}

pub fn is_marked(env: &Env, handler: Handler) -> anyhow::Result<bool> {
    Ok(env.host.state(&marker(env, handler))?.is_some())
}

pub fn mark(env: &Env, handler: Handler) -> anyhow::Result<()> {
    let path = marker(env, handler);
    let dir = path.parent().expect("marker has a parent");
    if env.host.state(dir)?.is_none() {
        env.host.create_parents(dir)?;
        env.host.create_dir(
            dir,
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o700,
            },
        )?;
    }
    env.host.write_atomic(
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

pub fn clear(env: &Env, handler: Handler) -> anyhow::Result<()> {
    env.host.remove_file(&marker(env, handler))?;
    Ok(())
}
