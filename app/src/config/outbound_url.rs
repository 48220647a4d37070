//! The base URLs of the services we call out to (`POSTMARK_API_URL`, `GUMROAD_API_URL`): https,
//! or plain http only to this machine (a local stand-in: tests, a relay on the box) or in
//! development. A token sent over plain http to another host could be read on the way.

use std::net::IpAddr;

use super::error::{invalid, ConfigError};
use super::settings::Environment;

/// `text` checked for `name`, without a trailing slash.
pub(super) fn outbound_url(
    name: &'static str,
    text: &str,
    environment: Environment,
    service: &str,
) -> Result<String, ConfigError> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|e| {
        invalid(
            name,
            format!("{text:?} is not a URL ({e}); leave it unset for {service} itself"),
        )
    })?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback || environment == Environment::Development => {}
        "http" => {
            return Err(invalid(
                name,
                format!(
                    "{text:?} is plain http to another host: use https:// (plain http only to \
                     a loopback address, for a local stand-in), or leave it unset for {service} \
                     itself"
                ),
            ))
        }
        _ => {
            return Err(invalid(
                name,
                format!("{text:?} is not an http(s) URL; leave it unset for {service} itself"),
            ))
        }
    }
    Ok(text.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_or_loopback_http() {
        let check =
            |text: &str, env| outbound_url("X_URL", text, env, "it").map_err(|e| e.to_string());
        let prod = Environment::Production;
        assert_eq!(
            check("https://api.postmarkapp.com/", prod).unwrap(),
            "https://api.postmarkapp.com"
        );
        assert!(check("http://127.0.0.1:9/postmark", prod).is_ok());
        assert!(check("http://[::1]:9", prod).is_ok());
        assert!(check("http://localhost:9", prod).is_ok());
        let refused = check("http://api.postmarkapp.com", prod).unwrap_err();
        assert!(
            refused.contains("X_URL") && refused.contains("https://"),
            "{refused}"
        );
        assert!(check("http://api.postmarkapp.com", Environment::Development).is_ok());
        assert!(check("ftp://x.example", prod).is_err());
        assert!(check("not a url", prod).is_err());
    }
}
