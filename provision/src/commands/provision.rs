//! `dtops provision` and `dtops plan`: converge the host to site.toml, or show what that would do.

use std::process::ExitCode;

use super::deployment::Deployment;
use crate::cli::GlobalArgs;
use crate::engine::{self, AppLock, Report};
use crate::steps::{self, TlsOptions};

pub fn run(global: &GlobalArgs, dry_run: bool, tls: TlsOptions) -> anyhow::Result<ExitCode> {
    let deployment = Deployment::open(global)?;
    let (site, host, runtime) = (&deployment.site, &deployment.host, &deployment.runtime);
    // A dry run only observes; a real run holds the app lock from start to end.
    let _lock = if dry_run {
        None
    } else {
        Some(AppLock::acquire(host, site)?)
    };
    let ctx = deployment.ctx(dry_run);
    let steps = steps::provision_steps(site, global.templates.as_deref(), tls)?;
    let mut report = Report::stdout();
    let target = match host.sandbox() {
        Some(root) => format!(" in sandbox {}", root.display()),
        None => String::new(),
    };
    report.note(&format!(
        "{} {} (stage {}){target} with {}:",
        if dry_run { "plan for" } else { "provisioning" },
        site.app.name,
        site.app.stage,
        runtime.name()
    ));
    if host.sandbox().is_some() {
        // Files are relocated; these looks are not (a sandbox cannot fake them).
        report.note(
            "  (in a sandbox, these still look at the real host: listening ports, the `postgres` \
             account, DNS and HTTP probes, and the programs site.toml's [commands] names: \
             nginx, certbot, docker compose, psql)",
        );
    }
    let ok = engine::converge(&ctx, &steps, &mut report);
    report.summary(dry_run);
    if ok && !dry_run {
        // nginx's door follows the slot that serves; without nginx, the slot itself.
        let (port, what) = if site.nginx.managed {
            (site.ports.api, "nginx's door to the api slot that serves")
        } else {
            let slot = crate::live_slot::read_or_blue(&ctx.env)?;
            (site.slot_port(slot), "the api slot that serves now")
        };
        report.note(&format!(
            "\nadmin token: {} (root-only; copy it to your laptop for `dtops mint`, see ADMIN.md)\n\
             admin API:   http://127.0.0.1:{port} on the box, {what} (ssh -L \
             {port}:127.0.0.1:{port} <box> -N)",
            site.secret_file("admin_token").display(),
        ));
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
