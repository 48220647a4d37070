//! The nginx and certificate rows of `dtops status`: which phase our site is in (and whether
//! that is what the host's facts call for), whether nginx's whole configuration passes, and the
//! certificate's names, expiry, serial and ACME server.

use crate::certbot;
use crate::engine::{Ctx, Handler};
use crate::nginx::{self, Phase};
use crate::steps::site_entries;

pub(super) fn nginx_line(ctx: &Ctx) -> String {
    if !ctx.site.nginx.managed {
        return "not managed by dtops (site.toml nginx.managed = false)".into();
    }
    let version = match nginx::version(ctx) {
        Ok(version) => version,
        Err(e) => return format!("cannot run nginx: {e:#}"),
    };
    let phase = match nginx::phase_on_disk(ctx) {
        Ok(Some(phase)) => phase,
        Ok(None) => {
            return format!(
                "nginx {version}; our site is not installed ({}); `dtops provision` writes it",
                ctx.site.nginx.site_file
            )
        }
        Err(e) => return format!("cannot read {}: {e:#}", ctx.site.nginx.site_file),
    };
    let mut notes = Vec::new();
    let enabled = ctx
        .host
        .link_target(ctx.site.nginx.enabled_link.as_path())
        .ok()
        .flatten()
        == Some(ctx.host.path(ctx.site.nginx.site_file.as_path()));
    if !enabled {
        notes.push(format!(
            "NOT enabled ({} missing)",
            ctx.site.nginx.enabled_link
        ));
    }
    match site_entries(ctx, phase) {
        Ok((entries, _)) => {
            let drift: Vec<String> = entries
                .iter()
                .filter_map(|e| e.difference(ctx).ok().flatten())
                .collect();
            if !drift.is_empty() {
                notes.push(format!(
                    "differs from what dtops renders ({})",
                    drift.join("; ")
                ));
            }
        }
        Err(e) => notes.push(format!("cannot render: {e:#}")),
    }
    let wanted = nginx::wanted_phase(ctx);
    if wanted != phase {
        notes.push(format!(
            "the host calls for phase {}: run dtops provision",
            wanted.number()
        ));
    } else if phase == Phase::One {
        notes.push("no certificate yet: dtops provision requests it".into());
    }
    if ctx.handler_pending(Handler::ReloadNginx).unwrap_or(false) {
        notes.push("a reload is pending (dtops provision does it)".into());
    }
    match nginx::test(ctx) {
        Ok(Ok(())) => notes.push("nginx -t passes".into()),
        Ok(Err(words)) => notes.push(format!("nginx -t FAILS: {}", words.replace('\n', " / "))),
        Err(e) => notes.push(format!("nginx -t could not run: {e:#}")),
    }
    format!("{phase}; nginx {version}; {}", notes.join("; "))
}

pub(super) fn certificate_line(ctx: &Ctx) -> String {
    if !ctx.site.nginx.managed {
        return "not managed by dtops (site.toml nginx.managed = false)".into();
    }
    let info = match certbot::cert_info(ctx) {
        Ok(Some(info)) => info,
        Ok(None) => {
            return format!(
                "none yet ({}); dtops provision requests it",
                ctx.site.cert_live_dir().display()
            )
        }
        Err(e) => return format!("unreadable: {e:#}"),
    };
    let params = certbot::renewal_params(ctx)
        .ok()
        .flatten()
        .unwrap_or_default();
    let server = params
        .get("server")
        .map(String::as_str)
        .unwrap_or("unknown");
    let kind = if server == ctx.site.tls.acme_server {
        "from tls.acme_server"
    } else if server == ctx.site.tls.staging_server {
        "STAGING (browsers do not trust it): run dtops provision without --staging"
    } else {
        "from another ACME server than site.toml names"
    };
    let mut hook = match params.get("renew_hook") {
        Some(hook) if *hook == certbot::deploy_hook(ctx) => "deploy hook reloads nginx".to_string(),
        Some(_) => "deploy hook differs from dtops' (renewals may not reload nginx)".into(),
        None => "NO deploy hook: renewals will not reload nginx".into(),
    };
    if let Ok(Some((_, found))) = certbot::renewal::read(ctx) {
        let other: Vec<String> = certbot::renewal::drift(&found, &certbot::renewal::wanted(ctx))
            .into_iter()
            .filter(|d| !d.contains("deploy hook"))
            .collect();
        if !other.is_empty() {
            hook.push_str(&format!(
                "; renewals would FAIL ({}): dtops provision fixes it",
                other.join("; ")
            ));
        }
    }
    let due = if info.due() { "; DUE for renewal" } else { "" };
    format!(
        "{}: {}{due}; {kind} ({server}); {hook}",
        ctx.site.tls.cert_name,
        info.describe()
    )
}
