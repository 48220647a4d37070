//! A file dtops installs only while site.toml asks for it (the daily Gumroad sync job while
//! `[server] gumroad_api_token` is on): once switched off, provision removes it, so a job never
//! outlives the setting that made it.

use std::path::PathBuf;

use crate::engine::{Change, Ctx, Plan, Step};

pub struct RetiredFileStep {
    pub path: PathBuf,
    /// Why it is not wanted, as a clause ("[server] gumroad_api_token is off").
    pub why: &'static str,
}

impl Step for RetiredFileStep {
    fn name(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        Ok(match ctx.env.host.state(&self.path)? {
            Some(_) => Plan::Change(Change::new(format!("remove it ({})", self.why))),
            None => Plan::Ok(format!("absent ({})", self.why)),
        })
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        ctx.env.host.remove_file(&self.path)?;
        Ok(format!("removed ({})", self.why))
    }
}
