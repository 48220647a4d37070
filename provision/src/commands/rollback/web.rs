//! `dtops rollback nginx` and `dtops rollback tls` (SETUP-LICENSE-SERVER.md §11). Both go through
//! the same swap-test-restore transaction as provisioning, under the host-wide nginx lock, and
//! touch only our own files.

use crate::certbot;
use crate::engine::{Ctx, Handler};
use crate::nginx::{self, Entry};
use crate::render::Phase;

/// Removes our site file, its sites-enabled link and our http-context include; tests; reloads.
pub fn nginx(ctx: &Ctx) -> anyhow::Result<()> {
    let (env, site) = (&ctx.env, ctx.env.site);
    if !site.nginx.managed {
        println!("nginx: not managed by dtops (site.toml nginx.managed = false); nothing to do");
        return Ok(());
    }
    let entries = [
        Entry::Absent {
            path: site.nginx.enabled_link.as_path().to_path_buf(),
        },
        Entry::Absent {
            path: site.nginx.site_file.as_path().to_path_buf(),
        },
        Entry::Absent {
            path: site.nginx_http_include(),
        },
    ];
    let mut shown = Vec::new();
    for entry in &entries {
        shown.extend(entry.difference(env)?);
    }
    if shown.is_empty() {
        println!("nginx: our site is not installed; nothing to do");
        return Ok(());
    }
    println!(
        "nginx: will {} (copies kept in {}); no other nginx file is touched",
        shown.join(", "),
        site.state_dir().join("previous").display()
    );
    let done = nginx::apply(env, &entries)?;
    reload(ctx)?;
    println!(
        "nginx: {}; nginx -t passes; reloaded. `dtops provision` puts the site back",
        done.join(", ")
    );
    Ok(())
}

/// Back to phase 1: nginx stops referencing the certificate. The lineage stays (certbot.timer
/// keeps renewing it) unless `delete_cert`.
pub fn tls(ctx: &Ctx, delete_cert: bool) -> anyhow::Result<()> {
    let (env, site) = (&ctx.env, ctx.env.site);
    if !site.nginx.managed {
        println!("tls: not managed by dtops (site.toml nginx.managed = false); nothing to do");
        return Ok(());
    }
    let on_disk = nginx::phase_on_disk(env)?;
    if on_disk.is_some() {
        let (entries, _) = nginx::site_entries(env, Phase::One)?;
        let done = nginx::apply(env, &entries)?;
        if done.is_empty() {
            println!("tls: nginx is already on phase 1");
        } else {
            reload(ctx)?;
            println!(
                "tls: nginx is back on phase 1 (HTTP only; ACME challenges, 503 elsewhere): {}; \
                 nginx -t passes; reloaded",
                done.join(", ")
            );
        }
    } else {
        println!("tls: our nginx site does not use the certificate; nothing to change in nginx");
    }
    let live = site.cert_live_dir();
    if !delete_cert {
        if nginx::cert_present(env) {
            println!(
                "tls: the certificate lineage {} is kept (re-issuing counts against Let's \
                 Encrypt's rate limits); `dtops provision` goes back to phase 2 with it, \
                 `dtops rollback tls --delete-cert` deletes it",
                live.display()
            );
        }
        return Ok(());
    }
    if certbot::renewal_params(env)?.is_none() && !nginx::cert_present(env) {
        println!(
            "tls: no certificate lineage {}; nothing to delete",
            site.tls.cert_name
        );
        return Ok(());
    }
    println!(
        "tls: deleting the certificate lineage {} (certbot delete); a new one counts against \
         Let's Encrypt's rate limits",
        site.tls.cert_name
    );
    env.host.run(&certbot::delete(env))?;
    println!("tls: deleted; `dtops provision` requests a new certificate");
    Ok(())
}

/// Reloads now; the need is recorded first, so a failed reload is retried by `dtops provision`.
fn reload(ctx: &Ctx) -> anyhow::Result<()> {
    ctx.notify_handler(Handler::ReloadNginx)?;
    {
        let _lock = nginx::NginxLock::acquire(&ctx.env)?;
        nginx::reload(&ctx.env)?;
    }
    ctx.clear_handler(Handler::ReloadNginx)
}
