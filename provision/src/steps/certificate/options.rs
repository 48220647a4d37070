//! How this run asks for a certificate: `dtops provision --staging` / `--skip-dns-check`. The
//! certificate steps carry them; `plan` and every other command use the defaults.

use crate::site::Site;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Ask `tls.staging_server` instead of `tls.acme_server`.
    pub staging: bool,
    /// Skip the DNS preflight (a proxy such as Cloudflare answers for the names).
    pub skip_dns_check: bool,
}

impl TlsOptions {
    /// The ACME server this run asks.
    pub fn server(self, site: &Site) -> &str {
        if self.staging {
            &site.tls.staging_server
        } else {
            &site.tls.acme_server
        }
    }
}
