//! What only the host knows that the nginx files depend on: nginx's version (the http2 syntax)
//! and which phase of our site belongs there. Pure values: `nginx/` finds them on the host,
//! `dtops render --nginx-version` takes them from the command line.

use std::fmt;
use std::path::PathBuf;

/// `nginx -v`'s version: it decides the http2 syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NginxVersion(pub u32, pub u32, pub u32);

impl NginxVersion {
    /// `http2 on;` exists from 1.25.1; before it `listen ... ssl http2;` is the only form, and
    /// from 1.25.1 that form is deprecated (a warning on every reload).
    pub fn has_http2_directive(self) -> bool {
        self >= NginxVersion(1, 25, 1)
    }

    /// The version in `nginx -v` output (`nginx version: nginx/1.24.0 (Ubuntu)`).
    pub fn parse(text: &str) -> Option<NginxVersion> {
        let after = &text[text.find("nginx/")? + "nginx/".len()..];
        let version = after.split_whitespace().next()?;
        let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
        Some(NginxVersion(
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        ))
    }
}

impl fmt::Display for NginxVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Which of our two site configurations is (or should be) in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// HTTP only: the ACME location and 503 elsewhere (no certificate yet).
    One,
    /// HTTPS with the certificate; port 80 keeps the ACME location and redirects the rest.
    Two,
}

impl Phase {
    pub fn number(self) -> u8 {
        match self {
            Phase::One => 1,
            Phase::Two => 2,
        }
    }

    /// The first line of our rendered site file, which says which phase it is.
    pub fn marker(self, app: &str) -> String {
        format!("# dtops {app}: nginx phase {}", self.number())
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::One => f.write_str("phase 1 (HTTP only: ACME challenges, 503 elsewhere)"),
            Phase::Two => f.write_str("phase 2 (HTTPS; HTTP redirects, ACME kept on port 80)"),
        }
    }
}

/// What only the host knows, which the nginx files depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxFacts {
    /// `nginx -v`: decides the http2 syntax.
    pub version: NginxVersion,
    /// Phase 2 only once `live/<cert_name>/fullchain.pem` exists.
    pub phase: Phase,
    /// `--root`: paths inside the files are where nginx finds them (relocated in a sandbox).
    pub sandbox: Option<PathBuf>,
    /// Our HTTPS listens that other servers share without HTTP/2 (from `nginx -T`): before
    /// 1.25.1, `listen ... ssl http2` there would switch those servers to HTTP/2 too, so our
    /// site serves HTTP/1.1 instead.
    pub http2_would_spread_to: Vec<crate::site::Listen>,
    /// The loopback port of the api slot that serves: our upstream (dtops switches it).
    pub upstream_port: u16,
    /// Whether the loopback door on `ports.api` is rendered: not while an api from before
    /// slots still holds that port.
    pub door: bool,
}

impl NginxFacts {
    /// `listen ... ssl http2;`: only before 1.25.1, and only where it changes nobody else.
    pub fn http2_listen(&self) -> bool {
        !self.version.has_http2_directive() && self.http2_would_spread_to.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use crate::render::nginx_facts::*;

    #[test]
    fn versions_decide_the_http2_syntax() {
        let v = |t| NginxVersion::parse(t).unwrap();
        assert_eq!(
            v("nginx version: nginx/1.24.0 (Ubuntu)"),
            NginxVersion(1, 24, 0)
        );
        assert_eq!(v("nginx version: nginx/1.22.1\n"), NginxVersion(1, 22, 1));
        assert!(!v("nginx version: nginx/1.25.0").has_http2_directive());
        assert!(v("nginx version: nginx/1.25.1").has_http2_directive());
        assert!(v("nginx version: nginx/1.27.3").has_http2_directive());
        assert!(NginxVersion::parse("openresty").is_none());
    }
}
