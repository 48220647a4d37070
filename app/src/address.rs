//! Email address checks shared by the configuration (the sender) and minting (the buyer).

/// Longest address accepted (RFC 5321's path limit).
pub(crate) const MAX_EMAIL_LEN: usize = 254;

/// A deliberately plain address check: one `@`, a non-empty local part, a dotted domain, no
/// spaces or control characters. The real test of an address is delivering mail to it.
/// The error is a sentence about `email` for the caller to attach to its field.
pub(crate) fn check(email: &str) -> Result<(), String> {
    let bad = |why: &str| format!("{email:?} is not an email address: {why}");
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!(
            "is {} bytes long; the limit is {MAX_EMAIL_LEN}",
            email.len()
        ));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains spaces or control characters"));
    }
    let (local, domain) = email
        .split_once('@')
        .ok_or_else(|| bad("there is no '@'"))?;
    if local.is_empty() || local.len() > 64 {
        return Err(bad("the part before '@' must be 1-64 characters"));
    }
    if domain.contains('@') {
        return Err(bad("there is more than one '@'"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
    {
        return Err(bad("the domain must look like example.com"));
    }
    Ok(())
}
