//! Reading site.toml: parsed and checked up front so nothing touches the host with a bad value.
//! Errors read `FILE:LINE:COLUMN: what is wrong and what is expected`.

use std::path::Path;

use super::locate;
use super::misfit::Misfit;
use super::model::Site;

/// A site.toml problem, located in the file.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}:{column}: {message}")]
pub struct SiteError {
    pub origin: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Site {
    pub fn load(path: &Path) -> anyhow::Result<Site> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {e}; pass --site FILE or run dtops where site.toml is",
                path.display()
            )
        })?;
        let mut site = Site::parse(&text, &path.display().to_string())?;
        site.file = Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
        Ok(site)
    }

    /// Parses and checks `text`; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Site, SiteError> {
        let site: Site = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| locate::line_column(text, span.start))
                .unwrap_or((1, 1));
            SiteError {
                origin: origin.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        site.check().map_err(|Misfit { key, message }| {
            let (line, column) = locate::key(text, key).unwrap_or((1, 1));
            SiteError {
                origin: origin.to_string(),
                line,
                column,
                message: format!("{key}: {message}"),
            }
        })?;
        Ok(site)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::site::parse::*;
    use crate::site::Stage;

    const COMMITTED: &str = include_str!("../../../site.toml");

    fn error_for(from: &str, to: &str) -> String {
        assert!(COMMITTED.contains(from), "{from}");
        let text = COMMITTED.replacen(from, to, 1);
        Site::parse(&text, "site.toml").unwrap_err().to_string()
    }

    fn line_of(needle: &str) -> usize {
        COMMITTED
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap()
            + 1
    }

    #[test]
    fn the_committed_site_toml_holds_the_runbook_values() {
        let site = Site::parse(COMMITTED, "site.toml").unwrap();
        assert_eq!(
            site.domains.licenses.as_str(),
            "licenses.datatools.unalogix.com"
        );
        assert_eq!(site.host.public_ip.to_string(), "46.225.166.142");
        assert_eq!((site.ports.api, site.ports.postgres), (8090, 5433));
        assert_eq!(
            site.secrets_dir(),
            PathBuf::from("/srv/datatools-license/secrets")
        );
        assert_eq!(site.host.container_uid, 10001);
        assert_eq!(site.app.stage, Stage::Pr1);
    }

    #[test]
    fn errors_carry_file_line_column_and_what_is_expected() {
        let line = line_of("api = 8090");
        let err = error_for("api = 8090", "api = \"eighty\"");
        assert!(err.starts_with(&format!("site.toml:{line}:7: ")), "{err}");
        assert!(err.contains("u16") || err.contains("integer"), "{err}");

        let line = line_of("name = \"datatools_licenses\"");
        let err = error_for(
            "name = \"datatools_licenses\"",
            "nmae = \"datatools_licenses\"",
        );
        assert!(err.starts_with(&format!("site.toml:{line}:1: ")), "{err}");
        assert!(err.contains("unknown field `nmae`"), "{err}");

        let line = line_of("licenses = \"licenses");
        let err = error_for(
            "licenses = \"licenses.datatools.unalogix.com\"",
            "licenses = \"Licenses..example\"",
        );
        assert!(err.starts_with(&format!("site.toml:{line}:12: ")), "{err}");
        assert!(err.contains("not a domain name"), "{err}");

        let line = line_of("postgres = 5433");
        let err = error_for("postgres = 5433", "postgres = 8090");
        assert!(err.starts_with(&format!("site.toml:{line}:12: ")), "{err}");
        assert!(
            err.contains("ports.postgres: 8090 is also ports.api"),
            "{err}"
        );

        let err = error_for(
            "root = \"/srv/datatools-license\"",
            "root = \"srv/datatools\"",
        );
        assert!(err.contains("not an absolute path"), "{err}");

        let err = error_for("gumroad = false", "gumroad = true");
        assert!(err.contains("features.gumroad: needs app.stage"), "{err}");

        let err = error_for("stage = \"pr1\"", "stage = \"pr9\"");
        assert!(err.contains("pr9") && err.contains("pr1"), "{err}");

        let err = error_for(
            "public_ip = \"46.225.166.142\"",
            "public_ip = \"46.225.166\"",
        );
        assert!(
            err.contains("host") || err.contains("IP") || err.contains("address"),
            "{err}"
        );

        let err = error_for("retention_days = 30", "retention_days = 0");
        assert!(err.contains("backup.retention_days"), "{err}");
    }

    #[test]
    fn nginx_and_tls_settings_are_checked_and_have_defaults() {
        let line = line_of("listen_https = ");
        let err = error_for("listen_https = [\"443\"]", "listen_https = [\"80\"]");
        assert!(err.starts_with(&format!("site.toml:{line}:")), "{err}");
        assert!(
            err.contains("nginx.listen_https: must use another port"),
            "{err}"
        );
        let err = error_for(
            "listen_http = [\"80\"]",
            "listen_http = [\"80 default_server\"]",
        );
        assert!(err.contains("not a listen address"), "{err}");
        let err = error_for("staging_server = \"https://", "staging_server = \"http://");
        assert!(err.contains("tls.staging_server"), "{err}");

        // A site.toml from before these settings still reads, with the runbook's defaults.
        let old: String = COMMITTED
            .lines()
            .filter(|l| {
                ![
                    "managed =",
                    "http_include =",
                    "site_root =",
                    "listen_http =",
                    "listen_https =",
                    "staging_server =",
                    "letsencrypt_dir =",
                    "work_dir =",
                    "logs_dir =",
                ]
                .iter()
                .any(|key| l.starts_with(key))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let site = Site::parse(&old, "site.toml").unwrap();
        assert!(site.nginx.managed);
        assert_eq!(
            site.nginx_http_include(),
            PathBuf::from("/etc/nginx/conf.d/datatools-license.conf")
        );
        assert_eq!(
            site.nginx_site_root(),
            PathBuf::from("/var/www/datatools-license/site")
        );
        assert_eq!(site.nginx.listen_https[0].to_string(), "443");
        assert_eq!(
            site.cert_live_dir(),
            PathBuf::from("/etc/letsencrypt/live/datatools.unalogix.com")
        );
        assert!(site.tls.dns_resolver.is_none() && site.tls.ca_bundle.is_none());
    }
}
