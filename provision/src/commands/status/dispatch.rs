//! Which `dtops status` runs: against `--admin-url`, the api's view (`api_view`); with an SSH
//! destination (`--ssh`, or `[admin] ssh` off the box), `sudo dtops status` on the box with its
//! report and exit code passed on unchanged, so the laptop and the box can never disagree; on the
//! box (or a `--root` sandbox), the full look (`overview`). Anywhere else it says so, instead of
//! reporting on a box that is not there.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::bail;

use super::{api_view, overview};
use crate::cli::{AdminArgs, GlobalArgs};
use crate::reach::Reach;

/// `dtops status`; a failure of status itself is "cannot tell" (2), never "all well".
pub fn run(global: &GlobalArgs, admin: &AdminArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    match status(global, admin, quiet) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("dtops: error: {e:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn status(global: &GlobalArgs, admin: &AdminArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    if admin.admin_url.is_some() {
        return api_view::run(global, admin, quiet);
    }
    match Reach::resolve(global)? {
        Reach::Remote(remote) => {
            let tty = std::io::stdin().is_terminal();
            let mut words = vec!["sudo"];
            if !tty {
                words.push("-n");
            }
            words.extend([remote.dtops.as_str(), "status"]);
            if quiet {
                words.push("--quiet");
            }
            remote.ssh.run_attached(&words, tty)
        }
        Reach::Here(_) => overview::on_the_box(global, quiet),
        // A sandbox not provisioned yet: the look says what is missing.
        Reach::Elsewhere(Some(_)) if global.root.is_some() => overview::on_the_box(global, quiet),
        Reach::Elsewhere(Some(site)) => bail!(
            "this machine is not the box: {} (paths.root in {}) is not here, so there is no \
             host to look at. From your laptop, `dtops status --ssh user@host` (or [admin] ssh \
             in site.toml) runs it on the box, and `--admin-url URL` shows what the api alone \
             can say",
            site.root().display(),
            site.file
                .as_deref()
                .map_or("site.toml".into(), |f| f.display().to_string())
        ),
        Reach::Elsewhere(None) => overview::on_the_box(global, quiet),
    }
}
