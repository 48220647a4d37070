//! The license email, from a minijinja template (`license_email.txt.j2`, built in).

use std::sync::OnceLock;

use minijinja::{context, Environment, UndefinedBehavior};

use super::message::{Attachment, Email};
use crate::api::LicenseRecord;

const TEMPLATE_NAME: &str = "license_email.txt";
const TEMPLATE: &str = include_str!("license_email.txt.j2");
pub(super) const ATTACHMENT_NAME: &str = "datatools-license.txt";

/// What the email is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LicenseEmail {
    Purchase,
    Renewal,
    Resend,
    /// Re-signed with a new signing key (`dtops keys rotate --reissue --email`).
    Reissue,
}

impl LicenseEmail {
    /// Why this email is sent, as the event's history says it.
    pub(crate) const fn purpose(self) -> &'static str {
        match self {
            LicenseEmail::Purchase => "purchase",
            LicenseEmail::Renewal => "renewal",
            LicenseEmail::Resend => "resend",
            LicenseEmail::Reissue => "reissue",
        }
    }
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.add_template(TEMPLATE_NAME, TEMPLATE)
            .expect("the built-in license email template parses (checked by tests)");
        env
    })
}

/// The email carrying `license` to `to`. `product` is the product's name as the buyer saw it.
pub(crate) fn license_email(
    kind: LicenseEmail,
    license: &LicenseRecord,
    product: &str,
    from: &str,
    to: &str,
) -> Result<Email, minijinja::Error> {
    let expires = match license.expires_at {
        Some(at) => at.format("%Y-%m-%d").to_string(),
        None => "forever (perpetual license)".to_string(),
    };
    let text_body = environment()
        .get_template(TEMPLATE_NAME)?
        .render(context! {
            name => license.name,
            product => product,
            license_key => license.license_key,
            tier => license.tier,
            expires => expires,
            blob => license.blob,
            from => from,
            attachment_name => ATTACHMENT_NAME,
            renewed => kind == LicenseEmail::Renewal,
            resent => kind == LicenseEmail::Resend,
            reissued => kind == LicenseEmail::Reissue,
        })?;
    let subject = match kind {
        LicenseEmail::Purchase => "Your DataTools license",
        LicenseEmail::Renewal => "Your renewed DataTools license",
        LicenseEmail::Resend => "Your DataTools license (sent again)",
        LicenseEmail::Reissue => "Your DataTools license, re-signed with our new key",
    };
    Ok(Email {
        from: from.to_string(),
        to: to.to_string(),
        subject: subject.to_string(),
        text_body,
        attachment: Some(Attachment {
            name: ATTACHMENT_NAME.to_string(),
            content_type: "text/plain".to_string(),
            content: format!("{}\n", license.blob).into_bytes(),
        }),
        tag: Some("license".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_kind_with_the_blob_on_its_own_line() {
        let license = LicenseRecord {
            license_key: "7K3QX9-ABCDEF-GHJKMN-PQRSTV".into(),
            name: "José Ñuñez".into(),
            email: "buyer@example.com".into(),
            tier: "core".into(),
            source: "gumroad".into(),
            source_ref: Some("gumroad:S1".into()),
            notes: String::new(),
            issued_at: chrono::Utc::now(),
            expires_at: None,
            revoked_at: None,
            revoke_reason: None,
            key_id: "0011223344556677".into(),
            blob: "DTLIC2:abc.def".into(),
        };
        for kind in [
            LicenseEmail::Purchase,
            LicenseEmail::Renewal,
            LicenseEmail::Resend,
        ] {
            let email =
                license_email(kind, &license, "DataTools Core", "from@x.com", "to@x.com").unwrap();
            assert!(
                email.text_body.contains("\nDTLIC2:abc.def\n"),
                "{}",
                email.text_body
            );
            assert!(email.text_body.starts_with("Hello José Ñuñez,"));
            assert!(email.text_body.contains("perpetual"));
        }
    }
}
