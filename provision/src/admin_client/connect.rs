//! How an admin command reaches the admin API: `--admin-url` as given; through an SSH port
//! forward of its own (`--ssh`, or site.toml's `[admin] ssh` off the box), the token read on the
//! box with `sudo -n cat` unless one is given here; on the box, its serving api and token; else
//! 127.0.0.1:<ports.api>, a tunnel the operator opened by hand.

use std::path::Path;

use anyhow::{bail, Context};
use datatools_license::secret::Secret;

use super::{read_token, AdminClient, Via, TIMEOUT, TOKEN_VAR};
use crate::cli::{AdminArgs, GlobalArgs};
use crate::env::Env;
use crate::host::Host;
use crate::reach::{Reach, Remote};
use crate::ssh::Forward;
use crate::strip_query;

impl AdminClient {
    /// The admin API for a command run by the operator, wherever dtops runs.
    pub fn connect(global: &GlobalArgs, args: &AdminArgs) -> anyhow::Result<Self> {
        if let Some(url) = &args.admin_url {
            if let Some(ssh) = &global.ssh {
                bail!(
                    "both --admin-url {} and --ssh {ssh} say how to reach the api: give one \
                     (or unset DTOPS_ADMIN_URL / DTOPS_SSH)",
                    strip_query::from_text(url)
                );
            }
            return Self::with_token(url, required_token(args)?, TIMEOUT);
        }
        match Reach::resolve(global)? {
            Reach::Remote(remote) => Self::through(&remote, given_token(args)?),
            Reach::Here(site) => {
                let host = Host::new(global.root.clone()).guarding(site.root());
                let env = Env {
                    site: &site,
                    host: &host,
                    templates: None,
                };
                let url = site.slot_url(crate::live_slot::read_or_blue(&env)?);
                let token = match given_token(args)? {
                    Some(token) => token,
                    None => read_token(&host.path(&site.secret_file("admin_token")))?,
                };
                Self::with_token(&url, token, TIMEOUT)
            }
            Reach::Elsewhere(site) => {
                let port = site.map_or(8090, |site| site.ports.api);
                let url = format!("http://127.0.0.1:{port}");
                Self::with_token(&url, required_token(args)?, TIMEOUT)
            }
        }
    }

    /// The box's admin API through an SSH port forward that lives as long as the client; the
    /// token `token`, else the box's own read over SSH.
    pub fn through(remote: &Remote, token: Option<Secret>) -> anyhow::Result<Self> {
        let token = match token {
            Some(token) => token,
            None => remote.ssh.read_secret(&remote.token_file)?,
        };
        let forward = Forward::open(&remote.ssh, remote.api_port)?;
        let mut client = Self::with_token(&forward.url(), token, TIMEOUT)?;
        client.via = Some(Via {
            host: remote.host().clone(),
            _forward: forward,
        });
        Ok(client)
    }

    /// What a request that got no answer means.
    pub(super) fn unreachable(&self) -> String {
        match &self.via {
            Some(via) => format!(
                "the admin API stopped answering through the SSH forward to {host}: `ssh \
                 {host} sudo dtops status` says what runs there",
                host = via.host
            ),
            None => format!(
                "cannot reach the admin API at {}; is the server running? From your laptop, \
                 `--ssh user@host` (or [admin] ssh in site.toml) reaches the box's api over SSH",
                strip_query::from_text(&self.base)
            ),
        }
    }
}

/// The token given on this machine: `--token-file`, else DATATOOLS_ADMIN_TOKEN.
pub fn given_token(args: &AdminArgs) -> anyhow::Result<Option<Secret>> {
    if let Some(path) = &args.token_file {
        return read_token(path).map(Some);
    }
    Ok(std::env::var(TOKEN_VAR)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(Secret::new))
}

fn required_token(args: &AdminArgs) -> anyhow::Result<Secret> {
    given_token(args)?.with_context(|| {
        format!(
            "no admin token: pass --token-file FILE or set {TOKEN_VAR} (on the box it is \
             {}); from your laptop, `--ssh user@host` (or [admin] ssh in site.toml) reads it \
             on the box",
            Path::new("/srv/datatools-license/secrets/admin_token").display()
        )
    })
}
