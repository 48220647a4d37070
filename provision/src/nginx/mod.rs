//! The box's shared nginx: its version, whether its whole configuration passes `nginx -t`, our
//! site's phase, reloads, and the transaction that swaps our files in without ever leaving a
//! failing configuration on disk. Other tenants' files are read by nginx, never by dtops.

mod dns;
mod lock;
mod probe;
mod txn;

use std::fmt;
use std::path::PathBuf;

pub use dns::resolve_ipv4;
pub use lock::NginxLock;
pub use probe::{http_get, https_get, served_serial};
pub use txn::{apply, Entry, TxnError};

use crate::engine::Ctx;
use crate::process::CommandLine;

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

fn nginx(ctx: &Ctx) -> CommandLine {
    CommandLine::new(&ctx.site.commands.nginx)
}

/// `nginx -v`.
pub fn version(ctx: &Ctx) -> anyhow::Result<NginxVersion> {
    let out = ctx.host.run(&nginx(ctx).arg("-v"))?;
    let text = format!("{}{}", out.stderr, out.stdout);
    NginxVersion::parse(&text)
        .ok_or_else(|| anyhow::anyhow!("cannot read nginx's version from `{}`", text.trim()))
}

/// `nginx -t`: `Ok` when the whole configuration passes, else nginx's own words.
pub fn test(ctx: &Ctx) -> anyhow::Result<Result<(), String>> {
    let out = ctx.host.probe(&nginx(ctx).arg("-t"))?;
    Ok(if out.success {
        Ok(())
    } else {
        Err(nginx_words(&out.stderr, &out.stdout))
    })
}

/// `nginx -T` (test and dump): the dump, or nginx's own words.
pub fn dump(ctx: &Ctx) -> anyhow::Result<Result<String, String>> {
    let out = ctx.host.probe(&nginx(ctx).arg("-T"))?;
    Ok(if out.success {
        Ok(out.stdout)
    } else {
        Err(nginx_words(&out.stderr, &out.stdout))
    })
}

/// nginx's messages without the final "test failed" line's noise.
fn nginx_words(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The config file nginx blames (`... in /etc/nginx/sites-enabled/x:12`), if it names one.
pub fn blamed_file(message: &str) -> Option<PathBuf> {
    message.lines().find_map(|line| {
        let at = line.rfind(" in /")?;
        let rest = &line[at + 4..];
        let path = match rest.rfind(':') {
            Some(colon) if rest[colon + 1..].bytes().all(|b| b.is_ascii_digit()) => &rest[..colon],
            _ => rest,
        };
        Some(PathBuf::from(path))
    })
}

/// Whether a failing `nginx -t` is about our own site: nginx blames one of our files, or our
/// certificate is missing (deleted behind dtops' back while phase 2 referenced it). Ours to
/// repair; anything else is another tenant's to fix.
pub fn failure_is_ours(ctx: &Ctx, words: &str) -> bool {
    let site = ctx.site;
    let ours = [
        site.nginx.site_file.as_path().to_path_buf(),
        site.nginx.enabled_link.as_path().to_path_buf(),
        site.nginx_http_include(),
    ];
    let blamed = blamed_file(words);
    let live = ctx.host.path(&site.cert_live_dir()).display().to_string();
    ours.iter()
        .any(|p| blamed.as_deref() == Some(ctx.host.path(p).as_path()))
        || (blamed.is_none() && words.contains(&format!("{live}/")))
}

/// Tests, then reloads through site.toml's `commands.reload_nginx`. A HUP with a failing
/// configuration is accepted silently by nginx (it keeps the old one), so test first.
pub fn reload(ctx: &Ctx) -> anyhow::Result<()> {
    if let Err(words) = test(ctx)? {
        anyhow::bail!("nginx -t fails, so nginx was not reloaded:\n{words}");
    }
    ctx.host
        .run(&CommandLine::new(&ctx.site.commands.reload_nginx))
        .map_err(|e| anyhow::anyhow!("{e}\nis nginx running? (`systemctl status nginx`)"))?;
    Ok(())
}

/// The certificate nginx's phase 2 needs: `live/<cert_name>/fullchain.pem` (a symlink into
/// archive/, followed) and its key.
pub fn cert_present(ctx: &Ctx) -> bool {
    let live = ctx.site.cert_live_dir();
    ["fullchain.pem", "privkey.pem"]
        .iter()
        .all(|name| std::fs::metadata(ctx.host.path(&live.join(name))).is_ok())
}

/// The phase the host's facts call for.
pub fn wanted_phase(ctx: &Ctx) -> Phase {
    if cert_present(ctx) {
        Phase::Two
    } else {
        Phase::One
    }
}

/// The phase of our site file on disk, from its first line (`None`: no file, or not ours).
pub fn phase_on_disk(ctx: &Ctx) -> anyhow::Result<Option<Phase>> {
    let Some(bytes) = ctx.host.read(ctx.site.nginx.site_file.as_path())? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap_or_default();
    let app = ctx.site.app.name.as_str();
    Ok([Phase::One, Phase::Two]
        .into_iter()
        .find(|phase| first == phase.marker(app)))
}

#[cfg(test)]
mod tests {
    use crate::nginx::*;

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

    #[test]
    fn the_blamed_file_is_read_from_nginx_messages() {
        let msg = "nginx: [emerg] unknown directive \"bogus\" in /etc/nginx/sites-enabled/x:3\n\
                   nginx: configuration file /etc/nginx/nginx.conf test failed";
        assert_eq!(
            blamed_file(msg),
            Some(PathBuf::from("/etc/nginx/sites-enabled/x"))
        );
        let msg =
            "nginx: [emerg] cannot load certificate \"/etc/letsencrypt/live/a/fullchain.pem\"";
        assert_eq!(blamed_file(msg), None);
    }
}
