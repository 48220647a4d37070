//! The system user that owns the app's files (SETUP-LICENSE-SERVER.md §4): no login shell, no
//! home.

use crate::engine::{Change, Ctx, Plan, Step};

pub struct UserStep;

impl Step for UserStep {
    fn name(&self) -> String {
        "system user".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let name = ctx.env.site.host.user.as_str();
        match ctx.env.host.account(name)? {
            Some(account) => {
                let shell = ctx.env.host.account_shell(name)?.unwrap_or_default();
                Ok(Plan::Ok(format!(
                    "{name} exists (uid {}, shell {shell})",
                    account.uid
                )))
            }
            None => Ok(Plan::Change(Change::new(format!(
                "create system user {name} (own group, no login shell, no home)"
            )))),
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let name = ctx.env.site.host.user.as_str();
        ctx.env.host.create_system_user(name)?;
        let account =
            ctx.env.host.account(name)?.ok_or_else(|| {
                anyhow::anyhow!("useradd succeeded but {name} is not in /etc/passwd")
            })?;
        Ok(format!("created system user {name} (uid {})", account.uid))
    }
}
