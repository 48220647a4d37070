//! Whether a certificate must be requested, and why (missing, due, for other names, from another
//! ACME server than this run asks); and where a failure leaves the box.

use super::options::TlsOptions;
use crate::certbot::{self, CertInfo};
use crate::env::Env;
use crate::nginx;
use crate::render::Phase;

/// Why a certificate must be requested, if it must.
pub enum Need {
    Missing,
    Names(Vec<String>),
    Due(i64),
    Server { have: String },
}

impl Need {
    pub fn describe(&self, env: &Env, tls: TlsOptions) -> String {
        let site = env.site;
        let server = tls.server(site);
        let names = site.tls_names().map(|n| n.to_string()).join(", ");
        match self {
            Need::Missing => format!(
                "request a certificate for {names} from {server} (certbot certonly --webroot, \
                 cert name {})",
                site.tls.cert_name
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
    pub fn reason(&self) -> String {
        match self {
            Need::Missing => "there was none".into(),
            Need::Names(have) => format!("the old one covered {}", have.join(", ")),
            Need::Due(days) => format!("{days} days were left"),
            Need::Server { have } => format!("replacing the certificate from {have}"),
        }
    }

    pub fn force_renewal(&self) -> bool {
        matches!(self, Need::Server { .. })
    }
}

/// What the live certificate calls for.
pub enum Assessment {
    /// A request, and why.
    Request(Need),
    /// No request: the certificate is present, for the right names, not due, from the right
    /// server.
    Keep(CertInfo),
}

pub fn assess(env: &Env, tls: TlsOptions) -> anyhow::Result<Assessment> {
    let site = env.site;
    let info = if nginx::cert_present(env) {
        certbot::cert_info(env)?
    } else {
        None
    };
    let Some(info) = info else {
        return Ok(Assessment::Request(Need::Missing));
    };
    let names: Vec<&str> = site.tls_names().map(|n| n.as_str()).to_vec();
    if !info.covers(&names) {
        return Ok(Assessment::Request(Need::Names(info.names.clone())));
    }
    if info.due() {
        return Ok(Assessment::Request(Need::Due(info.days_left())));
    }
    let want = tls.server(site);
    let have = certbot::renewal_params(env)?
        .and_then(|p| p.get("server").cloned())
        .unwrap_or_default();
    if !have.is_empty() && have != want {
        return Ok(Assessment::Request(Need::Server { have }));
    }
    Ok(Assessment::Keep(info))
}

/// A failed check or request, with what did not happen and where that leaves the box.
pub fn stays_after(env: &Env, check: &str, why: &str, outcome: &str) -> anyhow::Error {
    let state = match nginx::phase_on_disk(env) {
        Ok(Some(Phase::Two)) => "nginx keeps serving the current certificate (phase 2)",
        _ => {
            "the box stays on phase 1 (HTTP only: ACME challenges, 503 elsewhere; nginx -t passes)"
        }
    };
    anyhow::anyhow!("{check} failed: {why}\n{outcome}; {state}.")
}
