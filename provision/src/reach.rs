//! Where the box is, for a command that needs it from wherever dtops runs: this machine (its
//! site directory or /etc/dtops/site.toml is here), over SSH (`--ssh`, `DTOPS_SSH`, or site.toml's `[admin] ssh` when
//! this is not the box), or neither (an admin URL the operator tunnels to by hand).

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::host::Host;
use crate::site::{Site, SshDestination, SYSTEM_SITE};
use crate::ssh::Ssh;

/// The committed site.toml's values, for `--ssh` without any site.toml at hand.
const DEFAULT_API_PORT: u16 = 8090;
const DEFAULT_TOKEN_FILE: &str = "/srv/datatools-license/secrets/admin_token";
const DEFAULT_DTOPS: &str = "dtops";

/// The box, reached with ssh.
#[derive(Debug, Clone)]
pub struct Remote {
    pub ssh: Ssh,
    /// `ports.api`: the api's loopback door on the box.
    pub api_port: u16,
    /// The admin token's path on the box.
    pub token_file: String,
    /// The dtops command on the box, as sudo runs it.
    pub dtops: String,
}

impl Remote {
    pub fn host(&self) -> &SshDestination {
        self.ssh.destination()
    }
}

pub enum Reach {
    /// dtops runs on the box.
    Here(Box<Site>),
    Remote(Remote),
    /// Not the box, and no SSH destination: the site.toml found, if any.
    Elsewhere(Option<Box<Site>>),
}

impl Reach {
    pub fn resolve(global: &GlobalArgs) -> anyhow::Result<Reach> {
        // No site.toml anywhere is fine (a laptop naming the box with --ssh); a bad one is not.
        let site = match global.site_file() {
            Ok(path) => Some(Box::new(Site::load(&path)?)),
            Err(_) => None,
        };
        // The box: its site directory is here, or its site.toml is where the box keeps it (a
        // box before its first `dtops provision`, whose [admin] ssh must not send it to itself).
        let here = site.as_ref().is_some_and(|site| {
            Host::new(global.root.clone()).path(site.root()).exists()
                || site.file.as_deref() == Some(Path::new(SYSTEM_SITE))
        });
        let destination = match (&global.ssh, &site) {
            (Some(given), _) => Some(given.clone()),
            (None, Some(site)) if !here => site.admin.ssh.clone(),
            _ => None,
        };
        Ok(match (destination, site) {
            (Some(destination), site) => Reach::Remote(Remote {
                ssh: Ssh::new(destination, global.ssh_config.clone()),
                api_port: site.as_ref().map_or(DEFAULT_API_PORT, |s| s.ports.api),
                token_file: site.as_ref().map_or(DEFAULT_TOKEN_FILE.into(), |s| {
                    s.secret_file("admin_token").display().to_string()
                }),
                dtops: site
                    .as_ref()
                    .and_then(|s| s.admin.dtops.as_ref())
                    .map_or(DEFAULT_DTOPS.into(), |p| p.as_str().to_string()),
            }),
            (None, Some(site)) if here => Reach::Here(site),
            (None, site) => Reach::Elsewhere(site),
        })
    }
}
