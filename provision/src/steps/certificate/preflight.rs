//! The certificate preflight: before the CA is asked, each name resolves to this host and nginx
//! serves a file from the webroot through each name, exactly as the CA's validation will fetch
//! its challenge. The canary is a file written into the webroot, so the checks run in `apply`:
//! `plan` never changes the host.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::need::{assess, stays_after, Assessment};
use super::options::TlsOptions;
use crate::engine::{Change, Ctx, Plan, Step};
use crate::env::Env;
use crate::host::{FileKind, Ownership};
use crate::nginx::{self, RELOAD_WAIT};
use crate::poll;

/// Runs only when a certificate will be requested.
pub struct CertPreflightStep {
    pub tls: TlsOptions,
}

impl Step for CertPreflightStep {
    fn name(&self) -> String {
        "certificate preflight".into()
    }

    fn plan(&self, ctx: &Ctx) -> anyhow::Result<Plan> {
        let Assessment::Request(need) = assess(&ctx.env, self.tls)? else {
            return Ok(Plan::Ok(
                "the certificate is present and not due: no request, no preflight".into(),
            ));
        };
        let dns = if self.tls.skip_dns_check {
            " skipped"
        } else {
            ""
        };
        let what = format!(
            "checked right before certbot runs (DNS{dns}, canary via each name), which will {}",
            need.describe(&ctx.env, self.tls)
        );
        // What the checks find is only known once they have run.
        Ok(if ctx.dry_run() {
            Plan::Unknown(what)
        } else {
            Plan::Change(Change::new(what))
        })
    }

    fn apply(&self, ctx: &Ctx, _change: &Change) -> anyhow::Result<String> {
        let env = &ctx.env;
        let site = env.site;
        let mut found = Vec::new();
        let dns = if self.tls.skip_dns_check {
            found.push(format!(
                "WARNING: DNS preflight skipped (--skip-dns-check); the names must still reach \
                 this host's port {} for the CA (through the proxy)",
                site.nginx.listen_http[0].port
            ));
            None
        } else {
            let detail = check_dns(env).map_err(|e| stays(env, "DNS preflight", &e))?;
            found.push(detail);
            Some(site.host.public_ip)
        };
        found.push(canary(env, dns).map_err(|e| stays(env, "canary preflight", &e))?);
        Ok(found.join("; "))
    }
}

/// A failed check: no certificate was requested.
fn stays(env: &Env, check: &str, why: &str) -> anyhow::Error {
    stays_after(env, check, why, "No certificate was requested")
}

fn check_dns(env: &Env) -> Result<String, String> {
    let want = env.site.host.public_ip;
    let resolver = env.site.tls.dns_resolver;
    let asked = match resolver {
        Some(server) => format!("asked {server} (tls.dns_resolver)"),
        None => "asked the system resolver".to_string(),
    };
    for name in env.site.tls_names() {
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
        env.site.tls_names().map(|n| n.to_string()).join(" and ")
    ))
}

/// Serves a random file from the webroot and fetches it through each name: at `public_ip` when
/// DNS was checked (the CA's path), else at the local HTTP listener.
fn canary(env: &Env, public_ip: Option<std::net::Ipv4Addr>) -> Result<String, String> {
    let site = env.site;
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
            if env.host.state(d)?.is_none() {
                env.host.create_dir(
                    d,
                    Ownership {
                        uid: 0,
                        gid: 0,
                        mode: 0o755,
                    },
                )?;
            } else if env.host.state(d)?.is_some_and(|s| s.kind != FileKind::Dir) {
                anyhow::bail!("{} is not a directory", d.display());
            }
        }
        env.host.write_atomic(
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
    let _ = env.host.remove_file(&file);
    result
}

fn fetch_canary(name: &str, addr: SocketAddr, path: &str, token: &str) -> Result<(), String> {
    poll::until(
        RELOAD_WAIT,
        Duration::from_millis(200),
        || match nginx::http_get(name, addr, path) {
            Ok(answer) if answer.status == 200 && answer.body == token => Ok(()),
            Ok(answer) => Err(format!(
                "answered {}{}",
                answer.status,
                if answer.status == 200 {
                    " with other content"
                } else {
                    ""
                }
            )),
            Err(e) => Err(e),
        },
    )
    .map_err(|last| {
        format!(
            "http://{name}{path} (at {addr}) {last}, not the canary file. nginx must serve \
             {name}'s /.well-known/acme-challenge/ from the webroot on port {}: check that \
             nothing in front (a proxy, NAT, another server_name) answers instead",
            addr.port()
        )
    })
}
