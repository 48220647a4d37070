//! The nginx and certificate rows of `dtops status`: which phase our site is in (and whether
//! that is what the host's facts call for), whether nginx's whole configuration passes, and the
//! certificate's names, expiry, serial and ACME server.

use crate::certbot;
use crate::engine::{Ctx, Handler};
use crate::env::Env;
use crate::nginx;
use crate::render::Phase;

pub fn nginx_line(ctx: &Ctx) -> String {
    let env = &ctx.env;
    if !env.site.nginx.managed {
        return "not managed by dtops (site.toml nginx.managed = false)".into();
    }
    let version = match nginx::version(env) {
        Ok(version) => version,
        Err(e) => return format!("cannot run nginx: {e:#}"),
    };
    let phase = match nginx::phase_on_disk(env) {
        Ok(Some(phase)) => phase,
        Ok(None) => {
            return format!(
                "nginx {version}; our site is not installed ({}); `dtops provision` writes it",
                env.site.nginx.site_file
            )
        }
        Err(e) => return format!("cannot read {}: {e:#}", env.site.nginx.site_file),
    };
    let mut notes = Vec::new();
    let enabled = env
        .host
        .link_target(env.site.nginx.enabled_link.as_path())
        .ok()
        .flatten()
        == Some(env.host.path(env.site.nginx.site_file.as_path()));
    if !enabled {
        notes.push(format!(
            "NOT enabled ({} missing)",
            env.site.nginx.enabled_link
        ));
    }
    match nginx::site_entries(env, phase) {
        Ok((entries, _)) => {
            let drift: Vec<String> = entries
                .iter()
                .filter_map(|e| e.difference(env).ok().flatten())
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
    let wanted = nginx::wanted_phase(env);
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
    if phase == Phase::Two {
        notes.push(nginx::http2_choice(env, version));
    }
    match nginx::test(env) {
        Ok(Ok(())) => notes.push("nginx -t passes".into()),
        Ok(Err(failure)) => notes.push(format!(
            "nginx -t FAILS: {}",
            failure.words.replace('\n', " / ")
        )),
        Err(e) => notes.push(format!("nginx -t could not run: {e:#}")),
    }
    format!("{phase}; nginx {version}; {}", notes.join("; "))
}

pub fn certificate_line(env: &Env) -> String {
    if !env.site.nginx.managed {
        return "not managed by dtops (site.toml nginx.managed = false)".into();
    }
    let info = match certbot::cert_info(env) {
        Ok(Some(info)) => info,
        Ok(None) => {
            return format!(
                "none yet ({}); dtops provision requests it",
                env.site.cert_live_dir().display()
            )
        }
        Err(e) => return format!("unreadable: {e:#}"),
    };
    let params = certbot::renewal_params(env)
        .ok()
        .flatten()
        .unwrap_or_default();
    let server = params
        .get("server")
        .map(String::as_str)
        .unwrap_or("unknown");
    let kind = if server == env.site.tls.acme_server {
        "from tls.acme_server"
    } else if server == env.site.tls.staging_server {
        "STAGING (browsers do not trust it): run dtops provision without --staging"
    } else {
        "from another ACME server than site.toml names"
    };
    let mut hook = match params.get("renew_hook") {
        Some(hook) if *hook == certbot::deploy_hook(env) => "deploy hook reloads nginx".to_string(),
        Some(_) => "deploy hook differs from dtops' (renewals may not reload nginx)".into(),
        None => "NO deploy hook: renewals will not reload nginx".into(),
    };
    if let Ok(Some((_, found))) = certbot::renewal::read(env) {
        let other: Vec<String> = certbot::renewal::drift(&found, &certbot::renewal::wanted(env))
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
        env.site.tls.cert_name,
        info.describe()
    )
}
