//! The buyer portal's switch, its public URL and its global send limit.

use super::defaults;
use super::error::{invalid, ConfigError};
use super::settings::{EmailConfig, Environment, PortalConfig};
use super::vars;

pub(super) fn portal_config(
    var: &impl Fn(&str) -> Option<String>,
    environment: Environment,
    email: &EmailConfig,
) -> Result<PortalConfig, ConfigError> {
    let enabled = match var(vars::PORTAL).as_deref().map(str::trim) {
        None | Some("off") => false,
        Some("on") => true,
        Some(other) => return Err(invalid(vars::PORTAL, format!("{other:?} is not on or off"))),
    };
    let public = match var(vars::PUBLIC_URL) {
        Some(url) => Some(public_url(url.trim(), environment)?),
        None if enabled => {
            return Err(ConfigError::Missing(
                vars::PUBLIC_URL,
                "the portal needs the server's public base URL for its sign-in links, e.g. \
                 https://licenses.datatools.unalogix.com",
            ))
        }
        None => None,
    };
    if enabled && email.postmark.is_none() && email.outbox_dir.is_none() {
        return Err(invalid(
            vars::PORTAL,
            "the portal signs buyers in by email, and no mail provider is configured: set \
             POSTMARK_TOKEN_FILE (or DATATOOLS_OUTBOX_DIR in development)",
        ));
    }
    let links_per_day = match var(vars::PORTAL_LINKS_PER_DAY) {
        None => defaults::PORTAL_LINKS_PER_DAY,
        Some(n) => n
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                invalid(
                    vars::PORTAL_LINKS_PER_DAY,
                    format!("{n:?} is not 1 to 100000"),
                )
            })?,
    };
    let (public_url, public_origin) = public.unzip();
    Ok(PortalConfig {
        enabled,
        public_url,
        public_origin,
        links_per_day,
    })
}

/// The base URL without a trailing slash, and its origin. https only, except in development
/// (tests and `dtops dev` serve plain HTTP on 127.0.0.1).
fn public_url(text: &str, environment: Environment) -> Result<(String, String), ConfigError> {
    let bad = |why: &str| invalid(vars::PUBLIC_URL, format!("{text:?} {why}"));
    let url = reqwest::Url::parse(text).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if environment == Environment::Development => {}
        _ => return Err(bad("must start with https://")),
    }
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must name a host, without a user or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must be the bare base URL (no path, query or fragment), e.g. https://licenses.example.com",
        ));
    }
    let origin = url.origin().ascii_serialization();
    Ok((origin.clone(), origin))
}
