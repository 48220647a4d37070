//! The certificate: what is on disk (openssl reads it), what certbot's renewal configuration
//! says, and the certbot command lines dtops runs. certbot keeps its own state under
//! `tls.letsencrypt_dir`; dtops edits only a lineage's renewal settings (`renewal`) and deletes
//! one only on `--delete-cert`.

pub mod renewal;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::engine::Ctx;
use crate::process::CommandLine;

/// How this run asks for a certificate (`dtops provision` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Ask `tls.staging_server` instead of `tls.acme_server`.
    pub staging: bool,
    /// Skip the DNS preflight (a proxy such as Cloudflare answers for the names).
    pub skip_dns_check: bool,
}

impl TlsOptions {
    pub fn server(self, site: &crate::site::Site) -> &str {
        if self.staging {
            &site.tls.staging_server
        } else {
            &site.tls.acme_server
        }
    }
}

/// certbot renews when fewer days than this are left (its default), and so does dtops.
pub const RENEW_BEFORE_DAYS: i64 = 30;

/// The certificate in `live/<cert_name>/cert.pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub names: Vec<String>,
    pub not_after: DateTime<Utc>,
    pub serial: String,
}

impl CertInfo {
    pub fn days_left(&self) -> i64 {
        (self.not_after - Utc::now()).num_days()
    }

    pub fn due(&self) -> bool {
        self.days_left() < RENEW_BEFORE_DAYS
    }

    pub fn covers(&self, names: &[&str]) -> bool {
        names
            .iter()
            .all(|n| self.names.iter().any(|have| have == n))
    }

    /// "a, b; expires 2027-02-26 (89 days left); serial 0A..."
    pub fn describe(&self) -> String {
        format!(
            "{}; expires {} ({} days left); serial {}",
            self.names.join(", "),
            self.not_after.format("%Y-%m-%d %H:%M UTC"),
            self.days_left(),
            self.serial
        )
    }
}

fn openssl_x509(pem: &[u8], args: &[&str]) -> anyhow::Result<String> {
    let out = CommandLine::new(["openssl", "x509", "-noout"])
        .args(args)
        .stdin(pem.to_vec())
        .run()?;
    Ok(out.stdout)
}

/// The serial of one PEM certificate, as openssl prints it (upper-case hex).
pub fn pem_serial(pem: &str) -> anyhow::Result<String> {
    let out = openssl_x509(pem.as_bytes(), &["-serial"])?;
    out.trim()
        .strip_prefix("serial=")
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("openssl printed no serial: {out}"))
}

/// Parses `openssl x509 -noout -serial -enddate -ext subjectAltName` output.
fn parse_info(text: &str) -> anyhow::Result<CertInfo> {
    let mut serial = None;
    let mut not_after = None;
    let mut names = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("serial=") {
            serial = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("notAfter=") {
            let v = v
                .trim_end_matches(" GMT")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let parsed = NaiveDateTime::parse_from_str(&v, "%b %d %H:%M:%S %Y")
                .with_context(|| format!("cannot read the expiry date {v:?}"))?;
            not_after = Some(parsed.and_utc());
        } else if line.starts_with("DNS:") {
            names.extend(
                line.split(',')
                    .filter_map(|n| n.trim().strip_prefix("DNS:"))
                    .map(str::to_string),
            );
        }
    }
    Ok(CertInfo {
        names,
        not_after: not_after.context("openssl printed no notAfter")?,
        serial: serial.context("openssl printed no serial")?,
    })
}

/// The live certificate, if there is one.
pub fn cert_info(ctx: &Ctx) -> anyhow::Result<Option<CertInfo>> {
    let path = ctx.site.cert_live_dir().join("cert.pem");
    let Some(pem) = ctx.host.read(&path)? else {
        return Ok(None);
    };
    let text = openssl_x509(&pem, &["-serial", "-enddate", "-ext", "subjectAltName"])
        .with_context(|| format!("cannot read the certificate {}", path.display()))?;
    parse_info(&text)
        .with_context(|| format!("{}", path.display()))
        .map(Some)
}

/// `[renewalparams]` of `renewal/<cert_name>.conf` (key -> value), if the file exists.
pub fn renewal_params(ctx: &Ctx) -> anyhow::Result<Option<BTreeMap<String, String>>> {
    Ok(renewal::read(ctx)?.map(|(_, r)| r.params))
}

/// A word for a shell command line (certbot runs hooks with the shell).
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn shell_line<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// certbot's `--deploy-hook`, run after every issuance and renewal (certbot.timer's too):
/// under the host-wide nginx lock, test nginx's configuration and reload it, so nginx serves
/// the new certificate. Without it nginx keeps the old one until it expires.
pub fn deploy_hook(ctx: &Ctx) -> String {
    let commands = &ctx.site.commands;
    let mut test = commands.nginx.clone();
    test.push("-t".into());
    let inner = format!(
        "{} && {}",
        shell_line(&test),
        shell_line(&commands.reload_nginx)
    );
    let lock = ctx.host.path(&ctx.site.nginx_lock_file());
    shell_line(&[
        "flock".to_string(),
        "-w".into(),
        "120".into(),
        lock.display().to_string(),
        "sh".into(),
        "-c".into(),
        inner,
    ])
}

/// certbot with the site's directories and CA bundle.
fn certbot(ctx: &Ctx) -> CommandLine {
    let tls = &ctx.site.tls;
    let dir = |p: &crate::site::AbsPath| ctx.host.path(p.as_path());
    let mut command = CommandLine::new(&ctx.site.commands.certbot);
    command = command
        .arg("--config-dir")
        .arg(dir(&tls.letsencrypt_dir))
        .arg("--work-dir")
        .arg(dir(&tls.work_dir))
        .arg("--logs-dir")
        .arg(dir(&tls.logs_dir));
    if let Some(bundle) = &tls.ca_bundle {
        command = command.env(
            "REQUESTS_CA_BUNDLE",
            ctx.host.path(bundle.as_path()).display().to_string(),
        );
    }
    command
}

/// `certbot certonly --webroot` for both names, pinned to `cert_name`, with the deploy hook.
pub fn certonly(ctx: &Ctx, server: &str, force_renewal: bool) -> CommandLine {
    let site = ctx.site;
    // certbot's subcommand must come first among the arguments certbot parses.
    let mut command = certbot(ctx);
    command
        .argv
        .insert(site.commands.certbot.len(), "certonly".into());
    command = command
        .args(["--non-interactive", "--agree-tos", "--no-eff-email"])
        .arg("--email")
        .arg(site.tls.acme_email.as_str())
        .arg("--server")
        .arg(server)
        .arg("--cert-name")
        .arg(site.tls.cert_name.as_str())
        .arg("--webroot")
        .arg("--webroot-path")
        .arg(ctx.host.path(site.nginx.webroot.as_path()));
    for name in site.tls_names() {
        command = command.arg("--domain").arg(name.as_str());
    }
    command = command.arg("--deploy-hook").arg(deploy_hook(ctx));
    if force_renewal {
        command = command.arg("--force-renewal");
    }
    command
}

/// `certbot delete --cert-name NAME`.
pub fn delete(ctx: &Ctx) -> CommandLine {
    let mut command = certbot(ctx);
    command
        .argv
        .insert(ctx.site.commands.certbot.len(), "delete".into());
    command
        .args(["--non-interactive", "--cert-name"])
        .arg(ctx.site.tls.cert_name.as_str())
}

/// What the CA or certbot said went wrong, from certbot's output: the per-domain problems
/// (`Domain:`, `Type:`, `Detail:`) when there are any, else its last words.
pub fn failure_summary(output: &str) -> String {
    let problems: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Domain:") || l.starts_with("Type:") || l.starts_with("Detail:"))
        .collect();
    if !problems.is_empty() {
        return problems.join("\n");
    }
    let noise = [
        "Saving debug log",
        "Ask for help",
        "See the logfile",
        "- - -",
    ];
    output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !noise.iter().any(|n| l.starts_with(n)))
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The ACME problem's family, and what the operator can do about it.
pub fn failure_kind(summary: &str) -> (&'static str, &'static str) {
    let lower = summary.to_ascii_lowercase();
    if lower.contains("type:   dns")
        || lower.contains("dns problem")
        || lower.contains("nxdomain")
        || lower.contains("could not resolve")
        || lower.contains("no valid ip addresses")
    {
        (
            "DNS (the CA could not resolve a name)",
            "check both A records from outside (`dig +short NAME @1.1.1.1`), wait for them to \
             propagate, then run dtops provision again",
        )
    } else if lower.contains("unauthorized") || lower.contains("invalid response") {
        (
            "the HTTP challenge (the CA fetched something else than the challenge file)",
            "make sure http://NAME/.well-known/acme-challenge/ reaches this nginx unchanged (a \
             proxy must not redirect or cache it; another server_name must not answer for it)",
        )
    } else if lower.contains("connection") || lower.contains("timeout") {
        (
            "the connection (the CA could not reach port 80, or certbot could not reach the CA)",
            "open port 80 to the internet in the cloud firewall, and check that the box reaches \
             the ACME server",
        )
    } else if lower.contains("ratelimit")
        || lower.contains("rate limit")
        || lower.contains("too many")
    {
        (
            "a rate limit",
            "wait until the time the CA names; meanwhile try with --staging, which has its own, \
             generous limits",
        )
    } else if lower.contains("certificate_verify_failed") {
        (
            "TLS trust (certbot does not trust the ACME server)",
            "for a test ACME server set tls.ca_bundle to its CA; for Let's Encrypt check the \
             box's CA certificates (ca-certificates)",
        )
    } else {
        ("an ACME error", "read certbot's message and log below")
    }
}

/// Where certbot's log is, for messages.
pub fn log_file(ctx: &Ctx) -> PathBuf {
    ctx.site.tls.logs_dir.as_path().join("letsencrypt.log")
}

#[cfg(test)]
mod tests {
    use crate::certbot::*;

    #[test]
    fn openssl_output_is_parsed() {
        let info = parse_info(
            "serial=0ABC12\nnotAfter=Feb  6 09:05:01 2027 GMT\nX509v3 Subject Alternative Name: \n    DNS:a.example.test, DNS:b.example.test\n",
        )
        .unwrap();
        assert_eq!(info.serial, "0ABC12");
        assert_eq!(info.names, ["a.example.test", "b.example.test"]);
        assert_eq!(info.not_after.to_rfc3339(), "2027-02-06T09:05:01+00:00");
        assert!(info.covers(&["b.example.test", "a.example.test"]));
        assert!(!info.covers(&["c.example.test"]));
    }

    #[test]
    fn failures_are_summarised_and_classified() {
        let out = "Certbot failed to authenticate some domains (authenticator: webroot). The \
                   Certificate Authority reported these problems:\n  Domain: b.test\n  Type:   \
                   dns\n  Detail: DNS problem: NXDOMAIN looking up A for b.test\n\nHint: x\n";
        let summary = failure_summary(out);
        assert!(summary.starts_with("Domain: b.test\nType:   dns\nDetail: DNS problem"));
        assert!(failure_kind(&summary).0.starts_with("DNS"));
    }

    #[test]
    fn the_deploy_hook_quotes_for_the_shell() {
        assert_eq!(
            shell_line(&["nginx", "-p", "/a b", "it's"]),
            "nginx -p '/a b' 'it'\\''s'"
        );
    }
}
