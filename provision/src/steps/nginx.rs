//! The nginx steps (SETUP-LICENSE-SERVER.md §5–6): nginx itself is sound before we touch it, our
//! site in the phase the host's facts call for (swapped in, tested, restored on failure), the
//! reload handler, and the HTTPS probe after phase 2 is live. The web directories are plain
//! `DirectoryStep`s.

use std::time::Duration;

use crate::engine::{Change, Check, Ctx, Handler, Plan, Step, Verdict};
use crate::nginx::{self, TxnError, RELOAD_WAIT};
use crate::poll;
use crate::render::Phase;

/// nginx is installed and its whole configuration already passes `nginx -t`: dtops changes
/// nothing in a configuration someone else has broken.
pub struct NginxCheck;

impl Check for NginxCheck {
    fn name(&self) -> String {
        "nginx".into()
    }

    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict> {
        let env = &ctx.env;
        let version = nginx::version(env).map_err(|e| {
            anyhow::anyhow!("{e:#}\nnginx must be installed and running (apt-get install nginx)")
        })?;
        if let Err(failure) = nginx::test(env)? {
            if !failure.is_ours(env) {
                return Err(TxnError::already_broken(failure).into());
            }
            return Ok(Verdict::Ok(format!(
                "nginx {version}; nginx -t fails because of our own site, which the next steps \
                 repair: {}",
                failure.words.replace('\n', " / ")
            )));
        }
        Ok(Verdict::Ok(format!(
            "nginx {version}; nginx -t passes; {}",
            nginx::http2_choice(env, version)
        )))
    }
}

/// Our site, the http-context include and the sites-enabled link, for the phase the host's
/// facts call for: phase 2 only once the certificate exists. It runs before the certificate
/// step (phase 1 on a fresh box; nothing to do on a converged one) and after it (phase 2).
pub struct NginxSiteStep {
    pub after_certificate: bool,
}

impl Step for NginxSiteStep {
    fn name(&self) -> String {
        if self.after_certificate {
            "nginx site (with the certificate)".into()
        } else {
            "nginx site".into()
        }
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let (env, site) = (&ctx.env, ctx.env.site);
        let phase = nginx::wanted_phase(env);
        if self.after_certificate && phase == Phase::One && ctx.dry_run() {
            return Ok(Plan::Unknown(
                "phase 2 follows once certbot has issued the certificate".into(),
            ));
        }
        let (entries, site_file) = nginx::site_entries(env, phase)?;
        let mut changes = Vec::new();
        for entry in &entries {
            changes.extend(entry.difference(env)?);
        }
        if changes.is_empty() {
            return Ok(Plan::Ok(format!(
                "{phase} in place ({})",
                site.nginx.site_file
            )));
        }
        let current = env
            .host
            .read(site.nginx.site_file.as_path())?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let label = site.nginx.site_file.to_string();
        let diff = (current != site_file).then(|| {
            similar::TextDiff::from_lines(current.as_str(), site_file.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&label, &label)
                .to_string()
        });
        Ok(Plan::Change(
            Change::new(format!("{phase}: {}", changes.join("; ")))
                .with_diff(diff)
                .notifying(Handler::ReloadNginx),
        ))
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let phase = nginx::wanted_phase(&ctx.env);
        let (entries, _) = nginx::site_entries(&ctx.env, phase)?;
        let done = nginx::apply(&ctx.env, &entries)?;
        Ok(format!(
            "{phase}: {}; nginx -t passes",
            if done.is_empty() {
                "nothing left to change".to_string()
            } else {
                done.join("; ")
            }
        ))
    }
}

/// The handler: test and reload nginx when our files changed, in this run or in an earlier one
/// that failed before reloading.
pub struct ReloadNginxStep;

impl Step for ReloadNginxStep {
    fn name(&self) -> String {
        "nginx reload".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if ctx.handler_pending(Handler::ReloadNginx)? {
            Ok(Plan::Change(Change::new(format!(
                "test and reload nginx ({})",
                ctx.env.site.commands.reload_nginx.join(" ")
            ))))
        } else {
            Ok(Plan::Ok("not needed".into()))
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        {
            let _lock = nginx::NginxLock::acquire(&ctx.env)?;
            nginx::reload(&ctx.env)?;
        }
        ctx.clear_handler(Handler::ReloadNginx)?;
        Ok("nginx -t passed; reloaded".into())
    }
}

/// After phase 2 is live: nginx serves the certificate on disk for both names (`nginx -t`
/// cannot see a port taken by someone else), the api answers through it, HTTP redirects.
pub struct HttpsProbe;

impl Check for HttpsProbe {
    fn name(&self) -> String {
        "https probe".into()
    }

    fn check(&self, ctx: &Ctx) -> anyhow::Result<Verdict> {
        if nginx::phase_on_disk(&ctx.env)? != Some(Phase::Two) {
            return Ok(if ctx.dry_run() {
                Verdict::Unknown("phase 2 is written by an earlier step".into())
            } else {
                Verdict::Ok("phase 1: nothing served over HTTPS yet".into())
            });
        }
        if ctx.dry_run() && ctx.handler_pending(Handler::ReloadNginx)? {
            return Ok(Verdict::Unknown(
                "nginx is reloaded by an earlier step".into(),
            ));
        }
        // A dry run looks once; a real run gives a reload time to take effect.
        let wait = if ctx.dry_run() {
            Duration::ZERO
        } else {
            RELOAD_WAIT
        };
        match poll::until(wait, Duration::from_millis(200), || probe_https(ctx)) {
            Ok(detail) => Ok(Verdict::Ok(detail)),
            Err(e) => anyhow::bail!(
                "{e}\nnginx -t passed, so the configuration is valid, but nginx does not \
                 serve it as expected: another server may hold the port \
                 (`ss -ltnp 'sport = :{}'`), or nginx was not reloaded",
                ctx.env.site.nginx.listen_https[0].port
            ),
        }
    }
}

/// One round of the HTTPS probe; the first problem found.
fn probe_https(ctx: &Ctx) -> Result<String, String> {
    let site = ctx.env.site;
    let https = site.nginx.listen_https[0].probe_addr();
    let http = site.nginx.listen_http[0].probe_addr();
    let on_disk = crate::certbot::cert_info(&ctx.env)
        .map_err(|e| format!("{e:#}"))?
        .ok_or("the certificate is gone from live/")?;
    for name in site.tls_names() {
        let served = nginx::served_serial(name.as_str(), https)?;
        if served != on_disk.serial {
            return Err(format!(
                "https://{name} (at {https}) serves the certificate with serial {served}, not \
                 {} from {}",
                on_disk.serial,
                site.cert_live_dir().display()
            ));
        }
        let answer = nginx::http_get(name.as_str(), http, "/")?;
        let wanted = format!("https://{name}");
        if answer.status != 301
            || !answer
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with(&wanted))
        {
            return Err(format!(
                "http://{name}/ (at {http}) answered {} {:?}, not a redirect to {wanted}",
                answer.status, answer.location
            ));
        }
    }
    let licenses = site.domains.licenses.as_str();
    let health = nginx::https_get(licenses, https, "/health")?;
    if health.status != 200 {
        return Err(format!(
            "https://{licenses}/health through nginx answered {}: {}",
            health.status,
            health.body.trim()
        ));
    }
    Ok(format!(
        "both names serve serial {} on {https}; https://{licenses}/health answers 200 over {}; \
         HTTP redirects to HTTPS",
        on_disk.serial, health.version
    ))
}
