//! The nginx steps (runbook §5): nginx itself is sound before we touch it, our web
//! directories, our site in the phase the host's facts call for (swapped in, tested, restored
//! on failure), the reload handler, and the HTTPS probe after phase 2 is live.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{DirectoryStep, Owner};
use crate::engine::{Change, Ctx, Handler, Plan, Step};
use crate::nginx::{self, Entry, Phase, TxnError};
use crate::render::{self, NginxFacts, Renderer};

/// How long a probe waits for a reload to take effect (reloads are asynchronous: old workers
/// answer for a moment).
pub const PROBE_WAIT: Duration = Duration::from_secs(15);

/// The nginx and certificate steps of `dtops provision`, in order.
pub fn nginx_steps<'a>(site: &crate::site::Site) -> Vec<Box<dyn Step + 'a>> {
    vec![
        Box::new(NginxCheckStep),
        Box::new(DirectoryStep::new(
            site.nginx.webroot.as_path().to_path_buf(),
            Owner::Root,
            0o755,
        )),
        Box::new(DirectoryStep::new(
            site.nginx_site_root(),
            Owner::Root,
            0o755,
        )),
        Box::new(NginxSiteStep {
            after_certificate: false,
        }),
        Box::new(ReloadNginxStep),
        Box::new(super::certificate::CertPreflightStep),
        Box::new(super::certificate::CertificateStep),
        Box::new(NginxSiteStep {
            after_certificate: true,
        }),
        Box::new(ReloadNginxStep),
        Box::new(HttpsProbeStep),
    ]
}

/// nginx is installed and its whole configuration already passes `nginx -t`: dtops changes
/// nothing in a configuration someone else has broken.
pub struct NginxCheckStep;

impl Step for NginxCheckStep {
    fn name(&self) -> String {
        "nginx".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let version = nginx::version(ctx).map_err(|e| {
            anyhow::anyhow!("{e:#}\nnginx must be installed and running (apt-get install nginx)")
        })?;
        if let Err(words) = nginx::test(ctx)? {
            if !nginx::failure_is_ours(ctx, &words) {
                return Err(TxnError::AlreadyBroken {
                    blame: nginx::blamed_file(&words)
                        .map(|p| format!(" ({} is the broken file)", p.display()))
                        .unwrap_or_default(),
                    words,
                }
                .into());
            }
            return Ok(Plan::Ok(format!(
                "nginx {version}; nginx -t fails because of our own site, which the next steps \
                 repair: {}",
                words.replace('\n', " / ")
            )));
        }
        Ok(Plan::Ok(format!(
            "nginx {version}; nginx -t passes; HTTP/2 as {}",
            if version.has_http2_directive() {
                "`http2 on;`"
            } else {
                "`listen ... ssl http2;`"
            }
        )))
    }

    fn apply(&self, _ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        unreachable!("the nginx check only checks")
    }
}

/// The nginx facts of this host for `phase`.
fn facts(ctx: &Ctx, phase: Phase) -> anyhow::Result<NginxFacts> {
    Ok(NginxFacts {
        version: nginx::version(ctx)?,
        phase,
        sandbox: ctx.host.sandbox().map(Path::to_path_buf),
    })
}

/// Our nginx files for `phase`, as transaction entries, and the rendered site file.
pub fn site_entries(ctx: &Ctx, phase: Phase) -> anyhow::Result<(Vec<Entry>, String)> {
    let renderer = Renderer::new(ctx.templates)?;
    let mut entries = Vec::new();
    let mut site_file = String::new();
    for artifact in render::render_nginx(&renderer, ctx.site, &facts(ctx, phase)?)? {
        let is_site = artifact.path == ctx.site.nginx.site_file.as_path();
        if is_site {
            site_file = artifact.content.clone();
        }
        entries.push(Entry::File {
            path: artifact.path,
            content: artifact.content,
            mode: artifact.mode,
            must_load: !is_site,
        });
    }
    entries.push(Entry::Link {
        path: ctx.site.nginx.enabled_link.as_path().to_path_buf(),
        target: ctx.site.nginx.site_file.as_path().to_path_buf(),
    });
    Ok((entries, site_file))
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
        let phase = nginx::wanted_phase(ctx);
        if self.after_certificate && phase == Phase::One && ctx.dry_run() {
            return Ok(Plan::Unknown(
                "phase 2 follows once certbot has issued the certificate".into(),
            ));
        }
        let (entries, site_file) = site_entries(ctx, phase)?;
        let mut changes = Vec::new();
        for entry in &entries {
            changes.extend(entry.difference(ctx)?);
        }
        if changes.is_empty() {
            return Ok(Plan::Ok(format!(
                "{phase} in place ({})",
                ctx.site.nginx.site_file
            )));
        }
        let current = ctx
            .host
            .read(ctx.site.nginx.site_file.as_path())?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let label = ctx.site.nginx.site_file.to_string();
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
        let phase = nginx::wanted_phase(ctx);
        let (entries, _) = site_entries(ctx, phase)?;
        let done = nginx::apply(ctx, &entries)?;
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
                ctx.site.commands.reload_nginx.join(" ")
            ))))
        } else {
            Ok(Plan::Ok("not needed".into()))
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        {
            let _lock = nginx::NginxLock::acquire(ctx)?;
            nginx::reload(ctx)?;
        }
        ctx.clear_handler(Handler::ReloadNginx)?;
        Ok("nginx -t passed; reloaded".into())
    }
}

/// After phase 2 is live: nginx serves the certificate on disk for both names (`nginx -t`
/// cannot see a port taken by someone else), the api answers through it, HTTP redirects.
pub struct HttpsProbeStep;

impl Step for HttpsProbeStep {
    fn name(&self) -> String {
        "https probe".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        if nginx::phase_on_disk(ctx)? != Some(Phase::Two) {
            return Ok(if ctx.dry_run() {
                Plan::Unknown("phase 2 is written by an earlier step".into())
            } else {
                Plan::Ok("phase 1: nothing served over HTTPS yet".into())
            });
        }
        if ctx.dry_run() && ctx.handler_pending(Handler::ReloadNginx)? {
            return Ok(Plan::Unknown("nginx is reloaded by an earlier step".into()));
        }
        let started = Instant::now();
        loop {
            match probe_https(ctx) {
                Ok(detail) => return Ok(Plan::Ok(detail)),
                Err(e) if started.elapsed() >= PROBE_WAIT || ctx.dry_run() => {
                    anyhow::bail!(
                        "{e}\nnginx -t passed, so the configuration is valid, but nginx does not \
                         serve it as expected: another server may hold the port \
                         (`ss -ltnp 'sport = :{}'`), or nginx was not reloaded",
                        ctx.site.nginx.listen_https[0].port
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn apply(&self, _ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        unreachable!("the probe only checks")
    }
}

/// One round of the HTTPS probe; the first problem found.
fn probe_https(ctx: &Ctx) -> Result<String, String> {
    let site = ctx.site;
    let https = site.nginx.listen_https[0].probe_addr();
    let http = site.nginx.listen_http[0].probe_addr();
    let on_disk = crate::certbot::cert_info(ctx)
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
