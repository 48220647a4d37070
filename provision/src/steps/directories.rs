//! A directory with its owner and mode exactly as specified: the app's directories under /srv
//! (SETUP-LICENSE-SERVER.md §4), dtops' state, nginx's webroot and site root.

use std::path::PathBuf;

use crate::engine::{Change, Ctx, Plan, Step};
use crate::host::FileKind;
use crate::owner::Owner;

pub struct DirectoryStep {
    path: PathBuf,
    owner: Owner,
    mode: u32,
}

impl DirectoryStep {
    pub fn new(path: PathBuf, owner: Owner, mode: u32) -> Self {
        DirectoryStep { path, owner, mode }
    }
}

impl Step for DirectoryStep {
    fn name(&self) -> String {
        format!("directory {}", self.path.display())
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let path = &self.path;
        let want = format!("{} {:04o}", self.owner.describe(ctx.env.site), self.mode);
        let Some(state) = ctx.env.host.state(path)? else {
            return Ok(Plan::Change(Change::new(format!("create it ({want})"))));
        };
        if state.kind == FileKind::Symlink {
            anyhow::bail!(
                "{} is a symbolic link, not a directory; dtops does not follow it (another user \
                 may have planted it): remove it and run again",
                path.display()
            );
        }
        if state.kind != FileKind::Dir {
            anyhow::bail!(
                "{} exists but is not a directory; move it away and run again",
                path.display()
            );
        }
        let Some(account) = self.owner.resolve(&ctx.env)? else {
            return Ok(Plan::Unknown(
                "its owner is created by an earlier step".into(),
            ));
        };
        let have = state.ownership;
        if (have.uid, have.gid, have.mode) == (account.uid, account.gid, self.mode) {
            Ok(Plan::Ok(want))
        } else {
            Ok(Plan::Change(Change::new(format!(
                "set it to {want} (it is {have})"
            ))))
        }
    }

    fn apply(&self, ctx: &Ctx, change: &Change) -> anyhow::Result<String> {
        let path = &self.path;
        let own = self.owner.ownership(&ctx.env, self.mode)?;
        if ctx.env.host.state(path)?.is_none() {
            ctx.env.host.create_parents(path)?;
            ctx.env.host.create_dir(path, own)?;
            Ok(format!(
                "created ({} {:04o})",
                self.owner.describe(ctx.env.site),
                self.mode
            ))
        } else {
            ctx.env.host.set_ownership(path, own)?;
            Ok(change.summary.replacen("set it to", "now", 1))
        }
    }
}
