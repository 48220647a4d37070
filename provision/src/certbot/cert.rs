//! The certificate on disk, as openssl reads it: names, expiry, serial.

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::env::Env;
use crate::process::CommandLine;

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
pub(crate) fn parse_info(text: &str) -> anyhow::Result<CertInfo> {
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
pub fn cert_info(env: &Env) -> anyhow::Result<Option<CertInfo>> {
    let path = env.site.cert_live_dir().join("cert.pem");
    let Some(pem) = env.host.read(&path)? else {
        return Ok(None);
    };
    let text = openssl_x509(&pem, &["-serial", "-enddate", "-ext", "subjectAltName"])
        .with_context(|| format!("cannot read the certificate {}", path.display()))?;
    parse_info(&text)
        .with_context(|| format!("{}", path.display()))
        .map(Some)
}

#[cfg(test)]
mod tests {
    use crate::certbot::cert::*;

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
}
