//! Reading certbot's failures: what the CA said, which family of problem it is, and what the
//! operator can do about it.

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

#[cfg(test)]
mod tests {
    use crate::certbot::failure::*;

    #[test]
    fn failures_are_summarised_and_classified() {
        let out = "Certbot failed to authenticate some domains (authenticator: webroot). The \
                   Certificate Authority reported these problems:\n  Domain: b.test\n  Type:   \
                   dns\n  Detail: DNS problem: NXDOMAIN looking up A for b.test\n\nHint: x\n";
        let summary = failure_summary(out);
        assert!(summary.starts_with("Domain: b.test\nType:   dns\nDetail: DNS problem"));
        assert!(failure_kind(&summary).0.starts_with("DNS"));
    }
}
