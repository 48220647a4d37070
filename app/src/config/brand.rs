//! What the buyer sees the product called, where its header links, and its logo: the
//! portal's pages and the emails say the site's name, not ours.

use super::error::{invalid, ConfigError};
use super::settings::{BrandConfig, Environment};
use super::vars;

/// The name when `DATATOOLS_SITE_NAME` is not set.
pub(super) const DEFAULT_SITE_NAME: &str = "DataTools";
const MAX_NAME_CHARS: usize = 60;
const MAX_URL_LEN: usize = 2048;

pub(super) fn brand_config(
    var: &impl Fn(&str) -> Option<String>,
    environment: Environment,
) -> Result<BrandConfig, ConfigError> {
    let name = match var(vars::SITE_NAME) {
        None => DEFAULT_SITE_NAME.to_string(),
        Some(name) => {
            let name = name.trim().to_string();
            if name.is_empty()
                || name.chars().count() > MAX_NAME_CHARS
                || name
                    .chars()
                    .any(|c| c.is_control() || crate::text::is_bidi_control(c))
            {
                return Err(invalid(
                    vars::SITE_NAME,
                    format!(
                        "{name:?} must be 1 to {MAX_NAME_CHARS} characters, without control or \
                         direction-changing characters"
                    ),
                ));
            }
            name
        }
    };
    Ok(BrandConfig {
        name,
        url: web_url(var, vars::SITE_URL, environment)?,
        logo_url: web_url(var, vars::SITE_LOGO_URL, environment)?,
    })
}

/// An https URL a buyer's browser is sent to (plain http only in development).
fn web_url(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    environment: Environment,
) -> Result<Option<String>, ConfigError> {
    let Some(text) = var(name) else {
        return Ok(None);
    };
    let text = text.trim();
    let bad = |why: &str| invalid(name, format!("{text:?} {why}"));
    let url = url::Url::parse(text).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if environment == Environment::Development => {}
        _ => return Err(bad("must start with https://")),
    }
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must name a host, without a user or password"));
    }
    if text.len() > MAX_URL_LEN || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(&format!(
            "must be at most {MAX_URL_LEN} characters, without spaces"
        )));
    }
    Ok(Some(url.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(pairs: &[(&'static str, &str)]) -> Result<BrandConfig, String> {
        brand_config(
            &|name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            },
            Environment::Production,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn names_and_links_are_checked() {
        let default = brand(&[]).unwrap();
        assert_eq!(default.name, "DataTools");
        assert_eq!(default.logo_url, None);
        let set = brand(&[
            (vars::SITE_NAME, " Acme Tools "),
            (vars::SITE_URL, "https://acme.example/"),
            (vars::SITE_LOGO_URL, "https://cdn.acme.example/logo.svg"),
        ])
        .unwrap();
        assert_eq!(set.name, "Acme Tools");
        assert_eq!(set.url.as_deref(), Some("https://acme.example/"));
        let http = brand(&[(vars::SITE_LOGO_URL, "http://acme.example/logo.png")]).unwrap_err();
        assert!(
            http.contains(vars::SITE_LOGO_URL) && http.contains("https://"),
            "{http}"
        );
        let script = brand(&[(vars::SITE_URL, "javascript:alert(1)")]).unwrap_err();
        assert!(script.contains(vars::SITE_URL), "{script}");
        let bidi = brand(&[(vars::SITE_NAME, "Acme\u{202E}")]).unwrap_err();
        assert!(bidi.contains(vars::SITE_NAME), "{bidi}");
    }
}
