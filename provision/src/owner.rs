//! Who owns what dtops writes, resolved to numbers on the host only when needed: the site user
//! may be created by an earlier step of the same run. The group is always the owner's own.

use crate::env::Env;
use crate::host::{Account, Ownership};
use crate::site::Site;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Root,
    /// `host.user` from site.toml.
    SiteUser,
    /// The api container's uid (and same-numbered group, which need not exist on the host), for
    /// compose file secrets.
    Container,
}

impl Owner {
    /// For step reports: "root", the site user's name, "uid 10001".
    pub fn describe(self, site: &Site) -> String {
        match self {
            Owner::Root => "root".into(),
            Owner::SiteUser => site.host.user.to_string(),
            Owner::Container => format!("uid {}", site.host.container_uid),
        }
    }

    /// `user:group` as `chown` would take it.
    pub fn chown_spec(self, site: &Site) -> String {
        match self {
            Owner::Root => "root:root".to_string(),
            Owner::SiteUser => format!("{0}:{0}", site.host.user),
            Owner::Container => format!("{0}:{0}", site.host.container_uid),
        }
    }

    /// The numeric owner, or `None` when the site user does not exist yet.
    pub fn resolve(self, env: &Env) -> anyhow::Result<Option<Account>> {
        let site = env.site;
        Ok(match self {
            Owner::Root => Some(Account { uid: 0, gid: 0 }),
            Owner::Container => Some(Account {
                uid: site.host.container_uid,
                gid: site.host.container_uid,
            }),
            Owner::SiteUser => env.host.account(site.host.user.as_str())?,
        })
    }

    pub fn ownership(self, env: &Env, mode: u32) -> anyhow::Result<Ownership> {
        let account = self.resolve(env)?.ok_or_else(|| {
            anyhow::anyhow!(
                "user {} does not exist (the user step creates it)",
                env.site.host.user
            )
        })?;
        Ok(Ownership {
            uid: account.uid,
            gid: account.gid,
            mode,
        })
    }
}
