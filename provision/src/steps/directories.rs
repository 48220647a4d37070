//! The app's directories under /srv (runbook §2): owner and mode exactly as specified.

use std::path::PathBuf;

use super::Owner;
use crate::engine::{Change, Ctx, Plan, Step};
use crate::host::FileKind;

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

/// root, app, secrets, backups: 0750 datatools-api; dtops' own state: 0700 root.
pub fn app_directories<'a>(site: &crate::site::Site) -> Vec<Box<dyn Step + 'a>> {
    let dir = |path: PathBuf, owner, mode| -> Box<dyn Step> {
        Box::new(DirectoryStep { path, owner, mode })
    };
    vec![
        dir(site.root().to_path_buf(), Owner::SiteUser, 0o750),
        dir(site.app_dir(), Owner::SiteUser, 0o750),
        dir(site.secrets_dir(), Owner::SiteUser, 0o750),
        dir(site.backups_dir(), Owner::SiteUser, 0o750),
        dir(site.state_dir(), Owner::Root, 0o700),
    ]
}

impl Step for DirectoryStep {
    fn name(&self) -> String {
        format!("directory {}", self.path.display())
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let path = &self.path;
        let want = format!("{} {:04o}", self.owner.describe(ctx), self.mode);
        let Some(state) = ctx.host.state(path)? else {
            return Ok(Plan::Change(Change::new(format!("create it ({want})"))));
        };
        if state.kind != FileKind::Dir {
            anyhow::bail!(
                "{} exists but is not a directory; move it away and run again",
                path.display()
            );
        }
        let Some(account) = self.owner.resolve(ctx)? else {
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
        let own = self.owner.ownership(ctx, self.mode)?;
        if ctx.host.state(path)?.is_none() {
            ctx.host.create_parents(path)?;
            ctx.host.create_dir(path, own)?;
            Ok(format!(
                "created ({} {:04o})",
                self.owner.describe(ctx),
                self.mode
            ))
        } else {
            ctx.host.set_ownership(path, own)?;
            Ok(change.summary.replacen("set it to", "now", 1))
        }
    }
}
