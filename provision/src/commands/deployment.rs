//! What every host-facing command works on: the site, the host (a sandbox under `--root`), the
//! container runtime and the templates, opened once from the global flags.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::engine::Ctx;
use crate::env::Env;
use crate::host::Host;
use crate::runtime::{self, Runtime};
use crate::site::Site;

pub struct Deployment {
    pub site: Site,
    pub host: Host,
    pub runtime: Box<dyn Runtime>,
    templates: Option<PathBuf>,
}

impl Deployment {
    pub fn open(global: &GlobalArgs) -> anyhow::Result<Self> {
        let site = Site::load(&global.site_file()?)?;
        // The app's directory belongs to the site user: nothing below it is trusted.
        let host = Host::new(global.root.clone()).guarding(site.root());
        Ok(Deployment {
            site,
            host,
            runtime: runtime::build(global.runtime, global.native_bin.as_deref())?,
            templates: global.templates.clone(),
        })
    }

    /// The narrow environment nginx, certbot, the runtimes and the backup job take.
    pub fn env(&self) -> Env<'_> {
        Env {
            site: &self.site,
            host: &self.host,
            templates: self.templates.as_deref(),
        }
    }

    /// The engine context for one run; `dry_run` steps only observe.
    pub fn ctx(&self, dry_run: bool) -> Ctx<'_> {
        Ctx::new(self.env(), self.runtime.as_ref(), dry_run)
    }
}
