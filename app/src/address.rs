//! Email address checks shared by the configuration (the sender) and minting (the buyer).
//!
//! The syntax is RFC 5322's, checked by the `email_address` crate, narrowed to what a mail
//! provider delivers to on the internet: a dotted domain name (no `user@localhost`, no
//! `[127.0.0.1]` literal), no display name. The real test of an address is delivering to it.
//!
//! Two addresses are the same buyer's when their [`key`]s are equal: ASCII letters folded to
//! lower case, every other character exactly as it is. Deliberately no Unicode case folding and
//! no normalization: both map look-alikes onto ASCII (the Kelvin sign U+212A folds and
//! normalizes to `k`), which would let `\u{212A}ate@example.com` sign in as `kate@example.com`.
//! The database side of the same key is `lower(email collate "C")` (migration 0010).

use email_address::{EmailAddress, Options};

/// Longest address accepted (RFC 5321's path limit).
pub(crate) const MAX_EMAIL_LEN: usize = 254;

/// The address as limits, sign-in and look-ups compare it (see the module's documentation).
/// The address of `Name <address>` (a sender as Postmark accepts it), or the text itself.
pub(crate) fn bare(from: &str) -> &str {
    match (from.rfind('<'), from.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => from,
    }
}

pub(crate) fn key(email: &str) -> String {
    email.to_ascii_lowercase()
}

/// The error is a sentence about `email` for the caller to attach to its field.
pub(crate) fn check(email: &str) -> Result<(), String> {
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!(
            "is {} bytes long; the limit is {MAX_EMAIL_LEN}",
            email.len()
        ));
    }
    let options = Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: false,
        ..Options::default()
    };
    EmailAddress::parse_with_options(email, options)
        .map(|_| ())
        .map_err(|e| format!("{email:?} is not an email address: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{check, key};

    #[test]
    fn the_key_folds_ascii_only() {
        assert_eq!(key("Kate@Example.COM"), "kate@example.com");
        // The Kelvin sign is not a K, and an accented capital stays as typed.
        assert_ne!(key("\u{212A}ate@example.com"), key("kate@example.com"));
        assert_eq!(key("\u{212A}ate@example.com"), "\u{212A}ate@example.com");
        assert_eq!(key("ÉLODIE@example.com"), "Élodie@example.com");
    }

    #[test]
    fn addresses_a_provider_delivers_to() {
        for good in [
            "buyer@example.com",
            "buyer+dt@mail.example.co.uk",
            "o'brien@example.ie",
            "x.y_z-1@sub.example.org",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in [
            "x<y@evil.com",
            "Name <buyer@example.com>",
            "a b@example.com",
            "no-at-sign",
            "a@b",
            "a@localhost",
            "a@[127.0.0.1]",
            "a@@example.com",
            "@example.com",
            "a@example..com",
            "a\u{0}b@example.com",
            "a@example.com\n",
        ] {
            assert!(check(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
