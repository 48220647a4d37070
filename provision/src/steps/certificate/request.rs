//! The certificate request: `certbot certonly --webroot` when the certificate is missing, due,
//! for other names, or from another server than this run asks (`--staging` and back); and the
//! lineage's renewal settings kept as renewals need them.

use super::need::{assess, stays_after, Assessment, Need};
use super::options::TlsOptions;
use crate::certbot::{self, renewal};
use crate::engine::{Change, Ctx, Plan, Step};
use crate::env::Env;
use crate::host::Ownership;

/// `certbot certonly --webroot` when the certificate is missing, due, for other names, or from
/// another server than this run asks (`--staging` and back).
pub struct CertificateStep {
    pub tls: TlsOptions,
}

impl Step for CertificateStep {
    fn name(&self) -> String {
        "certificate".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        match assess(&ctx.env, self.tls)? {
            Assessment::Request(need) => {
                Ok(Plan::Change(Change::new(need.describe(&ctx.env, self.tls))))
            }
            Assessment::Keep(info) => {
                let drift = renewal_drift(&ctx.env)?;
                if !drift.is_empty() {
                    return Ok(Plan::Change(Change::new(format!(
                        "fix the renewal settings in {} (certbot.timer's renewals would fail or \
                         not reload nginx): {}",
                        ctx.env.site.cert_renewal_conf().display(),
                        drift.join("; ")
                    ))));
                }
                Ok(Plan::Ok(format!(
                    "{}: {}; not due, no request",
                    ctx.env.site.tls.cert_name,
                    info.describe()
                )))
            }
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let Assessment::Request(need) = assess(&ctx.env, self.tls)? else {
            return fix_renewal(&ctx.env);
        };
        let server = self.tls.server(ctx.env.site);
        let mut command = certbot::certonly(&ctx.env, server, need.force_renewal());
        if matches!(need, Need::Server { .. }) && self.tls.staging {
            // certbot refuses to replace a trusted certificate with a staging one without it.
            command = command.arg("--break-my-certs");
        }
        let out = ctx.env.host.probe(&command)?;
        if !out.success {
            let text = format!("{}\n{}", out.stdout, out.stderr);
            let summary = certbot::failure_summary(&text);
            let (kind, advice) = certbot::failure_kind(&summary);
            return Err(stays_after(
                &ctx.env,
                "certbot",
                &format!(
                    "{kind} failed:\n{summary}\nWhat to do: {advice}.\n(`{command}`; \
                     certbot's log: {})",
                    certbot::log_file(&ctx.env).display()
                ),
                "No certificate was issued",
            ));
        }
        let info = certbot::cert_info(&ctx.env)?.ok_or_else(|| {
            anyhow::anyhow!(
                "certbot succeeded but {} has no cert.pem",
                ctx.env.site.cert_live_dir().display()
            )
        })?;
        Ok(format!(
            "issued by {server} ({}): {}",
            need.reason(),
            info.describe()
        ))
    }
}

/// How the lineage's renewal configuration differs from what renewals need (a certificate
/// obtained by hand with the runbook's webroot and no hook, or `[commands]` changed since).
fn renewal_drift(env: &Env) -> anyhow::Result<Vec<String>> {
    Ok(match renewal::read(env)? {
        Some((_, found)) => renewal::drift(&found, &renewal::wanted(env)),
        None => Vec::new(),
    })
}

/// Sets the authenticator, webroot and deploy hook in `renewal/<cert_name>.conf` (certbot 2.1
/// has no `reconfigure`); the previous file is kept in `.dtops/previous/`.
fn fix_renewal(env: &Env) -> anyhow::Result<String> {
    let path = env.site.cert_renewal_conf();
    let Some((text, found)) = renewal::read(env)? else {
        return Ok("nothing to do any more".into());
    };
    let wanted = renewal::wanted(env);
    let fixed = renewal::drift(&found, &wanted);
    let own = env
        .host
        .state(&path)?
        .map(|s| s.ownership)
        .unwrap_or(Ownership {
            uid: 0,
            gid: 0,
            mode: 0o644,
        });
    let keep = env.site.state_dir().join("previous").join(format!(
        "letsencrypt-renewal-{}",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    env.host.create_parents(&keep)?;
    env.host.write_atomic(
        &keep,
        text.as_bytes(),
        Ownership {
            uid: 0,
            gid: 0,
            mode: 0o600,
        },
    )?;
    let new = renewal::with_settings(&text, &wanted);
    env.host.write_atomic(&path, new.as_bytes(), own)?;
    Ok(format!(
        "{}: renewals now use the webroot {} and run the deploy hook (was: {}; previous file \
         in {})",
        path.display(),
        wanted.webroot,
        fixed.join("; "),
        keep.display()
    ))
}
