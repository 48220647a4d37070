//! The certificate steps (runbook §6): preflights before asking the CA (Let's Encrypt limits
//! failed validations: never let the CA find out what a local check can), then
//! `certbot certonly --webroot` only when the certificate is missing, due, for other names, or
//! from another ACME server than this run asks.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::certbot::{self, renewal, CertInfo};
use crate::engine::{Change, Ctx, Plan, Step};
use crate::host::{FileKind, Ownership};
use crate::nginx::{self, Phase};

/// Why a certificate must be requested, if it must.
enum Need {
    Missing,
    Names(Vec<String>),
    Due(i64),
    Server { have: String },
}

impl Need {
    fn describe(&self, ctx: &Ctx) -> String {
        let server = ctx.tls.server(ctx.site);
        let names = ctx.site.tls_names().map(|n| n.to_string()).join(", ");
        match self {
            Need::Missing => format!(
                "request a certificate for {names} from {server} (certbot certonly --webroot, \
                 cert name {})",
                ctx.site.tls.cert_name
            ),
            Need::Names(have) => format!(
                "re-request the certificate for {names} (it covers {})",
                have.join(", ")
            ),
            Need::Due(days) => format!("renew the certificate ({days} days left)"),
            Need::Server { have } => {
                format!("replace the certificate from {have} with one from {server}")
            }
        }
    }

    /// Why, in a few words, for the report after the fact.
    fn reason(&self) -> String {
        match self {
            Need::Missing => "there was none".into(),
            Need::Names(have) => format!("the old one covered {}", have.join(", ")),
            Need::Due(days) => format!("{days} days were left"),
            Need::Server { have } => format!("replacing the certificate from {have}"),
        }
    }

    fn force_renewal(&self) -> bool {
        matches!(self, Need::Server { .. })
    }
}

fn need(ctx: &Ctx) -> anyhow::Result<(Option<Need>, Option<CertInfo>)> {
    let info = if nginx::cert_present(ctx) {
        certbot::cert_info(ctx)?
    } else {
        None
    };
    let Some(info) = info else {
        return Ok((Some(Need::Missing), None));
    };
    let names: Vec<&str> = ctx.site.tls_names().map(|n| n.as_str()).to_vec();
    if !info.covers(&names) {
        return Ok((Some(Need::Names(info.names.clone())), Some(info)));
    }
    if info.due() {
        return Ok((Some(Need::Due(info.days_left())), Some(info)));
    }
    let want = ctx.tls.server(ctx.site);
    let have = certbot::renewal_params(ctx)?
        .and_then(|p| p.get("server").cloned())
        .unwrap_or_default();
    if !have.is_empty() && have != want {
        return Ok((Some(Need::Server { have }), Some(info)));
    }
    Ok((None, Some(info)))
}

/// Before asking the CA: each name resolves to this host (`host.public_ip`), and nginx serves
/// a canary file from the webroot through each name on the HTTP port, exactly as the CA's
/// validation will fetch its challenge. Runs only when a certificate will be requested.
pub struct CertPreflightStep;

impl Step for CertPreflightStep {
    fn name(&self) -> String {
        "certificate preflight".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let (need, _) = need(ctx)?;
        let Some(need) = need else {
            return Ok(Plan::Ok(
                "the certificate is present and not due: no request, no preflight".into(),
            ));
        };
        if ctx.dry_run() {
            return Ok(Plan::Unknown(format!(
                "checked right before certbot runs (DNS{}, canary via each name), which will {}",
                if ctx.tls.skip_dns_check {
                    " skipped"
                } else {
                    ""
                },
                need.describe(ctx)
            )));
        }
        let mut found = Vec::new();
        let dns = if ctx.tls.skip_dns_check {
            found.push(format!(
                "WARNING: DNS preflight skipped (--skip-dns-check); the names must still reach \
                 this host's port {} for the CA (through the proxy)",
                ctx.site.nginx.listen_http[0].port
            ));
            None
        } else {
            let detail = check_dns(ctx).map_err(|e| stays(ctx, "DNS preflight", &e))?;
            found.push(detail);
            Some(ctx.site.host.public_ip)
        };
        found.push(canary(ctx, dns).map_err(|e| stays(ctx, "canary preflight", &e))?);
        Ok(Plan::Ok(found.join("; ")))
    }

    fn apply(&self, _ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        unreachable!("the preflight only checks")
    }
}

/// A failed check, with where that leaves the box.
fn stays(ctx: &Ctx, check: &str, why: &str) -> anyhow::Error {
    stays_after(ctx, check, why, "No certificate was requested")
}

fn stays_after(ctx: &Ctx, check: &str, why: &str, outcome: &str) -> anyhow::Error {
    let state = match nginx::phase_on_disk(ctx) {
        Ok(Some(Phase::Two)) => "nginx keeps serving the current certificate (phase 2)",
        _ => {
            "the box stays on phase 1 (HTTP only: ACME challenges, 503 elsewhere; nginx -t passes)"
        }
    };
    anyhow::anyhow!("{check} failed: {why}\n{outcome}; {state}.")
}

fn check_dns(ctx: &Ctx) -> Result<String, String> {
    let want = ctx.site.host.public_ip;
    let resolver = ctx.site.tls.dns_resolver;
    let asked = match resolver {
        Some(server) => format!("asked {server} (tls.dns_resolver)"),
        None => "asked the system resolver".to_string(),
    };
    for name in ctx.site.tls_names() {
        let what = match nginx::resolve_ipv4(name.as_str(), resolver) {
            Err(e) => format!("{name} does not resolve: {e}"),
            Ok(found) if found.is_empty() => format!("{name} does not resolve: no A record"),
            Ok(found) if found.iter().any(|ip| *ip != want) => format!(
                "{name} resolves to {}, not {want} (host.public_ip)",
                found
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ok(_) => continue,
        };
        return Err(format!(
            "{what} ({asked}). Add or fix the A record (SETUP §1a) and wait for it to \
             propagate; if a proxy such as Cloudflare answers for the name, run with \
             --skip-dns-check"
        ));
    }
    Ok(format!(
        "DNS: {} resolve to {want}",
        ctx.site.tls_names().map(|n| n.to_string()).join(" and ")
    ))
}

/// Serves a random file from the webroot and fetches it through each name: at `public_ip` when
/// DNS was checked (the CA's path), else at the local HTTP listener.
fn canary(ctx: &Ctx, public_ip: Option<std::net::Ipv4Addr>) -> Result<String, String> {
    let site = ctx.site;
    let listen = site.nginx.listen_http[0];
    let addr = match public_ip {
        Some(ip) => SocketAddr::new(IpAddr::V4(ip), listen.port),
        None => listen.probe_addr(),
    };
    let dir = site
        .nginx
        .webroot
        .as_path()
        .join(".well-known/acme-challenge");
    let mut token = [0u8; 16];
    getrandom::getrandom(&mut token).map_err(|e| e.to_string())?;
    let token = format!("dtops-canary-{}", hex::encode(token));
    let file = dir.join(&token);
    let made = (|| -> anyhow::Result<()> {
        for d in [dir.parent().unwrap(), dir.as_path()] {
            if ctx.host.state(d)?.is_none() {
                ctx.host.create_dir(
                    d,
                    Ownership {
                        uid: 0,
                        gid: 0,
                        mode: 0o755,
                    },
                )?;
            } else if ctx.host.state(d)?.is_some_and(|s| s.kind != FileKind::Dir) {
                anyhow::bail!("{} is not a directory", d.display());
            }
        }
        ctx.host.write_atomic(
            &file,
            token.as_bytes(),
            Ownership {
                uid: 0,
                gid: 0,
                mode: 0o644,
            },
        )?;
        Ok(())
    })();
    let result = made.map_err(|e| format!("{e:#}")).and_then(|()| {
        let path = format!("/.well-known/acme-challenge/{token}");
        for name in site.tls_names() {
            fetch_canary(name.as_str(), addr, &path, &token)?;
        }
        Ok(format!(
            "canary: http://NAME{path} served through both names at {addr}",
            path = "/.well-known/acme-challenge/…"
        ))
    });
    let _ = ctx.host.remove_file(&file);
    result
}

fn fetch_canary(name: &str, addr: SocketAddr, path: &str, token: &str) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let last = match nginx::http_get(name, addr, path) {
            Ok(answer) if answer.status == 200 && answer.body == token => return Ok(()),
            Ok(answer) => format!(
                "answered {}{}",
                answer.status,
                if answer.status == 200 {
                    " with other content"
                } else {
                    ""
                }
            ),
            Err(e) => e,
        };
        if started.elapsed() >= super::nginx::PROBE_WAIT {
            return Err(format!(
                "http://{name}{path} (at {addr}) {last}, not the canary file. nginx must serve \
                 {name}'s /.well-known/acme-challenge/ from the webroot on port {}: check that \
                 nothing in front (a proxy, NAT, another server_name) answers instead",
                addr.port()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `certbot certonly --webroot` when the certificate is missing, due, for other names, or from
/// another server than this run asks (`--staging` and back).
pub struct CertificateStep;

impl Step for CertificateStep {
    fn name(&self) -> String {
        "certificate".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        match need(ctx)? {
            (Some(need), _) => Ok(Plan::Change(Change::new(need.describe(ctx)))),
            (None, Some(info)) => {
                let drift = renewal_drift(ctx)?;
                if !drift.is_empty() {
                    return Ok(Plan::Change(Change::new(format!(
                        "fix the renewal settings in {} (certbot.timer's renewals would fail or \
                         not reload nginx): {}",
                        ctx.site.cert_renewal_conf().display(),
                        drift.join("; ")
                    ))));
                }
                Ok(Plan::Ok(format!(
                    "{}: {}; not due, no request",
                    ctx.site.tls.cert_name,
                    info.describe()
                )))
            }
            (None, None) => unreachable!("no certificate is always a need"),
        }
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let (need, _) = need(ctx)?;
        let Some(need) = need else {
            return fix_renewal(ctx);
        };
        let server = ctx.tls.server(ctx.site);
        let mut command = certbot::certonly(ctx, server, need.force_renewal());
        if matches!(need, Need::Server { .. }) && ctx.tls.staging {
            // certbot refuses to replace a trusted certificate with a staging one without it.
            command = command.arg("--break-my-certs");
        }
        let out = ctx.host.probe(&command)?;
        if !out.success {
            let text = format!("{}\n{}", out.stdout, out.stderr);
            let summary = certbot::failure_summary(&text);
            let (kind, advice) = certbot::failure_kind(&summary);
            return Err(stays_after(
                ctx,
                "certbot",
                &format!(
                    "{kind} failed:\n{summary}\nWhat to do: {advice}.\n(`{command}`; \
                     certbot's log: {})",
                    certbot::log_file(ctx).display()
                ),
                "No certificate was issued",
            ));
        }
        let info = certbot::cert_info(ctx)?.ok_or_else(|| {
            anyhow::anyhow!(
                "certbot succeeded but {} has no cert.pem",
                ctx.site.cert_live_dir().display()
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
fn renewal_drift(ctx: &Ctx) -> anyhow::Result<Vec<String>> {
    Ok(match renewal::read(ctx)? {
        Some((_, found)) => renewal::drift(&found, &renewal::wanted(ctx)),
        None => Vec::new(),
    })
}

/// Sets the authenticator, webroot and deploy hook in `renewal/<cert_name>.conf` (certbot 2.1
/// has no `reconfigure`); the previous file is kept in `.dtops/previous/`.
fn fix_renewal(ctx: &Ctx) -> anyhow::Result<String> {
    let path = ctx.site.cert_renewal_conf();
    let Some((text, found)) = renewal::read(ctx)? else {
        return Ok("nothing to do any more".into());
    };
    let wanted = renewal::wanted(ctx);
    let fixed = renewal::drift(&found, &wanted);
    let own = ctx
        .host
        .state(&path)?
        .map(|s| s.ownership)
        .unwrap_or(Ownership {
            uid: 0,
            gid: 0,
            mode: 0o644,
        });
    let keep = ctx.site.state_dir().join("previous").join(format!(
        "letsencrypt-renewal-{}",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    ctx.host.create_parents(&keep)?;
    ctx.host.write_atomic(
        &keep,
        text.as_bytes(),
        Ownership {
            uid: 0,
            gid: 0,
            mode: 0o600,
        },
    )?;
    let new = renewal::with_settings(&text, &wanted);
    ctx.host.write_atomic(&path, new.as_bytes(), own)?;
    Ok(format!(
        "{}: renewals now use the webroot {} and run the deploy hook (was: {}; previous file \
         in {})",
        path.display(),
        wanted.webroot,
        fixed.join("; "),
        keep.display()
    ))
}
