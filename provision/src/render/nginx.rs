//! The nginx files: our site (phase 1 or 2) and the http-context include with the rate-limit
//! zone. They depend on host facts (nginx's version, whether the certificate exists), given in
//! `RenderInputs::nginx` (`nginx_facts`). Values go into nginx's syntax unquoted, so each is checked here.

use std::path::Path;

use serde::Serialize;

use super::artifact::{Artifact, ArtifactKind};
use super::nginx_facts::{NginxFacts, Phase};
use super::templates::Renderer;
use crate::owner::Owner;
use crate::site::{nginx_word, Behind, Site};

/// Listen parameters that change every tenant's servers on the same address.
const FORBIDDEN_LISTEN: &[&str] = &["default_server", "reuseport", "ipv6only", "backlog"];

#[derive(Debug, Serialize)]
struct NginxContext<'a> {
    site: &'a Site,
    nginx: NginxView,
}

#[derive(Debug, Serialize)]
struct NginxView {
    version: String,
    /// `http2 on;` (nginx >= 1.25.1).
    http2_directive: bool,
    /// `listen ... ssl http2;` (before 1.25.1, where it changes no other server).
    http2_listen: bool,
    phase: u8,
    listen_http: Vec<String>,
    listen_https: Vec<String>,
    webroot: String,
    site_root: String,
    fullchain: String,
    privkey: String,
    /// `:PORT` for redirects when HTTPS is not on 443.
    https_port_suffix: String,
    /// The rate-limit zones: global in nginx, so prefixed with the app's name.
    webhook_zone: String,
    webhook_rate: String,
    webhook_burst: u32,
    portal_zone: String,
    portal_rate: String,
    portal_burst: u32,
    /// With `behind = "cloudflare"`: the ranges whose `CF-Connecting-IP` nginx believes.
    real_ip_from: Vec<String>,
    /// Our upstream group (global in nginx: prefixed with the app's name).
    upstream: String,
    /// Its one server: the slot that serves.
    upstream_server: String,
    /// `127.0.0.1:<ports.api>`: the loopback door to the upstream, when rendered.
    door: Option<String>,
    http_include: String,
}

/// The two nginx artifacts for `facts`: our site file and the http-context include.
pub fn artifacts(
    renderer: &Renderer,
    site: &Site,
    facts: &NginxFacts,
) -> anyhow::Result<Vec<Artifact>> {
    let context = NginxContext {
        site,
        nginx: view(site, facts)?,
    };
    let site_kind = match facts.phase {
        Phase::One => ArtifactKind::NginxPhase1,
        Phase::Two => ArtifactKind::NginxPhase2,
    };
    let body = renderer.render(site_kind.template(), &context)?;
    let site_file = format!("{}\n{}", facts.phase.marker(site.app.name.as_str()), body);
    let http = renderer.render(ArtifactKind::NginxHttp.template(), &context)?;
    for (kind, text) in [(site_kind, &site_file), (ArtifactKind::NginxHttp, &http)] {
        check_listen(kind.template(), text)?;
    }
    Ok(vec![
        Artifact {
            path: site.nginx.site_file.as_path().to_path_buf(),
            content: site_file,
            mode: 0o644,
            owner: Owner::Root,
            kind: site_kind,
        },
        Artifact {
            path: site.nginx_http_include(),
            content: http,
            mode: 0o644,
            owner: Owner::Root,
            kind: ArtifactKind::NginxHttp,
        },
    ])
}

fn view(site: &Site, facts: &NginxFacts) -> anyhow::Result<NginxView> {
    let seen = |key: &str, path: &Path| -> anyhow::Result<String> {
        let path = match &facts.sandbox {
            Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
            None => path.to_path_buf(),
        };
        nginx_safe(key, &path.display().to_string())
    };
    let live = site.cert_live_dir();
    let https_port = site.nginx.listen_https[0].port;
    Ok(NginxView {
        version: facts.version.to_string(),
        http2_directive: facts.version.has_http2_directive(),
        http2_listen: facts.http2_listen(),
        phase: facts.phase.number(),
        listen_http: site
            .nginx
            .listen_http
            .iter()
            .map(|l| l.to_string())
            .collect(),
        listen_https: site
            .nginx
            .listen_https
            .iter()
            .map(|l| l.to_string())
            .collect(),
        webroot: seen("nginx.webroot", site.nginx.webroot.as_path())?,
        site_root: seen("nginx.site_root", &site.nginx_site_root())?,
        fullchain: seen("tls.letsencrypt_dir", &live.join("fullchain.pem"))?,
        privkey: seen("tls.letsencrypt_dir", &live.join("privkey.pem"))?,
        https_port_suffix: if https_port == 443 {
            String::new()
        } else {
            format!(":{https_port}")
        },
        webhook_zone: format!("{}_webhooks", site.app.name),
        webhook_rate: site.nginx.webhook_limit.rate.to_string(),
        webhook_burst: site.nginx.webhook_limit.burst,
        portal_zone: format!("{}_portal", site.app.name),
        portal_rate: site.nginx.portal_limit.rate.to_string(),
        portal_burst: site.nginx.portal_limit.burst,
        real_ip_from: match site.nginx.behind {
            Behind::Direct => Vec::new(),
            Behind::Cloudflare => site
                .nginx
                .cloudflare_ranges
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        upstream: format!("{}_api", site.app.name),
        upstream_server: format!("127.0.0.1:{}", facts.upstream_port),
        door: facts.door.then(|| format!("127.0.0.1:{}", site.ports.api)),
        http_include: nginx_safe(
            "nginx.http_include",
            &site.nginx_http_include().display().to_string(),
        )?,
    })
}

/// A value nginx reads as one word: no spaces, quotes, `;`, braces, `$` or `#`.
fn nginx_safe(key: &str, value: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        nginx_word(value),
        "{key} in site.toml: {value:?} cannot go into nginx's configuration; use letters, \
         digits and / . _ - + @ only"
    );
    Ok(value.to_string())
}

/// Refuses `listen` lines with parameters that would change other tenants' servers.
fn check_listen(template: &str, text: &str) -> anyhow::Result<()> {
    for (number, line) in text.lines().enumerate() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        if words.first() != Some(&"listen") {
            continue;
        }
        if let Some(bad) = words.iter().find(|w| {
            FORBIDDEN_LISTEN
                .iter()
                .any(|f| w.split('=').next() == Some(*f))
        }) {
            anyhow::bail!(
                "{template} renders `{}` (line {}): `{bad}` in one tenant's file changes every \
                 other tenant's servers on that address; dtops never writes it",
                line.trim(),
                number + 1
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::render::nginx::*;

    #[test]
    fn listen_parameters_that_touch_other_tenants_are_refused() {
        assert!(check_listen("t", "server {\n    listen 443 ssl http2;\n}\n").is_ok());
        for bad in [
            "listen 80 default_server;",
            "listen 443 ssl reuseport;",
            "  listen [::]:80 ipv6only=on;",
            "listen 80 backlog=1024;",
        ] {
            let err = check_listen("t", bad).unwrap_err().to_string();
            assert!(err.contains("never writes it"), "{err}");
        }
    }

    #[test]
    fn unsafe_values_are_refused() {
        assert!(nginx_safe("k", "/var/www/app-1/site").is_ok());
        for bad in ["/var/www/a b", "/x;y", "/x{", "/$x", ""] {
            assert!(nginx_safe("k", bad).is_err(), "{bad}");
        }
    }
}
